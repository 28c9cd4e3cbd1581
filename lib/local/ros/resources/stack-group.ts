/**
 * `ALIYUN::ROS::StackGroup` (https://www.alibabacloud.com/help/en/ros/developer-reference/aliyun-ros-stackgroup): a
 * stack group of the stack's account in the stack's region, made through the account's stack group API (see
 * `stack-group-port.ts`). Every property is documented "Editable: No": any change replaces the group. `Ref` is the
 * group's name; `Fn::GetAtt` gives `StackGroupId` and `StackGroupName`. Deleting it deletes the group, which ROS
 * refuses while it has stack instances (`StackGroupNotEmpty`): a template deletes its `ALIYUN::ROS::StackInstances`
 * first, as they depend on the group.
 *
 * LocalCloud takes the template as `TemplateBody` (an object, or its JSON text); `TemplateURL`, `TemplateId`,
 * `TemplateVersion` and `DynamicTemplateBody` are refused as unsupported. `ResourceGroupId` is accepted and has no
 * effect (LocalCloud's ROS has no resource groups).
 */
import { ApiError } from '../../errors';
import {
  requireString,
  ResourceError,
  type CloudServices,
  type ProvisionContext,
  type Provisioned,
  type ResourceHandler,
} from './handler';
import type { StackGroupPort } from './stack-group-port';

/** `ALIYUN::ROS::StackGroup`: one stack group, named `StackGroupName`. */
export class StackGroupHandler implements ResourceHandler {
  readonly replacementProperties = '*';
  constructor(private readonly cloud: CloudServices) {}

  async create(ctx: ProvisionContext, p: Record<string, unknown>): Promise<Provisioned> {
    const stackGroupName = requireString(p, 'StackGroupName');
    for (const unsupported of ['TemplateURL', 'TemplateId', 'TemplateVersion', 'DynamicTemplateBody']) {
      if (p[unsupported] !== undefined) {
        throw new ResourceError(
          `${unsupported} is not supported by LocalCloud: give the template as TemplateBody`,
        );
      }
    }
    const group = callStackGroups(() =>
      stackGroupsOf(this.cloud).create({
        regionId: ctx.regionId,
        stackGroupName,
        ...(p.Description !== undefined && { description: String(p.Description) }),
        templateBody: templateBody(p.TemplateBody),
        parameters: stringMap(p, 'Parameters'),
        permissionModel: permissionModel(p.PermissionModel),
        ...(p.AdministrationRoleName !== undefined && {
          administrationRoleName: String(p.AdministrationRoleName),
        }),
        ...(p.ExecutionRoleName !== undefined && { executionRoleName: String(p.ExecutionRoleName) }),
        ...(p.AutoDeployment !== undefined && { autoDeployment: autoDeployment(p.AutoDeployment) }),
        tags: [],
      }),
    );
    return {
      physicalId: group.stackGroupName,
      attributes: { StackGroupId: group.stackGroupId, StackGroupName: group.stackGroupName },
    };
  }

  async update(): Promise<Provisioned> {
    throw new ResourceError('ALIYUN::ROS::StackGroup has no property that can be updated in place');
  }

  async delete(ctx: ProvisionContext, current: Provisioned | undefined): Promise<void> {
    if (!current) {
      return; // a group whose creation failed was not created
    }
    try {
      stackGroupsOf(this.cloud).delete(ctx.regionId, current.physicalId);
    } catch (err) {
      if (err instanceof ApiError && err.code === 'StackGroupNotFound') {
        return;
      }
      throw asResourceError(err);
    }
  }
}

/** The account's stack groups, which LocalCloud gives every account's resource types. */
export function stackGroupsOf(cloud: CloudServices): StackGroupPort {
  const port = cloud.stackGroups?.();
  if (!port) {
    throw new ResourceError('this LocalCloud account has no stack groups');
  }
  return port;
}

/** Runs a stack group call; an API refusal becomes the resource's failure, with its code. */
export function callStackGroups<T>(call: () => T): T {
  try {
    return call();
  } catch (err) {
    throw asResourceError(err);
  }
}

export function asResourceError(err: unknown): Error {
  if (err instanceof ApiError) {
    return new ResourceError(`${err.code}: ${err.message}`);
  }
  return err as Error;
}

/** A map property of string values (`Parameters`, `ParameterOverrides`): numbers and booleans become text. */
export function stringMap(p: Record<string, unknown>, name: string): Record<string, string> {
  const value = p[name];
  if (value === undefined) {
    return {};
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ResourceError(
      `${name} must be a map of parameter names to values, got ${JSON.stringify(value)}`,
    );
  }
  return Object.fromEntries(
    Object.entries(value).map(([key, v]) => {
      if (typeof v === 'object' && v !== null) {
        throw new ResourceError(
          `${name}.${key} must be a string, number or boolean, got ${JSON.stringify(v)}`,
        );
      }
      return [key, String(v)];
    }),
  );
}

function templateBody(value: unknown): string {
  if (typeof value === 'string' && value !== '') {
    return value;
  }
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    return JSON.stringify(value);
  }
  throw new ResourceError(
    `TemplateBody is required (LocalCloud takes no TemplateURL or TemplateId) and must be a template object, got ${JSON.stringify(value)}`,
  );
}

function permissionModel(value: unknown): 'SELF_MANAGED' | 'SERVICE_MANAGED' {
  if (value === undefined) {
    return 'SELF_MANAGED';
  }
  if (value === 'SELF_MANAGED' || value === 'SERVICE_MANAGED') {
    return value;
  }
  throw new ResourceError(
    `PermissionModel must be SELF_MANAGED or SERVICE_MANAGED, got ${JSON.stringify(value)}`,
  );
}

function autoDeployment(value: unknown): { enabled: boolean; retainStacksOnAccountRemoval?: boolean } {
  const given = value as { Enabled?: unknown; RetainStacksOnAccountRemoval?: unknown } | null;
  const flag = (v: unknown) => v === true || v === 'true';
  if (!given || typeof given !== 'object' || given.Enabled === undefined) {
    throw new ResourceError(`AutoDeployment needs Enabled (true or false), got ${JSON.stringify(value)}`);
  }
  return {
    enabled: flag(given.Enabled),
    ...(given.RetainStacksOnAccountRemoval !== undefined && {
      retainStacksOnAccountRemoval: flag(given.RetainStacksOnAccountRemoval),
    }),
  };
}
