import { ApiError } from '../../lib/local/errors';
import { ECS_REGION_IDS, SEEDED_IMAGES } from '../../lib/local/ecs';
import { ACCOUNT_ID, ecsFixture, type EcsFixture } from './ecs-fixture';

const HZ = 'cn-hangzhou';
const SH = 'cn-shanghai';
const GOLDEN_HZ = 'm-bp1seedgoldenimage01';
const UBUNTU_HZ = 'm-bp1seedubuntu220401';
const GOLDEN_SH = 'm-uf6seedgoldenimage01';

let f: EcsFixture;
beforeEach(() => {
  f = ecsFixture();
});

const expectError = async (
  action: string,
  params: Record<string, string>,
  code: string,
  httpStatus: number,
  message?: string | RegExp,
) => {
  const err = await f.errorOf(action, params);
  expect(err).toBeInstanceOf(ApiError);
  expect({ code: err.code, httpStatus: err.httpStatus }).toEqual({ code, httpStatus });
  if (message !== undefined) {
    expect(err.message).toMatch(message);
  }
  return err;
};

describe('LocalCloud ECS: service basics', () => {
  it('identifies itself as ECS 2014-05-26', () => {
    expect(f.ecs).toMatchObject({ product: 'ecs', version: '2014-05-26', hostId: 'ecs.aliyuncs.com' });
  });

  it('answers InvalidAction.NotFound (404) for an action it does not implement', async () => {
    await expectError(
      'RunInstances',
      { RegionId: HZ },
      'InvalidAction.NotFound',
      404,
      'Specified api is not found, please check your url and method.',
    );
    await expectError('toString', {}, 'InvalidAction.NotFound', 404);
  });

  it('requires RegionId, naming it in the message', async () => {
    for (const action of [
      'DescribeImages',
      'CopyImage',
      'CancelCopyImage',
      'DeleteImage',
      'ModifyImageAttribute',
    ]) {
      await expectError(action, { ImageId: GOLDEN_HZ }, 'MissingParameter', 400, /RegionId/);
    }
  });

  it('answers InvalidRegionId.NotFound (404) for an unknown region', async () => {
    await expectError('DescribeImages', { RegionId: 'xx-nowhere-1' }, 'InvalidRegionId.NotFound', 404);
    await expectError(
      'DeleteImage',
      { RegionId: 'xx-nowhere-1', ImageId: 'm-1' },
      'InvalidRegionId.NotFound',
      404,
    );
  });

  it('authorizes every action with its action name and resource ARNs before anything else', async () => {
    const arn = (region: string, id: string) => `acs:ecs:${region}:${ACCOUNT_ID}:image/${id}`;
    const copyId = await f.copy({ DestinationImageName: 'auth-copy' });
    await f.call('DescribeRegions');
    await f.call('DescribeImages', { RegionId: HZ });
    await f.call('ModifyImageAttribute', {
      RegionId: HZ,
      ImageId: GOLDEN_HZ,
      Description: 'new description',
    });
    await f.call('TagResources', {
      RegionId: HZ,
      ResourceType: 'image',
      'ResourceId.1': GOLDEN_HZ,
      'ResourceId.2': UBUNTU_HZ,
      'Tag.1.Key': 'k',
    });
    await f.call('UntagResources', {
      RegionId: HZ,
      ResourceType: 'image',
      'ResourceId.1': GOLDEN_HZ,
      'TagKey.1': 'k',
    });
    await f.call('ListTagResources', { RegionId: HZ, ResourceType: 'image', 'ResourceId.1': GOLDEN_HZ });
    await f.call('JoinResourceGroup', {
      RegionId: HZ,
      ResourceType: 'image',
      ResourceId: GOLDEN_HZ,
      ResourceGroupId: 'rg-aek2abc',
    });
    await f.call('CancelCopyImage', { RegionId: SH, ImageId: copyId });
    await f.call('DeleteImage', { RegionId: HZ, ImageId: UBUNTU_HZ });
    expect(f.authorized).toEqual([
      { action: 'ecs:CopyImage', resources: [arn(HZ, GOLDEN_HZ), arn(SH, '*')] },
      { action: 'ecs:DescribeRegions', resources: ['*'] },
      { action: 'ecs:DescribeImages', resources: [arn(HZ, '*')] },
      { action: 'ecs:ModifyImageAttribute', resources: [arn(HZ, GOLDEN_HZ)] },
      { action: 'ecs:TagResources', resources: [arn(HZ, GOLDEN_HZ), arn(HZ, UBUNTU_HZ)] },
      { action: 'ecs:UntagResources', resources: [arn(HZ, GOLDEN_HZ)] },
      { action: 'ecs:ListTagResources', resources: [arn(HZ, '*')] },
      { action: 'ecs:JoinResourceGroup', resources: [arn(HZ, GOLDEN_HZ)] },
      { action: 'ecs:CancelCopyImage', resources: [arn(SH, copyId)] },
      { action: 'ecs:DeleteImage', resources: [arn(HZ, UBUNTU_HZ)] },
    ]);
  });

  it('changes nothing when authorization is refused', async () => {
    const forbidden = new ApiError('Forbidden.RAM', 'not allowed', 403);
    f.refuseWith(forbidden);
    await expect(f.copy({ DestinationImageName: 'refused' })).rejects.toBe(forbidden);
    await expect(f.call('DeleteImage', { RegionId: HZ, ImageId: GOLDEN_HZ })).rejects.toBe(forbidden);
    // An unknown image is not revealed to a caller who may not act on it.
    await expect(f.call('DeleteImage', { RegionId: HZ, ImageId: 'm-bp1unknown' })).rejects.toBe(forbidden);
    f.refuseWith(undefined);
    expect(f.ecs.listImages(SH).map((i) => i.imageName)).toEqual(['golden-base']);
    expect(f.ecs.getImage(HZ, GOLDEN_HZ)).toBeDefined();
  });

  it('counts calls per action, failed ones included', async () => {
    await f.call('DescribeRegions');
    await f.call('DescribeImages', { RegionId: HZ });
    await f.errorOf('DescribeImages', {});
    expect(f.ecs.callCounts()).toEqual({ DescribeRegions: 1, DescribeImages: 2 });
  });
});

