import Ros, * as $Ros from '@alicloud/ros20190910';
import type { LocalCloud, LocalCloudOptions } from '../../lib/local';
import { HANDLER_RAM_ACTIONS } from '../../lib/handler/policy';
import { OWNERSHIP_TAG_KEY } from '../../lib/protocol';
import { REPLICATION_DEFAULTS, ReplicationStack } from '../../examples/replication/stack';
import { SINGLE_COPY_DEFAULTS, SingleCopyStack } from '../../examples/single-copy/stack';
import { newApp, Template } from './template';
import { rosClient, withCloud } from '../support/cloud';

/**
 * The template really carries a working handler with sufficient permissions: the single-copy example is
 * synthesized, submitted to LocalCloud's ROS as it is, which creates the role from the template's policy and the
 * function from its `Code.ZipFile`, and runs the custom resource through Create, an in-place Update and Delete.
 */

const STACK_REGION = 'cn-hangzhou';

function exampleTemplate(
  imageName: string = SINGLE_COPY_DEFAULTS.imageName,
  destinationRegionId: string = SINGLE_COPY_DEFAULTS.destinationRegionId,
): string {
  const props = { ...SINGLE_COPY_DEFAULTS, imageName, destinationRegionId };
  const example = new SingleCopyStack(newApp(), 'ImageCopyExample', props);
  return JSON.stringify(Template.fromStack(example).json);
}

async function stackOf(cloud: LocalCloud, client: Ros, stackId: string) {
  await cloud.ros.settled();
  return (await client.getStack(new $Ros.GetStackRequest({ regionId: STACK_REGION, stackId }))).body!;
}

function outputsOf(stack: $Ros.GetStackResponseBody): Record<string, string> {
  return Object.fromEntries((stack.outputs ?? []).map((o) => [o['OutputKey'], o['OutputValue']]));
}

function handlerLogs(cloud: LocalCloud): string {
  return cloud.fc
    .invocations()
    .map((i) => `${i.functionName} ${i.outcome}: ${i.error ?? ''}\n${i.logs.join('\n')}`)
    .join('\n');
}

/** {@link withCloud}, where a failure also shows what the handler did: its invocations and their logs. */
function withExplainedCloud(
  options: LocalCloudOptions,
  body: (cloud: LocalCloud) => Promise<void>,
): Promise<void> {
  return withCloud(options, async (cloud) => {
    try {
      await body(cloud);
    } catch (error) {
      throw new Error(`${(error as Error).message}\n--- handler invocations ---\n${handlerLogs(cloud)}`, {
        cause: error,
      });
    }
  });
}

