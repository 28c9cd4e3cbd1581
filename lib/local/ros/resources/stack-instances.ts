/**
 * `ALIYUN::ROS::StackInstances`
 * (https://www.alibabacloud.com/help/en/ros/developer-reference/aliyun-ros-stackinstances): the stack instances of a
 * stack group of the stack's account, in the accounts (`AccountIds`, or `DeploymentTargets` for a service-managed
 * group) and regions (`RegionIds`) given, made by one CreateStackInstances operation that the resource waits for.
 * Every property is documented "Editable: No": any change (an account or region more or less included) replaces the
 * resource, deleting every instance of the old one. The creation fails when the operation ends FAILED, with each
 * failed account and region's reason; its rollback deletes what was created. Deleting the resource deletes its
 * instances (`RetainStacks`: their stacks stay in their accounts) by one DeleteStackInstances operation.
 * `Fn::GetAtt`: `LastOperationId` (the creation's operation) and `Stacks` (`[{ AccountId, RegionId, StackId }]`, one
 * per instance made). `Ref` is the operation id.
 *
 * ROS runs one operation at a time per stack group: two `StackInstances` resources of one group created or deleted at
 * once collide (`StackGroupOperationInProgress` fails the second), as they would in ROS.
 */
import { ApiError } from '../../errors';
import {
  optionalList,
  optionalNumber,
  requireString,
  ResourceError,
  type CloudServices,
  type FailedCreate,
  type ProvisionContext,
  type Provisioned,
  type ResourceHandler,
} from './handler';
import { asResourceError, callStackGroups, stackGroupsOf, stringMap } from './stack-group';
import type {
  StackGroupOperationInput,
  StackGroupOperationView,
  StackGroupPreferences,
  StackGroupTargets,
} from './stack-group-port';

/** How often a resource looks at the operation it waits for. */
const POLL_MS = 100;

/**
 * OperationPreferences keys and ranges (CreateStackInstances reference): FailureToleranceCount 0-20,
 * FailureTolerancePercentage 0-100, MaxConcurrentCount 1-20, MaxConcurrentPercentage 1-100.
 */
const PREFERENCE_RANGES: Record<string, [number, number]> = {
  FailureToleranceCount: [0, 20],
  FailureTolerancePercentage: [0, 100],
  MaxConcurrentCount: [1, 20],
  MaxConcurrentPercentage: [1, 100],
};

/** `ALIYUN::ROS::StackInstances`: a group's instances in the accounts and regions given. */
export class StackInstancesHandler implements ResourceHandler {
  readonly replacementProperties = '*';
  constructor(private readonly cloud: CloudServices) {}

  async create(ctx: ProvisionContext, p: Record<string, unknown>): Promise<Provisioned> {
    const groups = stackGroupsOf(this.cloud);
    const stackGroupName = requireString(p, 'StackGroupName');
    const targets = targetsOf(p);
    const overrides = stringMap(p, 'ParameterOverrides');
    const input = operationInput(p);
    const started = callStackGroups(() =>
      groups.createInstances(ctx.regionId, stackGroupName, targets, overrides, input),
    );
    const operation = await this.waitFor(ctx, started.operationId);
    if (operation.status !== 'SUCCEEDED') {
      // The operation's id goes with the failure: the Delete that follows removes what it made, nothing else.
      throw new ResourceError(failureOf('CreateStackInstances', operation), operation.operationId);
    }
    const made = new Set(operation.results.map((r) => `${r.accountId}/${r.regionId}`));
    const group = callStackGroups(() => groups.get(ctx.regionId, stackGroupName));
    const stacks = groups
      .instancesOf(group)
      .filter((i) => made.has(`${i.accountId}/${i.regionId}`))
      .map((i) => ({ AccountId: i.accountId, RegionId: i.regionId, StackId: i.stackId }));
    return {
      physicalId: operation.operationId,
      attributes: { LastOperationId: operation.operationId, Stacks: stacks },
    };
  }