describe('LocalCloud ECS: DescribeRegions', () => {
  it('lists the fixed region list with Chinese local names by default and endpoints', async () => {
    const res = await f.call('DescribeRegions');
    const regions = res.Regions.Region;
    expect(regions.map((r: any) => r.RegionId)).toEqual(ECS_REGION_IDS);
    expect(regions).toHaveLength(26);
    expect(regions.find((r: any) => r.RegionId === HZ)).toEqual({
      RegionId: HZ,
      LocalName: '华东1（杭州）',
      RegionEndpoint: 'ecs.cn-hangzhou.aliyuncs.com',
      Status: 'available',
    });
    expect(f.ecs.regions()).toEqual([...ECS_REGION_IDS]);
  });

  it('answers in English for AcceptLanguage=en-US', async () => {
    const res = await f.call('DescribeRegions', { AcceptLanguage: 'en-US' });
    expect(res.Regions.Region.find((r: any) => r.RegionId === 'ap-southeast-1').LocalName).toBe('Singapore');
  });

  it('rejects an unknown AcceptLanguage or ResourceType', async () => {
    await expectError('DescribeRegions', { AcceptLanguage: 'xx' }, 'InvalidAcceptLanguage.NotFound', 404);
    await expectError('DescribeRegions', { ResourceType: 'bucket' }, 'InvalidResourceType.NotFound', 404);
  });
});

describe('LocalCloud ECS: seeded images', () => {
  it('has the seeded custom images on a fresh state', () => {
    expect(SEEDED_IMAGES.map((i) => i.imageId)).toEqual([GOLDEN_HZ, UBUNTU_HZ, GOLDEN_SH]);
    expect(f.ecs.listImages(HZ).map((i) => [i.imageId, i.imageName, i.sizeGiB, i.status])).toEqual([
      [GOLDEN_HZ, 'golden-base', 40, 'Available'],
      [UBUNTU_HZ, 'ubuntu-22-04-base', 20, 'Available'],
    ]);
    expect(f.ecs.getImage(SH, GOLDEN_SH)).toMatchObject({
      imageName: 'golden-base',
      description: 'Seeded by LocalCloud',
      sizeGiB: 40,
      isCopied: false,
      status: 'Available',
      progress: 100,
    });
  });
});

