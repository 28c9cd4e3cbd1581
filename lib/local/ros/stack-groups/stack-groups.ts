/**
 * One administrator account's ROS stack groups: what CreateStackGroup ... StopStackGroupOperation do, over the
 * account's part of the state; the operations run in `operations.ts`. Error codes, each from the action's reference
 * (https://www.alibabacloud.com/help/en/ros/developer-reference/api-ros-2019-09-10-<action>):
 * - `StackGroupExists` (409, CreateStackGroup), `StackGroupNotFound` (404), `StackGroupNotEmpty` (400,
 *   DeleteStackGroup: "A stack group can be deleted only when the stack group does not contain stacks"),
 * - `StackInstanceExists` (409) and `StackGroupOperationInProgress` (409, "Another Operation on StackGroup ({name})
 *   is in progress.") from CreateStackInstances, `StackGroupOperationNotFound` (404, GetStackGroupOperation,
 *   StopStackGroupOperation), `InvalidParameter` (400).
 * Codes no ROS reference gives, named as ROS names its others: `StackInstanceNotFound` (GetStackInstance of an
 * account and region without an instance) and `LimitExceeded` (the 101st group, the 2,001st instance).
 */
import { randomUUID } from 'crypto';
import { systemClock, type Clock } from '../../clock';
import { ApiError } from '../../errors';
import type { StateStore } from '../../state';
import { DEFAULT_TIMEOUT_IN_MINUTES, rosTime, type StackEngine, type StackState } from '../engine';
import { invalid } from '../params';
import {
  DEFAULT_ADMINISTRATION_ROLE,
  DEFAULT_EXECUTION_ROLE,
  instanceKey,
  MAX_INSTANCES_PER_GROUP,
  MAX_STACK_GROUPS_PER_ACCOUNT,
  STATE_SECTION,
  type AutoDeployment,
  type OperationAction,
  type OperationPreferences,
  type OperationState,
  type PermissionModel,
  type ResourceDirectoryView,
  type StackGroupState,
  type StackGroupsState,
  type StackInstanceState,
} from './model';
import { NOT_COMPLETE_REASON, OperationRunner, type StackGroupAccount } from './operations';

export interface StackGroupsOptions {
  readonly store: StateStore;
  /** The administrator account: the caller of every action on these stack groups. */
  readonly admin: StackGroupAccount;
  /** Any account of the cloud by id (the targets). */
  readonly account: (accountId: string) => StackGroupAccount | undefined;
  /** The Resource Directory service-managed stack groups deploy through, when there is one. */
  readonly resourceDirectory?: () => ResourceDirectoryView | undefined;
  /** ROS's clock. @default the system clock */
  readonly clock?: Clock;
}

export interface CreateStackGroupInput {
  readonly regionId: string;
  readonly stackGroupName: string;
  readonly description?: string;
  readonly templateBody: string;
  readonly parameters: Record<string, string>;
  readonly permissionModel: PermissionModel;
  readonly administrationRoleName?: string;
  readonly executionRoleName?: string;
  readonly autoDeployment?: AutoDeployment;
  readonly tags: { Key: string; Value: string }[];
}

/** Where an operation acts: self-managed account ids, or service-managed folders (and member accounts). */
export interface TargetsInput {
  readonly accountIds?: string[];
  readonly rdFolderIds?: string[];
  /** DeploymentTargets.AccountIds. */
  readonly targetAccountIds?: string[];
  readonly regionIds: string[];
}

export interface OperationInput {
  readonly operationDescription?: string;
  readonly preferences: OperationPreferences;
  readonly timeoutInMinutes?: number;
  readonly disableRollback?: boolean;
}

export interface UpdateStackGroupInput extends OperationInput {
  readonly description?: string;
  readonly templateBody?: string;
  readonly parameters?: Record<string, string>;
  readonly permissionModel?: PermissionModel;
  readonly administrationRoleName?: string;
  readonly executionRoleName?: string;
  readonly autoDeployment?: AutoDeployment;
  /** The instances to update; every instance when both are absent. */
  readonly targets?: Partial<TargetsInput>;
}

/** An account and region an operation acts on; `viaFolder` when the account came from a folder's members. */
type Target = { accountId: string; regionId: string; rdFolderId?: string; viaFolder?: boolean };

