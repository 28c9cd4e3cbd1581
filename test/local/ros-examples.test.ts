import Ros, * as $Ros from '@alicloud/ros20190910';
import { LocalCloud } from '../../lib/local';
import { OWNERSHIP_TAG_KEY } from '../../lib/protocol';
import {
  SINGLE_COPY_DEFAULTS,
  SingleCopyStack,
  SingleCopyStackProps,
} from '../../examples/single-copy/stack';
import * as rosCdk from '@alicloud/ros-cdk-core';
import { ImageCopy } from '../../lib';
import { newApp, Template } from '../construct/template';
import { FastForwardClock } from '../support/fast-forward-clock';
import { until } from '../support/until';
import { rosClient, withCloud } from '../support/cloud';

/**
 * LocalCloud's ROS runs templates synthesized from the examples through the real ROS client: the custom
 * resource invokes the bundled handler in LocalCloud's Function Compute, which copies in LocalCloud's ECS.
 * (The create / rename / delete happy path and a change of destination are in test/construct/deploy-local.test.ts.)
 */

const REGION = 'cn-hangzhou';
const DESTINATION = SINGLE_COPY_DEFAULTS.destinationRegionId;

function exampleTemplate(props: Partial<SingleCopyStackProps> = {}): string {
  const stack = new SingleCopyStack(newApp(), 'ImageCopyExample', { ...SINGLE_COPY_DEFAULTS, ...props });
  return JSON.stringify(Template.fromStack(stack).json);
}

