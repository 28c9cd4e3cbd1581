/**
 * Image families and deprecation in LocalCloud's ECS, through the real @alicloud/ecs20140526 client:
 * ModifyImageAttribute `ImageFamily` and `Status` with the rules and codes of its reference
 * (https://www.alibabacloud.com/help/en/ecs/developer-reference/api-ecs-2014-05-26-modifyimageattribute), DescribeImages'
 * `ImageFamily` filter, and DescribeImageFromFamily (the newest Available custom image of the family in the region,
 * https://www.alibabacloud.com/help/en/ecs/developer-reference/api-ecs-2014-05-26-describeimagefromfamily).
 */
import Ecs, * as $Ecs from '@alicloud/ecs20140526';
import { $OpenApiUtil } from '@alicloud/openapi-core';
import { LocalCloud, type AccessKey, type TemporaryCredentials } from '../../lib/local';
import type { CloudVariants } from '../../lib/local/variants';

const HZ = 'cn-hangzhou';
const SH = 'cn-shanghai';

async function errorOf(promise: Promise<unknown>): Promise<any> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected the call to fail');
}

async function withCloud(
  variants: Partial<CloudVariants>,
  body: (
    cloud: LocalCloud,
    ecs: Ecs,
    client: (key: AccessKey | TemporaryCredentials) => Ecs,
  ) => Promise<void>,
): Promise<void> {
  const cloud = await LocalCloud.start({
    accounts: 2,
    copyDurationMs: 60_000,
    variants: { copyVisibility: 'immediate', ...variants },
  });
  const client = (key: AccessKey | TemporaryCredentials) =>
    new Ecs(new $OpenApiUtil.Config({ ...key, regionId: HZ, endpoint: cloud.endpoint, protocol: 'http' }));
  try {
    await body(cloud, client(cloud.credentials), client);
  } finally {
    await cloud.stop();
  }
}

const modify = (
  ecs: Ecs,
  imageId: string,
  fields: Partial<$Ecs.ModifyImageAttributeRequest>,
  regionId = HZ,
) => ecs.modifyImageAttribute(new $Ecs.ModifyImageAttributeRequest({ regionId, imageId, ...fields }));

const fromFamily = async (ecs: Ecs, imageFamily: string, regionId = HZ) =>
  (await ecs.describeImageFromFamily(new $Ecs.DescribeImageFromFamilyRequest({ regionId, imageFamily })))
    .body!.image;

describe('ImageFamily', () => {
  it('is set by ModifyImageAttribute, shown and filtered by DescribeImages', async () => {
    await withCloud({}, async (cloud, ecs) => {
      const id = cloud.ecs.putImage(HZ, { imageName: 'release-1' });
      await modify(ecs, id, { imageFamily: 'golden.v1:base_x-y' });
      const listed = await ecs.describeImages(
        new $Ecs.DescribeImagesRequest({ regionId: HZ, imageFamily: 'golden.v1:base_x-y' }),
      );
      expect(listed.body!.images!.image!.map((i) => [i.imageId, i.imageFamily])).toEqual([
        [id, 'golden.v1:base_x-y'],
      ]);
      await modify(ecs, id, { imageFamily: '黄金镜像族' });
      expect(cloud.ecs.getImage(HZ, id)!.imageFamily).toBe('黄金镜像族');
    });
  });

  it.each([
    ['g', 'too short'],
    ['1-golden', 'starts with a digit'],
    ['-golden', 'starts with a hyphen'],
    ['aliyun-golden', 'starts with aliyun'],
    ['acs:golden', 'starts with acs:'],
    ['golden family', 'has a space'],
    ['golden/http://x', 'has a URL'],
    [`g${'x'.repeat(128)}`, 'is 129 characters long'],
  ])('refuses %j (%s) with InvalidImageFamily.Malformed, naming the value', async (family) => {
    await withCloud({}, async (cloud, ecs) => {
      const id = cloud.ecs.putImage(HZ, { imageName: 'release-1' });
      const err = await errorOf(modify(ecs, id, { imageFamily: family }));
      expect(err).toMatchObject({ code: 'InvalidImageFamily.Malformed', statusCode: 400 });
      expect(err.message).toContain(family);
      expect(
        await errorOf(
          ecs.describeImageFromFamily(
            new $Ecs.DescribeImageFromFamilyRequest({ regionId: HZ, imageFamily: family }),
          ),
        ),
      ).toMatchObject({ code: 'InvalidImageFamily.Malformed' });
    });
  });
});

