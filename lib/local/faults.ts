/**
 * Fault plans: rules that make LocalCloud misbehave the way the real cloud sometimes does, reproducibly (by seed,
 * first N, every Nth, a limit). Call faults (throttling, 5xx, dropped connections, latency) apply to signed calls
 * before they reach a service; cloud faults fail response URLs, kill invocations, deliver custom-resource requests
 * twice, fail copies or refuse their cancellation. The JSON format is in docs/local-cloud.md.
 */
import { ApiError } from './errors';
import type { CallInfo, FaultHook } from './server';

/** Faults injected into an API call before it reaches its service (signed calls only: ECS, ROS, FC). */
export type CallFaultKind = 'throttle' | 'error500' | 'error503' | 'reset' | 'latency';

/** Faults injected into the cloud's own behaviour rather than into one API call. */
export type CloudFaultKind =
  'responseUrlFailure' | 'killInvocation' | 'duplicateDelivery' | 'copyFails' | 'cancelNotSupported';

export type FaultKind = CallFaultKind | CloudFaultKind;

export const CALL_FAULT_KINDS: readonly CallFaultKind[] = [
  'throttle',
  'error500',
  'error503',
  'reset',
  'latency',
];
export const CLOUD_FAULT_KINDS: readonly CloudFaultKind[] = [
  'responseUrlFailure',
  'killInvocation',
  'duplicateDelivery',
  'copyFails',
  'cancelNotSupported',
];
export const FAULT_KINDS: readonly FaultKind[] = [...CALL_FAULT_KINDS, ...CLOUD_FAULT_KINDS];

/**
 * When a rule fires, among the opportunities it matches (calls, callbacks, invocations, deliveries, copies).
 * At most one of `probability`, `first` and `every`; with none the rule fires every time. `limit` caps how many
 * times it fires in all.
 */
export interface FaultSelector {
  /** Fire with this probability (0-1), decided by the plan's seed and the opportunity's number. */
  readonly probability?: number;
  /** Fire on the first N opportunities only. */
  readonly first?: number;
  /** Fire on every Nth opportunity (the Nth, 2Nth, ...). */
  readonly every?: number;
  /** Fire at most this many times. */
  readonly limit?: number;
}

/** A fault on API calls. `product` and `action` narrow it (a name or a list); left out, it applies to all. */
export interface CallFaultRule extends FaultSelector {
  readonly kind: CallFaultKind;
  /** `ecs`, `ros` or `fc`. */
  readonly product?: string | readonly string[];
  /** e.g. `DescribeImages`, `GetStack`, `InvokeFunction`. */
  readonly action?: string | readonly string[];
  /**
   * Who signed the call: `role` for temporary credentials (the provider function's calls), `root` for the
   * account's key (e.g. the deploy tool's). Left out, both.
   */
  readonly principal?: 'root' | 'role';
  /** `latency`: delay before the call is served. @default 1000 */
  readonly latencyMs?: number;
  /**
   * `throttle`: how long the client is asked to wait, ms. It goes out in the `x-acs-retry-after` header in the unit
   * the `retryAfterUnit` variant says (undocumented: seconds, rounded up, by default; or milliseconds). The SDK
   * puts the header's number in `ThrottlingError.retryAfter` as it is. @default 1000
   */
  readonly retryAfterMs?: number;
  /**
   * `throttle`: hold the client to the wait it was asked for: until it is over, every call the same access key
   * makes to the same action is throttled again (and counted), whatever the rule's selector. A client that reads
   * the header in the wrong unit (waiting 1000 times too short) is caught this way. @default false
   */
  readonly enforceRetryAfter?: boolean;
}

/** Each presigned response URL (custom-resource callback) answers its first `failures` posts with HTTP 500. */
export interface ResponseUrlFailureRule extends FaultSelector {
  readonly kind: 'responseUrlFailure';
  /** @default 1 */
  readonly failures?: number;
}

/** A function invocation is killed (its instance dies) after `afterMs`, if it is still running then. */
export interface KillInvocationRule extends FaultSelector {
  readonly kind: 'killInvocation';
  readonly afterMs: number;
  readonly functionName?: string;
}

