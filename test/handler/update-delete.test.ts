/**
 * Update and Delete, run by the bundled handler zip inside LocalCloud's Function Compute with the provider's role
 * policy.
 */
import { randomUUID } from 'crypto';
import * as $Ecs from '@alicloud/ecs20140526';
import {
  legacyOwnershipTagValue,
  OWNERSHIP_TAG_KEY,
  ownershipRequestHash,
  ownershipTagValue,
  physicalIdFor,
} from '../../lib/protocol';
import {
  answered,
  DESTINATION_REGION,
  deliver,
  type Harness,
  eventFor,
  imageIdOf,
  invokeAsync,
  isListed,
  MEDIUM_SIZE_GIB,
  newResource,
  ownedImages,
  putSource,
  type ResourceIdentity,
  run,
  SLOW_SIZE_GIB,
  SOURCE_REGION,
  STEADY_SIZE_GIB,
  startCopyAs,
  startHarness,
  stepsOf,
  until,
  untilAsync,
} from './harness';
import { goneUrl } from './urls';

let h: Harness;
let fn: string;

beforeAll(async () => {
  h = await startHarness();
  fn = h.deployHandler();
});
afterAll(() => h.stop());

const unique = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;

const propertiesFor = <T extends object = object>(sourceImageId: string, extra: T = {} as T) => ({
  SourceImageId: sourceImageId,
  SourceRegionId: SOURCE_REGION,
  DestinationRegionId: DESTINATION_REGION,
  ...extra,
});

/** The change in ECS call counts while `body` runs. */
async function callsDuring(body: () => Promise<unknown>): Promise<Record<string, number>> {
  const before = h.cloud.ecs.callCounts();
  await body();
  const after = h.cloud.ecs.callCounts();
  return Object.fromEntries(
    Object.entries(after)
      .map(([action, count]) => [action, count - (before[action] ?? 0)] as const)
      .filter(([, delta]) => delta > 0),
  );
}

/** What a Create through the handler made: the instance's physical id, its image, the Create's request id. */
interface Created {
  readonly physicalId: string;
  readonly imageId: string;
  readonly requestId: string;
}

/** Creates a copy through the handler. */
async function created(resource: ResourceIdentity, properties: Record<string, unknown>): Promise<Created> {
  const { response, event } = await run(h, fn, resource, {
    RequestType: 'Create',
    ResourceProperties: properties,
  });
  expect(response.Status).toBe('SUCCESS');
  const requestId = String(event.RequestId);
  expect(response.PhysicalResourceId).toBe(physicalIdFor(requestId));
  return { physicalId: response.PhysicalResourceId!, imageId: imageIdOf(response), requestId };
}

