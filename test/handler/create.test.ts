/**
 * Create, run by the bundled handler zip inside LocalCloud's Function Compute with the provider's role policy.
 */
import { randomUUID } from 'crypto';
import { ApiError } from '../../lib/local';
import { OWNERSHIP_TAG_KEY, ownershipTagValue, physicalIdFor } from '../../lib/protocol';
import {
  DESTINATION_REGION,
  deliver,
  type Harness,
  imageIdOf,
  isListed,
  newResource,
  ownedImages,
  putSource,
  run,
  MEDIUM_SIZE_GIB,
  SLOW_SIZE_GIB,
  SOURCE_REGION,
  STEADY_SIZE_GIB,
  startCopyAs,
  startHarness,
  stepsOf,
  until,
  untilAsync,
} from './harness';

let h: Harness;
let fn: string;

beforeAll(async () => {
  h = await startHarness();
  fn = h.deployHandler();
});
afterAll(() => h.stop());
afterEach(() => {
  h.fault = undefined;
});

const unique = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;

const propertiesFor = <T extends object = object>(sourceImageId: string, extra: T = {} as T) => ({
  SourceImageId: sourceImageId,
  SourceRegionId: SOURCE_REGION,
  DestinationRegionId: DESTINATION_REGION,
  ...extra,
});

