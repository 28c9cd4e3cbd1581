/**
 * The operations on one stack: deploy (create, or update one that exists, and follow it to its end), destroy, and
 * reading its outputs and events. Each result says what was done, how it ended and, when it failed, which resources
 * failed and why.
 */
import { randomUUID } from 'crypto';
import * as fs from 'fs';
import * as $Ros from '@alicloud/ros20190910';
import { assemblyStack, constructPathsOf, readAssembly } from './assembly';
import { MAX_TEMPLATE_BODY_BYTES } from '../template-size';
import {
  DEFAULT_STACK_TIMEOUT_MINUTES,
  requiredStackTimeout,
  STACK_TIMEOUT_MARGIN_MINUTES,
} from './stack-timeout';
import { parseTemplateBody } from './template-body';
import { connect, ConnectionOptions, RosConnection } from './connection';
import { DeployError, LIBRARY_WORDING, type Wording } from './errors';
import { DEFAULT_POLL_INTERVAL_MS, DeployEvent, followStack, FollowOptions, StackOperation } from './follow';
import { ImageCopyWatcher } from './image-progress';
import { StackGroupApi } from './stack-group-api';
import {
  failureCount,
  managesStackGroups,
  STACK_GROUP_RESOURCE_TYPES,
  type NameContext,
  readGroup,
  StackGroupFollower,
  type StackGroupReport,
  stackGroupsOf,
} from './stack-groups';
import {
  busyError,
  isInProgress,
  refuseBusy,
  STACK_RESOURCE_TYPE,
  StackApi,
  StackEvent,
  StackOutput,
  StackSummary,
  UPDATABLE_STATUSES,
} from './stack-api';

/** ROS's limit on a template body. */
export const MAX_TEMPLATE_BYTES = MAX_TEMPLATE_BODY_BYTES;

/** Which stack, and where its template comes from: given directly, or read from a synthesized cloud assembly. */
export interface StackSource {
  /** The stack's name in ROS (for an assembly, also its artifact id). */
  readonly stackName: string;
  /** The template, as an object or a JSON/YAML string. */
  readonly template?: string | Record<string, unknown>;
  /**
   * A cloud assembly directory (`cdk.out`) holding the stack's template, used when `template` is not given. The
   * stack's tags and pinned region (`env.region`) come with it.
   */
  readonly assemblyDir?: string;
  /** Logical id → construct path, to name resources in events and failures (read from `assemblyDir` otherwise). */
  readonly constructPaths?: Record<string, string>;
}

/** Options every operation shares: where, as whom, and how to report progress. */
export interface OperationOptions extends ConnectionOptions {
  readonly stackName: string;
  /** Called with each event as it happens: stack events, polls, image copy progress, retries. */
  readonly onEvent?: (event: DeployEvent) => void;
  /** Stops following (not the ROS operation) when aborted. */
  readonly signal?: AbortSignal;
  /**
   * Time between polls while following (each poll is one ListStackEvents call; GetStack is asked at the end): a
   * fixed number, or a range: `min` at first, then a tenth of the time the operation has run, at most `max`.
   * @default { min: 1000, max: 2000 }
   */
  readonly pollIntervalMs?: FollowOptions['pollIntervalMs'];
  /**
   * How the reasons of results name what to do next (e.g. destroying the stack).
   * @default the library's names (LIBRARY_WORDING)
   */
  readonly wording?: Wording;
}

export interface DeployStackOptions extends OperationOptions, StackSource {
  /** Template parameter values. Never logged or returned. */
  readonly parameters?: Record<string, string>;
  /** Stack tags. */
  readonly tags?: Record<string, string>;
  /** Keep what was created when the operation fails, instead of rolling back. @default false */
  readonly disableRollback?: boolean;
  /**
   * ROS's timeout for the create or update, minutes (10 to 1440).
   * @default what the template's custom resources may need: the longest chain of their `Timeout`s plus 10 minutes,
   * at least 60 (see `requiredStackTimeout`)
   */
  readonly timeoutInMinutes?: number;
  /** Read ImageCopy progress from ECS while following (best effort). @default true */
  readonly imageCopyProgress?: boolean;
}

/** A resource that failed in the operation, with ROS's reason. */
export interface FailedResource {
  readonly logicalResourceId: string;
  readonly resourceType: string;
  readonly status: string;
  readonly statusReason: string;
  /** The construct path, when the template came from a cloud assembly. */
  readonly constructPath?: string;
}

export interface StackOperationResult {
  readonly stackName: string;
  readonly regionId: string;
  /** Undefined when there was no stack (destroy of a missing stack). */
  readonly stackId?: string;
  /** What was done: `none` for a deploy without changes or a destroy of a missing stack. */
  readonly operation: StackOperation | 'none';
  /** The final status (`CREATE_COMPLETE`, `UPDATE_COMPLETE`, `ROLLBACK_COMPLETE`, `DELETE_COMPLETE`, ...). */
  readonly status: string;
  readonly statusReason?: string;
  readonly success: boolean;
  /** A deploy found nothing to change. */
  readonly noChanges: boolean;
  readonly outputs: StackOutput[];
  /** The resources that failed, first failure first. */
  readonly failedResources: FailedResource[];
  /**
   * The stack groups the stack manages (see `stack-groups.ts`): their operations in this run, their instances (with
   * the image id of each after a deploy) and the failures per account and region. Absent when it manages none.
   */
  readonly stackGroups?: StackGroupReport[];
}

