import type { Clock } from '../../lib/clock';

/** A clock whose sleeps return at once, moving time forward by the slept amount; `random` is fixed. */
export class FakeClock implements Clock {
  readonly sleeps: number[] = [];

  constructor(
    public time = Date.parse('2026-01-01T00:00:00Z'),
    private readonly randomValue = 0.5,
  ) {}

  now(): number {
    return this.time;
  }

  async sleep(ms: number): Promise<void> {
    this.sleeps.push(ms);
    this.time += Math.max(0, ms);
  }

  random(): number {
    return this.randomValue;
  }
}
