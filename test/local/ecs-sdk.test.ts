import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import Ecs, * as $Ecs from '@alicloud/ecs20140526';
import { $OpenApiUtil } from '@alicloud/openapi-core';
import { LocalCloud } from '../../lib/local';
import { DEFAULT_VARIANTS } from '../../lib/local/variants';

const HZ = 'cn-hangzhou';
const SH = 'cn-shanghai';
const GOLDEN_HZ = 'm-bp1seedgoldenimage01';
const UBUNTU_HZ = 'm-bp1seedubuntu220401';
const COPY_MS = 10_000;

/** ECS's clock is injected (signatures still use the real one), so copies progress only when a test says so. */
const clock = { now: Date.parse('2026-01-01T00:00:00Z') };
let cloud: LocalCloud;
let ecs: Ecs;

const client = (
  key: { accessKeyId: string; accessKeySecret: string; securityToken?: string },
  regionId = HZ,
) => new Ecs(new $OpenApiUtil.Config({ ...key, regionId, endpoint: cloud.endpoint, protocol: 'http' }));

async function errorOf(promise: Promise<unknown>): Promise<any> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected the call to fail');
}

const describeOne = async (regionId: string, imageId: string) =>
  (await ecs.describeImages(new $Ecs.DescribeImagesRequest({ regionId, imageId, status: 'ALL' }))).body
    ?.images?.image?.[0];

const copy = async (name: string, extra: Partial<$Ecs.CopyImageRequest> = {}) =>
  (
    await ecs.copyImage(
      new $Ecs.CopyImageRequest({
        regionId: HZ,
        imageId: GOLDEN_HZ,
        destinationRegionId: SH,
        destinationImageName: name,
        ...extra,
      }),
    )
  ).body!.imageId!;

beforeAll(async () => {
  cloud = await LocalCloud.start({ now: () => clock.now, copyDurationMs: COPY_MS });
  ecs = client(cloud.credentials);
});
afterAll(() => cloud.stop());

