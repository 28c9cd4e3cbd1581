/**
 * How the bundled handler lives in Function Compute: continuing across invocations, answering through flaky or
 * unreachable response URLs, refusing malformed events, and keeping secrets out of its logs.
 */
import { randomUUID } from 'crypto';
import { HANDLER_RAM_ACTIONS, handlerPolicyDocument } from '../../lib/handler/policy';
import { HANDLER_ACTION_RESOURCES } from '../../lib/provider';
import { ApiError } from '../../lib/local';
import { CONTINUATION_KEY, OWNERSHIP_TAG_KEY, parseOwnershipTag, physicalIdFor } from '../../lib/protocol';
import {
  DESTINATION_REGION,
  eventFor,
  type Harness,
  imageIdOf,
  invocationsOf,
  invokeAsync,
  isListed,
  logsOf,
  MEDIUM_SIZE_GIB,
  newResource,
  ownedImages,
  putSource,
  run,
  SOURCE_REGION,
  STEADY_SIZE_GIB,
  startCopyAs,
  startHarness,
  stepsOf,
  until,
  untilAsync,
} from './harness';
import { testUrl } from './urls';

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.stop());

const unique = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;

const propertiesFor = <T extends object = object>(sourceImageId: string, extra: T = {} as T) => ({
  SourceImageId: sourceImageId,
  SourceRegionId: SOURCE_REGION,
  DestinationRegionId: DESTINATION_REGION,
  ...extra,
});