  async update(): Promise<Provisioned> {
    throw new ResourceError('ALIYUN::ROS::StackInstances has no property that can be updated in place');
  }

  /**
   * Deletes the resource's instances: those of the accounts and regions given, or after a failed creation those its
   * operation reached (none when the creation was refused before any operation: then nothing was made, and another
   * resource's instances of the same accounts and regions are not this one's to delete).
   */
  async delete(
    ctx: ProvisionContext,
    current: Provisioned | undefined,
    p: Record<string, unknown>,
    failedCreate?: FailedCreate,
  ): Promise<void> {
    const operationId = current?.physicalId ?? failedCreate?.answeredPhysicalId;
    if (operationId === undefined) {
      return;
    }
    const groups = stackGroupsOf(this.cloud);
    const stackGroupName = requireString(p, 'StackGroupName');
    const retainStacks = p.RetainStacks === true || p.RetainStacks === 'true';
    let started: StackGroupOperationView;
    try {
      const targets = current ? targetsOf(p) : madeBy(p, groups.operation(ctx.regionId, operationId));
      started = groups.deleteInstances(
        ctx.regionId,
        stackGroupName,
        targets,
        retainStacks,
        operationInput(p),
      );
    } catch (err) {
      if (err instanceof ApiError && err.code === 'StackGroupNotFound') {
        return;
      }
      throw asResourceError(err);
    }
    const operation = await this.waitFor(ctx, started.operationId);
    if (operation.status !== 'SUCCEEDED') {
      throw new ResourceError(failureOf('DeleteStackInstances', operation));
    }
  }

  /** Polls the operation until it ends, or the stack operation times out. */
  private async waitFor(ctx: ProvisionContext, operationId: string): Promise<StackGroupOperationView> {
    const groups = stackGroupsOf(this.cloud);
    for (;;) {
      const operation = callStackGroups(() => groups.operation(ctx.regionId, operationId));
      if (operation.status !== 'RUNNING' && operation.status !== 'STOPPING') {
        return operation;
      }
      try {
        await this.cloud.clock.sleep(POLL_MS, ctx.signal);
      } catch {
        // aborted: checked below
      }
      if (ctx.signal.aborted) {
        throw new ResourceError(
          `timed out waiting for stack group operation ${operationId} (still ${operation.status})`,
        );
      }
    }
  }
}

/** The accounts and regions a creation's operation reached, as the targets of a deletion. */
function madeBy(p: Record<string, unknown>, operation: StackGroupOperationView): StackGroupTargets {
  const reached = operation.results.filter((r) => r.status !== 'CANCELLED' && r.status !== 'STOPPED');
  const accounts = [...new Set(reached.map((r) => r.accountId))];
  const regionIds = [...new Set(reached.map((r) => r.regionId))];
  // A self-managed group names its accounts in AccountIds, a service-managed one in DeploymentTargets.
  return p.AccountIds !== undefined
    ? { regionIds, accountIds: accounts }
    : { regionIds, targetAccountIds: accounts };
}

/** An operation that did not succeed, with each failed account and region's reason. */
function failureOf(action: string, operation: StackGroupOperationView): string {
  const failed = operation.results.filter((r) => r.status === 'FAILED');
  const reasons = failed.map((r) => `${r.accountId}/${r.regionId}: ${r.statusReason ?? 'failed'}`);
  return (
    `${action} operation ${operation.operationId} ended ${operation.status}` +
    (reasons.length > 0 ? `: ${reasons.join('; ')}` : '')
  );
}

function stringList(p: Record<string, unknown>, name: string, value = p[name]): string[] | undefined {
  const list = value === undefined ? undefined : optionalList({ [name]: value }, name);
  if (list === undefined) {
    return undefined;
  }
  return list.map((item, i) => {
    if (typeof item !== 'string' || item === '') {
      throw new ResourceError(`${name}[${i}] must be a non-empty string, got ${JSON.stringify(item)}`);
    }
    return item;
  });
}

