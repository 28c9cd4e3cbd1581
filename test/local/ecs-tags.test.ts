import { ApiError } from '../../lib/local/errors';
import { ecsFixture, type EcsFixture } from './ecs-fixture';

const HZ = 'cn-hangzhou';
const GOLDEN = 'm-bp1seedgoldenimage01';
const UBUNTU = 'm-bp1seedubuntu220401';

let f: EcsFixture;
beforeEach(() => {
  f = ecsFixture();
});

const tagParams = (tags: Record<string, string>): Record<string, string> =>
  Object.fromEntries(
    Object.entries(tags).flatMap(([key, value], i) => [
      [`Tag.${i + 1}.Key`, key],
      [`Tag.${i + 1}.Value`, value],
    ]),
  );

const manyTags = (n: number, prefix = 'k'): Record<string, string> =>
  Object.fromEntries(Array.from({ length: n }, (_, i) => [`${prefix}${i}`, `v${i}`]));

const tag = (ids: string[], tags: Record<string, string>, extra: Record<string, string> = {}) =>
  f.call('TagResources', {
    RegionId: HZ,
    ResourceType: 'image',
    ...Object.fromEntries(ids.map((id, i) => [`ResourceId.${i + 1}`, id])),
    ...tagParams(tags),
    ...extra,
  });

const expectError = async (
  action: string,
  params: Record<string, string>,
  code: string,
  httpStatus: number,
) => {
  const err = await f.errorOf(action, params);
  expect(err).toBeInstanceOf(ApiError);
  expect({ code: err.code, httpStatus: err.httpStatus }).toEqual({ code, httpStatus });
};

const tagsOf = (id: string) => f.ecs.getImage(HZ, id)?.tags;

describe('LocalCloud ECS: TagResources', () => {
  it('adds tags to several images and overwrites the value of an existing key', async () => {
    expect(await tag([GOLDEN, UBUNTU], { env: 'dev', team: 'a' })).toEqual({});
    await tag([GOLDEN], { env: 'prod', empty: '' });
    expect(tagsOf(GOLDEN)).toEqual({ env: 'prod', team: 'a', empty: '' });
    expect(tagsOf(UBUNTU)).toEqual({ env: 'dev', team: 'a' });
    const described = (await f.describe(HZ, GOLDEN)).Tags.Tag;
    expect(described).toEqual([
      { TagKey: 'env', TagValue: 'prod' },
      { TagKey: 'team', TagValue: 'a' },
      { TagKey: 'empty', TagValue: '' },
    ]);
  });

  it('tags a value-less Tag.N.Key with an empty value', async () => {
    await f.call('TagResources', {
      RegionId: HZ,
      ResourceType: 'image',
      'ResourceId.1': GOLDEN,
      'Tag.1.Key': 'k',
    });
    expect(tagsOf(GOLDEN)).toEqual({ k: '' });
  });

  it('tags copies in progress', async () => {
    const id = await f.copy({ DestinationRegionId: HZ, DestinationImageName: 'copying' });
    await tag([id], { stage: 'copying' });
    expect(f.ecs.getImage(HZ, id)).toMatchObject({ status: 'Creating', tags: { stage: 'copying' } });
  });

  it('allows 20 tags per image and fails with QuotaExceed.Tags (403) beyond, changing nothing', async () => {
    await tag([GOLDEN], manyTags(15));
    await tag([UBUNTU], manyTags(19));
    await tag([GOLDEN, UBUNTU], { k0: 'replaced' }); // an existing key does not count twice
    await expectError(
      'TagResources',
      {
        RegionId: HZ,
        ResourceType: 'image',
        'ResourceId.1': GOLDEN,
        'ResourceId.2': UBUNTU,
        ...tagParams({ a: '', b: '' }),
      },
      'QuotaExceed.Tags',
      403,
    );
    expect(Object.keys(tagsOf(GOLDEN)!)).toHaveLength(15);
    await tag([GOLDEN], manyTags(5, 'x'));
    expect(Object.keys(tagsOf(GOLDEN)!)).toHaveLength(20);
  });

  it('fails with NumberExceed.Tags for more than 20 tags in one request', async () => {
    await expectError(
      'TagResources',
      { RegionId: HZ, ResourceType: 'image', 'ResourceId.1': GOLDEN, ...tagParams(manyTags(21)) },
      'NumberExceed.Tags',
      400,
    );
  });

  it('fails with Duplicate.TagKey for a key given twice', async () => {
    await expectError(
      'TagResources',
      { RegionId: HZ, ResourceType: 'image', 'ResourceId.1': GOLDEN, 'Tag.1.Key': 'a', 'Tag.2.Key': 'a' },
      'Duplicate.TagKey',
      400,
    );
  });

  it.each([
    ['aliyun-key', 'v', 'InvalidTagKey.Malformed'],
    ['acs:key', 'v', 'InvalidTagKey.Malformed'],
    ['see http://x', 'v', 'InvalidTagKey.Malformed'],
    ['k'.repeat(129), 'v', 'InvalidTagKey.Malformed'],
    ['key', 'https://x', 'InvalidTagValue.Malformed'],
    ['key', 'acs:value', 'InvalidTagValue.Malformed'],
    ['key', 'v'.repeat(129), 'InvalidTagValue.Malformed'],
  ])('rejects the tag %j = %j with %s', async (key, value, code) => {
    await expectError(
      'TagResources',
      { RegionId: HZ, ResourceType: 'image', 'ResourceId.1': GOLDEN, 'Tag.1.Key': key, 'Tag.1.Value': value },
      code,
      400,
    );
  });

  it('accepts keys and values of 128 characters', async () => {
    await tag([GOLDEN], { ['k'.repeat(128)]: 'v'.repeat(128) });
    expect(Object.keys(tagsOf(GOLDEN)!)).toEqual(['k'.repeat(128)]);
  });

  it('fails with InvalidResourceId.NotFound (404) when any image is unknown, tagging none', async () => {
    await expectError(
      'TagResources',
      {
        RegionId: HZ,
        ResourceType: 'image',
        'ResourceId.1': GOLDEN,
        'ResourceId.2': 'm-bp1nothere',
        'Tag.1.Key': 'k',
      },
      'InvalidResourceId.NotFound',
      404,
    );
    expect(tagsOf(GOLDEN)).toEqual({});
    // An image of another region is unknown here.
    await expectError(
      'TagResources',
      { RegionId: HZ, ResourceType: 'image', 'ResourceId.1': 'm-uf6seedgoldenimage01', 'Tag.1.Key': 'k' },
      'InvalidResourceId.NotFound',
      404,
    );
  });

  it('fails with NumberExceed.ResourceIds for more than 50 resource ids', async () => {
    const ids = Object.fromEntries(
      Array.from({ length: 51 }, (_, i) => [`ResourceId.${i + 1}`, `m-bp1id${i}`]),
    );
    await expectError(
      'TagResources',
      { RegionId: HZ, ResourceType: 'image', ...ids, 'Tag.1.Key': 'k' },
      'NumberExceed.ResourceIds',
      400,
    );
  });

  it('requires ResourceType image, ResourceId.N and Tag.N', async () => {
    const ok = { RegionId: HZ, ResourceType: 'image', 'ResourceId.1': GOLDEN, 'Tag.1.Key': 'k' };
    await expectError(
      'TagResources',
      { ...ok, ResourceType: 'instance' },
      'InvalidResourceType.NotFound',
      404,
    );
    await expectError('TagResources', { ...ok, ResourceType: '' }, 'MissingParameter.ResourceType', 404);
    await expectError('TagResources', { ...ok, 'ResourceId.1': '' }, 'MissingParameter', 400);
    await expectError('TagResources', { ...ok, 'Tag.1.Key': '' }, 'InvalidTagKey.Malformed', 400);
    await expectError(
      'TagResources',
      { RegionId: HZ, ResourceType: 'image', 'ResourceId.1': GOLDEN },
      'MissingParameter.Tags',
      404,
    );
    await expect(f.call('TagResources', { ...ok, ResourceType: 'Image' })).resolves.toEqual({});
  });
});

