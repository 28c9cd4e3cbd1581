import Ecs, * as $Ecs from '@alicloud/ecs20140526';
import * as $Ros from '@alicloud/ros20190910';
import fc from 'fast-check';
import { FaultPlan, FaultPlanError, LocalCloud } from '../../lib/local';
import type { FaultHook } from '../../lib/local';
import { writeZip } from '../../lib/zip';
import { ecsClient, rosClient, withCloud } from '../support/cloud';

const SEED_IMAGE = 'm-bp1seedgoldenimage01';

async function errorOf(promise: Promise<unknown>): Promise<any> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected the call to fail');
}

/** The outcome of a call as a short word: `ok` or the error code. */
async function outcome(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'ok';
  } catch (err) {
    return String((err as { code?: string }).code);
  }
}

const describeRegions = (ecs: Ecs) => ecs.describeRegions(new $Ecs.DescribeRegionsRequest({}));

describe('LocalCloud fault injection through the real ECS SDK', () => {
  let cloud: LocalCloud | undefined;
  afterEach(async () => {
    await cloud?.stop();
    cloud = undefined;
  });

  it('throttles with Throttling.User, HTTP 400 and x-acs-retry-after, which the SDK raises as ThrottlingError', async () => {
    cloud = await LocalCloud.start({
      faults: {
        rules: [{ kind: 'throttle', product: 'ecs', action: 'DescribeRegions', retryAfterMs: 2500 }],
      },
    });
    const err = await errorOf(describeRegions(ecsClient(cloud)));
    expect(err.name).toBe('ThrottlingError');
    expect(err.code).toBe('Throttling.User');
    expect(err.statusCode).toBe(400);
    // retryAfterUnit: s (the default): 2.5 s, rounded up to whole seconds.
    expect(err.retryAfter).toBe(3);
    expect(err.data.Message).toBe('Request was denied due to user flow control.');
    expect(err.data.RequestId).toMatch(/^[0-9A-F-]{36}$/);
    // The call never reached ECS.
    expect(cloud.ecs.callCounts().DescribeRegions).toBeUndefined();
    expect(cloud.calls.at(-1)).toMatchObject({
      product: 'ecs',
      action: 'DescribeRegions',
      status: 400,
      code: 'Throttling.User',
    });
  });

  it('sends x-acs-retry-after in milliseconds under retryAfterUnit ms', async () => {
    cloud = await LocalCloud.start({
      variants: { retryAfterUnit: 'ms' },
      faults: { rules: [{ kind: 'throttle', retryAfterMs: 2500 }] },
    });
    expect(await errorOf(describeRegions(ecsClient(cloud)))).toMatchObject({
      code: 'Throttling.User',
      retryAfter: 2500,
    });
  });

  describe('enforceRetryAfter: a client that retries before the asked wait is over is throttled again', () => {
    /** Throttled once, then retries after reading `x-acs-retry-after` as `readAs`; the outcome of each retry. */
    async function retryAfterReading(unit: 's' | 'ms', readAs: 's' | 'ms'): Promise<string[]> {
      cloud = await LocalCloud.start({
        variants: { retryAfterUnit: unit },
        faults: {
          rules: [
            {
              kind: 'throttle',
              product: 'ecs',
              action: 'DescribeRegions',
              first: 1,
              retryAfterMs: 1000,
              enforceRetryAfter: true,
            },
          ],
        },
      });
      const ecs = ecsClient(cloud);
      const outcomes: string[] = [];
      let err = await errorOf(describeRegions(ecs));
      for (let attempt = 0; attempt < 3 && err; attempt++) {
        const waitMs = readAs === 's' ? err.retryAfter * 1000 : err.retryAfter;
        await new Promise((resolve) => setTimeout(resolve, waitMs + 20));
        err = await describeRegions(ecs).then(
          () => undefined,
          (e: unknown) => e,
        );
        outcomes.push(err ? String(err.code) : 'ok');
      }
      return outcomes;
    }

    it('a client that reads seconds as milliseconds waits 1000 times too short and is throttled again', async () => {
      const outcomes = await retryAfterReading('s', 'ms');
      expect(outcomes.slice(0, 2)).toEqual(['Throttling.User', 'Throttling.User']);
      // Each early retry counts as a throttle, asked for what is left of the wait.
      expect(cloud!.faults.stats().throttle).toBeGreaterThanOrEqual(3);
    });

    it('a client that reads the unit right waits long enough and is served, in seconds and in milliseconds', async () => {
      expect(await retryAfterReading('s', 's')).toEqual(['ok']);
      await cloud!.stop();
      expect(await retryAfterReading('ms', 'ms')).toEqual(['ok']);
    });

    it('holds only the throttled client to its wait: another access key calls at once', async () => {
      cloud = await LocalCloud.start({
        faults: { rules: [{ kind: 'throttle', first: 1, retryAfterMs: 60_000, enforceRetryAfter: true }] },
      });
      const root = ecsClient(cloud);
      expect(await outcome(describeRegions(root))).toBe('Throttling.User');
      expect(await outcome(describeRegions(root))).toBe('Throttling.User');
      const role = cloud.issueRoleCredentials('other-client', {
        Version: '1',
        Statement: [{ Effect: 'Allow', Action: 'ecs:DescribeRegions', Resource: '*' }],
      });
      const other = ecsClient(cloud, 'cn-hangzhou', role);
      expect(await outcome(describeRegions(other))).toBe('ok');
    });
  });

  it('answers error500 with a 500 InternalError and error503 with a 503 ServiceUnavailable (ServerError)', async () => {
    cloud = await LocalCloud.start({
      faults: {
        rules: [
          { kind: 'error500', action: 'DescribeRegions' },
          { kind: 'error503', action: 'DescribeImages' },
        ],
      },
    });
    const ecs = ecsClient(cloud);
    const e500 = await errorOf(describeRegions(ecs));
    expect([e500.name, e500.code, e500.statusCode]).toEqual(['ServerError', 'InternalError', 500]);
    const e503 = await errorOf(
      ecs.describeImages(new $Ecs.DescribeImagesRequest({ regionId: 'cn-hangzhou' })),
    );
    expect([e503.name, e503.code, e503.statusCode]).toEqual(['ServerError', 'ServiceUnavailable', 503]);
    expect(e503.data).toMatchObject({ HostId: 'ecs.aliyuncs.com', Code: 'ServiceUnavailable' });
  });

  it('resets the connection, which the SDK reports as a network error, and records it', async () => {
    cloud = await LocalCloud.start({ faults: { rules: [{ kind: 'reset', product: 'ecs', first: 1 }] } });
    const ecs = ecsClient(cloud);
    const err = await errorOf(describeRegions(ecs));
    expect(err.code ?? err.message).toMatch(/ECONNRESET|socket hang up/);
    expect(cloud.calls.at(-1)).toMatchObject({
      action: 'DescribeRegions',
      status: 0,
      code: 'ConnectionReset',
    });
    // Only the first call: the next one is served.
    expect((await describeRegions(ecs)).statusCode).toBe(200);
    expect(cloud.faults.stats().reset).toBe(1);
  });

  it('adds latency before serving a call, and the call still succeeds', async () => {
    const slept: number[] = [];
    const plan = new FaultPlan(
      {
        rules: [
          { kind: 'latency', product: 'ecs', latencyMs: 300 },
          { kind: 'latency', action: 'DescribeRegions', latencyMs: 40 },
        ],
      },
      { sleep: async (ms) => void slept.push(ms) },
    );
    cloud = await LocalCloud.start({ faults: plan });
    expect((await describeRegions(ecsClient(cloud))).statusCode).toBe(200);
    // Latency rules add up.
    expect(slept).toEqual([340]);
    expect(cloud.faults.stats().latency).toBe(2);
  });

  it('narrows rules by product and action (a name or a list)', async () => {
    cloud = await LocalCloud.start({
      faults: {
        rules: [
          { kind: 'error503', product: 'ros' },
          { kind: 'error500', product: 'ecs', action: ['CopyImage', 'DeleteImage'] },
        ],
      },
    });
    const ecs = ecsClient(cloud);
    expect(await outcome(describeRegions(ecs))).toBe('ok');
    expect(
      await outcome(
        ecs.copyImage(
          new $Ecs.CopyImageRequest({
            regionId: 'cn-hangzhou',
            imageId: SEED_IMAGE,
            destinationRegionId: 'cn-shanghai',
          }),
        ),
      ),
    ).toBe('InternalError');
    const ros = rosClient(cloud);
    expect(await outcome(ros.listStacks(new $Ros.ListStacksRequest({ regionId: 'cn-hangzhou' })))).toBe(
      'ServiceUnavailable',
    );
  });

  it('narrows rules by who signed the call: the root key or role credentials', async () => {
    cloud = await LocalCloud.start({ faults: { rules: [{ kind: 'error503', principal: 'role' }] } });
    const role = cloud.issueRoleCredentials('provider', {
      Version: '1',
      Statement: [{ Effect: 'Allow', Action: 'ecs:DescribeRegions', Resource: '*' }],
    });
    const asRole = ecsClient(cloud, 'cn-hangzhou', role);
    expect(await outcome(describeRegions(asRole))).toBe('ServiceUnavailable');
    expect(await outcome(describeRegions(ecsClient(cloud)))).toBe('ok');
  });

  it('fires on the first N calls, on every Nth call, and at most `limit` times', async () => {
    cloud = await LocalCloud.start({
      faults: {
        rules: [
          { kind: 'throttle', action: 'DescribeRegions', first: 2 },
          { kind: 'error503', action: 'DescribeRegions', every: 3, limit: 2 },
        ],
      },
    });
    const ecs = ecsClient(cloud);
    const seen: string[] = [];
    for (let i = 0; i < 12; i++) {
      seen.push(await outcome(describeRegions(ecs)));
    }
    // The throttle rule takes calls 1-2; the 503 rule counts the calls that reach it (3, 4, ...) and fires on its
    // 3rd and 6th, then its limit is reached.
    expect(seen).toEqual([
      'Throttling.User',
      'Throttling.User',
      'ok',
      'ok',
      'ServiceUnavailable',
      'ok',
      'ok',
      'ServiceUnavailable',
      'ok',
      'ok',
      'ok',
      'ok',
    ]);
    expect(cloud.faults.stats()).toMatchObject({ throttle: 2, error503: 2 });
  });

  it('is reproducible: the same seed gives the same faults, another seed other faults', async () => {
    const run = async (seed: number): Promise<string[]> => {
      return withCloud(
        {
          faults: {
            seed,
            rules: [
              { kind: 'throttle', action: 'DescribeRegions', probability: 0.3 },
              { kind: 'error500', action: 'DescribeRegions', probability: 0.3 },
            ],
          },
        },
        async (local) => {
          const ecs = ecsClient(local);
          const seen: string[] = [];
          for (let i = 0; i < 30; i++) {
            seen.push(await outcome(describeRegions(ecs)));
          }
          expect(local.faults.stats().throttle).toBe(seen.filter((s) => s === 'Throttling.User').length);
          expect(local.faults.stats().error500).toBe(seen.filter((s) => s === 'InternalError').length);
          return seen;
        },
      );
    };
    const first = await run(42);
    expect(await run(42)).toEqual(first);
    expect(await run(43)).not.toEqual(first);
    expect(new Set(first)).toEqual(new Set(['ok', 'Throttling.User', 'InternalError']));
  });

  it('decides each probabilistic fault from the seed, the rule and the call number only', () => {
    const decisions = (plan: FaultPlan) => Array.from({ length: 200 }, () => plan.responseUrlFailures());
    const spec = {
      seed: 9,
      rules: [{ kind: 'responseUrlFailure' as const, probability: 0.25, failures: 3 }],
    };
    const a = decisions(new FaultPlan(spec));
    expect(decisions(new FaultPlan(spec))).toEqual(a);
    const fired = a.filter((n) => n === 3).length;
    expect(a.every((n) => n === 0 || n === 3)).toBe(true);
    // Loose bounds: the hash is uniform enough that 200 draws at 25% land well inside them.
    expect(fired).toBeGreaterThan(20);
    expect(fired).toBeLessThan(80);
  });

  it('keeps a bare FaultHook working, ahead of the plan', async () => {
    const seen: string[] = [];
    const hook: FaultHook = {
      async beforeCall(product, action) {
        seen.push(`${product}:${action}`);
        return undefined;
      },
    };
    cloud = await LocalCloud.start({ faults: hook });
    expect((await describeRegions(ecsClient(cloud))).statusCode).toBe(200);
    expect(seen).toEqual(['ecs:DescribeRegions']);
    cloud.setFaults({ rules: [{ kind: 'error500' }] });
    expect(await outcome(describeRegions(ecsClient(cloud)))).toBe('InternalError');
    expect(seen).toHaveLength(2);
  });

  it('can turn faults on and off while running', async () => {
    cloud = await LocalCloud.start();
    const ecs = ecsClient(cloud);
    expect(await outcome(describeRegions(ecs))).toBe('ok');
    const plan = cloud.setFaults({ rules: [{ kind: 'throttle' }] });
    expect(await outcome(describeRegions(ecs))).toBe('Throttling.User');
    cloud.setFaults(undefined);
    expect(await outcome(describeRegions(ecs))).toBe('ok');
    expect(plan.stats().throttle).toBe(1);
    expect(plan.log).toEqual([expect.objectContaining({ kind: 'throttle', target: 'ecs:DescribeRegions' })]);
  });

  describe('cloud faults', () => {
    const clock = { now: Date.parse('2026-01-01T00:00:00Z') };
    const copy = (ecs: Ecs, name: string, imageId = SEED_IMAGE) =>
      ecs
        .copyImage(
          new $Ecs.CopyImageRequest({
            regionId: 'cn-hangzhou',
            imageId,
            destinationRegionId: 'cn-shanghai',
            destinationImageName: name,
          }),
        )
        .then((res) => res.body!.imageId!);
    const status = async (ecs: Ecs, imageId: string) => {
      const res = await ecs.describeImages(
        new $Ecs.DescribeImagesRequest({
          regionId: 'cn-shanghai',
          imageId,
          status: 'Creating,Waiting,Available,CreateFailed',
        }),
      );
      return res.body!.images!.image![0];
    };

    it('ends a copy of a given source image CreateFailed when its time is up; other copies succeed', async () => {
      cloud = await LocalCloud.start({
        now: () => clock.now,
        copyDurationMs: 10_000,
        // The clock stands still between reads: the copies are listed at once to be read at all.
        variants: { copyVisibility: 'immediate' },
        faults: { rules: [{ kind: 'copyFails', sourceImageId: SEED_IMAGE }] },
      });
      const other = cloud.ecs.putImage('cn-hangzhou', { imageId: 'm-other', imageName: 'other' });
      const ecs = ecsClient(cloud);
      const doomed = await copy(ecs, 'doomed');
      const fine = await copy(ecs, 'fine', other);
      expect((await status(ecs, doomed)).status).toBe('Creating');
      clock.now += 5_000;
      expect(await status(ecs, doomed)).toMatchObject({ status: 'Creating', progress: '50%' });
      clock.now += 5_000;
      expect((await status(ecs, doomed)).status).toBe('CreateFailed');
      expect((await status(ecs, fine)).status).toBe('Available');
      expect(cloud.faults.stats().copyFails).toBe(1);
    });

    it('does not mark a copy again when a client token replays it', async () => {
      cloud = await LocalCloud.start({
        now: () => clock.now,
        faults: { rules: [{ kind: 'copyFails', first: 1 }] },
      });
      const ecs = ecsClient(cloud);
      const request = new $Ecs.CopyImageRequest({
        regionId: 'cn-hangzhou',
        imageId: SEED_IMAGE,
        destinationRegionId: 'cn-shanghai',
        destinationImageName: 'once',
        clientToken: 'token-1',
      });
      const first = (await ecs.copyImage(request)).body!.imageId;
      expect((await ecs.copyImage(request)).body!.imageId).toBe(first);
      expect(cloud.faults.stats().copyFails).toBe(1);
    });

    it('answers CancelCopyImage of a marked copy with CancelNotSupported, every time', async () => {
      cloud = await LocalCloud.start({
        now: () => clock.now,
        // The clock stands still: the copy is listed at once, so ECS acts on it by id (hiddenCopyActions).
        variants: { copyVisibility: 'immediate' },
        faults: { seed: 3, rules: [{ kind: 'cancelNotSupported', regionId: 'cn-shanghai' }] },
      });
      const ecs = ecsClient(cloud);
      const imageId = await copy(ecs, 'stuck');
      const cancel = () =>
        ecs.cancelCopyImage(new $Ecs.CancelCopyImageRequest({ regionId: 'cn-shanghai', imageId }));
      for (let i = 0; i < 2; i++) {
        const err = await errorOf(cancel());
        expect([err.name, err.code, err.statusCode]).toEqual(['ClientError', 'CancelNotSupported', 400]);
      }
      expect(cloud.faults.stats().cancelNotSupported).toBe(2);
      expect(cloud.ecs.getImage('cn-shanghai', imageId)).toMatchObject({
        status: 'Creating',
        cancelSupported: false,
      });
    });

    it('fails the first N posts to a response URL with HTTP 500, then accepts', async () => {
      cloud = await LocalCloud.start({
        faults: { rules: [{ kind: 'responseUrlFailure', failures: 2, first: 1 }] },
      });
      const flaky = cloud.createCallback();
      const steady = cloud.createCallback();
      const body = JSON.stringify({
        Status: 'SUCCESS',
        PhysicalResourceId: 'p-1',
        StackId: 's',
        RequestId: 'r',
        LogicalResourceId: 'L',
      });
      const post = (url: string) =>
        fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body }).then(
          (r) => r.status,
        );
      expect([await post(flaky.url), await post(flaky.url), await post(flaky.url)]).toEqual([500, 500, 200]);
      expect(await post(steady.url)).toBe(200);
      expect(cloud.faults.stats().responseUrlFailure).toBe(2);
      expect(flaky.rejections).toEqual([
        'InternalError: injected failure',
        'InternalError: injected failure',
      ]);
    });

    it('kills an invocation after N ms, as a crashed instance', async () => {
      cloud = await LocalCloud.start({
        faults: { rules: [{ kind: 'killInvocation', functionName: 'sleeper', afterMs: 100 }] },
      });
      const code = writeZip([
        {
          name: 'index.js',
          data: Buffer.from(
            'exports.handler = () => new Promise((r) => setTimeout(() => r("done"), 20000));',
          ),
        },
      ]).toString('base64');
      cloud.fc.createFunction('cn-hangzhou', {
        functionName: 'sleeper',
        runtime: 'nodejs20',
        handler: 'index.handler',
        zipFile: code,
        timeout: 60,
      });
      const result = await cloud.fc.invoke('cn-hangzhou', 'sleeper', Buffer.from('{}'));
      expect(result.errorType).toBe('UnhandledInvocationError');
      expect(JSON.parse(result.payload.toString())).toMatchObject({ errorType: 'ProcessExited' });
      expect(cloud.fc.invocations({ functionName: 'sleeper' })[0].outcome).toBe('killed');
      expect(cloud.faults.stats().killInvocation).toBe(1);
    });

    it('delivers a custom-resource request twice when told, through a real stack', async () => {
      cloud = await LocalCloud.start({
        faults: { rules: [{ kind: 'duplicateDelivery', deliveries: 2, requestType: 'Create' }] },
      });
      const handler = `
        const http = require('http');
        exports.handler = async (payload) => {
          const e = JSON.parse(payload.toString());
          const body = JSON.stringify({ Status: 'SUCCESS', PhysicalResourceId: 'p-' + e.LogicalResourceId,
            StackId: e.StackId, RequestId: e.RequestId, LogicalResourceId: e.LogicalResourceId, Data: {} });
          await new Promise((resolve) => {
            const req = http.request(e.ResponseURL, { method: 'POST',
              headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
              (res) => { res.resume(); res.on('end', resolve); });
            req.on('error', resolve);
            req.end(body);
          });
        };`;
      cloud.fc.createFunction('cn-hangzhou', {
        functionName: 'provider',
        runtime: 'nodejs20',
        handler: 'index.handler',
        zipFile: writeZip([{ name: 'index.js', data: Buffer.from(handler) }]).toString('base64'),
        timeout: 30,
      });
      const template = {
        ROSTemplateFormatVersion: '2015-09-01',
        Resources: {
          Thing: {
            Type: 'ALIYUN::ROS::CustomResource',
            Properties: {
              ServiceToken: `acs:fc:cn-hangzhou:${cloud.accountId}:functions/provider`,
              Timeout: 60,
              Parameters: {},
            },
          },
        },
      };
      const ros = rosClient(cloud);
      const created = await ros.createStack(
        new $Ros.CreateStackRequest({
          regionId: 'cn-hangzhou',
          stackName: 'dup',
          templateBody: JSON.stringify(template),
        }),
      );
      await cloud.ros.settled();
      await cloud.fc.settled();
      const stack = await ros.getStack(
        new $Ros.GetStackRequest({ regionId: 'cn-hangzhou', stackId: created.body!.stackId }),
      );
      expect(stack.body!.status).toBe('CREATE_COMPLETE');
      expect(cloud.fc.invocations({ functionName: 'provider' })).toHaveLength(2);
      expect(cloud.faults.stats().duplicateDelivery).toBe(1);
    });
  });

  describe('fault plan files', () => {
    it.each([
      ['[]', 'a fault plan must be a JSON object'],
      ['{"rules": {}}', '"rules" must be an array'],
      ['{"seed": -1}', '"seed" must be a non-negative integer, not -1'],
      ['{"seed": 1, "faults": []}', 'unknown field "faults"'],
      ['{"rules": [{"kind": "explode"}]}', 'rules[0].kind must be one of throttle, error500'],
      [
        '{"rules": [{"kind": "throttle", "probability": 1.5}]}',
        'rules[0].probability must be a number from 0 to 1, not 1.5',
      ],
      [
        '{"rules": [{"kind": "throttle", "first": 1, "every": 2}]}',
        'rules[0]: give at most one of probability, first, every',
      ],
      [
        '{"rules": [{"kind": "throttle", "latencyMs": 5}]}',
        'rules[0]: "latencyMs" does not apply to kind "throttle"',
      ],
      ['{"rules": [{"kind": "killInvocation"}]}', 'rules[0]: kind "killInvocation" needs "afterMs"'],
      [
        '{"rules": [{"kind": "throttle", "enforceRetryAfter": "yes"}]}',
        'rules[0].enforceRetryAfter must be true or false, not "yes"',
      ],
      [
        '{"rules": [{"kind": "error503", "enforceRetryAfter": true}]}',
        'rules[0]: "enforceRetryAfter" does not apply to kind "error503"',
      ],
      [
        '{"rules": [{"kind": "reset", "action": 7}]}',
        'rules[0].action must be a string or an array of strings',
      ],
      ['{"rules": [{"kind": "reset", "principal": "admin"}]}', 'rules[0].principal must be "root" or "role"'],
      [
        '{"rules": [{"kind": "copyFails", "principal": "role"}]}',
        'rules[0]: "principal" does not apply to kind "copyFails"',
      ],
      [
        '{"rules": [{"kind": "latency"}, {"kind": "duplicateDelivery", "deliveries": 0}]}',
        'rules[1].deliveries must be an integer from 1 to 10',
      ],
      ['{"rules": [', 'not JSON'],
    ])('refuses %s with a message naming the problem', (text, message) => {
      expect(() => FaultPlan.parse(text)).toThrow(FaultPlanError);
      expect(() => FaultPlan.parse(text)).toThrow(message);
    });

    it('accepts every kind with its own fields', () => {
      const plan = FaultPlan.parse(
        JSON.stringify({
          seed: 7,
          rules: [
            {
              kind: 'throttle',
              product: 'ecs',
              action: 'DescribeImages',
              probability: 0.2,
              retryAfterMs: 500,
              enforceRetryAfter: true,
            },
            { kind: 'error500', product: ['ecs', 'ros'], every: 10 },
            { kind: 'error503', first: 1 },
            { kind: 'reset', action: 'GetStack', limit: 3, probability: 0.1 },
            { kind: 'latency', latencyMs: 50 },
            { kind: 'responseUrlFailure', failures: 2, first: 3 },
            { kind: 'killInvocation', afterMs: 1500, functionName: 'f', probability: 0.1 },
            { kind: 'duplicateDelivery', deliveries: 3, logicalId: 'Copy', requestType: 'Delete' },
            { kind: 'copyFails', sourceImageId: 'm-1', regionId: 'cn-beijing' },
            { kind: 'cancelNotSupported', probability: 0.5 },
          ],
        }),
      );
      expect(plan.seed).toBe(7);
      expect(plan.rules).toHaveLength(10);
      expect(Object.values(plan.stats()).every((n) => n === 0)).toBe(true);
    });

    it('parses any valid plan and refuses anything else with a FaultPlanError, never another error', () => {
      const selector = fc.oneof(
        fc.constant({}),
        fc.record({ probability: fc.double({ min: 0, max: 1, noNaN: true }) }),
        fc.record({ first: fc.nat() }),
        fc.record({ every: fc.integer({ min: 1, max: 1000 }) }),
      );
      const ruleArb = fc
        .tuple(
          fc.oneof(
            fc.record(
              {
                kind: fc.constantFrom('throttle', 'error500', 'error503', 'reset'),
                product: fc.constantFrom('ecs', 'ros', 'fc'),
                action: fc.array(fc.string(), { maxLength: 2 }),
                principal: fc.constantFrom('root', 'role'),
              },
              { requiredKeys: ['kind'] },
            ),
            fc.record({ kind: fc.constant('latency'), latencyMs: fc.nat(600_000) }),
            fc.record({
              kind: fc.constant('responseUrlFailure'),
              failures: fc.integer({ min: 1, max: 1000 }),
            }),
            fc.record({ kind: fc.constant('killInvocation'), afterMs: fc.nat(86_400_000) }),
            fc.record({
              kind: fc.constant('duplicateDelivery'),
              deliveries: fc.integer({ min: 1, max: 10 }),
            }),
            fc.record({
              kind: fc.constantFrom('copyFails', 'cancelNotSupported'),
              sourceImageId: fc.string(),
            }),
          ),
          selector,
          fc.option(fc.record({ limit: fc.nat() }), { nil: {} }),
        )
        .map(([rule, sel, limit]) => ({ ...rule, ...sel, ...limit }));
      fc.assert(
        fc.property(fc.record({ seed: fc.nat(), rules: fc.array(ruleArb, { maxLength: 5 }) }), (spec) => {
          const plan = FaultPlan.parse(JSON.stringify(spec));
          expect(plan.rules).toEqual(spec.rules);
        }),
        { numRuns: 300 },
      );
      fc.assert(
        fc.property(
          fc.oneof(fc.jsonValue(), fc.record({ rules: fc.array(fc.jsonValue(), { maxLength: 3 }) })),
          (value) => {
            try {
              FaultPlan.parse(value);
            } catch (err) {
              expect(err).toBeInstanceOf(FaultPlanError);
            }
          },
        ),
        { numRuns: 500 },
      );
    });

    it('refuses a bad spec given to LocalCloud.start before listening', async () => {
      await expect(LocalCloud.start({ faults: { rules: [{ kind: 'throttle', every: 0 }] } })).rejects.toThrow(
        'rules[0].every must be an integer from 1',
      );
    });
  });
});
