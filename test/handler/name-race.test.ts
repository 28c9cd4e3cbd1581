import * as $Ecs from '@alicloud/ecs20140526';
import { ImageCopyParameter } from '../../lib/protocol';
import {
  DESTINATION_REGION,
  Harness,
  imageIdOf,
  newResource,
  ownedImages,
  putSource,
  run,
  SOURCE_REGION,
  startHarness,
} from './harness';

/**
 * Found by the chaos suite: a duplicate delivery of a replacement removes the old copy while this delivery is still
 * making its own (the old copy then held the name, and the lookup of its holder found nobody). A replacement now
 * copies under its temporary name from the start; the old copy vanishing on the way must still end in a replacement
 * under the wanted name.
 */
describe('a replacement whose name is freed while it looks for the holder', () => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await startHarness();
  });
  afterAll(() => harness.stop());

  it('copies again under the wanted name, and the replacement succeeds', async () => {
    const functionName = harness.deployHandler();
    const resource = newResource();
    const sourceA = putSource(harness);
    const sourceB = putSource(harness);
    const props = (source: string) => ({
      [ImageCopyParameter.SourceImageId]: source,
      [ImageCopyParameter.SourceRegionId]: SOURCE_REGION,
      [ImageCopyParameter.DestinationRegionId]: DESTINATION_REGION,
      [ImageCopyParameter.ImageName]: 'raced-name',
    });
    const created = await run(harness, functionName, resource, {
      RequestType: 'Create',
      ResourceProperties: props(sourceA),
    });
    expect(created.response.Status).toBe('SUCCESS');
    const oldId = imageIdOf(created.response);

    // After CopyImage, the next ECS call finds the old copy already deleted, as a racing duplicate delivery would
    // have done.
    let copied = false;
    let raced = false;
    harness.fault = async (product, action) => {
      if (product !== 'ecs') {
        return undefined;
      }
      if (action === 'CopyImage' && !copied) {
        copied = true;
        return undefined;
      }
      if (copied && !raced && action === 'DescribeImages') {
        raced = true;
        await harness.ecs.deleteImage(
          new $Ecs.DeleteImageRequest({ regionId: DESTINATION_REGION, imageId: oldId }),
        );
      }
      return undefined;
    };
    try {
      const replaced = await run(harness, functionName, resource, {
        RequestType: 'Update',
        PhysicalResourceId: created.response.PhysicalResourceId,
        ResourceProperties: props(sourceB),
        OldResourceProperties: props(sourceA),
      });
      expect(raced).toBe(true);
      expect(replaced.response).toMatchObject({
        Status: 'SUCCESS',
        PhysicalResourceId: created.response.PhysicalResourceId,
      });
      const newId = imageIdOf(replaced.response);
      expect(newId).not.toBe(oldId);
      expect(harness.cloud.ecs.getImage(DESTINATION_REGION, newId)).toMatchObject({
        imageName: 'raced-name',
        status: 'Available',
      });
      expect(ownedImages(harness, resource).map((image) => image.imageId)).toEqual([newId]);
    } finally {
      harness.fault = undefined;
    }
  });
});