/** A finished copy owned by `resource` (started by some earlier request, as ownership tags it), made directly. */
async function finishedCopy(
  resource: ResourceIdentity,
  ownership = ownershipTagValue(resource.StackId, resource.LogicalResourceId, randomUUID()),
): Promise<string> {
  const imageId = await startCopyAs(h, putSource(h), { [OWNERSHIP_TAG_KEY]: ownership });
  await until(() => h.cloud.ecs.getImage(DESTINATION_REGION, imageId)?.status === 'Available');
  await untilAsync(() => isListed(h, imageId));
  return imageId;
}
// Tests that count ECS calls, inject faults or hold a place in the copy queue for long run one at a time.
describe('Update', () => {
  it('renames, re-describes, re-tags and moves the copy in place, calling only what changed', async () => {
    const resource = newResource();
    const source = putSource(h);
    const before = propertiesFor(source, {
      ImageName: unique('before'),
      Description: 'first words',
      Tags: { a: '1', b: '2', c: '3' },
    });
    const { physicalId, imageId } = await created(resource, before);
    const ownership = h.cloud.ecs.getImage(DESTINATION_REGION, imageId)!.tags[OWNERSHIP_TAG_KEY];
    const after = propertiesFor(source, {
      ImageName: unique('after'),
      Description: 'second words',
      Tags: { a: '1', b: '20', d: '4' },
      ResourceGroupId: 'rg-acfmtest01',
    });
    let response;
    const calls = await callsDuring(async () => {
      ({ response } = await run(h, fn, resource, {
        RequestType: 'Update',
        PhysicalResourceId: physicalId,
        OldResourceProperties: before,
        ResourceProperties: after,
      }));
    });
    expect(response).toMatchObject({
      Status: 'SUCCESS',
      PhysicalResourceId: physicalId,
      Data: { ImageId: imageId, ImageName: after.ImageName, SourceImageId: source },
    });
    expect(h.cloud.ecs.getImage(DESTINATION_REGION, imageId)).toMatchObject({
      imageName: after.ImageName,
      description: 'second words',
      resourceGroupId: 'rg-acfmtest01',
      tags: { a: '1', b: '20', d: '4', [OWNERSHIP_TAG_KEY]: ownership },
    });
    // One DescribeImages finds the instance's current copy by its ownership tag.
    expect(calls).toEqual({
      DescribeImages: 1,
      ModifyImageAttribute: 1,
      UntagResources: 1,
      TagResources: 1,
      JoinResourceGroup: 1,
    });
  });

  it('updates in place, never replacing, when an Update carries no OldResourceProperties', async () => {
    const resource = newResource();
    const before = propertiesFor(putSource(h), { ImageName: unique('orphan'), Tags: { a: '1' } });
    const { physicalId, imageId } = await created(resource, before);
    const after = { ...before, ImageName: unique('orphan2'), Tags: { b: '2' } };
    let response;
    const calls = await callsDuring(async () => {
      ({ response } = await run(h, fn, resource, {
        RequestType: 'Update',
        PhysicalResourceId: physicalId,
        ResourceProperties: after,
      }));
    });
    expect(response).toMatchObject({
      Status: 'SUCCESS',
      PhysicalResourceId: physicalId,
      Data: { ImageId: imageId },
    });
    expect(calls.CopyImage).toBeUndefined();
    expect(h.cloud.ecs.getImage(DESTINATION_REGION, imageId)).toMatchObject({
      imageName: after.ImageName,
      tags: expect.objectContaining({ a: '1', b: '2' }),
    });
  });

  it('makes no ECS change when only Force or the timeouts change', async () => {
    const resource = newResource();
    const before = propertiesFor(putSource(h), { ImageName: unique('steady') });
    const { physicalId } = await created(resource, before);
    let response;
    const calls = await callsDuring(async () => {
      ({ response } = await run(h, fn, resource, {
        RequestType: 'Update',
        PhysicalResourceId: physicalId,
        OldResourceProperties: before,
        ResourceProperties: {
          ...before,
          Force: 'true',
          CreateTimeoutSeconds: '1200',
          DeleteTimeoutSeconds: 900,
        },
      }));
    });
    expect(response).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: physicalId });
    expect(calls).toEqual({ DescribeImages: 1 });
  });

  it('answers a duplicate delivery of a replacement with the same id and new copy under its final name', async () => {
    const resource = newResource();
    const name = unique('twin');
    const before = propertiesFor(putSource(h), { ImageName: name });
    const { physicalId, imageId: oldId } = await created(resource, before);
    const request = {
      RequestType: 'Update' as const,
      RequestId: randomUUID(),
      PhysicalResourceId: physicalId,
      OldResourceProperties: before,
      ResourceProperties: { ...before, SourceImageId: putSource(h) },
    };
    // The first delivery's rename is slow, so the second reaches its own answer first.
    let renames = 0;
    h.fault = async (product, action) => {
      if (product === 'ecs' && action === 'ModifyImageAttribute' && ++renames === 1) {
        await new Promise((resolve) => setTimeout(resolve, 3_000).unref());
      }
      return undefined;
    };
    const first = await deliver(h, fn, resource, request);
    await until(() => ownedImages(h, resource).length > 1);
    const second = await deliver(h, fn, resource, request);
    const answers = await Promise.all([answered(first.callback), answered(second.callback)]).finally(() => {
      h.fault = undefined;
    });
    await h.cloud.fc.settled();
    const newId = imageIdOf(answers[0]);
    expect(newId).not.toBe(oldId);
    for (const answer of answers) {
      expect(answer).toMatchObject({
        Status: 'SUCCESS',
        PhysicalResourceId: physicalId,
        Data: { ImageId: newId, ImageName: name },
      });
    }
    expect(ownedImages(h, resource).map((image) => [image.imageId, image.imageName])).toEqual([
      [newId, name],
    ]);
  });
});

