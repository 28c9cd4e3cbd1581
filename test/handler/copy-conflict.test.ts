/**
 * ECS refuses a CopyImage of a source that is being copied (`OperationDenied.ImageCopyConflict`, documented; whether
 * the rule spans destination regions is not). Under each reading LocalCloud plays (`copyConflict`), the handler
 * waits for the running copy and tries again, within the create timeout and across invocations, and fails at the
 * timeout saying why.
 */
import { randomUUID } from 'crypto';
import * as $Ecs from '@alicloud/ecs20140526';
import type { CloudVariants } from '../../lib/local/variants';
import {
  DESTINATION_REGION,
  type Harness,
  imageIdOf,
  invocationsOf,
  MEDIUM_SIZE_GIB,
  newResource,
  ownedImages,
  putSource,
  run,
  SLOW_SIZE_GIB,
  SOURCE_REGION,
  startHarness,
  STEADY_SIZE_GIB,
  stepsOf,
} from './harness';

const OTHER_REGION = 'cn-beijing';

const unique = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;

const propertiesFor = <T extends object = object>(sourceImageId: string, extra: T = {} as T) => ({
  SourceImageId: sourceImageId,
  SourceRegionId: SOURCE_REGION,
  DestinationRegionId: DESTINATION_REGION,
  ImageName: unique('conflict'),
  ...extra,
});

/** Another copy of `source`, made outside the handler (as another stack or a person would), into `regionId`. */
async function blockingCopy(h: Harness, source: string, regionId: string): Promise<string> {
  const answer = await h.ecs.copyImage(
    new $Ecs.CopyImageRequest({
      regionId: SOURCE_REGION,
      imageId: source,
      destinationRegionId: regionId,
      destinationImageName: unique('blocker'),
    }),
  );
  return answer.body!.imageId!;
}

async function cancel(h: Harness, regionId: string, imageId: string): Promise<void> {
  await h.ecs.cancelCopyImage(new $Ecs.CancelCopyImageRequest({ regionId, imageId })).catch(() => undefined);
}

/** The `copy-conflict` steps the handler logged for one request. */
const conflictsOf = (h: Harness, fn: string, requestId: unknown) =>
  stepsOf(h, fn).filter((step) => step.step === 'copy-conflict' && step.requestId === requestId);

/** Whether the handler started a copy for the request. */
const startedBy = (h: Harness, fn: string, requestId: unknown) =>
  stepsOf(h, fn).some((step) => step.step === 'copy-started' && step.requestId === requestId);

function withHarness(variants: Partial<CloudVariants>): () => Harness {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ variants });
  });
  afterAll(() => h.stop());
  return () => h;
}

describe('copyConflict: any-destination (the default: a copy into any region holds the source)', () => {
  const harness = withHarness({ copyConflict: 'any-destination' });

  it.concurrent(
    'retries a copy that ECS refuses as concurrent until the running copy (into another region) ends',
    async () => {
      const h = harness();
      const fn = h.deployHandler();
      const source = putSource(h, { sizeGiB: MEDIUM_SIZE_GIB });
      await blockingCopy(h, source, OTHER_REGION);
      const resource = newResource();
      const { response, event } = await run(h, fn, resource, {
        RequestType: 'Create',
        ResourceProperties: propertiesFor(source),
      });
      expect(response.Status).toBe('SUCCESS');
      expect(ownedImages(h, resource).map((image) => image.imageId)).toEqual([imageIdOf(response)]);
      const conflicts = conflictsOf(h, fn, event.RequestId);
      expect(conflicts.length).toBeGreaterThan(0);
      expect(conflicts[0]).toMatchObject({ code: 'OperationDenied.ImageCopyConflict', refusals: 1 });
      expect(stepsOf(h, fn).some((step) => step.step === 'copy-conflict-over')).toBe(true);
    },
  );

  it.concurrent(
    'keeps waiting across invocations: the refusals and their start survive the hand-over',
    async () => {
      const h = harness();
      const fn = h.deployHandler({ timeoutSeconds: 4 });
      const source = putSource(h, { sizeGiB: STEADY_SIZE_GIB });
      await blockingCopy(h, source, DESTINATION_REGION);
      const resource = newResource();
      const { response, event } = await run(h, fn, resource, {
        RequestType: 'Create',
        ResourceProperties: propertiesFor(source),
      });
      expect(response.Status).toBe('SUCCESS');
      const conflicts = conflictsOf(h, fn, event.RequestId);
      // Counted on from one invocation to the next, and the wait measured from the first refusal.
      expect(conflicts.map((step) => step.refusals)).toEqual(conflicts.map((_, index) => index + 1));
      expect(new Set(conflicts.map((step) => step.invocationId)).size).toBeGreaterThan(1);
      expect(stepsOf(h, fn).some((step) => step.step === 'continued' && step.phase === 'copy')).toBe(true);
      expect(invocationsOf(h, fn).map((record) => record.outcome)).not.toContain('failed');
    },
  );

  it.concurrent(
    'fails at the create timeout, saying the source was being copied by something else and for how long it waited',
    async () => {
      const h = harness();
      const fn = h.deployHandler();
      const source = putSource(h, { sizeGiB: SLOW_SIZE_GIB });
      const blocker = await blockingCopy(h, source, OTHER_REGION);
      const resource = newResource();
      try {
        const { response } = await run(h, fn, resource, {
          RequestType: 'Create',
          ResourceProperties: propertiesFor(source, { CreateTimeoutSeconds: 6 }),
        });
        expect(response.Status).toBe('FAILED');
        expect(response.Reason).toMatch(
          new RegExp(
            `^Cannot copy the source image ${source} in ${SOURCE_REGION}: it was being copied by something else .* ` +
              `for the whole create timeout of 6 seconds: ECS refused CopyImage \\d+ times over \\d+ seconds ` +
              `\\(ECS CopyImage failed: OperationDenied\\.ImageCopyConflict: The same image cannot be copied ` +
              `concurrently`,
          ),
        );
        expect(response.Reason).toContain(
          'Deploy again once that copy has finished, or raise CreateTimeoutSeconds',
        );
        expect(ownedImages(h, resource)).toEqual([]);
      } finally {
        await cancel(h, OTHER_REGION, blocker);
      }
    },
  );

  it.concurrent('copies one source into two regions for two resources at once: both finish', async () => {
    const h = harness();
    const fn = h.deployHandler();
    const source = putSource(h, { sizeGiB: MEDIUM_SIZE_GIB });
    const [first, second] = await Promise.all(
      [DESTINATION_REGION, OTHER_REGION].map((regionId) =>
        run(h, fn, newResource(), {
          RequestType: 'Create',
          ResourceProperties: propertiesFor(source, { DestinationRegionId: regionId }),
        }),
      ),
    );
    expect([first.response.Status, second.response.Status]).toEqual(['SUCCESS', 'SUCCESS']);
    const refused = [first, second].filter(({ event }) => conflictsOf(h, fn, event.RequestId).length > 0);
    expect(refused).toHaveLength(1);
  });
});

