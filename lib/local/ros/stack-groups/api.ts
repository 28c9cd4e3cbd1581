/**
 * The stack group actions of the ROS API (2019-09-10) as the `@alicloud/ros20190910` client sends them: list
 * parameters of the *Shrink* requests JSON-encoded (`AccountIds='["1..."]'`, `RegionIds`, `DeploymentTargets`,
 * `OperationPreferences`, `AutoDeployment`), `Parameters.N.*` and `ParameterOverrides.N.*` indexed. Each action's
 * RAM resource is its stack group (`acs:ros:<region>:<account>:stackgroup/<name>`) or its operation
 * (`acs:ros:<region>:<account>:stackgroupoperation/<id>`), as the actions' RAM tables give them.
 */
import { ApiError } from '../../errors';
import type { ClientTokens } from '../client-tokens';
import {
  booleanParam,
  clientTokenParam,
  indexedPairs,
  invalid,
  paging,
  requireParam,
  RESOURCE_NAME,
  tagsParam,
  templateBody,
  timeoutParam,
} from '../params';
import {
  MAX_FOLDERS_PER_CALL,
  MAX_REGIONS_PER_CALL,
  type AutoDeployment,
  type PermissionModel,
} from './model';
import { operationPreferencesParam } from './preferences';
import {
  operationDetail,
  operationResult,
  operationSummary,
  stackGroupDetail,
  stackGroupSummary,
  stackInstanceDetail,
  stackInstanceSummary,
} from './responses';
import type { OperationInput, StackGroups, TargetsInput } from './stack-groups';

type Action = (region: string, p: Record<string, string>) => Record<string, unknown>;

export interface StackGroupApiOptions {
  /** The regions LocalCloud serves (target RegionIds must be among them). */
  readonly regions: () => readonly string[];
  /** At most this many account ids in one call (variant `stackGroupAccountsPerCall`). */
  readonly accountsPerCall: () => number;
}

/** The actions that act on a stack group operation rather than on a stack group. */
const OPERATION_ACTIONS = [
  'GetStackGroupOperation',
  'ListStackGroupOperationResults',
  'StopStackGroupOperation',
];

