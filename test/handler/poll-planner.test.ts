import type { EcsApi } from '../../lib/handler/clients';
import { startCopy, waitUntilAvailable } from '../../lib/handler/copy';
import type { CustomResourceEvent } from '../../lib/handler/event';
import { Invocation } from '../../lib/handler/invocation';
import { Logger } from '../../lib/handler/log';
import { createOperationContext } from '../../lib/handler/operation';
import { OperationState } from '../../lib/handler/operation-state';
import { PollPlanner, type PollPlannerOptions } from '../../lib/handler/poll-planner';
import type { ImageCopySettings } from '../../lib/handler/settings';
import { OWNERSHIP_TAG_KEY, ownershipRequestHash, ownershipTagValue } from '../../lib/protocol';
import { FakeClock } from './fake-clock';

const noJitter = () => 0; // jitter only shortens a delay: 0 keeps it as planned
const T = 1_000_000;

/**
 * Follows a copy of `durationMs` on a virtual clock, the way the handler does after CopyImage: a first planned
 * wait, then a poll and the planned delay, until the copy is done. The copy reports its true Progress (whole
 * percents) and a RemainTime off by `factor(poll)` (whole seconds, rounded down). Returns the poll times, ms
 * after CopyImage, and how late the last one came after the copy's end.
 */
function followCopy(
  durationMs: number,
  factor: (poll: number) => number,
  options: PollPlannerOptions = {},
  random: () => number = noJitter,
): { polls: number[]; lagMs: number } {
  const planner = new PollPlanner(options);
  const polls: number[] = [];
  let t = planner.first(random);
  for (;;) {
    polls.push(t);
    if (t >= durationMs) {
      return { polls, lagMs: t - durationMs };
    }
    const left = durationMs - t;
    t += planner.next(
      {
        at: T + t,
        status: 'Creating',
        percent: Math.floor((t * 100) / durationMs),
        remainSeconds: Math.floor((left / 1000) * factor(polls.length)),
      },
      random,
    );
  }
}

/** RemainTime off by up to ±30%: always short, always long, alternating, and scattered. */
const ERRORS: Record<string, (poll: number) => number> = {
  exact: () => 1,
  'always 30% short': () => 0.7,
  'always 30% long': () => 1.3,
  alternating: (poll) => (poll % 2 === 0 ? 0.7 : 1.3),
  scattered: (poll) => 1 + 0.3 * Math.sin(poll * 2.4),
};

