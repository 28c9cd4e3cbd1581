/**
 * Several accounts in one LocalCloud, and ECS image sharing between them, through the real @alicloud/ecs20140526
 * client: ModifyImageSharePermission / DescribeImageSharePermission with their documented limits and error codes
 * (https://www.alibabacloud.com/help/en/ecs/developer-reference/api-ecs-2014-05-26-modifyimagesharepermission), what
 * a sharee can do with a shared image (see it, copy it within its region: CopyImage's `OperationDenied.SameRegionOnly`,
 * nothing else), and DeleteImage's `ImageUseShared`.
 */
import Ecs, * as $Ecs from '@alicloud/ecs20140526';
import { $OpenApiUtil } from '@alicloud/openapi-core';
import Ros, * as $Ros from '@alicloud/ros20190910';
import { LocalCloud, type AccessKey, type TemporaryCredentials } from '../../lib/local';
import type { CloudVariants } from '../../lib/local/variants';

const HZ = 'cn-hangzhou';
const SH = 'cn-shanghai';
const GOLDEN_HZ = 'm-bp1seedgoldenimage01';

const clients = (cloud: LocalCloud, key: AccessKey | TemporaryCredentials, regionId = HZ) =>
  new Ecs(new $OpenApiUtil.Config({ ...key, regionId, endpoint: cloud.endpoint, protocol: 'http' }));

async function errorOf(promise: Promise<unknown>): Promise<any> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected the call to fail');
}

async function withAccounts(
  accounts: number,
  variants: Partial<CloudVariants>,
  body: (cloud: LocalCloud, owner: Ecs, sharee: Ecs) => Promise<void>,
): Promise<void> {
  const cloud = await LocalCloud.start({
    accounts,
    copyDurationMs: 200,
    variants: { copyVisibility: 'immediate', ...variants },
  });
  try {
    await body(
      cloud,
      clients(cloud, cloud.accounts[0].credentials),
      clients(cloud, cloud.accounts[1].credentials),
    );
  } finally {
    await cloud.stop();
  }
}

const share = (ecs: Ecs, imageId: string, add: string[], remove: string[] = [], regionId = HZ) =>
  ecs.modifyImageSharePermission(
    new $Ecs.ModifyImageSharePermissionRequest({ regionId, imageId, addAccount: add, removeAccount: remove }),
  );

const describe_ = async (ecs: Ecs, request: Partial<$Ecs.DescribeImagesRequest>) =>
  (await ecs.describeImages(new $Ecs.DescribeImagesRequest({ regionId: HZ, status: 'ALL', ...request })))
    .body!.images!.image!;

const sharedWith = async (
  ecs: Ecs,
  imageId: string,
  page: Partial<$Ecs.DescribeImageSharePermissionRequest> = {},
) =>
  (
    await ecs.describeImageSharePermission(
      new $Ecs.DescribeImageSharePermissionRequest({ regionId: HZ, imageId, ...page }),
    )
  ).body!;

