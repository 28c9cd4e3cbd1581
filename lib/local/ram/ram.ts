/**
 * RAM in LocalCloud: the account's access keys and roles, and what a caller may do. The root key may do anything;
 * temporary credentials issued for a role (to a test, or to a service such as Function Compute that assumes it) may
 * do what their policy allows, checked on every call by `authorize`. LocalCloud serves no RAM API: roles come from
 * `ALIYUN::RAM::Role` resources and `LocalCloud.putRole`, credentials from `LocalCloud.issueRoleCredentials` and
 * `assumeRole`. The policy language itself (checks and evaluation) is in `policy.ts`.
 */
import { randomBytes } from 'crypto';
import { ApiError } from '../errors';
import type { StateStore } from '../state';
import { isAllowed, takesAllResources, trustsService, validatePolicy, type PolicyDocument } from './policy';

export interface AccessKey {
  readonly accessKeyId: string;
  readonly accessKeySecret: string;
}

export interface TemporaryCredentials extends AccessKey {
  readonly securityToken: string;
  /** ISO 8601 time after which the credentials are refused. */
  readonly expiration: string;
}

/** Who signed a request. */
export type Principal =
  | { readonly kind: 'root'; readonly accessKeyId: string }
  | { readonly kind: 'role'; readonly accessKeyId: string; readonly roleName: string };

interface StoredKey {
  secret: string;
  kind: 'root' | 'role';
  roleName?: string;
  securityToken?: string;
  policy?: PolicyDocument;
  expiresAt?: number;
  /**
   * Issued to a service that assumed the role (`assumeRoleAsService`): the id of the role they were issued for.
   * They can do only what that role allows now, so they lose what it loses, and everything once it is deleted (a
   * role created again under the same name is another role, with another id).
   */
  roleId?: string;
}

/** A RAM role: who may assume it (trust policy) and what its credentials may do (its policies). */
export interface RoleDefinition {
  readonly roleName: string;
  readonly assumeRolePolicyDocument: PolicyDocument;
  readonly policies: readonly PolicyDocument[];
}

interface RamState {
  rootAccessKeyId: string;
  keys: Record<string, StoredKey>;
  roles: Record<string, RoleDefinition>;
  /** Each existing role's id, given when it is created (not when it is replaced). */
  roleIds?: Record<string, string>;
}

/** What a signature check needs to know about an access key. */
export interface KeyLookup {
  readonly secret: string;
  readonly principal: Principal;
  /** Temporary credentials only: the token the request must carry. */
  readonly securityToken?: string;
  readonly expiresAt?: number;
}

const randomId = (bytes: number): string => randomBytes(bytes).toString('hex');

/**
 * Access keys and RAM policies: the root account's key, and temporary credentials issued for a role, whose calls
 * are checked against the policy they were issued with.
 */
export class Ram {
  private readonly state: RamState;

  constructor(private readonly store: StateStore) {
    this.state = store.section<RamState>('ram', () => {
      const rootAccessKeyId = `LTAI5tLocal${randomId(6)}`;
      return {
        rootAccessKeyId,
        keys: { [rootAccessKeyId]: { secret: randomId(15), kind: 'root' } },
        roles: {},
      };
    });
  }

  /** Creates or replaces a role (what `ALIYUN::RAM::Role` does). Policies are checked as for credentials. */
  putRole(role: RoleDefinition): void {
    validatePolicy(role.assumeRolePolicyDocument, `trust policy of role ${role.roleName}`);
    role.policies.forEach((p, i) => validatePolicy(p, `policy ${i + 1} of role ${role.roleName}`));
    this.state.roles[role.roleName] = role;
    const ids = (this.state.roleIds ??= {});
    ids[role.roleName] ??= randomId(8);
    this.store.changed();
  }

  getRole(roleName: string): RoleDefinition | undefined {
    return this.state.roles[roleName];
  }

  deleteRole(roleName: string): boolean {
    const existed = roleName in this.state.roles;
    delete this.state.roles[roleName];
    if (this.state.roleIds) {
      delete this.state.roleIds[roleName];
    }
    if (existed) {
      this.store.changed();
    }
    return existed;
  }

  /**
   * What a service (e.g. `fc.aliyuncs.com`) gets when it assumes a role: temporary credentials carrying the
   * role's policies. Fails when the role does not exist or does not trust that service.
   */
  assumeRoleAsService(roleName: string, service: string, ttlSeconds?: number): TemporaryCredentials {
    const role = this.state.roles[roleName];
    if (!role) {
      throw new ApiError('EntityNotExist.Role', `The role ${roleName} does not exist.`, 404);
    }
    if (!trustsService(role.assumeRolePolicyDocument, service)) {
      throw new ApiError(
        'NoPermission',
        `The role ${roleName} does not trust ${service} to assume it (AssumeRolePolicyDocument).`,
        403,
      );
    }
    const statements = role.policies.flatMap((p) => p.Statement);
    const credentials = this.issueRoleCredentials(
      roleName,
      { Version: '1', Statement: statements },
      ttlSeconds,
    );
    this.state.keys[credentials.accessKeyId].roleId = this.roleId(roleName);
    this.store.changed();
    return credentials;
  }