/** The stack group actions, to be merged into the ROS service's, and the RAM resource of each call. */
export function stackGroupActions(
  groups: StackGroups,
  tokens: ClientTokens,
  options: StackGroupApiOptions,
): {
  actions: Record<string, Action>;
  resourceOf: (
    action: string,
    region: string,
    accountId: string,
    p: Record<string, string>,
  ) => string | undefined;
} {
  const targets = (p: Record<string, string>, regionsRequired = true): TargetsInput => {
    const accountIds = jsonList(p, 'AccountIds', options.accountsPerCall());
    const deployment = deploymentTargets(p, options.accountsPerCall());
    if (accountIds !== undefined && deployment !== undefined) {
      throw invalid('AccountIds', accountIds, 'only one of AccountIds and DeploymentTargets may be given');
    }
    const regionIds = regionsRequired
      ? requireList(p, 'RegionIds', MAX_REGIONS_PER_CALL)
      : (jsonList(p, 'RegionIds', MAX_REGIONS_PER_CALL) ?? []);
    const known = options.regions();
    for (const regionId of regionIds) {
      if (!known.includes(regionId)) {
        throw invalid('RegionIds', regionId, `not a region (expected one of ${known.join(', ')})`);
      }
    }
    return {
      ...(accountIds !== undefined && { accountIds }),
      ...(deployment?.rdFolderIds !== undefined && { rdFolderIds: deployment.rdFolderIds }),
      ...(deployment?.accountIds !== undefined && { targetAccountIds: deployment.accountIds }),
      regionIds,
    };
  };

  const operationInput = (p: Record<string, string>): OperationInput => {
    const description = p.OperationDescription;
    if (description !== undefined && (description.length < 1 || description.length > 256)) {
      throw invalid('OperationDescription', description, '1 to 256 characters');
    }
    const timeoutInMinutes = timeoutParam(p);
    const disableRollback = booleanParam(p, 'DisableRollback');
    return {
      ...(description !== undefined && { operationDescription: description }),
      preferences: operationPreferencesParam(p),
      ...(timeoutInMinutes !== undefined && { timeoutInMinutes }),
      ...(disableRollback !== undefined && { disableRollback }),
    };
  };

  const overrides = (p: Record<string, string>) =>
    indexedPairs(p, 'ParameterOverrides', 'ParameterKey', 'ParameterValue');

  const actions: Record<string, Action> = {
    CreateStackGroup: (region, p) => {
      const stackGroupName = groupNameParam(p);
      const permissionModel = permissionModelParam(p) ?? 'SELF_MANAGED';
      if (p.StackArn !== undefined) {
        throw new ApiError(
          'NotSupported',
          'LocalCloud does not create stack groups from a stack (StackArn).',
          400,
        );
      }
      const input = {
        regionId: region,
        stackGroupName,
        ...descriptionParam(p),
        templateBody: templateBody(p),
        parameters: indexedPairs(p, 'Parameters', 'ParameterKey', 'ParameterValue'),
        permissionModel,
        ...(permissionModel === 'SELF_MANAGED' && {
          ...roleParam(p, 'AdministrationRoleName'),
          ...roleParam(p, 'ExecutionRoleName'),
        }),
        ...autoDeploymentParam(p, permissionModel),
        tags: tagsParam(p),
      };
      return tokens.once('CreateStackGroup', clientTokenParam(p), input, () => ({
        StackGroupId: groups.create(input).stackGroupId,
      }));
    },

    GetStackGroup: (region, p) => {
      const group = groups.get(region, groupNameParam(p));
      return { StackGroup: stackGroupDetail(group, groups.instancesOf(group)) };
    },

    ListStackGroups: (region, p) => {
      const status = p.Status;
      if (status !== undefined && status !== 'ACTIVE' && status !== 'DELETED') {
        throw invalid('Status', status, 'ACTIVE or DELETED');
      }
      const { pageNumber, pageSize } = paging(p, 10, 50);
      const list = groups.list(region, status);
      return {
        PageNumber: pageNumber,
        PageSize: pageSize,
        TotalCount: list.length,
        StackGroups: list.slice((pageNumber - 1) * pageSize, pageNumber * pageSize).map(stackGroupSummary),
      };
    },

    DeleteStackGroup: (region, p) => {
      groups.delete(region, groupNameParam(p));
      return {};
    },

    UpdateStackGroup: (region, p) => {
      const stackGroupName = groupNameParam(p);
      const hasTemplate =
        p.TemplateBody !== undefined || p.TemplateURL !== undefined || p.TemplateId !== undefined;
      const hasParameters = Object.keys(p).some((k) => k.startsWith('Parameters.'));
      const permissionModel = permissionModelParam(p);
      const given = targets(p, false);
      const input = {
        ...descriptionParam(p),
        ...(hasTemplate && { templateBody: templateBody(p) }),
        ...(hasParameters && { parameters: indexedPairs(p, 'Parameters', 'ParameterKey', 'ParameterValue') }),
        ...(permissionModel !== undefined && { permissionModel }),
        ...roleParam(p, 'AdministrationRoleName'),
        ...roleParam(p, 'ExecutionRoleName'),
        // The group's own model is not known here: AutoDeployment's model rule is checked by CreateStackGroup.
        ...autoDeploymentParam(p, permissionModel ?? 'SERVICE_MANAGED'),
        ...operationInput(p),
        targets: {
          ...given,
          ...(p.RegionIds === undefined && { regionIds: undefined }),
        },
      };
      return tokens.once('UpdateStackGroup', clientTokenParam(p), { region, stackGroupName, input }, () => ({
        OperationId: groups.update(region, stackGroupName, input).operationId,
      }));
    },

    CreateStackInstances: (region, p) => {
      const stackGroupName = groupNameParam(p);
      const input = { targets: targets(p), overrides: overrides(p), operation: operationInput(p) };
      return tokens.once(
        'CreateStackInstances',
        clientTokenParam(p),
        { region, stackGroupName, input },
        () => ({
          OperationId: groups.createInstances(
            region,
            stackGroupName,
            input.targets,
            input.overrides,
            input.operation,
          ).operationId,
        }),
      );
    },

    UpdateStackInstances: (region, p) => {
      const stackGroupName = groupNameParam(p);
      const input = { targets: targets(p), overrides: overrides(p), operation: operationInput(p) };
      return tokens.once(
        'UpdateStackInstances',
        clientTokenParam(p),
        { region, stackGroupName, input },
        () => ({
          OperationId: groups.updateInstances(
            region,
            stackGroupName,
            input.targets,
            input.overrides,
            input.operation,
          ).operationId,
        }),
      );
    },

    DeleteStackInstances: (region, p) => {
      const stackGroupName = groupNameParam(p);
      const retainStacks = booleanParam(p, 'RetainStacks');
      if (retainStacks === undefined) {
        // "RetainStacks ... This parameter is required" (DeleteStackInstancesRequest).
        requireParam(p, 'RetainStacks');
      }
      const input = { targets: targets(p), retainStacks: retainStacks!, operation: operationInput(p) };
      return tokens.once(
        'DeleteStackInstances',
        clientTokenParam(p),
        { region, stackGroupName, input },
        () => ({
          OperationId: groups.deleteInstances(
            region,
            stackGroupName,
            input.targets,
            input.retainStacks,
            input.operation,
          ).operationId,
        }),
      );
    },

    ListStackInstances: (region, p) => {
      const group = groups.get(region, groupNameParam(p));
      const { pageNumber, pageSize } = paging(p, 10, 50);
      const list = groups
        .instancesOf(group)
        .filter((i) => p.StackInstanceAccountId === undefined || i.accountId === p.StackInstanceAccountId)
        .filter((i) => p.StackInstanceRegionId === undefined || i.regionId === p.StackInstanceRegionId);
      return {
        PageNumber: pageNumber,
        PageSize: pageSize,
        TotalCount: list.length,
        StackInstances: list
          .slice((pageNumber - 1) * pageSize, pageNumber * pageSize)
          .map((i) => stackInstanceSummary(group, i)),
      };
    },

    GetStackInstance: (region, p) => {
      const group = groups.get(region, groupNameParam(p));
      const instance = groups.instance(
        group,
        requireParam(p, 'StackInstanceAccountId'),
        requireParam(p, 'StackInstanceRegionId'),
      );
      const option = p.OutputOption ?? 'Disabled';
      if (option !== 'Enabled' && option !== 'Disabled') {
        throw invalid('OutputOption', option, 'Enabled or Disabled');
      }
      const stack = option === 'Enabled' ? groups.stackOf(instance) : undefined;
      const engine = stack && groups.engineOf(instance);
      return {
        StackInstance: stackInstanceDetail(group, instance, stack && engine ? { engine, stack } : undefined),
      };
    },

    GetStackGroupOperation: (region, p) => ({
      StackGroupOperation: operationDetail(groups.operation(region, requireParam(p, 'OperationId'))),
    }),

    ListStackGroupOperations: (region, p) => {
      const group = groups.get(region, groupNameParam(p));
      const { pageNumber, pageSize } = paging(p, 10, 50);
      const list = groups.operationsOf(group);
      return {
        PageNumber: pageNumber,
        PageSize: pageSize,
        TotalCount: list.length,
        StackGroupOperations: list
          .slice((pageNumber - 1) * pageSize, pageNumber * pageSize)
          .map(operationSummary),
      };
    },

    ListStackGroupOperationResults: (region, p) => {
      const operation = groups.operation(region, requireParam(p, 'OperationId'));
      const { pageNumber, pageSize } = paging(p, 10, 50);
      const list = operation.results.filter((r) => r.status !== 'PENDING');
      return {
        PageNumber: pageNumber,
        PageSize: pageSize,
        TotalCount: list.length,
        StackGroupOperationResults: list
          .slice((pageNumber - 1) * pageSize, pageNumber * pageSize)
          .map(operationResult),
      };
    },

    StopStackGroupOperation: (region, p) => {
      groups.stop(region, requireParam(p, 'OperationId'));
      return {};
    },
  };

  const resourceOf = (action: string, region: string, accountId: string, p: Record<string, string>) => {
    if (!(action in actions)) {
      return undefined;
    }
    if (OPERATION_ACTIONS.includes(action)) {
      return `acs:ros:${region}:${accountId}:stackgroupoperation/${p.OperationId ?? '*'}`;
    }
    return `acs:ros:${region}:${accountId}:stackgroup/${p.StackGroupName ?? '*'}`;
  };
  return { actions, resourceOf };
}