describe('LocalCloud ECS: UntagResources', () => {
  beforeEach(async () => {
    await tag([GOLDEN, UBUNTU], { a: '1', b: '2', c: '3' });
  });

  it('removes the given keys from every image, ignoring keys it does not have', async () => {
    await f.call('UntagResources', {
      RegionId: HZ,
      ResourceType: 'image',
      'ResourceId.1': GOLDEN,
      'ResourceId.2': UBUNTU,
      'TagKey.1': 'a',
      'TagKey.2': 'zzz',
    });
    expect(tagsOf(GOLDEN)).toEqual({ b: '2', c: '3' });
    expect(tagsOf(UBUNTU)).toEqual({ b: '2', c: '3' });
  });

  it('removes all tags with All=true and no TagKey, and nothing without either', async () => {
    await f.call('UntagResources', { RegionId: HZ, ResourceType: 'image', 'ResourceId.1': GOLDEN });
    expect(tagsOf(GOLDEN)).toEqual({ a: '1', b: '2', c: '3' });
    await f.call('UntagResources', {
      RegionId: HZ,
      ResourceType: 'image',
      'ResourceId.1': GOLDEN,
      All: 'true',
    });
    expect(tagsOf(GOLDEN)).toEqual({});
    // All is ignored when TagKey.N is given.
    await f.call('UntagResources', {
      RegionId: HZ,
      ResourceType: 'image',
      'ResourceId.1': UBUNTU,
      All: 'true',
      'TagKey.1': 'a',
    });
    expect(tagsOf(UBUNTU)).toEqual({ b: '2', c: '3' });
  });

  it('fails for unknown images, other resource types and more than 20 keys', async () => {
    await expectError(
      'UntagResources',
      { RegionId: HZ, ResourceType: 'image', 'ResourceId.1': 'm-bp1nothere', 'TagKey.1': 'a' },
      'InvalidResourceId.NotFound',
      404,
    );
    await expectError(
      'UntagResources',
      { RegionId: HZ, ResourceType: 'disk', 'ResourceId.1': GOLDEN, 'TagKey.1': 'a' },
      'InvalidResourceType.NotFound',
      404,
    );
    const keys = Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`TagKey.${i + 1}`, `k${i}`]));
    await expectError(
      'UntagResources',
      { RegionId: HZ, ResourceType: 'image', 'ResourceId.1': GOLDEN, ...keys },
      'NumberExceed.Tags',
      400,
    );
  });
});