describe('accounts', () => {
  it('each has its own 16-digit id and root key; cloud.accountId and cloud.credentials are the first', async () => {
    await withAccounts(3, {}, async (cloud) => {
      const ids = cloud.accounts.map((a) => a.accountId);
      expect(new Set(ids).size).toBe(3);
      ids.forEach((id) => expect(id).toMatch(/^1\d{15}$/));
      expect(new Set(cloud.accounts.map((a) => a.credentials.accessKeyId)).size).toBe(3);
      expect(cloud.accountId).toBe(ids[0]);
      expect(cloud.credentials).toEqual(cloud.accounts[0].credentials);
      expect(cloud.ros).toBe(cloud.accounts[0].ros);
    });
  });

  it('refuses an accounts option that is not a whole number from 1 to 100, naming it', async () => {
    await expect(LocalCloud.start({ accounts: 0 })).rejects.toThrow(
      'accounts must be a whole number from 1 to 100, got 0',
    );
    await expect(LocalCloud.start({ accounts: 1.5 })).rejects.toThrow('got 1.5');
  });

  it('attributes a request to the account that signed it: each sees only its own images, roles and stacks', async () => {
    await withAccounts(2, {}, async (cloud, owner, other) => {
      const mine = cloud.ecs.putImage(HZ, { imageName: 'b-only', ownerId: cloud.accounts[1].accountId });
      expect((await describe_(other, {})).map((i) => i.imageId)).toEqual([mine]);
      expect((await describe_(owner, {})).map((i) => i.imageId)).not.toContain(mine);
      // The same name is free in another account.
      cloud.ecs.putImage(HZ, { imageName: 'b-only' });

      // A role of account B: its credentials act as B, its ARNs are B's.
      const b = cloud.accounts[1];
      const roleKey = b.issueRoleCredentials('reader', {
        Version: '1',
        Statement: [
          { Effect: 'Allow', Action: 'ecs:DescribeImages', Resource: `acs:ecs:*:${b.accountId}:image/*` },
        ],
      });
      expect((await describe_(clients(cloud, roleKey), {})).map((i) => i.imageId)).toEqual([mine]);
      const asA = cloud.issueRoleCredentials('reader', {
        Version: '1',
        Statement: [
          { Effect: 'Allow', Action: 'ecs:DescribeImages', Resource: `acs:ecs:*:${b.accountId}:image/*` },
        ],
      });
      expect(await errorOf(describe_(clients(cloud, asA), {}))).toMatchObject({ code: 'Forbidden.RAM' });

      // Stacks: B's stack is not A's.
      const ros = (key: AccessKey) =>
        new Ros(
          new $OpenApiUtil.Config({ ...key, regionId: HZ, endpoint: cloud.endpoint, protocol: 'http' }),
        );
      const template = {
        ROSTemplateFormatVersion: '2015-09-01',
        Resources: {
          Role: {
            Type: 'ALIYUN::RAM::Role',
            Properties: {
              RoleName: 'only-in-b',
              AssumeRolePolicyDocument: {
                Version: '1',
                Statement: [
                  { Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { Service: ['fc.aliyuncs.com'] } },
                ],
              },
            },
          },
        },
      };
      const created = await ros(b.credentials).createStack(
        new $Ros.CreateStackRequest({
          regionId: HZ,
          stackName: 'b-stack',
          templateBody: JSON.stringify(template),
        }),
      );
      await cloud.accounts[1].ros.settled();
      const list = async (key: AccessKey) =>
        (await ros(key).listStacks(new $Ros.ListStacksRequest({ regionId: HZ }))).body!.stacks!.map(
          (s) => s.stackId,
        );
      expect(await list(b.credentials)).toEqual([created.body!.stackId]);
      expect(await list(cloud.credentials)).toEqual([]);
      expect(b.getRole('only-in-b')).toBeDefined();
      expect(cloud.getRole('only-in-b')).toBeUndefined();
    });
  });
});