/** A custom-resource request is delivered to its function `deliveries` times (ROS's at-least-once delivery). */
export interface DuplicateDeliveryRule extends FaultSelector {
  readonly kind: 'duplicateDelivery';
  /** @default 2 */
  readonly deliveries?: number;
  readonly logicalId?: string;
  /** `Create`, `Update` or `Delete`. */
  readonly requestType?: string;
}

/**
 * A new copy is marked when CopyImage accepts it: `copyFails` ends `CreateFailed` (instead of `Available`) when
 * its time is up; `cancelNotSupported` answers every CancelCopyImage with `CancelNotSupported`.
 */
export interface CopyFaultRule extends FaultSelector {
  readonly kind: 'copyFails' | 'cancelNotSupported';
  readonly sourceImageId?: string;
  /** The destination region. */
  readonly regionId?: string;
}

export type FaultRule =
  CallFaultRule | ResponseUrlFailureRule | KillInvocationRule | DuplicateDeliveryRule | CopyFaultRule;

/** A fault plan as JSON: `{ "seed": 7, "rules": [ { "kind": "throttle", "probability": 0.2 }, ... ] }`. */
export interface FaultPlanSpec {
  /** Makes probabilistic rules reproducible: the same seed and calls give the same faults. @default 0 */
  readonly seed?: number;
  readonly rules?: readonly FaultRule[];
}

/** One injected fault, for a test's report. */
export interface InjectedFault {
  readonly time: number;
  readonly kind: FaultKind;
  /** What it hit: `ecs:DescribeImages`, a function name, a logical id, an image id. */
  readonly target: string;
}

/** How many faults were injected, by kind (every kind present). */
export type FaultStats = Record<FaultKind, number>;

/** A new copy as the plan sees it. */
export interface CopyInfo {
  readonly imageId: string;
  readonly regionId: string;
  readonly sourceImageId: string;
  readonly sourceRegionId: string;
}

/** A fault plan file or object that does not say what it means. */
export class FaultPlanError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FaultPlanError';
  }
}

export interface FaultPlanOptions {
  /** How `latency` waits (tests may record instead). @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
}

const MAX_LOG = 10_000;

/**
 * A declarative, seeded set of faults for LocalCloud: `LocalCloud.start({ faults: { seed, rules } })`.
 *
 * Each rule counts the opportunities that reach it (calls for call faults; callbacks, invocations, deliveries or
 * copies for cloud faults) and fires by its selector. Whether the Nth opportunity of a probabilistic rule fires
 * depends only on the seed, the rule's position and N, so the same seed and the same sequence of calls give the
 * same faults. Call rules are tried in order: `latency` rules add up and let the call go on; the first other rule
 * that fires answers the call (later rules do not see it).
 */
export class FaultPlan implements FaultHook {
  /** Parses and checks a plan given as JSON text or a parsed object; throws `FaultPlanError` with the reason. */
  static parse(input: unknown): FaultPlan {
    const value = typeof input === 'string' ? parseJson(input) : input;
    return new FaultPlan(validateSpec(value));
  }

  /** A plan that injects nothing. */
  static none(): FaultPlan {
    return new FaultPlan({});
  }

  readonly seed: number;
  readonly rules: readonly FaultRule[];
  private readonly seen: number[];
  private readonly fired: number[];
  private readonly counts: FaultStats = Object.fromEntries(FAULT_KINDS.map((k) => [k, 0])) as FaultStats;
  private readonly entries: InjectedFault[] = [];
  private readonly sleep: (ms: number) => Promise<void>;
  /** `enforceRetryAfter`: when each client may call each action again (`<key> <product>:<action>` → ms). */
  private readonly notBefore = new Map<string, number>();