/** The stack groups of one administrator account. */
export class StackGroups {
  private readonly state: StackGroupsState;
  private readonly clock: Clock;
  private readonly runner: OperationRunner;

  constructor(private readonly options: StackGroupsOptions) {
    this.state = options.store.section<StackGroupsState>(STATE_SECTION, () => ({
      groups: {},
      instances: {},
      operations: {},
    }));
    this.clock = options.clock ?? systemClock;
    this.runner = new OperationRunner({
      store: options.store,
      state: this.state,
      admin: options.admin,
      account: options.account,
      isMember: (accountId) => this.directory()?.folderOf(accountId) !== undefined,
      clock: this.clock,
    });
  }

  /** Carries on the operations that were running when LocalCloud stopped (call once every account exists). */
  resume(): void {
    for (const operation of Object.values(this.state.operations)) {
      if (operation.status === 'RUNNING' || operation.status === 'STOPPING') {
        this.runner.start(operation);
      }
    }
  }

  /** Resolves when no operation is running. */
  async settled(): Promise<void> {
    await this.runner.settled();
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Groups

  create(input: CreateStackGroupInput): StackGroupState {
    if (this.find(input.regionId, input.stackGroupName)) {
      throw new ApiError('StackGroupExists', `The StackGroup (${input.stackGroupName}) already exists.`, 409);
    }
    const active = Object.values(this.state.groups).filter((g) => g.status === 'ACTIVE').length;
    if (active >= MAX_STACK_GROUPS_PER_ACCOUNT) {
      throw new ApiError(
        'LimitExceeded',
        `Account ${this.options.admin.accountId} already has ${active} stack groups: at most ${MAX_STACK_GROUPS_PER_ACCOUNT} per account.`,
        400,
      );
    }
    if (input.permissionModel === 'SERVICE_MANAGED') {
      this.checkDirectoryAdministrator();
    }
    const group: StackGroupState = {
      stackGroupId: randomUUID(),
      stackGroupName: input.stackGroupName,
      regionId: input.regionId,
      ...(input.description !== undefined && { description: input.description }),
      permissionModel: input.permissionModel,
      ...(input.permissionModel === 'SELF_MANAGED' && {
        administrationRoleName: input.administrationRoleName ?? DEFAULT_ADMINISTRATION_ROLE,
        executionRoleName: input.executionRoleName ?? DEFAULT_EXECUTION_ROLE,
      }),
      ...(input.autoDeployment && { autoDeployment: input.autoDeployment }),
      templateBody: input.templateBody,
      parameters: input.parameters,
      createTime: this.now(),
      status: 'ACTIVE',
      tags: input.tags,
    };
    this.state.groups[group.stackGroupId] = group;
    this.state.instances[group.stackGroupId] = {};
    this.options.store.changed();
    return group;
  }

  /** An ACTIVE stack group by name; `StackGroupNotFound` otherwise. */
  get(regionId: string, stackGroupName: string): StackGroupState {
    const group = this.find(regionId, stackGroupName);
    if (!group) {
      throw new ApiError('StackGroupNotFound', `The StackGroup (${stackGroupName}) could not be found.`, 404);
    }
    return group;
  }

  /** The stack groups of a region, newest first; ACTIVE ones unless `status` says otherwise. */
  list(regionId: string, status?: 'ACTIVE' | 'DELETED'): StackGroupState[] {
    return Object.values(this.state.groups)
      .filter((g) => g.regionId === regionId && g.status === (status ?? 'ACTIVE'))
      .sort((a, b) => (a.createTime < b.createTime ? 1 : a.createTime > b.createTime ? -1 : 0));
  }

  delete(regionId: string, stackGroupName: string): void {
    const group = this.get(regionId, stackGroupName);
    this.refuseWhileBusy(group);
    if (this.instancesOf(group).length > 0) {
      throw new ApiError('StackGroupNotEmpty', `The StackGroup (${stackGroupName}) is not empty.`, 400);
    }
    group.status = 'DELETED';
    group.updateTime = this.now();
    this.options.store.changed();
  }

  /**
   * UpdateStackGroup: the group's template, parameters, description and roles change now; the instances given (every
   * instance when no account or region is given) are updated by an operation. The others become OUTDATED ("Status
   * of stack group and stack instance operations": "The stack group and specific stack instances are updated. In
   * this case, the stack instances that are not updated enter the OUTDATED state").
   */
  update(regionId: string, stackGroupName: string, input: UpdateStackGroupInput): OperationState {
    const group = this.get(regionId, stackGroupName);
    this.refuseWhileBusy(group);
    const instances = this.instancesOf(group);
    if (input.permissionModel !== undefined && input.permissionModel !== group.permissionModel) {
      if (instances.length > 0) {
        throw invalid(
          'PermissionModel',
          input.permissionModel,
          'the permission model cannot change while the stack group has stack instances',
        );
      }
      if (input.permissionModel === 'SERVICE_MANAGED') {
        this.checkDirectoryAdministrator();
      }
      group.permissionModel = input.permissionModel;
    }
    const given = input.targets ?? {};
    const anyTarget =
      given.accountIds !== undefined ||
      given.rdFolderIds !== undefined ||
      given.targetAccountIds !== undefined;
    const chosen =
      anyTarget || given.regionIds !== undefined
        ? this.existingTargets(group, given, instances)
        : instances.map(({ accountId, regionId: r, rdFolderId }) => ({ accountId, regionId: r, rdFolderId }));
    if (input.templateBody !== undefined) {
      group.templateBody = input.templateBody;
    }
    if (input.parameters !== undefined) {
      group.parameters = input.parameters;
    }
    if (input.description !== undefined) {
      group.description = input.description;
    }
    if (group.permissionModel === 'SELF_MANAGED') {
      group.administrationRoleName =
        input.administrationRoleName ?? group.administrationRoleName ?? DEFAULT_ADMINISTRATION_ROLE;
      group.executionRoleName = input.executionRoleName ?? group.executionRoleName ?? DEFAULT_EXECUTION_ROLE;
    } else {
      delete group.administrationRoleName;
      delete group.executionRoleName;
    }
    if (input.autoDeployment !== undefined) {
      group.autoDeployment = input.autoDeployment;
    }
    group.updateTime = this.now();
    const chosenKeys = new Set(chosen.map((t) => instanceKey(t.accountId, t.regionId)));
    for (const instance of instances) {
      instance.status = 'OUTDATED';
      instance.statusReason = chosenKeys.has(instanceKey(instance.accountId, instance.regionId))
        ? NOT_COMPLETE_REASON
        : 'The stack group was updated, and this stack instance was not.';
    }
    return this.startOperation(group, 'UPDATE', chosen, input, {
      accountIds: given.accountIds ?? given.targetAccountIds,
      rdFolderIds: given.rdFolderIds,
    });
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Instances

  createInstances(
    regionId: string,
    stackGroupName: string,
    targets: TargetsInput,
    overrides: Record<string, string>,
    input: OperationInput,
  ): OperationState {
    const group = this.get(regionId, stackGroupName);
    this.refuseWhileBusy(group);
    const resolved = this.resolveTargets(group, targets);
    const instances = this.state.instances[group.stackGroupId];
    for (const target of resolved) {
      const key = instanceKey(target.accountId, target.regionId);
      if (instances[key]) {
        throw new ApiError('StackInstanceExists', `The StackInstance (${key}) already exists.`, 409);
      }
    }
    const total = Object.keys(instances).length + resolved.length;
    if (total > MAX_INSTANCES_PER_GROUP) {
      throw new ApiError(
        'LimitExceeded',
        `StackGroup ${stackGroupName} would have ${total} stack instances: at most ${MAX_INSTANCES_PER_GROUP} per stack group.`,
        400,
      );
    }
    for (const target of resolved) {
      instances[instanceKey(target.accountId, target.regionId)] = {
        stackGroupId: group.stackGroupId,
        accountId: target.accountId,
        regionId: target.regionId,
        ...(target.rdFolderId !== undefined && { rdFolderId: target.rdFolderId }),
        status: 'OUTDATED',
        statusReason: NOT_COMPLETE_REASON,
        parameterOverrides: { ...overrides },
      };
    }
    return this.startOperation(group, 'CREATE', resolved, input, {
      accountIds: targets.accountIds ?? targets.targetAccountIds,
      rdFolderIds: targets.rdFolderIds,
    });
  }

  /** UpdateStackInstances: ParameterOverrides for the given instances (each must exist), applied by an operation. */
  updateInstances(
    regionId: string,
    stackGroupName: string,
    targets: TargetsInput,
    overrides: Record<string, string>,
    input: OperationInput,
  ): OperationState {
    const group = this.get(regionId, stackGroupName);
    this.refuseWhileBusy(group);
    const instances = this.state.instances[group.stackGroupId];
    // A folder's members that have no instance here are not updated; an account named must have one.
    const chosen = this.resolveTargets(group, targets)
      .filter((t) => !t.viaFolder || instances[instanceKey(t.accountId, t.regionId)])
      .map(({ accountId, regionId: r, rdFolderId }) => ({ accountId, regionId: r, rdFolderId }));
    for (const target of chosen) {
      const key = instanceKey(target.accountId, target.regionId);
      if (!instances[key]) {
        throw new ApiError(
          'StackInstanceNotFound',
          `The StackInstance (${key}) could not be found in StackGroup ${stackGroupName}.`,
          404,
        );
      }
    }
    for (const target of chosen) {
      const instance = instances[instanceKey(target.accountId, target.regionId)];
      Object.assign(instance.parameterOverrides, overrides);
      instance.status = 'OUTDATED';
      instance.statusReason = NOT_COMPLETE_REASON;
    }
    return this.startOperation(group, 'UPDATE', chosen, input, {
      accountIds: targets.accountIds ?? targets.targetAccountIds,
      rdFolderIds: targets.rdFolderIds,
    });
  }

  /** DeleteStackInstances: the instances of the given accounts and regions (those that exist). */
  deleteInstances(
    regionId: string,
    stackGroupName: string,
    targets: TargetsInput,
    retainStacks: boolean,
    input: OperationInput,
  ): OperationState {
    const group = this.get(regionId, stackGroupName);
    this.refuseWhileBusy(group);
    const instances = this.state.instances[group.stackGroupId];
    const chosen = this.resolveTargets(group, targets, true)
      .map((t) => instances[instanceKey(t.accountId, t.regionId)])
      .filter((i): i is StackInstanceState => i !== undefined)
      .map(({ accountId, regionId: r, rdFolderId }) => ({ accountId, regionId: r, rdFolderId }));
    return this.startOperation(group, 'DELETE', chosen, input, {
      accountIds: targets.accountIds ?? targets.targetAccountIds,
      rdFolderIds: targets.rdFolderIds,
      retainStacks,
    });
  }

  /** A group's instances, in the order they were created. */
  instancesOf(group: StackGroupState): StackInstanceState[] {
    return Object.values(this.state.instances[group.stackGroupId] ?? {});
  }

  instance(group: StackGroupState, accountId: string, regionId: string): StackInstanceState {
    const instance = this.state.instances[group.stackGroupId]?.[instanceKey(accountId, regionId)];
    if (!instance) {
      throw new ApiError(
        'StackInstanceNotFound',
        `The StackInstance (${instanceKey(accountId, regionId)}) could not be found in StackGroup ${group.stackGroupName}.`,
        404,
      );
    }
    return instance;
  }

  /** The stack engine of an instance's account. */
  engineOf(instance: StackInstanceState): StackEngine | undefined {
    return this.options.account(instance.accountId)?.engine;
  }

  /** The stack of an instance in its account, when it still exists there. */
  stackOf(instance: StackInstanceState): StackState | undefined {
    if (!instance.stackId) {
      return undefined;
    }
    return this.options
      .account(instance.accountId)
      ?.engine.stacks(instance.regionId)
      .find((s) => s.stackId === instance.stackId);
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Operations

  operation(regionId: string, operationId: string): OperationState {
    const operation = this.state.operations[operationId];
    if (!operation || operation.regionId !== regionId) {
      throw new ApiError(
        'StackGroupOperationNotFound',
        `The StackGroupOperation (${operationId}) could not be found.`,
        404,
      );
    }
    return operation;
  }

  /** The stack group an operation belongs to (for its RAM resource), when the operation exists. */
  groupNameOf(operationId: string): string | undefined {
    return this.state.operations[operationId]?.stackGroupName;
  }

  /** A group's operations, newest first. */
  operationsOf(group: StackGroupState): OperationState[] {
    return Object.values(this.state.operations)
      .filter((o) => o.stackGroupId === group.stackGroupId)
      .reverse();
  }

  /** StopStackGroupOperation: what runs finishes, nothing more starts; the operation ends STOPPED. */
  stop(regionId: string, operationId: string): void {
    const operation = this.operation(regionId, operationId);
    if (operation.status !== 'RUNNING') {
      throw invalid('OperationId', operationId, `the operation is ${operation.status}, not RUNNING`);
    }
    operation.stopRequested = true;
    operation.status = 'STOPPING';
    this.options.store.changed();
  }

  // ---------------------------------------------------------------------------------------------------------------

  private find(regionId: string, stackGroupName: string): StackGroupState | undefined {
    return Object.values(this.state.groups).find(
      (g) => g.regionId === regionId && g.stackGroupName === stackGroupName && g.status === 'ACTIVE',
    );
  }

  private refuseWhileBusy(group: StackGroupState): void {
    const busy = Object.values(this.state.operations).some(
      (o) => o.stackGroupId === group.stackGroupId && (o.status === 'RUNNING' || o.status === 'STOPPING'),
    );
    if (busy) {
      throw new ApiError(
        'StackGroupOperationInProgress',
        `Another Operation on StackGroup (${group.stackGroupName}) is in progress.`,
        409,
      );
    }
  }

  private directory(): ResourceDirectoryView | undefined {
    return this.options.resourceDirectory?.();
  }

  /**
   * SERVICE_MANAGED: "your account must be the management account or a delegated administrator account of a resource
   * directory with trusted access enabled" (CreateStackGroupRequest.permissionModel).
   */
  private checkDirectoryAdministrator(): ResourceDirectoryView {
    const directory = this.directory();
    const accountId = this.options.admin.accountId;
    if (!directory || !directory.enabled) {
      throw invalid(
        'PermissionModel',
        'SERVICE_MANAGED',
        `account ${accountId} has no enabled resource directory: service-managed stack groups need one`,
      );
    }
    if (
      directory.managementAccountId !== accountId &&
      !directory.delegatedAdministratorAccountIds.includes(accountId)
    ) {
      throw invalid(
        'PermissionModel',
        'SERVICE_MANAGED',
        `account ${accountId} is neither the management account (${directory.managementAccountId}) nor a ` +
          'delegated administrator of the resource directory',
      );
    }
    return directory;
  }

  /** The (account, region) pairs a call names, in the order given: regions outer, accounts inner. */
  private resolveTargets(group: StackGroupState, targets: TargetsInput, forDelete = false): Target[] {
    const accounts = this.resolveAccounts(group, targets, forDelete);
    const seen = new Set<string>();
    const out: Target[] = [];
    for (const regionId of unique(targets.regionIds)) {
      for (const account of accounts) {
        const key = instanceKey(account.accountId, regionId);
        if (!seen.has(key)) {
          seen.add(key);
          out.push({ ...account, regionId });
        }
      }
    }
    return out;
  }

  /** The accounts a call names: self-managed AccountIds, or the service-managed folders' members and AccountIds. */
  private resolveAccounts(
    group: StackGroupState,
    targets: Omit<TargetsInput, 'regionIds'>,
    forDelete: boolean,
  ): Omit<Target, 'regionId'>[] {
    const accounts: Omit<Target, 'regionId'>[] = [];
    if (group.permissionModel === 'SELF_MANAGED') {
      if (targets.rdFolderIds !== undefined) {
        throw invalid(
          'DeploymentTargets.RdFolderIds',
          targets.rdFolderIds,
          'folders apply only to stack groups with service-managed permissions (PermissionModel SERVICE_MANAGED)',
        );
      }
      const ids = targets.accountIds ?? targets.targetAccountIds;
      if (!ids || ids.length === 0) {
        throw invalid('AccountIds', ids ?? [], 'at least one account id for a self-managed stack group');
      }
      accounts.push(...unique(ids).map((accountId) => ({ accountId })));
    } else {
      if (targets.accountIds !== undefined) {
        throw invalid(
          'AccountIds',
          targets.accountIds,
          'a service-managed stack group takes its accounts from DeploymentTargets (RdFolderIds, AccountIds)',
        );
      }
      const directory = this.checkDirectoryAdministrator();
      if (!targets.rdFolderIds?.length && !targets.targetAccountIds?.length) {
        throw invalid('DeploymentTargets', {}, 'RdFolderIds or AccountIds for a service-managed stack group');
      }
      for (const folderId of targets.rdFolderIds ?? []) {
        if (!directory.hasFolder(folderId)) {
          throw invalid(
            'DeploymentTargets.RdFolderIds',
            folderId,
            'no such folder in the resource directory',
          );
        }
        for (const member of directory.accountsIn(folderId)) {
          accounts.push({ accountId: member.accountId, rdFolderId: member.folderId, viaFolder: true });
        }
      }
      for (const accountId of targets.targetAccountIds ?? []) {
        const folderId = directory.folderOf(accountId);
        if (folderId === undefined && !forDelete) {
          throw invalid('DeploymentTargets.AccountIds', accountId, 'not a member of the resource directory');
        }
        accounts.push({ accountId, ...(folderId !== undefined && { rdFolderId: folderId }) });
      }
    }
    return accounts;
  }

  /** UpdateStackGroup's targets: the existing instances among the accounts and regions given (all of a kind not given). */
  private existingTargets(
    group: StackGroupState,
    given: Partial<TargetsInput>,
    instances: StackInstanceState[],
  ): Target[] {
    const anyAccount =
      given.accountIds !== undefined ||
      given.rdFolderIds !== undefined ||
      given.targetAccountIds !== undefined;
    const accounts = anyAccount
      ? new Set(this.resolveAccounts(group, given, true).map((a) => a.accountId))
      : undefined;
    const regions = given.regionIds ? new Set(given.regionIds) : undefined;
    return instances
      .filter((i) => (!accounts || accounts.has(i.accountId)) && (!regions || regions.has(i.regionId)))
      .map(({ accountId, regionId, rdFolderId }) => ({ accountId, regionId, rdFolderId }));
  }

  private startOperation(
    group: StackGroupState,
    action: OperationAction,
    targets: Target[],
    input: OperationInput,
    echo: { accountIds?: string[]; rdFolderIds?: string[]; retainStacks?: boolean },
  ): OperationState {
    const regionOrder = unique(targets.map((t) => t.regionId));
    const operation: OperationState = {
      operationId: randomUUID(),
      stackGroupId: group.stackGroupId,
      stackGroupName: group.stackGroupName,
      regionId: group.regionId,
      action,
      status: 'RUNNING',
      createTime: this.now(),
      ...(input.operationDescription !== undefined && { operationDescription: input.operationDescription }),
      preferences: input.preferences,
      regionOrder,
      ...(echo.accountIds !== undefined && { accountIds: echo.accountIds }),
      ...(echo.rdFolderIds !== undefined && { rdFolderIds: echo.rdFolderIds }),
      ...(echo.retainStacks !== undefined && { retainStacks: echo.retainStacks }),
      timeoutInMinutes: input.timeoutInMinutes ?? DEFAULT_TIMEOUT_IN_MINUTES,
      disableRollback: input.disableRollback ?? false,
      templateBody: group.templateBody,
      parameters: { ...group.parameters },
      permissionModel: group.permissionModel,
      ...(group.administrationRoleName !== undefined && {
        administrationRoleName: group.administrationRoleName,
      }),
      ...(group.executionRoleName !== undefined && { executionRoleName: group.executionRoleName }),
      // Results in the order they run: region by region.
      results: regionOrder.flatMap((r) =>
        targets
          .filter((t) => t.regionId === r)
          .map((t) => ({
            accountId: t.accountId,
            regionId: t.regionId,
            ...(t.rdFolderId !== undefined && { rdFolderId: t.rdFolderId }),
            status: 'PENDING' as const,
          })),
      ),
    };
    this.state.operations[operation.operationId] = operation;
    this.options.store.changed();
    this.runner.start(operation);
    return operation;
  }

  private now(): string {
    return rosTime(this.clock.now());
  }
}

function unique<T>(values: readonly T[]): T[] {
  return [...new Set(values)];
}