export interface ResolvedTemplate {
  readonly body: string;
  /** The template as an object (JSON or YAML); undefined when it cannot be parsed (ROS will say why). */
  readonly parsed: Record<string, unknown> | undefined;
  readonly constructPaths: Record<string, string>;
  /** The stack's tags from the cloud assembly. */
  readonly tags: Record<string, string>;
  /** The region the app pinned the stack to, from the cloud assembly. */
  readonly regionId?: string;
}

/** Reads and checks the template of a stack source. */
export function resolveTemplate(source: StackSource): ResolvedTemplate {
  let body: string;
  let constructPaths: Record<string, string> = source.constructPaths ?? {};
  let tags: Record<string, string> = {};
  let regionId: string | undefined;
  if (source.template !== undefined) {
    body = typeof source.template === 'string' ? source.template : JSON.stringify(source.template);
  } else if (source.assemblyDir) {
    const stack = assemblyStack(readAssembly(source.assemblyDir), source.stackName);
    constructPaths = source.constructPaths ?? stack.constructPaths;
    tags = stack.tags ?? {};
    regionId = stack.regionId;
    try {
      body = stack.template ?? fs.readFileSync(stack.templateFile, 'utf8');
    } catch (err) {
      throw new DeployError(
        'InvalidTemplate',
        `Cannot read ${stack.templateFile}: ${(err as Error).message}`,
      );
    }
  } else {
    throw new DeployError(
      'InvalidTemplate',
      `No template for ${source.stackName}: give a template or an assemblyDir.`,
    );
  }
  let parsed: Record<string, unknown> | undefined;
  try {
    parsed = JSON.parse(body) as Record<string, unknown>;
    // Submitted without indentation: ROS counts TemplateBody bytes, and a synthesized template is pretty-printed.
    body = JSON.stringify(parsed);
  } catch {
    // YAML: submitted as written; parsed here only to learn its resources and parameters.
    try {
      parsed = parseTemplateBody(body);
    } catch {
      parsed = undefined;
    }
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    parsed = undefined;
  }
  const bytes = Buffer.byteLength(body);
  if (bytes > MAX_TEMPLATE_BYTES) {
    throw new DeployError(
      'InvalidTemplate',
      `The template of ${source.stackName} is ${bytes} bytes; ROS accepts at most ${MAX_TEMPLATE_BYTES} bytes in TemplateBody.`,
    );
  }
  return { body, parsed, constructPaths, tags, ...(regionId && { regionId }) };
}

/**
 * Creates the stack, or updates it when one of that name exists (found through ListStacks), and follows the
 * operation to its end. A deploy without changes succeeds with `noChanges`. Refuses (`StackBusy`) while another
 * operation runs on the stack.
 */
export async function deployStack(options: DeployStackOptions): Promise<StackOperationResult> {
  const plan = await planDeploy(options);
  const { api, request, stackName, existing } = plan;
  const seen = new Set<string>();
  let stackId: string;
  let operation: StackOperation;
  let groups: StackGroupFollower | undefined;
  if (existing) {
    stackId = existing.stackId;
    operation = 'update';
    await api.markSeen(stackId, seen); // everything before this operation counts as seen
    const { tags, parameters, ...rest } = request;
    const previous = await plan.previousParameters();
    const timeoutInMinutes = await plan.updateTimeout();
    groups = await plan.followGroups();
    const outcome = await api
      .update(
        new $Ros.UpdateStackRequest({
          ...rest,
          timeoutInMinutes,
          stackId,
          usePreviousParameters: previous.usePrevious,
          parameters: [...parameters, ...previous.parameters].map(
            (p) => new $Ros.UpdateStackRequestParameters(p),
          ),
          // No tags: ROS keeps the stack's tags.
          ...(tags.length > 0 && { tags: tags.map((t) => new $Ros.UpdateStackRequestTags(t)) }),
        }),
      )
      .catch((err: unknown) => refuseBusy(stackName, err));
    if (outcome === 'no-changes') {
      return unchangedResult(plan, existing, options.wording ?? LIBRARY_WORDING);
    }
  } else {
    operation = 'create';
    groups = await plan.followGroups();
    const { tags, parameters, ...rest } = request;
    stackId = await api
      .create(
        new $Ros.CreateStackRequest({
          ...rest,
          stackName,
          parameters: parameters.map((p) => new $Ros.CreateStackRequestParameters(p)),
          ...(tags.length > 0 && { tags: tags.map((t) => new $Ros.CreateStackRequestTags(t)) }),
        }),
      )
      .catch((err: unknown) => {
        if (err instanceof DeployError && err.apiCode === 'StackExists') {
          throw new DeployError(
            'StackBusy',
            `Stack ${stackName} was created by someone else while this deploy started; run the deploy again to update it.`,
          );
        }
        return refuseBusy(stackName, err);
      });
  }
  return followOperation(plan, stackId, operation, seen, groups);
}

