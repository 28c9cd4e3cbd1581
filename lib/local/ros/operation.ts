/**
 * One stack operation's time limit: the stack's `TimeoutInMinutes` (capped by `maxOperationSeconds` in tests),
 * measured on ROS's clock. Its signal aborts when the limit passes, so resources waiting on something (a custom
 * resource's answer) stop at once, and the engine then names the stack's timeout as the cause.
 */
import type { Clock } from '../clock';

/** One stack operation's limit: aborts its signal when the stack's timeout passes on the clock. */
export class Operation {
  private readonly controller = new AbortController();
  /** Aborted when the operation is over, ending the wait for its deadline. */
  private readonly over = new AbortController();
  private readonly deadline: number;

  constructor(
    readonly seconds: number,
    readonly timeoutInMinutes: number,
    private readonly clock: Clock,
  ) {
    this.deadline = clock.now() + seconds * 1000;
    clock.sleep(seconds * 1000, this.over.signal).then(
      () => this.controller.abort(),
      () => undefined,
    );
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Whether the deadline has passed (also when a resource's own wait noticed it before the timer fired). */
  get timedOut(): boolean {
    return this.controller.signal.aborted || this.clock.now() >= this.deadline;
  }

  secondsLeft(): number {
    return Math.max(0, (this.deadline - this.clock.now()) / 1000);
  }

  /** Ends the wait for the deadline (the operation is over). */
  dispose(): void {
    this.over.abort();
  }

  /** The limit in words: `TimeoutInMinutes 60`, and the cap when a test's `maxOperationSeconds` made it shorter. */
  describeLimit(): string {
    const capped = this.seconds < this.timeoutInMinutes * 60;
    return `TimeoutInMinutes ${this.timeoutInMinutes}${capped ? `, capped at ${this.seconds} seconds by LocalCloud's maxOperationSeconds` : ''}`;
  }
}

/** The reason of a stack operation cut off by the stack's own timeout (not a resource's). */
export function timedOutReason(action: string, op: Operation): string {
  return `Stack ${action} timed out: the stack's timeout (${op.describeLimit()}) passed before it finished`;
}