/** RegionIds, and AccountIds or DeploymentTargets (RdFolderIds, AccountIds). */
function targetsOf(p: Record<string, unknown>): StackGroupTargets {
  const regionIds = stringList(p, 'RegionIds');
  if (!regionIds || regionIds.length === 0) {
    throw new ResourceError('RegionIds is required: a list of at least one region id');
  }
  const deployment = p.DeploymentTargets as { RdFolderIds?: unknown; AccountIds?: unknown } | undefined;
  if (
    deployment !== undefined &&
    (typeof deployment !== 'object' || deployment === null || Array.isArray(deployment))
  ) {
    throw new ResourceError(
      `DeploymentTargets must be a map with RdFolderIds and/or AccountIds, got ${JSON.stringify(deployment)}`,
    );
  }
  const accountIds = stringList(p, 'AccountIds');
  const rdFolderIds = deployment && stringList(p, 'DeploymentTargets.RdFolderIds', deployment.RdFolderIds);
  const targetAccountIds = deployment && stringList(p, 'DeploymentTargets.AccountIds', deployment.AccountIds);
  return {
    regionIds,
    ...(accountIds && { accountIds }),
    ...(rdFolderIds && { rdFolderIds }),
    ...(targetAccountIds && { targetAccountIds }),
  };
}

function operationInput(p: Record<string, unknown>): StackGroupOperationInput {
  const timeoutInMinutes = optionalNumber(p, 'TimeoutInMinutes');
  if (
    timeoutInMinutes !== undefined &&
    (!Number.isInteger(timeoutInMinutes) || timeoutInMinutes < 10 || timeoutInMinutes > 1440)
  ) {
    throw new ResourceError(`TimeoutInMinutes must be an integer from 10 to 1440, got ${timeoutInMinutes}`);
  }
  return {
    ...(p.OperationDescription !== undefined && { operationDescription: String(p.OperationDescription) }),
    preferences: preferences(p.OperationPreferences),
    ...(timeoutInMinutes !== undefined && { timeoutInMinutes }),
    ...(p.DisableRollback !== undefined && {
      disableRollback: p.DisableRollback === true || p.DisableRollback === 'true',
    }),
  };
}

function preferences(value: unknown): StackGroupPreferences {
  if (value === undefined) {
    return {};
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ResourceError(`OperationPreferences must be a map, got ${JSON.stringify(value)}`);
  }
  const out: Record<string, unknown> = {};
  for (const [key, given] of Object.entries(value)) {
    if (key === 'RegionConcurrencyType') {
      if (given !== 'SEQUENTIAL' && given !== 'PARALLEL') {
        throw new ResourceError(
          `OperationPreferences.RegionConcurrencyType must be SEQUENTIAL or PARALLEL, got ${JSON.stringify(given)}`,
        );
      }
      out[key] = given;
      continue;
    }
    const range = PREFERENCE_RANGES[key];
    if (!range) {
      throw new ResourceError(
        `OperationPreferences.${key} is not one of ${[...Object.keys(PREFERENCE_RANGES), 'RegionConcurrencyType'].join(', ')}`,
      );
    }
    const n = typeof given === 'string' ? Number(given) : given;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < range[0] || n > range[1]) {
      throw new ResourceError(
        `OperationPreferences.${key} must be an integer from ${range[0]} to ${range[1]}, got ${JSON.stringify(given)}`,
      );
    }
    out[key] = n;
  }
  for (const [a, b] of [
    ['MaxConcurrentCount', 'MaxConcurrentPercentage'],
    ['FailureToleranceCount', 'FailureTolerancePercentage'],
  ]) {
    if (out[a] !== undefined && out[b] !== undefined) {
      throw new ResourceError(`OperationPreferences: ${a} and ${b} cannot be specified at the same time`);
    }
  }
  return out as StackGroupPreferences;
}