// Each of these runs its own function and resources, so they run at once: most of their time is waiting.
describe('a copy longer than the function timeout', () => {
  it.concurrent(
    'continues in fresh invocations of the function and answers once, from the last one',
    async () => {
      const fn = h.deployHandler({ timeoutSeconds: 4 });
      const resource = newResource();
      const { response, callback } = await run(h, fn, resource, {
        RequestType: 'Create',
        ResourceProperties: propertiesFor(putSource(h, { sizeGiB: MEDIUM_SIZE_GIB }), {
          ImageName: unique('long'),
        }),
      });
      expect(response.Status).toBe('SUCCESS');
      expect(callback.bodies).toHaveLength(1);
      expect(ownedImages(h, resource).map((image) => image.imageId)).toEqual([imageIdOf(response)]);
      const invocations = invocationsOf(h, fn);
      expect(invocations.length).toBeGreaterThan(1);
      // None ran into its timeout: each handed over (or answered) in time.
      expect(invocations.map((record) => record.outcome)).toEqual(invocations.map(() => 'succeeded'));
      const steps = stepsOf(h, fn);
      expect(steps.filter((step) => step.step === 'continued')).toHaveLength(invocations.length - 1);
      expect(steps.filter((step) => step.step === 'event').map((step) => step.attempt)).toEqual(
        invocations.map((_, index) => index),
      );
      expect(steps.filter((step) => step.step === 'copy-started')).toHaveLength(1);
    },
  );

  it.concurrent(
    'continues a replacement through copy, wait, removal of the old copy and rename',
    async () => {
      const fn = h.deployHandler({ timeoutSeconds: 4 });
      const resource = newResource();
      const name = unique('moving');
      const before = propertiesFor(putSource(h), { ImageName: name });
      const { response: createdAnswer } = await run(h, fn, resource, {
        RequestType: 'Create',
        ResourceProperties: before,
      });
      const oldId = imageIdOf(createdAnswer);
      const newSource = putSource(h, { sizeGiB: MEDIUM_SIZE_GIB });
      const { response, callback } = await run(h, fn, resource, {
        RequestType: 'Update',
        PhysicalResourceId: createdAnswer.PhysicalResourceId,
        OldResourceProperties: before,
        ResourceProperties: { ...before, SourceImageId: newSource },
      });
      expect(response).toMatchObject({
        Status: 'SUCCESS',
        PhysicalResourceId: createdAnswer.PhysicalResourceId,
      });
      expect(callback.bodies).toHaveLength(1);
      const newId = imageIdOf(response);
      expect(newId).not.toBe(oldId);
      expect(h.cloud.ecs.getImage(DESTINATION_REGION, oldId)).toBeUndefined();
      expect(h.cloud.ecs.getImage(DESTINATION_REGION, newId)).toMatchObject({
        imageName: name,
        status: 'Available',
      });
      expect(stepsOf(h, fn).some((step) => step.step === 'continued' && step.phase === 'wait')).toBe(true);
    },
  );

  it.concurrent('continues a delete that has to wait for a copy which cannot be cancelled', async () => {
    const fn = h.deployHandler({ timeoutSeconds: 4 });
    // Longer than one invocation however late the first one starts.
    const source = putSource(h, { sizeGiB: STEADY_SIZE_GIB });
    const imageId = await startCopyAs(h, source, {});
    h.cloud.ecs.setCancelSupported(DESTINATION_REGION, imageId, false);
    await untilAsync(() => isListed(h, imageId));
    const { response, callback } = await run(h, fn, newResource(), {
      RequestType: 'Delete',
      PhysicalResourceId: imageId,
      ResourceProperties: propertiesFor(source),
    });
    expect(response).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: imageId });
    expect(callback.bodies).toHaveLength(1);
    expect(h.cloud.ecs.getImage(DESTINATION_REGION, imageId)).toBeUndefined();
    expect(stepsOf(h, fn).some((step) => step.step === 'continued' && step.phase === 'delete')).toBe(true);
  });

  it.concurrent(
    "runs under the provider's least privilege: image actions on the account's images, CopyImage and FC on *",
    async () => {
      const roleName = 'image-copy-least-privilege';
      const functionName = 'image-copy-least-privilege';
      const actions = HANDLER_RAM_ACTIONS;
      h.cloud.putRole({
        roleName,
        assumeRolePolicyDocument: {
          Version: '1',
          Statement: [
            { Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { Service: ['fc.aliyuncs.com'] } },
          ],
        },
        policies: [
          {
            Version: '1',
            Statement: [
              {
                Effect: 'Allow',
                Action: actions.filter((a) => HANDLER_ACTION_RESOURCES[a] === 'account-images'),
                Resource: [`acs:ecs:*:${h.cloud.accountId}:image/*`],
              },
              {
                // ecs:CopyImage and fc:InvokeFunction take no resource-level authorization (lib/provider.ts).
                Effect: 'Allow',
                Action: actions.filter((a) => HANDLER_ACTION_RESOURCES[a] === 'all-resources'),
                Resource: ['*'],
              },
            ],
          },
        ],
      });
      const fn = h.deployHandler({ timeoutSeconds: 4, roleName, functionName });
      const resource = newResource();
      const properties = propertiesFor(putSource(h, { sizeGiB: MEDIUM_SIZE_GIB }), {
        ImageName: unique('least'),
        Tags: { team: 'web' },
        ResourceGroupId: 'rg-acfmleast',
      });
      const { response } = await run(h, fn, resource, {
        RequestType: 'Create',
        ResourceProperties: properties,
      });
      expect(response.Status).toBe('SUCCESS');
      expect(stepsOf(h, fn).some((step) => step.step === 'continued')).toBe(true);
      const imageId = imageIdOf(response);
      const physicalId = response.PhysicalResourceId!;
      const renamed = { ...properties, ImageName: unique('least2'), Tags: { team: 'ops' } };
      const { response: updated } = await run(h, fn, resource, {
        RequestType: 'Update',
        PhysicalResourceId: physicalId,
        OldResourceProperties: properties,
        ResourceProperties: { ...renamed, ResourceGroupId: 'rg-acfmleast2' },
      });
      expect(updated).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: physicalId });
      const { response: deleted } = await run(h, fn, resource, {
        RequestType: 'Delete',
        PhysicalResourceId: physicalId,
        ResourceProperties: renamed,
      });
      expect(deleted.Status).toBe('SUCCESS');
      expect(h.cloud.ecs.getImage(DESTINATION_REGION, imageId)).toBeUndefined();
    },
  );

  it.concurrent(
    'answers FAILED, naming fc:InvokeFunction, when the role does not let the function re-invoke itself',
    async () => {
      const roleName = 'image-copy-handler-no-fc';
      const policy = handlerPolicyDocument();
      h.cloud.putRole({
        roleName,
        assumeRolePolicyDocument: {
          Version: '1',
          Statement: [
            { Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { Service: ['fc.aliyuncs.com'] } },
          ],
        },
        policies: [
          {
            Version: '1',
            Statement: [
              {
                ...policy.Statement[0],
                Action: policy.Statement[0].Action.filter((a) => !a.startsWith('fc:')),
              },
            ],
          },
        ],
      });
      const fn = h.deployHandler({ timeoutSeconds: 4, roleName });
      const resource = newResource();
      const { response } = await run(h, fn, resource, {
        RequestType: 'Create',
        ResourceProperties: propertiesFor(putSource(h, { sizeGiB: MEDIUM_SIZE_GIB }), {
          ImageName: unique('stuck'),
        }),
      });
      expect(response.Status).toBe('FAILED');
      expect(response.Reason).toContain('could not re-invoke itself');
      expect(response.Reason).toContain('Forbidden.RAM');
      expect(response.Reason).toContain('fc:InvokeFunction');
      // The answer carries the instance's id, so the rollback's Delete removes its copy.
      expect(ownedImages(h, resource)).toHaveLength(1);
      const { response: rolledBack } = await run(h, h.deployHandler(), resource, {
        RequestType: 'Delete',
        PhysicalResourceId: response.PhysicalResourceId,
        ResourceProperties: {},
      });
      expect(rolledBack.Status).toBe('SUCCESS');
      expect(ownedImages(h, resource)).toEqual([]);
    },
  );
});