describe('copyConflict: same-destination (only a copy into the same region holds the source)', () => {
  const harness = withHarness({ copyConflict: 'same-destination' });

  it.concurrent('copies at once while the source is being copied into another region', async () => {
    const h = harness();
    const fn = h.deployHandler();
    const source = putSource(h, { sizeGiB: SLOW_SIZE_GIB });
    const blocker = await blockingCopy(h, source, OTHER_REGION);
    try {
      const { response, event } = await run(h, fn, newResource(), {
        RequestType: 'Create',
        ResourceProperties: propertiesFor(source, { CreateTimeoutSeconds: 3 }),
      });
      expect(conflictsOf(h, fn, event.RequestId)).toEqual([]);
      expect(startedBy(h, fn, event.RequestId)).toBe(true);
      // The 60 s copy meets the 3 s create timeout and is cancelled: what matters is that it was started at once.
      expect(response.Reason ?? '').toContain('The create timeout of 3 seconds passed');
    } finally {
      await cancel(h, OTHER_REGION, blocker);
    }
  });

  it.concurrent('waits for a running copy of the source into the same region', async () => {
    const h = harness();
    const fn = h.deployHandler();
    const source = putSource(h, { sizeGiB: MEDIUM_SIZE_GIB });
    await blockingCopy(h, source, DESTINATION_REGION);
    const { response, event } = await run(h, fn, newResource(), {
      RequestType: 'Create',
      ResourceProperties: propertiesFor(source),
    });
    expect(response.Status).toBe('SUCCESS');
    expect(conflictsOf(h, fn, event.RequestId).length).toBeGreaterThan(0);
  });
});

describe('copyConflict: none (one source may be copied many times at once)', () => {
  const harness = withHarness({ copyConflict: 'none' });

  it('copies at once while the same source is being copied into the same region', async () => {
    const h = harness();
    const fn = h.deployHandler();
    const source = putSource(h, { sizeGiB: SLOW_SIZE_GIB });
    const blocker = await blockingCopy(h, source, DESTINATION_REGION);
    try {
      const { response, event } = await run(h, fn, newResource(), {
        RequestType: 'Create',
        ResourceProperties: propertiesFor(source, { CreateTimeoutSeconds: 3 }),
      });
      expect(conflictsOf(h, fn, event.RequestId)).toEqual([]);
      expect(startedBy(h, fn, event.RequestId)).toBe(true);
      // The 60 s copy meets the 3 s create timeout and is cancelled: what matters is that it was started at once.
      expect(response.Reason ?? '').toContain('The create timeout of 3 seconds passed');
    } finally {
      await cancel(h, DESTINATION_REGION, blocker);
    }
  });
});
