/**
 * Malformed events, delivered to the bundled handler in LocalCloud's Function Compute: whatever arrives, the
 * handler answers FAILED with a reason when the event carries a response URL, logs its refusal when it does not,
 * copies nothing, and ends its invocation (never a hang, never a crash). Complements delivery.test.ts (not JSON,
 * not an object, unknown RequestType, Update without ResourceProperties) and event.test.ts (decoding, reading).
 */
import { randomUUID } from 'crypto';
import type { Callback, CustomResourceResponse } from '../../lib/local';
import { physicalIdFor, RESPONSE_BODY_LIMIT_BYTES } from '../../lib/protocol';
import {
  answered,
  DESTINATION_REGION,
  eventFor,
  type Harness,
  invocationsOf,
  invokeAsync,
  newResource,
  ownedImages,
  putSource,
  type RequestSpec,
  type ResourceIdentity,
  SOURCE_REGION,
  startHarness,
  stepsOf,
} from './harness';

let h: Harness;
let source: string;

beforeAll(async () => {
  h = await startHarness();
  source = putSource(h);
});
afterAll(() => h.stop());

const validCreate = (): RequestSpec => ({
  RequestType: 'Create',
  ResourceProperties: {
    SourceImageId: source,
    SourceRegionId: SOURCE_REGION,
    DestinationRegionId: DESTINATION_REGION,
    ImageName: `fine-${randomUUID().slice(0, 8)}`,
  },
});

interface Outcome {
  readonly fn: string;
  readonly resource: ResourceIdentity;
  readonly event: Record<string, unknown>;
  /** The log lines of the invocation, parsed. */
  readonly steps: Array<Record<string, unknown>>;
}

/**
 * Delivers `payload` (by default, a well-formed event changed by `change`) to a fresh function and waits until every
 * invocation it caused has ended; each must have ended by itself (neither crashed nor run into its timeout).
 */
async function deliverRaw(
  payload: (event: Record<string, unknown>) => unknown,
  options: { callback?: Callback; request?: RequestSpec; timeoutSeconds?: number } = {},
): Promise<Outcome> {
  const fn = h.deployHandler({ timeoutSeconds: options.timeoutSeconds ?? 60 });
  const resource = newResource();
  const event = eventFor(h.cloud, resource, options.request ?? validCreate(), options.callback);
  await invokeAsync(h, fn, payload(event));
  await h.cloud.fc.settled();
  const records = invocationsOf(h, fn);
  expect(records.map((record) => record.outcome)).toEqual(['succeeded']);
  return { fn, resource, event, steps: stepsOf(h, fn) };
}

/** Delivers a changed event with response URLs; resolves with the answer that was accepted. */
async function answerTo(
  change: (event: Record<string, unknown>) => unknown,
  request?: RequestSpec,
): Promise<Outcome & { response: CustomResourceResponse; callback: Callback }> {
  const callback = h.cloud.createCallback();
  const outcome = await deliverRaw(change, { callback, request });
  const response = await answered(callback);
  expect(callback.bodies).toHaveLength(1);
  expect(response).toMatchObject({
    StackId: outcome.resource.StackId,
    RequestId: outcome.event.RequestId,
    LogicalResourceId: outcome.resource.LogicalResourceId,
  });
  return { ...outcome, response, callback };
}

const without = (event: Record<string, unknown>, field: string) => {
  const copy = { ...event };
  delete copy[field];
  return copy;
};

const REFUSED = 'The ImageCopy handler cannot process this request: ';

