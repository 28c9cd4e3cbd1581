import { PollPlanner } from '../../lib/handler/poll-planner';

const middle = () => 0.5; // no jitter
const T = 1_000_000;

describe('PollPlanner', () => {
  it('polls after half the remaining time the copy reports', () => {
    const planner = new PollPlanner({ floorMs: 1_000, ceilingMs: 60_000 });
    expect(planner.next({ at: T, status: 'Creating', percent: 10, remainSeconds: 40 }, middle)).toBe(20_000);
  });

  it('estimates from the progress rate when that is sooner than RemainTime', () => {
    const planner = new PollPlanner({ floorMs: 1_000, ceilingMs: 60_000 });
    planner.next({ at: T, status: 'Creating', percent: 10 }, middle);
    // 10% → 30% in 10 s: 2%/s, so 35 s left; RemainTime says 100 s.
    const delay = planner.next(
      { at: T + 10_000, status: 'Creating', percent: 30, remainSeconds: 100 },
      middle,
    );
    expect(delay).toBe(17_500);
    expect(planner.estimateRemainingMs({ at: T + 10_000, status: 'Creating', percent: 30 })).toBe(35_000);
  });

  it('keeps its first sample across invocations', () => {
    const first = new PollPlanner({ floorMs: 1_000, ceilingMs: 60_000 });
    first.next({ at: T, status: 'Creating', percent: 20 }, middle);
    const resumed = new PollPlanner({ floorMs: 1_000, ceilingMs: 60_000 }, first.sample);
    expect(resumed.estimateRemainingMs({ at: T + 20_000, status: 'Creating', percent: 60 })).toBe(20_000);
  });

  it('doubles from the floor when there is nothing to go on (queued, or no progress yet)', () => {
    const planner = new PollPlanner({ floorMs: 1_000, ceilingMs: 5_000 });
    const delays = [0, 1, 2, 3, 4].map((i) => planner.next({ at: T + i, status: 'Waiting' }, middle));
    expect(delays).toEqual([1_000, 2_000, 4_000, 5_000, 5_000]);
  });

  it('stays within the floor and the ceiling, jitter included', () => {
    const planner = new PollPlanner({ floorMs: 2_000, ceilingMs: 30_000, jitter: 0.15 });
    const low = planner.next({ at: T, status: 'Creating', percent: 99, remainSeconds: 1 }, () => 0);
    const high = planner.next(
      { at: T + 1, status: 'Creating', percent: 1, remainSeconds: 3_600 },
      () => 0.9999,
    );
    expect(low).toBeGreaterThanOrEqual(1_700);
    expect(low).toBeLessThanOrEqual(2_000);
    expect(high).toBe(30_000);
  });

  it('spreads polls with jitter', () => {
    const planner = new PollPlanner({ floorMs: 1_000, ceilingMs: 60_000, jitter: 0.2 });
    const observation = { at: T, status: 'Creating', percent: 0, remainSeconds: 20 };
    expect(planner.next(observation, () => 0)).toBe(8_000);
    expect(planner.next(observation, () => 0.5)).toBe(10_000);
  });
});