describe('slow calls near the end of an invocation', () => {
  it('continues a throttled CopyImage in a fresh invocation when the wait it is asked for outlasts this one', async () => {
    const fn = h.deployHandler({ timeoutSeconds: 4 });
    const resource = newResource();
    let throttled = 0;
    h.fault = (product, action) => {
      if (product === 'ecs' && action === 'CopyImage' && throttled++ === 0) {
        throw new ApiError('Throttling.User', 'Request was denied due to user flow control.', 400, {
          'x-acs-retry-after': '3000',
        });
      }
      return undefined;
    };
    const { response, callback } = await run(h, fn, resource, {
      RequestType: 'Create',
      ResourceProperties: propertiesFor(putSource(h), { ImageName: unique('patient') }),
    }).finally(() => {
      h.fault = undefined;
    });
    expect(response.Status).toBe('SUCCESS');
    expect(callback.bodies).toHaveLength(1);
    expect(throttled).toBe(2);
    expect(ownedImages(h, resource).map((image) => image.imageId)).toEqual([imageIdOf(response)]);
    expect(stepsOf(h, fn).some((step) => step.step === 'continued' && step.phase === 'copy')).toBe(true);
  });

  it('resumes when Function Compute re-delivers a continuation whose instance was killed', async () => {
    const fn = h.deployHandler({ timeoutSeconds: 4 });
    const resource = newResource();
    let invocations = 0;
    // The second invocation (the first continuation) dies shortly after it starts; FC retries it.
    h.kill = (name) => (name === fn && ++invocations === 2 ? 300 : undefined);
    const { response, callback } = await run(h, fn, resource, {
      RequestType: 'Create',
      ResourceProperties: propertiesFor(putSource(h, { sizeGiB: MEDIUM_SIZE_GIB }), {
        ImageName: unique('phoenix'),
      }),
    }).finally(() => {
      h.kill = undefined;
    });
    expect(response.Status).toBe('SUCCESS');
    expect(callback.bodies).toHaveLength(1);
    const outcomes = invocationsOf(h, fn).map((record) => record.outcome);
    expect(outcomes).toContain('killed');
    expect(ownedImages(h, resource).map((image) => image.imageId)).toEqual([imageIdOf(response)]);
  });

  it('does not let a hanging ECS call run an invocation into its timeout', async () => {
    const fn = h.deployHandler({ timeoutSeconds: 4 });
    const resource = newResource();
    let describes = 0;
    h.fault = async (product, action) => {
      // The first poll hangs for longer than the whole function timeout.
      if (product === 'ecs' && action === 'DescribeImages' && ++describes === 2) {
        await new Promise((resolve) => setTimeout(resolve, 6_000).unref());
      }
      return undefined;
    };
    try {
      const { response, callback } = await run(h, fn, resource, {
        RequestType: 'Create',
        ResourceProperties: propertiesFor(putSource(h), { ImageName: unique('hung') }),
      });
      expect(response.Status).toBe('SUCCESS');
      expect(callback.bodies).toHaveLength(1);
    } finally {
      h.fault = undefined;
    }
    expect(describes).toBeGreaterThan(2);
    const invocations = invocationsOf(h, fn);
    expect(invocations.length).toBeGreaterThan(1);
    expect(invocations.map((record) => record.outcome)).toEqual(invocations.map(() => 'succeeded'));
    expect(stepsOf(h, fn).some((step) => step.step === 'retry' && step.kind === 'network')).toBe(true);
  });
});

