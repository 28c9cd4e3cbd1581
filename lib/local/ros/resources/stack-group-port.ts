/**
 * What the `ALIYUN::ROS::StackGroup` and `ALIYUN::ROS::StackInstances` resource types need of their account's stack
 * groups. The account's `StackGroups` (`lib/local/ros/stack-groups/`) provides it; declared here so that the resource
 * types do not import the stack group model (which imports the stack engine, which imports the resource types).
 */

export interface StackGroupRef {
  readonly stackGroupId: string;
  readonly stackGroupName: string;
}

export interface StackGroupOperationView {
  readonly operationId: string;
  readonly status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'STOPPING' | 'STOPPED';
  readonly results: readonly {
    readonly accountId: string;
    readonly regionId: string;
    readonly status: string;
    readonly statusReason?: string;
  }[];
}

export interface StackGroupPreferences {
  readonly FailureToleranceCount?: number;
  readonly FailureTolerancePercentage?: number;
  readonly MaxConcurrentCount?: number;
  readonly MaxConcurrentPercentage?: number;
  readonly RegionConcurrencyType?: 'SEQUENTIAL' | 'PARALLEL';
}

export interface StackGroupTargets {
  readonly accountIds?: string[];
  readonly rdFolderIds?: string[];
  readonly targetAccountIds?: string[];
  readonly regionIds: string[];
}

export interface StackGroupOperationInput {
  readonly operationDescription?: string;
  readonly preferences: StackGroupPreferences;
  readonly timeoutInMinutes?: number;
  readonly disableRollback?: boolean;
}

/** The stack group API of one administrator account, as the resource types call it (ApiError on refusal). */
export interface StackGroupPort {
  create(input: {
    readonly regionId: string;
    readonly stackGroupName: string;
    readonly description?: string;
    readonly templateBody: string;
    readonly parameters: Record<string, string>;
    readonly permissionModel: 'SELF_MANAGED' | 'SERVICE_MANAGED';
    readonly administrationRoleName?: string;
    readonly executionRoleName?: string;
    readonly autoDeployment?: { readonly enabled: boolean; readonly retainStacksOnAccountRemoval?: boolean };
    readonly tags: { Key: string; Value: string }[];
  }): StackGroupRef;
  get(regionId: string, stackGroupName: string): StackGroupRef;
  delete(regionId: string, stackGroupName: string): void;
  createInstances(
    regionId: string,
    stackGroupName: string,
    targets: StackGroupTargets,
    overrides: Record<string, string>,
    input: StackGroupOperationInput,
  ): StackGroupOperationView;
  deleteInstances(
    regionId: string,
    stackGroupName: string,
    targets: StackGroupTargets,
    retainStacks: boolean,
    input: StackGroupOperationInput,
  ): StackGroupOperationView;
  operation(regionId: string, operationId: string): StackGroupOperationView;
  instancesOf(
    group: StackGroupRef,
  ): readonly { readonly accountId: string; readonly regionId: string; readonly stackId?: string }[];
}
