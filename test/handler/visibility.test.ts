/**
 * How soon ECS lists a new copy is not documented (`copyVisibility`): under `delayed` a copy is absent from
 * DescribeImages (by id, tag and name) for a while after CopyImage. The handler treats a copy it asked for and has
 * not seen yet as pending, for a bounded time that survives hand-overs, and a duplicate delivery that cannot see the
 * first one's copy makes none of its own (its ClientToken finds it). Nor is it documented what the actions by id
 * answer for a copy not listed yet (`hiddenCopyActions`): under `not-found` the handler does not take that answer for
 * "gone" while the copy may still be unlisted, and cancels or deletes it once ECS knows it. Minutes-long cases run in
 * virtual time.
 */
import { randomUUID } from 'crypto';
import Ecs, * as $Ecs from '@alicloud/ecs20140526';
import { $OpenApiUtil } from '@alicloud/openapi-core';
import { ApiError } from '../../lib/local';
import {
  OWNERSHIP_TAG_KEY,
  ownershipRequestHash,
  ownershipTagValue,
  SOURCE_TAG_KEY,
  sourceTagValue,
} from '../../lib/protocol';
import {
  answered,
  deliver,
  DESTINATION_REGION,
  type Harness,
  imageIdOf,
  newResource,
  ownedImages,
  putSource,
  run,
  SOURCE_REGION,
  startCopyAs,
  startHarness,
  stepsOf,
  until,
} from './harness';
import { testUrl } from './urls';
import { startVirtualCloud, type VirtualCloud } from './virtual';

const unique = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;

const propertiesFor = <T extends object = object>(sourceImageId: string, extra: T = {} as T) => ({
  SourceImageId: sourceImageId,
  SourceRegionId: SOURCE_REGION,
  DestinationRegionId: DESTINATION_REGION,
  ImageName: unique('seen'),
  ...extra,
});

const unlistedLooks = (h: Harness, fn: string, requestId: unknown) =>
  stepsOf(h, fn).filter((step) => step.step === 'not-listed-yet' && step.requestId === requestId);

