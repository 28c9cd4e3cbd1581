/**
 * The stack group answers as the `@alicloud/ros20190910` response models read them (GetStackGroupResponseBody,
 * ListStackGroupsResponseBody, GetStackInstanceResponseBody, ListStackInstancesResponseBody,
 * GetStackGroupOperationResponseBody, ListStackGroupOperationsResponseBody,
 * ListStackGroupOperationResultsResponseBody).
 */
import type { StackEngine, StackState } from '../engine';
import type { OperationResult, OperationState, StackGroupState, StackInstanceState } from './model';

/** GetStackGroup's fields; `RdFolderIds`: the folders a service-managed group's instances were deployed through. */
export function stackGroupDetail(
  group: StackGroupState,
  instances: StackInstanceState[],
): Record<string, unknown> {
  const folders = [...new Set(instances.flatMap((i) => (i.rdFolderId === undefined ? [] : [i.rdFolderId])))];
  return {
    StackGroupId: group.stackGroupId,
    StackGroupName: group.stackGroupName,
    Description: group.description,
    Status: group.status,
    PermissionModel: group.permissionModel,
    AdministrationRoleName: group.administrationRoleName,
    ExecutionRoleName: group.executionRoleName,
    ...(group.autoDeployment && { AutoDeployment: autoDeployment(group) }),
    ...(group.permissionModel === 'SERVICE_MANAGED' && { RdFolderIds: folders }),
    TemplateBody: group.templateBody,
    Parameters: Object.entries(group.parameters).map(([ParameterKey, ParameterValue]) => ({
      ParameterKey,
      ParameterValue,
    })),
    CreateTime: group.createTime,
    UpdateTime: group.updateTime,
  };
}

export function stackGroupSummary(group: StackGroupState): Record<string, unknown> {
  return {
    StackGroupId: group.stackGroupId,
    StackGroupName: group.stackGroupName,
    Description: group.description,
    Status: group.status,
    PermissionModel: group.permissionModel,
    ...(group.autoDeployment && { AutoDeployment: autoDeployment(group) }),
    CreateTime: group.createTime,
    UpdateTime: group.updateTime,
    Tags: group.tags,
  };
}

function autoDeployment(group: StackGroupState) {
  return {
    Enabled: group.autoDeployment!.enabled,
    ...(group.autoDeployment!.retainStacksOnAccountRemoval !== undefined && {
      RetainStacksOnAccountRemoval: group.autoDeployment!.retainStacksOnAccountRemoval,
    }),
  };
}

/** ListStackInstances' fields (StackId "returned only if the stack is in the CURRENT state"). */
export function stackInstanceSummary(
  group: StackGroupState,
  instance: StackInstanceState,
): Record<string, unknown> {
  return {
    StackGroupId: group.stackGroupId,
    StackGroupName: group.stackGroupName,
    AccountId: instance.accountId,
    RegionId: instance.regionId,
    ...(instance.rdFolderId !== undefined && { RdFolderId: instance.rdFolderId }),
    Status: instance.status,
    ...(instance.status === 'OUTDATED' &&
      instance.statusReason !== undefined && { StatusReason: instance.statusReason }),
    ...(instance.stackId !== undefined && { StackId: instance.stackId }),
  };
}

/** GetStackInstance's fields, with the stack's outputs (NoEcho masked) when asked. */
export function stackInstanceDetail(
  group: StackGroupState,
  instance: StackInstanceState,
  outputsOf?: { engine: StackEngine; stack: StackState },
): Record<string, unknown> {
  return {
    ...stackInstanceSummary(group, instance),
    ParameterOverrides: Object.entries(instance.parameterOverrides).map(([ParameterKey, ParameterValue]) => ({
      ParameterKey,
      ParameterValue,
    })),
    ...(outputsOf && { Outputs: outputsOf.engine.visibleOutputs(outputsOf.stack) }),
  };
}

export function operationSummary(operation: OperationState): Record<string, unknown> {
  return {
    OperationId: operation.operationId,
    StackGroupId: operation.stackGroupId,
    StackGroupName: operation.stackGroupName,
    Action: operation.action,
    Status: operation.status,
    CreateTime: operation.createTime,
    EndTime: operation.endTime,
    OperationDescription: operation.operationDescription,
  };
}

export function operationDetail(operation: OperationState): Record<string, unknown> {
  return {
    ...operationSummary(operation),
    OperationPreferences: { ...operation.preferences, RegionIdsOrder: operation.regionOrder },
    ...(operation.retainStacks !== undefined && { RetainStacks: operation.retainStacks }),
    AdministrationRoleName: operation.administrationRoleName,
    ExecutionRoleName: operation.executionRoleName,
    ...((operation.accountIds !== undefined || operation.rdFolderIds !== undefined) && {
      DeploymentTargets: {
        ...(operation.accountIds !== undefined && { AccountIds: operation.accountIds }),
        ...(operation.rdFolderIds !== undefined && { RdFolderIds: operation.rdFolderIds }),
      },
    }),
  };
}

export function operationResult(result: OperationResult): Record<string, unknown> {
  return {
    AccountId: result.accountId,
    RegionId: result.regionId,
    ...(result.rdFolderId !== undefined && { RdFolderId: result.rdFolderId }),
    Status: result.status,
    ...(result.statusReason !== undefined && { StatusReason: result.statusReason }),
  };
}
