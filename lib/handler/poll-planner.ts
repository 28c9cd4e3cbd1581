/**
 * When to look at a copy again. The copy says how far it is (`Progress`) and, per disk, how long it has left
 * (`RemainTime`); the next poll comes after about half the estimated remaining time, so polls thin out on long
 * copies and close in on the end, where the floor bounds the delay with which completion is noticed. Without an
 * estimate (queued in `Waiting`, or no progress yet) the delay doubles from the floor. Always within
 * [floor, ceiling], with jitter so that many copies do not poll in step.
 */

export interface PollPlannerOptions {
  /** Shortest delay, ms. Default 1,000. */
  readonly floorMs?: number;
  /** Longest delay, ms. Default 30,000. */
  readonly ceilingMs?: number;
  /** Relative jitter, ±. Default 0.15. */
  readonly jitter?: number;
}

/** What a poll saw. */
export interface CopyObservation {
  readonly at: number;
  readonly status: string;
  /** 0-100, when reported. */
  readonly percent?: number;
  /** Seconds left, when reported (the largest over the disks). */
  readonly remainSeconds?: number;
}

/** A progress reading kept to estimate the rate. */
export interface ProgressSample {
  readonly at: number;
  readonly percent: number;
}

export class PollPlanner {
  private readonly floorMs: number;
  private readonly ceilingMs: number;
  private readonly jitter: number;
  private firstSample?: ProgressSample;
  private blindPolls = 0;

  constructor(options: PollPlannerOptions = {}, firstSample?: ProgressSample) {
    this.floorMs = options.floorMs ?? 1_000;
    this.ceilingMs = options.ceilingMs ?? 30_000;
    this.jitter = options.jitter ?? 0.15;
    this.firstSample = firstSample;
  }

  /** The first progress reading of the running copy, to carry over to the next invocation. */
  get sample(): ProgressSample | undefined {
    return this.firstSample;
  }

  /** The estimated ms until the copy completes, or undefined when there is nothing to go on. */
  estimateRemainingMs(observation: CopyObservation): number | undefined {
    if (observation.status !== 'Creating') {
      return undefined;
    }
    const estimates: number[] = [];
    if (observation.remainSeconds !== undefined && observation.remainSeconds > 0) {
      estimates.push(observation.remainSeconds * 1000);
    }
    const first = this.firstSample;
    const percent = observation.percent;
    if (first && percent !== undefined && percent > first.percent && observation.at > first.at) {
      const rate = (percent - first.percent) / (observation.at - first.at);
      estimates.push((100 - percent) / rate);
    }
    return estimates.length > 0 ? Math.min(...estimates) : undefined;
  }

  /** Records a poll and returns the delay until the next one, ms. */
  next(observation: CopyObservation, random: () => number = Math.random): number {
    if (observation.status === 'Creating' && observation.percent !== undefined) {
      if (!this.firstSample || observation.percent < this.firstSample.percent) {
        this.firstSample = { at: observation.at, percent: observation.percent };
      }
    }
    const remaining = this.estimateRemainingMs(observation);
    let delay: number;
    if (remaining !== undefined) {
      this.blindPolls = 0;
      delay = remaining / 2;
    } else {
      delay = this.floorMs * 2 ** this.blindPolls;
      this.blindPolls = Math.min(this.blindPolls + 1, 16);
    }
    delay = Math.min(this.ceilingMs, Math.max(this.floorMs, delay));
    const jittered = delay * (1 - this.jitter + 2 * this.jitter * random());
    return Math.round(Math.min(this.ceilingMs, jittered));
  }
}