function groupNameParam(p: Record<string, string>): string {
  const name = requireParam(p, 'StackGroupName');
  if (!RESOURCE_NAME.test(name)) {
    throw invalid(
      'StackGroupName',
      name,
      'up to 255 letters, digits, _ or -, starting with a letter or digit',
    );
  }
  return name;
}

function descriptionParam(p: Record<string, string>): { description?: string } {
  const description = p.Description;
  if (description === undefined) {
    return {};
  }
  if (description.length < 1 || description.length > 256) {
    throw invalid('Description', description, '1 to 256 characters');
  }
  return { description };
}

function permissionModelParam(p: Record<string, string>): PermissionModel | undefined {
  const model = p.PermissionModel;
  if (model !== undefined && model !== 'SELF_MANAGED' && model !== 'SERVICE_MANAGED') {
    throw invalid('PermissionModel', model, 'SELF_MANAGED or SERVICE_MANAGED');
  }
  return model;
}

/** AdministrationRoleName / ExecutionRoleName: "1 to 64 characters. Can contain letters, digits, and hyphens". */
function roleParam(p: Record<string, string>, name: 'AdministrationRoleName' | 'ExecutionRoleName') {
  const value = p[name];
  if (value === undefined) {
    return {};
  }
  if (!/^[A-Za-z0-9-]{1,64}$/.test(value)) {
    throw invalid(name, value, '1 to 64 letters, digits or hyphens');
  }
  return name === 'AdministrationRoleName' ? { administrationRoleName: value } : { executionRoleName: value };
}

