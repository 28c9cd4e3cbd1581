/**
 * Image family and source tags (issue 14), run by the bundled handler inside LocalCloud's Function Compute with the
 * provider's role policy, and checked through the real ECS SDK.
 */
import * as $Ecs from '@alicloud/ecs20140526';
import { ALL_IMAGE_STATUSES, MAX_TAGS_PER_IMAGE, OWNERSHIP_TAG_KEY } from '../../lib/protocol';
import {
  DESTINATION_REGION,
  type Harness,
  imageIdOf,
  newResource,
  putSource,
  type ResourceIdentity,
  run,
  SOURCE_REGION,
  startHarness,
} from './harness';
import { propertiesFor } from '../support/image-copy';
import { unique } from '../support/names';

let h: Harness;
let fn: string;

beforeAll(async () => {
  h = await startHarness();
  fn = h.deployHandler();
});
afterAll(() => h.stop());

/** The image as DescribeImages shows it to its owner. */
async function described(imageId: string, regionId = DESTINATION_REGION) {
  const answer = await h.ecs.describeImages(
    new $Ecs.DescribeImagesRequest({
      regionId,
      imageId,
      status: ALL_IMAGE_STATUSES.join(','),
      imageOwnerAlias: 'self',
    }),
  );
  const image = answer.body!.images!.image!.find((candidate) => candidate.imageId === imageId);
  return {
    imageFamily: image?.imageFamily ?? '',
    tags: Object.fromEntries((image?.tags?.tag ?? []).map((tag) => [tag.tagKey!, tag.tagValue ?? ''])),
  };
}

/** Tags the source image (as its owner, through the SDK). */
async function tagSource(sourceImageId: string, tags: Record<string, string>): Promise<void> {
  const entries = Object.entries(tags);
  for (let i = 0; i < entries.length; i += 20) {
    await h.ecs.tagResources(
      new $Ecs.TagResourcesRequest({
        regionId: SOURCE_REGION,
        resourceType: 'image',
        resourceId: [sourceImageId],
        tag: entries.slice(i, i + 20).map(([key, value]) => new $Ecs.TagResourcesRequestTag({ key, value })),
      }),
    );
  }
}

async function create(resource: ResourceIdentity, properties: Record<string, unknown>) {
  const { response } = await run(h, fn, resource, { RequestType: 'Create', ResourceProperties: properties });
  expect(response.Status).toBe('SUCCESS');
  return response;
}

async function remove(resource: ResourceIdentity, physicalId: string, properties: Record<string, unknown>) {
  const { response } = await run(h, fn, resource, {
    RequestType: 'Delete',
    PhysicalResourceId: physicalId,
    ResourceProperties: properties,
  });
  expect(response.Status).toBe('SUCCESS');
}

const tagsOf = (count: number, prefix: string) =>
  Object.fromEntries(Array.from({ length: count }, (_, i) => [`${prefix}${i}`, `${prefix}-value-${i}`]));

describe('ImageFamily', () => {
  it('sets the family on the copy and answers it in Data', async () => {
    const resource = newResource();
    const properties = propertiesFor(putSource(h), { ImageName: unique('fam'), ImageFamily: 'golden-web' });
    const response = await create(resource, properties);
    const imageId = imageIdOf(response);
    expect((await described(imageId)).imageFamily).toBe('golden-web');
    expect(response.Data).toMatchObject({
      ImageFamily: 'golden-web',
      SharedWithAccounts: '',
      PreviousImageIds: '',
    });
    await remove(resource, response.PhysicalResourceId!, properties);
  });

  it('changes the family in place: the same image, the new family', async () => {
    const resource = newResource();
    const before = propertiesFor(putSource(h), { ImageName: unique('fam'), ImageFamily: 'golden-web' });
    const created = await create(resource, before);
    const after = { ...before, ImageFamily: 'golden-web-2' };
    const { response } = await run(h, fn, resource, {
      RequestType: 'Update',
      PhysicalResourceId: created.PhysicalResourceId,
      OldResourceProperties: before,
      ResourceProperties: after,
    });
    expect(response.Status).toBe('SUCCESS');
    expect(imageIdOf(response)).toBe(imageIdOf(created));
    expect((await described(imageIdOf(response))).imageFamily).toBe('golden-web-2');
    expect(response.Data).toMatchObject({ ImageFamily: 'golden-web-2' });
    await remove(resource, created.PhysicalResourceId!, after);
  });

  it('fails at deploy, naming the parameter and the rule, for a family that was a token at synth', async () => {
    const { response } = await run(h, fn, newResource(), {
      RequestType: 'Create',
      ResourceProperties: propertiesFor(putSource(h), { ImageFamily: 'aliyun-golden' }),
    });
    expect(response.Status).toBe('FAILED');
    expect(response.Reason).toContain(
      'ImageFamily "aliyun-golden" is invalid: must not start with "aliyun" or "acs:"',
    );
  });
});

