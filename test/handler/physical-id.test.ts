/**
 * One PhysicalResourceId for the life of the resource, and a Delete that removes exactly this resource's copies.
 *
 * A Create answers `image-copy-<hash of its RequestId>` (SUCCESS or FAILED); Update and Delete answer with the id they
 * received; the image id travels in `Data`. Every copy carries its instance and request in its ownership tag, and is
 * confirmed once ROS accepted the answer naming it. What a Delete removes depends on the id ROS sends: this
 * version's id (every copy of that instance), the previous version's image id (that image and what replaced it), or
 * anything else, as ROS may send after a failed or unanswered Create (every unconfirmed copy, never a confirmed one).
 */
import { randomUUID } from 'crypto';
import * as $Ecs from '@alicloud/ecs20140526';
import {
  legacyOwnershipTagValue,
  OWNERSHIP_TAG_KEY,
  ownershipRequestHash,
  ownershipTagValue,
  parseOwnershipTag,
  physicalIdFor,
} from '../../lib/protocol';
import {
  answered,
  deliver,
  DESTINATION_REGION,
  type Harness,
  imageIdOf,
  isListed,
  newResource,
  ownedImages,
  putSource,
  type ResourceIdentity,
  run,
  SLOW_SIZE_GIB,
  SOURCE_REGION,
  startCopyAs,
  startHarness,
  stepsOf,
  until,
  untilAsync,
} from './harness';
import { testUrl } from './urls';

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

const tagOf = (imageId: string) =>
  parseOwnershipTag(h.cloud.ecs.getImage(DESTINATION_REGION, imageId)?.tags[OWNERSHIP_TAG_KEY] ?? '');

/** A copy made directly, tagged `ownership`, listed, and Available (or, not `finished`, a minute from it). */
async function taggedCopy(ownership: string, finished = true): Promise<string> {
  const source = putSource(h, finished ? {} : { sizeGiB: SLOW_SIZE_GIB });
  const imageId = await startCopyAs(h, source, { [OWNERSHIP_TAG_KEY]: ownership });
  if (finished) {
    await until(() => h.cloud.ecs.getImage(DESTINATION_REGION, imageId)?.status === 'Available');
  }
  await untilAsync(() => isListed(h, imageId));
  return imageId;
}

const tag = (
  resource: ResourceIdentity,
  requestId: string,
  options: { instance?: string; confirmed?: boolean } = {},
) => ownershipTagValue(resource.StackId, resource.LogicalResourceId, requestId, options);

const exists = (imageId: string) => h.cloud.ecs.getImage(DESTINATION_REGION, imageId) !== undefined;