/** Everything a deploy (or a change set) needs before its first change: the template, the client, the request. */
export interface DeployPlan {
  readonly stackName: string;
  readonly template: ResolvedTemplate;
  readonly api: StackApi;
  readonly follow: FollowOptions;
  /** The live stack to update; undefined to create one. */
  readonly existing?: StackSummary;
  readonly resourceCount: number;
  /** What CreateStack and UpdateStack share (and CreateChangeSet). */
  readonly request: {
    readonly regionId: string;
    readonly templateBody: string;
    readonly parameters: { parameterKey: string; parameterValue: string }[];
    readonly tags: { key: string; value: string }[];
    readonly timeoutInMinutes: number;
    readonly disableRollback: boolean;
    readonly clientToken: string;
  };
  /**
   * For an update, the stack timeout: the custom resources the update removes are deleted after the rest, within
   * the same timeout (asks GetTemplate), unless a timeout was given.
   */
  updateTimeout(): Promise<number>;
  /** For an update: how the deployed parameter values not given again are kept (see previousParameters). */
  previousParameters(): Promise<{
    usePrevious: boolean;
    parameters: { parameterKey: string; parameterValue: string }[];
  }>;
  readonly options: DeployStackOptions;
  /**
   * Notes the operations of the stack groups the new and the deployed template manage, before the stack's operation
   * is submitted, so that those that start afterwards are followed as this run's; undefined when there are none.
   */
  followGroups(): Promise<StackGroupFollower | undefined>;
  /** The stack groups the new template manages (their names resolved with the parameters the stack will have). */
  stackGroupNames(): Promise<string[]>;
  /** The stack group calls, in the stack's region. */
  readonly groupApi: StackGroupApi;
}

/**
 * Checks the template, connects, finds the stack to update (deleting one whose first create was rolled back, unless
 * `review`: only to look) and builds the request, with the stack timeout the template needs (`requiredStackTimeout`).
 */