describe('CopySourceTags', () => {
  it("puts the source's tags on the copy, the user's tags winning", async () => {
    const source = putSource(h);
    await tagSource(source, { os: 'linux', team: 'platform' });
    const resource = newResource();
    const properties = propertiesFor(source, { CopySourceTags: true, Tags: { team: 'web' } });
    const response = await create(resource, properties);
    const { tags } = await described(imageIdOf(response));
    expect(tags).toMatchObject({ os: 'linux', team: 'web' });
    expect(tags).toHaveProperty(OWNERSHIP_TAG_KEY);
    await remove(resource, response.PhysicalResourceId!, properties);
  });

  it("copies only as many as fit within ECS's 20 tags, counting the user's and the ownership tag", async () => {
    const source = putSource(h);
    await tagSource(source, tagsOf(20, 's'));
    const resource = newResource();
    const properties = propertiesFor(source, { CopySourceTags: 'true', Tags: tagsOf(15, 'u') });
    const response = await create(resource, properties);
    const { tags } = await described(imageIdOf(response));
    expect(Object.keys(tags)).toHaveLength(MAX_TAGS_PER_IMAGE);
    expect(tags).toMatchObject(tagsOf(15, 'u'));
    expect(Object.keys(tags).filter((key) => key.startsWith('s'))).toHaveLength(4);
    await remove(resource, response.PhysicalResourceId!, properties);
  });

  it("leaves the source's tags off when it is not set", async () => {
    const source = putSource(h);
    await tagSource(source, { os: 'linux' });
    const resource = newResource();
    const properties = propertiesFor(source, { Tags: { team: 'web' } });
    const response = await create(resource, properties);
    expect((await described(imageIdOf(response))).tags).not.toHaveProperty('os');
    await remove(resource, response.PhysicalResourceId!, properties);
  });

  it("adds the source's tags in place when turned on, and removes them when turned off", async () => {
    const source = putSource(h);
    await tagSource(source, { os: 'linux', team: 'platform' });
    const resource = newResource();
    const off = propertiesFor(source, { Tags: { team: 'web' } });
    const created = await create(resource, off);
    const imageId = imageIdOf(created);
    const on = { ...off, CopySourceTags: true };
    const update = async (from: Record<string, unknown>, to: Record<string, unknown>) => {
      const { response } = await run(h, fn, resource, {
        RequestType: 'Update',
        PhysicalResourceId: created.PhysicalResourceId,
        OldResourceProperties: from,
        ResourceProperties: to,
      });
      expect(response.Status).toBe('SUCCESS');
      expect(imageIdOf(response)).toBe(imageId);
    };
    await update(off, on);
    expect((await described(imageId)).tags).toMatchObject({ os: 'linux', team: 'web' });
    await update(on, off);
    const { tags } = await described(imageId);
    expect(tags).not.toHaveProperty('os');
    expect(tags).toMatchObject({ team: 'web' });
    await remove(resource, created.PhysicalResourceId!, off);
  });
});
