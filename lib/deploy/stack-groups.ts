/**
 * The ROS stack groups a stack manages, seen from ros-deploy: which they are (from the stack's template:
 * `Custom::ImageDistribution` resources and the `ALIYUN::ROS::StackGroup` / `ALIYUN::ROS::StackInstances` resource
 * types, each naming its group in `StackGroupName`, in the stack's region), their operations followed while the
 * stack is deployed or destroyed (a change of each account and region, a count, the failures with ROS's reasons),
 * whether their instances are all CURRENT, and the image id each instance made, per account and region.
 */
import type { DeployEvent, GroupFollowing } from './follow';
import {
  ACTIVE_OPERATION_STATUSES,
  type StackGroupApi,
  type StackGroupOperation,
  type StackGroupOperationResult,
  type StackInstanceOutput,
  type StackInstanceSummary,
} from './stack-group-api';
import { DeployError } from './errors';

/** The resource type of `ImageDistribution`'s custom resource, which runs the stack group API itself. */
export const IMAGE_DISTRIBUTION_RESOURCE_TYPE = 'Custom::ImageDistribution';

/** The resource types that name a stack group the stack manages, in their `StackGroupName` property. */
export const STACK_GROUP_RESOURCE_TYPES: readonly string[] = [
  IMAGE_DISTRIBUTION_RESOURCE_TYPE,
  'ALIYUN::ROS::StackGroup',
  'ALIYUN::ROS::StackInstances',
];

/** Whether a template has a resource that manages a stack group (without resolving the names). */
export function managesStackGroups(template: Record<string, unknown> | undefined): boolean {
  const resources = (template?.Resources ?? {}) as Record<string, TemplateResource | undefined>;
  return Object.values(resources).some((r) => STACK_GROUP_RESOURCE_TYPES.includes(r?.Type ?? ''));
}

/** The outputs of an instance template that carry its image (`ImageDistribution`'s instance template has both). */
export const INSTANCE_IMAGE_ID_OUTPUT = 'ImageId';
export const INSTANCE_REGION_ID_OUTPUT = 'RegionId';

/** A stack group a stack's template manages. */
export interface ManagedStackGroup {
  readonly stackGroupName: string;
  /** The resources naming it (several StackInstances resources may share one group). */
  readonly logicalResourceIds: string[];
  /** Whether the template keeps the group when the stack is deleted (`DeletionPolicy: Retain`). */
  readonly retained: boolean;
}

/** What a template's `StackGroupName` may refer to: the stack's parameters and pseudo parameters. */
export interface NameContext {
  readonly stackName: string;
  readonly regionId: string;
  /** The parameter values the stack is (or is to be) deployed with; template defaults fill the rest. */
  readonly parameters?: Record<string, string>;
  readonly stackId?: string;
  readonly accountId?: string;
}

/**
 * The stack groups a template manages, and the resources whose group name cannot be told from the template (a
 * `StackGroupName` made of something else than literals, parameters and pseudo parameters).
 */
export function stackGroupsOf(
  template: Record<string, unknown> | undefined,
  context: NameContext,
): { groups: ManagedStackGroup[]; unresolved: string[] } {
  const resources = (template?.Resources ?? {}) as Record<string, TemplateResource | undefined>;
  const groups = new Map<string, { logicalResourceIds: string[]; retained: boolean }>();
  const unresolved: string[] = [];
  for (const [logicalId, resource] of Object.entries(resources)) {
    if (!resource || !STACK_GROUP_RESOURCE_TYPES.includes(resource.Type ?? '')) {
      continue;
    }
    const properties = resource.Properties ?? {};
    // A custom resource's own properties travel in Parameters; the ROS types have theirs at the top.
    const raw =
      properties.StackGroupName ??
      (properties.Parameters as Record<string, unknown> | undefined)?.StackGroupName;
    if (raw === undefined) {
      continue;
    }
    const name = resolveString(raw, template ?? {}, context);
    if (name === undefined) {
      unresolved.push(logicalId);
      continue;
    }
    const group = groups.get(name) ?? { logicalResourceIds: [], retained: false };
    group.logicalResourceIds.push(logicalId);
    // Only the group's own resource decides whether the group outlives the stack.
    if (resource.Type !== 'ALIYUN::ROS::StackInstances' && resource.DeletionPolicy === 'Retain') {
      group.retained = true;
    }
    groups.set(name, group);
  }
  return {
    groups: [...groups].map(([stackGroupName, g]) => ({ stackGroupName, ...g })),
    unresolved,
  };
}