/**
 * AutoDeployment (JSON `{"Enabled": true, "RetainStacksOnAccountRemoval": true}`): service-managed only, and
 * "You must specify RetainStacksOnAccountRemoval if Enabled is true".
 */
function autoDeploymentParam(
  p: Record<string, string>,
  permissionModel: PermissionModel,
): { autoDeployment?: AutoDeployment } {
  const text = p.AutoDeployment;
  if (text === undefined) {
    return {};
  }
  const value = parseJson(text, 'AutoDeployment');
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalid(
      'AutoDeployment',
      text,
      'a JSON object {"Enabled": true|false, "RetainStacksOnAccountRemoval": ...}',
    );
  }
  const { Enabled, RetainStacksOnAccountRemoval, ...rest } = value as Record<string, unknown>;
  if (Object.keys(rest).length > 0) {
    throw invalid('AutoDeployment', text, `unknown keys ${Object.keys(rest).join(', ')}`);
  }
  if (typeof Enabled !== 'boolean') {
    throw invalid('AutoDeployment.Enabled', Enabled, 'true or false');
  }
  if (RetainStacksOnAccountRemoval !== undefined && typeof RetainStacksOnAccountRemoval !== 'boolean') {
    throw invalid(
      'AutoDeployment.RetainStacksOnAccountRemoval',
      RetainStacksOnAccountRemoval,
      'true or false',
    );
  }
  if (Enabled && RetainStacksOnAccountRemoval === undefined) {
    throw invalid(
      'AutoDeployment.RetainStacksOnAccountRemoval',
      undefined,
      'required when AutoDeployment.Enabled is true',
    );
  }
  if (permissionModel !== 'SERVICE_MANAGED') {
    throw invalid(
      'AutoDeployment',
      text,
      'applies only to service-managed stack groups (PermissionModel SERVICE_MANAGED)',
    );
  }
  return {
    autoDeployment: {
      enabled: Enabled,
      ...(RetainStacksOnAccountRemoval !== undefined && {
        retainStacksOnAccountRemoval: RetainStacksOnAccountRemoval,
      }),
    },
  };
}

function parseJson(text: string, name: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw invalid(name, text, 'JSON');
  }
}

/** A JSON list of strings (`["a","b"]`) of at most `max` entries, or undefined when the parameter is absent. */
function jsonList(p: Record<string, string>, name: string, max: number): string[] | undefined {
  const text = p[name];
  return text === undefined ? undefined : checkList(parseJson(text, name), name, max);
}

function requireList(p: Record<string, string>, name: string, max: number): string[] {
  const list = jsonList(p, name, max);
  if (list === undefined || list.length === 0) {
    requireParam({}, name);
  }
  return list!;
}

function checkList(value: unknown, name: string, max: number): string[] {
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string' || v === '')) {
    throw invalid(name, value, 'a JSON list of strings, e.g. ["a","b"]');
  }
  if (value.length > max) {
    throw invalid(name, `${value.length} entries`, `at most ${max} per call`);
  }
  return value as string[];
}

/** DeploymentTargets (JSON `{"RdFolderIds": [...], "AccountIds": [...]}`), or undefined when absent. */
function deploymentTargets(
  p: Record<string, string>,
  maxAccounts: number,
): { rdFolderIds?: string[]; accountIds?: string[] } | undefined {
  const text = p.DeploymentTargets;
  if (text === undefined) {
    return undefined;
  }
  const value = parseJson(text, 'DeploymentTargets');
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalid('DeploymentTargets', text, 'a JSON object {"RdFolderIds": [...], "AccountIds": [...]}');
  }
  const { RdFolderIds, AccountIds, ...rest } = value as Record<string, unknown>;
  if (Object.keys(rest).length > 0) {
    throw invalid('DeploymentTargets', text, `unknown keys ${Object.keys(rest).join(', ')}`);
  }
  return {
    ...(RdFolderIds !== undefined && {
      rdFolderIds: checkList(RdFolderIds, 'DeploymentTargets.RdFolderIds', MAX_FOLDERS_PER_CALL),
    }),
    ...(AccountIds !== undefined && {
      accountIds: checkList(AccountIds, 'DeploymentTargets.AccountIds', maxAccounts),
    }),
  };
}
