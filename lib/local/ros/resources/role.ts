/**
 * `ALIYUN::RAM::Role` (https://www.alibabacloud.com/help/en/ros/developer-reference/aliyun-ram-role): creates or
 * replaces a role in LocalCloud's RAM with its trust policy and inline policies; a new `RoleName` replaces it.
 */
import { randomInt } from 'crypto';
import type { PolicyDocument } from '../../ram';
import {
  optionalList,
  requireString,
  ResourceError,
  type CloudServices,
  type ProvisionContext,
  type Provisioned,
  type ResourceHandler,
} from './handler';

/** `ALIYUN::RAM::Role`: the role named `RoleName`, with its policies. */
export class RoleHandler implements ResourceHandler {
  readonly replacementProperties = ['RoleName'];
  constructor(private readonly cloud: CloudServices) {}

  async create(ctx: ProvisionContext, p: Record<string, unknown>): Promise<Provisioned> {
    const roleName = requireString(p, 'RoleName');
    if (!/^[A-Za-z0-9.-]{1,64}$/.test(roleName)) {
      throw new ResourceError(`RoleName "${roleName}" is invalid: 1-64 letters, digits, "." or "-"`);
    }
    if (this.cloud.ram.getRole(roleName) && p.IgnoreExisting !== true && p.IgnoreExisting !== 'true') {
      throw new ResourceError(
        `EntityAlreadyExists.Role: the role ${roleName} already exists in this account`,
      );
    }
    this.put(roleName, p);
    return this.describe(ctx, roleName);
  }

  async update(
    ctx: ProvisionContext,
    current: Provisioned,
    p: Record<string, unknown>,
  ): Promise<Provisioned> {
    this.put(current.physicalId, p);
    return this.describe(ctx, current.physicalId, current.attributes.RoleId as string);
  }

  async delete(_ctx: ProvisionContext, current: Provisioned | undefined): Promise<void> {
    if (current) {
      this.cloud.ram.deleteRole(current.physicalId);
    }
  }

  private put(roleName: string, p: Record<string, unknown>): void {
    const policies = (optionalList(p, 'Policies') ?? []).map((entry, i) => {
      const policy = entry as { PolicyName?: unknown; PolicyDocument?: unknown };
      if (!policy || typeof policy.PolicyName !== 'string' || !policy.PolicyDocument) {
        throw new ResourceError(`Policies[${i}] needs a PolicyName and a PolicyDocument`);
      }
      return policy.PolicyDocument as PolicyDocument;
    });
    if (p.PolicyAttachments !== undefined) {
      throw new ResourceError(
        'PolicyAttachments (system or custom managed policies) are not supported by LocalCloud',
      );
    }
    try {
      this.cloud.ram.putRole({
        roleName,
        assumeRolePolicyDocument: p.AssumeRolePolicyDocument as PolicyDocument,
        policies,
      });
    } catch (err) {
      throw new ResourceError((err as Error).message);
    }
  }

  private describe(
    ctx: ProvisionContext,
    roleName: string,
    roleId = String(randomInt(100_000_000, 999_999_999)) + String(randomInt(1_000_000, 9_999_999)),
  ): Provisioned {
    return {
      physicalId: roleName,
      attributes: {
        Arn: `acs:ram::${ctx.accountId}:role/${roleName.toLowerCase()}`,
        RoleId: roleId,
        RoleName: roleName,
      },
    };
  }
}
