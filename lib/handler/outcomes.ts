/**
 * ECS refusals read as outcomes. What an error code means depends on the step (`InvalidImageId.NotFound` is "gone"
 * to a removal, `IncorrectImageStatus` is "finished" to a cancel): each step has a table of code → outcome, and
 * {@link attempt} runs a call against it, so a step reads its outcomes from a `switch` rather than a try/catch
 * ladder. Any other failure is the outcome `failed`, with its error. The "not done in time" signal of a wait inside
 * the call (`ContinuationRequired`) is not an outcome: it goes on to the one place that hands the work over
 * (continuation.ts).
 */
import { ContinuationRequired, describeApiError, errorCode, ImageCopyError } from './errors';

/** Error codes by the outcome they mean. */
export type OutcomeTable<O extends string> = ReadonlyMap<string, O>;

/** A table from outcomes to their codes: `outcomeTable({ gone: ['InvalidImageId.NotFound'], ... })`. */
export function outcomeTable<O extends string>(
  codes: Readonly<Record<O, readonly string[]>>,
): OutcomeTable<O> {
  const table = new Map<string, O>();
  for (const [outcome, list] of Object.entries(codes) as Array<[O, readonly string[]]>) {
    for (const code of list) {
      table.set(code, outcome);
    }
  }
  return table;
}

/** What a call came to: its value, an outcome of the table, or `failed`. */
export type Attempted<T, O extends string> =
  { readonly outcome: 'ok'; readonly value: T } | { readonly outcome: O | 'failed'; readonly error: unknown };

const NO_OUTCOMES: OutcomeTable<never> = new Map<string, never>();

/** Runs `call` and reads a failure by the table (see the module comment). */
export async function attempt<T, O extends string = never>(
  call: () => Promise<T>,
  table: OutcomeTable<O> = NO_OUTCOMES,
): Promise<Attempted<T, O>> {
  try {
    return { outcome: 'ok', value: await call() };
  } catch (error) {
    if (error instanceof ContinuationRequired) {
      throw error;
    }
    const code = errorCode(error);
    return { outcome: (code === undefined ? undefined : table.get(code)) ?? 'failed', error };
  }
}

/**
 * Runs one ECS call on an image; a failure other than an {@link ImageCopyError} becomes one (`ApiError`) that names
 * the operation and the image. The 'not done in time' signal passes on, as with {@link attempt}.
 */
export async function callOnImage<T>(operation: string, imageId: string, call: () => Promise<T>): Promise<T> {
  const called = await attempt(call);
  if (called.outcome === 'ok') {
    return called.value;
  }
  const { error } = called;
  if (error instanceof ImageCopyError) {
    throw error;
  }
  throw new ImageCopyError('ApiError', `${describeApiError(operation, error)} (image ${imageId})`, {
    imageId,
    cause: error,
  });
}