export async function planDeploy(
  options: DeployStackOptions,
  { review = false }: { review?: boolean } = {},
): Promise<DeployPlan> {
  const template = resolveTemplate(options);
  const { stackName } = options;
  if (template.regionId && template.regionId !== options.regionId) {
    throw new DeployError(
      'RegionMismatch',
      `Stack ${stackName} is pinned to ${template.regionId} by its env.region in the app, and its template was ` +
        `made for that region: deploy it to ${template.regionId}, not ${options.regionId}, or change the stack's env.`,
    );
  }
  // Before any call: a template whose custom resources cannot finish within ROS's longest timeout is refused.
  const needed = template.parsed
    ? requiredStackTimeout(stackName, template.parsed, options.parameters)
    : undefined;
  const { api, connection, follow } = await prepare(options, template.constructPaths);
  const groupApi = new StackGroupApi(connection, options.signal);
  const resourceCount = Object.keys((template.parsed as { Resources?: object })?.Resources ?? {}).length;
  // ECS is asked at most every 4 polls, between 1 and 5 seconds apart.
  const pollMin =
    typeof options.pollIntervalMs === 'number'
      ? options.pollIntervalMs
      : (options.pollIntervalMs?.min ?? DEFAULT_POLL_INTERVAL_MS.min);
  const imageCopies =
    options.imageCopyProgress !== false && template.parsed
      ? new ImageCopyWatcher(connection, template.parsed, Math.min(5000, Math.max(1000, 4 * pollMin)))
      : undefined;
  const followOptions = { ...follow, ...(imageCopies?.any && { imageCopies }) };

  const existing = await stackToUpdate(api, stackName, options.onEvent, followOptions, review);
  const deployedTemplate = memo(async () =>
    existing ? parseTemplateBody(await api.templateBody(existing.stackId)) : undefined,
  );
  // Read only when a template manages stack groups: their names may come from parameters.
  const deployedParameters = memo(async () =>
    existing ? ((await api.get(existing.stackId))?.parameters ?? {}) : {},
  );
  const groupNames = memo(async () => {
    if (!managesStackGroups(template.parsed)) {
      return [];
    }
    // The parameters the stack will have: those given, the deployed values of the others (UsePreviousParameters).
    const parameters = { ...(await deployedParameters()), ...options.parameters };
    const context = { stackName, regionId: api.regionId, parameters, stackId: existing?.stackId };
    const found = stackGroupsOf(template.parsed, context);
    if (found.unresolved.length > 0) {
      options.onEvent?.({
        type: 'message',
        stackName,
        text:
          `cannot tell the stack group of ${found.unresolved.join(', ')} from the template (its StackGroupName is ` +
          'not a literal, a parameter or a pseudo parameter): its operations are not followed',
      });
    }
    return found.groups.map((g) => g.stackGroupName);
  });
  const timeoutInMinutes = options.timeoutInMinutes ?? needed?.minutes ?? DEFAULT_STACK_TIMEOUT_MINUTES;
  const explicit = options.timeoutInMinutes;
  if (needed && needed.chain.length > 0 && explicit !== undefined) {
    const chainMinutes = Math.ceil(needed.chainSeconds / 60) + STACK_TIMEOUT_MARGIN_MINUTES;
    if (explicit < chainMinutes) {
      const chain = needed.chain.map((r) => r.logicalId).join(' → ');
      options.onEvent?.({
        type: 'message',
        stackName,
        text:
          `the timeout of ${explicit} minutes is less than the ${chainMinutes} minutes its custom resources may ` +
          `need (${chain}): ROS may stop the operation before they finish`,
      });
    }
  }
  return {
    stackName,
    template,
    api,
    follow: followOptions,
    ...(existing && { existing }),
    resourceCount,
    request: {
      regionId: api.regionId,
      templateBody: template.body,
      parameters: Object.entries(options.parameters ?? {}).map(([parameterKey, parameterValue]) => ({
        parameterKey,
        parameterValue,
      })),
      // The app's stack tags, then the caller's over them.
      tags: Object.entries({ ...template.tags, ...options.tags }).map(([key, value]) => ({ key, value })),
      timeoutInMinutes,
      disableRollback: options.disableRollback ?? false,
      // One token per deploy: a retried CreateStack/UpdateStack is the same request to ROS.
      clientToken: `ros-deploy-${randomUUID()}`,
    },
    updateTimeout: async () => {
      if (!existing || options.timeoutInMinutes !== undefined || !template.parsed) {
        return timeoutInMinutes;
      }
      const previous = await deployedTemplate();
      return requiredStackTimeout(stackName, template.parsed, options.parameters, previous).minutes;
    },
    previousParameters: async () => {
      const previous = existing
        ? await previousParameters(api, existing.stackId, stackName, template.parsed, options.parameters)
        : { usePrevious: false, values: {} };
      return {
        usePrevious: previous.usePrevious,
        parameters: Object.entries(previous.values).map(([parameterKey, parameterValue]) => ({
          parameterKey,
          parameterValue,
        })),
      };
    },
    options,
    stackGroupNames: groupNames,
    followGroups: async () => {
      const names = [...(await groupNames())];
      const before = await deployedTemplate();
      // A group the update removes is deleted during it: its operations are this run's too.
      if (before && managesStackGroups(before)) {
        names.push(
          ...stackGroupsOf(before, {
            stackName,
            regionId: api.regionId,
            parameters: await deployedParameters(),
            stackId: existing?.stackId,
          }).groups.map((g) => g.stackGroupName),
        );
      }
      if (names.length === 0) {
        return undefined;
      }
      const follower = new StackGroupFollower(groupApi, stackName, names, options.onEvent);
      await follower.start();
      return follower;
    },
    groupApi,
  };
}

/** Runs `load` once, on first use. */
function memo<T>(load: () => Promise<T>): () => Promise<T> {
  let loaded: Promise<T> | undefined;
  return () => (loaded ??= load());
}

/** The result of a deploy whose update ROS found to change nothing: a success only for a healthy stack. */
export async function unchangedResult(
  plan: DeployPlan,
  existing: StackSummary,
  wording: Wording,
): Promise<StackOperationResult> {
  const { api, stackName } = plan;
  const stack = await api.get(existing.stackId, true);
  const status = stack?.status ?? existing.status;
  // Nothing to change is a success only for a stack whose resources are what its template says.
  const healthy = HEALTHY_STATUSES.includes(status);
  // ... and, for the stack groups it manages, whose instances all are (issue 17's rule, applied to them).
  const names = await plan.stackGroupNames();
  const stackGroups =
    (await readGroups(stackName, plan.options.onEvent, () =>
      Promise.all(names.map((name) => readGroup(plan.groupApi, name, { outputs: healthy }))),
    )) ?? [];
  const groupsHealthy = stackGroups.every((g) => g.exists && g.failures.length === 0 && !g.busyOperation);
  return {
    stackName,
    regionId: api.regionId,
    stackId: existing.stackId,
    operation: 'none',
    status,
    statusReason: !healthy
      ? unchangedButUnhealthy(stackName, status, stack?.statusReason ?? existing.statusReason, wording)
      : !groupsHealthy
        ? unchangedButGroupsUnhealthy(stackGroups)
        : stack?.statusReason,
    success: healthy && groupsHealthy,
    noChanges: true,
    outputs: stack?.outputs ?? [],
    failedResources: healthy ? [] : await failuresOf(api, existing.stackId, [], plan.template.constructPaths),
    ...(stackGroups.length > 0 && { stackGroups }),
  };
}

