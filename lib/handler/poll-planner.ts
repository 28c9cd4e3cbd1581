/**
 * When to look at a copy again. The copy says how far it is (`Progress`) and, per disk, how long it has left
 * (`RemainTime`), and either can be off. The next poll comes a floor after the soonest the copy can finish if its
 * estimate is off by up to `estimateError`: so the end is noticed within about a floor, and polls are never denser
 * than what the estimate can tell apart (halving the estimate polled four times in the last four seconds of a
 * two-minute copy). Without an estimate (just requested, queued in `Waiting`, or no progress yet) the delay
 * doubles from the floor. Always within [floor, ceiling], then jittered, and jitter only ever brings a poll
 * forward: many copies do not poll in step, and none is late.
 */

export interface PollPlannerOptions {
  /** Shortest delay, ms (jitter may bring it forward by up to `jitter`). Default 1,000. */
  readonly floorMs?: number;
  /** Longest delay, ms. Default 30,000. */
  readonly ceilingMs?: number;
  /** Relative jitter: a delay is shortened by up to this fraction. Default 0.15. */
  readonly jitter?: number;
  /** How far the copy's own estimate of its remaining time may be off, relative (±). Default 0.3. */
  readonly estimateError?: number;
  /** Not the planner's: how long a new copy may stay unlisted, ms (see `visibility.ts`). */
  readonly listingBoundMs?: number;
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

/** An estimate of the time left and its resolution (the copy may be that much nearer its end). */
interface Estimate {
  readonly ms: number;
  readonly resolutionMs: number;
}

export class PollPlanner {
  private readonly floorMs: number;
  private readonly ceilingMs: number;
  private readonly jitter: number;
  private readonly estimateError: number;
  private firstSample?: ProgressSample;
  private blindPolls = 0;

  constructor(options: PollPlannerOptions = {}, firstSample?: ProgressSample) {
    this.floorMs = options.floorMs ?? 1_000;
    this.ceilingMs = options.ceilingMs ?? 30_000;
    this.jitter = options.jitter ?? 0.15;
    this.estimateError = options.estimateError ?? 0.3;
    this.firstSample = firstSample;
  }

  /** The first progress reading of the running copy, to carry over to the next invocation. */
  get sample(): ProgressSample | undefined {
    return this.firstSample;
  }

  /** The estimated ms until the copy completes, or undefined when there is nothing to go on. */
  estimateRemainingMs(observation: CopyObservation): number | undefined {
    const estimates = [this.remainTime(observation), this.byProgressRate(observation)];
    const known = estimates.filter((estimate): estimate is Estimate => estimate !== undefined);
    return known.length > 0 ? Math.min(...known.map((estimate) => estimate.ms)) : undefined;
  }

  /**
   * The soonest the copy can be done, ms from the observation, if its estimate is off by up to `estimateError` and
   * by its resolution; undefined when there is nothing to go on. RemainTime is the copy's own estimate; the
   * progress rate only brings the poll forward when it puts the end sooner, or stands in when there is no
   * RemainTime (its resolution is coarse: in the last percent of an hour-long copy, 36 s).
   */
  earliestEndMs(observation: CopyObservation): number | undefined {
    const remainTime = this.remainTime(observation);
    const byRate = this.byProgressRate(observation);
    const trusted = [
      remainTime,
      byRate && (remainTime === undefined || byRate.ms < remainTime.ms) ? byRate : undefined,
    ].filter((estimate): estimate is Estimate => estimate !== undefined);
    if (trusted.length === 0) {
      return undefined;
    }
    return Math.min(
      ...trusted.map(({ ms, resolutionMs }) => Math.max(0, ms - resolutionMs) / (1 + this.estimateError)),
    );
  }

  /** RemainTime, in whole seconds. */
  private remainTime(observation: CopyObservation): Estimate | undefined {
    const seconds = observation.remainSeconds;
    if (observation.status !== 'Creating' || seconds === undefined || seconds <= 0) {
      return undefined;
    }
    return { ms: seconds * 1000, resolutionMs: 1000 };
  }

  /** The rate of progress since the first sample, in whole percents. */
  private byProgressRate(observation: CopyObservation): Estimate | undefined {
    const first = this.firstSample;
    const percent = observation.percent;
    if (
      observation.status !== 'Creating' ||
      !first ||
      percent === undefined ||
      percent <= first.percent ||
      observation.at <= first.at
    ) {
      return undefined;
    }
    const rate = (percent - first.percent) / (observation.at - first.at);
    return { ms: (100 - percent) / rate, resolutionMs: 1 / rate };
  }

  /**
   * The delay before the first look at a copy `CopyImage` has just started: nothing is known of it yet, and it
   * cannot be Available at once, so there is nothing to read before then.
   */
  first(random: () => number = Math.random): number {
    return this.jittered(this.blindDelay(), random);
  }

  /** Records a poll and returns the delay until the next one, ms. */
  next(observation: CopyObservation, random: () => number = Math.random): number {
    if (observation.status === 'Creating' && observation.percent !== undefined) {
      if (!this.firstSample || observation.percent < this.firstSample.percent) {
        this.firstSample = { at: observation.at, percent: observation.percent };
      }
    }
    const earliestEnd = this.earliestEndMs(observation);
    let delay: number;
    if (earliestEnd !== undefined) {
      this.blindPolls = 0;
      delay = earliestEnd + this.floorMs;
    } else {
      delay = this.blindDelay();
    }
    return this.jittered(delay, random);
  }

  /** Doubling from the floor while there is nothing to go on. */
  private blindDelay(): number {
    const delay = this.floorMs * 2 ** this.blindPolls;
    this.blindPolls = Math.min(this.blindPolls + 1, 16);
    return delay;
  }

  /** Clamps to [floor, ceiling], then brings the poll forward by up to `jitter`, never later. */
  private jittered(delay: number, random: () => number): number {
    const clamped = Math.min(this.ceilingMs, Math.max(this.floorMs, delay));
    return Math.round(clamped * (1 - this.jitter * random()));
  }
}