describe('the response', () => {
  it('is retried when the response URL fails the first posts', async () => {
    const fn = h.deployHandler();
    const { response, callback } = await run(
      h,
      fn,
      newResource(),
      {
        RequestType: 'Delete',
        PhysicalResourceId: 'm-uf6neverexisted0001',
        ResourceProperties: propertiesFor(putSource(h)),
      },
      { failFirst: 2 },
    );
    expect(response.Status).toBe('SUCCESS');
    expect(callback.rejections).toEqual([
      'InternalError: injected failure',
      'InternalError: injected failure',
    ]);
    expect(callback.bodies).toHaveLength(1);
    expect(stepsOf(h, fn).filter((step) => step.step === 'response-not-accepted')).toHaveLength(2);
  });

  it('goes to the IntranetResponseURL when the public URL cannot be reached', async () => {
    const fn = h.deployHandler();
    const { response, callback } = await run(
      h,
      fn,
      newResource(),
      {
        RequestType: 'Delete',
        PhysicalResourceId: 'm-uf6neverexisted0002',
        ResourceProperties: propertiesFor(putSource(h)),
      },
      { publicUnreachable: true },
    );
    expect(response.Status).toBe('SUCCESS');
    expect(callback.via).toEqual(['intranet']);
  });
});

describe('the response, when no URL takes it for a whole invocation', () => {
  it('is handed over to a fresh invocation, and the copy is confirmed once a URL accepts it', async () => {
    const fn = h.deployHandler({ timeoutSeconds: 5 });
    const resource = newResource();
    const url = await testUrl(503);
    try {
      const event = eventFor(h.cloud, resource, {
        RequestType: 'Create',
        ResourceProperties: propertiesFor(putSource(h), { ImageName: unique('handed') }),
      });
      await invokeAsync(h, fn, { ...event, ResponseURL: url.url });
      await until(() => stepsOf(h, fn).some((step) => step.step === 'answer-handed-over'), 30_000);
      const [copy] = ownedImages(h, resource);
      expect(parseOwnershipTag(copy.tags[OWNERSHIP_TAG_KEY])?.confirmed).toBe(false);
      url.answerWith(200);
      await h.cloud.fc.settled();
      expect(url.accepted).toEqual([
        expect.objectContaining({
          Status: 'SUCCESS',
          PhysicalResourceId: physicalIdFor(String(event.RequestId)),
          Data: expect.objectContaining({ ImageId: copy.imageId }),
        }),
      ]);
      const answering = stepsOf(h, fn).filter((step) => step.step === 'event' && step.phase === 'answer');
      expect(answering.length).toBeGreaterThan(0);
      // The copy was made once; the answer went on from invocation to invocation.
      expect(stepsOf(h, fn).filter((step) => step.step === 'copy-started')).toHaveLength(1);
      const image = h.cloud.ecs.getImage(DESTINATION_REGION, copy.imageId)!;
      expect(parseOwnershipTag(image.tags[OWNERSHIP_TAG_KEY])?.confirmed).toBe(true);
    } finally {
      await url.close();
    }
  });
});

describe('throttling with x-acs-retry-after (its unit is undocumented: retryAfterUnit)', () => {
  it.each([
    ['s', '3'],
    ['ms', '3000'],
  ])(
    'waits what the server asks when it says it in %s, not retrying early into another throttle',
    async (_unit, header) => {
      const fn = h.deployHandler();
      const resource = newResource();
      // The first CopyImage is throttled, asking for 3 s; a retry before they are over is throttled again.
      let throttledAt: number | undefined;
      let throttles = 0;
      h.fault = (product, action) => {
        if (product !== 'ecs' || action !== 'CopyImage') {
          return undefined;
        }
        if (throttledAt === undefined || Date.now() - throttledAt < 2_900) {
          throttledAt ??= Date.now();
          throttles++;
          throw new ApiError('Throttling.User', 'Request was denied due to user flow control.', 400, {
            'x-acs-retry-after': header,
          });
        }
        return undefined;
      };
      const { response } = await run(h, fn, resource, {
        RequestType: 'Create',
        ResourceProperties: propertiesFor(putSource(h), { ImageName: unique('throttled') }),
      }).finally(() => {
        h.fault = undefined;
      });
      expect(response.Status).toBe('SUCCESS');
      expect(throttles).toBe(1);
      const retries = stepsOf(h, fn).filter((step) => step.step === 'retry' && step.action === 'CopyImage');
      expect(retries.map((step) => step.delayMs)).toEqual([3_000]);
    },
  );
});

