/**
 * Sharing and previous versions (issue 14), run by the bundled handler inside LocalCloud's Function Compute with the
 * provider's role policy, in a LocalCloud of several accounts: the handler's account owns the copies, the others are
 * sharees. Checked through the real ECS SDK, as the owner and as a sharee. LocalCloud plays each reading of what ECS
 * leaves open (more than 10 accounts in one call, DeleteImage of a shared image): the handler must be right under all.
 */
import Ecs, * as $Ecs from '@alicloud/ecs20140526';
import { $OpenApiUtil } from '@alicloud/openapi-core';
import type { CustomResourceResponse } from '../../lib/local';
import type { CloudVariants } from '../../lib/local/variants';
import { ALL_IMAGE_STATUSES, OWNERSHIP_TAG_KEY, parseOwnershipTag } from '../../lib/protocol';
import {
  BRIEF_SIZE_GIB,
  DESTINATION_REGION,
  type Harness,
  imageIdOf,
  newResource,
  ownedImages,
  putSource,
  type ResourceIdentity,
  run,
  startHarness,
} from './harness';
import { propertiesFor } from '../support/image-copy';
import { unique } from '../support/names';

/** The handler's account and 12 sharees: enough for more than 10 accounts in one change. */
const ACCOUNTS = 13;

const READINGS: Array<[string, Partial<CloudVariants>]> = [
  ['the strictest readings', {}],
  [
    'ECS taking the first ten of a longer list and force-deleting shared images',
    { shareAccountsOverTen: 'first-ten', sharedImageDelete: 'force-deletes' },
  ],
];