describe('LocalCloud ECS through the real @alicloud/ecs20140526 client', () => {
  it('DescribeRegions lists the regions with their endpoints', async () => {
    const res = await ecs.describeRegions(new $Ecs.DescribeRegionsRequest({ acceptLanguage: 'en-US' }));
    const regions = res.body!.regions!.region!;
    expect(res.statusCode).toBe(200);
    expect(res.body!.requestId).toEqual(expect.any(String));
    expect(regions.map((r) => r.regionId)).toEqual(cloud.ecs.regions());
    expect(regions.find((r) => r.regionId === SH)).toMatchObject({
      localName: 'China (Shanghai)',
      regionEndpoint: 'ecs.cn-shanghai.aliyuncs.com',
      status: 'available',
    });
  });

  it('DescribeImages answers the seeded images in the SDK model', async () => {
    const res = await ecs.describeImages(new $Ecs.DescribeImagesRequest({ regionId: HZ, pageSize: 50 }));
    expect(res.body).toMatchObject({ regionId: HZ, totalCount: 2, pageNumber: 1, pageSize: 50 });
    const golden = res.body!.images!.image!.find((i) => i.imageId === GOLDEN_HZ)!;
    expect(golden).toMatchObject({
      imageName: 'golden-base',
      status: 'Available',
      progress: '100%',
      isCopied: false,
      imageOwnerAlias: 'self',
      imageOwnerId: Number(cloud.accountId),
      size: 40,
      OSType: 'linux',
      architecture: 'x86_64',
      isPublic: false,
    });
    expect(golden.diskDeviceMappings!.diskDeviceMapping![0]).toMatchObject({ size: '40', remainTime: 0 });
  });

  it('DescribeImages filters by tags and paginates', async () => {
    const res = await ecs.describeImages(
      new $Ecs.DescribeImagesRequest({
        regionId: HZ,
        tag: [new $Ecs.DescribeImagesRequestTag({ key: 'nobody-has-this' })],
      }),
    );
    expect(res.body!.totalCount).toBe(0);
    const paged = await ecs.describeImages(
      new $Ecs.DescribeImagesRequest({ regionId: HZ, pageSize: 1, pageNumber: 2 }),
    );
    expect(paged.body!.images!.image).toHaveLength(1);
  });

  it('CopyImage returns the new id at once; DescribeImages shows the copy progressing to Available', async () => {
    const id = await copy('sdk-copy', {
      destinationDescription: 'copied through the SDK',
      tag: [new $Ecs.CopyImageRequestTag({ key: 'owner', value: 'sdk-test' })],
      clientToken: 'sdk-token-1',
    });
    expect(id).toMatch(/^m-uf6[a-z0-9]{17}$/);
    // Invisible with the default Status filter.
    const hidden = await ecs.describeImages(new $Ecs.DescribeImagesRequest({ regionId: SH, imageId: id }));
    expect(hidden.body!.images!.image).toEqual([]);
    clock.now += COPY_MS / 2;
    const half = (await describeOne(SH, id))!;
    expect(half).toMatchObject({ status: 'Creating', progress: '50%', isCopied: true, size: 40 });
    expect(half.tags!.tag).toEqual([expect.objectContaining({ tagKey: 'owner', tagValue: 'sdk-test' })]);
    expect(half.diskDeviceMappings!.diskDeviceMapping![0]).toMatchObject({ progress: '50%', remainTime: 5 });
    // A retry with the same token gets the same image.
    const again = await copy('sdk-copy', {
      destinationDescription: 'copied through the SDK',
      tag: [new $Ecs.CopyImageRequestTag({ key: 'owner', value: 'sdk-test' })],
      clientToken: 'sdk-token-1',
    });
    expect(again).toBe(id);
    clock.now += COPY_MS / 2;
    expect(await describeOne(SH, id)).toMatchObject({ status: 'Available', progress: '100%' });
  });

  it('raises ClientError with the code and HTTP status of the API error', async () => {
    const notFound = await errorOf(
      ecs.deleteImage(new $Ecs.DeleteImageRequest({ regionId: HZ, imageId: 'm-bp1doesnotexist00000' })),
    );
    expect(notFound).toMatchObject({ name: 'ClientError', code: 'InvalidImageId.NotFound', statusCode: 404 });
    expect(notFound.data).toMatchObject({ Code: 'InvalidImageId.NotFound', HostId: 'ecs.aliyuncs.com' });

    const duplicated = await errorOf(copy('sdk-copy'));
    expect(duplicated).toMatchObject({ code: 'InvalidImageName.Duplicated', statusCode: 400 });

    const mismatch = await errorOf(copy('other-name', { clientToken: 'sdk-token-1' }));
    expect(mismatch).toMatchObject({ code: 'IdempotentParameterMismatch', statusCode: 400 });

    const illegal = await errorOf(copy('kms-copy', { KMSKeyId: 'key-1' }));
    expect(illegal).toMatchObject({ code: 'InvalidParameter.EncryptedIllegal', statusCode: 400 });

    const dryRun = await errorOf(copy('dry-copy', { dryRun: true }));
    expect(dryRun).toMatchObject({ code: 'DryRunOperation', statusCode: 400 });

    const missing = await errorOf(ecs.describeImages(new $Ecs.DescribeImagesRequest({})));
    expect(missing).toMatchObject({ code: 'MissingParameter', statusCode: 400 });
    expect(missing.data.Message).toMatch(/RegionId/);

    const region = await errorOf(
      ecs.describeImages(new $Ecs.DescribeImagesRequest({ regionId: 'xx-nowhere-1' })),
    );
    expect(region).toMatchObject({ code: 'InvalidRegionId.NotFound', statusCode: 404 });
  });

  it('CancelCopyImage removes a copy in progress; a finished copy answers IncorrectImageStatus', async () => {
    const id = await copy('sdk-cancelled');
    clock.now += DEFAULT_VARIANTS.copyVisibilityDelayMs; // listed, so the actions by id see it (hiddenCopyActions)
    const denied = await errorOf(ecs.deleteImage(new $Ecs.DeleteImageRequest({ regionId: SH, imageId: id })));
    expect(denied).toMatchObject({ code: 'OperationDenied.ImageCopying', statusCode: 403 });
    const res = await ecs.cancelCopyImage(new $Ecs.CancelCopyImageRequest({ regionId: SH, imageId: id }));
    expect(res.statusCode).toBe(200);
    expect(await describeOne(SH, id)).toBeUndefined();

    const done = await copy('sdk-finished');
    clock.now += COPY_MS;
    const finished = await errorOf(
      ecs.cancelCopyImage(new $Ecs.CancelCopyImageRequest({ regionId: SH, imageId: done })),
    );
    expect(finished).toMatchObject({ code: 'IncorrectImageStatus', statusCode: 400 });
    expect(finished.data.Message).toBe('The image copy has completed.');

    const notCopy = await errorOf(
      ecs.cancelCopyImage(new $Ecs.CancelCopyImageRequest({ regionId: HZ, imageId: UBUNTU_HZ })),
    );
    expect(notCopy).toMatchObject({ code: 'ImageCreatedNotFromCopy', statusCode: 400 });

    const pinned = await copy('sdk-pinned');
    cloud.ecs.setCancelSupported(SH, pinned, false);
    clock.now += DEFAULT_VARIANTS.copyVisibilityDelayMs;
    const unsupported = await errorOf(
      ecs.cancelCopyImage(new $Ecs.CancelCopyImageRequest({ regionId: SH, imageId: pinned })),
    );
    expect(unsupported).toMatchObject({ code: 'CancelNotSupported', statusCode: 400 });
  });

  it('ModifyImageAttribute renames, and refuses a name used in the region', async () => {
    const id = cloud.ecs.putImage(HZ, { imageName: 'sdk-to-rename' });
    await ecs.modifyImageAttribute(
      new $Ecs.ModifyImageAttributeRequest({
        regionId: HZ,
        imageId: id,
        imageName: 'sdk-renamed',
        description: 'Renamed',
      }),
    );
    expect(await describeOne(HZ, id)).toMatchObject({ imageName: 'sdk-renamed', description: 'Renamed' });
    const taken = await errorOf(
      ecs.modifyImageAttribute(
        new $Ecs.ModifyImageAttributeRequest({ regionId: HZ, imageId: id, imageName: 'golden-base' }),
      ),
    );
    expect(taken).toMatchObject({ code: 'InvalidImageName.Duplicated', statusCode: 400 });
    const malformed = await errorOf(
      ecs.modifyImageAttribute(
        new $Ecs.ModifyImageAttributeRequest({ regionId: HZ, imageId: id, imageName: 'x' }),
      ),
    );
    expect(malformed).toMatchObject({ code: 'InvalidImageName.Malformed', statusCode: 400 });
  });

  it('DeleteImage needs Force for an image in use', async () => {
    const id = cloud.ecs.putImage(HZ, { imageName: 'sdk-in-use' });
    cloud.ecs.setInUse(HZ, id, true);
    const inUse = await errorOf(ecs.deleteImage(new $Ecs.DeleteImageRequest({ regionId: HZ, imageId: id })));
    expect(inUse).toMatchObject({ code: 'ImageUsingByInstance', statusCode: 403 });
    await ecs.deleteImage(new $Ecs.DeleteImageRequest({ regionId: HZ, imageId: id, force: true }));
    expect(cloud.ecs.getImage(HZ, id)).toBeUndefined();
  });

  it('TagResources, ListTagResources and UntagResources manage image tags', async () => {
    const id = cloud.ecs.putImage(HZ, { imageName: 'sdk-tagged' });
    await ecs.tagResources(
      new $Ecs.TagResourcesRequest({
        regionId: HZ,
        resourceType: 'image',
        resourceId: [id],
        tag: [
          new $Ecs.TagResourcesRequestTag({ key: 'env', value: 'dev' }),
          new $Ecs.TagResourcesRequestTag({ key: 'team', value: 'a' }),
        ],
      }),
    );
    const listed = await ecs.listTagResources(
      new $Ecs.ListTagResourcesRequest({ regionId: HZ, resourceType: 'image', resourceId: [id] }),
    );
    expect(
      listed.body!.tagResources!.tagResource!.map((r) => [
        r.resourceId,
        r.resourceType,
        r.tagKey,
        r.tagValue,
      ]),
    ).toEqual([
      [id, 'image', 'env', 'dev'],
      [id, 'image', 'team', 'a'],
    ]);
    expect(listed.body!.nextToken).toBe('');
    const byTag = await ecs.listTagResources(
      new $Ecs.ListTagResourcesRequest({
        regionId: HZ,
        resourceType: 'image',
        tag: [new $Ecs.ListTagResourcesRequestTag({ key: 'env', value: 'dev' })],
      }),
    );
    expect(new Set(byTag.body!.tagResources!.tagResource!.map((r) => r.resourceId))).toEqual(new Set([id]));
    await ecs.untagResources(
      new $Ecs.UntagResourcesRequest({
        regionId: HZ,
        resourceType: 'image',
        resourceId: [id],
        tagKey: ['env'],
      }),
    );
    expect(cloud.ecs.getImage(HZ, id)?.tags).toEqual({ team: 'a' });

    const quota = await errorOf(
      ecs.tagResources(
        new $Ecs.TagResourcesRequest({
          regionId: HZ,
          resourceType: 'image',
          resourceId: [id],
          tag: Array.from(
            { length: 20 },
            (_, i) => new $Ecs.TagResourcesRequestTag({ key: `k${i}`, value: 'v' }),
          ),
        }),
      ),
    );
    expect(quota).toMatchObject({ code: 'QuotaExceed.Tags', statusCode: 403 });
    const unknown = await errorOf(
      ecs.tagResources(
        new $Ecs.TagResourcesRequest({
          regionId: HZ,
          resourceType: 'image',
          resourceId: ['m-bp1doesnotexist00000'],
          tag: [new $Ecs.TagResourcesRequestTag({ key: 'k', value: 'v' })],
        }),
      ),
    );
    expect(unknown).toMatchObject({ code: 'InvalidResourceId.NotFound', statusCode: 404 });
    const wrongType = await errorOf(
      ecs.listTagResources(
        new $Ecs.ListTagResourcesRequest({ regionId: HZ, resourceType: 'instance', resourceId: [id] }),
      ),
    );
    expect(wrongType).toMatchObject({ code: 'InvalidResourceType.NotFound', statusCode: 404 });
  });

  it('JoinResourceGroup moves an image into a resource group', async () => {
    await ecs.joinResourceGroup(
      new $Ecs.JoinResourceGroupRequest({
        regionId: HZ,
        resourceType: 'image',
        resourceId: UBUNTU_HZ,
        resourceGroupId: 'rg-sdktest',
      }),
    );
    expect((await describeOne(HZ, UBUNTU_HZ))!.resourceGroupId).toBe('rg-sdktest');
  });

  it('enforces RAM: a role may only do what its policy allows on the image ARNs', async () => {
    const role = cloud.issueRoleCredentials('image-reader', {
      Version: '1',
      Statement: [
        { Effect: 'Allow', Action: 'ecs:DescribeImages', Resource: '*' },
        { Effect: 'Allow', Action: 'ecs:CopyImage', Resource: `acs:ecs:*:*:image/${UBUNTU_HZ}` },
      ],
    });
    const reader = client(role);
    const res = await reader.describeImages(new $Ecs.DescribeImagesRequest({ regionId: HZ }));
    expect(res.body!.totalCount).toBeGreaterThan(0);
    // CopyImage also needs the destination's image/* ARN, which this policy does not grant.
    const forbidden = await errorOf(
      reader.copyImage(
        new $Ecs.CopyImageRequest({
          regionId: HZ,
          imageId: UBUNTU_HZ,
          destinationRegionId: SH,
          destinationImageName: 'nope',
        }),
      ),
    );
    expect(forbidden).toMatchObject({ code: 'Forbidden.RAM', statusCode: 403 });
    expect(cloud.ecs.listImages(SH).some((i) => i.imageName === 'nope')).toBe(false);
  });
});

