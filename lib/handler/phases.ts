/**
 * The phase graph of an operation, as a table that one loop runs. A step does its phase's work and says what comes
 * next: another phase, or the operation's outcome. The phase is kept in the operation state, so a fresh invocation
 * that continues the work starts the loop at the phase where the last one stopped.
 *
 * - Create: `copy` → `wait` → outcome (`copy` again when a copy made from a peer's copy failed); with
 *   `ExistingImageId`, `copy` adopts that image.
 * - Update: `update` → outcome (in place), or `copy` → `wait` → `remove-old` → `rename` → outcome (a replacement).
 * - Delete: `delete` → `sweep` → outcome.
 *
 * A wait that would outlast the invocation ends the step early; the runner of the loop (`runOrHandOver` in
 * continuation.ts) then hands the work over, and no step deals with that itself.
 */
import type { Clock } from '../clock';
import { ImageCopyError } from './errors';
import type { Phase } from './event';
import type { OperationState } from './operation-state';

/** What a step comes to: the next phase, or the operation's outcome. */
export type StepResult<O> = { readonly next: Phase } | { readonly done: O };

/** The steps of an operation, by phase. */
export type PhaseTable<O> = Partial<Record<Phase, () => Promise<StepResult<O>>>>;

/** Runs the steps from the state's phase until one gives the outcome. */
export async function runPhases<O>(state: OperationState, clock: Clock, table: PhaseTable<O>): Promise<O> {
  for (;;) {
    const step = table[state.phase];
    if (step === undefined) {
      throw new ImageCopyError('Internal', `The operation has no step for its phase ${state.phase}.`);
    }
    const result = await step();
    if ('done' in result) {
      return result.done;
    }
    state.enter(result.next, clock.now());
  }
}