describe('LocalCloud ECS: DescribeImages', () => {
  it('answers the fields of the reference sample', async () => {
    const res = await f.call('DescribeImages', { RegionId: HZ, ImageId: GOLDEN_HZ });
    expect(res).toMatchObject({ RegionId: HZ, TotalCount: 1, PageNumber: 1, PageSize: 10 });
    const image = res.Images.Image[0];
    expect(image).toMatchObject({
      ImageId: GOLDEN_HZ,
      ImageName: 'golden-base',
      Description: 'Seeded by LocalCloud',
      Status: 'Available',
      Progress: '100%',
      IsCopied: false,
      ImageOwnerAlias: 'self',
      ImageOwnerId: Number(ACCOUNT_ID),
      Size: 40,
      Usage: 'none',
      ResourceGroupId: '',
      OSType: 'linux',
      Architecture: 'x86_64',
      IsPublic: false,
      Usable: true,
      Tags: { Tag: [] },
    });
    expect(image.CreationTime).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    expect(typeof image.Platform).toBe('string');
    expect(typeof image.OSName).toBe('string');
    expect(image.DiskDeviceMappings.DiskDeviceMapping).toEqual([
      expect.objectContaining({
        Device: '/dev/xvda',
        Type: 'system',
        Size: '40',
        Progress: '100%',
        RemainTime: 0,
        Encrypted: false,
        SnapshotId: expect.stringMatching(/^s-/),
      }),
    ]);
    // The source of a copy is not part of the API's model.
    expect(Object.keys(image)).not.toEqual(expect.arrayContaining(['SourceImageId']));
  });

  it('shows only Available images by default, so a copy in progress is invisible without a Status filter', async () => {
    const copyId = await f.copy();
    const byDefault = await f.call('DescribeImages', { RegionId: SH, ImageId: copyId });
    expect(byDefault.Images.Image).toEqual([]);
    expect(byDefault.TotalCount).toBe(0);
    const creating = await f.call('DescribeImages', {
      RegionId: SH,
      ImageId: copyId,
      Status: 'Creating,Waiting',
    });
    expect(creating.Images.Image.map((i: any) => i.Status)).toEqual(['Creating']);
  });

  it('accepts a comma-separated Status list and ALL, but not ALL with other values', async () => {
    const copyId = await f.copy();
    const all = await f.call('DescribeImages', { RegionId: SH, Status: 'ALL' });
    expect(all.Images.Image.map((i: any) => i.ImageId)).toEqual([copyId, GOLDEN_SH]);
    const list = await f.call('DescribeImages', { RegionId: SH, Status: 'Available, Creating' });
    expect(list.TotalCount).toBe(2);
    await expectError('DescribeImages', { RegionId: SH, Status: 'ALL,Available' }, 'InvalidParameter', 400);
    await expectError('DescribeImages', { RegionId: SH, Status: 'Copying' }, 'InvalidParameter', 400);
  });

  it('filters by a comma-separated ImageId list and answers an empty list for an unknown id', async () => {
    const res = await f.call('DescribeImages', {
      RegionId: HZ,
      ImageId: `${UBUNTU_HZ},m-bp1doesnotexist00000`,
    });
    expect(res.Images.Image.map((i: any) => i.ImageId)).toEqual([UBUNTU_HZ]);
    const unknown = await f.call('DescribeImages', { RegionId: HZ, ImageId: 'm-bp1doesnotexist00000' });
    expect(unknown).toMatchObject({ TotalCount: 0, Images: { Image: [] } });
    // An image of another region is unknown here.
    const elsewhere = await f.call('DescribeImages', { RegionId: HZ, ImageId: GOLDEN_SH });
    expect(elsewhere.Images.Image).toEqual([]);
  });

  it('matches ImageName as a case-insensitive substring', async () => {
    const res = await f.call('DescribeImages', { RegionId: HZ, ImageName: 'UBUNTU' });
    expect(res.Images.Image.map((i: any) => i.ImageId)).toEqual([UBUNTU_HZ]);
    const base = await f.call('DescribeImages', { RegionId: HZ, ImageName: 'base' });
    expect(base.TotalCount).toBe(2);
  });

  it('filters by tags: every Tag.N must match, a key alone matches any value', async () => {
    f.ecs.putImage(HZ, { imageId: 'm-bp1tagged1', imageName: 'tagged-1', tags: { env: 'prod', team: 'a' } });
    f.ecs.putImage(HZ, { imageId: 'm-bp1tagged2', imageName: 'tagged-2', tags: { env: 'dev', team: 'a' } });
    const ids = async (params: Record<string, string>) =>
      (await f.call('DescribeImages', { RegionId: HZ, ...params })).Images.Image.map((i: any) => i.ImageId);
    expect(await ids({ 'Tag.1.Key': 'team' })).toEqual(['m-bp1tagged2', 'm-bp1tagged1']);
    expect(
      await ids({ 'Tag.1.Key': 'team', 'Tag.1.Value': 'a', 'Tag.2.Key': 'env', 'Tag.2.Value': 'prod' }),
    ).toEqual(['m-bp1tagged1']);
    expect(await ids({ 'Tag.1.Key': 'env', 'Tag.1.Value': 'test' })).toEqual([]);
    await expectError('DescribeImages', { RegionId: HZ, 'Tag.1.Value': 'x' }, 'InvalidTag.Mismatch', 400);
  });

  it('lists only self-owned images: ImageOwnerAlias self finds them, system finds nothing, others are invalid', async () => {
    const count = async (params: Record<string, string>) =>
      (await f.call('DescribeImages', { RegionId: HZ, ...params })).TotalCount;
    expect(await count({ ImageOwnerAlias: 'self' })).toBe(2);
    expect(await count({ ImageOwnerAlias: 'system' })).toBe(0);
    expect(await count({ ImageOwnerAlias: 'marketplace' })).toBe(0);
    expect(await count({ ImageOwnerId: ACCOUNT_ID })).toBe(2);
    expect(await count({ ImageOwnerId: '42' })).toBe(0);
    expect(await count({ IsPublic: 'true' })).toBe(0);
    await expectError(
      'DescribeImages',
      { RegionId: HZ, ImageOwnerAlias: 'friends' },
      'InvalidImageOwnerAlias.ValueNotSupported',
      400,
    );
  });

  it('pages with PageNumber and PageSize (at most 100, default 10), newest first', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 23; i++) {
      ids.push(f.ecs.putImage('cn-beijing', { imageName: `paged-${i}` }));
      f.tick(1000);
    }
    const page = async (params: Record<string, string>) =>
      f.call('DescribeImages', { RegionId: 'cn-beijing', ...params });
    const first = await page({});
    expect(first).toMatchObject({ TotalCount: 23, PageNumber: 1, PageSize: 10 });
    expect(first.Images.Image.map((i: any) => i.ImageId)).toEqual(ids.slice().reverse().slice(0, 10));
    const third = await page({ PageNumber: '3', PageSize: '10' });
    expect(third.Images.Image.map((i: any) => i.ImageId)).toEqual(ids.slice(0, 3).reverse());
    expect((await page({ PageSize: '100' })).Images.Image).toHaveLength(23);
    expect((await page({ PageNumber: '9' })).Images.Image).toEqual([]);
    await expectError('DescribeImages', { RegionId: HZ, PageSize: '101' }, 'InvalidParameter', 400);
    await expectError('DescribeImages', { RegionId: HZ, PageSize: '0' }, 'InvalidParameter', 400);
    await expectError('DescribeImages', { RegionId: HZ, PageNumber: '0' }, 'InvalidParameter', 400);
    await expectError('DescribeImages', { RegionId: HZ, PageNumber: 'two' }, 'InvalidParameter', 400);
  });

  it('filters by resource group, creation time, OS type and architecture', async () => {
    f.ecs.putImage(HZ, { imageId: 'm-bp1grouped', imageName: 'grouped', resourceGroupId: 'rg-team' });
    const ids = async (params: Record<string, string>) =>
      (await f.call('DescribeImages', { RegionId: HZ, ...params })).Images.Image.map((i: any) => i.ImageId);
    expect(await ids({ ResourceGroupId: 'rg-team' })).toEqual(['m-bp1grouped']);
    expect(await ids({ 'Filter.1.Key': 'CreationStartTime', 'Filter.1.Value': '2030-01-01T00:00Z' })).toEqual(
      [],
    );
    expect(
      await ids({ 'Filter.1.Key': 'CreationEndTime', 'Filter.1.Value': '2030-01-01T00:00Z' }),
    ).toHaveLength(3);
    expect(await ids({ OSType: 'windows' })).toEqual([]);
    expect(await ids({ Architecture: 'x86_64' })).toHaveLength(3);
    await expectError(
      'DescribeImages',
      { RegionId: HZ, 'Filter.1.Key': 'Color' },
      'InvalidFilterKey.NotFound',
      404,
    );
    await expectError('DescribeImages', { RegionId: HZ, OSType: 'beos' }, 'InvalidOSType', 404);
  });

  it('answers DryRunOperation after validation', async () => {
    await expectError(
      'DescribeImages',
      { RegionId: HZ, DryRun: 'true' },
      'DryRunOperation',
      400,
      'Request validation has been passed with DryRun flag set.',
    );
    await expectError(
      'DescribeImages',
      { RegionId: HZ, DryRun: 'true', PageSize: '500' },
      'InvalidParameter',
      400,
    );
  });
});