  constructor(spec: FaultPlanSpec = {}, options: FaultPlanOptions = {}) {
    const checked = validateSpec(spec);
    this.seed = checked.seed ?? 0;
    this.rules = checked.rules ?? [];
    this.seen = this.rules.map(() => 0);
    this.fired = this.rules.map(() => 0);
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  /** Faults injected so far, by kind. */
  stats(): FaultStats {
    return { ...this.counts };
  }

  /** The total number of faults injected so far. */
  get total(): number {
    return FAULT_KINDS.reduce((sum, kind) => sum + this.counts[kind], 0);
  }

  /** The injected faults, oldest first (the last 10,000). */
  get log(): readonly InjectedFault[] {
    return this.entries;
  }

  /** The server's hook: may delay the call, throw the error to answer, or ask for the connection to be reset. */
  async beforeCall(
    product: string,
    action: string,
    principal?: 'root' | 'role',
    call: CallInfo = {},
  ): Promise<'reset' | undefined> {
    const target = `${product}:${action}`;
    const client = `${call.accessKeyId ?? 'anonymous'} ${target}`;
    const now = Date.now();
    const heldUntil = this.notBefore.get(client);
    if (heldUntil !== undefined && now < heldUntil) {
      // A retry before the asked wait is over: throttled again, asked for what is left of the wait.
      this.note('throttle', target);
      throw throttled(heldUntil - now, call.retryAfterUnit);
    }
    if (heldUntil !== undefined) {
      this.notBefore.delete(client);
    }
    let delayMs = 0;
    let outcome: CallFaultRule | undefined;
    this.rules.forEach((rule, index) => {
      if (outcome || !isCallRule(rule) || !matches(rule.product, product) || !matches(rule.action, action)) {
        return;
      }
      if (rule.principal !== undefined && rule.principal !== principal) {
        return;
      }
      if (!this.fires(index)) {
        return;
      }
      this.note(rule.kind, target);
      if (rule.kind === 'latency') {
        delayMs += rule.latencyMs ?? 1000;
      } else {
        outcome = rule;
      }
    });
    if (delayMs > 0) {
      await this.sleep(delayMs);
    }
    switch (outcome?.kind) {
      case 'throttle': {
        const waitMs = outcome.retryAfterMs ?? 1000;
        if (outcome.enforceRetryAfter) {
          this.notBefore.set(client, Date.now() + waitMs);
        }
        throw throttled(waitMs, call.retryAfterUnit);
      }
      case 'error500':
        throw new ApiError(
          'InternalError',
          'The request processing has failed due to some unknown error, exception or failure.',
          500,
        );
      case 'error503':
        throw new ApiError(
          'ServiceUnavailable',
          'The request has failed due to a temporary failure of the server.',
          503,
        );
      case 'reset':
        return 'reset';
      default:
        return undefined;
    }
  }

  /** How many of a new response URL's posts fail (0 for most). Counted when a failure is answered. */
  responseUrlFailures(): number {
    const rule = this.firstFiring('responseUrlFailure', () => true);
    return rule ? (rule.failures ?? 1) : 0;
  }

  /** After how many ms to kill an invocation of `functionName`, if at all. Counted when an instance is killed. */
  killAfterMs(functionName: string): number | undefined {
    const rule = this.firstFiring(
      'killInvocation',
      (r) => r.functionName === undefined || r.functionName === functionName,
    );
    return rule?.afterMs;
  }

  /** How many times to deliver a custom-resource request. Each extra delivery is counted. */
  deliveries(logicalId: string, requestType: string): number {
    const rule = this.firstFiring(
      'duplicateDelivery',
      (r) =>
        (r.logicalId === undefined || r.logicalId === logicalId) &&
        (r.requestType === undefined || r.requestType === requestType),
    );
    const deliveries = rule ? (rule.deliveries ?? 2) : 1;
    for (let i = 1; i < deliveries; i++) {
      this.note('duplicateDelivery', `${logicalId}:${requestType}`);
    }
    return deliveries;
  }

  /**
   * Decides the fate of a new copy. `copyFails` is counted here (the copy will end `CreateFailed` unless it is
   * cancelled or deleted first); `cancelNotSupported` is counted when a cancel is refused.
   */
  onCopy(copy: CopyInfo): { createFailed: boolean; cancelNotSupported: boolean } {
    const applies = (r: CopyFaultRule) =>
      (r.sourceImageId === undefined || r.sourceImageId === copy.sourceImageId) &&
      (r.regionId === undefined || r.regionId === copy.regionId);
    const createFailed = this.firstFiring('copyFails', applies) !== undefined;
    const cancelNotSupported = this.firstFiring('cancelNotSupported', applies) !== undefined;
    if (createFailed) {
      this.note('copyFails', copy.imageId);
    }
    return { createFailed, cancelNotSupported };
  }

  /** Counts a cloud fault that took effect (a refused response post, a killed instance, a refused cancel). */
  note(kind: FaultKind, target: string): void {
    this.counts[kind]++;
    this.entries.push({ time: Date.now(), kind, target });
    if (this.entries.length > MAX_LOG) {
      this.entries.splice(0, this.entries.length - MAX_LOG);
    }
  }

  private firstFiring<K extends CloudFaultKind>(
    kind: K,
    applies: (rule: Extract<FaultRule, { kind: K }>) => boolean,
  ): Extract<FaultRule, { kind: K }> | undefined {
    for (let index = 0; index < this.rules.length; index++) {
      const rule = this.rules[index];
      if (rule.kind !== kind) {
        continue;
      }
      const typed = rule as Extract<FaultRule, { kind: K }>;
      if (applies(typed) && this.fires(index)) {
        return typed;
      }
    }
    return undefined;
  }

  /** Counts an opportunity for rule `index` and says whether the rule fires on it. */
  private fires(index: number): boolean {
    const rule = this.rules[index];
    const n = ++this.seen[index];
    if (rule.limit !== undefined && this.fired[index] >= rule.limit) {
      return false;
    }
    let fire: boolean;
    if (rule.first !== undefined) {
      fire = n <= rule.first;
    } else if (rule.every !== undefined) {
      fire = n % rule.every === 0;
    } else if (rule.probability !== undefined) {
      fire = unitHash(this.seed, index, n) < rule.probability;
    } else {
      fire = true;
    }
    if (fire) {
      this.fired[index]++;
    }
    return fire;
  }
}

/**
 * The throttling answer, asking the client to wait `waitMs`: `x-acs-retry-after` in seconds (rounded up, at least
 * 1 for any wait) or in milliseconds, as `unit` says.
 */
function throttled(waitMs: number, unit: 's' | 'ms' = 's'): ApiError {
  const value = unit === 'ms' ? Math.ceil(waitMs) : Math.ceil(waitMs / 1000);
  return new ApiError('Throttling.User', 'Request was denied due to user flow control.', 400, {
    'x-acs-retry-after': String(value),
  });
}

/** Accepts a plan, a spec or a bare hook, as `LocalCloud.start({ faults })` does. */
export function isFaultHook(value: unknown): value is FaultHook {
  return (
    !!value &&
    typeof value === 'object' &&
    !(value instanceof FaultPlan) &&
    typeof (value as FaultHook).beforeCall === 'function'
  );
}

function isCallRule(rule: FaultRule): rule is CallFaultRule {
  return (CALL_FAULT_KINDS as readonly string[]).includes(rule.kind);
}

function matches(filter: string | readonly string[] | undefined, value: string): boolean {
  if (filter === undefined) {
    return true;
  }
  return typeof filter === 'string' ? filter === value : filter.includes(value);
}

/** A number in [0, 1) from (seed, rule, n): a 32-bit integer hash, so decisions do not depend on call order. */
function unitHash(seed: number, rule: number, n: number): number {
  let h = mix32((seed >>> 0) ^ 0x9e3779b9);
  h = mix32(h ^ Math.floor(seed / 0x1_0000_0000));
  h = mix32(h ^ rule);
  h = mix32(h ^ n);
  return h / 0x1_0000_0000;
}

function mix32(value: number): number {
  let x = value >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new FaultPlanError(`not JSON: ${(err as Error).message}`);
  }
}

const COMMON_KEYS = ['kind', 'probability', 'first', 'every', 'limit'];
const KEYS_BY_KIND: Record<FaultKind, readonly string[]> = {
  throttle: ['product', 'action', 'principal', 'retryAfterMs', 'enforceRetryAfter'],
  error500: ['product', 'action', 'principal'],
  error503: ['product', 'action', 'principal'],
  reset: ['product', 'action', 'principal'],
  latency: ['product', 'action', 'principal', 'latencyMs'],
  responseUrlFailure: ['failures'],
  killInvocation: ['afterMs', 'functionName'],
  duplicateDelivery: ['deliveries', 'logicalId', 'requestType'],
  copyFails: ['sourceImageId', 'regionId'],
  cancelNotSupported: ['sourceImageId', 'regionId'],
};

/** Checks a spec thoroughly, naming the rule and field at fault, and returns it typed. */
function validateSpec(value: unknown): FaultPlanSpec {
  if (!isObject(value)) {
    throw new FaultPlanError('a fault plan must be a JSON object: { "seed": 1, "rules": [...] }');
  }
  for (const key of Object.keys(value)) {
    if (key !== 'seed' && key !== 'rules') {
      throw new FaultPlanError(`unknown field "${key}" (a fault plan has "seed" and "rules")`);
    }
  }
  if (
    value.seed !== undefined &&
    !(typeof value.seed === 'number' && Number.isSafeInteger(value.seed) && value.seed >= 0)
  ) {
    throw new FaultPlanError(`"seed" must be a non-negative integer, not ${JSON.stringify(value.seed)}`);
  }
  if (value.rules !== undefined && !Array.isArray(value.rules)) {
    throw new FaultPlanError('"rules" must be an array');
  }
  const rules = (value.rules ?? []) as unknown[];
  rules.forEach((rule, index) => validateRule(rule, `rules[${index}]`));
  return value as FaultPlanSpec;
}

function validateRule(rule: unknown, where: string): void {
  if (!isObject(rule)) {
    throw new FaultPlanError(`${where} must be an object with a "kind"`);
  }
  const kind = rule.kind;
  if (typeof kind !== 'string' || !(FAULT_KINDS as readonly string[]).includes(kind)) {
    throw new FaultPlanError(
      `${where}.kind must be one of ${FAULT_KINDS.join(', ')}, not ${JSON.stringify(kind)}`,
    );
  }
  const allowed = [...COMMON_KEYS, ...KEYS_BY_KIND[kind as FaultKind]];
  for (const key of Object.keys(rule)) {
    if (!allowed.includes(key)) {
      throw new FaultPlanError(
        `${where}: "${key}" does not apply to kind "${kind}" (allowed: ${allowed.join(', ')})`,
      );
    }
  }
  const selectors = ['probability', 'first', 'every'].filter((key) => rule[key] !== undefined);
  if (selectors.length > 1) {
    throw new FaultPlanError(`${where}: give at most one of probability, first, every`);
  }
  const number = (key: string, min: number, max: number, integer: boolean) => {
    const v = rule[key];
    if (v === undefined) {
      return;
    }
    if (
      typeof v !== 'number' ||
      !Number.isFinite(v) ||
      v < min ||
      v > max ||
      (integer && !Number.isInteger(v))
    ) {
      throw new FaultPlanError(
        `${where}.${key} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}, not ${JSON.stringify(v)}`,
      );
    }
  };
  number('probability', 0, 1, false);
  number('first', 0, Number.MAX_SAFE_INTEGER, true);
  number('every', 1, Number.MAX_SAFE_INTEGER, true);
  number('limit', 0, Number.MAX_SAFE_INTEGER, true);
  number('latencyMs', 0, 600_000, true);
  number('retryAfterMs', 0, 3_600_000, true);
  number('failures', 1, 1000, true);
  number('afterMs', 0, 86_400_000, true);
  number('deliveries', 1, 10, true);
  if (rule.enforceRetryAfter !== undefined && typeof rule.enforceRetryAfter !== 'boolean') {
    throw new FaultPlanError(
      `${where}.enforceRetryAfter must be true or false, not ${JSON.stringify(rule.enforceRetryAfter)}`,
    );
  }
  if (kind === 'killInvocation' && rule.afterMs === undefined) {
    throw new FaultPlanError(`${where}: kind "killInvocation" needs "afterMs"`);
  }
  for (const key of ['product', 'action']) {
    const v = rule[key];
    if (
      v !== undefined &&
      typeof v !== 'string' &&
      !(Array.isArray(v) && v.every((s) => typeof s === 'string'))
    ) {
      throw new FaultPlanError(`${where}.${key} must be a string or an array of strings`);
    }
  }
  if (rule.principal !== undefined && rule.principal !== 'root' && rule.principal !== 'role') {
    throw new FaultPlanError(
      `${where}.principal must be "root" or "role", not ${JSON.stringify(rule.principal)}`,
    );
  }
  for (const key of ['functionName', 'logicalId', 'requestType', 'sourceImageId', 'regionId']) {
    if (rule[key] !== undefined && typeof rule[key] !== 'string') {
      throw new FaultPlanError(`${where}.${key} must be a string`);
    }
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return !!value && typeof value === 'object' && !Array.isArray(value);
}