describe('the single-copy example deployed to LocalCloud', () => {
  it('creates the copy, renames it in place and deletes it with the stack, using only the template', async () => {
    await withExplainedCloud({ copyDurationMs: 1500 }, async (cloud) => {
      const client = rosClient(cloud, STACK_REGION);
      const created = await client.createStack(
        new $Ros.CreateStackRequest({
          regionId: STACK_REGION,
          stackName: 'image-copy-example',
          templateBody: exampleTemplate(),
          timeoutInMinutes: 10,
        }),
      );
      const stackId = created.body!.stackId!;
      const afterCreate = await stackOf(cloud, client, stackId);
      expect({ status: afterCreate.status, reason: afterCreate.statusReason }).toEqual({
        status: 'CREATE_COMPLETE',
        reason: expect.anything(),
      });

      const outputs = outputsOf(afterCreate);
      expect(outputs['RegionId']).toBe(SINGLE_COPY_DEFAULTS.destinationRegionId);
      expect(outputs['SourceImageId']).toBe(SINGLE_COPY_DEFAULTS.sourceImageId);
      expect(outputs['ImageName']).toBe(SINGLE_COPY_DEFAULTS.imageName);
      const imageId = outputs['ImageId'];
      expect(imageId).toMatch(/^m-/);
      const image = cloud.ecs.getImage(SINGLE_COPY_DEFAULTS.destinationRegionId, imageId)!;
      expect(image).toMatchObject({
        status: 'Available',
        imageName: SINGLE_COPY_DEFAULTS.imageName,
        isCopied: true,
        sourceImageId: SINGLE_COPY_DEFAULTS.sourceImageId,
        sourceRegionId: SINGLE_COPY_DEFAULTS.sourceRegionId,
      });
      expect(image.tags['example']).toBe('single-copy');
      expect(image.tags[OWNERSHIP_TAG_KEY]).toContain(`${stackId}/GoldenCopy`);

      // The handler ran with the role from the template: every ECS call it made was signed with the role's
      // temporary credentials and allowed by its policy.
      const handlerCalls = cloud.calls.filter((c) => c.principal === 'role');
      expect(handlerCalls.length).toBeGreaterThan(0);
      expect(handlerCalls.filter((c) => c.code === 'Forbidden.RAM')).toEqual([]);
      for (const call of handlerCalls) {
        expect(HANDLER_RAM_ACTIONS).toContain(`${call.product.toLowerCase()}:${call.action}`);
      }

      // Renaming is in place: the same image, a new name.
      await client.updateStack(
        new $Ros.UpdateStackRequest({
          regionId: STACK_REGION,
          stackId,
          templateBody: exampleTemplate('golden-copy-renamed'),
        }),
      );
      const afterUpdate = await stackOf(cloud, client, stackId);
      expect(afterUpdate.status).toBe('UPDATE_COMPLETE');
      expect(outputsOf(afterUpdate)['ImageId']).toBe(imageId);
      expect(cloud.ecs.getImage(SINGLE_COPY_DEFAULTS.destinationRegionId, imageId)!.imageName).toBe(
        'golden-copy-renamed',
      );

      await client.deleteStack(new $Ros.DeleteStackRequest({ regionId: STACK_REGION, stackId }));
      await cloud.ros.settled();
      const listed = await client.listStacks(
        new $Ros.ListStacksRequest({ regionId: STACK_REGION, stackId, status: ['DELETE_COMPLETE'] }),
      );
      expect(listed.body!.stacks!.map((s) => s.stackId)).toEqual([stackId]);
      expect(cloud.ecs.getImage(SINGLE_COPY_DEFAULTS.destinationRegionId, imageId)).toBeUndefined();
      expect(
        cloud.ecs.listImages(SINGLE_COPY_DEFAULTS.destinationRegionId).filter((i) => i.isCopied),
      ).toEqual([]);

      // Over the whole lifecycle the handler called copy, describe, rename and delete, each allowed.
      const roleCalls = cloud.calls.filter((c) => c.principal === 'role');
      expect(roleCalls.filter((c) => c.status >= 400 && c.code === 'Forbidden.RAM')).toEqual([]);
      expect([...new Set(roleCalls.map((c) => `${c.product.toLowerCase()}:${c.action}`))]).toEqual(
        expect.arrayContaining([
          'ecs:CopyImage',
          'ecs:DescribeImages',
          'ecs:ModifyImageAttribute',
          'ecs:DeleteImage',
        ]),
      );
    });
  }, 120_000);
});

describe('a change of destination deployed to LocalCloud', () => {
  it('replaces the copy: a new image in the new region, the old one deleted, the stack outputs the new id', async () => {
    await withExplainedCloud({ copyDurationMs: 1000 }, async (cloud) => {
      const client = rosClient(cloud, STACK_REGION);
      const created = await client.createStack(
        new $Ros.CreateStackRequest({
          regionId: STACK_REGION,
          stackName: 'image-copy-moving',
          templateBody: exampleTemplate(),
          timeoutInMinutes: 10,
        }),
      );
      const stackId = created.body!.stackId!;
      const before = outputsOf(await stackOf(cloud, client, stackId));
      expect(before['RegionId']).toBe('cn-shanghai');

      await client.updateStack(
        new $Ros.UpdateStackRequest({
          regionId: STACK_REGION,
          stackId,
          templateBody: exampleTemplate(SINGLE_COPY_DEFAULTS.imageName, 'cn-beijing'),
        }),
      );
      const updated = await stackOf(cloud, client, stackId);
      expect([updated.status, updated.statusReason]).toEqual(['UPDATE_COMPLETE', expect.anything()]);
      const after = outputsOf(updated);
      expect(after['RegionId']).toBe('cn-beijing');
      expect(after['ImageId']).not.toBe(before['ImageId']);
      expect(cloud.ecs.getImage('cn-beijing', after['ImageId'])).toMatchObject({
        status: 'Available',
        imageName: SINGLE_COPY_DEFAULTS.imageName,
      });
      expect(cloud.ecs.getImage('cn-shanghai', before['ImageId'])).toBeUndefined();

      await client.deleteStack(new $Ros.DeleteStackRequest({ regionId: STACK_REGION, stackId }));
      await cloud.ros.settled();
      expect(cloud.ecs.getImage('cn-beijing', after['ImageId'])).toBeUndefined();
    });
  }, 120_000);
});