/**
 * Why a deploy without changes to a stack whose groups are not all CURRENT fails, and what to do: ROS does not run an
 * unchanged update, so nothing runs the groups' operations again until something changes.
 */
function unchangedButGroupsUnhealthy(groups: readonly StackGroupReport[]): string {
  const problems = groups.flatMap((g) => {
    if (!g.exists) {
      return [`stack group ${g.stackGroupName} does not exist in ${g.regionId} (deleted outside the stack?)`];
    }
    if (g.busyOperation) {
      return [
        `stack group ${g.stackGroupName} is busy with its ${g.busyOperation.action} operation ` +
          `${g.busyOperation.operationId} (${g.busyOperation.status})`,
      ];
    }
    if (g.failures.length > 0) {
      const states = [...new Set(g.failures.map((f) => f.status))].join(', ');
      return [
        `${g.failures.length} of ${g.instances.length} stack instances of group ${g.stackGroupName} are not ` +
          `CURRENT (${states}; listed below)`,
      ];
    }
    return [];
  });
  const busy = groups.some((g) => g.busyOperation);
  const missing = groups.some((g) => !g.exists);
  const advice = missing
    ? 'Destroy the stack and deploy it anew to make the group again.'
    : busy
      ? 'Wait for that operation to end, then deploy again.'
      : "Fix the cause (the reasons below), then run the group's operation again: deploy a change to the stack " +
        '(for ImageDistribution, any change of its properties), or update those instances in ROS ' +
        '(UpdateStackInstances of the group for those accounts and regions).';
  return (
    `the template and parameters are unchanged and the stack is healthy, but ${problems.join('; ')}: the image ` +
    `has not reached every account and region, and ROS does not run an unchanged update again. ${advice}`
  );
}

/** Follows a create or update that has started to its end, and says how it ended. */
export async function followOperation(
  plan: DeployPlan,
  stackId: string,
  operation: 'create' | 'update',
  seen: Set<string>,
  groups?: StackGroupFollower,
): Promise<StackOperationResult> {
  const { api, stackName } = plan;
  plan.options.onEvent?.({
    type: 'started',
    stackName,
    stackId,
    operation,
    resourceCount: plan.resourceCount,
  });
  const successStatus = operation === 'create' ? 'CREATE_COMPLETE' : 'UPDATE_COMPLETE';
  const followed = await followStack(api, stackId, operation, seen, {
    ...plan.follow,
    successStatus,
    ...(groups && { stackGroups: groups }),
  });
  const status = followed.stack?.status ?? 'UNKNOWN';
  const completed = status === successStatus;
  const final = completed && !followed.outputsRead ? await api.get(stackId, true) : followed.stack;
  // After a completed deploy, the groups of the new template with their image ids; after a failed one, every group
  // followed, for the failures per account and region.
  const names = completed ? await plan.stackGroupNames() : undefined;
  const stackGroups = groups
    ? await readGroups(stackName, plan.options.onEvent, () =>
        groups.report(completed ? { names, outputs: true } : { outputs: false }),
      )
    : undefined;
  const { failed, total } = failureCount(stackGroups ?? []);
  const success = completed && failed === 0;
  return {
    stackName,
    regionId: api.regionId,
    stackId,
    operation,
    status,
    statusReason:
      completed && failed > 0
        ? `the stack completed, but ${failed} of ${total} stack instances of its stack groups failed (within the ` +
          "groups' failure tolerance): the job did not reach every account and region (listed below)"
        : followed.stack?.statusReason,
    success,
    noChanges: false,
    outputs: final?.outputs ?? [],
    failedResources: completed
      ? []
      : await failuresOf(api, stackId, followed.events, plan.template.constructPaths),
    ...(stackGroups && stackGroups.length > 0 && { stackGroups }),
  };
}

/**
 * How an update keeps the parameter values the stack was deployed with when the caller does not give them again (as
 * `cdk deploy` does), instead of letting them fall back to their defaults: `UsePreviousParameters`. ROS documents
 * it as using the previous values "for parameters that are not passed"; it does not say what happens to a previous
 * value whose parameter the new template no longer declares. So when the update drops a parameter, the values are
 * passed explicitly instead (from GetStack), and a NoEcho one, which GetStack masks, must be given again.
 */
