/**
 * The copies of an `ImageReplication` (`ReplicaRegionIds`) where ECS refuses to copy one source twice at once
 * (`copyConflict`): a copy refused on the source copies from another region's finished copy of the same source
 * instead (each carries the reserved source tag), and falls back to the source when that copy fails.
 */
import { randomUUID } from 'crypto';
import * as $Ecs from '@alicloud/ecs20140526';
import { SOURCE_TAG_KEY, sourceTagValue } from '../../lib/protocol';
import {
  type Harness,
  imageIdOf,
  MEDIUM_SIZE_GIB,
  newResource,
  putSource,
  run,
  deliver,
  answered,
  SLOW_SIZE_GIB,
  SOURCE_REGION,
  startHarness,
  stepsOf,
  until,
} from './harness';

const SH = 'cn-shanghai';
const BJ = 'cn-beijing';
const SZ = 'cn-shenzhen';
const QD = 'cn-qingdao';

const unique = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;

/** The properties of the replication's copy into `regionId`, the others being `regions`. */
const memberOf = (source: string, regionId: string, regions: readonly string[], name = unique('fan')) => ({
  SourceImageId: source,
  SourceRegionId: SOURCE_REGION,
  DestinationRegionId: regionId,
  ImageName: name,
  ReplicaRegionIds: regions.filter((region) => region !== regionId),
});

async function blockingCopy(h: Harness, source: string, regionId: string): Promise<string> {
  const answer = await h.ecs.copyImage(
    new $Ecs.CopyImageRequest({
      regionId: SOURCE_REGION,
      imageId: source,
      destinationRegionId: regionId,
      destinationImageName: unique('blocker'),
    }),
  );
  return answer.body!.imageId!;
}

const cancel = (h: Harness, regionId: string, imageId: string) =>
  h.ecs.cancelCopyImage(new $Ecs.CancelCopyImageRequest({ regionId, imageId })).catch(() => undefined);