describe('ModifyImageSharePermission and what a sharee sees', () => {
  it('shows a shared image to the sharee (ImageOwnerAlias=others) until it is unshared, and pages the share list', async () => {
    await withAccounts(2, {}, async (cloud, owner, sharee) => {
      const [a, b] = cloud.accounts.map((x) => x.accountId);
      expect(await describe_(sharee, { imageId: GOLDEN_HZ })).toEqual([]);
      await share(owner, GOLDEN_HZ, [b]);

      const [seen] = await describe_(sharee, { imageId: GOLDEN_HZ });
      expect(seen).toMatchObject({ imageOwnerAlias: 'others', imageOwnerId: Number(a), status: 'Available' });
      expect((await describe_(sharee, { imageOwnerAlias: 'others' })).map((i) => i.imageId)).toEqual([
        GOLDEN_HZ,
      ]);
      expect(await describe_(sharee, { imageOwnerAlias: 'self' })).toEqual([]);
      expect((await describe_(sharee, { imageOwnerId: Number(a) })).map((i) => i.imageId)).toEqual([
        GOLDEN_HZ,
      ]);
      const [own] = await describe_(owner, { imageId: GOLDEN_HZ });
      expect(own).toMatchObject({ imageOwnerAlias: 'self', isSelfShared: 'True' });

      const permission = await sharedWith(owner, GOLDEN_HZ);
      expect(permission).toMatchObject({
        imageId: GOLDEN_HZ,
        regionId: HZ,
        totalCount: 1,
        pageNumber: 1,
        pageSize: 10,
      });
      expect(permission.accounts!.account!.map((x) => x.aliyunId)).toEqual([b]);
      expect(permission.accounts!.account![0].sharedTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\dZ$/);
      expect((await sharedWith(owner, GOLDEN_HZ, { pageNumber: 2 })).accounts!.account).toEqual([]);
      // Only the owner sees the share list.
      expect(await errorOf(sharedWith(sharee, GOLDEN_HZ))).toMatchObject({ code: 'InvalidImageId.NotFound' });

      await share(owner, GOLDEN_HZ, [], [b]);
      expect(await describe_(sharee, { imageId: GOLDEN_HZ })).toEqual([]);
      expect((await sharedWith(owner, GOLDEN_HZ)).totalCount).toBe(0);
    });
  });

  it('lets the sharee copy a shared image within its region only, and not change, share or delete it', async () => {
    await withAccounts(2, {}, async (cloud, owner, sharee) => {
      const b = cloud.accounts[1].accountId;
      await share(owner, GOLDEN_HZ, [b]);
      const copied = await sharee.copyImage(
        new $Ecs.CopyImageRequest({
          regionId: HZ,
          imageId: GOLDEN_HZ,
          destinationRegionId: HZ,
          destinationImageName: 'mine',
        }),
      );
      expect(cloud.ecs.getImage(HZ, copied.body!.imageId!)).toMatchObject({
        ownerId: b,
        sourceImageId: GOLDEN_HZ,
      });

      expect(
        await errorOf(
          sharee.copyImage(
            new $Ecs.CopyImageRequest({
              regionId: HZ,
              imageId: GOLDEN_HZ,
              destinationRegionId: SH,
              destinationImageName: 'elsewhere',
            }),
          ),
        ),
      ).toMatchObject({ code: 'OperationDenied.SameRegionOnly', statusCode: 403 });

      const notFound = { code: 'InvalidImageId.NotFound', statusCode: 404 };
      expect(
        await errorOf(
          sharee.deleteImage(new $Ecs.DeleteImageRequest({ regionId: HZ, imageId: GOLDEN_HZ, force: true })),
        ),
      ).toMatchObject(notFound);
      expect(
        await errorOf(
          sharee.modifyImageAttribute(
            new $Ecs.ModifyImageAttributeRequest({
              regionId: HZ,
              imageId: GOLDEN_HZ,
              imageName: 'taken-over',
            }),
          ),
        ),
      ).toMatchObject(notFound);
      expect(await errorOf(share(sharee, GOLDEN_HZ, [cloud.accountId]))).toMatchObject(notFound);
      expect(
        await errorOf(
          sharee.tagResources(
            new $Ecs.TagResourcesRequest({
              regionId: HZ,
              resourceType: 'image',
              resourceId: [GOLDEN_HZ],
              tag: [new $Ecs.TagResourcesRequestTag({ key: 'k', value: 'v' })],
            }),
          ),
        ),
      ).toMatchObject({ code: 'InvalidResourceId.NotFound' });
    });
  });

  it('answers the documented codes: own account, unknown account, unknown image, service-key encryption, a copy in progress', async () => {
    await withAccounts(2, { copyVisibility: 'immediate' }, async (cloud, owner) => {
      const b = cloud.accounts[1].accountId;
      expect(await errorOf(share(owner, GOLDEN_HZ, [cloud.accountId]))).toMatchObject({
        code: 'InvalidAccount.Forbbiden',
        statusCode: 404,
      });
      expect(await errorOf(share(owner, GOLDEN_HZ, ['1999999999999999']))).toMatchObject({
        code: 'InvalidAccount.NotFound',
        statusCode: 404,
      });
      expect(await errorOf(share(owner, 'm-bp1doesnotexist0000', [b]))).toMatchObject({
        code: 'InvalidImageId.NotFound',
        statusCode: 404,
      });
      const serviceKey = cloud.ecs.putImage(HZ, { imageName: 'service-key', encrypted: true });
      expect(await errorOf(share(owner, serviceKey, [b]))).toMatchObject({
        code: 'InvalidOperation.ServiceKeyEncryptedImageUnsupported',
        statusCode: 403,
      });
      const cmk = cloud.ecs.putImage(HZ, { imageName: 'cmk', encrypted: true, kmsKeyId: 'key-1' });
      await share(owner, cmk, [b]);
      expect(cloud.ecs.getImage(HZ, cmk)!.sharedWith).toEqual([b]);

      const copying = (
        await owner.copyImage(
          new $Ecs.CopyImageRequest({
            regionId: HZ,
            imageId: GOLDEN_HZ,
            destinationRegionId: HZ,
            destinationImageName: 'copying',
          }),
        )
      ).body!.imageId!;
      expect(await errorOf(share(owner, copying, [b]))).toMatchObject({ code: 'IncorrectImageStatus' });
    });
  });

  it('shares with at most 50 accounts (QuotaExceed.ShareImageUser), 10 a call', async () => {
    await withAccounts(52, {}, async (cloud, owner) => {
      const others = cloud.accounts.slice(1).map((a) => a.accountId);
      for (let i = 0; i < 50; i += 10) {
        await share(owner, GOLDEN_HZ, others.slice(i, i + 10));
      }
      expect((await sharedWith(owner, GOLDEN_HZ, { pageSize: 100 })).totalCount).toBe(50);
      expect(await errorOf(share(owner, GOLDEN_HZ, [others[50]]))).toMatchObject({
        code: 'QuotaExceed.ShareImageUser',
        statusCode: 403,
      });
      // Removing one in the same call makes room.
      await share(owner, GOLDEN_HZ, [others[50]], [others[0]]);
      expect((await sharedWith(owner, GOLDEN_HZ, { pageSize: 100 })).totalCount).toBe(50);
    });
  });

  it.each([
    ['ignored', 0],
    ['first-ten', 10],
  ] as const)(
    'shareAccountsOverTen %s: 11 accounts in one call share with %i of them',
    async (reading, count) => {
      await withAccounts(12, { shareAccountsOverTen: reading }, async (cloud, owner) => {
        await share(
          owner,
          GOLDEN_HZ,
          cloud.accounts.slice(1).map((a) => a.accountId),
        );
        expect(cloud.ecs.getImage(HZ, GOLDEN_HZ)!.sharedWith).toEqual(
          cloud.accounts.slice(1, 1 + count).map((a) => a.accountId),
        );
      });
    },
  );

  it.each([
    ['hidden', []],
    ['shown', [{ tagKey: 'team', tagValue: 'images' }]],
  ] as const)(
    "sharedImageTags %s: the owner's tags in the sharee's DescribeImages",
    async (reading, tags) => {
      await withAccounts(2, { sharedImageTags: reading }, async (cloud, owner, sharee) => {
        const id = cloud.ecs.putImage(HZ, { imageName: 'tagged', tags: { team: 'images' } });
        await share(owner, id, [cloud.accounts[1].accountId]);
        const [seen] = await describe_(sharee, { imageId: id });
        expect(seen.tags!.tag ?? []).toEqual(tags);
      });
    },
  );
});