describe('PollPlanner', () => {
  it('polls a floor after the earliest end the copy reports, given how far off RemainTime may be', () => {
    const planner = new PollPlanner({ floorMs: 1_000, ceilingMs: 60_000, estimateError: 0.25 });
    // 41 s in whole seconds: at least 40 s; if 25% long, at least 32 s; then a floor to notice the end.
    expect(planner.next({ at: T, status: 'Creating', percent: 10, remainSeconds: 41 }, noJitter)).toBe(
      33_000,
    );
  });

  it('estimates from the progress rate when that is sooner than RemainTime', () => {
    const planner = new PollPlanner({ floorMs: 1_000, ceilingMs: 60_000, estimateError: 0.25 });
    planner.next({ at: T, status: 'Creating', percent: 10 }, noJitter);
    // 10% → 30% in 10 s: 2%/s, so 35 s left (0.5 s a percent); RemainTime says 100 s.
    const delay = planner.next(
      { at: T + 10_000, status: 'Creating', percent: 30, remainSeconds: 100 },
      noJitter,
    );
    expect(delay).toBe(28_600); // (35 s - 0.5 s) / 1.25 + 1 s
    expect(planner.estimateRemainingMs({ at: T + 10_000, status: 'Creating', percent: 30 })).toBe(35_000);
  });

  it('keeps its first sample across invocations', () => {
    const first = new PollPlanner({ floorMs: 1_000, ceilingMs: 60_000 });
    first.next({ at: T, status: 'Creating', percent: 20 }, noJitter);
    const resumed = new PollPlanner({ floorMs: 1_000, ceilingMs: 60_000 }, first.sample);
    expect(resumed.estimateRemainingMs({ at: T + 20_000, status: 'Creating', percent: 60 })).toBe(20_000);
  });

  it('doubles from the floor when there is nothing to go on (queued, or no progress yet)', () => {
    const planner = new PollPlanner({ floorMs: 1_000, ceilingMs: 5_000 });
    const delays = [0, 1, 2, 3, 4].map((i) => planner.next({ at: T + i, status: 'Waiting' }, noJitter));
    expect(delays).toEqual([1_000, 2_000, 4_000, 5_000, 5_000]);
  });

  it('plans the first look at a copy just requested as a blind wait: the floor, then doubling', () => {
    const planner = new PollPlanner({ floorMs: 1_000, ceilingMs: 30_000 });
    expect(planner.first(noJitter)).toBe(1_000);
    expect(planner.next({ at: T + 1_000, status: 'Creating' }, noJitter)).toBe(2_000);
    expect(planner.next({ at: T + 3_000, status: 'Creating', remainSeconds: 30 }, noJitter)).toBe(23_308);
  });

  it('stays within the ceiling, and jitter only ever brings a poll forward', () => {
    const planner = new PollPlanner({ floorMs: 2_000, ceilingMs: 30_000, jitter: 0.15 });
    const low = planner.next({ at: T, status: 'Creating', percent: 99, remainSeconds: 1 }, () => 0.9999);
    const high = planner.next({ at: T + 1, status: 'Creating', percent: 1, remainSeconds: 3_600 }, noJitter);
    expect(low).toBeGreaterThanOrEqual(1_700);
    expect(low).toBeLessThanOrEqual(2_000);
    expect(high).toBe(30_000);
  });

  it('spreads polls with jitter, never later than planned', () => {
    const planner = new PollPlanner({ floorMs: 1_000, ceilingMs: 60_000, jitter: 0.2 });
    const observation = { at: T, status: 'Creating', remainSeconds: 14 };
    expect(planner.next(observation, noJitter)).toBe(11_000);
    expect(planner.next(observation, () => 0.5)).toBe(9_900);
    expect(planner.next(observation, () => 0.9999)).toBe(8_800);
  });

  describe('over a whole copy, with RemainTime off by up to the estimate error (30%)', () => {
    for (const [name, factor] of Object.entries(ERRORS)) {
      it(`notices the end within a floor of it (${name})`, () => {
        for (const seconds of [5, 30, 120, 600, 3_600]) {
          for (const random of [noJitter, () => 0.5, () => 0.9999]) {
            const { lagMs } = followCopy(seconds * 1000, factor, {}, random);
            expect(lagMs).toBeLessThanOrEqual(1_000);
          }
        }
      });

      it(`does not crowd the end of a two-minute copy (${name})`, () => {
        const { polls } = followCopy(120_000, factor);
        // Halving the estimate made 12 to 16 polls here, 6 to 9 of them in the last 10 s; Terraform's wait makes 10.
        expect(polls.length).toBeLessThanOrEqual(10);
        expect(polls.filter((t) => t > 110_000).length).toBeLessThanOrEqual(5);
        const gaps = polls.slice(1).map((t, i) => t - polls[i]);
        expect(Math.min(...gaps)).toBeGreaterThanOrEqual(1_000);
      });
    }

    it('polls long copies at the ceiling until the end is near', () => {
      const { polls } = followCopy(3_600_000, ERRORS.exact);
      const gaps = polls.slice(1).map((t, i) => t - polls[i]);
      expect(gaps.slice(0, 100).every((gap) => gap === 30_000)).toBe(true);
      expect(polls.length).toBeLessThanOrEqual(3_600 / 30 + 6);
    });
  });
});

