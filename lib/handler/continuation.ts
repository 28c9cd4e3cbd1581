/**
 * Continuing in a fresh invocation. An invocation never runs into its function's timeout: when the work (or the
 * sending of its answer) is not done by the soft deadline, the function re-invokes itself asynchronously with the
 * original event plus the continuation marker (`CONTINUATION_KEY`: the operation's state, see operation-state.ts),
 * and the fresh invocation picks up where this one stopped.
 */
import type { Clock } from '../clock';
import { CONTINUATION_KEY } from '../protocol';
import type { FunctionInvoker } from './clients';
import { ContinuationRequired, describeApiError, ImageCopyError } from './errors';
import type { Invocation } from './invocation';
import type { Logger } from './log';
import type { OperationState } from './operation-state';
import { withRetry } from './retry';

/** What re-invoking the function needs. */
export interface Continuation {
  readonly fc: FunctionInvoker;
  /** The function's own name (from the FC context or environment); without it there is no continuing. */
  readonly functionName?: string;
  /** The event as it was decoded, resent with the marker. */
  readonly event: Readonly<Record<string, unknown>>;
  readonly state: OperationState;
  readonly clock: Clock;
  readonly invocation: Invocation;
  readonly log: Logger;
}

/**
 * Re-invokes the function with the state as continuation marker, for the work (or the answer) to go on. Each attempt
 * may use what is left of the invocation: this is its last chance to continue. Throws `ContinuationFailed` saying
 * what to check when it cannot.
 */
export async function handOver(continuation: Continuation): Promise<void> {
  const { fc, functionName, event, state, clock, invocation, log } = continuation;
  if (!functionName) {
    throw new ImageCopyError(
      'ContinuationFailed',
      'The operation needs more time than one invocation, but the function does not know its own name.',
      { imageId: state.imageId },
    );
  }
  const next = { ...event, [CONTINUATION_KEY]: state.toContinuation() };
  try {
    const payload = Buffer.from(JSON.stringify(next), 'utf8');
    const timeoutMs = () => Math.max(500, invocation.deadlines.hard - clock.now());
    await withRetry(() => fc.invokeAsync(functionName, payload, { timeoutMs: timeoutMs() }), {
      operation: 'FC InvokeFunction',
      deadline: invocation.deadlines.hard,
      clock,
      onRetry: (info) => log.warn('retry', { ...info }),
    });
  } catch (invokeError) {
    throw new ImageCopyError(
      'ContinuationFailed',
      `The operation needs more time than one invocation (phase ${state.phase}` +
        `${state.imageId ? `, image ${state.imageId}` : ''}), but the function could not re-invoke itself: ` +
        `${describeApiError('FC InvokeFunction', invokeError)}. Check that the function's role allows ` +
        `fc:InvokeFunction on itself, or raise the function timeout.`,
      { imageId: state.imageId, cause: invokeError },
    );
  }
}

/** What running the work came to: its result, or handed over to a fresh invocation. */
export type RunResult<T> = { readonly continued: false; readonly done: T } | { readonly continued: true };

/**
 * Runs the work; when it is not done by the invocation's soft deadline (a wait signals {@link ContinuationRequired}),
 * hands it over to a fresh invocation, which resumes when the wait was meant to end. The one place that decides to
 * continue: no step catches the signal itself.
 */
export async function runOrHandOver<T>(
  work: () => Promise<T>,
  continuation: Continuation,
): Promise<RunResult<T>> {
  const { state, clock, log } = continuation;
  try {
    return { continued: false, done: await work() };
  } catch (error) {
    if (!(error instanceof ContinuationRequired)) {
      throw error;
    }
    state.resumeAt = error.resumeAt;
    await handOver(continuation);
    log.info('continued', {
      phase: state.phase,
      imageId: state.imageId,
      attempt: state.attempt + 1,
      resumeInMs: Math.max(0, error.resumeAt - clock.now()),
    });
    return { continued: true };
  }
}