describe('copyVisibility: delayed (a new copy is listed 5 s after CopyImage)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ variants: { copyVisibility: 'delayed', copyVisibilityDelayMs: 5_000 } });
  });
  afterAll(() => h.stop());

  it.concurrent(
    'treats a copy it asked for and cannot see yet as pending, and answers SUCCESS once ECS lists it',
    async () => {
      const fn = h.deployHandler();
      const resource = newResource();
      const { response, event } = await run(h, fn, resource, {
        RequestType: 'Create',
        ResourceProperties: propertiesFor(putSource(h)),
      });
      expect(response.Status).toBe('SUCCESS');
      expect(unlistedLooks(h, fn, event.RequestId).length).toBeGreaterThan(0);
      expect(ownedImages(h, resource).map((image) => image.imageId)).toEqual([imageIdOf(response)]);
    },
  );

  it.concurrent(
    'adopts the copy that holds its name when that copy is its own and not listed yet (a duplicate delivery that copied from another source)',
    async () => {
      const fn = h.deployHandler();
      const resource = newResource();
      const requestId = randomUUID();
      const properties = propertiesFor(putSource(h));
      // A duplicate delivery of this request copied from another image (an ImageReplication member copies from a
      // peer's finished copy when the source is busy), so under another ClientToken: its copy holds the name and
      // is not listed yet when this delivery's CopyImage is refused for the name.
      const theirs = await startCopyAs(
        h,
        putSource(h),
        { [OWNERSHIP_TAG_KEY]: ownershipTagValue(resource.StackId, resource.LogicalResourceId, requestId) },
        properties.ImageName,
      );
      const { response } = await run(h, fn, resource, {
        RequestType: 'Create',
        RequestId: requestId,
        ResourceProperties: properties,
      });
      expect({ status: response.Status, reason: response.Reason }).toEqual({
        status: 'SUCCESS',
        reason: undefined,
      });
      expect(imageIdOf(response)).toBe(theirs);
      expect(stepsOf(h, fn).some((step) => step.step === 'name-holder-not-listed')).toBe(true);
      expect(ownedImages(h, resource).map((image) => image.imageId)).toEqual([theirs]);
    },
  );

  it.concurrent(
    'makes no second copy when a duplicate delivery arrives while the first copy is not listed yet',
    async () => {
      const fn = h.deployHandler();
      const resource = newResource();
      const request = {
        RequestType: 'Create' as const,
        RequestId: randomUUID(),
        ResourceProperties: propertiesFor(putSource(h)),
      };
      const first = await deliver(h, fn, resource, request);
      await until(() => ownedImages(h, resource).length > 0);
      const second = await deliver(h, fn, resource, request);
      const [a, b] = await Promise.all([answered(first.callback), answered(second.callback)]);
      await h.cloud.fc.settled();
      expect(a.Status).toBe('SUCCESS');
      expect(b).toEqual(a);
      expect(ownedImages(h, resource).map((image) => image.imageId)).toEqual([imageIdOf(a)]);
      // Both deliveries asked ECS; the ClientToken gave the second the first one's copy.
      const started = stepsOf(h, fn).filter((step) => step.step === 'copy-started');
      expect(started.map((step) => step.imageId)).toEqual([imageIdOf(a), imageIdOf(a)]);
    },
  );

  it.concurrent('keeps an unseen copy pending across a hand-over to a fresh invocation', async () => {
    const fn = h.deployHandler({ timeoutSeconds: 4 });
    const resource = newResource();
    const { response, event } = await run(h, fn, resource, {
      RequestType: 'Create',
      ResourceProperties: propertiesFor(putSource(h)),
    });
    expect(response.Status).toBe('SUCCESS');
    const looks = unlistedLooks(h, fn, event.RequestId);
    expect(new Set(looks.map((step) => step.invocationId)).size).toBeGreaterThan(1);
    // Measured from the one CopyImage, not restarted by the hand-over.
    const unseenFor = looks.map((step) => Number(step.unseenForMs));
    expect(unseenFor).toEqual([...unseenFor].sort((x, y) => x - y));
    expect(stepsOf(h, fn).filter((step) => step.step === 'copy-started')).toHaveLength(1);
  });

  it.concurrent(
    "a rollback Delete with the logical id looks again across hand-overs until the unanswered Create's copy is listed, and removes it",
    async () => {
      const fn = h.deployHandler({ timeoutSeconds: 4 });
      const resource = newResource();
      const createRequestId = randomUUID();
      // The Create's CopyImage answered, then ROS never got its answer: its copy is unlisted for 5 s.
      const copyId = await startCopyAs(h, putSource(h, { sizeGiB: 500 }), {
        [OWNERSHIP_TAG_KEY]: ownershipTagValue(
          resource.StackId,
          resource.LogicalResourceId,
          createRequestId,
          {
            instance: ownershipRequestHash(createRequestId),
          },
        ),
      });
      const { response, event } = await run(h, fn, resource, {
        RequestType: 'Delete',
        PhysicalResourceId: resource.LogicalResourceId,
        ResourceProperties: propertiesFor(putSource(h)),
      });
      expect(response.Status).toBe('SUCCESS');
      expect(h.cloud.ecs.getImage(DESTINATION_REGION, copyId)).toBeUndefined();
      const looks = stepsOf(h, fn).filter(
        (step) => step.step === 'sweep' && step.requestId === event.RequestId,
      );
      expect(new Set(looks.map((step) => step.invocationId)).size).toBeGreaterThan(1);
    },
  );
});

describe('copyVisibility: immediate', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ variants: { copyVisibility: 'immediate' } });
  });
  afterAll(() => h.stop());

  it('copies and finds the copy at its first look', async () => {
    const fn = h.deployHandler();
    const resource = newResource();
    const { response, event } = await run(h, fn, resource, {
      RequestType: 'Create',
      ResourceProperties: propertiesFor(putSource(h)),
    });
    expect(response.Status).toBe('SUCCESS');
    expect(unlistedLooks(h, fn, event.RequestId)).toEqual([]);
    expect(
      h.cloud.ecs.getImage(DESTINATION_REGION, imageIdOf(response))?.tags[OWNERSHIP_TAG_KEY],
    ).toBeDefined();
  });
});

