/** Small statistics and timing helpers shared by the benchmarks. */

/** The median of a non-empty list (the mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) {
    return Number.NaN;
  }
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** Milliseconds since an arbitrary origin, with sub-millisecond resolution. */
export const nowMs = (): number => Number(process.hrtime.bigint()) / 1e6;

/** Runs `fn` and returns its result with the wall time it took, ms. */
export async function timed<T>(fn: () => Promise<T> | T): Promise<{ value: T; ms: number }> {
  const start = nowMs();
  const value = await fn();
  return { value, ms: nowMs() - start };
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs `ours` and `baseline` `repetitions` times each, alternating which goes first in each round, so that a
 * machine that gets slower (or faster) over the run moves both sides alike. Returns the samples of each side.
 */
export async function alternate<T>(
  repetitions: number,
  ours: (round: number) => Promise<T>,
  baseline: (round: number) => Promise<T>,
): Promise<{ ours: T[]; baseline: T[] }> {
  const samples = { ours: [] as T[], baseline: [] as T[] };
  for (let round = 0; round < repetitions; round++) {
    if (round % 2 === 0) {
      samples.ours.push(await ours(round));
      samples.baseline.push(await baseline(round));
    } else {
      samples.baseline.push(await baseline(round));
      samples.ours.push(await ours(round));
    }
  }
  return samples;
}

/** The largest number of `times` (ms) that fall in any window of `windowMs` (a sliding window). */
export function peakPerWindow(times: readonly number[], windowMs = 1000): number {
  const sorted = [...times].sort((a, b) => a - b);
  let peak = 0;
  let start = 0;
  for (let end = 0; end < sorted.length; end++) {
    while (sorted[end] - sorted[start] >= windowMs) {
      start++;
    }
    peak = Math.max(peak, end - start + 1);
  }
  return peak;
}

/** Rounds to `digits` decimals (for reports). */
export function round(value: number, digits = 2): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