describe('DeleteImage of a shared image', () => {
  const del = (ecs: Ecs, imageId: string, force: boolean) =>
    ecs.deleteImage(new $Ecs.DeleteImageRequest({ regionId: HZ, imageId, force }));

  it('refused: ImageUseShared, with or without Force, until it is unshared', async () => {
    await withAccounts(2, { sharedImageDelete: 'refused' }, async (cloud, owner) => {
      const id = cloud.ecs.putImage(HZ, { imageName: 'shared' });
      await share(owner, id, [cloud.accounts[1].accountId]);
      for (const force of [false, true]) {
        expect(await errorOf(del(owner, id, force))).toMatchObject({
          code: 'ImageUseShared',
          statusCode: 403,
        });
      }
      await share(owner, id, [], [cloud.accounts[1].accountId]);
      await del(owner, id, false);
      expect(cloud.ecs.getImage(HZ, id)).toBeUndefined();
    });
  });

  it('force-deletes: ImageUseShared without Force; Force deletes it', async () => {
    await withAccounts(2, { sharedImageDelete: 'force-deletes' }, async (cloud, owner, sharee) => {
      const id = cloud.ecs.putImage(HZ, { imageName: 'shared' });
      await share(owner, id, [cloud.accounts[1].accountId]);
      expect(await errorOf(del(owner, id, false))).toMatchObject({ code: 'ImageUseShared' });
      await del(owner, id, true);
      expect(await describe_(sharee, { imageId: id })).toEqual([]);
    });
  });
});

describe('the five running copies of a region (copyQueue)', () => {
  // Each account copies five of its own images into Shanghai: 10 copies of one region, 5 per account.
  async function tenCopies(reading: CloudVariants['copyQueue']) {
    const cloud = await LocalCloud.start({
      accounts: 2,
      copyDurationMs: 600_000,
      variants: { copyVisibility: 'immediate', copyConflict: 'none', copyQueue: reading },
    });
    try {
      const ids: string[][] = [];
      for (const account of cloud.accounts) {
        const ecs = clients(cloud, account.credentials);
        const source = cloud.ecs.putImage(HZ, { imageName: 'golden', ownerId: account.accountId });
        const copied: string[] = [];
        for (let i = 0; i < 5; i++) {
          const res = await ecs.copyImage(
            new $Ecs.CopyImageRequest({
              regionId: HZ,
              imageId: source,
              destinationRegionId: SH,
              destinationImageName: `copy-${i}`,
            }),
          );
          copied.push(res.body!.imageId!);
        }
        ids.push(copied);
      }
      return ids.map((copied) => copied.map((id) => cloud.ecs.getImage(SH, id)!.status));
    } finally {
      await cloud.stop();
    }
  }

  it('per-account: two accounts each start 5 copies into one region, and all 10 run at once', async () => {
    expect(await tenCopies('per-account')).toEqual([Array(5).fill('Creating'), Array(5).fill('Creating')]);
  });

  it("shared (the default): the second account's 5 copies wait for the first account's", async () => {
    expect(await tenCopies('shared')).toEqual([Array(5).fill('Creating'), Array(5).fill('Waiting')]);
  });
});