describe('one physical id for the life of the resource', () => {
  it('answers every request with the id of the Create: in-place update, replacement, failed update, delete', async () => {
    const resource = newResource();
    const name = unique('life');
    const first = propertiesFor(putSource(h), { ImageName: name });
    const { response: created, event } = await run(h, fn, resource, {
      RequestType: 'Create',
      ResourceProperties: first,
    });
    const id = physicalIdFor(String(event.RequestId));
    expect(created).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: id });
    expect(tagOf(imageIdOf(created))).toMatchObject({ confirmed: true });

    const second = { ...first, Description: 'renamed in place' };
    const { response: inPlace } = await run(h, fn, resource, {
      RequestType: 'Update',
      PhysicalResourceId: id,
      OldResourceProperties: first,
      ResourceProperties: second,
    });
    expect(inPlace).toMatchObject({
      Status: 'SUCCESS',
      PhysicalResourceId: id,
      Data: { ImageId: imageIdOf(created) },
    });

    const third = { ...second, SourceImageId: putSource(h) };
    const { response: replaced, event: replacing } = await run(h, fn, resource, {
      RequestType: 'Update',
      PhysicalResourceId: id,
      OldResourceProperties: second,
      ResourceProperties: third,
    });
    expect(replaced).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: id });
    expect(imageIdOf(replaced)).not.toBe(imageIdOf(created));
    expect(tagOf(imageIdOf(replaced))).toEqual({
      owner: `${resource.StackId}/Copy`,
      instance: ownershipRequestHash(String(event.RequestId)),
      request: ownershipRequestHash(String(replacing.RequestId)),
      confirmed: true,
      retired: false,
      legacy: false,
    });

    const { response: failed } = await run(h, fn, resource, {
      RequestType: 'Update',
      PhysicalResourceId: id,
      OldResourceProperties: third,
      ResourceProperties: { ...third, SourceImageId: 'm-bp1doesnotexist0001' },
    });
    expect(failed).toMatchObject({ Status: 'FAILED', PhysicalResourceId: id });

    const { response: deleted } = await run(h, fn, resource, {
      RequestType: 'Delete',
      PhysicalResourceId: id,
      ResourceProperties: third,
    });
    expect(deleted).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: id });
    expect(ownedImages(h, resource)).toEqual([]);
  });

  it('confirms, on an Update, a current copy whose confirmation was lost after ROS accepted the Create', async () => {
    const resource = newResource();
    const properties = propertiesFor(putSource(h), { ImageName: unique('unconfirmed') });
    const { response: created, event } = await run(h, fn, resource, {
      RequestType: 'Create',
      ResourceProperties: properties,
    });
    const imageId = imageIdOf(created);
    // As if the invocation died between ROS's 2xx and the confirming tag write.
    await h.ecs.tagResources(
      new $Ecs.TagResourcesRequest({
        regionId: DESTINATION_REGION,
        resourceType: 'image',
        resourceId: [imageId],
        tag: [
          new $Ecs.TagResourcesRequestTag({
            key: OWNERSHIP_TAG_KEY,
            value: tag(resource, String(event.RequestId)),
          }),
        ],
      }),
    );
    expect(tagOf(imageId)?.confirmed).toBe(false);
    const { response } = await run(h, fn, resource, {
      RequestType: 'Update',
      PhysicalResourceId: created.PhysicalResourceId,
      OldResourceProperties: properties,
      ResourceProperties: { ...properties, Tags: { now: 'tagged' } },
    });
    expect(response).toMatchObject({ Status: 'SUCCESS', Data: { ImageId: imageId } });
    expect(tagOf(imageId)?.confirmed).toBe(true);
  });
});

// One at a time: each holds a place in the region's copy queue with a copy a minute long, until its Delete.
describe('Delete removes exactly the copies its physical id names', () => {
  it("this version's id: every copy of that instance, Available or not, confirmed or not; no other instance's", async () => {
    const resource = newResource();
    const createRequest = randomUUID();
    const instance = ownershipRequestHash(createRequest);
    const current = await taggedCopy(tag(resource, createRequest, { confirmed: true }));
    const unconfirmed = await taggedCopy(tag(resource, randomUUID(), { instance }));
    const running = await taggedCopy(tag(resource, randomUUID(), { instance }), false);
    const otherInstance = await taggedCopy(tag(resource, randomUUID()));
    const otherInstanceConfirmed = await taggedCopy(tag(resource, randomUUID(), { confirmed: true }));
    const someoneElses = await taggedCopy(tag(newResource(), createRequest));
    const { response } = await run(h, fn, resource, {
      RequestType: 'Delete',
      PhysicalResourceId: physicalIdFor(createRequest),
      ResourceProperties: propertiesFor(putSource(h)),
    });
    expect(response.Status).toBe('SUCCESS');
    expect([current, unconfirmed, running].filter(exists)).toEqual([]);
    expect([otherInstance, otherInstanceConfirmed, someoneElses].filter(exists)).toEqual([
      otherInstance,
      otherInstanceConfirmed,
      someoneElses,
    ]);
  });

  it.each(['Copy', '', 'Copy-never-created'])(
    'an id not ours (%j, after a failed or unanswered Create): every unconfirmed copy, Available included, never a confirmed one',
    async (physicalId) => {
      const resource = newResource();
      const confirmed = await taggedCopy(tag(resource, randomUUID(), { confirmed: true }));
      const unconfirmedAvailable = await taggedCopy(tag(resource, randomUUID()));
      const unconfirmedRunning = await taggedCopy(tag(resource, randomUUID()), false);
      const legacyAvailable = await taggedCopy(
        legacyOwnershipTagValue(resource.StackId, 'Copy', randomUUID()),
      );
      const someoneElses = await taggedCopy(tag(newResource(), randomUUID()));
      const { response } = await run(h, fn, resource, {
        RequestType: 'Delete',
        ...(physicalId ? { PhysicalResourceId: physicalId } : {}),
        ResourceProperties: propertiesFor(putSource(h)),
      });
      expect(response.Status).toBe('SUCCESS');
      expect([unconfirmedAvailable, unconfirmedRunning].filter(exists)).toEqual([]);
      // A confirmed copy is a live instance's image; an Available one of the previous version may be one too.
      expect([confirmed, legacyAvailable, someoneElses].filter(exists)).toEqual([
        confirmed,
        legacyAvailable,
        someoneElses,
      ]);
    },
  );

  it("the previous version's image id: that image, what replaced it since, and its leftovers that never became an image", async () => {
    const resource = newResource();
    const legacyImage = await taggedCopy(legacyOwnershipTagValue(resource.StackId, 'Copy', randomUUID()));
    const replacedSince = await taggedCopy(
      tag(resource, randomUUID(), { instance: ownershipRequestHash(legacyImage), confirmed: true }),
    );
    const legacyLeftover = await taggedCopy(
      legacyOwnershipTagValue(resource.StackId, 'Copy', randomUUID()),
      false,
    );
    const otherInstance = await taggedCopy(tag(resource, randomUUID()));
    const { response } = await run(h, fn, resource, {
      RequestType: 'Delete',
      PhysicalResourceId: legacyImage,
      ResourceProperties: propertiesFor(putSource(h)),
    });
    expect(response).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: legacyImage });
    expect([legacyImage, replacedSince, legacyLeftover].filter(exists)).toEqual([]);
    expect(exists(otherInstance)).toBe(true);
  });
});