// These work on their own resources and images only, so they run at once: most of their time is waiting.
describe('Update, independent cases', () => {
  it.concurrent(
    'moves the copy to another destination region, removing the old one, and deletes it there',
    async () => {
      const resource = newResource();
      const before = propertiesFor(putSource(h), { ImageName: unique('mover') });
      const { physicalId, imageId: oldId } = await created(resource, before);
      const after = { ...before, DestinationRegionId: 'cn-beijing' };
      const { response } = await run(h, fn, resource, {
        RequestType: 'Update',
        PhysicalResourceId: physicalId,
        OldResourceProperties: before,
        ResourceProperties: after,
      });
      expect(response).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: physicalId });
      const newId = imageIdOf(response);
      expect(response.Data).toMatchObject({
        ImageId: newId,
        RegionId: 'cn-beijing',
        ImageName: before.ImageName,
      });
      expect(h.cloud.ecs.getImage(DESTINATION_REGION, oldId)).toBeUndefined();
      expect(h.cloud.ecs.getImage('cn-beijing', newId)).toMatchObject({
        status: 'Available',
        imageName: before.ImageName,
      });
      const { response: deleted } = await run(h, fn, resource, {
        RequestType: 'Delete',
        PhysicalResourceId: physicalId,
        ResourceProperties: after,
      });
      expect(deleted).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: physicalId });
      expect(h.cloud.ecs.getImage('cn-beijing', newId)).toBeUndefined();
    },
  );

  it.concurrent(
    'keeps the old copy and removes the new one when the old copy cannot be removed (in use, no Force)',
    async () => {
      const resource = newResource();
      const before = propertiesFor(putSource(h), { ImageName: unique('busy') });
      const { physicalId, imageId: oldId } = await created(resource, before);
      h.cloud.ecs.setInUse(DESTINATION_REGION, oldId, true);
      const { response } = await run(h, fn, resource, {
        RequestType: 'Update',
        PhysicalResourceId: physicalId,
        OldResourceProperties: before,
        ResourceProperties: { ...before, SourceImageId: putSource(h) },
      });
      expect(response).toMatchObject({ Status: 'FAILED', PhysicalResourceId: physicalId });
      expect(response.Reason).toContain(`the old copy ${oldId} could not be removed`);
      expect(response.Reason).toContain('ImageUsingByInstance');
      expect(response.Reason).toContain('The replacement copy was removed and the old copy kept.');
      expect(ownedImages(h, resource).map((image) => image.imageId)).toEqual([oldId]);
      expect(h.cloud.ecs.getImage(DESTINATION_REGION, oldId)).toMatchObject({
        status: 'Available',
        imageName: before.ImageName,
      });
    },
  );

  it.concurrent(
    'replaces the copy on a new source under the same id: copies anew under the same name, removes the old copy',
    async () => {
      const resource = newResource();
      const name = unique('replaced');
      const before = propertiesFor(putSource(h), { ImageName: name, Tags: { team: 'web' } });
      const { physicalId, imageId: oldId, requestId: createRequestId } = await created(resource, before);
      const newSource = putSource(h);
      const after = { ...before, SourceImageId: newSource };
      const { response, event } = await run(h, fn, resource, {
        RequestType: 'Update',
        PhysicalResourceId: physicalId,
        OldResourceProperties: before,
        ResourceProperties: after,
      });
      expect(response).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: physicalId });
      const newId = imageIdOf(response);
      expect(newId).not.toBe(oldId);
      expect(response.Data).toMatchObject({ ImageId: newId, SourceImageId: newSource, ImageName: name });
      expect(h.cloud.ecs.getImage(DESTINATION_REGION, oldId)).toBeUndefined();
      expect(h.cloud.ecs.getImage(DESTINATION_REGION, newId)).toMatchObject({
        status: 'Available',
        imageName: name,
        sourceImageId: newSource,
        tags: {
          team: 'web',
          // The Create's instance, the Update's request, confirmed once ROS accepted the answer.
          [OWNERSHIP_TAG_KEY]: ownershipTagValue(resource.StackId, 'Copy', String(event.RequestId), {
            instance: ownershipRequestHash(createRequestId),
            confirmed: true,
          }),
        },
      });

      // The Delete that follows (with the same id) removes the new copy.
      const { response: deleted } = await run(h, fn, resource, {
        RequestType: 'Delete',
        PhysicalResourceId: physicalId,
        ResourceProperties: after,
      });
      expect(deleted).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: physicalId });
      expect(ownedImages(h, resource)).toEqual([]);
    },
  );

  it.concurrent(
    'fails an in-place update of an image deleted outside the stack, saying what to do',
    async () => {
      const resource = newResource();
      const before = propertiesFor(putSource(h), { ImageName: unique('vanishing') });
      const { physicalId, imageId } = await created(resource, before);
      await h.ecs.deleteImage(new $Ecs.DeleteImageRequest({ regionId: DESTINATION_REGION, imageId }));
      const { response } = await run(h, fn, resource, {
        RequestType: 'Update',
        PhysicalResourceId: physicalId,
        OldResourceProperties: before,
        ResourceProperties: { ...before, Description: 'too late' },
      });
      expect(response).toMatchObject({ Status: 'FAILED', PhysicalResourceId: physicalId });
      expect(response.Reason).toContain(
        `The image of this resource (${physicalId}) no longer exists in cn-shanghai`,
      );
      expect(response.Reason).toContain('Change a property that forces a replacement');
    },
  );

  it.concurrent('fails a rename to a name another image holds, naming it', async () => {
    const resource = newResource();
    const taken = h.cloud.ecs.putImage(DESTINATION_REGION, { imageName: unique('taken') });
    const takenName = h.cloud.ecs.getImage(DESTINATION_REGION, taken)!.imageName;
    const before = propertiesFor(putSource(h), { ImageName: unique('mine') });
    const { physicalId, imageId } = await created(resource, before);
    const { response } = await run(h, fn, resource, {
      RequestType: 'Update',
      PhysicalResourceId: physicalId,
      OldResourceProperties: before,
      ResourceProperties: { ...before, ImageName: takenName },
    });
    expect(response).toMatchObject({ Status: 'FAILED', PhysicalResourceId: physicalId });
    expect(response.Reason).toContain(
      `Cannot rename ${imageId} to "${takenName}": another image in cn-shanghai has that name`,
    );
    expect(h.cloud.ecs.getImage(DESTINATION_REGION, imageId)?.imageName).toBe(before.ImageName);
  });

  it.concurrent(
    'keeps the current copy and answers FAILED with the same id when the replacement copy cannot be made',
    async () => {
      const resource = newResource();
      const before = propertiesFor(putSource(h), { ImageName: unique('kept') });
      const { physicalId, imageId: oldId } = await created(resource, before);
      const broken = putSource(h, { status: 'UnAvailable' });
      const { response } = await run(h, fn, resource, {
        RequestType: 'Update',
        PhysicalResourceId: physicalId,
        OldResourceProperties: before,
        ResourceProperties: { ...before, SourceImageId: broken },
      });
      expect(response).toMatchObject({ Status: 'FAILED', PhysicalResourceId: physicalId });
      expect(response.Reason).toMatch(
        /^Replacement failed: Cannot copy the source image .* is not Available/,
      );
      expect(response.Reason).toContain(`The current image ${oldId} is kept.`);
      expect(h.cloud.ecs.getImage(DESTINATION_REGION, oldId)?.status).toBe('Available');
      expect(ownedImages(h, resource).map((image) => image.imageId)).toEqual([oldId]);
    },
  );
});