describe('provider names', () => {
  it('let two stacks of one name in two regions, and two stacks in one region, deploy side by side', async () => {
    await withCloud({ copyDurationMs: 500 }, async (cloud) => {
      const client = rosClient(cloud, STACK_REGION);
      const targets = [
        { regionId: 'cn-hangzhou', stackName: 'golden' },
        { regionId: 'cn-shanghai', stackName: 'golden' },
        { regionId: 'cn-hangzhou', stackName: 'golden-again' },
      ];
      const stacks: { regionId: string; stackId: string }[] = [];
      for (const [index, target] of targets.entries()) {
        // Image names are unique per region, and every stack copies into cn-shanghai: one name each.
        const templateBody = exampleTemplate(`golden-copy-${index}`);
        const created = await client.createStack(
          new $Ros.CreateStackRequest({ ...target, templateBody, timeoutInMinutes: 10 }),
        );
        stacks.push({ regionId: target.regionId, stackId: created.body!.stackId! });
      }
      await cloud.ros.settled();
      const results = [];
      for (const { regionId, stackId } of stacks) {
        const stack = (await client.getStack(new $Ros.GetStackRequest({ regionId, stackId }))).body!;
        results.push([
          stack.stackName,
          regionId,
          stack.status,
          stack.status === 'CREATE_COMPLETE' ? '' : stack.statusReason,
        ]);
      }
      expect(results).toEqual([
        ['golden', 'cn-hangzhou', 'CREATE_COMPLETE', ''],
        ['golden', 'cn-shanghai', 'CREATE_COMPLETE', ''],
        ['golden-again', 'cn-hangzhou', 'CREATE_COMPLETE', ''],
      ]);
      const functions = new Set(cloud.fc.invocations().map((i) => `${i.regionId}/${i.functionName}`));
      expect(functions.size).toBe(3);
    });
  }, 120_000);
});

describe('the replication example deployed to LocalCloud', () => {
  it('copies into every region in parallel with one provider, and deletes every copy with the stack', async () => {
    // In parallel where ECS lets one source be copied many times at once (copyConflict none); under the default
    // reading (any-destination) the copies take turns (test/handler/copy-conflict.test.ts).
    await withExplainedCloud({ copyDurationMs: 1500, variants: { copyConflict: 'none' } }, async (cloud) => {
      const client = rosClient(cloud, STACK_REGION);
      const example = new ReplicationStack(newApp(), 'ImageReplicationExample', REPLICATION_DEFAULTS);
      const created = await client.createStack(
        new $Ros.CreateStackRequest({
          regionId: STACK_REGION,
          stackName: 'image-replication-example',
          templateBody: JSON.stringify(Template.fromStack(example).json),
          timeoutInMinutes: 10,
        }),
      );
      const stackId = created.body!.stackId!;
      const stack = await stackOf(cloud, client, stackId);
      expect([stack.status, stack.statusReason]).toEqual(['CREATE_COMPLETE', expect.anything()]);
      const outputs = outputsOf(stack);
      const copies = REPLICATION_DEFAULTS.destinationRegionIds.map((regionId) => {
        const imageId = outputs[`${example.replication.copyIn(regionId).node.id}ImageId`];
        return { regionId, imageId, image: cloud.ecs.getImage(regionId, imageId) };
      });
      for (const { regionId, image } of copies) {
        expect(image).toMatchObject({ regionId, status: 'Available', imageName: 'golden-published' });
        expect(image!.tags).toMatchObject({ example: 'replication', release: '2026.11' });
      }
      // All three copies ran at the same time: each started before any was Available.
      const stepTimes = (step: string): number[] =>
        cloud.fc
          .invocations()
          .flatMap((i) => i.logs)
          .map((line) => line.slice(line.indexOf('{')))
          .filter((json) => json.includes(`"step":"${step}"`) && json.includes('"requestType":"Create"'))
          .map((json) => Date.parse(JSON.parse(json).time));
      const started = stepTimes('copy-started');
      const available = stepTimes('available');
      expect([started.length, available.length]).toEqual([3, 3]);
      expect(Math.max(...started)).toBeLessThan(Math.min(...available));

      await client.deleteStack(new $Ros.DeleteStackRequest({ regionId: STACK_REGION, stackId }));
      await cloud.ros.settled();
      for (const { regionId, imageId } of copies) {
        expect([regionId, cloud.ecs.getImage(regionId, imageId)]).toEqual([regionId, undefined]);
      }
    });
  }, 120_000);
});