async function previousParameters(
  api: StackApi,
  stackId: string,
  stackName: string,
  template: Record<string, unknown> | undefined,
  given: Record<string, string> = {},
): Promise<{ usePrevious: boolean; values: Record<string, string> }> {
  if (!template) {
    return { usePrevious: true, values: {} };
  }
  const declared = (template.Parameters ?? {}) as Record<string, { NoEcho?: unknown } | undefined>;
  const names = Object.keys(declared);
  if (names.length === 0) {
    return { usePrevious: false, values: {} };
  }
  const deployed = (await api.get(stackId))?.parameters ?? {};
  const dropped = Object.keys(deployed).filter((key) => !names.includes(key));
  if (dropped.length === 0) {
    return { usePrevious: true, values: {} };
  }
  const values: Record<string, string> = {};
  for (const name of names) {
    if (name in given || !(name in deployed)) {
      continue;
    }
    const noEcho = declared[name]?.NoEcho;
    if (noEcho === true || noEcho === 'true') {
      throw new DeployError(
        'MissingParameter',
        (w) =>
          `Parameter ${name} of stack ${stackName} is NoEcho, so ROS does not show the value it was deployed with, ` +
          `and this update also removes ${dropped.join(', ')}: pass ${name} again ` +
          `(${w.option('parameters', { stackName, key: name })}).`,
      );
    }
    values[name] = deployed[name];
  }
  return { usePrevious: false, values };
}

/**
 * Statuses in which a stack's resources are what its current template says: a deploy that finds nothing to change
 * succeeds only from these. `ROLLBACK_COMPLETE` (and its import twin) is one: a failed update was undone, so the
 * stack is back at the template ROS holds, and ROS compared the app's template with that one.
 */
const HEALTHY_STATUSES: readonly string[] = [
  'CREATE_COMPLETE',
  'UPDATE_COMPLETE',
  'ROLLBACK_COMPLETE',
  'IMPORT_CREATE_COMPLETE',
  'IMPORT_UPDATE_COMPLETE',
  'IMPORT_UPDATE_ROLLBACK_COMPLETE',
];

/** Why a deploy without changes to a stack that is not healthy (e.g. `UPDATE_FAILED`) fails, and what to do. */
function unchangedButUnhealthy(
  stackName: string,
  status: string,
  reason: string | undefined,
  wording: Wording,
): string {
  const why = reason ? ` (${reason})` : '';
  return (
    `the template and parameters are unchanged, but the stack is ${status}${why}: its last operation did not ` +
    `complete, and ROS does not run an unchanged update again. Fix the cause, then deploy a change (template or ` +
    `parameters), or destroy the stack (${wording.command('destroy', stackName)}) and deploy it anew.`
  );
}

/**
 * The live stack a deploy should update, or undefined to create one. Refuses a busy stack and one that cannot be
 * updated; deletes a stack whose first create was rolled back (only its name is left, and a create needs it).
 */
async function stackToUpdate(
  api: StackApi,
  stackName: string,
  onEvent: ((event: DeployEvent) => void) | undefined,
  follow: FollowOptions,
  review: boolean,
): Promise<StackSummary | undefined> {
  const existing = await api.findByName(stackName);
  if (!existing) {
    return undefined;
  }
  if (existing.status === 'REVIEW_IN_PROGRESS') {
    throw new DeployError(
      'StackNotUpdatable',
      (w) =>
        `Stack ${stackName} is REVIEW_IN_PROGRESS: a change set that creates it waits for review. Execute it (in the ` +
        `ROS console), or destroy the stack (${w.command('destroy', stackName)}), then deploy again.`,
    );
  }
  if (isInProgress(existing.status)) {
    throw busyError(stackName, existing.status);
  }
  if (existing.status === 'CREATE_ROLLBACK_COMPLETE' && review) {
    throw new DeployError(
      'StackNotUpdatable',
      `Stack ${stackName} is CREATE_ROLLBACK_COMPLETE (its first create failed): a deploy deletes it and creates it ` +
        'anew, and ROS makes no change set for it until then.',
    );
  }
  if (existing.status === 'CREATE_ROLLBACK_COMPLETE') {
    onEvent?.({
      type: 'message',
      stackName,
      text: `${stackName} is ${existing.status} (its first create failed); deleting it before creating it again`,
    });
    const seen = new Set<string>();
    await api.markSeen(existing.stackId, seen);
    await api.delete(existing.stackId).catch((err: unknown) => refuseBusy(stackName, err));
    await followStack(api, existing.stackId, 'delete', seen, follow);
    return undefined;
  }
  if (!UPDATABLE_STATUSES.includes(existing.status)) {
    const reason = existing.statusReason ? ` (${existing.statusReason})` : '';
    throw new DeployError(
      'StackNotUpdatable',
      (w) =>
        `Stack ${stackName} is ${existing.status}${reason} and cannot be updated. ` +
        `Destroy it (${w.command('destroy', stackName)}), then deploy again.`,
    );
  }
  return existing;
}

export interface DestroyStackOptions extends OperationOptions {
  /** A cloud assembly directory, only to name construct paths in failures. */
  readonly assemblyDir?: string;
  /** Logical id → construct path, to name resources in failures (else read from `assemblyDir`). */
  readonly constructPaths?: Record<string, string>;
}

