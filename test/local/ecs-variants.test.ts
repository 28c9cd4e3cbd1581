/**
 * The readings of undocumented ECS behaviours that LocalCloud's ECS plays (lib/local/variants.ts): concurrent copies
 * of one source (`copyConflict`), how soon a new copy is listed (`copyVisibility`, `copyVisibilityDelayMs`), what the
 * actions by id do with a copy not listed yet (`hiddenCopyActions`) and how long a CopyImage ClientToken is replayed
 * (`clientTokenReplay`). Each value gets a pass; the defaults are the
 * strictest readings.
 */
import * as $Ecs from '@alicloud/ecs20140526';
import Ecs from '@alicloud/ecs20140526';
import { $OpenApiUtil } from '@alicloud/openapi-core';
import { LocalCloud } from '../../lib/local';
import { DEFAULT_VARIANTS } from '../../lib/local/variants';
import { ecsFixture, type EcsFixture } from './ecs-fixture';

const HZ = 'cn-hangzhou';
const SH = 'cn-shanghai';
const BJ = 'cn-beijing';
const GOLDEN_HZ = 'm-bp1seedgoldenimage01';
const UBUNTU_HZ = 'm-bp1seedubuntu220401';

let counter = 0;
const copyInto = (f: EcsFixture, destination: string, extra: Record<string, string> = {}) =>
  f.call('CopyImage', {
    RegionId: HZ,
    ImageId: GOLDEN_HZ,
    DestinationRegionId: destination,
    DestinationImageName: `variant-copy-${++counter}`,
    ...extra,
  });

async function errorOf(
  promise: Promise<unknown>,
): Promise<{ code?: string; httpStatus?: number; message?: string }> {
  try {
    await promise;
  } catch (error) {
    return error as { code?: string; httpStatus?: number; message?: string };
  }
  throw new Error('expected the call to fail');
}

describe('the defaults', () => {
  it('are the strictest readings: conflicts across regions, a delayed listing that actions by id share, tokens kept only with their copy', () => {
    expect(DEFAULT_VARIANTS).toMatchObject({
      copyConflict: 'any-destination',
      copyVisibility: 'delayed',
      hiddenCopyActions: 'not-found',
      clientTokenReplay: 'while-image-exists',
    });
    expect(DEFAULT_VARIANTS.copyVisibilityDelayMs).toBeGreaterThan(0);
  });

  it('are what a LocalCloud plays unless told otherwise, and what it is told otherwise', async () => {
    const strict = await LocalCloud.start();
    const lenient = await LocalCloud.start({
      variants: { copyConflict: 'none', copyVisibility: 'immediate' },
    });
    try {
      expect(strict.ecs.variants).toEqual({
        copyConflict: 'any-destination',
        copyVisibility: 'delayed',
        copyVisibilityDelayMs: DEFAULT_VARIANTS.copyVisibilityDelayMs,
        clientTokenReplay: 'while-image-exists',
        hiddenCopyActions: 'not-found',
        shareAccountsOverTen: 'ignored',
        sharedImageDelete: 'refused',
        sharedImageTags: 'hidden',
        repeatedImageStatus: 'refused',
        copyQueue: 'shared',
      });
      expect(lenient.ecs.variants).toMatchObject({ copyConflict: 'none', copyVisibility: 'immediate' });
    } finally {
      await strict.stop();
      await lenient.stop();
    }
  });
});