describe('a copy listed minutes late (virtual time)', () => {
  it('is waited for while the bound (2 minutes) lasts', async () => {
    const v = await startVirtualCloud({ copyVisibility: 'delayed', copyVisibilityDelayMs: 100_000 });
    const url = await testUrl(200);
    try {
      const source = v.cloud.ecs.putImage(SOURCE_REGION, { imageName: unique('late-listed') });
      await v.deliver(
        newResource(),
        { RequestType: 'Create', ResourceProperties: propertiesFor(source) },
        url.url,
      );
      expect(url.accepted.map((body) => body.Status)).toEqual(['SUCCESS']);
    } finally {
      await url.close();
      await v.stop();
    }
  });

  it('fails a copy ECS has not listed 2 minutes after CopyImage, and removes it by its id (hiddenCopyActions work)', async () => {
    const v = await startVirtualCloud({
      copyVisibility: 'delayed',
      copyVisibilityDelayMs: 200_000,
      hiddenCopyActions: 'work',
    });
    const url = await testUrl(200);
    try {
      const source = v.cloud.ecs.putImage(SOURCE_REGION, { imageName: unique('never-listed') });
      const resource = newResource();
      await v.deliver(
        resource,
        { RequestType: 'Create', ResourceProperties: propertiesFor(source) },
        url.url,
      );
      const [answer] = url.accepted;
      expect(answer.Status).toBe('FAILED');
      expect(answer.Reason).toMatch(
        /^The copy m-\w+ that CopyImage started in cn-shanghai never appeared in DescribeImages within 2 minutes/,
      );
      expect(v.steps.some((step) => step.step === 'unlisted-copy-discarded')).toBe(true);
      expect(
        v.cloud.ecs.listImages(DESTINATION_REGION).filter((image) => image.sourceImageId === source),
      ).toEqual([]);
    } finally {
      await url.close();
      await v.stop();
    }
  });
});

describe('IMAGE_COPY_LISTING_BOUND_MS (virtual time)', () => {
  it('a function given a listing bound takes a copy unlisted past that bound for gone, and removes it by its id', async () => {
    const v = await startVirtualCloud(
      { copyVisibility: 'delayed', copyVisibilityDelayMs: 200_000, hiddenCopyActions: 'work' },
      { env: { IMAGE_COPY_LISTING_BOUND_MS: '10000' } },
    );
    const url = await testUrl(200);
    try {
      const source = v.cloud.ecs.putImage(SOURCE_REGION, { imageName: unique('bounded') });
      await v.deliver(
        newResource(),
        { RequestType: 'Create', ResourceProperties: propertiesFor(source) },
        url.url,
      );
      const [answer] = url.accepted;
      expect(answer.Status).toBe('FAILED');
      expect(answer.Reason).toMatch(/never appeared in DescribeImages within 10 seconds/);
      expect(
        v.cloud.ecs.listImages(DESTINATION_REGION).filter((image) => image.sourceImageId === source),
      ).toEqual([]);
    } finally {
      await url.close();
      await v.stop();
    }
  });
});

describe('hiddenCopyActions: a copy ECS does not list yet is unknown to its actions by id too (virtual time)', () => {
  it.each(['not-found', 'work'] as const)(
    '%s: a create timeout before ECS lists the copy cancels it once it can, and leaves nothing',
    async (hiddenCopyActions) => {
      const v = await startVirtualCloud({
        copyVisibility: 'delayed',
        copyVisibilityDelayMs: 45_000,
        hiddenCopyActions,
      });
      const url = await testUrl(200);
      try {
        const source = v.cloud.ecs.putImage(SOURCE_REGION, { imageName: unique('hidden'), sizeGiB: 500 });
        await v.deliver(
          newResource(),
          {
            RequestType: 'Create',
            ResourceProperties: propertiesFor(source, { CreateTimeoutSeconds: 30 }),
          },
          url.url,
        );
        const [answer] = url.accepted;
        expect(answer.Status).toBe('FAILED');
        expect(answer.Reason).toMatch(
          /^The create timeout of 30 seconds passed with the copy m-\w+ .*; the copy was cancelled\./,
        );
        expect(
          v.cloud.ecs.listImages(DESTINATION_REGION).filter((image) => image.sourceImageId === source),
        ).toEqual([]);
        const waited = v.steps.some(
          (step) => step.step === 'not-listed-yet' && step.reason === 'create timeout',
        );
        expect(waited).toBe(hiddenCopyActions === 'not-found');
      } finally {
        await url.close();
        await v.stop();
      }
    },
  );

  it('not-found: a replacement copy that fails before ECS lists it is removed once ECS knows it, the current image kept', async () => {
    // Armed for the update: the first look after its CopyImage is refused for good (a permission lost a moment).
    let armed = false;
    let failNextDescribe = false;
    const v = await startVirtualCloud(
      { copyVisibility: 'delayed', copyVisibilityDelayMs: 60_000, hiddenCopyActions: 'not-found' },
      {
        faults: {
          beforeCall: async (product, action) => {
            if (product === 'ecs' && action === 'CopyImage' && armed) {
              armed = false;
              failNextDescribe = true;
            } else if (product === 'ecs' && action === 'DescribeImages' && failNextDescribe) {
              failNextDescribe = false;
              throw new ApiError(
                'Forbidden.RAM',
                'User not authorized to operate on the specified resource.',
                403,
              );
            }
            return undefined;
          },
        },
      },
    );
    const url = await testUrl(200);
    try {
      const first = v.cloud.ecs.putImage(SOURCE_REGION, { imageName: unique('first') });
      const second = v.cloud.ecs.putImage(SOURCE_REGION, { imageName: unique('second'), sizeGiB: 500 });
      const resource = newResource();
      const properties = propertiesFor(first);
      await v.deliver(resource, { RequestType: 'Create', ResourceProperties: properties }, url.url);
      const [created] = url.accepted;
      expect(created.Status).toBe('SUCCESS');
      armed = true;
      await v.deliver(
        resource,
        {
          RequestType: 'Update',
          PhysicalResourceId: created.PhysicalResourceId,
          ResourceProperties: { ...properties, SourceImageId: second },
          OldResourceProperties: properties,
        },
        url.url,
      );
      const replaced = url.accepted[1];
      expect(replaced.Status).toBe('FAILED');
      expect(replaced.Reason).toMatch(
        /^Replacement failed: .*Forbidden\.RAM.* The current image m-\w+ is kept\./,
      );
      const copies = v.cloud.ecs
        .listImages(DESTINATION_REGION)
        .filter((image) => image.sourceImageId === first || image.sourceImageId === second);
      expect(copies.map((image) => image.imageId)).toEqual([imageIdOf(created)]);
      expect(v.steps.some((step) => step.step === 'replacement-copy-not-listed-yet')).toBe(true);
      expect(v.steps.some((step) => step.step === 'replacement-copy-discarded')).toBe(true);
    } finally {
      await url.close();
      await v.stop();
    }
  });
});