/** Deletes the stack of that name and follows the deletion; a stack that does not exist is a success (`none`). */
export async function destroyStack(options: DestroyStackOptions): Promise<StackOperationResult> {
  const constructPaths =
    options.constructPaths ??
    (options.assemblyDir ? constructPathsOf(options.assemblyDir, options.stackName) : {});
  const { api, connection, follow } = await prepare(options, constructPaths);
  const { stackName } = options;
  const existing = await api.findByName(stackName);
  const base = { stackName, regionId: api.regionId, noChanges: false, outputs: [] };
  if (!existing) {
    return { ...base, operation: 'none', status: 'NOT_FOUND', success: true, failedResources: [] };
  }
  if (isInProgress(existing.status)) {
    throw busyError(stackName, existing.status);
  }
  // Read before the deletion: the resource count, and whether the stack manages stack groups (then its template).
  const resources = await api.resources(existing.stackId).catch(() => []);
  const managed = resources.some((r) => STACK_GROUP_RESOURCE_TYPES.includes(r.resourceType))
    ? await deployedStackGroups(api, existing.stackId, stackName, options.onEvent)
    : [];
  const groups =
    managed.length > 0
      ? new StackGroupFollower(
          new StackGroupApi(connection, options.signal),
          stackName,
          managed.map((g) => g.stackGroupName),
          options.onEvent,
        )
      : undefined;
  await groups?.start();
  const seen = new Set<string>();
  await api.markSeen(existing.stackId, seen);
  await api.delete(existing.stackId).catch((err: unknown) => refuseBusy(stackName, err));
  options.onEvent?.({
    type: 'started',
    stackName,
    stackId: existing.stackId,
    operation: 'delete',
    resourceCount: resources.length,
  });
  const followed = await followStack(api, existing.stackId, 'delete', seen, {
    ...follow,
    ...(groups && { stackGroups: groups }),
  });
  const status = followed.stack?.status ?? 'DELETE_COMPLETE';
  const stackGroups = groups
    ? await readGroups(stackName, options.onEvent, () => groups.report())
    : undefined;
  // A group the stack does not retain and that still has instances is left behind, whatever the stack's status.
  const left = (stackGroups ?? []).filter(
    (g) =>
      g.exists &&
      g.instances.length > 0 &&
      !managed.find((m) => m.stackGroupName === g.stackGroupName)?.retained,
  );
  const deleted = status === 'DELETE_COMPLETE';
  return {
    ...base,
    stackId: existing.stackId,
    operation: 'delete',
    status,
    statusReason:
      deleted && left.length > 0
        ? `the stack is deleted, but ${left.map((g) => `stack group ${g.stackGroupName} still has ${g.instances.length} stack instances`).join(', ')} (listed below): delete them in ROS (DeleteStackInstances, then DeleteStackGroup)`
        : followed.stack?.statusReason,
    success: deleted && left.length === 0,
    failedResources: deleted ? [] : await failuresOf(api, existing.stackId, followed.events, constructPaths),
    ...(stackGroups && stackGroups.length > 0 && { stackGroups }),
  };
}

/**
 * The stack groups a deployed stack manages, from the template ROS holds and the parameters the stack has. Best
 * effort: a template that cannot be read manages none as far as ros-deploy can tell.
 */
async function deployedStackGroups(
  api: StackApi,
  stackId: string,
  stackName: string,
  onEvent?: (event: DeployEvent) => void,
) {
  let template: Record<string, unknown>;
  let parameters: Record<string, string>;
  try {
    template = parseTemplateBody(await api.templateBody(stackId)) as Record<string, unknown>;
    if (!managesStackGroups(template)) {
      return [];
    }
    parameters = (await api.get(stackId))?.parameters ?? {};
  } catch (err) {
    if (err instanceof DeployError && err.code === 'Aborted') {
      throw err;
    }
    onEvent?.({
      type: 'message',
      stackName,
      text: `cannot read the stack's template (${(err as Error).message}): its stack groups are not followed`,
    });
    return [];
  }
  const context: NameContext = { stackName, regionId: api.regionId, parameters, stackId };
  return stackGroupsOf(template, context).groups;
}

export interface StackOutputsResult {
  readonly stackName: string;
  readonly stackId: string;
  readonly status: string;
  readonly outputs: StackOutput[];
  /** The stack groups the stack manages, with the image id of each instance. Absent when it manages none. */
  readonly stackGroups?: StackGroupReport[];
  /** Why the stack groups could not be read, when they could not (e.g. no permission). */
  readonly stackGroupsUnavailable?: string;
}

/** The outputs of the stack of that name (`StackNotFound` when there is none). */
export async function stackOutputs(
  options: ConnectionOptions & { stackName: string },
): Promise<StackOutputsResult> {
  const connection = await connect(options);
  const api = new StackApi(connection);
  const summary = await api.requireByName(options.stackName);
  const stack = await api.get(summary.stackId, true);
  if (!stack) {
    throw new DeployError('StackNotFound', `No stack named ${options.stackName} in ${api.regionId}.`);
  }
  const managed = await deployedStackGroups(api, stack.stackId, options.stackName);
  const groupApi = new StackGroupApi(connection);
  let unavailable: string | undefined;
  const stackGroups = await readGroups(
    options.stackName,
    (event) => (unavailable = event.type === 'message' ? event.text : unavailable),
    () => Promise.all(managed.map((g) => readGroup(groupApi, g.stackGroupName, { outputs: true }))),
  );
  return {
    stackName: options.stackName,
    stackId: stack.stackId,
    status: stack.status,
    outputs: stack.outputs,
    ...(stackGroups && stackGroups.length > 0 && { stackGroups }),
    ...(unavailable && { stackGroupsUnavailable: unavailable }),
  };
}

