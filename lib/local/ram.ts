import { randomBytes } from 'crypto';
import { ApiError } from './errors';
import type { StateStore } from './state';

/** A RAM policy document, version 1 (`Statement[].Effect/Action/Resource`). */
export interface PolicyDocument {
  readonly Version: string;
  readonly Statement: readonly PolicyStatement[];
}

export interface PolicyStatement {
  readonly Effect: 'Allow' | 'Deny';
  readonly Action: string | readonly string[];
  /** Permission policies need it; trust policies name a `Principal` instead. */
  readonly Resource?: string | readonly string[];
  readonly Principal?: {
    readonly Service?: string | readonly string[];
    readonly RAM?: string | readonly string[];
  };
  readonly Condition?: unknown;
}

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
    if (this.state.roleIds) delete this.state.roleIds[roleName];
    if (existed) this.store.changed();
    return existed;
  }

  /**
   * What a service (e.g. `fc.aliyuncs.com`) gets when it assumes a role: temporary credentials carrying the
   * role's policies. Fails when the role does not exist or does not trust that service.
   */
  assumeRoleAsService(roleName: string, service: string, ttlSeconds?: number): TemporaryCredentials {
    const role = this.state.roles[roleName];
    if (!role) throw new ApiError('EntityNotExist.Role', `The role ${roleName} does not exist.`, 404);
    const trusted = role.assumeRolePolicyDocument.Statement.some(
      (s) =>
        s.Effect === 'Allow' &&
        list(s.Action).some((a) => wildcardMatch(a, 'sts:AssumeRole', true)) &&
        trusts(s, service),
    );
    if (!trusted) {
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
    if (!this.state.roles[roleName]) return undefined;
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
    if (!key) return undefined;
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
    if (principal.kind === 'root') return;
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
      if (key.expiresAt !== undefined && key.expiresAt < now) delete this.state.keys[id];
    }
  }
}

/**
 * Actions whose API reference's "RAM authorization" table gives the resource type "All Resources": they take no
 * resource-level authorization, so RAM checks them against `*` and a statement naming a specific resource is
 * ineffective for them ("For APIs without resource-level permissions, it is shown as All Resources. Use an
 * asterisk (*) in the Resource element of the policy", the tables' own legend). Each with the table it follows.
 * Every other action is checked against the ARNs of the resources the call acts on (the services pass them).
 */
export const ALL_RESOURCES_ACTIONS: Readonly<Record<string, string>> = {
  // FC 3.0 InvokeFunction: resource type "All Resources".
  'fc:InvokeFunction':
    'https://www.alibabacloud.com/help/en/functioncompute/fc-3-0/developer-reference/api-fc-2023-03-30-invokefunction',
  // The current CopyImage table gives `acs:ecs:{#regionId}:{#accountId}:image/*`, an earlier revision of the
  // same page "All Resources" (https://alibabacloud.com/help/zh/ecs/api-copyimage). LocalCloud applies the
  // stricter: a policy it accepts is effective under both.
  'ecs:CopyImage':
    'https://www.alibabacloud.com/help/en/ecs/developer-reference/api-ecs-2014-05-26-copyimage',
};

const ALL_RESOURCES = new Set(Object.keys(ALL_RESOURCES_ACTIONS).map((a) => a.toLowerCase()));

/** Whether `action` (e.g. `fc:InvokeFunction`) takes no resource-level authorization; actions compare case-insensitively. */
export function takesAllResources(action: string): boolean {
  return ALL_RESOURCES.has(action.toLowerCase());
}

/** Checks a policy's shape; throws an `Error` naming what is wrong. */
export function validatePolicy(policy: PolicyDocument, what: string): void {
  if (!policy || !Array.isArray(policy.Statement)) {
    throw new Error(`${what}: a policy document needs a Statement list, got ${JSON.stringify(policy)}`);
  }
  const isStringOrList = (value: unknown): boolean =>
    typeof value === 'string' || (Array.isArray(value) && value.every((v) => typeof v === 'string'));
  for (const [i, s] of policy.Statement.entries()) {
    if (!s || typeof s !== 'object' || Array.isArray(s)) {
      throw new Error(`${what}: Statement[${i}] must be an object, got ${JSON.stringify(s)}`);
    }
    if (s.Effect !== 'Allow' && s.Effect !== 'Deny') {
      throw new Error(
        `${what}: Statement[${i}].Effect must be Allow or Deny, got ${JSON.stringify(s.Effect)}`,
      );
    }
    if (s.Action === undefined || (s.Resource === undefined && s.Principal === undefined)) {
      throw new Error(
        `${what}: Statement[${i}] needs an Action and a Resource (or, in a trust policy, a Principal)`,
      );
    }
    // Evaluation matches these as strings; any other type would fail every later call made with the policy.
    for (const key of ['Action', 'Resource'] as const) {
      if (s[key] !== undefined && !isStringOrList(s[key])) {
        throw new Error(
          `${what}: Statement[${i}].${key} must be a string or a list of strings, got ${JSON.stringify(s[key])}`,
        );
      }
    }
    const principal: unknown = s.Principal;
    if (principal !== undefined) {
      const p = principal as Record<string, unknown>;
      if (
        !p ||
        typeof p !== 'object' ||
        Array.isArray(p) ||
        Object.values(p).some((v) => !isStringOrList(v))
      ) {
        throw new Error(
          `${what}: Statement[${i}].Principal must map Service or RAM to names, got ${JSON.stringify(principal)}`,
        );
      }
    }
    if (s.Condition !== undefined) {
      throw new Error(`${what}: Statement[${i}] has a Condition, which LocalCloud does not evaluate`);
    }
  }
}

/** RAM evaluation: an explicit Deny wins; otherwise some Allow must match both action and resource. */
export function isAllowed(policy: PolicyDocument, action: string, resource: string): boolean {
  const matching = policy.Statement.filter(
    (s) =>
      list(s.Action).some((pattern) => wildcardMatch(pattern, action, true)) &&
      s.Resource !== undefined &&
      list(s.Resource).some((pattern) => wildcardMatch(pattern, resource, false)),
  );
  return !matching.some((s) => s.Effect === 'Deny') && matching.some((s) => s.Effect === 'Allow');
}

function trusts(statement: PolicyStatement, service: string): boolean {
  const services = statement.Principal?.Service === undefined ? [] : list(statement.Principal.Service);
  return services.some((s) => wildcardMatch(s, service, true));
}

const list = (value: string | readonly string[]): readonly string[] =>
  typeof value === 'string' ? [value] : value;

/** `*` matches any run of characters, `?` one character; actions compare case-insensitively, as in RAM. */
export function wildcardMatch(pattern: string, value: string, ignoreCase: boolean): boolean {
  const source = pattern
    .split('')
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}$`, ignoreCase ? 'i' : '').test(value);
}
