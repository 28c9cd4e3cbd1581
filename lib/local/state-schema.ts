/**
 * What a LocalCloud state file must look like to be used, checked when it is read (so a file of the wrong shape is
 * refused at once, naming the field, instead of failing minutes later with a TypeError, or being rewritten), and
 * what is pruned from it then (so it stops growing without bound).
 *
 * Only the containers and the identity fields the services rely on are checked: the services own the rest of their
 * sections and may add fields.
 */

/** The shape of a value: a type, an object with some required fields, or a map/list whose entries share a shape. */
type Shape =
  | 'string'
  | 'number'
  | 'boolean'
  | 'object'
  | 'array'
  | { readonly fields: Readonly<Record<string, Shape>> }
  | { readonly mapOf: Shape }
  | { readonly listOf: Shape }
  | { readonly optional: Shape };

const record = (fields: Record<string, Shape>): Shape => ({ fields });
const mapOf = (entry: Shape): Shape => ({ mapOf: entry });
const listOf = (entry: Shape): Shape => ({ listOf: entry });
/** A field that may be missing, and has this shape when it is there. */
const optional = (shape: Shape): Shape => ({ optional: shape });

/** The known sections; a section the file does not have is created by its service, one it has must fit. */
const SECTIONS: Record<string, Shape> = {
  account: record({ accountId: 'string' }),
  ram: record({
    rootAccessKeyId: 'string',
    keys: mapOf(record({ secret: 'string', kind: 'string' })),
    roles: mapOf('object'),
  }),
  ecs: record({ images: mapOf(record({ imageId: 'string', regionId: 'string', status: 'string' })) }),
  fc: record({ functions: mapOf(mapOf('object')) }),
  ros: record({
    stacks: mapOf(
      record({
        stackId: 'string',
        stackName: 'string',
        regionId: 'string',
        status: 'string',
        templateBody: 'string',
        parameters: 'object',
        resources: mapOf('object'),
        outputs: 'array',
        events: listOf('object'),
      }),
    ),
  }),
  rosTokens: mapOf(record({ action: 'string', hash: 'string', time: 'number' })),
  rosChangeSets: record({
    changeSets: mapOf(
      record({ changeSetId: 'string', stackId: 'string', status: 'string', templateBody: 'string' }),
    ),
  }),
  ecsLaunchTemplates: record({ regions: mapOf(mapOf('object')) }),
  rosStackGroups: record({
    groups: mapOf(
      record({
        stackGroupId: 'string',
        stackGroupName: 'string',
        regionId: 'string',
        status: 'string',
        permissionModel: 'string',
        templateBody: 'string',
        parameters: 'object',
        tags: 'array',
      }),
    ),
    instances: mapOf(
      mapOf(
        record({
          stackGroupId: 'string',
          accountId: 'string',
          regionId: 'string',
          status: 'string',
          parameterOverrides: 'object',
        }),
      ),
    ),
    operations: mapOf(
      record({
        operationId: 'string',
        stackGroupId: 'string',
        stackGroupName: 'string',
        regionId: 'string',
        action: 'string',
        status: 'string',
        preferences: 'object',
        regionOrder: listOf('string'),
        templateBody: 'string',
        results: listOf(record({ accountId: 'string', regionId: 'string', status: 'string' })),
      }),
    ),
  }),
  resourceDirectory: record({
    directory: optional(
      record({
        resourceDirectoryId: 'string',
        rootFolderId: 'string',
        folders: mapOf(record({ folderId: 'string', accountIds: listOf('string') })),
      }),
    ),
  }),
  stackGroupRoles: record({ accountIds: listOf('string') }),
};

/** The section that holds the sections of every account after the first, by index (`"1"`, `"2"`, ...). */
export const ACCOUNTS_SECTION = 'accounts';

/** A state file LocalCloud cannot use: the message names the file, the field and what to do. */
export class StateFileError extends Error {
  constructor(
    readonly file: string,
    problem: string,
  ) {
    super(
      `LocalCloud state file ${file} cannot be used: ${problem}. It was left as it is: fix it, or delete it ` +
        '(or choose another state file) to start from a fresh cloud.',
    );
    this.name = 'StateFileError';
  }
}