describe('copyConflict: any-destination', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ variants: { copyConflict: 'any-destination' } });
  });
  afterAll(() => h.stop());

  it("copies from another region's finished copy of the source while the source is being copied", async () => {
    const fn = h.deployHandler();
    const source = putSource(h, { sizeGiB: MEDIUM_SIZE_GIB });
    const regions = [SH, BJ];
    const { response: first } = await run(h, fn, newResource('FanSh'), {
      RequestType: 'Create',
      ResourceProperties: memberOf(source, SH, regions),
    });
    expect(first.Status).toBe('SUCCESS');
    const peer = imageIdOf(first);
    expect(h.cloud.ecs.getImage(SH, peer)?.tags[SOURCE_TAG_KEY]).toBe(
      sourceTagValue(SOURCE_REGION, source, false),
    );
    const blocker = await blockingCopy(h, source, SZ);
    try {
      const { response, event } = await run(h, fn, newResource('FanBj'), {
        RequestType: 'Create',
        ResourceProperties: memberOf(source, BJ, regions),
      });
      expect(response.Status).toBe('SUCCESS');
      const copy = h.cloud.ecs.getImage(BJ, imageIdOf(response))!;
      // Made from the peer's copy, not from the source, and a complete copy of the same source in turn.
      expect(copy).toMatchObject({ sourceImageId: peer, sourceRegionId: SH, status: 'Available' });
      expect(copy.tags[SOURCE_TAG_KEY]).toBe(sourceTagValue(SOURCE_REGION, source, false));
      expect(
        stepsOf(h, fn).filter((step) => step.step === 'copy-from-peer' && step.requestId === event.RequestId),
      ).toEqual([expect.objectContaining({ peerRegionId: SH, peerImageId: peer })]);
    } finally {
      await cancel(h, SZ, blocker);
    }
  });

  it('falls back to the source itself when the copy from a peer fails', async () => {
    const fn = h.deployHandler();
    const source = putSource(h, { sizeGiB: MEDIUM_SIZE_GIB });
    const regions = [SH, QD];
    const { response: first } = await run(h, fn, newResource('FanSh'), {
      RequestType: 'Create',
      ResourceProperties: memberOf(source, SH, regions),
    });
    const peer = imageIdOf(first);
    const blocker = await blockingCopy(h, putSource(h), SZ);
    const sourceBlocker = await blockingCopy(h, source, SZ);
    try {
      const member = await deliver(h, fn, newResource('FanQd'), {
        RequestType: 'Create',
        ResourceProperties: memberOf(source, QD, regions),
      });
      const fromPeer = await until(() =>
        stepsOf(h, fn).find(
          (step) => step.step === 'copy-from-peer' && step.requestId === member.event.RequestId,
        ),
      );
      // The peer's copy is replaced or deleted while it is copied from: the copy made from it fails.
      h.cloud.ecs.failCopy(QD, String(fromPeer.imageId));
      await cancel(h, SZ, sourceBlocker);
      const response = await answered(member.callback);
      await h.cloud.fc.settled();
      expect(response.Status).toBe('SUCCESS');
      const copy = h.cloud.ecs.getImage(QD, imageIdOf(response))!;
      expect(copy).toMatchObject({
        sourceImageId: source,
        sourceRegionId: SOURCE_REGION,
        status: 'Available',
      });
      expect(h.cloud.ecs.getImage(QD, String(fromPeer.imageId))).toBeUndefined();
      const steps = stepsOf(h, fn).filter((step) => step.requestId === member.event.RequestId);
      expect(steps.map((step) => step.step)).toContain('peer-copy-failed');
      expect(h.cloud.ecs.getImage(SH, peer)?.status).toBe('Available');
    } finally {
      await cancel(h, SZ, blocker);
      await cancel(h, SZ, sourceBlocker);
    }
  });

  it('finishes every copy of a replication started at once, later copies made from earlier ones', async () => {
    const fn = h.deployHandler();
    const source = putSource(h, { sizeGiB: MEDIUM_SIZE_GIB });
    const regions = [SH, BJ, SZ, QD];
    const runs = await Promise.all(
      regions.map((regionId) =>
        run(h, fn, newResource(`Fan${regionId.replace(/\W/g, '')}`), {
          RequestType: 'Create',
          ResourceProperties: memberOf(source, regionId, regions),
        }),
      ),
    );
    expect(runs.map(({ response }) => response.Status)).toEqual(regions.map(() => 'SUCCESS'));
    const copies = runs.map(({ response }, index) =>
      h.cloud.ecs.getImage(regions[index], imageIdOf(response))!,
    );
    const fromPeers = copies.filter((copy) => copy.sourceImageId !== source);
    expect(fromPeers.length).toBeGreaterThan(0);
    for (const copy of copies) {
      expect(copy.tags[SOURCE_TAG_KEY]).toBe(sourceTagValue(SOURCE_REGION, source, false));
    }
  });
});

describe('copyConflict: none', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ variants: { copyConflict: 'none' } });
  });
  afterAll(() => h.stop());

  it('copies every region from the source at once, never from a peer', async () => {
    const fn = h.deployHandler();
    const source = putSource(h, { sizeGiB: SLOW_SIZE_GIB / 5 });
    const regions = [SH, BJ, SZ];
    const runs = await Promise.all(
      regions.map((regionId) =>
        run(h, fn, newResource(`Fan${regionId.replace(/\W/g, '')}`), {
          RequestType: 'Create',
          ResourceProperties: memberOf(source, regionId, regions),
        }),
      ),
    );
    expect(runs.map(({ response }) => response.Status)).toEqual(regions.map(() => 'SUCCESS'));
    runs.forEach(({ response }, index) =>
      expect(h.cloud.ecs.getImage(regions[index], imageIdOf(response))?.sourceImageId).toBe(source),
    );
    expect(
      stepsOf(h, fn).filter((step) => step.step === 'copy-from-peer' || step.step === 'copy-conflict'),
    ).toEqual([]);
  });
});