describe('a malformed event with a response URL is answered FAILED', () => {
  it.each([
    ['no RequestType', (e: Record<string, unknown>) => without(e, 'RequestType'), 'undefined'],
    [
      'a RequestType in lower case',
      (e: Record<string, unknown>) => ({ ...e, RequestType: 'create' }),
      '"create"',
    ],
    ['a RequestType that is not a string', (e: Record<string, unknown>) => ({ ...e, RequestType: 1 }), '1'],
  ])('%s', async (_name, change, shown) => {
    const { response, resource, event } = await answerTo(change);
    expect(response.Status).toBe('FAILED');
    expect(response.Reason).toBe(`${REFUSED}RequestType ${shown} is not one of Create, Update, Delete`);
    expect(response.PhysicalResourceId).toBe(physicalIdFor(String(event.RequestId)));
    expect(ownedImages(h, resource)).toEqual([]);
  });

  it('no RegionId', async () => {
    const { response, resource, steps } = await answerTo((e) => without(e, 'RegionId'));
    expect(response).toMatchObject({ Status: 'FAILED', Reason: `${REFUSED}the event has no RegionId` });
    expect(steps.filter((step) => step.step === 'event-refused')).toHaveLength(1);
    expect(ownedImages(h, resource)).toEqual([]);
  });

  it('a Create without ResourceProperties, naming the required properties', async () => {
    const { response, resource, event } = await answerTo((e) => without(e, 'ResourceProperties'));
    expect(response.Status).toBe('FAILED');
    expect(response.Reason).toContain('SourceImageId is required');
    expect(response.Reason).toContain('SourceRegionId is required');
    expect(response.PhysicalResourceId).toBe(physicalIdFor(String(event.RequestId)));
    expect(ownedImages(h, resource)).toEqual([]);
  });

  it('a Create whose properties have the wrong types, naming each property and value', async () => {
    const { response, resource } = await answerTo((e) => ({
      ...e,
      ResourceProperties: {
        SourceImageId: 42,
        SourceRegionId: ['cn-hangzhou'],
        ImageName: { name: 'golden' },
        Tags: 'team=web',
        Encrypted: 'maybe',
        CreateTimeoutSeconds: 'soon',
      },
    }));
    expect(response.Status).toBe('FAILED');
    for (const fragment of [
      'SourceImageId 42',
      'SourceRegionId ["cn-hangzhou"]',
      'ImageName',
      'Tags',
      'Encrypted "maybe"',
      'CreateTimeoutSeconds "soon"',
    ]) {
      expect([fragment, response.Reason!.includes(fragment)]).toEqual([fragment, true]);
    }
    expect(ownedImages(h, resource)).toEqual([]);
  });

  it('oversize properties: the answer still fits the 4096-byte response limit and names what is wrong', async () => {
    const manyTags = Object.fromEntries(
      Array.from({ length: 2_000 }, (_, i) => [`key-${i}`, 'v'.repeat(100)]),
    );
    const { response, resource, callback } = await answerTo((e) => ({
      ...e,
      ResourceProperties: {
        ...(e.ResourceProperties as object),
        ImageName: `g${'x'.repeat(200_000)}`,
        Description: 'd'.repeat(100_000),
        Tags: manyTags,
      },
    }));
    expect(response.Status).toBe('FAILED');
    expect(callback.rejections).toEqual([]);
    expect(Buffer.byteLength(JSON.stringify(response))).toBeLessThanOrEqual(RESPONSE_BODY_LIMIT_BYTES);
    expect(response.Reason).toContain('must be 2 to 128 characters long (it has 200001)');
    expect(response.Reason).not.toContain('x'.repeat(200));
    expect(ownedImages(h, resource)).toEqual([]);
  });

  it('a deeply nested property value, copying nothing', async () => {
    const { response, resource } = await answerTo((e) => {
      const nested = '['.repeat(5_000) + ']'.repeat(5_000);
      const text = JSON.stringify({
        ...e,
        ResourceProperties: { ...(e.ResourceProperties as object), Tags: 0 },
      });
      return Buffer.from(text.replace('"Tags":0', `"Tags":{"deep":${nested}}`));
    });
    expect(response.Status).toBe('FAILED');
    expect(ownedImages(h, resource)).toEqual([]);
  });

  it('an Update with neither PhysicalResourceId nor OldResourceProperties, naming the invalid property', async () => {
    const { response } = await answerTo(
      (e) => ({ ...e, ResourceProperties: { SourceImageId: 'not-an-image' } }),
      { ...validCreate(), RequestType: 'Update' },
    );
    expect(response.Status).toBe('FAILED');
    expect(response.Reason).toContain('SourceImageId "not-an-image" is invalid');
  });
});

