/**
 * Time and randomness as one small injectable interface, so that code that waits (retries, polls, backoff) can be
 * run by tests and benchmarks on a virtual clock instead of real time. Dependency-free: the handler bundles it, the
 * deploy helper and LocalCloud use it.
 */

/** Clock and randomness, injectable so tests and benchmarks need not wait for real. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /**
   * Resolves after `ms`. When `signal` aborts first, rejects with the signal's reason (the timer is cleared); a
   * clock may ignore the signal, so callers check it again after the wait.
   */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** A number in [0, 1). */
  random(): number;
}

/**
 * Resolves after `ms` of real time; when `signal` aborts first, rejects with its reason and clears the timer. With
 * `unref`, the wait does not keep the process alive on its own (LocalCloud's waits: its server does while it serves).
 */
export function sleepFor(
  ms: number,
  signal?: AbortSignal,
  options: { readonly unref?: boolean } = {},
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(
      () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      },
      Math.max(0, ms),
    );
    if (options.unref) {
      timer.unref();
    }
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** The real clock: `Date.now`, `setTimeout`, `Math.random`. */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) => sleepFor(ms, signal),
  random: () => Math.random(),
};