interface TemplateResource {
  readonly Type?: string;
  readonly Properties?: Record<string, unknown>;
  readonly DeletionPolicy?: string;
}

/** A string value of a template, resolved where the template alone (and the context) can tell it. */
function resolveString(
  value: unknown,
  template: Record<string, unknown>,
  context: NameContext,
): string | undefined {
  if (typeof value === 'string') {
    return value;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return undefined;
  }
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length !== 1) {
    return undefined;
  }
  const [fn, args] = entries[0];
  switch (fn) {
    case 'Ref':
      return typeof args === 'string'
        ? (groupNameOf(args, template, context) ?? reference(args, template, context))
        : undefined;
    case 'Fn::GetAtt':
      // A group's name read from the resource that names it.
      return Array.isArray(args) && args[1] === 'StackGroupName' && typeof args[0] === 'string'
        ? groupNameOf(args[0], template, context)
        : undefined;
    case 'Fn::Join': {
      if (!Array.isArray(args) || typeof args[0] !== 'string' || !Array.isArray(args[1])) {
        return undefined;
      }
      const parts = (args[1] as unknown[]).map((p) => resolveString(p, template, context));
      return parts.every((p) => p !== undefined) ? parts.join(args[0]) : undefined;
    }
    case 'Fn::Sub': {
      const [text, variables] = Array.isArray(args) ? args : [args, {}];
      if (typeof text !== 'string') {
        return undefined;
      }
      let whole = true;
      const result = text.replace(/\$\{([^}]+)\}/g, (_m, name: string) => {
        const own = (variables as Record<string, unknown> | undefined)?.[name];
        const resolved =
          own !== undefined ? resolveString(own, template, context) : reference(name, template, context);
        whole &&= resolved !== undefined;
        return resolved ?? '';
      });
      return whole ? result : undefined;
    }
    default:
      return undefined;
  }
}

/**
 * The group name of a resource that makes a group (`ALIYUN::ROS::StackGroup`, whose Ref is its name, or
 * `Custom::ImageDistribution`); undefined for any other.
 */
function groupNameOf(
  logicalId: string,
  template: Record<string, unknown>,
  context: NameContext,
): string | undefined {
  const resource = (template.Resources as Record<string, TemplateResource | undefined> | undefined)?.[
    logicalId
  ];
  if (resource?.Type !== 'ALIYUN::ROS::StackGroup' && resource?.Type !== IMAGE_DISTRIBUTION_RESOURCE_TYPE) {
    return undefined;
  }
  const properties = resource.Properties ?? {};
  const raw =
    properties.StackGroupName ??
    (properties.Parameters as Record<string, unknown> | undefined)?.StackGroupName;
  // Without the resources: a name that referred to a group again would never end.
  return resolveString(raw, { ...template, Resources: {} }, context);
}

function reference(
  name: string,
  template: Record<string, unknown>,
  context: NameContext,
): string | undefined {
  switch (name) {
    case 'ALIYUN::StackName':
      return context.stackName;
    case 'ALIYUN::Region':
      return context.regionId;
    case 'ALIYUN::StackId':
      return context.stackId;
    case 'ALIYUN::AccountId':
      return context.accountId;
  }
  const given = context.parameters?.[name];
  if (given !== undefined) {
    return given;
  }
  const declared = (template.Parameters as Record<string, { Default?: unknown } | undefined> | undefined)?.[
    name
  ];
  const fallback = declared?.Default;
  return typeof fallback === 'string' || typeof fallback === 'number' ? String(fallback) : undefined;
}

/** An instance of a group, with the image it made when its outputs were read. */
export interface StackGroupInstance extends StackInstanceSummary {
  /** The instance template's `ImageId` output. */
  readonly imageId?: string;
  /** Where that image is: the `RegionId` output, else the instance's region. */
  readonly imageRegionId?: string;
  readonly outputs?: StackInstanceOutput[];
}

/** An account and region where a group's operation failed, or whose instance is not CURRENT. */
export interface StackInstanceFailure {
  readonly accountId: string;
  readonly regionId: string;
  /** The operation's action (`CREATE`, `UPDATE`, `DELETE`) when the failure is an operation result. */
  readonly action?: string;
  /** The result's status (`FAILED`, `CANCELLED`) or the instance's (`OUTDATED`, `INOPERABLE`). */
  readonly status: string;
  readonly statusReason: string;
}