/** Checks the parsed content of a state file; throws {@link StateFileError} naming the first field that is wrong. */
export function validateState(file: string, content: unknown): Record<string, unknown> {
  if (!isObject(content)) {
    throw new StateFileError(file, `it must hold a JSON object, not ${describe(content)}`);
  }
  validateSections(file, content, '');
  const accounts = content[ACCOUNTS_SECTION];
  if (accounts !== undefined) {
    if (!isObject(accounts)) {
      throw new StateFileError(file, `${ACCOUNTS_SECTION} must be an object, not ${describe(accounts)}`);
    }
    for (const [index, sections] of Object.entries(accounts)) {
      const at = `${ACCOUNTS_SECTION}[${JSON.stringify(index)}]`;
      if (!/^[1-9]\d*$/.test(index) || !isObject(sections)) {
        throw new StateFileError(file, `${at} must be an object under an account index (1, 2, ...)`);
      }
      validateSections(file, sections, `${at}.`);
    }
  }
  return content;
}

/** Checks the sections of one account (the top level holds the first account's). */
function validateSections(file: string, content: Record<string, unknown>, prefix: string): void {
  for (const [name, shape] of Object.entries(SECTIONS)) {
    if (!(name in content)) {
      continue;
    }
    const problem = check(content[name], shape, `${prefix}${name}`);
    if (problem) {
      throw new StateFileError(file, problem);
    }
  }
  const ram = content.ram as { rootAccessKeyId?: string; keys?: Record<string, unknown> } | undefined;
  if (ram && !(ram.rootAccessKeyId! in ram.keys!)) {
    throw new StateFileError(
      file,
      `${prefix}ram.rootAccessKeyId names ${JSON.stringify(ram.rootAccessKeyId)}, not in ${prefix}ram.keys`,
    );
  }
}

function check(value: unknown, shape: Shape, at: string): string | undefined {
  const wrong = (expected: string) => `${at} must be ${expected}, not ${describe(value)}`;
  if (typeof shape === 'object' && 'optional' in shape) {
    return value === undefined ? undefined : check(value, shape.optional, at);
  }
  if (shape === 'object') {
    return isObject(value) ? undefined : wrong('an object');
  }
  if (shape === 'array') {
    return Array.isArray(value) ? undefined : wrong('an array');
  }
  if (typeof shape === 'string') {
    const ok = typeof value === shape && (shape !== 'number' || Number.isFinite(value));
    return ok ? undefined : wrong(`a ${shape}`);
  }
  if ('listOf' in shape) {
    if (!Array.isArray(value)) {
      return wrong('an array');
    }
    for (let i = 0; i < value.length; i++) {
      const problem = check(value[i], shape.listOf, `${at}[${i}]`);
      if (problem) {
        return problem;
      }
    }
    return undefined;
  }
  if (!isObject(value)) {
    return wrong('an object');
  }
  if ('mapOf' in shape) {
    for (const [key, entry] of Object.entries(value)) {
      const problem = check(entry, shape.mapOf, `${at}[${JSON.stringify(key)}]`);
      if (problem) {
        return problem;
      }
    }
    return undefined;
  }
  for (const [field, fieldShape] of Object.entries(shape.fields)) {
    const problem = check(value[field], fieldShape, `${at}.${field}`);
    if (problem) {
      return problem;
    }
  }
  return undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === undefined) {
    return 'missing';
  }
  if (value === null) {
    return 'null';
  }
  if (Array.isArray(value)) {
    return 'an array';
  }
  if (typeof value === 'object') {
    return 'an object';
  }
  const text = JSON.stringify(value);
  return `${typeof value} ${text.length > 40 ? `${text.slice(0, 40)}…` : text}`;
}

/**
 * How long a deleted stack stays listed (ListStacks with `Status=DELETE_COMPLETE`, GetStack). ROS does not document
 * it; CloudFormation keeps deleted stacks' summaries for 90 days
 * (https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_ListStacks.html), which LocalCloud follows.
 */
export const DELETED_STACK_RETENTION_MS = 90 * 24 * 3600 * 1000;