describe('late deliveries', () => {
  // FC retries a failed asynchronous invocation, and may do so late: after ROS has moved on, even after the stack
  // was deleted. ROS then refuses the answer (its response URL is gone: 404). Such a delivery must not leave a copy
  // that no stack owns, whether ECS still replays its ClientToken (the copy it made is gone) or not.
  it.concurrent.each([
    ['a named copy given a new source', true, 'source'],
    ['an unnamed copy encrypted in its region', false, 'encryption'],
  ] as const)(
    'make no copy when a Create or a replacement Update of %s arrives again after the resource was deleted',
    async (_what, named, change) => {
      const resource = newResource();
      const source = putSource(h);
      const name = named ? { ImageName: unique('late') } : {};
      const create = {
        RequestType: 'Create' as const,
        RequestId: randomUUID(),
        ResourceProperties: propertiesFor(source, name),
      };
      const { response: createdAnswer } = await run(h, fn, resource, create);
      const update = {
        RequestType: 'Update' as const,
        RequestId: randomUUID(),
        PhysicalResourceId: createdAnswer.PhysicalResourceId,
        OldResourceProperties: create.ResourceProperties,
        ResourceProperties: {
          ...create.ResourceProperties,
          ...(change === 'source' ? { SourceImageId: putSource(h) } : { Encrypted: true }),
        },
      };
      const { response: replaced } = await run(h, fn, resource, update);
      expect(replaced.Status).toBe('SUCCESS');
      expect(replaced.PhysicalResourceId).toBe(createdAnswer.PhysicalResourceId);
      expect(imageIdOf(replaced)).not.toBe(imageIdOf(createdAnswer));
      // The copy ends under the name it would have had: the wanted one, or the source's.
      expect(replaced.Data?.ImageName).toBe(createdAnswer.Data?.ImageName);
      const { response: deleted } = await run(h, fn, resource, {
        RequestType: 'Delete',
        PhysicalResourceId: replaced.PhysicalResourceId,
        ResourceProperties: update.ResourceProperties,
      });
      expect(deleted.Status).toBe('SUCCESS');
      expect(ownedImages(h, resource)).toEqual([]);
      const gone = await goneUrl();
      try {
        await Promise.all(
          [update, create].map((late) =>
            invokeAsync(h, fn, { ...eventFor(h.cloud, resource, late), ResponseURL: gone.url }),
          ),
        );
        await h.cloud.fc.settled();
        expect(gone.posts()).toBeGreaterThanOrEqual(2);
        expect(ownedImages(h, resource)).toEqual([]);
      } finally {
        await gone.close();
      }
    },
  );
});