describe('LocalCloud ECS: CopyImage', () => {
  it('returns the id of a new image in the destination region at once, with IsCopied and the source size', async () => {
    const res = await f.call('CopyImage', {
      RegionId: HZ,
      ImageId: GOLDEN_HZ,
      DestinationRegionId: 'ap-southeast-1',
      DestinationImageName: 'golden-copy',
      DestinationDescription: 'copied for the demo',
      ResourceGroupId: 'rg-acfm2abc',
      'Tag.1.Key': 'owner',
      'Tag.1.Value': 'stack/Copy',
      'Tag.2.Key': 'empty',
    });
    expect(Object.keys(res)).toEqual(['ImageId']);
    expect(res.ImageId).toMatch(/^m-t4n[a-z0-9]{17}$/);
    const image = await f.describe('ap-southeast-1', res.ImageId);
    expect(image).toMatchObject({
      ImageName: 'golden-copy',
      Description: 'copied for the demo',
      Status: 'Creating',
      Progress: '0%',
      IsCopied: true,
      Size: 40,
      ResourceGroupId: 'rg-acfm2abc',
      Tags: {
        Tag: [
          { TagKey: 'owner', TagValue: 'stack/Copy' },
          { TagKey: 'empty', TagValue: '' },
        ],
      },
    });
    expect(f.ecs.getImage('ap-southeast-1', res.ImageId)).toMatchObject({
      isCopied: true,
      sourceImageId: GOLDEN_HZ,
      sourceRegionId: HZ,
      encrypted: false,
    });
    // The source is untouched.
    expect(f.ecs.getImage(HZ, GOLDEN_HZ)).toMatchObject({ status: 'Available', isCopied: false });
  });

  it('generates 22-character ids with the destination region prefix', async () => {
    const prefixes: Record<string, string> = {
      'cn-hangzhou': 'bp1',
      'cn-shanghai': 'uf6',
      'cn-beijing': '2ze',
      'cn-shenzhen': 'wz9',
      'ap-southeast-1': 't4n',
    };
    for (const [region, prefix] of Object.entries(prefixes)) {
      const id = await f.copy({ DestinationRegionId: region });
      expect(id).toHaveLength(22);
      expect(id).toMatch(new RegExp(`^m-${prefix}[a-z0-9]{17}$`));
    }
    const other = await f.copy({ DestinationRegionId: 'me-central-1' });
    expect(other).toMatch(/^m-[a-z0-9]{20}$/);
  });

  it('copies within the source region when DestinationRegionId is omitted', async () => {
    const id = await f.copy({ DestinationRegionId: '', DestinationImageName: 'same-region-copy' });
    expect(f.ecs.getImage(HZ, id)).toMatchObject({ regionId: HZ, isCopied: true, sourceRegionId: HZ });
  });

  it('names the copy after the source when no name is given, and carries the description over', async () => {
    const id = await f.copy({ DestinationRegionId: 'cn-beijing', DestinationImageName: '' });
    expect(f.ecs.getImage('cn-beijing', id)).toMatchObject({
      imageName: 'golden-base',
      description: 'Seeded by LocalCloud',
    });
    // ... which clashes within the same region.
    await expectError(
      'CopyImage',
      { RegionId: HZ, ImageId: GOLDEN_HZ },
      'InvalidImageName.Duplicated',
      400,
      /already in use/,
    );
  });

  it('records Encrypted and KMSKeyId, and refuses KMSKeyId without Encrypted=true', async () => {
    const id = await f.copy({ Encrypted: 'true', KMSKeyId: 'key-hzz123' });
    expect(f.ecs.getImage(SH, id)).toMatchObject({ encrypted: true, kmsKeyId: 'key-hzz123' });
    expect((await f.describe(SH, id)).DiskDeviceMappings.DiskDeviceMapping[0].Encrypted).toBe(true);
    await expectError(
      'CopyImage',
      { RegionId: HZ, ImageId: GOLDEN_HZ, DestinationImageName: 'enc', KMSKeyId: 'key-1' },
      'InvalidParameter.EncryptedIllegal',
      400,
    );
    await expectError(
      'CopyImage',
      {
        RegionId: HZ,
        ImageId: GOLDEN_HZ,
        DestinationImageName: 'enc',
        KMSKeyId: 'key-1',
        Encrypted: 'false',
      },
      'InvalidParameter.EncryptedIllegal',
      400,
    );
  });

  it.each([
    ['a', 'one character'],
    ['x'.repeat(129), '129 characters'],
    ['1image', 'starts with a digit'],
    ['-image', 'starts with a dash'],
    ['aliyun-image', 'starts with aliyun'],
    ['acs:image', 'starts with acs:'],
    ['image name', 'contains a space'],
    ['image/name', 'contains a slash'],
    ['http://x', 'is a URL'],
  ])('rejects the destination name %j (%s) with InvalidImageName.Malformed', async (name) => {
    await expectError(
      'CopyImage',
      { RegionId: HZ, ImageId: GOLDEN_HZ, DestinationImageName: name },
      'InvalidImageName.Malformed',
      400,
    );
  });

  it.each(['ab', 'x'.repeat(128), 'Image_1.2:3-4', '镜像副本', 'Golden'])(
    'accepts the name %j',
    async (name) => {
      await expect(f.copy({ DestinationImageName: name })).resolves.toMatch(/^m-uf6/);
    },
  );

  it.each([
    ['x', 'one character'],
    ['x'.repeat(257), '257 characters'],
    ['http://example.com description', 'starts with http://'],
    ['https://example.com description', 'starts with https://'],
  ])('rejects the description %j (%s) with InvalidDescription.Malformed', async (description) => {
    await expectError(
      'CopyImage',
      {
        RegionId: HZ,
        ImageId: GOLDEN_HZ,
        DestinationImageName: 'ok-name',
        DestinationDescription: description,
      },
      'InvalidDescription.Malformed',
      400,
    );
  });

  it('fails with InvalidImageId.NotFound (404) for an unknown source, or one in another region', async () => {
    await expectError('CopyImage', { RegionId: HZ, ImageId: 'm-bp1nothere' }, 'InvalidImageId.NotFound', 404);
    await expectError('CopyImage', { RegionId: HZ, ImageId: GOLDEN_SH }, 'InvalidImageId.NotFound', 404);
    await expectError('CopyImage', { RegionId: HZ }, 'MissingParameter', 400, /ImageId/);
  });

  it('fails with IncorrectImageStatus when the source is not Available', async () => {
    const inProgress = await f.copy({ DestinationRegionId: HZ, DestinationImageName: 'still-copying' });
    await expectError(
      'CopyImage',
      { RegionId: HZ, ImageId: inProgress, DestinationRegionId: SH, DestinationImageName: 'copy-of-copy' },
      'IncorrectImageStatus',
      400,
    );
    await f.call('ModifyImageAttribute', { RegionId: HZ, ImageId: UBUNTU_HZ, Status: 'Deprecated' });
    await expectError(
      'CopyImage',
      { RegionId: HZ, ImageId: UBUNTU_HZ, DestinationRegionId: SH },
      'IncorrectImageStatus',
      400,
    );
  });

  it('fails with DestinationRegion.NotFound or SourceRegion.NotFound for unknown regions', async () => {
    await expectError(
      'CopyImage',
      { RegionId: HZ, ImageId: GOLDEN_HZ, DestinationRegionId: 'mars-north-1' },
      'DestinationRegion.NotFound',
      400,
    );
    await expectError(
      'CopyImage',
      { RegionId: 'mars-north-1', ImageId: GOLDEN_HZ },
      'SourceRegion.NotFound',
      400,
    );
  });

  it('fails with InvalidImageName.Duplicated when the name is used in the destination region', async () => {
    await f.copy({ DestinationImageName: 'taken-name' });
    await expectError(
      'CopyImage',
      { RegionId: HZ, ImageId: UBUNTU_HZ, DestinationRegionId: SH, DestinationImageName: 'taken-name' },
      'InvalidImageName.Duplicated',
      400,
    );
    // The same name in another region is fine.
    await expect(
      f.copy({ DestinationRegionId: 'cn-beijing', DestinationImageName: 'taken-name' }),
    ).resolves.toMatch(/^m-2ze/);
  });

  it('fails with QuotaExceed.Image (403) once the destination region holds 100 images', async () => {
    for (let i = 0; i < 99; i++) {
      f.ecs.putImage(SH, { imageName: `filler-${i}` });
    }
    await expectError(
      'CopyImage',
      { RegionId: HZ, ImageId: GOLDEN_HZ, DestinationRegionId: SH, DestinationImageName: 'one-too-many' },
      'QuotaExceed.Image',
      403,
      'The number of images exceeds the limit (100).',
    );
  });

  it('validates tags: at most 20, unique keys, key and value rules', async () => {
    const tags = (n: number) =>
      Object.fromEntries(
        Array.from({ length: n }, (_, i) => [
          [`Tag.${i + 1}.Key`, `k${i}`],
          [`Tag.${i + 1}.Value`, `v${i}`],
        ]).flat(),
      );
    const base = {
      RegionId: HZ,
      ImageId: GOLDEN_HZ,
      DestinationRegionId: SH,
      DestinationImageName: 'tagged',
    };
    await expectError('CopyImage', { ...base, ...tags(21) }, 'NumberExceed.Tags', 400);
    await expectError('CopyImage', { ...base, 'Tag.1.Key': 'a', 'Tag.2.Key': 'a' }, 'Duplicate.TagKey', 400);
    await expectError('CopyImage', { ...base, 'Tag.1.Key': 'aliyun:x' }, 'InvalidTagKey.Malformed', 400);
    await expectError('CopyImage', { ...base, 'Tag.1.Key': 'k'.repeat(129) }, 'InvalidTagKey.Malformed', 400);
    await expectError(
      'CopyImage',
      { ...base, 'Tag.1.Key': 'k', 'Tag.1.Value': 'see https://x' },
      'InvalidTagValue.Malformed',
      400,
    );
    await expectError(
      'CopyImage',
      { ...base, 'Tag.1.Key': 'k', 'Tag.1.Value': 'acs:x' },
      'InvalidTagValue.Malformed',
      400,
    );
    const id = (await f.call('CopyImage', { ...base, ...tags(20) })).ImageId;
    expect(Object.keys(f.ecs.getImage(SH, id)!.tags)).toHaveLength(20);
  });

  it('validates ResourceGroupId', async () => {
    await expectError(
      'CopyImage',
      { RegionId: HZ, ImageId: GOLDEN_HZ, DestinationRegionId: SH, ResourceGroupId: 'group-1' },
      'InvalidResourceGroup.NotFound',
      404,
    );
  });

  describe('ClientToken', () => {
    const request = {
      RegionId: HZ,
      ImageId: GOLDEN_HZ,
      DestinationRegionId: SH,
      DestinationImageName: 'idempotent-copy',
      ClientToken: 'stack-1/Copy/req-1',
    };

    it('returns the same ImageId for a retry with the same token and parameters, copying once', async () => {
      const first = (await f.call('CopyImage', request)).ImageId;
      f.tick(60_000);
      const second = (await f.call('CopyImage', { ...request })).ImageId;
      expect(second).toBe(first);
      expect(f.ecs.listImages(SH).filter((i) => i.imageName === 'idempotent-copy')).toHaveLength(1);
    });

    it('fails with IdempotentParameterMismatch for the same token with different parameters', async () => {
      await f.call('CopyImage', request);
      await expectError(
        'CopyImage',
        { ...request, DestinationImageName: 'other-name' },
        'IdempotentParameterMismatch',
        400,
      );
      await expectError('CopyImage', { ...request, Encrypted: 'true' }, 'IdempotentParameterMismatch', 400);
    });

    it('forgets a token after 24 hours', async () => {
      await f.call('CopyImage', request);
      f.tick(24 * 3600 * 1000 + 1);
      await expectError('CopyImage', request, 'InvalidImageName.Duplicated', 400);
    });

    it('remembers nothing for a failed call', async () => {
      await f.errorOf('CopyImage', { ...request, ImageId: 'm-bp1nothere' });
      await expect(f.call('CopyImage', request)).resolves.toEqual({
        ImageId: expect.stringMatching(/^m-uf6/),
      });
    });

    it('accepts at most 64 ASCII characters', async () => {
      await expectError('CopyImage', { ...request, ClientToken: 't'.repeat(65) }, 'InvalidParameter', 400);
      await expectError('CopyImage', { ...request, ClientToken: 'jeton-é' }, 'InvalidParameter', 400);
      await expect(f.call('CopyImage', { ...request, ClientToken: 't'.repeat(64) })).resolves.toBeDefined();
    });
  });

  it('answers DryRunOperation after validation without copying', async () => {
    await expectError(
      'CopyImage',
      {
        RegionId: HZ,
        ImageId: GOLDEN_HZ,
        DestinationRegionId: SH,
        DestinationImageName: 'dry',
        DryRun: 'true',
      },
      'DryRunOperation',
      400,
    );
    await expectError(
      'CopyImage',
      { RegionId: HZ, ImageId: 'm-bp1nothere', DestinationRegionId: SH, DryRun: 'true' },
      'InvalidImageId.NotFound',
      404,
    );
    expect(f.ecs.listImages(SH)).toHaveLength(1);
  });
});