describe('DescribeImageFromFamily', () => {
  it("answers the newest Available image of the family, the caller's own, in the region; nothing when there is none", async () => {
    await withCloud({}, async (cloud, ecs, client) => {
      const family = 'golden';
      expect(await fromFamily(ecs, family)).toEqual({});
      const first = cloud.ecs.putImage(HZ, { imageName: 'release-1', imageFamily: family });
      const second = cloud.ecs.putImage(HZ, { imageName: 'release-2', imageFamily: family });
      cloud.ecs.putImage(HZ, { imageName: 'other-family', imageFamily: 'silver' });
      cloud.ecs.putImage(SH, { imageName: 'release-3', imageFamily: family });
      expect(await fromFamily(ecs, family)).toMatchObject({
        imageId: second,
        imageFamily: family,
        status: 'Available',
      });

      // A copy in progress is not Available: the newest Available one is still the answer.
      const copying = (
        await ecs.copyImage(
          new $Ecs.CopyImageRequest({
            regionId: HZ,
            imageId: second,
            destinationRegionId: HZ,
            destinationImageName: 'release-4',
          }),
        )
      ).body!.imageId!;
      expect(cloud.ecs.getImage(HZ, copying)!.status).not.toBe('Available');
      expect(await errorOf(modify(ecs, copying, { status: 'Deprecated' }))).toMatchObject({
        code: 'InvalidStatus.ImageIsCreating',
        statusCode: 403,
      });

      // Deprecating the newest rolls the family back to the one before.
      await modify(ecs, second, { status: 'Deprecated' });
      expect((await fromFamily(ecs, family))!.imageId).toBe(first);
      await modify(ecs, second, { status: 'Available' });
      expect((await fromFamily(ecs, family))!.imageId).toBe(second);

      // Another account's image of that family, even shared with the caller, is not the caller's family.
      const b = cloud.accounts[1];
      const sharee = client(b.credentials);
      expect(await fromFamily(sharee, family)).toEqual({});
      await ecs.modifyImageSharePermission(
        new $Ecs.ModifyImageSharePermissionRequest({
          regionId: HZ,
          imageId: second,
          addAccount: [b.accountId],
        }),
      );
      expect(await fromFamily(sharee, family)).toEqual({});
    });
  });

  it('takes no resource-level authorization ("All Resources"): only a statement on * grants it', async () => {
    await withCloud({}, async (cloud, _ecs, client) => {
      const onImages = cloud.issueRoleCredentials('family-reader', {
        Version: '1',
        Statement: [
          {
            Effect: 'Allow',
            Action: 'ecs:DescribeImageFromFamily',
            Resource: `acs:ecs:*:${cloud.accountId}:image/*`,
          },
        ],
      });
      expect(await errorOf(fromFamily(client(onImages), 'golden'))).toMatchObject({ code: 'Forbidden.RAM' });
      const onAll = cloud.issueRoleCredentials('family-reader', {
        Version: '1',
        Statement: [{ Effect: 'Allow', Action: 'ecs:DescribeImageFromFamily', Resource: '*' }],
      });
      expect(await fromFamily(client(onAll), 'golden')).toEqual({});
    });
  });
});