describe('a resource created by the previous version (its physical id is its image id)', () => {
  it('is updated in place on that image, replaced under the same id, and the replacement found by the next update', async () => {
    const resource = newResource();
    const name = unique('legacy');
    const first = propertiesFor(putSource(h), { ImageName: name });
    const legacyImage = await startCopyAs(
      h,
      first.SourceImageId,
      { [OWNERSHIP_TAG_KEY]: legacyOwnershipTagValue(resource.StackId, 'Copy', randomUUID()) },
      name,
    );
    await until(() => h.cloud.ecs.getImage(DESTINATION_REGION, legacyImage)?.status === 'Available');
    await untilAsync(() => isListed(h, legacyImage));

    const second = { ...first, Tags: { team: 'web' } };
    const { response: inPlace } = await run(h, fn, resource, {
      RequestType: 'Update',
      PhysicalResourceId: legacyImage,
      OldResourceProperties: first,
      ResourceProperties: second,
    });
    expect(inPlace).toMatchObject({
      Status: 'SUCCESS',
      PhysicalResourceId: legacyImage,
      Data: { ImageId: legacyImage },
    });
    expect(h.cloud.ecs.getImage(DESTINATION_REGION, legacyImage)?.tags.team).toBe('web');

    const third = { ...second, SourceImageId: putSource(h) };
    const { response: replaced } = await run(h, fn, resource, {
      RequestType: 'Update',
      PhysicalResourceId: legacyImage,
      OldResourceProperties: second,
      ResourceProperties: third,
    });
    expect(replaced).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: legacyImage });
    const newImage = imageIdOf(replaced);
    expect(exists(legacyImage)).toBe(false);
    expect(tagOf(newImage)).toMatchObject({ instance: ownershipRequestHash(legacyImage), confirmed: true });

    const { response: renamed } = await run(h, fn, resource, {
      RequestType: 'Update',
      PhysicalResourceId: legacyImage,
      OldResourceProperties: third,
      ResourceProperties: { ...third, Tags: { team: 'ops' } },
    });
    expect(renamed).toMatchObject({ Status: 'SUCCESS', Data: { ImageId: newImage } });

    const { response: deleted } = await run(h, fn, resource, {
      RequestType: 'Delete',
      PhysicalResourceId: legacyImage,
      ResourceProperties: third,
    });
    expect(deleted.Status).toBe('SUCCESS');
    expect(ownedImages(h, resource)).toEqual([]);
  });
});