describe('LocalCloud ECS: CancelCopyImage', () => {
  it('removes a copy that is still in progress', async () => {
    const id = await f.copy();
    f.tick(3000);
    expect(await f.call('CancelCopyImage', { RegionId: SH, ImageId: id })).toEqual({});
    expect(f.ecs.getImage(SH, id)).toBeUndefined();
    expect(await f.describe(SH, id)).toBeUndefined();
    expect(f.ecs.getImage(HZ, GOLDEN_HZ)?.status).toBe('Available');
  });

  it('fails with IncorrectImageStatus once the copy has completed', async () => {
    const id = await f.copy();
    f.tick(10_000);
    await expectError(
      'CancelCopyImage',
      { RegionId: SH, ImageId: id },
      'IncorrectImageStatus',
      400,
      'The image copy has completed.',
    );
  });

  it('fails with IncorrectImageStatus for a failed copy', async () => {
    const id = await f.copy();
    f.ecs.failCopy(SH, id);
    await expectError(
      'CancelCopyImage',
      { RegionId: SH, ImageId: id },
      'IncorrectImageStatus',
      400,
      'The Image copy has been failed.',
    );
  });

  it('fails with ImageCreatedNotFromCopy for an image that is not a copy', async () => {
    await expectError(
      'CancelCopyImage',
      { RegionId: SH, ImageId: GOLDEN_SH },
      'ImageCreatedNotFromCopy',
      400,
    );
  });

  it('fails with InvalidImageId.NotFound (404) for an unknown id or when called in the source region', async () => {
    const id = await f.copy();
    await expectError(
      'CancelCopyImage',
      { RegionId: SH, ImageId: 'm-uf6nothere' },
      'InvalidImageId.NotFound',
      404,
    );
    await expectError('CancelCopyImage', { RegionId: HZ, ImageId: id }, 'InvalidImageId.NotFound', 404);
  });

  it('fails with CancelNotSupported when cancelling is disabled for the copy', async () => {
    const id = await f.copy();
    f.ecs.setCancelSupported(SH, id, false);
    await expectError(
      'CancelCopyImage',
      { RegionId: SH, ImageId: id },
      'CancelNotSupported',
      400,
      'The specified image coping can not be cancelled.',
    );
    expect(f.ecs.getImage(SH, id)?.status).toBe('Creating');
    f.ecs.setCancelSupported(SH, id, true);
    await f.call('CancelCopyImage', { RegionId: SH, ImageId: id });
    expect(f.ecs.getImage(SH, id)).toBeUndefined();
  });
});

