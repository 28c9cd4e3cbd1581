/**
 * One invocation's time budget. An invocation never runs into its function's timeout: every wait goes through
 * {@link Invocation.sleep}, which, when the wait would end past the soft deadline, waits until that deadline and
 * throws {@link ContinuationRequired}; the entry point then re-invokes the function with the continuation state
 * and returns. The margin between the soft deadline and the timeout leaves room for that re-invoke (or for the
 * final response) — max(5 s, 10 %) of the timeout, but never more than half of it.
 */
import { ContinuationRequired } from './errors';
import type { Clock } from '../clock';

/** FC's default function timeout, used when the context does not say. */
export const DEFAULT_FUNCTION_TIMEOUT_SECONDS = 60;

export interface Deadlines {
  /** Hand over to a new invocation rather than wait past this (ms since epoch). */
  readonly soft: number;
  /** The function is killed shortly after this (ms since epoch): nothing may run past it. */
  readonly hard: number;
}

/** The deadlines of an invocation that started at `startedAt` in a function with this timeout. */
export function invocationDeadlines(startedAt: number, functionTimeoutSeconds: number): Deadlines {
  const timeoutMs = Math.max(1, functionTimeoutSeconds) * 1000;
  const margin = Math.min(Math.max(5_000, timeoutMs * 0.1), timeoutMs * 0.5);
  return {
    soft: startedAt + timeoutMs - margin,
    hard: startedAt + timeoutMs - Math.min(1_000, timeoutMs * 0.1),
  };
}

export class Invocation {
  constructor(
    readonly clock: Clock,
    readonly deadlines: Deadlines,
  ) {}

  /**
   * Waits `ms`. When that would pass the soft deadline, waits until the soft deadline instead and then throws
   * {@link ContinuationRequired} with the time the wait was meant to end: the next invocation waits the rest. So
   * every invocation spends its budget, and a wait longer than one invocation spans several rather than bouncing
   * between invocations that each wait nothing.
   */
  async sleep(ms: number): Promise<void> {
    const now = this.clock.now();
    const resumeAt = now + Math.max(0, ms);
    if (resumeAt > this.deadlines.soft) {
      const usable = this.deadlines.soft - now;
      if (usable > 0) {
        await this.clock.sleep(usable);
      }
      throw new ContinuationRequired(resumeAt);
    }
    await this.clock.sleep(ms);
  }

  /** Waits until `time` (ms since epoch), handing over as {@link sleep} does. */
  async sleepUntil(time: number): Promise<void> {
    await this.sleep(time - this.clock.now());
  }

  /**
   * How long a call started now may take, ms: `preferredMs`, but never so long that it would eat the reserve kept
   * after the soft deadline for handing over (half of the time between the soft and the hard deadline), and at
   * least `minimumMs` (a call that times out is retried, and the retry's wait hands over).
   */
  callTimeoutMs(preferredMs: number, minimumMs = 500): number {
    const reserve = (this.deadlines.hard - this.deadlines.soft) / 2;
    const available = this.deadlines.hard - reserve - this.clock.now();
    return Math.round(Math.max(minimumMs, Math.min(preferredMs, available)));
  }
}