describe('Delete', () => {
  it.each([
    ['listed', 'not-found'],
    ['not listed yet, ECS acting on it by id', 'work'],
  ] as const)('cancels a copy that is still in progress (%s)', async (_listing, hiddenCopyActions) => {
    // Under hiddenCopyActions not-found (the default) ECS acts on a copy only once it lists it: then the Delete of a
    // previous-version resource (its physical id the image) is tested on a listed copy.
    const cloud = hiddenCopyActions === 'work' ? await startHarness({ variants: { hiddenCopyActions } }) : h;
    const handler = cloud === h ? fn : cloud.deployHandler();
    try {
      const resource = newResource();
      const requestId = randomUUID();
      const source = putSource(cloud, { sizeGiB: SLOW_SIZE_GIB });
      // Started directly, as the Create `requestId` would have.
      const imageId = await startCopyAs(cloud, source, {
        [OWNERSHIP_TAG_KEY]: ownershipTagValue(resource.StackId, 'Copy', requestId),
      });
      if (hiddenCopyActions === 'not-found') {
        await untilAsync(() => isListed(cloud, imageId));
      } else {
        expect(await isListed(cloud, imageId)).toBe(false);
      }
      const before = cloud.cloud.ecs.callCounts();
      const { response } = await run(cloud, handler, resource, {
        RequestType: 'Delete',
        PhysicalResourceId: imageId,
        ResourceProperties: propertiesFor(source),
      });
      const after = cloud.cloud.ecs.callCounts();
      expect(response).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: imageId });
      expect(cloud.cloud.ecs.getImage(DESTINATION_REGION, imageId)).toBeUndefined();
      expect((after.CancelCopyImage ?? 0) - (before.CancelCopyImage ?? 0)).toBe(1);
      expect(after.DeleteImage ?? 0).toBe(before.DeleteImage ?? 0);
    } finally {
      if (cloud !== h) {
        await cloud.stop();
      }
    }
  });

  it('answers FAILED when the delete timeout passes before the image is gone', async () => {
    const source = putSource(h, { sizeGiB: SLOW_SIZE_GIB });
    const imageId = await startCopyAs(h, source, {});
    h.cloud.ecs.setCancelSupported(DESTINATION_REGION, imageId, false);
    await untilAsync(() => isListed(h, imageId));
    const { response } = await run(h, fn, newResource(), {
      RequestType: 'Delete',
      PhysicalResourceId: imageId,
      ResourceProperties: propertiesFor(source, { DeleteTimeoutSeconds: 3 }),
    });
    expect(response).toMatchObject({ Status: 'FAILED', PhysicalResourceId: imageId });
    expect(response.Reason).toMatch(
      new RegExp(
        `^The delete timeout of 3 seconds passed before the image ${imageId} in cn-shanghai was gone \\(status Creating at \\d+%\\)\\. Try again, or raise DeleteTimeoutSeconds`,
      ),
    );
    h.cloud.ecs.setCancelSupported(DESTINATION_REGION, imageId, true);
    await h.ecs.cancelCopyImage(new $Ecs.CancelCopyImageRequest({ regionId: DESTINATION_REGION, imageId }));
  });

  it("removes what the previous version's placeholder id left: the copy its failed create started", async () => {
    const resource = newResource();
    const requestId = randomUUID();
    const leftover = await finishedCopy(
      resource,
      legacyOwnershipTagValue(resource.StackId, resource.LogicalResourceId, requestId),
    );
    const placeholder = `image-copy-failed-${ownershipRequestHash(requestId)}`;
    let response;
    const calls = await callsDuring(async () => {
      ({ response } = await run(h, fn, resource, {
        RequestType: 'Delete',
        PhysicalResourceId: placeholder,
        ResourceProperties: { SourceImageId: 'nonsense' },
      }));
    });
    expect(response).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: placeholder });
    expect(h.cloud.ecs.getImage(DESTINATION_REGION, leftover)).toBeUndefined();
    expect(calls).toMatchObject({ DescribeImages: expect.any(Number), DeleteImage: 1 });
  });
});