describe('malformed events', () => {
  it('logs a refusal, without crashing, when the event is not JSON (there is no URL to answer)', async () => {
    const fn = h.deployHandler();
    await invokeAsync(h, fn, Buffer.from('{"RequestType": "Create", '));
    await h.cloud.fc.settled();
    const [record] = invocationsOf(h, fn);
    expect(record.outcome).toBe('succeeded');
    expect(stepsOf(h, fn)).toEqual([
      expect.objectContaining({
        level: 'error',
        step: 'event-refused',
        reason: 'the event is not valid JSON',
      }),
    ]);
  });

  it('logs a refusal when the event is JSON but not an object', async () => {
    const fn = h.deployHandler();
    await invokeAsync(h, fn, [1, 2, 3]);
    await h.cloud.fc.settled();
    expect(stepsOf(h, fn)).toEqual([
      expect.objectContaining({ step: 'event-refused', reason: 'the event is not a JSON object' }),
    ]);
  });

  it('answers FAILED to an unknown RequestType', async () => {
    const fn = h.deployHandler();
    const resource = newResource();
    const callback = h.cloud.createCallback();
    const event = eventFor(h.cloud, resource, { RequestType: 'Create', ResourceProperties: {} }, callback);
    await invokeAsync(h, fn, { ...event, RequestType: 'Upsert' });
    const response = await callback.response;
    await h.cloud.fc.settled();
    expect(response).toMatchObject({
      Status: 'FAILED',
      StackId: resource.StackId,
      RequestId: event.RequestId,
      LogicalResourceId: 'Copy',
    });
    expect(response.Reason).toBe(
      'The ImageCopy handler cannot process this request: RequestType "Upsert" is not one of Create, Update, Delete',
    );
    expect(response.PhysicalResourceId).toBe(physicalIdFor(String(event.RequestId)));
  });

  it('answers FAILED with the physical id of the request to an Update without ResourceProperties', async () => {
    const fn = h.deployHandler();
    const resource = newResource();
    const callback = h.cloud.createCallback();
    const event = eventFor(
      h.cloud,
      resource,
      { RequestType: 'Update', ResourceProperties: {}, PhysicalResourceId: 'm-uf6someimage000001' },
      callback,
    );
    await invokeAsync(h, fn, { ...event, ResourceProperties: 'not a map' });
    const response = await callback.response;
    await h.cloud.fc.settled();
    expect(response).toMatchObject({ Status: 'FAILED', PhysicalResourceId: 'm-uf6someimage000001' });
    expect(response.Reason).toMatch(/SourceImageId/);
  });

  it('accepts the event as a JSON string inside the payload', async () => {
    const fn = h.deployHandler();
    const callback = h.cloud.createCallback();
    const event = eventFor(
      h.cloud,
      newResource(),
      { RequestType: 'Delete', ResourceProperties: {}, PhysicalResourceId: 'm-uf6neverexisted0003' },
      callback,
    );
    await invokeAsync(h, fn, JSON.stringify(event));
    const response = await callback.response;
    await h.cloud.fc.settled();
    expect(response).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: 'm-uf6neverexisted0003' });
  });
});

describe('the logs', () => {
  it('never contain a response URL, its signature, a secret or a security token', async () => {
    const callbacks = [] as string[];
    const fn = h.deployHandler();
    for (const failFirst of [0, 1]) {
      const { callback } = await run(
        h,
        fn,
        newResource(),
        {
          RequestType: 'Create',
          ResourceProperties: propertiesFor(putSource(h), {
            ImageName: unique('quiet'),
            Tags: { owner: 'ops' },
          }),
        },
        { failFirst },
      );
      callbacks.push(callback.url, callback.intranetUrl);
    }
    const functions = h.cloud.fc.listFunctions(DESTINATION_REGION).map((f) => f.functionName);
    const logs = functions.flatMap((name) => logsOf(h, name)).join('\n');
    expect(logs).toContain('"step":"response-sent"');
    for (const url of callbacks) {
      const signature = new URL(url).searchParams.get('Signature')!;
      expect(logs).not.toContain(signature);
      expect(logs).not.toContain(new URL(url).pathname);
    }
    expect(logs).not.toMatch(/ros-callbacks/);
    // LocalCloud's security tokens start with CAIS, as Alibaba Cloud's STS tokens do.
    expect(logs).not.toMatch(/CAIS[A-Za-z0-9]{8,}/);
    expect(logs).not.toMatch(/accessKeySecret"?\s*[:=]\s*"(?!\[redacted\])/i);
    expect(logs).not.toContain(CONTINUATION_KEY);
  });
});