interface PrunableStack {
  status: string;
  deleteTime?: string;
  templateBody: string;
  resources: Record<string, unknown>;
  outputs: unknown[];
  events: { ResourceType?: unknown }[];
}

/**
 * Keeps the state from growing without bound: a deleted stack keeps its summary (status, times, tags, its own
 * events) for {@link DELETED_STACK_RETENTION_MS}, and then goes; its template is reduced to what GetStack shows of
 * it (description, parameters) and its resources' events and outputs go at once. Returns whether anything changed.
 */
export function pruneState(sections: Record<string, unknown>, now: number = Date.now()): boolean {
  let changed = pruneStacks(sections, now);
  changed = pruneStackGroups(sections) || changed;
  const accounts = sections[ACCOUNTS_SECTION];
  if (isObject(accounts)) {
    for (const account of Object.values(accounts)) {
      if (isObject(account)) {
        changed = pruneStacks(account, now) || changed;
        changed = pruneStackGroups(account) || changed;
      }
    }
  }
  return changed;
}

interface PrunableStackGroups {
  groups: Record<string, { status: string; templateBody: string }>;
  operations: Record<string, { status: string; templateBody: string }>;
}

/**
 * A stack group operation carries the group's template (for an instance template with the handler's code, about
 * 100 KB) only while it runs or stops: an ended one never reads it again, and no API shows it. A deleted group's template
 * goes too (GetStackGroup does not find a deleted group). Without this, every deploy of an `ImageDistribution`
 * would add its template to the state for good.
 */
function pruneStackGroups(sections: Record<string, unknown>): boolean {
  const state = sections.rosStackGroups as PrunableStackGroups | undefined;
  if (!state) {
    return false;
  }
  let changed = false;
  const ended = [
    ...Object.values(state.operations).filter(
      (operation) => operation.status !== 'RUNNING' && operation.status !== 'STOPPING',
    ),
    ...Object.values(state.groups).filter((group) => group.status === 'DELETED'),
  ];
  for (const entry of ended) {
    if (entry.templateBody !== '') {
      entry.templateBody = '';
      changed = true;
    }
  }
  return changed;
}

function pruneStacks(sections: Record<string, unknown>, now: number): boolean {
  const stacks = (sections.ros as { stacks?: Record<string, PrunableStack> } | undefined)?.stacks;
  if (!stacks) {
    return false;
  }
  let changed = false;
  for (const [stackId, stack] of Object.entries(stacks)) {
    if (stack.status !== 'DELETE_COMPLETE') {
      continue;
    }
    // LocalCloud writes times as `YYYY-MM-DDTHH:mm:ss`, in UTC.
    const deletedAt = stack.deleteTime ? Date.parse(`${stack.deleteTime}Z`) : NaN;
    if (Number.isFinite(deletedAt) && now - deletedAt > DELETED_STACK_RETENTION_MS) {
      delete stacks[stackId];
      changed = true;
      continue;
    }
    const summary = summaryTemplate(stack.templateBody);
    const ownEvents = stack.events.filter((e) => e.ResourceType === 'ALIYUN::ROS::Stack');
    if (
      summary !== stack.templateBody ||
      ownEvents.length !== stack.events.length ||
      stack.outputs.length > 0 ||
      Object.keys(stack.resources).length > 0
    ) {
      stack.templateBody = summary;
      stack.events = ownEvents;
      stack.outputs = [];
      stack.resources = {};
      changed = true;
    }
  }
  return changed;
}

/** A template reduced to what describes a deleted stack: its format version, description and parameters. */
function summaryTemplate(body: string): string {
  let template: Record<string, unknown>;
  try {
    template = JSON.parse(body) as Record<string, unknown>;
  } catch {
    template = {}; // YAML: the description and parameters are not worth a parser here
  }
  if (!isObject(template)) {
    template = {};
  }
  return JSON.stringify({
    ROSTemplateFormatVersion: template.ROSTemplateFormatVersion ?? '2015-09-01',
    ...(template.Description !== undefined && { Description: template.Description }),
    ...(template.Parameters !== undefined && { Parameters: template.Parameters }),
    Resources: {},
  });
}
