/**
 * Retries of the deploy helper's API calls: which errors are worth another attempt, exponential backoff with
 * jitter that honours a server's `x-acs-retry-after`, and waits that a signal stops. Time and randomness come from
 * an injected {@link Clock}.
 */
import { type Clock, systemClock } from '../clock';
import { errorCode, retryAfterMs, transientKind } from '../sdk-errors';
import { apiError, DeployError } from './errors';

/** How API calls are retried on throttling, server errors and dropped connections. */
export interface RetryOptions {
  /** First delay; it doubles on every retry (with jitter). @default 1000 ms */
  readonly baseDelayMs?: number;
  /** Longest single delay. @default 30000 ms */
  readonly maxDelayMs?: number;
  /** Attempts in all, the first included. @default 8 */
  readonly maxAttempts?: number;
}

/** Told before each retry: which call, why, and how long until the next attempt. */
export interface RetryNotice {
  readonly action: string;
  readonly reason: string;
  readonly attempt: number;
  readonly delayMs: number;
}

/** ROS codes worth another attempt beyond the transient errors of every API (see `lib/sdk-errors.ts`). */
const ROS_RETRYABLE_CODES = ['InternalError', 'LastTokenProcessing'];

/** Whether an API error is worth retrying: throttling, 5xx, `ServiceUnavailable`, a dropped or timed-out connection. */
export function isRetryable(err: unknown): boolean {
  return transientKind(err) !== undefined || ROS_RETRYABLE_CODES.includes(errorCode(err) ?? '');
}

/**
 * Runs an API call, retrying retryable errors with exponential backoff and jitter (honouring a server's
 * `x-acs-retry-after`); other errors become a {@link DeployError} naming the action. Aborting `signal` stops waiting.
 */
export async function withRetry<T>(
  action: string,
  call: () => Promise<T>,
  options: RetryOptions & {
    onRetry?: (notice: RetryNotice) => void;
    signal?: AbortSignal;
    clock?: Clock;
  } = {},
): Promise<T> {
  const clock = options.clock ?? systemClock;
  const base = options.baseDelayMs ?? 1000;
  const max = options.maxDelayMs ?? 30_000;
  const attempts = options.maxAttempts ?? 8;
  for (let attempt = 1; ; attempt++) {
    throwIfAborted(options.signal);
    try {
      return await call();
    } catch (err) {
      if (err instanceof DeployError || !isRetryable(err) || attempt >= attempts) {
        throw apiError(action, err);
      }
      const exponential = Math.min(max, base * 2 ** (attempt - 1));
      const retryAfter = retryAfterMs(err);
      const floor = retryAfter !== undefined ? Math.min(max, retryAfter) : 0;
      const delayMs = Math.max(floor, Math.round(exponential / 2 + (clock.random() * exponential) / 2));
      options.onRetry?.({ action, reason: errorCode(err) ?? (err as Error).message, attempt, delayMs });
      await sleep(delayMs, options.signal, clock);
    }
  }
}

/**
 * Resolves after `ms` on `clock`, or rejects with an `Aborted` {@link DeployError} when `signal` aborts first (also
 * with a clock that does not watch the signal: it is checked again after the wait).
 */
export async function sleep(ms: number, signal?: AbortSignal, clock: Clock = systemClock): Promise<void> {
  throwIfAborted(signal);
  try {
    await clock.sleep(ms, signal);
  } catch (err) {
    if (signal?.aborted) {
      throw aborted();
    }
    throw err;
  }
  throwIfAborted(signal);
}

export function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) {
    throw aborted();
  }
}

const aborted = () =>
  new DeployError('Aborted', 'Stopped following the stack; the operation goes on in ROS (see its events).');