describe('a replacement that ROS performs itself (the new resource is created before the old one is deleted)', () => {
  it.concurrent("deleting the old instance leaves the new instance's copy alone", async () => {
    const resource = newResource();
    const { response: old } = await run(h, fn, resource, {
      RequestType: 'Create',
      ResourceProperties: propertiesFor(putSource(h), { ImageName: unique('old') }),
    });
    const { response: renewed } = await run(h, fn, resource, {
      RequestType: 'Create',
      ResourceProperties: propertiesFor(putSource(h), { ImageName: unique('new') }),
    });
    expect(renewed.Status).toBe('SUCCESS');
    expect(renewed.PhysicalResourceId).not.toBe(old.PhysicalResourceId);
    const { response: deleted } = await run(h, fn, resource, {
      RequestType: 'Delete',
      PhysicalResourceId: old.PhysicalResourceId,
      ResourceProperties: {},
    });
    expect(deleted.Status).toBe('SUCCESS');
    expect(ownedImages(h, resource).map((image) => image.imageId)).toEqual([imageIdOf(renewed)]);
  });

  it.concurrent(
    "fails the new resource's create, saying why, when the old instance's copy holds its name, and its rollback keeps the old copy",
    async () => {
      const resource = newResource();
      const properties = propertiesFor(putSource(h), { ImageName: unique('held') });
      const { response: old } = await run(h, fn, resource, {
        RequestType: 'Create',
        ResourceProperties: properties,
      });
      const { response: renewed } = await run(h, fn, resource, {
        RequestType: 'Create',
        ResourceProperties: properties,
      });
      expect(renewed.Status).toBe('FAILED');
      expect(renewed.Reason).toContain(`is already used by image ${imageIdOf(old)}`);
      expect(renewed.Reason).toContain('the copy of another instance of this resource');
      // ROS rolls the failed create back with an id that is not ours: the old instance's confirmed copy stays.
      const { response: rolledBack } = await run(h, fn, resource, {
        RequestType: 'Delete',
        PhysicalResourceId: 'Copy',
        ResourceProperties: properties,
      });
      expect(rolledBack.Status).toBe('SUCCESS');
      expect(ownedImages(h, resource).map((image) => image.imageId)).toEqual([imageIdOf(old)]);
    },
  );
});

describe('a Create whose answer never reached ROS', () => {
  it.concurrent.each([
    ['the logical id', () => 'Copy'],
    ['no id at all', () => undefined],
    ['the id the answer carried', (requestId: string) => physicalIdFor(requestId)],
  ] as const)(
    'leaves its copy unconfirmed, and the Delete that follows with %s removes it, Available included',
    async (_what, idFor) => {
      const resource = newResource();
      const url = await testUrl(500);
      const shortFunction = h.deployHandler({ timeoutSeconds: 5 });
      const requestId = randomUUID();
      const properties = propertiesFor(putSource(h), { ImageName: unique('unanswered') });
      try {
        await h.cloud.fc.invoke(
          DESTINATION_REGION,
          shortFunction,
          Buffer.from(
            JSON.stringify({
              RequestType: 'Create',
              ResponseURL: url.url,
              StackId: resource.StackId,
              StackName: resource.StackName,
              RegionId: DESTINATION_REGION,
              RequestId: requestId,
              ResourceType: 'Custom::ImageCopy',
              LogicalResourceId: resource.LogicalResourceId,
              ResourceProperties: properties,
            }),
          ),
          { async: true },
        );
        // The answer failed for the whole invocation that did the work: it was handed over.
        await until(
          () => stepsOf(h, shortFunction).some((step) => step.step === 'answer-handed-over'),
          30_000,
        );
        const [copy] = ownedImages(h, resource);
        expect(copy.status).toBe('Available');
        expect(tagOf(copy.imageId)?.confirmed).toBe(false);
        const id = idFor(requestId);
        // Not `run`: it waits for every invocation to end, and the hand-overs go on while the URL fails.
        const deletion = await deliver(h, fn, resource, {
          RequestType: 'Delete',
          ...(id ? { PhysicalResourceId: id } : {}),
          ResourceProperties: properties,
        });
        expect((await answered(deletion.callback)).Status).toBe('SUCCESS');
        expect(ownedImages(h, resource)).toEqual([]);
      } finally {
        // ROS no longer waits: the handed-over answer is refused, and the hand-overs end.
        url.answerWith(404);
        await until(() => stepsOf(h, shortFunction).some((step) => step.step === 'response-refused'), 30_000);
        await url.close();
      }
    },
  );
});
