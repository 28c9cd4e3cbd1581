/**
 * The answers of the ROS API (2019-09-10) as the `@alicloud/ros20190910` response models read them: a stack
 * (GetStack, ListStacks), its resources (ListStackResources, GetStackResource), a template (ValidateTemplate) and a
 * change set (ListChangeSets, GetChangeSet), NoEcho values masked wherever they would show.
 */
import type { ChangeSetState } from './change-sets';
import { DEFAULT_TIMEOUT_IN_MINUTES, type StackEngine, type StackState } from './engine';
import { MASK, resolveParameters, type Template } from './template';

/** GetStack's fields of a stack (`withOutputs`: unless `OutputOption` is `Disabled`). */
export function stackDetail(
  engine: StackEngine,
  stack: StackState,
  withOutputs: boolean,
): Record<string, unknown> {
  const template = engine.template(stack);
  return {
    StackId: stack.stackId,
    StackName: stack.stackName,
    Status: stack.status,
    StatusReason: stack.statusReason,
    RegionId: stack.regionId,
    Description: template.Description,
    TemplateDescription: template.Description,
    CreateTime: stack.createTime,
    UpdateTime: stack.updateTime,
    DeletionProtection: stack.deletionProtection,
    DisableRollback: stack.disableRollback,
    TimeoutInMinutes: stack.timeoutInMinutes,
    Tags: stack.tags,
    Parameters: stackParameters(stack, template),
    ...(withOutputs && stack.outputs.length > 0 && { Outputs: engine.visibleOutputs(stack) }),
  };
}

/** ListStacks' fields of a stack. */
export function stackSummary(stack: StackState): Record<string, unknown> {
  return {
    StackId: stack.stackId,
    StackName: stack.stackName,
    Status: stack.status,
    StatusReason: stack.statusReason,
    RegionId: stack.regionId,
    CreateTime: stack.createTime,
    UpdateTime: stack.updateTime,
    TimeoutInMinutes: stack.timeoutInMinutes,
    DisableRollback: stack.disableRollback,
    Tags: stack.tags,
  };
}

/** ListStackResources' and GetStackResource's fields of a resource. */
export function resourceDetail(stack: StackState, logicalId: string): Record<string, unknown> {
  const r = stack.resources[logicalId];
  return {
    StackId: stack.stackId,
    StackName: stack.stackName,
    LogicalResourceId: r.logicalId,
    PhysicalResourceId: r.physicalId ?? '',
    ResourceType: r.type,
    Status: r.status,
    StatusReason: r.statusReason ?? '',
    CreateTime: r.createTime,
    UpdateTime: r.updateTime ?? r.createTime,
  };
}

/** ValidateTemplate's description of a template: its parameters (NoEcho defaults masked) and outputs. */
export function templateSummary(template: Template): Record<string, unknown> {
  return {
    Description: template.Description,
    Parameters: Object.entries(template.Parameters).map(([key, def]) => ({
      ParameterKey: key,
      Type: def.Type,
      ...(def.Default !== undefined && { DefaultValue: def.NoEcho ? MASK : def.Default }),
      ...(def.AllowedValues && { AllowedValues: def.AllowedValues }),
      ...(def.Description !== undefined && { Description: def.Description }),
      NoEcho: def.NoEcho === true,
    })),
    Outputs: Object.entries(template.Outputs).map(([key, def]) => ({
      OutputKey: key,
      Description: def.Description,
    })),
  };
}

/** ListChangeSets' fields of a change set. */
export function changeSetSummary(changeSet: ChangeSetState): Record<string, unknown> {
  return {
    ChangeSetId: changeSet.changeSetId,
    ChangeSetName: changeSet.changeSetName,
    ChangeSetType: changeSet.changeSetType,
    CreateTime: changeSet.createTime,
    ...(changeSet.description !== undefined && { Description: changeSet.description }),
    ExecutionStatus: changeSet.executionStatus,
    RegionId: changeSet.regionId,
    StackId: changeSet.stackId,
    StackName: changeSet.stackName,
    Status: changeSet.status,
    StatusReason: changeSet.statusReason,
    Tags: changeSet.tags ?? [],
  };
}

/** GetChangeSet's fields: the summary, the operation's settings, its parameters (NoEcho masked) and changes. */
export function changeSetDetail(
  changeSet: ChangeSetState,
  engine: StackEngine,
  withTemplate: boolean,
): Record<string, unknown> {
  return {
    ...changeSetSummary(changeSet),
    TimeoutInMinutes: changeSet.timeoutInMinutes ?? DEFAULT_TIMEOUT_IN_MINUTES,
    DisableRollback: changeSet.disableRollback,
    Parameters: changeSetParameters(changeSet, engine),
    Changes: changeSet.changes,
    ...(withTemplate && { TemplateBody: changeSet.templateBody }),
  };
}

/** A stack's parameters as GetStack shows them: resolved, NoEcho masked (as given when they no longer resolve). */
function stackParameters(stack: StackState, template: Template) {
  try {
    const resolved = resolveParameters(template, stack.parameters, {
      region: stack.regionId,
      accountId: '',
      stackId: stack.stackId,
      stackName: stack.stackName,
    });
    return Object.entries(resolved.strings).map(([ParameterKey, value]) => ({
      ParameterKey,
      ParameterValue: resolved.noEcho.has(ParameterKey) ? MASK : value,
    }));
  } catch {
    return Object.entries(stack.parameters).map(([ParameterKey, ParameterValue]) => ({
      ParameterKey,
      ParameterValue,
    }));
  }
}

/** The pseudo parameters and the template's parameters, as the GetChangeSet sample response lists them. */
function changeSetParameters(
  changeSet: ChangeSetState,
  engine: StackEngine,
): { ParameterKey: string; ParameterValue: string }[] {
  const stack = engine.get(changeSet.regionId, changeSet.stackId);
  const entry = (ParameterKey: string, ParameterValue: string) => ({ ParameterKey, ParameterValue });
  try {
    const { parameters } = engine.planFor(stack, changeSet.templateBody, changeSet.parameters).plan;
    return [
      entry('ALIYUN::AccountId', parameters.pseudo.accountId),
      entry('ALIYUN::NoValue', 'None'),
      entry('ALIYUN::Region', parameters.pseudo.region),
      entry('ALIYUN::StackId', parameters.pseudo.stackId),
      entry('ALIYUN::StackName', parameters.pseudo.stackName),
      ...Object.entries(parameters.strings).map(([key, value]) =>
        entry(key, parameters.noEcho.has(key) ? MASK : value),
      ),
    ];
  } catch {
    // A change set whose parameters no longer fit (it failed for that): show what was given, nothing unmasked.
    return Object.keys(changeSet.parameters).map((key) => entry(key, MASK));
  }
}