/**
 * Reads the stack's groups at the end of an operation; undefined, with a message, when they cannot be read (e.g. the
 * identity may not call the stack group API): the stack's own status is then the outcome, as it was before groups.
 */
async function readGroups(
  stackName: string,
  onEvent: ((event: DeployEvent) => void) | undefined,
  read: () => Promise<StackGroupReport[]>,
): Promise<StackGroupReport[] | undefined> {
  try {
    return await read();
  } catch (err) {
    if (err instanceof DeployError && err.code === 'Aborted') {
      throw err;
    }
    onEvent?.({
      type: 'message',
      stackName,
      text: `cannot read the stack's stack groups (${(err as Error).message}): their instances are not checked`,
    });
    return undefined;
  }
}

/** A stack event, with the construct path of its resource when known. */
export type StackEventWithPath = StackEvent & { readonly constructPath?: string };

export interface StackEventsOptions extends ConnectionOptions {
  readonly stackName: string;
  /** How many of the latest events. @default 100 */
  readonly limit?: number;
  /** Only the events of this resource. */
  readonly logicalResourceId?: string;
  /** A cloud assembly directory, to name construct paths (when it holds the stack). */
  readonly assemblyDir?: string;
  /** Logical id → construct path (else read from `assemblyDir`). */
  readonly constructPaths?: Record<string, string>;
}

/** The latest events of the stack of that name, oldest first (`StackNotFound` when there is none). */
export async function stackEvents(
  options: StackEventsOptions,
): Promise<{ stackName: string; stackId: string; status: string; events: StackEventWithPath[] }> {
  const paths =
    options.constructPaths ??
    (options.assemblyDir ? constructPathsOf(options.assemblyDir, options.stackName) : {});
  const api = new StackApi(await connect(options));
  const summary = await api.requireByName(options.stackName);
  const events = await api.recentEvents(summary.stackId, options.limit ?? 100, options.logicalResourceId);
  return {
    stackName: options.stackName,
    stackId: summary.stackId,
    status: summary.status,
    events: events.map((e) =>
      paths[e.logicalResourceId] ? { ...e, constructPath: paths[e.logicalResourceId] } : e,
    ),
  };
}

async function prepare(
  options: OperationOptions,
  constructPaths: Record<string, string>,
): Promise<{ api: StackApi; connection: RosConnection; follow: FollowOptions }> {
  const { stackName, onEvent } = options;
  const connection = await connect({
    ...options,
    onRetry: (notice) => {
      options.onRetry?.(notice);
      onEvent?.({ type: 'retry', stackName, notice });
    },
  });
  const api = new StackApi(connection, options.signal);
  const follow: FollowOptions = {
    stackName,
    onEvent,
    signal: options.signal,
    pollIntervalMs: options.pollIntervalMs,
    constructPath: (id) => constructPaths[id],
  };
  return { api, connection, follow };
}

/**
 * The failed resources of an operation: from its events, or, when those show none (events missed), from the
 * resources ROS lists as failed now.
 */
async function failuresOf(
  api: StackApi,
  stackId: string,
  events: StackEvent[],
  constructPaths: Record<string, string>,
): Promise<FailedResource[]> {
  const fromEvents = failedResources(events, constructPaths);
  if (fromEvents.length > 0) {
    return fromEvents;
  }
  const resources = await api.resources(stackId).catch(() => []);
  return resources
    .filter((r) => r.status.endsWith('_FAILED'))
    .map((r) => ({
      logicalResourceId: r.logicalResourceId,
      resourceType: r.resourceType,
      status: r.status,
      statusReason: r.statusReason,
      ...(constructPaths[r.logicalResourceId] && { constructPath: constructPaths[r.logicalResourceId] }),
    }));
}

/** The resources whose events of this operation include a failure, with the first failure's reason. */
function failedResources(events: StackEvent[], constructPaths: Record<string, string>): FailedResource[] {
  const failed = new Map<string, FailedResource>();
  for (const e of events) {
    if (
      e.resourceType === STACK_RESOURCE_TYPE ||
      !e.status.endsWith('_FAILED') ||
      failed.has(e.logicalResourceId)
    ) {
      continue;
    }
    const constructPath = constructPaths[e.logicalResourceId];
    failed.set(e.logicalResourceId, {
      logicalResourceId: e.logicalResourceId,
      resourceType: e.resourceType,
      status: e.status,
      statusReason: e.statusReason,
      ...(constructPath && { constructPath }),
    });
  }
  return [...failed.values()];
}