describe('LocalCloud ECS: DeleteImage', () => {
  it('deletes an image at once', async () => {
    expect(await f.call('DeleteImage', { RegionId: HZ, ImageId: UBUNTU_HZ })).toEqual({});
    expect(f.ecs.getImage(HZ, UBUNTU_HZ)).toBeUndefined();
    expect(await f.describe(HZ, UBUNTU_HZ)).toBeUndefined();
  });

  it('refuses a copy in progress with OperationDenied.ImageCopying (403)', async () => {
    const id = await f.copy();
    await expectError('DeleteImage', { RegionId: SH, ImageId: id }, 'OperationDenied.ImageCopying', 403);
    f.tick(10_000);
    await f.call('DeleteImage', { RegionId: SH, ImageId: id });
    expect(f.ecs.getImage(SH, id)).toBeUndefined();
  });

  it('deletes a failed copy', async () => {
    const id = await f.copy();
    f.ecs.failCopy(SH, id);
    await f.call('DeleteImage', { RegionId: SH, ImageId: id });
    expect(f.ecs.getImage(SH, id)).toBeUndefined();
  });

  it('refuses an image in use with ImageUsingByInstance (403) unless Force=true', async () => {
    f.ecs.setInUse(HZ, GOLDEN_HZ, true);
    expect((await f.describe(HZ, GOLDEN_HZ)).Usage).toBe('instance');
    await expectError('DeleteImage', { RegionId: HZ, ImageId: GOLDEN_HZ }, 'ImageUsingByInstance', 403);
    await expectError(
      'DeleteImage',
      { RegionId: HZ, ImageId: GOLDEN_HZ, Force: 'false' },
      'ImageUsingByInstance',
      403,
    );
    await f.call('DeleteImage', { RegionId: HZ, ImageId: GOLDEN_HZ, Force: 'true' });
    expect(f.ecs.getImage(HZ, GOLDEN_HZ)).toBeUndefined();
  });

  it('fails with InvalidImageId.NotFound (404) for an unknown image', async () => {
    await expectError(
      'DeleteImage',
      { RegionId: HZ, ImageId: 'm-bp1nothere' },
      'InvalidImageId.NotFound',
      404,
    );
    await expectError('DeleteImage', { RegionId: HZ, ImageId: GOLDEN_SH }, 'InvalidImageId.NotFound', 404);
  });

  it('lets the source of a running copy be deleted; the copy still finishes', async () => {
    const id = await f.copy();
    await f.call('DeleteImage', { RegionId: HZ, ImageId: GOLDEN_HZ });
    f.tick(10_000);
    expect(f.ecs.getImage(SH, id)?.status).toBe('Available');
  });

  it('answers DryRunOperation without deleting', async () => {
    await expectError(
      'DeleteImage',
      { RegionId: HZ, ImageId: UBUNTU_HZ, DryRun: 'true' },
      'DryRunOperation',
      400,
    );
    expect(f.ecs.getImage(HZ, UBUNTU_HZ)).toBeDefined();
  });

  it('rejects a Force that is not a boolean', async () => {
    await expectError(
      'DeleteImage',
      { RegionId: HZ, ImageId: UBUNTU_HZ, Force: 'yes' },
      'InvalidParameter',
      400,
    );
  });
});