describe('a request that cannot be answered is logged as refused', () => {
  it.each([
    ['an empty payload', Buffer.alloc(0), 'the event is not valid JSON'],
    ['the JSON null', Buffer.from('null'), 'the event is not a JSON object'],
    ['a JSON string that is not an event', Buffer.from('"Create"'), 'the event is not a JSON object'],
    [
      'a megabyte of random bytes',
      Buffer.from(Array.from({ length: 1 << 20 }, (_, i) => (i * 7919) % 251)),
      'the event is not valid JSON',
    ],
  ])('%s', async (_name, payload, reason) => {
    const { steps } = await deliverRaw(() => payload);
    expect(steps).toEqual([
      expect.objectContaining({ level: 'error', step: 'event-refused', reason, answered: false }),
    ]);
  });

  it('an unknown RequestType without response URLs', async () => {
    const { steps } = await deliverRaw((e) => ({ ...e, RequestType: 'Upsert' }));
    expect(steps.map((step) => step.step)).toEqual(['event-refused', 'response-impossible']);
    expect(steps[1]).toMatchObject({
      status: 'FAILED',
      reason: `${REFUSED}RequestType "Upsert" is not one of Create, Update, Delete`,
    });
  });

  it('a Create with bad properties and no response URLs copies nothing', async () => {
    const { steps, resource } = await deliverRaw((e) => ({
      ...e,
      ResourceProperties: { SourceImageId: 'm-bp1x' },
    }));
    expect(steps.map((step) => step.step)).toEqual(['event', 'failed', 'response-impossible']);
    expect(String(steps[2].reason)).toContain('SourceRegionId is required');
    expect(ownedImages(h, resource)).toEqual([]);
  });

  it.each(['StackId', 'RequestId', 'LogicalResourceId'])(
    'an event without %s: the FAILED answer it posts is refused, and the refusal is logged',
    async (field) => {
      const callback = h.cloud.createCallback();
      const { steps } = await deliverRaw((e) => without(e, field), { callback });
      expect(callback.bodies).toEqual([]);
      // Each URL (public, then intranet) refuses it once; a refused body is not sent again.
      expect(callback.rejections).toEqual([
        `InvalidResponse: ${field} is required.`,
        `InvalidResponse: ${field} is required.`,
      ]);
      expect(steps.map((step) => step.step)).toEqual([
        'event-refused',
        'response-not-accepted',
        'response-not-accepted',
        'response-refused',
      ]);
      expect(steps.slice(1, 3).map((step) => [step.via, step.httpStatus])).toEqual([
        ['public', 400],
        ['intranet', 400],
      ]);
      expect(steps[0]).toMatchObject({ reason: `${REFUSED}the event has no ${field}` });
    },
  );

  it('a ResponseURL that is not a URL', async () => {
    const { steps } = await deliverRaw((e) => ({
      ...without(e, 'IntranetResponseURL'),
      ResponseURL: 'not a url',
      RequestType: 'Upsert',
    }));
    expect(steps.map((step) => step.step)).toEqual([
      'event-refused',
      'response-not-accepted',
      'response-refused',
    ]);
    expect(steps[1]).toMatchObject({ code: 'InvalidURL' });
  });

  it('response URLs that cannot be reached: it gives up before the function times out', async () => {
    const { steps } = await deliverRaw(
      (e) => ({
        ...e,
        ResponseURL: 'http://127.0.0.1:1/ros-callbacks/x?Signature=unreachable',
        IntranetResponseURL: 'http://127.0.0.1:1/ros-callbacks-intranet/x?Signature=unreachable',
        RequestType: 'Upsert',
      }),
      { timeoutSeconds: 3 },
    );
    const names = steps.map((step) => step.step);
    expect(names[0]).toBe('event-refused');
    expect(names.at(-1)).toBe('response-failed');
    expect(names.filter((name) => name === 'response-not-accepted').length).toBeGreaterThanOrEqual(2);
  });
});
