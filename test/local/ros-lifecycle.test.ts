import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import Ros, * as $Ros from '@alicloud/ros20190910';
import { LocalCloud } from '../../lib/local';
import { FastForwardClock } from '../support/fast-forward-clock';
import { until } from '../support/until';
import { readLog, template } from './ros-fixture';
import { rosClient, withCloud } from '../support/cloud';

/** ROS stack lifecycle edges: update rollback, operation timeouts, persistence across restarts. */

const REGION = 'cn-hangzhou';

async function status(cloud: LocalCloud, ros: Ros, stackId: string) {
  await cloud.ros.settled();
  return (await ros.getStack(new $Ros.GetStackRequest({ regionId: REGION, stackId }))).body!;
}

const createParams = (values: Record<string, string>) =>
  Object.entries(values).map(
    ([parameterKey, parameterValue]) =>
      new $Ros.CreateStackRequestParameters({ parameterKey, parameterValue }),
  );
const updateParams = (values: Record<string, string>) =>
  Object.entries(values).map(
    ([parameterKey, parameterValue]) =>
      new $Ros.UpdateStackRequestParameters({ parameterKey, parameterValue }),
  );

describe('LocalCloud ROS stack lifecycle', () => {
  let dir: string;
  let logFile: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ros-lifecycle-'));
    logFile = path.join(dir, 'provider.log');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('rolls a failed update back: the custom resource is updated back to its old properties, added ones deleted', async () => {
    await withCloud(async (cloud) => {
      const ros = rosClient(cloud, REGION);
      const created = await ros.createStack(
        new $Ros.CreateStackRequest({
          regionId: REGION,
          stackName: 'update-rollback',
          templateBody: template(logFile),
          parameters: createParams({ Value: 'v1' }),
        }),
      );
      const stackId = created.body!.stackId!;
      expect((await status(cloud, ros, stackId)).status).toBe('CREATE_COMPLETE');
      fs.rmSync(logFile);

      // The update changes the value, adds a second custom resource, and the first one's Update fails.
      await ros.updateStack(
        new $Ros.UpdateStackRequest({
          regionId: REGION,
          stackId,
          templateBody: template(logFile, { customs: ['Custom', 'Added'] }),
          parameters: updateParams({ Value: 'v2', Fail: 'disk full' }),
        }),
      );
      const stack = await status(cloud, ros, stackId);
      expect(stack.status).toBe('ROLLBACK_COMPLETE');
      expect(stack.statusReason).toContain('disk full');
      const log = readLog(logFile).filter((l) => l.logicalId === 'Custom');
      expect(log.map((l) => [l.type, l.value, l.old])).toEqual([
        ['Update', 'v2', 'v1'],
        ['Update', 'v1', 'v2'],
      ]);
      const added = readLog(logFile).filter((l) => l.logicalId === 'Added');
      // Added was created (or not yet, if the failure came first); whatever was created was deleted again.
      expect(added.filter((l) => l.type === 'Create').length).toBe(
        added.filter((l) => l.type === 'Delete').length,
      );
      const resources = await ros.listStackResources(
        new $Ros.ListStackResourcesRequest({ regionId: REGION, stackId }),
      );
      expect(resources.body!.resources!.map((r) => r.logicalResourceId).sort()).toEqual([
        'Custom',
        'Function',
        'Role',
      ]);
      // The stack can be updated again after a rollback, to a good state.
      await ros.updateStack(
        new $Ros.UpdateStackRequest({
          regionId: REGION,
          stackId,
          templateBody: template(logFile),
          parameters: updateParams({ Value: 'v3' }),
        }),
      );
      const again = await status(cloud, ros, stackId);
      expect(again.status).toBe('UPDATE_COMPLETE');
      expect(again.outputs!.find((o) => o['OutputKey'] === 'Echo')!['OutputValue']).toBe('echo:v3');
    });
  });

  it("bounds an operation by the stack's timeout, failing the stack with a reason that says it was the stack's", async () => {
    const clock = new FastForwardClock();
    await withCloud({ ros: { maxOperationSeconds: 2, clock } }, async (cloud) => {
      const ros = rosClient(cloud, REGION);
      const created = await ros.createStack(
        new $Ros.CreateStackRequest({
          regionId: REGION,
          stackName: 'slow',
          templateBody: template(logFile, { timeout: 600 }),
          parameters: createParams({ Silent: 'yes' }),
          timeoutInMinutes: 15,
        }),
      );
      const stackId = created.body!.stackId!;
      // The provider got the Create and returned without answering: the stack's 2 seconds pass.
      await until(() => cloud.fc.invocations({ functionName: 'provider-slow' })[0]?.outcome);
      await clock.forward(2000);
      const stack = await status(cloud, ros, stackId);
      expect(stack.status).toBe('CREATE_ROLLBACK_COMPLETE');
      expect(stack.statusReason).toContain(
        "Stack CREATE timed out: the stack's timeout (TimeoutInMinutes 15, capped at 2 seconds by LocalCloud's maxOperationSeconds) passed",
      );
      expect(stack.timeoutInMinutes).toBe(15);
      // The resource says the stack's timeout, not its own (600 s), cut its wait short.
      const events = await ros.listStackEvents(
        new $Ros.ListStackEventsRequest({ regionId: REGION, stackId, logicalResourceId: ['Custom'] }),
      );
      expect(events.body!.events!.find((e) => e.status === 'CREATE_FAILED')!.statusReason).toContain(
        "The stack timed out (its TimeoutInMinutes passed) while waiting for the custom resource's answer to Create, before the resource's own Timeout of 600 seconds",
      );
    });
  });

  it('gives CreateStack and UpdateStack a TimeoutInMinutes of 60 when they do not ask for one, as ROS does', async () => {
    await withCloud(async (cloud) => {
      const ros = rosClient(cloud, REGION);
      const created = await ros.createStack(
        new $Ros.CreateStackRequest({
          regionId: REGION,
          stackName: 'default-timeout',
          templateBody: template(logFile),
        }),
      );
      const stackId = created.body!.stackId!;
      expect((await status(cloud, ros, stackId)).timeoutInMinutes).toBe(60);
      await ros.updateStack(
        new $Ros.UpdateStackRequest({
          regionId: REGION,
          stackId,
          templateBody: template(logFile),
          parameters: updateParams({ Value: 'longer' }),
          timeoutInMinutes: 1440,
        }),
      );
      expect((await status(cloud, ros, stackId)).timeoutInMinutes).toBe(1440);
      // The next update without one runs with ROS's default again, not the previous update's.
      await ros.updateStack(
        new $Ros.UpdateStackRequest({
          regionId: REGION,
          stackId,
          templateBody: template(logFile),
          parameters: updateParams({ Value: 'default' }),
        }),
      );
      const stack = await status(cloud, ros, stackId);
      expect([stack.status, stack.timeoutInMinutes]).toEqual(['UPDATE_COMPLETE', 60]);
      await expect(
        ros.updateStack(
          new $Ros.UpdateStackRequest({
            regionId: REGION,
            stackId,
            templateBody: template(logFile),
            parameters: updateParams({ Value: 'too long' }),
            timeoutInMinutes: 1441,
          }),
        ),
      ).rejects.toMatchObject({ code: 'InvalidParameter', message: expect.stringContaining('10 to 1440') });
    });
  });

  it('keeps stacks, functions and roles in the state file across restarts, and deletes them afterwards', async () => {
    const stateFile = path.join(dir, 'state.json');
    let stackId: string;
    await withCloud({ stateFile }, async (first) => {
      const ros = rosClient(first, REGION);
      const created = await ros.createStack(
        new $Ros.CreateStackRequest({
          regionId: REGION,
          stackName: 'persisted',
          templateBody: template(logFile),
          parameters: createParams({ Value: 'kept' }),
        }),
      );
      stackId = created.body!.stackId!;
      expect((await status(first, ros, stackId)).status).toBe('CREATE_COMPLETE');
    });

    await withCloud({ stateFile }, async (second) => {
      const ros = rosClient(second, REGION);
      const stack = await status(second, ros, stackId);
      expect(stack.status).toBe('CREATE_COMPLETE');
      expect(stack.outputs!.find((o) => o['OutputKey'] === 'Echo')!['OutputValue']).toBe('echo:kept');
      const events = await ros.listStackEvents(
        new $Ros.ListStackEventsRequest({ regionId: REGION, stackId }),
      );
      expect(events.body!.totalCount).toBeGreaterThan(5);
      fs.rmSync(logFile);
      await ros.deleteStack(new $Ros.DeleteStackRequest({ regionId: REGION, stackId }));
      expect((await status(second, ros, stackId)).status).toBe('DELETE_COMPLETE');
      // The function restored from the state file ran the Delete.
      expect(readLog(logFile).map((l) => [l.type, l.physicalId])).toEqual([['Delete', 'pid-Custom-0']]);
      expect(second.fc.getFunction(REGION, 'provider-persisted')).toBeUndefined();
    });
  });

  it('marks an operation cut off by a restart as failed, so the stack can be deleted', async () => {
    const stateFile = path.join(dir, 'state.json');
    let stackId: string;
    await withCloud({ stateFile }, async (first) => {
      const ros = rosClient(first, REGION);
      const created = await ros.createStack(
        new $Ros.CreateStackRequest({
          regionId: REGION,
          stackName: 'interrupted',
          templateBody: template(logFile, { timeout: 600 }),
          parameters: createParams({ Silent: 'yes' }),
        }),
      );
      stackId = created.body!.stackId!;
      const stack = (await ros.getStack(new $Ros.GetStackRequest({ regionId: REGION, stackId }))).body!;
      expect(stack.status).toBe('CREATE_IN_PROGRESS');
    });
    await withCloud({ stateFile }, async (second) => {
      const ros = rosClient(second, REGION);
      const stack = await status(second, ros, stackId);
      expect(stack.status).toBe('CREATE_FAILED');
      expect(stack.statusReason).toContain('LocalCloud stopped');
      await ros.deleteStack(new $Ros.DeleteStackRequest({ regionId: REGION, stackId }));
      expect((await status(second, ros, stackId)).status).toBe('DELETE_COMPLETE');
    });
  });
});