describe('LocalCloud ECS: ModifyImageAttribute', () => {
  it('renames and re-describes an image, leaving omitted fields unchanged', async () => {
    await f.call('ModifyImageAttribute', { RegionId: HZ, ImageId: UBUNTU_HZ, ImageName: 'ubuntu-renamed' });
    await f.call('ModifyImageAttribute', {
      RegionId: HZ,
      ImageId: UBUNTU_HZ,
      Description: 'A new description',
    });
    await f.call('ModifyImageAttribute', { RegionId: HZ, ImageId: UBUNTU_HZ, Description: '' });
    expect(f.ecs.getImage(HZ, UBUNTU_HZ)).toMatchObject({
      imageName: 'ubuntu-renamed',
      description: 'A new description',
    });
  });

  it('renames a copy that is still in progress', async () => {
    const id = await f.copy();
    await f.call('ModifyImageAttribute', { RegionId: SH, ImageId: id, ImageName: 'renamed-while-copying' });
    expect(f.ecs.getImage(SH, id)).toMatchObject({ imageName: 'renamed-while-copying', status: 'Creating' });
  });

  it('fails with InvalidImageName.Duplicated for a name used by another image of the region', async () => {
    await expectError(
      'ModifyImageAttribute',
      { RegionId: HZ, ImageId: UBUNTU_HZ, ImageName: 'golden-base' },
      'InvalidImageName.Duplicated',
      400,
    );
    // Its own name, or a name used only in another region, is fine.
    await f.call('ModifyImageAttribute', { RegionId: HZ, ImageId: GOLDEN_HZ, ImageName: 'golden-base' });
    await f.call('ModifyImageAttribute', {
      RegionId: SH,
      ImageId: GOLDEN_SH,
      ImageName: 'ubuntu-22-04-base',
    });
  });

  it('validates name and description', async () => {
    await expectError(
      'ModifyImageAttribute',
      { RegionId: HZ, ImageId: UBUNTU_HZ, ImageName: 'acs:bad' },
      'InvalidImageName.Malformed',
      400,
    );
    await expectError(
      'ModifyImageAttribute',
      { RegionId: HZ, ImageId: UBUNTU_HZ, Description: 'https://example.com' },
      'InvalidDescription.Malformed',
      400,
    );
    await f.call('ModifyImageAttribute', { RegionId: HZ, ImageId: UBUNTU_HZ, ImageName: '乌班图-base' });
  });

  it('deprecates an image, which the default DescribeImages then hides, and makes it Available again', async () => {
    await f.call('ModifyImageAttribute', { RegionId: HZ, ImageId: UBUNTU_HZ, Status: 'Deprecated' });
    expect((await f.call('DescribeImages', { RegionId: HZ, ImageId: UBUNTU_HZ })).Images.Image).toEqual([]);
    const deprecated = await f.call('DescribeImages', {
      RegionId: HZ,
      ImageId: UBUNTU_HZ,
      Status: 'Deprecated',
    });
    expect(deprecated.Images.Image[0]).toMatchObject({ Status: 'Deprecated', Usable: false });
    await f.call('ModifyImageAttribute', { RegionId: HZ, ImageId: UBUNTU_HZ, Status: 'Available' });
    expect(f.ecs.getImage(HZ, UBUNTU_HZ)?.status).toBe('Available');
  });

  it('refuses a status change of a copy in progress (InvalidStatus.ImageIsCreating) and an unknown status', async () => {
    const id = await f.copy();
    await expectError(
      'ModifyImageAttribute',
      { RegionId: SH, ImageId: id, Status: 'Deprecated' },
      'InvalidStatus.ImageIsCreating',
      403,
    );
    await expectError(
      'ModifyImageAttribute',
      { RegionId: HZ, ImageId: UBUNTU_HZ, Status: 'Creating' },
      'InvalidParameter',
      400,
    );
  });

  it('fails with InvalidImageId.NotFound (404) for an unknown image', async () => {
    await expectError(
      'ModifyImageAttribute',
      { RegionId: HZ, ImageId: 'm-bp1nothere', ImageName: 'whatever' },
      'InvalidImageId.NotFound',
      404,
    );
  });

  it('answers DryRunOperation without changing anything', async () => {
    await expectError(
      'ModifyImageAttribute',
      { RegionId: HZ, ImageId: UBUNTU_HZ, ImageName: 'dry-name', DryRun: 'true' },
      'DryRunOperation',
      400,
    );
    expect(f.ecs.getImage(HZ, UBUNTU_HZ)?.imageName).toBe('ubuntu-22-04-base');
  });
});