/**
 * A Delete whose physical id is no image (the rollback of a create that failed), while a copy of this resource that
 * refuses to be cancelled is still running; returns the answer and that copy's id.
 */
async function deleteBesideLeftover(sizeGiB: number, extra: Record<string, unknown>) {
  const resource = newResource();
  const source = putSource(h, { sizeGiB });
  const leftover = await startCopyAs(h, source, {
    [OWNERSHIP_TAG_KEY]: ownershipTagValue(resource.StackId, resource.LogicalResourceId, randomUUID()),
  });
  h.cloud.ecs.setCancelSupported(DESTINATION_REGION, leftover, false);
  // Listed, as it is once the rollback's Delete comes.
  await untilAsync(() => isListed(h, leftover));
  const { response } = await run(h, fn, resource, {
    RequestType: 'Delete',
    PhysicalResourceId: 'Copy-never-created',
    ResourceProperties: propertiesFor(source, extra),
  });
  return { response, leftover };
}

describe('Delete, independent cases', () => {
  it.concurrent('deletes a finished copy and waits until it is gone', async () => {
    const resource = newResource();
    const { physicalId, imageId } = await created(resource, propertiesFor(putSource(h)));
    const { response } = await run(h, fn, resource, {
      RequestType: 'Delete',
      PhysicalResourceId: physicalId,
      ResourceProperties: propertiesFor(putSource(h)),
    });
    expect(response).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: physicalId });
    expect(h.cloud.ecs.getImage(DESTINATION_REGION, imageId)).toBeUndefined();
  });

  it.concurrent(
    'waits for a copy that cannot be cancelled (CancelNotSupported) to finish, then deletes it',
    async () => {
      const resource = newResource();
      // Six seconds: still running when the Delete comes, even on a busy machine (3 s was not, under load).
      const source = putSource(h, { sizeGiB: STEADY_SIZE_GIB });
      const imageId = await startCopyAs(h, source, {});
      h.cloud.ecs.setCancelSupported(DESTINATION_REGION, imageId, false);
      await untilAsync(() => isListed(h, imageId));
      const { response } = await run(h, fn, resource, {
        RequestType: 'Delete',
        PhysicalResourceId: imageId,
        ResourceProperties: propertiesFor(source),
      });
      expect(response).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: imageId });
      expect(h.cloud.ecs.getImage(DESTINATION_REGION, imageId)).toBeUndefined();
      const steps = stepsOf(h, fn)
        .filter((step) => step.imageId === imageId)
        .map((step) => step.step);
      expect(steps).toEqual(
        expect.arrayContaining(['cancel-not-supported', 'wait-for-copy-to-finish', 'delete-requested']),
      );
    },
  );

  it.concurrent(
    "waits for this resource's leftover copy that cannot be cancelled, then deletes it (rollback of a timed-out create)",
    async () => {
      // A create timed out, its cancel was refused, and the rollback's Delete does not carry the copy's id (what ROS
      // sends after a FAILED create is unverified): the Delete must not leave the copy behind to be paid for.
      const { response, leftover } = await deleteBesideLeftover(MEDIUM_SIZE_GIB, {});
      expect(response).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: 'Copy-never-created' });
      expect(h.cloud.ecs.getImage(DESTINATION_REGION, leftover)).toBeUndefined();
      const steps = stepsOf(h, fn)
        .filter((step) => step.imageId === leftover)
        .map((step) => step.step);
      expect(steps).toEqual(
        expect.arrayContaining(['cancel-not-supported', 'wait-for-copy-to-finish', 'delete-requested']),
      );
    },
  );

  it.concurrent(
    'answers FAILED naming a leftover copy that cannot be cancelled and outlasts the delete timeout',
    async () => {
      const { response, leftover } = await deleteBesideLeftover(SLOW_SIZE_GIB, { DeleteTimeoutSeconds: 2 });
      expect(response.Status).toBe('FAILED');
      expect(response.Reason).toMatch(
        new RegExp(
          `^The delete timeout of 2 seconds passed before the leftover copy ${leftover} in cn-shanghai was gone \\(status Creating at \\d+%\\)`,
        ),
      );
      h.cloud.ecs.setCancelSupported(DESTINATION_REGION, leftover, true);
      await h.ecs.cancelCopyImage(
        new $Ecs.CancelCopyImageRequest({ regionId: DESTINATION_REGION, imageId: leftover }),
      );
    },
  );

  it.concurrent('succeeds when the image is already gone', async () => {
    const { response } = await run(h, fn, newResource(), {
      RequestType: 'Delete',
      PhysicalResourceId: 'm-uf6alreadygone00001',
      ResourceProperties: propertiesFor(putSource(h)),
    });
    expect(response).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: 'm-uf6alreadygone00001' });
  });

  it.concurrent('refuses to delete an image used by instances unless Force is set', async () => {
    const resource = newResource();
    const { physicalId, imageId } = await created(resource, propertiesFor(putSource(h)));
    h.cloud.ecs.setInUse(DESTINATION_REGION, imageId, true);
    const properties = propertiesFor(putSource(h));
    const { response: refused } = await run(h, fn, resource, {
      RequestType: 'Delete',
      PhysicalResourceId: physicalId,
      ResourceProperties: properties,
    });
    expect(refused).toMatchObject({ Status: 'FAILED', PhysicalResourceId: physicalId });
    expect(refused.Reason).toContain('ImageUsingByInstance');
    expect(refused.Reason).toContain('set Force (force: true)');
    expect(h.cloud.ecs.getImage(DESTINATION_REGION, imageId)).toBeDefined();

    const { response: forced } = await run(h, fn, resource, {
      RequestType: 'Delete',
      PhysicalResourceId: physicalId,
      ResourceProperties: { ...properties, Force: true },
    });
    expect(forced.Status).toBe('SUCCESS');
    expect(h.cloud.ecs.getImage(DESTINATION_REGION, imageId)).toBeUndefined();
  });

  it.concurrent(
    'deletes while the create of the same resource is still copying: the create then answers FAILED',
    async () => {
      const resource = newResource();
      const source = putSource(h, { sizeGiB: STEADY_SIZE_GIB });
      const properties = propertiesFor(source, { ImageName: unique('raced') });
      const creating = await deliver(h, fn, resource, {
        RequestType: 'Create',
        ResourceProperties: properties,
      });
      // Once the create has seen its copy (a copy never seen counts as not listed yet for a while).
      const poll = await until(() =>
        stepsOf(h, fn).find((step) => step.step === 'poll' && step.requestId === creating.event.RequestId),
      );
      const { response } = await run(h, fn, resource, {
        RequestType: 'Delete',
        PhysicalResourceId: physicalIdFor(String(creating.event.RequestId)),
        ResourceProperties: properties,
      });
      expect(response.Status).toBe('SUCCESS');
      expect(h.cloud.ecs.getImage(DESTINATION_REGION, String(poll.imageId))).toBeUndefined();
      const createAnswer = await creating.response;
      expect(createAnswer.Status).toBe('FAILED');
      expect(createAnswer.Reason).toContain('disappeared before it became Available');
    },
  );
});