/** A stack group of a stack at the end of a deploy, a destroy or a read of its outputs. */
export interface StackGroupReport {
  readonly stackGroupName: string;
  readonly regionId: string;
  /** Whether the group exists at the end. */
  readonly exists: boolean;
  /** The group's operations seen while following, in the order they were seen. */
  readonly operations: Pick<StackGroupOperation, 'operationId' | 'action' | 'status'>[];
  /** Its instances at the end (with their image ids when the outputs were read). */
  readonly instances: StackGroupInstance[];
  /** Per account and region: the failed results of the operations followed, and the instances not CURRENT. */
  readonly failures: StackInstanceFailure[];
  /** The first operation of the group still going at the end, when one is (e.g. someone else's). */
  readonly busyOperation?: Pick<StackGroupOperation, 'operationId' | 'action' | 'status'>;
}

interface FollowedOperation {
  operation: StackGroupOperation;
  readonly results: Map<string, StackGroupOperationResult>;
  progress: string;
  ended: boolean;
}

interface FollowedGroup {
  readonly name: string;
  /** Operation ids that existed before this run: not ours. */
  readonly before: Set<string>;
  totalCount: number;
  readonly operations: Map<string, FollowedOperation>;
}

const key = (accountId: string, regionId: string) => `${accountId}/${regionId}`;

/** `1234…5678`: an account id shortened for a progress line (the full id is in the failures and outputs). */
export function shortAccountId(accountId: string): string {
  return accountId.length > 10 ? `${accountId.slice(0, 4)}…${accountId.slice(-4)}` : accountId;
}

/**
 * Follows the operations of a stack's groups: those that start after {@link start} are this run's. Each poll reads
 * one page of each group's operations (all of them when their number changed) and, for each of this run's operations
 * still going, GetStackGroupOperation and its results, telling each account and region whose result changed and the
 * count done. A group that cannot be read (e.g. no permission) is left out with a message: the stack's status is
 * the outcome, the groups a view of it.
 */
export class StackGroupFollower implements GroupFollowing {
  private readonly groups: FollowedGroup[];
  private disabled = false;

  constructor(
    private readonly api: StackGroupApi,
    private readonly stackName: string,
    stackGroupNames: readonly string[],
    private readonly onEvent?: (event: DeployEvent) => void,
  ) {
    this.groups = [...new Set(stackGroupNames)].map((name) => ({
      name,
      before: new Set<string>(),
      totalCount: -1,
      operations: new Map(),
    }));
  }

  /** The names of the groups followed. */
  get stackGroupNames(): string[] {
    return this.groups.map((g) => g.name);
  }

  /** Notes the operations the groups have before this run (call it before submitting the stack's operation). */
  async start(): Promise<void> {
    await this.guard(async () => {
      for (const group of this.groups) {
        const listed = await this.api.operations(group.name);
        for (const op of listed?.operations ?? []) {
          group.before.add(op.operationId);
        }
        group.totalCount = listed?.totalCount ?? 0;
      }
    });
  }

  get busy(): boolean {
    return !this.disabled && this.groups.some((g) => [...g.operations.values()].some((o) => !o.ended));
  }

  describeBusy(): string {
    const busy = this.groups.flatMap((g) =>
      [...g.operations.values()]
        .filter((o) => !o.ended)
        .map((o) => `the ${o.operation.action} operation of stack group ${g.name}`),
    );
    return busy.join(', ') || 'nothing';
  }

  async poll(): Promise<void> {
    if (this.disabled) {
      return;
    }
    await this.guard(async () => {
      for (const group of this.groups) {
        await this.pollGroup(group);
      }
    });
  }

  private async pollGroup(group: FollowedGroup): Promise<void> {
    const page = await this.api.operationsPage(group.name, 1);
    if (page) {
      const unseen = page.operations.some(
        (o) => !group.before.has(o.operationId) && !group.operations.has(o.operationId),
      );
      if (unseen || page.totalCount !== group.totalCount) {
        const all = page.totalCount > page.operations.length ? await this.api.operations(group.name) : page;
        group.totalCount = all?.totalCount ?? page.totalCount;
        // Oldest first, whatever order ROS lists them in.
        const fresh = (all?.operations ?? [])
          .filter((o) => !group.before.has(o.operationId) && !group.operations.has(o.operationId))
          .sort((a, b) => (a.createTime ?? '').localeCompare(b.createTime ?? ''));
        for (const operation of fresh) {
          group.operations.set(operation.operationId, {
            operation,
            results: new Map(),
            progress: '',
            ended: false,
          });
          this.tell({ type: 'stack-group-operation', stackGroupName: group.name, ...pick(operation) });
        }
      }
    }
    for (const followed of group.operations.values()) {
      if (followed.ended) {
        continue;
      }
      await this.pollOperation(group, followed);
    }
  }

