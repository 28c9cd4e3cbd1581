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
  options: RetryOptions & { onRetry?: (notice: RetryNotice) => void; signal?: AbortSignal } = {},
): Promise<T> {
  const base = options.baseDelayMs ?? 1000;
  const max = options.maxDelayMs ?? 30_000;
  const attempts = options.maxAttempts ?? 8;
  for (let attempt = 1; ; attempt++) {
    throwIfAborted(options.signal);
    try {
      return await call();
    } catch (err) {
      if (err instanceof DeployError || !isRetryable(err) || attempt >= attempts) throw apiError(action, err);
      const exponential = Math.min(max, base * 2 ** (attempt - 1));
      const retryAfter = retryAfterMs(err);
      const floor = retryAfter !== undefined ? Math.min(max, retryAfter) : 0;
      const delayMs = Math.max(floor, Math.round(exponential / 2 + (Math.random() * exponential) / 2));
      options.onRetry?.({ action, reason: errorCode(err) ?? (err as Error).message, attempt, delayMs });
      await sleep(delayMs, options.signal);
    }
  }
}

/** Resolves after `ms`, or rejects with an `Aborted` {@link DeployError} when `signal` aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(aborted());
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(aborted());
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw aborted();
}

const aborted = () =>
  new DeployError('Aborted', 'Stopped following the stack; the operation goes on in ROS (see its events).');