describe('LocalCloud ECS: ListTagResources', () => {
  const list = (params: Record<string, string>) =>
    f.call('ListTagResources', { RegionId: HZ, ResourceType: 'image', ...params });

  it('lists the tags of the given images, one row per tag', async () => {
    await tag([GOLDEN], { env: 'prod', team: 'a' });
    const res = await list({ 'ResourceId.1': GOLDEN, 'ResourceId.2': UBUNTU });
    expect(res).toEqual({
      NextToken: '',
      TagResources: {
        TagResource: [
          { ResourceId: GOLDEN, ResourceType: 'image', TagKey: 'env', TagValue: 'prod' },
          { ResourceId: GOLDEN, ResourceType: 'image', TagKey: 'team', TagValue: 'a' },
        ],
      },
    });
  });

  it('lists nothing for unknown images', async () => {
    expect((await list({ 'ResourceId.1': 'm-bp1nothere' })).TagResources.TagResource).toEqual([]);
  });

  it('finds the images that have every Tag.N given (a key alone matches any value)', async () => {
    await tag([GOLDEN], { env: 'prod', team: 'a' });
    await tag([UBUNTU], { env: 'dev', team: 'a' });
    const ids = async (params: Record<string, string>) => [
      ...new Set((await list(params)).TagResources.TagResource.map((r: any) => r.ResourceId)),
    ];
    expect(await ids(tagParams({ team: 'a' }))).toEqual([GOLDEN, UBUNTU]);
    expect(await ids({ 'Tag.1.Key': 'env' })).toEqual([GOLDEN, UBUNTU]);
    expect(await ids(tagParams({ team: 'a', env: 'dev' }))).toEqual([UBUNTU]);
    expect(await ids({ ...tagParams({ team: 'a' }), 'ResourceId.1': GOLDEN })).toEqual([GOLDEN]);
    expect(await ids(tagParams({ team: 'b' }))).toEqual([]);
  });

  it('supports TagFilter.N with prefix and infix wildcards', async () => {
    await tag([GOLDEN], { environment: 'production' });
    await tag([UBUNTU], { env: 'product-test' });
    const ids = async (params: Record<string, string>) => [
      ...new Set((await list(params)).TagResources.TagResource.map((r: any) => r.ResourceId)),
    ];
    expect(await ids({ 'TagFilter.1.TagKey': 'env*' })).toEqual([GOLDEN, UBUNTU]);
    expect(await ids({ 'TagFilter.1.TagKey': 'env' })).toEqual([UBUNTU]);
    expect(await ids({ 'TagFilter.1.TagKey': 'env', 'TagFilter.1.TagValues.1': '*test*' })).toEqual([UBUNTU]);
    expect(
      await ids({
        'TagFilter.1.TagKey': 'environment',
        'TagFilter.1.TagValues.1': 'x',
        'TagFilter.1.TagValues.2': 'prod*',
      }),
    ).toEqual([GOLDEN]);
  });

  it('needs at least one of ResourceId.N, Tag.N and TagFilter.N', async () => {
    await expectError('ListTagResources', { RegionId: HZ, ResourceType: 'image' }, 'MissingParameter', 400);
    await expectError(
      'ListTagResources',
      { RegionId: HZ, ResourceType: 'image', 'Tag.1.Value': 'x' },
      'InvalidParameter.TagValue',
      400,
    );
    await expectError(
      'ListTagResources',
      { RegionId: HZ, ResourceType: 'snapshot', 'ResourceId.1': GOLDEN },
      'InvalidResourceType.NotFound',
      404,
    );
  });

  it('pages by 50 rows with NextToken', async () => {
    const ids = [GOLDEN, UBUNTU, f.ecs.putImage(HZ, { imageName: 'third' })];
    await tag(ids, manyTags(20));
    const resourceIds = Object.fromEntries(ids.map((id, i) => [`ResourceId.${i + 1}`, id]));
    const first = await list(resourceIds);
    expect(first.TagResources.TagResource).toHaveLength(50);
    expect(first.NextToken).not.toBe('');
    const second = await list({ ...resourceIds, NextToken: first.NextToken });
    expect(second.TagResources.TagResource).toHaveLength(10);
    expect(second.NextToken).toBe('');
    const rows = [...first.TagResources.TagResource, ...second.TagResources.TagResource];
    expect(new Set(rows.map((r: any) => `${r.ResourceId}/${r.TagKey}`)).size).toBe(60);
    await expectError(
      'ListTagResources',
      { RegionId: HZ, ResourceType: 'image', ...resourceIds, NextToken: 'not-a-token' },
      'InvalidParameter',
      400,
    );
  });
});