describe('Create', () => {
  it('copies the image, waits until it is Available and answers SUCCESS with the instance id and the image in Data', async () => {
    // A copy that outlasts the listing delay and the first looks (a shorter one is Available at the first look).
    const source = putSource(h, { sizeGiB: STEADY_SIZE_GIB });
    const resource = newResource();
    const name = unique('web');
    const { response, event } = await run(h, fn, resource, {
      RequestType: 'Create',
      ResourceProperties: propertiesFor(source, {
        ImageName: name,
        Description: 'the web tier',
        Tags: { team: 'web', env: 'prod' },
      }),
    });
    expect(response).toMatchObject({
      Status: 'SUCCESS',
      StackId: resource.StackId,
      RequestId: event.RequestId,
      LogicalResourceId: 'Copy',
    });
    const imageId = imageIdOf(response);
    expect(imageId).toMatch(/^m-/);
    expect(response.PhysicalResourceId).toBe(physicalIdFor(String(event.RequestId)));
    expect(response.Data).toEqual({
      ImageId: imageId,
      RegionId: DESTINATION_REGION,
      SourceImageId: source,
      SourceRegionId: SOURCE_REGION,
      ImageName: name,
      SharedWithAccounts: '',
      ImageFamily: '',
      PreviousImageIds: '',
    });
    const image = h.cloud.ecs.getImage(DESTINATION_REGION, imageId)!;
    expect(image).toMatchObject({ status: 'Available', imageName: name, description: 'the web tier' });
    expect(image.tags).toEqual({
      team: 'web',
      env: 'prod',
      // Confirmed once ROS accepted the answer.
      [OWNERSHIP_TAG_KEY]: ownershipTagValue(resource.StackId, 'Copy', String(event.RequestId), {
        confirmed: true,
      }),
    });
    // It waited through the copy's progress, one structured line per poll.
    const polls = stepsOf(h, fn).filter((step) => step.step === 'poll' && step.imageId === imageId);
    expect(polls.length).toBeGreaterThan(0);
    expect(polls[0]).toMatchObject({
      status: 'Creating',
      requestId: event.RequestId,
      logicalResourceId: 'Copy',
    });
  });

  it('copies into the event region when DestinationRegionId is not given, under the source name', async () => {
    const sourceName = unique('golden');
    const source = putSource(h, { imageName: sourceName });
    const { response } = await run(h, fn, newResource(), {
      RequestType: 'Create',
      ResourceProperties: { SourceImageId: source, SourceRegionId: SOURCE_REGION },
    });
    expect(response.Status).toBe('SUCCESS');
    expect(response.Data).toMatchObject({ RegionId: DESTINATION_REGION, ImageName: sourceName });
    expect(h.cloud.ecs.getImage(DESTINATION_REGION, imageIdOf(response))?.status).toBe('Available');
  });

  it('makes an encrypted copy with the KMS key, in the resource group asked for', async () => {
    const { response } = await run(h, fn, newResource(), {
      RequestType: 'Create',
      ResourceProperties: propertiesFor(putSource(h), {
        ImageName: unique('secret'),
        Encrypted: 'true',
        KmsKeyId: '0e478b7a-4262-4802-b8cb-00d3fb40826f',
        ResourceGroupId: 'rg-acfmcopies',
      }),
    });
    expect(response.Status).toBe('SUCCESS');
    expect(h.cloud.ecs.getImage(DESTINATION_REGION, imageIdOf(response))).toMatchObject({
      encrypted: true,
      kmsKeyId: '0e478b7a-4262-4802-b8cb-00d3fb40826f',
      resourceGroupId: 'rg-acfmcopies',
    });
  });

  it('waits while the copy is queued (Waiting) behind five others in the region', async () => {
    // Five copies of other sources (one source may not be copied twice at once) fill the region's copy slots.
    for (let i = 0; i < 5; i++) {
      await startCopyAs(h, putSource(h, { sizeGiB: STEADY_SIZE_GIB }), {});
    }
    const { response, event } = await run(h, fn, newResource(), {
      RequestType: 'Create',
      ResourceProperties: propertiesFor(putSource(h), { ImageName: unique('queued') }),
    });
    expect(response.Status).toBe('SUCCESS');
    const statuses = stepsOf(h, fn)
      .filter((step) => step.step === 'poll' && step.requestId === event.RequestId)
      .map((step) => step.status);
    expect(statuses[0]).toBe('Waiting');
  });

  it('adopts ExistingImageId without copying: applies name, description and tags and answers with it in Data', async () => {
    const existing = h.cloud.ecs.putImage(DESTINATION_REGION, {
      imageName: unique('imported'),
      description: 'old words',
      tags: { keep: 'me' },
    });
    const copiesBefore = h.cloud.ecs.callCounts().CopyImage ?? 0;
    const resource = newResource();
    const name = unique('adopted');
    const { response, event } = await run(h, fn, resource, {
      RequestType: 'Create',
      ResourceProperties: propertiesFor(putSource(h), {
        ExistingImageId: existing,
        ImageName: name,
        Description: 'new words',
        Tags: { team: 'data' },
      }),
    });
    expect(response).toMatchObject({
      Status: 'SUCCESS',
      PhysicalResourceId: physicalIdFor(String(event.RequestId)),
    });
    expect(response.Data).toMatchObject({ ImageId: existing, ImageName: name, RegionId: DESTINATION_REGION });
    expect(h.cloud.ecs.callCounts().CopyImage ?? 0).toBe(copiesBefore);
    const image = h.cloud.ecs.getImage(DESTINATION_REGION, existing)!;
    expect(image).toMatchObject({ imageName: name, description: 'new words', status: 'Available' });
    expect(image.tags).toEqual({
      keep: 'me',
      team: 'data',
      [OWNERSHIP_TAG_KEY]: ownershipTagValue(resource.StackId, 'Copy', String(event.RequestId), {
        confirmed: true,
      }),
    });
  });

  it('fails to adopt an ExistingImageId that does not exist in the destination region, saying so', async () => {
    const { response, event } = await run(h, fn, newResource(), {
      RequestType: 'Create',
      ResourceProperties: propertiesFor(putSource(h), { ExistingImageId: 'm-uf6doesnotexist0001' }),
    });
    expect(response.Status).toBe('FAILED');
    expect(response.Reason).toContain('ExistingImageId m-uf6doesnotexist0001 was not found in cn-shanghai');
    expect(response.PhysicalResourceId).toBe(physicalIdFor(String(event.RequestId)));
  });

  it('fails to adopt an ExistingImageId that is not Available', async () => {
    const broken = h.cloud.ecs.putImage(DESTINATION_REGION, { status: 'UnAvailable' });
    const { response } = await run(h, fn, newResource(), {
      RequestType: 'Create',
      ResourceProperties: propertiesFor(putSource(h), { ExistingImageId: broken }),
    });
    expect(response.Status).toBe('FAILED');
    expect(response.Reason).toContain(`ExistingImageId ${broken} in cn-shanghai is UnAvailable`);
  });

  it('fails a missing source image with a clear reason and leaves nothing behind', async () => {
    const resource = newResource();
    const { response, event } = await run(h, fn, resource, {
      RequestType: 'Create',
      ResourceProperties: propertiesFor('m-bp1doesnotexist0001', { ImageName: unique('never') }),
    });
    expect(response.Status).toBe('FAILED');
    expect(response.Reason).toMatch(
      /Cannot copy the source image m-bp1doesnotexist0001 in cn-hangzhou: it does not exist .*InvalidImageId\.NotFound/,
    );
    expect(response.PhysicalResourceId).toBe(physicalIdFor(String(event.RequestId)));
    expect(ownedImages(h, resource)).toEqual([]);
  });

  it('fails a source image that is not Available, naming the rule', async () => {
    const source = putSource(h, { status: 'UnAvailable' });
    const resource = newResource();
    const { response } = await run(h, fn, resource, {
      RequestType: 'Create',
      ResourceProperties: propertiesFor(source),
    });
    expect(response.Status).toBe('FAILED');
    expect(response.Reason).toContain('it is not Available (only an Available image can be copied)');
    expect(ownedImages(h, resource)).toEqual([]);
  });

  it('fails when another image already has the name, suggesting ExistingImageId', async () => {
    const name = unique('occupied');
    const holder = h.cloud.ecs.putImage(DESTINATION_REGION, { imageName: name });
    const resource = newResource();
    const { response } = await run(h, fn, resource, {
      RequestType: 'Create',
      ResourceProperties: propertiesFor(putSource(h), { ImageName: name }),
    });
    expect(response.Status).toBe('FAILED');
    expect(response.Reason).toContain(
      `ImageName "${name}" is already used by image ${holder} in cn-shanghai`,
    );
    expect(response.Reason).toContain('adopt that image with ExistingImageId');
    expect(response.Reason).toContain('InvalidImageName.Duplicated');
    expect(ownedImages(h, resource)).toEqual([]);
  });

  it('fails invalid properties before calling ECS, naming the property, the value and the rule', async () => {
    const before = h.cloud.ecs.callCounts().CopyImage ?? 0;
    const { response } = await run(h, fn, newResource(), {
      RequestType: 'Create',
      ResourceProperties: propertiesFor(putSource(h), { ImageName: 'x', KmsKeyId: 'key-1' }),
    });
    expect(response.Status).toBe('FAILED');
    expect(response.Reason).toMatch(/^Invalid ImageCopy properties: .*ImageName.*"x"/);
    expect(response.Reason).toContain('KmsKeyId');
    expect(h.cloud.ecs.callCounts().CopyImage ?? 0).toBe(before);
  });

  it('adopts the copy a duplicate delivery of the same request already started: one copy, the same answer', async () => {
    const source = putSource(h);
    const resource = newResource();
    const request = {
      RequestType: 'Create' as const,
      RequestId: randomUUID(),
      ResourceProperties: propertiesFor(source, { ImageName: unique('twice') }),
    };
    const copiesBefore = h.cloud.ecs.callCounts().CopyImage ?? 0;
    const first = await deliver(h, fn, resource, request);
    const [copy] = await until(() => {
      const images = ownedImages(h, resource);
      return images.length > 0 && images;
    });
    // Listed, so the second delivery finds it by its tag (see the next test for one it cannot see yet).
    await untilAsync(() => isListed(h, copy.imageId));
    const second = await deliver(h, fn, resource, request);
    const [a, b] = await Promise.all([first.response, second.response]);
    await h.cloud.fc.settled();
    expect(a.Status).toBe('SUCCESS');
    expect(b).toEqual(a);
    expect(ownedImages(h, resource).map((image) => image.imageId)).toEqual([imageIdOf(a)]);
    expect((h.cloud.ecs.callCounts().CopyImage ?? 0) - copiesBefore).toBe(1);
    expect(stepsOf(h, fn).some((s) => s.step === 'copy-adopted' && s.imageId === imageIdOf(a))).toBe(true);
  });

  it('starts one copy when the same request is delivered twice at once', async () => {
    const resource = newResource();
    const request = {
      RequestType: 'Create' as const,
      RequestId: randomUUID(),
      ResourceProperties: propertiesFor(putSource(h), { ImageName: unique('together') }),
    };
    const deliveries = await Promise.all([
      deliver(h, fn, resource, request),
      deliver(h, fn, resource, request),
    ]);
    const [a, b] = await Promise.all(deliveries.map((delivery) => delivery.response));
    await h.cloud.fc.settled();
    expect(a.Status).toBe('SUCCESS');
    expect(b.PhysicalResourceId).toBe(a.PhysicalResourceId);
    expect(b.Data).toEqual(a.Data);
    expect(ownedImages(h, resource).map((image) => image.imageId)).toEqual([imageIdOf(a)]);
  });

  it('answers FAILED with the instance id when the copy ends CreateFailed, and the rollback removes the copy', async () => {
    const source = putSource(h, { sizeGiB: MEDIUM_SIZE_GIB });
    const resource = newResource();
    const delivery = await deliver(h, fn, resource, {
      RequestType: 'Create',
      ResourceProperties: propertiesFor(source, { ImageName: unique('doomed') }),
    });
    const [copy] = await until(() => {
      const images = ownedImages(h, resource);
      return images.length > 0 && images;
    });
    h.cloud.ecs.failCopy(DESTINATION_REGION, copy.imageId);
    const response = await delivery.response;
    await h.cloud.fc.settled();
    expect(response.Status).toBe('FAILED');
    expect(response.PhysicalResourceId).toBe(physicalIdFor(String(delivery.event.RequestId)));
    expect(response.Reason).toContain(`The copy ${copy.imageId} of ${source}`);
    expect(response.Reason).toContain('ended in status CreateFailed');
    // The rollback's Delete removes the failed copy.
    const { response: rolledBack } = await run(h, fn, resource, {
      RequestType: 'Delete',
      PhysicalResourceId: response.PhysicalResourceId,
      ResourceProperties: delivery.event.ResourceProperties as Record<string, unknown>,
    });
    expect(rolledBack.Status).toBe('SUCCESS');
    expect(h.cloud.ecs.getImage(DESTINATION_REGION, copy.imageId)).toBeUndefined();
  });

  it('cancels the copy when the create timeout passes and answers FAILED saying how far it got', async () => {
    const source = putSource(h, { sizeGiB: SLOW_SIZE_GIB });
    const resource = newResource();
    const { response, event } = await run(h, fn, resource, {
      RequestType: 'Create',
      ResourceProperties: propertiesFor(source, { ImageName: unique('slow'), CreateTimeoutSeconds: 2 }),
    });
    expect(response.Status).toBe('FAILED');
    expect(response.Reason).toMatch(
      /^The create timeout of 2 seconds passed with the copy m-\w+ of m-\w+ at \d+% \(status Creating\); the copy was cancelled\. Raise CreateTimeoutSeconds/,
    );
    expect(response.PhysicalResourceId).toBe(physicalIdFor(String(event.RequestId)));
    const copyId = /the copy (m-\w+)/.exec(response.Reason!)![1];
    expect(h.cloud.ecs.getImage(DESTINATION_REGION, copyId)).toBeUndefined();
    expect(ownedImages(h, resource)).toEqual([]);
    // The rollback's Delete of the cancelled copy succeeds.
    const { response: rolledBack } = await run(h, fn, resource, {
      RequestType: 'Delete',
      PhysicalResourceId: response.PhysicalResourceId,
      ResourceProperties: propertiesFor(source),
    });
    expect(rolledBack).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: response.PhysicalResourceId });
  });

  it('still cancels the copy at the create timeout when the cancel is throttled at first', async () => {
    let cancels = 0;
    h.fault = (product, action) => {
      if (product === 'ecs' && action === 'CancelCopyImage' && cancels++ === 0) {
        throw new ApiError('Throttling.User', 'Request was denied due to user flow control.', 400);
      }
      return undefined;
    };
    const source = putSource(h, { sizeGiB: SLOW_SIZE_GIB });
    const resource = newResource();
    const { response } = await run(h, fn, resource, {
      RequestType: 'Create',
      ResourceProperties: propertiesFor(source, { ImageName: unique('stubborn'), CreateTimeoutSeconds: 1 }),
    });
    // The throttled cancel, then the one that cancels the copy; one more between them when the retry comes before
    // ECS lists the copy (1.5 s after CopyImage), which under hiddenCopyActions not-found answers that it does not
    // exist yet: a race of a few ms either way, so the count is not exact.
    expect(cancels).toBeGreaterThanOrEqual(2);
    expect(cancels).toBeLessThanOrEqual(3);
    expect(response.Status).toBe('FAILED');
    expect(response.Reason).toMatch(/^The create timeout of 1 second passed .*; the copy was cancelled\./);
    expect(ownedImages(h, resource)).toEqual([]);
  });

  it('survives throttling, 5xx answers and dropped connections on the way', async () => {
    const injected: string[] = [];
    let calls = 0;
    // Every other ECS call fails once, in turn throttled, unavailable (503) and cut off.
    h.fault = (product, action) => {
      if (product !== 'ecs') {
        return undefined;
      }
      calls++;
      if (calls % 2 === 0 || calls > 5) {
        return undefined;
      }
      injected.push(action);
      if (calls === 1) {
        throw new ApiError('Throttling.User', 'Request was denied due to user flow control.', 400, {
          'x-acs-retry-after': '200',
        });
      }
      if (calls === 3) {
        throw new ApiError('ServiceUnavailable', 'The service is unavailable.', 503);
      }
      return 'reset';
    };
    const resource = newResource();
    const { response, event } = await run(h, fn, resource, {
      RequestType: 'Create',
      ResourceProperties: propertiesFor(putSource(h), { ImageName: unique('bumpy') }),
    });
    expect(response.Status).toBe('SUCCESS');
    expect(injected).toEqual(['DescribeImages', 'CopyImage', 'DescribeImages']);
    expect(ownedImages(h, resource).map((image) => image.imageId)).toEqual([imageIdOf(response)]);
    const retries = stepsOf(h, fn).filter((s) => s.step === 'retry' && s.requestId === event.RequestId);
    expect(new Set(retries.map((s) => s.kind))).toEqual(new Set(['throttling', 'unavailable', 'network']));
  });
});