describe('waiting for a copy', () => {
  const REGION = 'cn-shanghai';
  const COPY_ID = 'm-uf6newcopy';
  const settings: ImageCopySettings = {
    sourceImageId: 'm-bp1source',
    sourceRegionId: 'cn-hangzhou',
    destinationRegionId: REGION,
    imageName: 'web',
    encrypted: false,
    tags: {},
    force: false,
    createTimeoutSeconds: 600,
    deleteTimeoutSeconds: 600,
    replicaRegionIds: [],
  };

  /**
   * An ECS whose copy takes `copyMs` from CopyImage (or is already running, `existing`), on the fake clock, and a
   * journal of the calls and sleeps in the order they happened.
   */
  function world(copyMs: number, existing?: { startedAt: number }) {
    const journal: string[] = [];
    const clock = new FakeClock(Date.parse('2026-01-01T00:00:00Z'), 0.5);
    const sleep = clock.sleep.bind(clock);
    clock.sleep = async (ms: number) => {
      journal.push('sleep');
      await sleep(ms);
    };
    let startedAt = existing?.startedAt;
    const image = () => {
      const done = startedAt !== undefined && clock.now() - startedAt >= copyMs;
      const left = startedAt === undefined ? copyMs : copyMs - (clock.now() - startedAt);
      return {
        ImageId: COPY_ID,
        ImageName: 'web',
        Status: done ? 'Available' : 'Creating',
        Progress: done ? '100%' : `${Math.floor(((copyMs - left) * 100) / copyMs)}%`,
        DiskDeviceMappings: { DiskDeviceMapping: done ? [] : [{ RemainTime: Math.ceil(left / 1000) }] },
        Tags: {
          Tag: [{ TagKey: OWNERSHIP_TAG_KEY, TagValue: ownershipTagValue('stack', 'Copy', 'request') }],
        },
      };
    };
    const ecs: EcsApi = {
      async call(action, request) {
        const tagged = action === 'DescribeImages' && 'Tag' in request;
        journal.push(tagged ? 'DescribeImages(tag)' : action);
        if (action === 'CopyImage') {
          startedAt = clock.now();
          return { ImageId: COPY_ID } as never;
        }
        if (action === 'DescribeImages') {
          const images = startedAt === undefined ? [] : [image()];
          return { Images: { Image: images }, TotalCount: images.length } as never;
        }
        throw new Error(`unexpected ${action}`);
      },
    };
    const invocation = new Invocation(clock, { soft: clock.now() + 600_000, hard: clock.now() + 650_000 });
    const log = new Logger({ info: () => undefined });
    const state = new OperationState('copy', clock.now());
    state.setTimeouts(600, 600);
    const ctx = createOperationContext({
      event: {
        RequestType: 'Create',
        StackId: 'stack',
        RequestId: 'request',
        LogicalResourceId: 'Copy',
      } as CustomResourceEvent,
      clock,
      invocation,
      log,
      state,
      polling: {},
      ecs,
    });
    return { ctx, journal, clock };
  }

  it('makes no DescribeImages between CopyImage and the first planned wait', async () => {
    const { ctx, journal } = world(120_000);
    const imageId = await startCopy(ctx, settings, { instance: ownershipRequestHash('request') });
    ctx.state.enter('wait', ctx.clock.now());
    const image = await waitUntilAvailable(ctx, settings, imageId);
    expect(image.status).toBe('Available');
    expect(journal.slice(0, 4)).toEqual(['DescribeImages(tag)', 'CopyImage', 'sleep', 'DescribeImages']);
    // Then it alternates: every poll is followed by a planned wait, and the last one finds the copy Available.
    const polls = journal.filter((entry) => entry === 'DescribeImages').length;
    expect(journal.slice(2)).toEqual(Array.from({ length: polls }, () => ['sleep', 'DescribeImages']).flat());
    expect(polls).toBeLessThanOrEqual(8);
  });

  it('looks at once at a copy this request had already started (it may be Available by now)', async () => {
    const { ctx, journal, clock } = world(120_000, {
      startedAt: Date.parse('2026-01-01T00:00:00Z') - 200_000,
    });
    const imageId = await startCopy(ctx, settings, { instance: ownershipRequestHash('request') });
    ctx.state.enter('wait', clock.now());
    const image = await waitUntilAvailable(ctx, settings, imageId);
    expect(image.status).toBe('Available');
    expect(journal).toEqual(['DescribeImages(tag)', 'DescribeImages']);
  });
});