describe('example templates on LocalCloud ROS', () => {
  let cloud: LocalCloud;
  let ros: Ros;
  beforeAll(async () => {
    cloud = await LocalCloud.start({ copyDurationMs: 1500 });
    ros = rosClient(cloud, REGION);
  });
  afterAll(() => cloud.stop());

  const create = async (
    stackName: string,
    templateBody: string,
    extra: Partial<$Ros.CreateStackRequest> = {},
  ) =>
    (
      await ros.createStack(
        new $Ros.CreateStackRequest({ regionId: REGION, stackName, templateBody, ...extra }),
      )
    ).body!.stackId!;
  const update = (stackId: string, templateBody: string) =>
    ros.updateStack(new $Ros.UpdateStackRequest({ regionId: REGION, stackId, templateBody }));
  const settle = async (stackId: string) => {
    await cloud.ros.settled();
    return (await ros.getStack(new $Ros.GetStackRequest({ regionId: REGION, stackId }))).body!;
  };
  const outputs = (stack: $Ros.GetStackResponseBody) =>
    Object.fromEntries((stack.outputs ?? []).map((o) => [o['OutputKey'], o['OutputValue'] as string]));
  const ownedImages = (region: string) =>
    cloud.ecs.listImages(region).filter((image) => OWNERSHIP_TAG_KEY in (image.tags ?? {}));
  const functionsOf = (stackId: string) =>
    cloud.fc.listFunctions(REGION).filter((f) => f.functionName.endsWith(stackId));

  it('replaces the copy on a change of source: a new id in the outputs, the old image gone', async () => {
    const other = cloud.ecs.putImage(REGION, { imageName: 'other-base', sizeGiB: 10 });
    const stackId = await create('source-change', exampleTemplate());
    const first = await settle(stackId);
    expect(first.status).toBe('CREATE_COMPLETE');
    const oldId = outputs(first).ImageId;
    expect(cloud.ecs.getImage(DESTINATION, oldId)?.status).toBe('Available');

    await update(stackId, exampleTemplate({ sourceImageId: other }));
    const second = await settle(stackId);
    expect(second.status).toBe('UPDATE_COMPLETE');
    const newId = outputs(second).ImageId;
    expect(newId).toMatch(/^m-/);
    expect(newId).not.toBe(oldId);
    expect(cloud.ecs.getImage(DESTINATION, newId)?.status).toBe('Available');
    expect(cloud.ecs.getImage(DESTINATION, oldId)).toBeUndefined();

    // Submitting the same template again changes nothing: NotSupported, as ROS answers.
    await expect(update(stackId, exampleTemplate({ sourceImageId: other }))).rejects.toMatchObject({
      code: 'NotSupported',
      message: expect.stringContaining('Update the completely same stack'),
    });

    await ros.deleteStack(new $Ros.DeleteStackRequest({ regionId: REGION, stackId }));
    expect((await settle(stackId)).status).toBe('DELETE_COMPLETE');
    expect(cloud.ecs.getImage(DESTINATION, newId)).toBeUndefined();
  });

  it("copies into the stack's region when no destination is given (the template does not name it)", async () => {
    const stack = new rosCdk.Stack(newApp(), 'DefaultDestination');
    const copy = new ImageCopy(stack, 'Copy', {
      sourceImageId: 'm-uf6seedgoldenimage01',
      sourceRegionId: 'cn-shanghai',
      imageName: 'into-stack-region',
    });
    new rosCdk.RosOutput(stack, 'ImageId', { value: copy.attrImageId });
    new rosCdk.RosOutput(stack, 'RegionId', { value: copy.attrRegionId });
    const body = JSON.stringify(Template.fromStack(stack).json);
    expect(body).not.toContain('DestinationRegionId');
    const stackId = await create('default-destination', body);
    const done = await settle(stackId);
    expect(done.status).toBe('CREATE_COMPLETE');
    expect(outputs(done).RegionId).toBe(REGION);
    expect(cloud.ecs.getImage(REGION, outputs(done).ImageId)).toMatchObject({
      imageName: 'into-stack-region',
      status: 'Available',
    });
    await ros.deleteStack(new $Ros.DeleteStackRequest({ regionId: REGION, stackId }));
    expect((await settle(stackId)).status).toBe('DELETE_COMPLETE');
    expect(cloud.ecs.getImage(REGION, outputs(done).ImageId)).toBeUndefined();
  });

  it('rolls back a create whose source image does not exist, leaving no image, role or function', async () => {
    const before = ownedImages(DESTINATION).length;
    const stackId = await create('bad-source', exampleTemplate({ sourceImageId: 'm-bp1doesnotexist0001' }));
    const stack = await settle(stackId);
    expect(stack.status).toBe('CREATE_ROLLBACK_COMPLETE');
    expect(stack.statusReason).toContain('m-bp1doesnotexist0001');
    const events = (
      await ros.listStackEvents(new $Ros.ListStackEventsRequest({ regionId: REGION, stackId, pageSize: 50 }))
    ).body!.events!;
    const failed = events.find(
      (e) => e.status === 'CREATE_FAILED' && e.resourceType === 'ALIYUN::ROS::CustomResource',
    );
    expect(failed?.statusReason).toContain('m-bp1doesnotexist0001');
    expect(ownedImages(DESTINATION)).toHaveLength(before);
    expect(functionsOf(stackId)).toEqual([]);
    expect(cloud.getRole(`ros-cdk-image-copy-${stackId}`)).toBeUndefined();
  });

  it('keeps what was made with DisableRollback, and deletes it all with the stack', async () => {
    const stackId = await create(
      'bad-source-kept',
      exampleTemplate({ sourceImageId: 'm-bp1doesnotexist0002' }),
      {
        disableRollback: true,
      },
    );
    const stack = await settle(stackId);
    expect(stack.status).toBe('CREATE_FAILED');
    expect(functionsOf(stackId)).toHaveLength(1);
    expect(cloud.getRole(`ros-cdk-image-copy-${stackId}`)).toBeDefined();
    await ros.deleteStack(new $Ros.DeleteStackRequest({ regionId: REGION, stackId }));
    expect((await settle(stackId)).status).toBe('DELETE_COMPLETE');
    expect(functionsOf(stackId)).toEqual([]);
    expect(cloud.getRole(`ros-cdk-image-copy-${stackId}`)).toBeUndefined();
  });

  it('deletes a stack whose copy is still running: the copy is cancelled and nothing is left', async () => {
    // ROS refuses DeleteStack while the create runs (ActionInProgress); a copy is still running when the stack's
    // own timeout ends the create and the rollback deletes the custom resource that never answered.
    const clock = new FastForwardClock();
    await withCloud({ copyDurationMs: 120_000, ros: { maxOperationSeconds: 6, clock } }, async (slow) => {
      const client = rosClient(slow, REGION);
      const stackId = (
        await client.createStack(
          new $Ros.CreateStackRequest({
            regionId: REGION,
            stackName: 'running',
            templateBody: exampleTemplate(),
          }),
        )
      ).body!.stackId!;
      await expect(
        client.deleteStack(new $Ros.DeleteStackRequest({ regionId: REGION, stackId })),
      ).rejects.toMatchObject({ code: 'ActionInProgress' });
      // Once the copy has started, the stack's 6 seconds pass.
      await until(() => slow.calls.some((c) => c.action === 'CopyImage' && c.status === 200));
      await clock.forward(6000);
      await slow.ros.settled();
      const stack = (await client.getStack(new $Ros.GetStackRequest({ regionId: REGION, stackId }))).body!;
      expect(stack.status).toBe('CREATE_ROLLBACK_COMPLETE');
      expect(stack.statusReason).toMatch(/timed out/);
      // The copy had started, and was cancelled: no image of this stack is left in the destination.
      expect(slow.calls.some((c) => c.action === 'CopyImage' && c.status === 200)).toBe(true);
      expect(slow.calls.some((c) => c.action === 'CancelCopyImage')).toBe(true);
      expect(slow.ecs.listImages(DESTINATION).filter((i) => OWNERSHIP_TAG_KEY in (i.tags ?? {}))).toEqual([]);
      expect(slow.fc.listFunctions(REGION)).toEqual([]);
    });
  });
});