describe('LocalCloud ECS on the real clock', () => {
  it('finishes a short copy over wall-clock time and keeps it across a restart on the same state file', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ecs-sdk-'));
    const stateFile = path.join(dir, 'state.json');
    const first = await LocalCloud.start({ stateFile, copyDurationMs: 300 });
    try {
      const api = new Ecs(
        new $OpenApiUtil.Config({
          ...first.credentials,
          regionId: HZ,
          endpoint: first.endpoint,
          protocol: 'http',
        }),
      );
      const id = (
        await api.copyImage(
          new $Ecs.CopyImageRequest({
            regionId: HZ,
            imageId: GOLDEN_HZ,
            destinationRegionId: SH,
            destinationImageName: 'wall-clock',
          }),
        )
      ).body!.imageId!;
      let status: string | undefined;
      const deadline = Date.now() + 20_000; // generous: only the outcome matters, not the timing
      while (Date.now() < deadline) {
        const res = await api.describeImages(
          new $Ecs.DescribeImagesRequest({ regionId: SH, imageId: id, status: 'ALL' }),
        );
        // Under the default copyVisibility (delayed) the new copy is not listed for a moment.
        status = res.body!.images!.image![0]?.status;
        if (status === 'Available') {
          break;
        }
        if (status === undefined) {
          await new Promise((resolve) => setTimeout(resolve, 100));
          continue;
        }
        expect(['Creating', 'Waiting']).toContain(status);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(status).toBe('Available');
      await first.stop();

      const second = await LocalCloud.start({ stateFile });
      try {
        expect(second.ecs.getImage(SH, id)).toMatchObject({
          imageName: 'wall-clock',
          status: 'Available',
          isCopied: true,
        });
      } finally {
        await second.stop();
      }
    } finally {
      await first.stop().catch(() => undefined);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