describe('copyConflict', () => {
  const conflict = {
    code: 'OperationDenied.ImageCopyConflict',
    httpStatus: 400,
    message: 'The same image cannot be copied concurrently. Please wait until the last copy is completed.',
  };

  it('any-destination: refuses a copy of a source that is being copied, into any region, until that copy ends', async () => {
    const f = ecsFixture({ variants: { copyConflict: 'any-destination' } });
    await copyInto(f, SH);
    expect(await errorOf(copyInto(f, BJ))).toMatchObject(conflict);
    expect(await errorOf(copyInto(f, SH))).toMatchObject(conflict);
    // Another source is free to go.
    await expect(copyInto(f, BJ, { ImageId: UBUNTU_HZ })).resolves.toBeDefined();
    f.tick(10_001);
    await expect(copyInto(f, BJ)).resolves.toBeDefined();
  });

  it('any-destination: a queued copy (Waiting) holds the source too, and a cancelled one frees it', async () => {
    const f = ecsFixture({ variants: { copyConflict: 'any-destination' } });
    // Five copies of other sources fill the region's copy slots.
    for (let i = 0; i < 5; i++) {
      await copyInto(f, SH, { ImageId: f.ecs.putImage(HZ) });
    }
    const queued = (await copyInto(f, SH)).ImageId;
    expect((await f.describe(SH, queued)).Status).toBe('Waiting');
    expect(await errorOf(copyInto(f, BJ))).toMatchObject(conflict);
    await f.call('CancelCopyImage', { RegionId: SH, ImageId: queued });
    await expect(copyInto(f, BJ)).resolves.toBeDefined();
  });

  it('same-destination: refuses only a copy into the region the running copy goes to', async () => {
    const f = ecsFixture({ variants: { copyConflict: 'same-destination' } });
    await copyInto(f, SH);
    expect(await errorOf(copyInto(f, SH))).toMatchObject(conflict);
    await expect(copyInto(f, BJ)).resolves.toBeDefined();
  });

  it('none: copies one source into one region many times at once', async () => {
    const f = ecsFixture({ variants: { copyConflict: 'none' } });
    await copyInto(f, SH);
    await copyInto(f, SH);
    await copyInto(f, BJ);
    expect(f.ecs.listImages(SH).filter((image) => image.sourceImageId === GOLDEN_HZ)).toHaveLength(2);
  });

  it('is no conflict for a ClientToken replay of the running copy itself', async () => {
    const f = ecsFixture({ variants: { copyConflict: 'any-destination' } });
    const request = { ClientToken: 'stack/Copy/request-1', DestinationImageName: 'replayed' };
    const first = (await copyInto(f, SH, request)).ImageId;
    expect((await copyInto(f, SH, request)).ImageId).toBe(first);
  });
});

