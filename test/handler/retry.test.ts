import { backoffDelay, retryAfterMs, transientKind, withRetry } from '../../lib/handler/retry';
import { FakeClock } from './fake-clock';

const apiError = (fields: Record<string, unknown>) =>
  Object.assign(new Error(String(fields.message ?? 'x')), fields);

describe('transientKind', () => {
  it.each([
    [{ name: 'ThrottlingError', code: 'Throttling.User' }, 'throttling'],
    [{ code: 'Throttling' }, 'throttling'],
    [{ code: 'Throttling.Api', statusCode: 400 }, 'throttling'],
    [{ code: 'ServiceUnavailable', statusCode: 503 }, 'unavailable'],
    [{ code: 'InternalError', statusCode: 500 }, 'server'],
    [{ code: 'ECONNRESET' }, 'network'],
    [{ code: 'ECONNREFUSED' }, 'network'],
    [{ name: 'RequestTimeoutError', message: 'ReadTimeout(20000)' }, 'network'],
    [{ message: 'socket hang up' }, 'network'],
  ])('retries %j as %s', (fields, kind) => {
    expect(transientKind(apiError(fields))).toBe(kind);
  });

  it.each([
    [{ code: 'InvalidImageId.NotFound', statusCode: 404 }],
    [{ code: 'Forbidden.RAM', statusCode: 403 }],
    [{ code: 'IncorrectImageStatus', statusCode: 400 }],
    [{ message: 'something else' }],
  ])('does not retry %j', (fields) => {
    expect(transientKind(apiError(fields))).toBeUndefined();
  });
});

describe('retryAfterMs', () => {
  it("reads the server's requested wait, when there is one", () => {
    expect(retryAfterMs(apiError({ retryAfter: 1500 }))).toBe(1500);
    expect(retryAfterMs(apiError({ retryAfter: 0 }))).toBeUndefined();
    expect(retryAfterMs(apiError({}))).toBeUndefined();
  });

  it('reads x-acs-retry-after of 10 or less as seconds and a larger one as milliseconds (retryAfterUnit s and ms)', () => {
    // The same 3-second wait, sent in either unit.
    expect(retryAfterMs(apiError({ retryAfter: 3 }))).toBe(3_000);
    expect(retryAfterMs(apiError({ retryAfter: 3_000 }))).toBe(3_000);
    expect(retryAfterMs(apiError({ retryAfter: 10 }))).toBe(10_000);
    expect(retryAfterMs(apiError({ retryAfter: 10_000 }))).toBe(10_000);
  });

  it('bounds the wait to 1-30 s', () => {
    expect(retryAfterMs(apiError({ retryAfter: 200 }))).toBe(1_000);
    expect(retryAfterMs(apiError({ retryAfter: 11 }))).toBe(1_000);
    expect(retryAfterMs(apiError({ retryAfter: 120_000 }))).toBe(30_000);
  });

  it('is never 1000x off, whichever unit the server meant', () => {
    const bounded = (ms: number) => Math.min(30_000, Math.max(1_000, ms));
    for (let value = 1; value <= 100_000; value = Math.ceil(value * 1.3)) {
      const read = retryAfterMs(apiError({ retryAfter: value }))!;
      for (const meantMs of [value * 1000, value]) {
        const ratio = read / bounded(meantMs);
        expect(ratio).toBeLessThanOrEqual(10);
        expect(ratio).toBeGreaterThanOrEqual(1 / 30);
      }
    }
  });
});

describe('backoffDelay', () => {
  it('doubles from the base up to the cap, with jitter around it', () => {
    const none = { random: () => 0.5 };
    expect([1, 2, 3, 4, 10].map((n) => backoffDelay(n, { baseMs: 500, maxMs: 4_000, ...none }))).toEqual([
      500, 1_000, 2_000, 4_000, 4_000,
    ]);
    expect(backoffDelay(1, { baseMs: 1_000, jitter: 0.2, random: () => 0 })).toBe(800);
    expect(backoffDelay(1, { baseMs: 1_000, jitter: 0.2, random: () => 0.9999 })).toBe(1_200);
  });
});

describe('withRetry', () => {
  it('retries transient errors until the call succeeds', async () => {
    const clock = new FakeClock();
    const failures = [apiError({ code: 'Throttling.User' }), apiError({ code: 'ServiceUnavailable' })];
    const retries: string[] = [];
    const result = await withRetry(
      async (attempt) => {
        const failure = failures.shift();
        if (failure) {
          throw failure;
        }
        return `ok after ${attempt}`;
      },
      {
        operation: 'ECS DescribeImages',
        deadline: clock.now() + 60_000,
        clock,
        onRetry: (i) => retries.push(i.kind),
      },
    );
    expect(result).toBe('ok after 3');
    expect(retries).toEqual(['throttling', 'unavailable']);
    expect(clock.sleeps).toEqual([500, 1_000]);
  });

  it('waits at least what a throttling error asks for', async () => {
    const clock = new FakeClock();
    let first = true;
    await withRetry(
      async () => {
        if (first) {
          first = false;
          throw apiError({ name: 'ThrottlingError', code: 'Throttling.User', retryAfter: 3_000 });
        }
        return 'ok';
      },
      { operation: 'op', deadline: clock.now() + 60_000, clock },
    );
    expect(clock.sleeps).toEqual([3_000]);
  });

  it('fails at once on an error that is not transient', async () => {
    const clock = new FakeClock();
    let calls = 0;
    const error = apiError({ code: 'InvalidImageId.NotFound', statusCode: 404 });
    await expect(
      withRetry(
        async () => {
          calls++;
          throw error;
        },
        { operation: 'op', deadline: clock.now() + 60_000, clock },
      ),
    ).rejects.toBe(error);
    expect(calls).toBe(1);
  });

  it('gives up after maxAttempts, or when the next wait would pass the deadline', async () => {
    const clock = new FakeClock();
    let calls = 0;
    const failing = async () => {
      calls++;
      throw apiError({ code: 'ECONNRESET' });
    };
    await expect(
      withRetry(failing, { operation: 'op', deadline: clock.now() + 600_000, clock, maxAttempts: 3 }),
    ).rejects.toThrow();
    expect(calls).toBe(3);
    calls = 0;
    await expect(
      withRetry(failing, { operation: 'op', deadline: clock.now() + 1_400, clock }),
    ).rejects.toThrow();
    expect(calls).toBe(2); // waits 500, then 1000 would end past the deadline
  });

  it('waits through the sleep it is given (the invocation, which may hand over)', async () => {
    const clock = new FakeClock();
    const waited: number[] = [];
    let first = true;
    await withRetry(
      async () => {
        if (first) {
          first = false;
          throw apiError({ code: 'ServiceUnavailable' });
        }
      },
      { operation: 'op', deadline: clock.now() + 60_000, clock, sleep: async (ms) => void waited.push(ms) },
    );
    expect(waited).toEqual([500]);
    expect(clock.sleeps).toEqual([]);
  });
});