describe.each(READINGS)('under %s', (_reading, variants) => {
  let h: Harness;
  let fn: string;
  let sharees: string[];

  beforeAll(async () => {
    h = await startHarness({ accounts: ACCOUNTS, variants });
    fn = h.deployHandler();
    sharees = h.cloud.accounts.slice(1).map((account) => account.accountId);
  });
  afterAll(() => h.stop());

  /** An ECS client of account `index` (0: the handler's). */
  const ecsOf = (index: number) =>
    new Ecs(
      new $OpenApiUtil.Config({
        ...h.cloud.accounts[index].credentials,
        regionId: DESTINATION_REGION,
        endpoint: h.cloud.endpoint,
        protocol: 'http',
      }),
    );

  /** The accounts an image is shared with, as its owner reads them. */
  async function sharedWith(imageId: string): Promise<string[]> {
    const answer = await h.ecs.describeImageSharePermission(
      new $Ecs.DescribeImageSharePermissionRequest({ regionId: DESTINATION_REGION, imageId, pageSize: 100 }),
    );
    return (answer.body!.accounts?.account ?? []).map((account) => account.aliyunId!).sort();
  }

  /** The image as its owner sees it. */
  async function described(imageId: string) {
    const answer = await h.ecs.describeImages(
      new $Ecs.DescribeImagesRequest({
        regionId: DESTINATION_REGION,
        imageId,
        status: ALL_IMAGE_STATUSES.join(','),
        imageOwnerAlias: 'self',
      }),
    );
    const image = answer.body!.images?.image?.find((candidate) => candidate.imageId === imageId);
    return image
      ? {
          status: image.status,
          imageName: image.imageName,
          imageFamily: image.imageFamily ?? '',
          tags: Object.fromEntries((image.tags?.tag ?? []).map((tag) => [tag.tagKey!, tag.tagValue ?? ''])),
        }
      : undefined;
  }

  /** The images shared with account `index` that it sees in the destination region. */
  async function seenBy(index: number): Promise<string[]> {
    const answer = await ecsOf(index).describeImages(
      new $Ecs.DescribeImagesRequest({
        regionId: DESTINATION_REGION,
        imageOwnerAlias: 'others',
        pageSize: 100,
      }),
    );
    return (answer.body!.images?.image ?? []).map((image) => image.imageId!);
  }

  async function request(
    resource: ResourceIdentity,
    spec: Parameters<typeof run>[3],
  ): Promise<CustomResourceResponse> {
    const { response } = await run(h, fn, resource, spec);
    return response;
  }

  async function create(resource: ResourceIdentity, properties: Record<string, unknown>) {
    const response = await request(resource, { RequestType: 'Create', ResourceProperties: properties });
    expect([response.Status, response.Reason]).toEqual(['SUCCESS', undefined]);
    return response;
  }

  async function update(
    resource: ResourceIdentity,
    physicalId: string,
    from: Record<string, unknown>,
    to: Record<string, unknown>,
  ) {
    const response = await request(resource, {
      RequestType: 'Update',
      PhysicalResourceId: physicalId,
      OldResourceProperties: from,
      ResourceProperties: to,
    });
    expect([response.Status, response.Reason]).toEqual(['SUCCESS', undefined]);
    return response;
  }

  async function destroy(
    resource: ResourceIdentity,
    physicalId: string,
    properties: Record<string, unknown>,
  ) {
    const response = await request(resource, {
      RequestType: 'Delete',
      PhysicalResourceId: physicalId,
      ResourceProperties: properties,
    });
    expect([response.Status, response.Reason]).toEqual(['SUCCESS', undefined]);
    expect(ownedImages(h, resource)).toEqual([]);
  }

  const source = () => putSource(h, { sizeGiB: BRIEF_SIZE_GIB });

  describe('SharedWithAccounts', () => {
    it('shares the copy on create, and the sharee sees it and can copy it within the region', async () => {
      const resource = newResource();
      const properties = propertiesFor(source(), {
        ImageName: unique('shared'),
        SharedWithAccounts: [sharees[0]],
      });
      const created = await create(resource, properties);
      const imageId = imageIdOf(created);
      expect(await sharedWith(imageId)).toEqual([sharees[0]]);
      expect(created.Data).toMatchObject({ SharedWithAccounts: sharees[0] });
      expect(await seenBy(1)).toContain(imageId);
      expect(await seenBy(2)).not.toContain(imageId);
      // Usable by the sharee: it may copy the shared image within its region.
      const copied = await ecsOf(1).copyImage(
        new $Ecs.CopyImageRequest({
          regionId: DESTINATION_REGION,
          imageId,
          destinationRegionId: DESTINATION_REGION,
          destinationImageName: unique('sharee-copy'),
        }),
      );
      expect(copied.body!.imageId).toMatch(/^m-/);
      await destroy(resource, created.PhysicalResourceId!, properties);
    });

    it('changes the shares in place: adds and removes accounts, more than 10 at once, 10 per call', async () => {
      const resource = newResource();
      const before = propertiesFor(source(), {
        ImageName: unique('shared'),
        SharedWithAccounts: [sharees[0]],
      });
      const created = await create(resource, before);
      const imageId = imageIdOf(created);
      // One account removed, eleven added.
      const wanted = sharees.slice(1);
      const after = { ...before, SharedWithAccounts: wanted };
      const callsBefore = h.cloud.calls.length;
      const updated = await update(resource, created.PhysicalResourceId!, before, after);
      expect(imageIdOf(updated)).toBe(imageId);
      expect(await sharedWith(imageId)).toEqual([...wanted].sort());
      expect(updated.Data).toMatchObject({ SharedWithAccounts: wanted.join(',') });
      const shareCalls = h.cloud.calls
        .slice(callsBefore)
        .filter((call) => call.action === 'ModifyImageSharePermission' && call.status === 200);
      // One removal, then 10 + 1 additions.
      expect(shareCalls).toHaveLength(3);
      expect(await seenBy(1)).not.toContain(imageId);
      expect(await seenBy(2)).toContain(imageId);
      expect(await seenBy(ACCOUNTS - 1)).toContain(imageId);

      // Removing the prop unshares every account it named.
      const { SharedWithAccounts: _dropped, ...unshared } = after;
      await update(resource, created.PhysicalResourceId!, after, unshared);
      expect(await sharedWith(imageId)).toEqual([]);
      await destroy(resource, created.PhysicalResourceId!, unshared);
    });

    it('unshares every account before the copy is deleted', async () => {
      const resource = newResource();
      const properties = propertiesFor(source(), {
        ImageName: unique('shared'),
        SharedWithAccounts: sharees.slice(0, 3),
      });
      const created = await create(resource, properties);
      const imageId = imageIdOf(created);
      const callsBefore = h.cloud.calls.length;
      await destroy(resource, created.PhysicalResourceId!, properties);
      const actions = h.cloud.calls
        .slice(callsBefore)
        .filter((call) => call.status === 200)
        .map((call) => call.action);
      expect(actions.indexOf('ModifyImageSharePermission')).toBeGreaterThanOrEqual(0);
      expect(actions.indexOf('ModifyImageSharePermission')).toBeLessThan(actions.lastIndexOf('DeleteImage'));
      expect(await seenBy(1)).not.toContain(imageId);
    });

    it('fails at deploy, in the words of the synth rule, to share a copy encrypted with the service key', async () => {
      const response = await request(newResource(), {
        RequestType: 'Create',
        // Encrypted was a token at synth (a stack parameter); it resolved to true, with no customer key.
        ResourceProperties: propertiesFor(source(), { Encrypted: 'true', SharedWithAccounts: [sharees[0]] }),
      });
      expect(response.Status).toBe('FAILED');
      expect(response.Reason).toContain(
        'SharedWithAccounts requires KmsKeyId when Encrypted is true: ECS cannot share an image encrypted with ' +
          'its service key, a customer KMS key is required',
      );
    });
  });

  describe('KeepPreviousVersions', () => {
    /** Releases a new source image (a replacement); returns the answer and the new properties. */
    async function release(
      resource: ResourceIdentity,
      physicalId: string,
      from: Record<string, unknown>,
    ): Promise<{ response: CustomResourceResponse; properties: Record<string, unknown> }> {
      const properties = { ...from, SourceImageId: source() };
      const response = await update(resource, physicalId, from, properties);
      return { response, properties };
    }

    it('keeps the previous copy unshared, renamed and deprecated; deletes the one before; all with the resource (1)', async () => {
      const resource = newResource();
      const name = unique('golden');
      const first = propertiesFor(source(), {
        ImageName: name,
        ImageFamily: 'golden-web',
        SharedWithAccounts: [sharees[0]],
        KeepPreviousVersions: 1,
      });
      const created = await create(resource, first);
      const physicalId = created.PhysicalResourceId!;
      const v1 = imageIdOf(created);

      const second = await release(resource, physicalId, first);
      const v2 = imageIdOf(second.response);
      expect(v2).not.toBe(v1);
      expect(second.response.Data).toMatchObject({
        ImageName: name,
        ImageFamily: 'golden-web',
        SharedWithAccounts: sharees[0],
        PreviousImageIds: v1,
      });
      expect(await described(v2)).toMatchObject({
        status: 'Available',
        imageName: name,
        imageFamily: 'golden-web',
      });
      expect(await sharedWith(v2)).toEqual([sharees[0]]);
      // The previous version: kept, deprecated, unshared, its name freed, still the resource's (retired).
      const kept = await described(v1);
      expect(kept).toMatchObject({ status: 'Deprecated', imageName: `${name}-previous-${v1}` });
      expect(parseOwnershipTag(kept!.tags[OWNERSHIP_TAG_KEY])).toMatchObject({ retired: true });
      expect(await sharedWith(v1)).toEqual([]);
      expect(await seenBy(1)).toEqual(expect.arrayContaining([v2]));
      expect(await seenBy(1)).not.toContain(v1);

      // An in-place change after the release acts on the new copy, never on the kept one.
      const renamed = { ...second.properties, ImageName: `${name}-2` };
      const inPlace = await update(resource, physicalId, second.properties, renamed);
      expect(imageIdOf(inPlace)).toBe(v2);
      expect(inPlace.Data).toMatchObject({ PreviousImageIds: v1 });
      expect(await described(v1)).toMatchObject({
        status: 'Deprecated',
        imageName: `${name}-previous-${v1}`,
      });

      const third = await release(resource, physicalId, renamed);
      const v3 = imageIdOf(third.response);
      expect(third.response.Data).toMatchObject({ PreviousImageIds: v2 });
      expect(await described(v1)).toBeUndefined();
      expect(await described(v2)).toMatchObject({
        status: 'Deprecated',
        imageName: `${name}-2-previous-${v2}`,
      });
      expect(await described(v3)).toMatchObject({ status: 'Available', imageName: `${name}-2` });

      await destroy(resource, physicalId, third.properties);
      expect(await described(v2)).toBeUndefined();
      expect(await described(v3)).toBeUndefined();
    });

    it('keeps two previous copies, newest first, deleting the oldest beyond them, and all with the resource (2)', async () => {
      const resource = newResource();
      const first = propertiesFor(source(), { ImageName: unique('golden'), KeepPreviousVersions: '2' });
      const created = await create(resource, first);
      const physicalId = created.PhysicalResourceId!;
      const v1 = imageIdOf(created);
      const r2 = await release(resource, physicalId, first);
      const v2 = imageIdOf(r2.response);
      const r3 = await release(resource, physicalId, r2.properties);
      const v3 = imageIdOf(r3.response);
      expect(r3.response.Data).toMatchObject({ PreviousImageIds: `${v2},${v1}` });
      const r4 = await release(resource, physicalId, r3.properties);
      expect(r4.response.Data).toMatchObject({ PreviousImageIds: `${v3},${v2}` });
      expect(await described(v1)).toBeUndefined();
      expect((await described(v2))?.status).toBe('Deprecated');
      expect((await described(v3))?.status).toBe('Deprecated');

      // A lowered count deletes the oldest kept copy at once, in place.
      const lowered = { ...r4.properties, KeepPreviousVersions: 1 };
      const inPlace = await update(resource, physicalId, r4.properties, lowered);
      expect(imageIdOf(inPlace)).toBe(imageIdOf(r4.response));
      expect(inPlace.Data).toMatchObject({ PreviousImageIds: v3 });
      expect(await described(v2)).toBeUndefined();

      await destroy(resource, physicalId, lowered);
    });

    it('never takes a kept copy for the current image, even when the new copy’s confirmation was lost', async () => {
      const resource = newResource();
      const name = unique('golden');
      const first = propertiesFor(source(), { ImageName: name, KeepPreviousVersions: 1 });
      const created = await create(resource, first);
      const physicalId = created.PhysicalResourceId!;
      const v1 = imageIdOf(created);
      const r2 = await release(resource, physicalId, first);
      const v2 = imageIdOf(r2.response);
      // ROS accepted the answer, but the tag write that confirms v2 was lost (currentImageOf's documented case).
      const tag = parseOwnershipTag((await described(v2))!.tags[OWNERSHIP_TAG_KEY])!;
      expect(tag).toMatchObject({ confirmed: true, retired: false });
      await h.ecs.tagResources(
        new $Ecs.TagResourcesRequest({
          regionId: DESTINATION_REGION,
          resourceType: 'image',
          resourceId: [v2],
          tag: [
            new $Ecs.TagResourcesRequestTag({
              key: OWNERSHIP_TAG_KEY,
              value: `${tag.owner}#${tag.instance}.${tag.request}`,
            }),
          ],
        }),
      );
      expect(parseOwnershipTag((await described(v2))!.tags[OWNERSHIP_TAG_KEY])).toMatchObject({
        confirmed: false,
      });
      const renamed = { ...r2.properties, ImageName: `${name}-2` };
      const inPlace = await update(resource, physicalId, r2.properties, renamed);
      expect(imageIdOf(inPlace)).toBe(v2);
      expect(await described(v2)).toMatchObject({ status: 'Available', imageName: `${name}-2` });
      expect(await described(v1)).toMatchObject({
        status: 'Deprecated',
        imageName: `${name}-previous-${v1}`,
      });
      await destroy(resource, physicalId, renamed);
    });

    it('never lets a Delete after a failed create take a kept copy', async () => {
      const resource = newResource();
      const first = propertiesFor(source(), { ImageName: unique('golden'), KeepPreviousVersions: 1 });
      const created = await create(resource, first);
      const physicalId = created.PhysicalResourceId!;
      const v1 = imageIdOf(created);
      const r2 = await release(resource, physicalId, first);
      // What ROS sends after a failed or unanswered Create of the same logical resource: not this instance's id.
      const foreign = await request(resource, {
        RequestType: 'Delete',
        PhysicalResourceId: `${resource.LogicalResourceId}-never-created`,
        ResourceProperties: r2.properties,
      });
      expect(foreign.Status).toBe('SUCCESS');
      expect((await described(v1))?.status).toBe('Deprecated');
      expect((await described(imageIdOf(r2.response)))?.status).toBe('Available');
      await destroy(resource, physicalId, r2.properties);
    });
  });
});
