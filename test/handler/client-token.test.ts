/**
 * How long ECS replays a CopyImage ClientToken is not documented (`clientTokenReplay`): only while the copy it made
 * exists, or for ever. Either way a late delivery of a Create (an FC retry after the resource, or the whole stack, was
 * deleted; ROS then refuses its answer) must leave no copy behind: with the token forgotten it copies anew and removes
 * that copy when ROS refuses the answer; with the token replayed it gets the deleted copy's id, never sees it, and
 * fails. Runs in virtual time (the second case waits the 2 minutes a copy may stay unlisted).
 */
import { randomUUID } from 'crypto';
import { isOwnedBy, OWNERSHIP_TAG_KEY, physicalIdFor } from '../../lib/protocol';
import { DESTINATION_REGION, newResource, type RequestSpec, SOURCE_REGION } from './harness';
import { goneUrl, testUrl } from './urls';
import { startVirtualCloud, type VirtualCloud } from './virtual';

const properties = (source: string) => ({
  SourceImageId: source,
  SourceRegionId: SOURCE_REGION,
  DestinationRegionId: DESTINATION_REGION,
  ImageName: `tokened-${randomUUID().slice(0, 8)}`,
});

const ownedBy = (v: VirtualCloud, resource: { StackId: string; LogicalResourceId: string }) =>
  v.cloud.ecs
    .listImages(DESTINATION_REGION)
    .filter((image) =>
      isOwnedBy(image.tags[OWNERSHIP_TAG_KEY] ?? '', resource.StackId, resource.LogicalResourceId),
    );

/** Create, Delete, then the same Create again, late, answered to a URL ROS no longer listens on. */
async function lateCreateAfterDelete(
  v: VirtualCloud,
): Promise<{ lateAnswers: number; resource: ReturnType<typeof newResource> }> {
  const resource = newResource();
  const source = v.cloud.ecs.putImage(SOURCE_REGION, { imageName: `golden-${randomUUID().slice(0, 8)}` });
  const create: RequestSpec = {
    RequestType: 'Create',
    RequestId: randomUUID(),
    ResourceProperties: properties(source),
  };
  const ros = await testUrl(200);
  const gone = await goneUrl();
  try {
    await v.deliver(resource, create, ros.url);
    expect(ros.accepted.map((body) => body.Status)).toEqual(['SUCCESS']);
    await v.deliver(
      resource,
      {
        RequestType: 'Delete',
        PhysicalResourceId: physicalIdFor(String(create.RequestId)),
        ResourceProperties: create.ResourceProperties,
      },
      ros.url,
    );
    expect(ros.accepted.map((body) => body.Status)).toEqual(['SUCCESS', 'SUCCESS']);
    expect(ownedBy(v, resource)).toEqual([]);
    await v.deliver(resource, create, gone.url);
    return { lateAnswers: gone.posts(), resource };
  } finally {
    await ros.close();
    await gone.close();
  }
}

describe('clientTokenReplay: while-image-exists (the default)', () => {
  it('a late Create after its resource was deleted copies anew, and removes that copy when ROS refuses the answer', async () => {
    const v = await startVirtualCloud({ clientTokenReplay: 'while-image-exists' });
    try {
      const { lateAnswers, resource } = await lateCreateAfterDelete(v);
      expect(lateAnswers).toBeGreaterThan(0);
      const late = v.steps.filter((step) => step.requestType === 'Create');
      expect(late.filter((step) => step.step === 'copy-started')).toHaveLength(2);
      expect(late.some((step) => step.step === 'refused-copy-discarded')).toBe(true);
      expect(ownedBy(v, resource)).toEqual([]);
    } finally {
      await v.stop();
    }
  });
});

describe('clientTokenReplay: forever', () => {
  it("a late Create after its resource was deleted gets the deleted copy's id, never sees it, and leaves nothing", async () => {
    const v = await startVirtualCloud({ clientTokenReplay: 'forever' });
    try {
      const { lateAnswers, resource } = await lateCreateAfterDelete(v);
      expect(lateAnswers).toBeGreaterThan(0);
      const failed = v.steps.filter((step) => step.step === 'failed');
      expect(failed).toHaveLength(1);
      expect(String(failed[0].reason)).toMatch(/never appeared in DescribeImages within 2 minutes/);
      expect(ownedBy(v, resource)).toEqual([]);
    } finally {
      await v.stop();
    }
  });
});