describe('copyVisibility', () => {
  it('delayed: a new copy is absent from DescribeImages by id, tag and name until the delay has passed', async () => {
    const f = ecsFixture({ variants: { copyVisibility: 'delayed', copyVisibilityDelayMs: 3_000 } });
    const imageId = (
      await copyInto(f, SH, { DestinationImageName: 'late-show', 'Tag.1.Key': 'owner', 'Tag.1.Value': 'me' })
    ).ImageId;
    const lookups = () =>
      Promise.all([
        f.call('DescribeImages', { RegionId: SH, ImageId: imageId, Status: 'ALL' }),
        f.call('DescribeImages', { RegionId: SH, 'Tag.1.Key': 'owner', 'Tag.1.Value': 'me', Status: 'ALL' }),
        f.call('DescribeImages', { RegionId: SH, ImageName: 'late-show', Status: 'ALL' }),
        f.call('ListTagResources', { RegionId: SH, ResourceType: 'image', 'ResourceId.1': imageId }),
      ]);
    const hidden = await lookups();
    expect(hidden.slice(0, 3).map((answer) => answer.TotalCount)).toEqual([0, 0, 0]);
    expect(hidden[3].TagResources.TagResource).toEqual([]);
    // The facade shows the truth.
    expect(f.ecs.getImage(SH, imageId)?.status).toBe('Creating');
    f.tick(2_999);
    expect((await lookups())[0].TotalCount).toBe(0);
    f.tick(1);
    const shown = await lookups();
    expect(shown.slice(0, 3).map((answer) => answer.Images.Image[0]?.ImageId)).toEqual([
      imageId,
      imageId,
      imageId,
    ]);
    expect(shown[3].TagResources.TagResource).toHaveLength(1);
  });

  it('delayed, hiddenCopyActions work: every other action treats the hidden copy as the image it is', async () => {
    const f = ecsFixture({
      variants: { copyVisibility: 'delayed', copyVisibilityDelayMs: 60_000, hiddenCopyActions: 'work' },
    });
    const imageId = (await copyInto(f, SH, { DestinationImageName: 'unseen' })).ImageId;
    // It holds its name...
    expect(
      await errorOf(copyInto(f, SH, { ImageId: UBUNTU_HZ, DestinationImageName: 'unseen' })),
    ).toMatchObject({
      code: 'InvalidImageName.Duplicated',
    });
    // ...can be tagged, renamed and moved...
    await f.call('TagResources', {
      RegionId: SH,
      ResourceType: 'image',
      'ResourceId.1': imageId,
      'Tag.1.Key': 'k',
      'Tag.1.Value': 'v',
    });
    await f.call('ModifyImageAttribute', { RegionId: SH, ImageId: imageId, ImageName: 'unseen-renamed' });
    await f.call('JoinResourceGroup', {
      RegionId: SH,
      ResourceType: 'image',
      ResourceId: imageId,
      ResourceGroupId: 'rg-hidden01',
    });
    expect(f.ecs.getImage(SH, imageId)).toMatchObject({
      imageName: 'unseen-renamed',
      resourceGroupId: 'rg-hidden01',
      tags: { k: 'v' },
    });
    // ...is refused by DeleteImage as a copy in progress, and cancelled by CancelCopyImage.
    expect(await errorOf(f.call('DeleteImage', { RegionId: SH, ImageId: imageId }))).toMatchObject({
      code: 'OperationDenied.ImageCopying',
    });
    await f.call('CancelCopyImage', { RegionId: SH, ImageId: imageId });
    expect(f.ecs.getImage(SH, imageId)).toBeUndefined();
  });

  it('delayed, hiddenCopyActions not-found: every action by id answers that the hidden copy does not exist, until it is listed', async () => {
    const f = ecsFixture({
      variants: {
        copyVisibility: 'delayed',
        copyVisibilityDelayMs: 5_000,
        hiddenCopyActions: 'not-found',
        copyConflict: 'any-destination',
      },
    });
    const token = { ClientToken: 'stack/Copy/hidden', DestinationImageName: 'unseen' };
    const imageId = (await copyInto(f, SH, token)).ImageId;
    const byId = {
      CancelCopyImage: { RegionId: SH, ImageId: imageId },
      DeleteImage: { RegionId: SH, ImageId: imageId },
      ModifyImageAttribute: { RegionId: SH, ImageId: imageId, ImageName: 'unseen-renamed' },
      TagResources: {
        RegionId: SH,
        ResourceType: 'image',
        'ResourceId.1': imageId,
        'Tag.1.Key': 'k',
        'Tag.1.Value': 'v',
      },
      UntagResources: { RegionId: SH, ResourceType: 'image', 'ResourceId.1': imageId, 'TagKey.1': 'k' },
      JoinResourceGroup: {
        RegionId: SH,
        ResourceType: 'image',
        ResourceId: imageId,
        ResourceGroupId: 'rg-hidden01',
      },
      CopyImage: {
        RegionId: SH,
        ImageId: imageId,
        DestinationRegionId: BJ,
        DestinationImageName: 'of-unseen',
      },
    };
    const answers = await Promise.all(
      Object.entries(byId).map(async ([action, params]) => [
        action,
        (await errorOf(f.call(action, params))).code,
      ]),
    );
    expect(Object.fromEntries(answers)).toEqual({
      CancelCopyImage: 'InvalidImageId.NotFound',
      DeleteImage: 'InvalidImageId.NotFound',
      ModifyImageAttribute: 'InvalidImageId.NotFound',
      TagResources: 'InvalidResourceId.NotFound',
      UntagResources: 'InvalidResourceId.NotFound',
      JoinResourceGroup: 'InvalidResourceId.NotFound',
      CopyImage: 'InvalidImageId.NotFound',
    });
    // It exists all the same: it holds its name, its source is being copied, and its ClientToken answers with it.
    expect(
      await errorOf(copyInto(f, SH, { ImageId: UBUNTU_HZ, DestinationImageName: 'unseen' })),
    ).toMatchObject({ code: 'InvalidImageName.Duplicated' });
    expect(await errorOf(copyInto(f, BJ))).toMatchObject({ code: 'OperationDenied.ImageCopyConflict' });
    expect((await copyInto(f, SH, token)).ImageId).toBe(imageId);
    expect(f.ecs.getImage(SH, imageId)).toMatchObject({ status: 'Creating', imageName: 'unseen' });
    // Once listed, the actions by id work on it.
    f.tick(5_000);
    await f.call('TagResources', byId.TagResources);
    await f.call('CancelCopyImage', byId.CancelCopyImage);
    expect(f.ecs.getImage(SH, imageId)).toBeUndefined();
  });

  it('immediate: a new copy is listed at once', async () => {
    const f = ecsFixture({ variants: { copyVisibility: 'immediate' } });
    const imageId = (await copyInto(f, SH)).ImageId;
    expect((await f.describe(SH, imageId))?.Status).toBe('Creating');
  });
});