describe('Deprecation', () => {
  it('a deprecated image is listed as Deprecated, and cannot be shared or copied', async () => {
    await withCloud({}, async (cloud, ecs) => {
      const id = cloud.ecs.putImage(HZ, { imageName: 'old-release' });
      await modify(ecs, id, { status: 'Deprecated' });
      const all = await ecs.describeImages(
        new $Ecs.DescribeImagesRequest({ regionId: HZ, imageId: id, status: 'ALL' }),
      );
      expect(all.body!.images!.image![0]).toMatchObject({ status: 'Deprecated' });
      expect(
        (await ecs.describeImages(new $Ecs.DescribeImagesRequest({ regionId: HZ, imageId: id }))).body!
          .images!.image,
      ).toEqual([]);
      expect(
        await errorOf(
          ecs.modifyImageSharePermission(
            new $Ecs.ModifyImageSharePermissionRequest({
              regionId: HZ,
              imageId: id,
              addAccount: [cloud.accounts[1].accountId],
            }),
          ),
        ),
      ).toMatchObject({ code: 'OperationDenied.InvalidImageStatus', statusCode: 403 });
      expect(
        await errorOf(
          ecs.copyImage(
            new $Ecs.CopyImageRequest({
              regionId: HZ,
              imageId: id,
              destinationRegionId: SH,
              destinationImageName: 'again',
            }),
          ),
        ),
      ).toMatchObject({ code: 'IncorrectImageStatus' });
    });
  });

  it('a shared image cannot be deprecated until it is unshared (ImageUseShared)', async () => {
    await withCloud({}, async (cloud, ecs) => {
      const id = cloud.ecs.putImage(HZ, { imageName: 'shared-release' });
      const other = cloud.accounts[1].accountId;
      await ecs.modifyImageSharePermission(
        new $Ecs.ModifyImageSharePermissionRequest({ regionId: HZ, imageId: id, addAccount: [other] }),
      );
      expect(await errorOf(modify(ecs, id, { status: 'Deprecated' }))).toMatchObject({
        code: 'ImageUseShared',
        statusCode: 403,
      });
      await ecs.modifyImageSharePermission(
        new $Ecs.ModifyImageSharePermissionRequest({ regionId: HZ, imageId: id, removeAccount: [other] }),
      );
      await modify(ecs, id, { status: 'Deprecated' });
      expect(cloud.ecs.getImage(HZ, id)!.status).toBe('Deprecated');
    });
  });

  it('repeatedImageStatus refused: Deprecated twice is ImageStatus.NotAvailable, Available of an Available image ImageStatus.NotDeprecated', async () => {
    await withCloud({ repeatedImageStatus: 'refused' }, async (cloud, ecs) => {
      const id = cloud.ecs.putImage(HZ, { imageName: 'release' });
      expect(await errorOf(modify(ecs, id, { status: 'Available' }))).toMatchObject({
        code: 'ImageStatus.NotDeprecated',
        statusCode: 403,
      });
      await modify(ecs, id, { status: 'Deprecated' });
      expect(await errorOf(modify(ecs, id, { status: 'Deprecated' }))).toMatchObject({
        code: 'ImageStatus.NotAvailable',
        statusCode: 403,
      });
      const failed = cloud.ecs.putImage(HZ, { imageName: 'failed', status: 'CreateFailed' });
      expect(await errorOf(modify(ecs, failed, { status: 'Deprecated' }))).toMatchObject({
        code: 'ImageStatus.NotAvailable',
      });
    });
  });

  it('repeatedImageStatus accepted: setting the status an image has changes nothing', async () => {
    await withCloud({ repeatedImageStatus: 'accepted' }, async (cloud, ecs) => {
      const id = cloud.ecs.putImage(HZ, { imageName: 'release' });
      await modify(ecs, id, { status: 'Available' });
      await modify(ecs, id, { status: 'Deprecated' });
      await modify(ecs, id, { status: 'Deprecated' });
      expect(cloud.ecs.getImage(HZ, id)!.status).toBe('Deprecated');
    });
  });
});
