/**
 * The clock LocalCloud's ROS model runs on (stack timeouts, custom-resource waits, change-set computation, the
 * times it shows, ClientToken lifetimes), injectable so that tests move time forward instead of sleeping
 * (`LocalCloud.start({ ros: { clock } })`). Dependency-free. Its shape is that of the handler's clock (`now`, and a
 * `sleep` that an AbortSignal ends), without randomness, which LocalCloud's ROS does not need.
 */

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /**
   * Resolves once `ms` have passed on this clock. When `signal` aborts first, rejects with its reason and forgets
   * the wait.
   */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/**
 * The real clock: `Date.now` and `setTimeout`. A wait does not keep the process alive on its own: LocalCloud's
 * server does while it serves, and a stopped LocalCloud leaves no timer behind.
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
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
      timer.unref();
      signal?.addEventListener('abort', onAbort, { once: true });
    }),
};
