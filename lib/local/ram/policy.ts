/**
 * The RAM policy language as LocalCloud evaluates it: the shape of a policy document (checked when a role or
 * credentials get one), an action's match against a statement's `Action` and `Resource` patterns, explicit Deny
 * over Allow, the actions that take no resource-level authorization, and a trust policy's services.
 */
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
  // DescribeImageFromFamily: resource type "All Resources".
  'ecs:DescribeImageFromFamily':
    'https://www.alibabacloud.com/help/en/ecs/developer-reference/api-ecs-2014-05-26-describeimagefromfamily',
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

/** Whether a trust policy lets `service` (e.g. `fc.aliyuncs.com`) assume the role (`sts:AssumeRole`). */
export function trustsService(trustPolicy: PolicyDocument, service: string): boolean {
  return trustPolicy.Statement.some(
    (s) =>
      s.Effect === 'Allow' &&
      list(s.Action).some((a) => wildcardMatch(a, 'sts:AssumeRole', true)) &&
      trusts(s, service),
  );
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