describe('clientTokenReplay', () => {
  const request = { ClientToken: 'stack/Copy/request-2', DestinationImageName: 'tokened' };

  it('while-image-exists: replays the copy while it exists, then forgets the token and copies anew', async () => {
    const f = ecsFixture({ variants: { clientTokenReplay: 'while-image-exists' } });
    const first = (await copyInto(f, SH, request)).ImageId;
    expect((await copyInto(f, SH, request)).ImageId).toBe(first);
    f.tick(10_001);
    expect((await copyInto(f, SH, request)).ImageId).toBe(first);
    await f.call('DeleteImage', { RegionId: SH, ImageId: first });
    const second = (await copyInto(f, SH, request)).ImageId;
    expect(second).not.toBe(first);
    expect(f.ecs.getImage(SH, second)?.status).toBe('Creating');
    // The new copy is remembered under the token in turn.
    expect((await copyInto(f, SH, request)).ImageId).toBe(second);
  });

  it('while-image-exists: a cancelled copy frees its token too', async () => {
    const f = ecsFixture({ variants: { clientTokenReplay: 'while-image-exists' } });
    const first = (await copyInto(f, SH, request)).ImageId;
    await f.call('CancelCopyImage', { RegionId: SH, ImageId: first });
    expect((await copyInto(f, SH, request)).ImageId).not.toBe(first);
  });

  it('forever: replays the id of a copy that has since been deleted, making nothing', async () => {
    const f = ecsFixture({ variants: { clientTokenReplay: 'forever' } });
    const first = (await copyInto(f, SH, request)).ImageId;
    f.tick(10_001);
    await f.call('DeleteImage', { RegionId: SH, ImageId: first });
    expect((await copyInto(f, SH, request)).ImageId).toBe(first);
    expect(f.ecs.listImages(SH).filter((image) => image.imageName === 'tokened')).toEqual([]);
  });

  it.each(['while-image-exists', 'forever'] as const)(
    '%s: the same token with other parameters is IdempotentParameterMismatch while the copy exists',
    async (clientTokenReplay) => {
      const f = ecsFixture({ variants: { clientTokenReplay } });
      await copyInto(f, SH, request);
      expect(await errorOf(copyInto(f, SH, { ...request, DestinationDescription: 'changed' }))).toMatchObject(
        {
          code: 'IdempotentParameterMismatch',
          httpStatus: 400,
        },
      );
    },
  );
});

describe('through the SDK, as LocalCloud serves it', () => {
  it('answers the conflict in the shape the SDK reads, with the documented code, status and message', async () => {
    const cloud = await LocalCloud.start();
    try {
      const ecs = new Ecs(
        new $OpenApiUtil.Config({
          ...cloud.credentials,
          regionId: HZ,
          endpoint: cloud.endpoint,
          protocol: 'http',
        }),
      );
      const copy = (destinationRegionId: string) =>
        ecs.copyImage(
          new $Ecs.CopyImageRequest({
            regionId: HZ,
            imageId: GOLDEN_HZ,
            destinationRegionId,
            destinationImageName: `sdk-${destinationRegionId}`,
          }),
        );
      const first = (await copy(SH)).body!.imageId!;
      const error = await errorOf(copy(BJ));
      expect(error).toMatchObject({ code: 'OperationDenied.ImageCopyConflict', statusCode: 400 });
      expect(error.message).toContain('The same image cannot be copied concurrently');
      // Not listed yet under the default delay.
      const listed = await ecs.describeImages(
        new $Ecs.DescribeImagesRequest({ regionId: SH, imageId: first, status: 'ALL' }),
      );
      expect(listed.body!.totalCount).toBe(0);
    } finally {
      await cloud.stop();
    }
  });
});