  private async pollOperation(group: FollowedGroup, followed: FollowedOperation): Promise<void> {
    const now = await this.api.operation(followed.operation.operationId);
    const results = await this.api.operationResults(followed.operation.operationId);
    const { operationId, action } = followed.operation;
    for (const result of results) {
      const k = key(result.accountId, result.regionId);
      const before = followed.results.get(k);
      followed.results.set(k, result);
      if (before?.status !== result.status) {
        this.tell({
          type: 'stack-instance',
          stackGroupName: group.name,
          operationId,
          action,
          accountId: result.accountId,
          regionId: result.regionId,
          status: result.status,
          ...(result.statusReason && { statusReason: result.statusReason }),
        });
      }
    }
    // An operation ROS no longer knows (its group deleted) has ended as far as anyone can tell.
    const status = now?.status ?? followed.operation.status;
    const ended = !now || !ACTIVE_OPERATION_STATUSES.includes(status);
    const all = [...followed.results.values()];
    const done = all.filter((r) => r.status !== 'RUNNING').length;
    // ROS may list an account and region's result only once it starts. While a create or update runs, the
    // instances it has yet to make CURRENT are OUTDATED ("Status of stack group and stack instance operations"), so
    // the instances not CURRENT tell how many there are in all; at the end, the results are all there is.
    let total = all.length;
    if (!ended && (action === 'CREATE' || action === 'UPDATE')) {
      const pending = (await this.api.instances(group.name)) ?? [];
      const keys = new Set(all.map((r) => key(r.accountId, r.regionId)));
      for (const i of pending) {
        if (i.status !== 'CURRENT') {
          keys.add(key(i.accountId, i.regionId));
        }
      }
      total = keys.size;
    }
    const progress = `${done}/${total}`;
    if (total > 0 && progress !== followed.progress) {
      followed.progress = progress;
      this.tell({
        type: 'stack-group-progress',
        stackGroupName: group.name,
        operationId,
        action,
        done,
        total,
      });
    }
    if (now && now.status !== followed.operation.status) {
      this.tell({ type: 'stack-group-operation', stackGroupName: group.name, ...pick(now) });
    }
    followed.operation = { ...followed.operation, ...(now && { status: now.status }) };
    followed.ended = ended;
  }

  /** Runs a reading; any failure but an abort turns the following off with a message. */
  private async guard(read: () => Promise<void>): Promise<void> {
    try {
      await read();
    } catch (err) {
      if (err instanceof DeployError && err.code === 'Aborted') {
        throw err;
      }
      this.disabled = true;
      this.onEvent?.({
        type: 'message',
        stackName: this.stackName,
        text: `stack group operations are unavailable (${(err as Error).message}); following the stack only`,
      });
    }
  }

  private tell(event: DistributiveOmit<GroupEvent, 'stackName'>): void {
    this.onEvent?.({ ...event, stackName: this.stackName } as DeployEvent);
  }

  /**
   * The groups at the end: each of `names` (default: every group followed) with its instances, the operations seen,
   * and the failures per account and region (failed results of this run's operations first, then instances that are
   * not CURRENT). With `outputs`, each instance's image id is read (GetStackInstance with OutputOption=Enabled).
   */
  async report(options: { names?: readonly string[]; outputs?: boolean } = {}): Promise<StackGroupReport[]> {
    const names = options.names ?? this.stackGroupNames;
    const reports: StackGroupReport[] = [];
    for (const name of names) {
      const followed = this.groups.find((g) => g.name === name);
      const operations = [...(followed?.operations.values() ?? [])];
      const failed = operations.flatMap(({ operation, results }) =>
        [...results.values()]
          .filter((r) => r.status === 'FAILED' || r.status === 'CANCELLED')
          .map((r) => ({ ...r, action: operation.action })),
      );
      reports.push(
        await readGroup(this.api, name, {
          outputs: options.outputs ?? false,
          operations: operations.map((o) => pick(o.operation)),
          failed,
        }),
      );
    }
    return reports;
  }
}

type GroupEvent = Extract<
  DeployEvent,
  { type: 'stack-group-operation' | 'stack-instance' | 'stack-group-progress' }
>;
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