describe('LocalCloud ECS: JoinResourceGroup', () => {
  const join = { RegionId: HZ, ResourceType: 'image', ResourceId: GOLDEN_HZ, ResourceGroupId: 'rg-aek2z7x' };

  it('moves an image into a resource group', async () => {
    expect(await f.call('JoinResourceGroup', join)).toEqual({});
    expect((await f.describe(HZ, GOLDEN_HZ)).ResourceGroupId).toBe('rg-aek2z7x');
  });

  it('moves a copy in progress too', async () => {
    const id = await f.copy();
    await f.call('JoinResourceGroup', { ...join, RegionId: SH, ResourceId: id });
    expect(f.ecs.getImage(SH, id)?.resourceGroupId).toBe('rg-aek2z7x');
  });

  it('rejects a malformed group, an unknown image and other resource types', async () => {
    await expectError(
      'JoinResourceGroup',
      { ...join, ResourceGroupId: 'team-a' },
      'InvalidResourceGroup.NotFound',
      404,
    );
    await expectError(
      'JoinResourceGroup',
      { ...join, ResourceId: 'm-bp1nothere' },
      'InvalidResourceId.NotFound',
      404,
    );
    await expectError(
      'JoinResourceGroup',
      { ...join, ResourceType: 'instance' },
      'InvalidResourceType.NotFound',
      404,
    );
    await expectError('JoinResourceGroup', { ...join, ResourceGroupId: '' }, 'MissingParameter', 400);
  });
});

describe('LocalCloud ECS: facade', () => {
  it('puts images with generated ids, default names and sizes', () => {
    const id = f.ecs.putImage('cn-shenzhen');
    expect(id).toMatch(/^m-wz9[a-z0-9]{17}$/);
    expect(f.ecs.getImage('cn-shenzhen', id)).toMatchObject({
      regionId: 'cn-shenzhen',
      imageName: expect.stringMatching(/^image-/),
      sizeGiB: 20,
      status: 'Available',
      isCopied: false,
      tags: {},
    });
    const unusable = f.ecs.putImage(HZ, { imageName: 'broken', status: 'UnAvailable', tags: { a: 'b' } });
    expect(f.ecs.getImage(HZ, unusable)).toMatchObject({ status: 'UnAvailable', tags: { a: 'b' } });
  });

  it('refuses an unknown region, an existing id and a name already used in the region', () => {
    expect(() => f.ecs.putImage('xx-nowhere-1')).toThrow(/unknown region/);
    expect(() => f.ecs.putImage(HZ, { imageId: GOLDEN_HZ })).toThrow(/already exists/);
    expect(() => f.ecs.putImage(HZ, { imageName: 'golden-base' })).toThrow(/already exists/);
    expect(() => f.ecs.listImages('xx-nowhere-1')).toThrow(/unknown region/);
  });

  it('finds an image only in its own region', () => {
    expect(f.ecs.getImage(SH, GOLDEN_HZ)).toBeUndefined();
  });

  it('refuses to fail or configure what is not a copy in progress', async () => {
    expect(() => f.ecs.failCopy(HZ, GOLDEN_HZ)).toThrow(/not a copy/);
    expect(() => f.ecs.setCancelSupported(HZ, GOLDEN_HZ, false)).toThrow(/not a copy/);
    expect(() => f.ecs.setInUse(HZ, 'm-bp1nothere', true)).toThrow(/no image/);
    const id = await f.copy();
    f.tick(10_000);
    expect(() => f.ecs.failCopy(SH, id)).toThrow(/already Available/);
  });
});
