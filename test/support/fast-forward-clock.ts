import type { Clock } from '../../lib/local/clock';

/**
 * A clock for LocalCloud's ROS (`LocalCloud.start({ ros: { clock } })`) that runs with real time, so everything that
 * is not waited for goes on as usual, and that a test moves forward at once (`await clock.forward(ms)`) where it would
 * otherwise sleep: a stack's timeout, a custom resource's `Timeout`, a change set's computation.
 */
export class FastForwardClock implements Clock {
  private offset = 0;
  /** While `forward()` runs, the time stands here (real time passing then would push new waits past its target). */
  private frozen: number | undefined;
  private readonly waits = new Set<{ readonly due: number; readonly wake: () => void }>();

  now(): number {
    return this.frozen ?? Date.now() + this.offset;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const end = (then: () => void) => {
        clearTimeout(timer);
        this.waits.delete(wait);
        signal?.removeEventListener('abort', onAbort);
        then();
      };
      const wait = { due: this.now() + Math.max(0, ms), wake: () => end(resolve) };
      const onAbort = () => end(() => reject(signal?.reason));
      const timer = setTimeout(wait.wake, Math.max(0, ms));
      timer.unref();
      this.waits.add(wait);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /**
   * Moves the clock `ms` forward, ending in time order every wait that falls due on the way, and letting the code
   * each wakes start its next wait before going on (a change set's two halves, say).
   */
  async forward(ms: number): Promise<void> {
    const start = this.now();
    const target = start + ms;
    this.frozen = start;
    try {
      for (;;) {
        const next = [...this.waits].filter((w) => w.due <= target).sort((a, b) => a.due - b.due)[0];
        if (!next) {
          break;
        }
        this.frozen = Math.max(this.frozen, next.due);
        next.wake();
        await new Promise((resolve) => setImmediate(resolve));
      }
    } finally {
      this.frozen = undefined;
      this.offset = Math.max(this.offset, target - Date.now());
    }
  }
}