const pick = (o: StackGroupOperation) => ({ operationId: o.operationId, action: o.action, status: o.status });

/**
 * A group as it is now: its instances (with their image ids when `outputs`), the failures (the `failed` results
 * given, then the instances not CURRENT), and an operation of it still going.
 */
export async function readGroup(
  api: StackGroupApi,
  stackGroupName: string,
  options: {
    outputs?: boolean;
    operations?: StackGroupReport['operations'];
    failed?: (StackGroupOperationResult & { action: string })[];
  } = {},
): Promise<StackGroupReport> {
  const listed = await api.instances(stackGroupName);
  const base = { stackGroupName, regionId: api.regionId, operations: options.operations ?? [] };
  const failures = new Map<string, StackInstanceFailure>();
  for (const r of options.failed ?? []) {
    const k = key(r.accountId, r.regionId);
    if (!failures.has(k)) {
      failures.set(k, {
        accountId: r.accountId,
        regionId: r.regionId,
        action: r.action,
        status: r.status,
        statusReason: r.statusReason ?? 'ROS gave no reason',
      });
    }
  }
  if (!listed) {
    return { ...base, exists: false, instances: [], failures: [...failures.values()] };
  }
  const instances = options.outputs ? await withOutputs(api, stackGroupName, listed) : listed;
  for (const i of instances) {
    const k = key(i.accountId, i.regionId);
    if (i.status !== 'CURRENT' && !failures.has(k)) {
      failures.set(k, {
        accountId: i.accountId,
        regionId: i.regionId,
        status: i.status,
        statusReason: i.statusReason ?? 'ROS gave no reason',
      });
    }
  }
  const page = await api.operationsPage(stackGroupName, 1);
  const busy = page?.operations.find((o) => ACTIVE_OPERATION_STATUSES.includes(o.status));
  return {
    ...base,
    exists: true,
    instances: sortInstances(instances),
    failures: sortInstances([...failures.values()]),
    ...(busy && { busyOperation: pick(busy) }),
  };
}

/** How many GetStackInstance calls at a time while reading outputs. */
const OUTPUT_READS_AT_ONCE = 5;

async function withOutputs(
  api: StackGroupApi,
  stackGroupName: string,
  instances: StackInstanceSummary[],
): Promise<StackGroupInstance[]> {
  const read: StackGroupInstance[] = new Array(instances.length);
  let next = 0;
  const worker = async () => {
    while (next < instances.length) {
      const index = next++;
      const instance = instances[index];
      const described = await api.instanceOutputs(stackGroupName, instance.accountId, instance.regionId);
      if (!described) {
        read[index] = instance;
        continue;
      }
      const output = (name: string) => described.outputs.find((o) => o.key === name)?.value;
      const imageId = output(INSTANCE_IMAGE_ID_OUTPUT);
      const imageRegionId = output(INSTANCE_REGION_ID_OUTPUT);
      read[index] = {
        ...described,
        ...(typeof imageId === 'string' && imageId && { imageId }),
        ...(typeof imageId === 'string' &&
          imageId && {
            imageRegionId:
              typeof imageRegionId === 'string' && imageRegionId ? imageRegionId : instance.regionId,
          }),
      };
    }
  };
  await Promise.all(Array.from({ length: Math.min(OUTPUT_READS_AT_ONCE, instances.length) }, worker));
  return read;
}

function sortInstances<T extends { accountId: string; regionId: string }>(list: T[]): T[] {
  return [...list].sort(
    (a, b) => a.accountId.localeCompare(b.accountId) || a.regionId.localeCompare(b.regionId),
  );
}

/** `{ "<account>": { "<region>": "m-..." } }`: the image ids of a group's instances, as `ImageDistribution` puts them. */
export function imageIdsOf(report: StackGroupReport): Record<string, Record<string, string>> {
  const ids: Record<string, Record<string, string>> = {};
  for (const i of report.instances) {
    if (i.imageId) {
      (ids[i.accountId] ??= {})[i.imageRegionId ?? i.regionId] = i.imageId;
    }
  }
  return ids;
}

/** How many instances of the reports failed, and of how many. */
export function failureCount(reports: readonly StackGroupReport[]): { failed: number; total: number } {
  let failed = 0;
  let total = 0;
  for (const r of reports) {
    failed += r.failures.length;
    const keys = new Set([...r.instances, ...r.failures].map((i) => key(i.accountId, i.regionId)));
    total += keys.size;
  }
  return { failed, total };
}