  /** The id of an existing role (roles made before ids were kept get one now). */
  private roleId(roleName: string): string | undefined {
    if (!this.state.roles[roleName]) {
      return undefined;
    }
    const ids = (this.state.roleIds ??= {});
    return (ids[roleName] ??= randomId(8));
  }

  /** The root account's access key: allowed everything. */
  get rootCredentials(): AccessKey {
    const id = this.state.rootAccessKeyId;
    return { accessKeyId: id, accessKeySecret: this.state.keys[id].secret };
  }

  /**
   * Issues STS-style credentials for `roleName`; calls signed with them are allowed only where `policy` allows.
   * `Condition` blocks are refused: LocalCloud does not evaluate them, and silently ignoring one would grant more
   * (or less) than the real cloud.
   */
  issueRoleCredentials(roleName: string, policy: PolicyDocument, ttlSeconds = 3600): TemporaryCredentials {
    validatePolicy(policy, `policy of role ${roleName}`);
    this.purgeExpired();
    const accessKeyId = `STS.Local${randomId(10)}`;
    const key: StoredKey = {
      secret: randomId(20),
      kind: 'role',
      roleName,
      securityToken: `CAIS${randomId(48)}`,
      policy,
      expiresAt: Date.now() + ttlSeconds * 1000,
    };
    this.state.keys[accessKeyId] = key;
    this.store.changed();
    return {
      accessKeyId,
      accessKeySecret: key.secret,
      securityToken: key.securityToken!,
      expiration: new Date(key.expiresAt!).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    };
  }

  lookup(accessKeyId: string): KeyLookup | undefined {
    const key = this.state.keys[accessKeyId];
    if (!key) {
      return undefined;
    }
    const principal: Principal =
      key.kind === 'root'
        ? { kind: 'root', accessKeyId }
        : { kind: 'role', accessKeyId, roleName: key.roleName! };
    return { secret: key.secret, principal, securityToken: key.securityToken, expiresAt: key.expiresAt };
  }

  /**
   * Throws `Forbidden.RAM` unless `principal` may perform `action` on every one of `resources` (the ARNs the call
   * acts on). An action whose API reference gives no resource-level authorization ("All Resources", see
   * {@link ALL_RESOURCES_ACTIONS}) is checked against `*` instead: only a statement whose Resource matches `*`
   * grants it.
   */
  authorize(principal: Principal, action: string, resources: readonly string[]): void {
    if (principal.kind === 'root') {
      return;
    }
    const key = this.state.keys[principal.accessKeyId];
    const policy = key?.policy;
    const bound = key?.roleId !== undefined;
    const role =
      bound && this.roleId(principal.roleName) === key.roleId
        ? this.state.roles[principal.roleName]
        : undefined;
    if (bound && !role) {
      // A role can only be deleted once it has no policies (RAM, "Delete a RAM role"), and its temporary
      // credentials can do only what the role allows: nothing is left to them.
      throw new ApiError(
        'Forbidden.RAM',
        `User not authorized to operate on the specified resource, or this API doesn't support RAM. ` +
          `Role ${principal.roleName} no longer exists: its temporary credentials have none of its permissions.`,
        403,
      );
    }
    const now: PolicyDocument | undefined = role && {
      Version: '1',
      Statement: role.policies.flatMap((p) => p.Statement),
    };
    const allowed = (resource: string) =>
      !!policy && isAllowed(policy, action, resource) && (!now || isAllowed(now, action, resource));
    const allResources = takesAllResources(action);
    const checked = allResources ? ['*'] : resources;
    const denied = checked.find((resource) => !allowed(resource));
    if (denied !== undefined) {
      throw new ApiError(
        'Forbidden.RAM',
        `User not authorized to operate on the specified resource, or this API doesn't support RAM. ` +
          `Role ${principal.roleName} is not allowed ${action} on ${denied}.` +
          (allResources
            ? ` ${action} has no resource-level authorization: only a statement with Resource "*" grants it.`
            : ''),
        403,
      );
    }
  }

  private purgeExpired(): void {
    const now = Date.now();
    for (const [id, key] of Object.entries(this.state.keys)) {
      if (key.expiresAt !== undefined && key.expiresAt < now) {
        delete this.state.keys[id];
      }
    }
  }
}
