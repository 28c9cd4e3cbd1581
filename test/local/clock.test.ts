import { systemClock } from '../../lib/local/clock';
import { FastForwardClock } from '../support/fast-forward-clock';

/** The clock LocalCloud's ROS runs on, and the one tests give it to move time forward. */

describe('systemClock', () => {
  it('tells the time and ends a wait once it has passed', async () => {
    const before = Date.now();
    expect(systemClock.now()).toBeGreaterThanOrEqual(before);
    await systemClock.sleep(20);
    expect(Date.now() - before).toBeGreaterThanOrEqual(15);
  });

  it('ends a wait early, with the reason, when its signal aborts, and refuses one already aborted', async () => {
    const controller = new AbortController();
    const wait = systemClock.sleep(60_000, controller.signal);
    controller.abort(new Error('over'));
    await expect(wait).rejects.toThrow('over');
    await expect(systemClock.sleep(10, controller.signal)).rejects.toThrow('over');
  });
});

describe('FastForwardClock', () => {
  it('runs with real time, and forward() moves it ahead at once, ending the waits that fall due in time order', async () => {
    const clock = new FastForwardClock();
    const start = clock.now();
    const woken: string[] = [];
    void clock.sleep(60_000).then(() => woken.push('one minute'));
    void clock.sleep(1_000).then(() => woken.push('one second'));
    void clock.sleep(3_600_000).then(() => woken.push('one hour'));
    await clock.forward(120_000);
    expect(woken).toEqual(['one second', 'one minute']);
    expect(clock.now() - start).toBeGreaterThanOrEqual(120_000);
  });

  it('ends the waits that the code it wakes starts within the time forwarded', async () => {
    const clock = new FastForwardClock();
    const steps: string[] = [];
    void clock
      .sleep(100)
      .then(() => steps.push('first half'))
      .then(() => clock.sleep(100))
      .then(() => steps.push('second half'));
    await clock.forward(200);
    expect(steps).toEqual(['first half', 'second half']);
  });

  it('ends them however long the woken code takes in real time before its next wait (a busy machine)', async () => {
    const clock = new FastForwardClock();
    const steps: string[] = [];
    void clock
      .sleep(100)
      .then(() => {
        const until = Date.now() + 20;
        while (Date.now() < until) {
          // real time passes, as on a loaded machine, before the code starts its next wait
        }
        steps.push('first half');
      })
      .then(() => clock.sleep(100))
      .then(() => steps.push('second half'));
    const start = clock.now();
    await clock.forward(200);
    expect(steps).toEqual(['first half', 'second half']);
    expect(clock.now() - start).toBeGreaterThanOrEqual(200);
  });

  it('ends a wait early, with the reason, when its signal aborts', async () => {
    const clock = new FastForwardClock();
    const controller = new AbortController();
    const wait = clock.sleep(1_000, controller.signal);
    controller.abort(new Error('cancelled'));
    await expect(wait).rejects.toThrow('cancelled');
  });
});