describe('a name held by a copy ECS does not list yet (virtual time)', () => {
  it('a redelivery whose twin copied from a peer waits for that copy, unlisted and holding the name, and adopts it', async () => {
    // Found by the chaos suite. The first delivery's CopyImage of the source is refused (the source is being copied),
    // so it copies from a peer's finished copy (another ClientToken), then is cut off. A redelivery of the same
    // request finds the source free: its CopyImage is refused the name, held by the twin's copy that ECS does not
    // list yet. It must wait for that copy to be listed and adopt it, not fail on the name.
    let copies = 0;
    let failNextDescribe = false;
    const v = await startVirtualCloud(
      {
        copyVisibility: 'delayed',
        copyVisibilityDelayMs: 60_000,
        copyConflict: 'any-destination',
        hiddenCopyActions: 'not-found',
      },
      {
        faults: {
          beforeCall: async (product, action, principal) => {
            if (product !== 'ecs' || principal !== 'role') {
              return undefined;
            }
            if (action === 'CopyImage' && ++copies === 2) {
              failNextDescribe = true;
            }
            if (action === 'DescribeImages' && failNextDescribe) {
              failNextDescribe = false;
              throw new ApiError(
                'Forbidden.RAM',
                'User not authorized to operate on the specified resource.',
                403,
              );
            }
            return undefined;
          },
        },
      },
    );
    const first = await testUrl(200);
    const second = await testUrl(200);
    try {
      const source = v.cloud.ecs.putImage(SOURCE_REGION, { imageName: unique('busy') });
      const peer = v.cloud.ecs.putImage('cn-beijing', {
        imageName: unique('peer'),
        tags: { [SOURCE_TAG_KEY]: sourceTagValue(SOURCE_REGION, source, false) },
      });
      await rootEcs(v).copyImage(
        new $Ecs.CopyImageRequest({
          regionId: SOURCE_REGION,
          imageId: source,
          destinationRegionId: 'cn-shenzhen',
          destinationImageName: unique('elsewhere'),
        }),
      );
      const resource = newResource();
      const request = {
        RequestType: 'Create' as const,
        RequestId: randomUUID(),
        ResourceProperties: propertiesFor(source, { ReplicaRegionIds: ['cn-beijing'] }),
      };
      await v.deliver(resource, request, first.url);
      expect(first.accepted.map((answer) => answer.Status)).toEqual(['FAILED']);
      const [twinCopy] = v.cloud.ecs
        .listImages(DESTINATION_REGION)
        .filter((image) => image.sourceImageId === peer);
      expect(twinCopy).toBeDefined();

      await v.deliver(resource, request, second.url);
      const [answer] = second.accepted;
      expect(answer.Status).toBe('SUCCESS');
      expect(imageIdOf(answer)).toBe(twinCopy.imageId);
      expect(v.steps.some((step) => step.step === 'name-holder-not-listed')).toBe(true);
      expect(
        v.cloud.ecs
          .listImages(DESTINATION_REGION)
          .filter((image) => image.sourceImageId === source || image.sourceImageId === peer)
          .map((image) => image.imageId),
      ).toEqual([twinCopy.imageId]);
    } finally {
      await first.close();
      await second.close();
      await v.stop();
    }
  });
});

