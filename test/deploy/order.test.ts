import { runInOrder } from '../../lib/deploy';

interface Result {
  readonly name: string;
  readonly success: boolean;
  readonly skippedFor?: string;
}

const stack = (stackName: string, ...dependencies: string[]) => ({ stackName, dependencies });

/** Work that records when each stack starts and ends, finishing when the test releases it. */
function controlledWork(fail: string[] = []) {
  const log: string[] = [];
  const release = new Map<string, () => void>();
  let active = 0;
  let maxActive = 0;
  const work = async (s: { stackName: string }): Promise<Result> => {
    log.push(`start ${s.stackName}`);
    maxActive = Math.max(maxActive, ++active);
    await new Promise<void>((r) => release.set(s.stackName, r));
    active--;
    log.push(`end ${s.stackName}`);
    return { name: s.stackName, success: !fail.includes(s.stackName) };
  };
  /** Releases the stacks as they start, in the order given. */
  const drive = async (order: string[]) => {
    for (const name of order) {
      while (!release.has(name)) {
        await new Promise((r) => setImmediate(r));
      }
      release.get(name)!();
    }
  };
  return { work, drive, log, maxActive: () => maxActive };
}

const skipped = (s: { stackName: string }, prerequisite: string): Result => ({
  name: s.stackName,
  success: false,
  skippedFor: prerequisite,
});

describe('runInOrder', () => {
  it('starts a stack only after its dependencies, running independent ones side by side up to the limit', async () => {
    const w = controlledWork();
    const stacks = [stack('App', 'Base', 'Net'), stack('Base'), stack('Net'), stack('Other')];
    const running = runInOrder(stacks, {
      concurrency: 2,
      order: 'dependencies-first',
      work: w.work,
      skipped,
    });
    await w.drive(['Base', 'Net', 'Other', 'App']);
    const results = await running;
    const at = (entry: string) => w.log.indexOf(entry);
    expect(at('start App')).toBeGreaterThan(at('end Base'));
    expect(at('start App')).toBeGreaterThan(at('end Net'));
    expect(w.log.slice(0, 2)).toEqual(['start Base', 'start Net']);
    expect(w.maxActive()).toBe(2);
    expect(results.map((r) => r.name).sort()).toEqual(['App', 'Base', 'Net', 'Other']);
  });

  it('destroys dependents first', async () => {
    const w = controlledWork();
    const running = runInOrder([stack('Base'), stack('App', 'Base')], {
      concurrency: 4,
      order: 'dependents-first',
      work: w.work,
      skipped,
    });
    await w.drive(['App', 'Base']);
    await running;
    expect(w.log).toEqual(['start App', 'end App', 'start Base', 'end Base']);
  });

  it('skips whatever waits, directly or not, for a stack that failed', async () => {
    const w = controlledWork(['Base']);
    // Listed so that the indirect dependent comes before the direct one.
    const stacks = [stack('Top', 'Mid'), stack('Mid', 'Base'), stack('Base'), stack('Side')];
    const running = runInOrder(stacks, {
      concurrency: 1,
      order: 'dependencies-first',
      work: w.work,
      skipped,
    });
    await w.drive(['Base', 'Side']);
    const results = await running;
    expect([...results].sort((a, b) => a.name.localeCompare(b.name))).toEqual([
      { name: 'Base', success: false },
      { name: 'Mid', success: false, skippedFor: 'Base' },
      { name: 'Side', success: true },
      { name: 'Top', success: false, skippedFor: 'Mid' },
    ]);
    expect(w.log).not.toContain('start Top');
  });

  it('starts nothing new after an error and rethrows it once the running work is over', async () => {
    const log: string[] = [];
    const running = runInOrder([stack('A'), stack('B'), stack('C', 'A')], {
      concurrency: 2,
      order: 'dependencies-first',
      skipped,
      work: async (s) => {
        log.push(s.stackName);
        if (s.stackName === 'A') {
          throw new Error('A exploded');
        }
        await new Promise((r) => setTimeout(r, 20));
        return { name: s.stackName, success: true };
      },
    });
    await expect(running).rejects.toThrow('A exploded');
    expect(log).toEqual(['A', 'B']);
  });
});
