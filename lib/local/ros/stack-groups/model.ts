/**
 * What LocalCloud keeps of ROS stack groups (in the administrator account's part of the state, section
 * `rosStackGroups`): the groups, their instances (one per account and region, each pointing at a real stack in the
 * target account's own StackEngine) and their operations with a result per account and region.
 *
 * Sources (docs/real-cloud.md lists each behaviour with its own):
 * - the `@alicloud/ros20190910` models (CreateStackGroupRequest ... ListStackGroupOperationResultsResponseBody): the
 *   fields, the role defaults, the statuses and the OperationPreferences rules;
 * - "Status of stack group and stack instance operations"
 *   (https://www.alibabacloud.com/help/en/ros/user-guide/status-of-stack-group-and-stack-instance-operations);
 * - the ROS limits page, as /work/shared/reference/real-cloud.md records it: 100 stack groups per account, 2,000
 *   stack instances per stack group.
 */

/** At most this many stack groups per account (ROS limits page). */
export const MAX_STACK_GROUPS_PER_ACCOUNT = 100;
/** At most this many stack instances per stack group (ROS limits page). */
export const MAX_INSTANCES_PER_GROUP = 2000;
/** At most this many RegionIds (and RdFolderIds) in one call (CreateStackInstances, DeleteStackInstances, ...). */
export const MAX_REGIONS_PER_CALL = 20;
export const MAX_FOLDERS_PER_CALL = 20;
/** "Default: AliyunROSStackGroupAdministrationRole" (CreateStackGroupRequest.administrationRoleName). */
export const DEFAULT_ADMINISTRATION_ROLE = 'AliyunROSStackGroupAdministrationRole';
/** "Default: AliyunROSStackGroupExecutionRole" (CreateStackGroupRequest.executionRoleName). */
export const DEFAULT_EXECUTION_ROLE = 'AliyunROSStackGroupExecutionRole';
/** The service that assumes the administration role ("Step 1: Grant self-managed permissions"). */
export const ROS_SERVICE = 'ros.aliyuncs.com';

export type PermissionModel = 'SELF_MANAGED' | 'SERVICE_MANAGED';
export type OperationAction = 'CREATE' | 'UPDATE' | 'DELETE';
export type OperationStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'STOPPING' | 'STOPPED';
/**
 * One account and region's result: PENDING (not started yet, not listed) → RUNNING → SUCCEEDED | FAILED, or
 * CANCELLED (never started: the failure tolerance of its region, or of an earlier region, was exceeded) or STOPPED
 * (never started: StopStackGroupOperation).
 */
export type ResultStatus = 'PENDING' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED' | 'STOPPED';
export type InstanceStatus = 'CURRENT' | 'OUTDATED' | 'INOPERABLE';

export interface AutoDeployment {
  readonly enabled: boolean;
  readonly retainStacksOnAccountRemoval?: boolean;
}

export interface StackGroupState {
  readonly stackGroupId: string;
  readonly stackGroupName: string;
  readonly regionId: string;
  description?: string;
  permissionModel: PermissionModel;
  /** SELF_MANAGED only. */
  administrationRoleName?: string;
  executionRoleName?: string;
  autoDeployment?: AutoDeployment;
  templateBody: string;
  parameters: Record<string, string>;
  readonly createTime: string;
  updateTime?: string;
  status: 'ACTIVE' | 'DELETED';
  tags: { Key: string; Value: string }[];
}

export interface StackInstanceState {
  readonly stackGroupId: string;
  readonly accountId: string;
  readonly regionId: string;
  /** SERVICE_MANAGED: the Resource Directory folder the account was deployed through. */
  readonly rdFolderId?: string;
  /** The instance's stack in the target account, once its creation started. */
  stackId?: string;
  status: InstanceStatus;
  statusReason?: string;
  parameterOverrides: Record<string, string>;
}

/** OperationPreferences as given (at most one of each exclusive pair), with the regions' order. */
export interface OperationPreferences {
  readonly FailureToleranceCount?: number;
  readonly FailureTolerancePercentage?: number;
  readonly MaxConcurrentCount?: number;
  readonly MaxConcurrentPercentage?: number;
  readonly RegionConcurrencyType?: 'SEQUENTIAL' | 'PARALLEL';
}

export interface OperationResult {
  readonly accountId: string;
  readonly regionId: string;
  readonly rdFolderId?: string;
  status: ResultStatus;
  statusReason?: string;
}

export interface OperationState {
  readonly operationId: string;
  readonly stackGroupId: string;
  readonly stackGroupName: string;
  /** The stack group's region (where the operation is listed). */
  readonly regionId: string;
  readonly action: OperationAction;
  status: OperationStatus;
  readonly createTime: string;
  endTime?: string;
  readonly operationDescription?: string;
  readonly preferences: OperationPreferences;
  /** The target regions in the order they run. */
  readonly regionOrder: string[];
  readonly accountIds?: string[];
  readonly rdFolderIds?: string[];
  readonly retainStacks?: boolean;
  readonly timeoutInMinutes: number;
  readonly disableRollback: boolean;
  /** What the instances' stacks are created or updated with (the group's at the time of the call). */
  readonly templateBody: string;
  readonly parameters: Record<string, string>;
  readonly permissionModel: PermissionModel;
  readonly administrationRoleName?: string;
  readonly executionRoleName?: string;
  /** One per account and region, in the order they are given. */
  readonly results: OperationResult[];
  /** StopStackGroupOperation was called. */
  stopRequested?: boolean;
  /** A region's failure tolerance was exceeded: nothing further starts. */
  toleranceExceeded?: boolean;
}

export interface StackGroupsState {
  groups: Record<string, StackGroupState>;
  /** By stack group id, then `<account>/<region>`. */
  instances: Record<string, Record<string, StackInstanceState>>;
  operations: Record<string, OperationState>;
}

export const STATE_SECTION = 'rosStackGroups';

export function instanceKey(accountId: string, regionId: string): string {
  return `${accountId}/${regionId}`;
}

/**
 * A Resource Directory as the stack group service sees it (service-managed permissions): who manages it, whether it
 * is enabled, and which member accounts its folders hold. LocalCloud's Resource Directory provides one.
 */
export interface ResourceDirectoryView {
  /** Whether the directory is enabled (and ROS's trusted access with it). */
  readonly enabled: boolean;
  readonly managementAccountId: string;
  /** The accounts registered as delegated administrators of ROS stack groups. */
  readonly delegatedAdministratorAccountIds: readonly string[];
  /** Whether a folder exists. */
  hasFolder(folderId: string): boolean;
  /** The member accounts in a folder and its subfolders, each with the folder it is directly in. */
  accountsIn(folderId: string): readonly { accountId: string; folderId: string }[];
  /** The folder a member account is directly in, or undefined when it is not a member. */
  folderOf(accountId: string): string | undefined;
}
