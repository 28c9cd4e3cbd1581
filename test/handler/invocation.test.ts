import { ContinuationRequired } from '../../lib/handler/errors';
import { Invocation, invocationDeadlines } from '../../lib/handler/invocation';
import { FakeClock } from './fake-clock';

describe('invocationDeadlines', () => {
  it('leaves max(5 s, 10 %) of the timeout for handing over, at most half of it', () => {
    expect(invocationDeadlines(0, 600)).toEqual({ soft: 540_000, hard: 599_000 });
    expect(invocationDeadlines(0, 30)).toEqual({ soft: 25_000, hard: 29_000 });
    expect(invocationDeadlines(0, 4)).toEqual({ soft: 2_000, hard: 3_600 });
  });
});

describe('Invocation', () => {
  it('sleeps when the wait ends before the soft deadline', async () => {
    const clock = new FakeClock(0);
    const invocation = new Invocation(clock, { soft: 10_000, hard: 12_000 });
    await invocation.sleep(4_000);
    expect(clock.now()).toBe(4_000);
  });

  it('spends its budget up to the soft deadline, then hands over with the time the wait was meant to end', async () => {
    const clock = new FakeClock(0);
    const invocation = new Invocation(clock, { soft: 10_000, hard: 12_000 });
    await clock.sleep(7_000);
    const handover = await invocation.sleep(30_000).catch((error: unknown) => error);
    expect(handover).toBeInstanceOf(ContinuationRequired);
    expect((handover as ContinuationRequired).resumeAt).toBe(37_000);
    // It waited until the soft deadline, so that a wait longer than an invocation spans invocations.
    expect(clock.now()).toBe(10_000);
  });

  it('hands over at once when already past the soft deadline', async () => {
    const clock = new FakeClock(11_000);
    const invocation = new Invocation(clock, { soft: 10_000, hard: 12_000 });
    await expect(invocation.sleepUntil(15_000)).rejects.toMatchObject({ resumeAt: 15_000 });
    expect(clock.now()).toBe(11_000);
  });
});

describe('Invocation.callTimeoutMs', () => {
  it('bounds a call by the time left before the hand-over reserve, within a minimum', () => {
    const clock = new FakeClock(0);
    const invocation = new Invocation(clock, invocationDeadlines(0, 4)); // soft 2 s, hard 3.6 s
    expect(invocation.callTimeoutMs(20_000)).toBe(2_800);
    clock.time = 2_500;
    expect(invocation.callTimeoutMs(20_000)).toBe(500);
    const long = new Invocation(clock, invocationDeadlines(0, 600));
    expect(long.callTimeoutMs(20_000)).toBe(20_000);
  });
});