describe('a rollback Delete after a Create ROS never got the answer of (virtual time)', () => {
  /** A Create's copy as its CopyImage left it: unconfirmed, of the Create's instance, not listed for 60 s. */
  async function unansweredCreate(v: VirtualCloud, resource: ReturnType<typeof newResource>, source: string) {
    const createRequestId = randomUUID();
    const answer = await rootEcs(v).copyImage(
      new $Ecs.CopyImageRequest({
        regionId: SOURCE_REGION,
        imageId: source,
        destinationRegionId: DESTINATION_REGION,
        destinationImageName: unique('unanswered'),
        tag: [
          new $Ecs.CopyImageRequestTag({
            key: OWNERSHIP_TAG_KEY,
            value: ownershipTagValue(resource.StackId, resource.LogicalResourceId, createRequestId, {
              instance: ownershipRequestHash(createRequestId),
            }),
          }),
        ],
      }),
    );
    return answer.body!.imageId!;
  }

  const cases = [
    ['not-found', 'the logical id', 'Copy'],
    ['not-found', 'no id', undefined],
    ['not-found', "ROS's placeholder", 'Copy-never-created'],
    ['work', 'the logical id', 'Copy'],
  ] as const;
  it.each(cases)(
    'hiddenCopyActions %s, the Delete carrying %s: looks again until the copy is listed, and removes it',
    async (hiddenCopyActions, _what, physicalId) => {
      const v = await startVirtualCloud({
        copyVisibility: 'delayed',
        copyVisibilityDelayMs: 60_000,
        hiddenCopyActions,
      });
      const url = await testUrl(200);
      try {
        const source = v.cloud.ecs.putImage(SOURCE_REGION, {
          imageName: unique('rolled-back'),
          sizeGiB: 500,
        });
        const resource = newResource();
        const copyId = await unansweredCreate(v, resource, source);
        const startedAt = v.clock.now();
        await v.deliver(
          resource,
          {
            RequestType: 'Delete',
            ResourceProperties: propertiesFor(source),
            ...(physicalId !== undefined ? { PhysicalResourceId: physicalId } : {}),
          },
          url.url,
        );
        expect(url.accepted.map((answer) => answer.Status)).toEqual(['SUCCESS']);
        expect(v.cloud.ecs.getImage(DESTINATION_REGION, copyId)).toBeUndefined();
        expect(v.steps.some((step) => step.step === 'sweep-again')).toBe(true);
        // It looked for no longer than the listing bound (2 minutes) and the removal.
        expect(v.clock.now() - startedAt).toBeLessThan(150_000);
      } finally {
        await url.close();
        await v.stop();
      }
    },
  );

  it('a Delete of a confirmed resource whose copy is listed removes it without looking again', async () => {
    const v = await startVirtualCloud({ copyVisibility: 'delayed', copyVisibilityDelayMs: 5_000 });
    const url = await testUrl(200);
    try {
      const source = v.cloud.ecs.putImage(SOURCE_REGION, { imageName: unique('ordinary') });
      const resource = newResource();
      const properties = propertiesFor(source);
      await v.deliver(resource, { RequestType: 'Create', ResourceProperties: properties }, url.url);
      const [created] = url.accepted;
      expect(created.Status).toBe('SUCCESS');
      const startedAt = v.clock.now();
      await v.deliver(
        resource,
        {
          RequestType: 'Delete',
          PhysicalResourceId: created.PhysicalResourceId,
          ResourceProperties: properties,
        },
        url.url,
      );
      expect(url.accepted[1].Status).toBe('SUCCESS');
      expect(v.cloud.ecs.getImage(DESTINATION_REGION, imageIdOf(created))).toBeUndefined();
      expect(v.steps.some((step) => step.step === 'sweep-again')).toBe(false);
      expect(v.clock.now() - startedAt).toBeLessThan(30_000);
    } finally {
      await url.close();
      await v.stop();
    }
  });
});

/** An ECS client with the root account's key. */
function rootEcs(v: VirtualCloud): Ecs {
  return new Ecs(
    new $OpenApiUtil.Config({
      ...v.cloud.credentials,
      regionId: SOURCE_REGION,
      endpoint: v.cloud.endpoint,
      protocol: 'http',
    }),
  );
}
