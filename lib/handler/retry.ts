/**
 * Retry and backoff for every outbound call of the handler (ECS, FC and the ROS response). What is transient is
 * decided in `lib/sdk-errors.ts`: throttling (honouring `retryAfter`, read in seconds or milliseconds and bounded, see
 * `retryAfterMs`),
 * `ServiceUnavailable`, HTTP 5xx and network errors. Anything else fails at once. Waits grow exponentially with
 * jitter and never pass the caller's deadline.
 */
import type { Clock } from '../clock';
import { errorCode, retryAfterMs, transientKind, type TransientKind } from '../sdk-errors';

export { retryAfterMs, transientKind, type TransientKind };

export interface BackoffOptions {
  /** First wait, ms. Default 500. */
  readonly baseMs?: number;
  /** Longest wait, ms. Default 20,000. */
  readonly maxMs?: number;
  /** Relative jitter: the wait is scaled by a random factor in [1 - jitter, 1 + jitter]. Default 0.2. */
  readonly jitter?: number;
  /** A number in [0, 1). Default `Math.random`. */
  readonly random?: () => number;
}

/** The wait before retry number `attempt` (1 = the first retry): base·2^(attempt-1), capped, with jitter. */
export function backoffDelay(attempt: number, options: BackoffOptions = {}): number {
  const base = options.baseMs ?? 500;
  const max = options.maxMs ?? 20_000;
  const jitter = options.jitter ?? 0.2;
  const random = options.random ?? Math.random;
  const exponential = Math.min(max, base * 2 ** Math.max(0, attempt - 1));
  return Math.round(exponential * (1 - jitter + 2 * jitter * random()));
}

export interface RetryOptions extends BackoffOptions {
  /** What is being attempted, for logs: `ECS DescribeImages`. */
  readonly operation: string;
  /** No attempt starts, and no wait ends, after this time (ms since epoch). */
  readonly deadline: number;
  /** Most attempts in all (first try included). Default 8. */
  readonly maxAttempts?: number;
  readonly clock: Clock;
  /** Waits before a retry; defaults to `clock.sleep`. The handler passes one that may hand over to a new invocation. */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Classifies errors; default {@link transientKind}. */
  readonly isTransient?: (error: unknown) => TransientKind | undefined;
  /** Told about each retry before its wait. */
  readonly onRetry?: (info: RetryInfo) => void;
}

export interface RetryInfo {
  readonly operation: string;
  readonly attempt: number;
  readonly delayMs: number;
  readonly kind: TransientKind;
  readonly code?: string;
}

/**
 * Runs `call` until it succeeds, a non-transient error occurs, `maxAttempts` are used or the deadline would pass;
 * then throws the last error. Throttling waits at least the server's `retryAfter`.
 */
export async function withRetry<T>(call: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const maxAttempts = options.maxAttempts ?? 8;
  const classify = options.isTransient ?? transientKind;
  const sleep = options.sleep ?? ((ms: number) => options.clock.sleep(ms));
  for (let attempt = 1; ; attempt++) {
    try {
      return await call(attempt);
    } catch (error) {
      const kind = classify(error);
      if (kind === undefined || attempt >= maxAttempts) {
        throw error;
      }
      let delayMs = backoffDelay(attempt, {
        ...options,
        random: options.random ?? (() => options.clock.random()),
      });
      if (kind === 'throttling') {
        delayMs = Math.max(delayMs, retryAfterMs(error) ?? 0);
      }
      if (options.clock.now() + delayMs >= options.deadline) {
        throw error;
      }
      options.onRetry?.({ operation: options.operation, attempt, delayMs, kind, code: errorCode(error) });
      await sleep(delayMs);
    }
  }
}
