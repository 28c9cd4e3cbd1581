/**
 * ros-deploy following the stack groups a stack manages, against LocalCloud with three accounts. The stack holds a
 * `Custom::ImageDistribution` resource naming its group; its provider waits at a gate while the test runs the group's
 * operations through the stack group API (as ImageDistribution's handler does), so that they happen while the stack
 * is followed.
 */
import * as fs from 'fs';
import * as path from 'path';
import type Ros from '@alicloud/ros20190910';
import * as $Ros from '@alicloud/ros20190910';
import {
  deployStack,
  type DeployEvent,
  destroyStack,
  imageIdsOf,
  stackOutputs,
  type StackOperationResult,
} from '../../lib/deploy';
import { formatResults } from '../../lib/cli/ros-deploy-progress';
import type { LocalCloud } from '../../lib/local';
import { REGION, startCloud, tempDir, waitFor } from './fixtures';
import {
  createGroup,
  createInstances,
  putAdministrationRole,
  putExecutionRole,
  rosClient,
  waitForOperation,
} from '../local/stack-groups-fixture';
import { INSTANCE_TEMPLATE, open, OTHER_REGION, stackTemplate } from './stack-groups-fixture';

describe('ros-deploy and the stack groups a stack manages (LocalCloud, 3 accounts)', () => {
  let cloud: LocalCloud;
  let fast: Awaited<ReturnType<typeof startCloud>>['fast'];
  let ros: Ros;
  let accounts: string[];
  let dir: string;
  beforeAll(async () => {
    ({ cloud, fast } = await startCloud({ accounts: 3 }));
    ros = rosClient(cloud);
    accounts = cloud.accounts.map((a) => a.accountId);
    // The documented self-managed roles, but no execution role in the third account: ROS cannot reach it.
    putAdministrationRole(cloud.accounts[0]);
    putExecutionRole(cloud.accounts[0], cloud.accountId);
    putExecutionRole(cloud.accounts[1], cloud.accountId);
  });
  afterAll(async () => {
    for (const account of cloud.accounts) {
      await account.stackGroups.settled();
    }
    await cloud.stop();
  });
  beforeEach(() => {
    dir = tempDir('stack-groups-deploy-');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** Waits until the stack's Distribution resource is being created/deleted (its provider at the gate). */
  const atGate = (stackName: string, status: string) =>
    waitFor(() => {
      const stack = cloud.ros.stacks(REGION).find((s) => s.stackName === stackName && s.status === status);
      return stack ? true : undefined;
    });

  const lines = (events: DeployEvent[]) =>
    events.flatMap((e) =>
      e.type === 'stack-instance'
        ? [`${e.accountId} ${e.regionId} ${e.action} ${e.status}`]
        : e.type === 'stack-group-progress'
          ? [`${e.action} ${e.done}/${e.total}`]
          : [],
    );

  it('follows the group operations of a deploy: each account and region, a count, then the image id per account and region; an update only its own', async () => {
    const events: DeployEvent[] = [];
    const deploying = deployStack({
      ...fast,
      stackName: 'org-images',
      template: stackTemplate('golden', dir),
      onEvent: (e) => events.push(e),
    });
    await atGate('org-images', 'CREATE_IN_PROGRESS');
    await createGroup(ros, 'golden', INSTANCE_TEMPLATE);
    const operationId = await createInstances(ros, 'golden', accounts.slice(0, 2), [REGION, OTHER_REGION], {
      operationPreferences: { MaxConcurrentCount: 2 },
    });
    await waitForOperation(ros, operationId);
    open(dir, 'Create');
    const result = await deploying;

    expect(result).toMatchObject({ status: 'CREATE_COMPLETE', success: true });
    const [a, b] = accounts;
    expect(result.stackGroups).toHaveLength(1);
    expect(imageIdsOf(result.stackGroups![0])).toEqual({
      [a]: { [REGION]: `m-${a}-${REGION}`, [OTHER_REGION]: `m-${a}-${OTHER_REGION}` },
      [b]: { [REGION]: `m-${b}-${REGION}`, [OTHER_REGION]: `m-${b}-${OTHER_REGION}` },
    });
    expect(result.stackGroups![0]).toMatchObject({
      stackGroupName: 'golden',
      regionId: REGION,
      exists: true,
      failures: [],
      operations: [{ operationId, action: 'CREATE', status: 'SUCCEEDED' }],
    });
    // Every account and region reached SUCCEEDED, told once each, and the count ended at 4 of 4.
    const followed = lines(events);
    for (const account of [a, b]) {
      for (const region of [REGION, OTHER_REGION]) {
        expect(followed.filter((l) => l === `${account} ${region} CREATE SUCCEEDED`)).toHaveLength(1);
      }
    }
    expect(followed.filter((l) => l.startsWith('CREATE ')).pop()).toBe('CREATE 4/4');
    expect(events).toContainEqual(
      expect.objectContaining({ type: 'stack-group-operation', operationId, status: 'SUCCEEDED' }),
    );

    // `outputs` reads the same from the group itself.
    const outputs = await stackOutputs({ ...fast, stackName: 'org-images' });
    expect(imageIdsOf(outputs.stackGroups![0])).toEqual(imageIdsOf(result.stackGroups![0]));

    // An update follows only the operations that start during it, not the group's earlier ones.
    events.length = 0;
    const updating = deployStack({
      ...fast,
      stackName: 'org-images',
      template: stackTemplate('golden', dir, '2'),
      onEvent: (e) => events.push(e),
    });
    await atGate('org-images', 'UPDATE_IN_PROGRESS');
    const added = await createInstances(ros, 'golden', [a], ['cn-shanghai']);
    await waitForOperation(ros, added);
    open(dir, 'Update');
    const updated = await updating;
    expect(updated).toMatchObject({ status: 'UPDATE_COMPLETE', success: true });
    expect(updated.stackGroups![0].operations).toEqual([
      { operationId: added, action: 'CREATE', status: 'SUCCEEDED' },
    ]);
    // (A poll may also have caught it RUNNING, 0 of 1 done.)
    const own = lines(events);
    expect(
      own.filter((l) => !l.startsWith('CREATE ')).every((l) => l.startsWith(`${a} cn-shanghai CREATE `)),
    ).toBe(true);
    expect(own.filter((l) => l.endsWith('SUCCEEDED'))).toEqual([`${a} cn-shanghai CREATE SUCCEEDED`]);
    expect(own.pop()).toBe('CREATE 1/1');
    expect(imageIdsOf(updated.stackGroups![0])[a]).toEqual({
      [REGION]: `m-${a}-${REGION}`,
      [OTHER_REGION]: `m-${a}-${OTHER_REGION}`,
      'cn-shanghai': `m-${a}-cn-shanghai`,
    });
  });

  it('fails a stack that completed while an account failed within the failure tolerance, and an unchanged deploy of it, naming the account and ROS reason', async () => {
    const events: DeployEvent[] = [];
    const deploying = deployStack({
      ...fast,
      stackName: 'org-tolerant',
      template: stackTemplate('tolerant', dir),
      onEvent: (e) => events.push(e),
    });
    await atGate('org-tolerant', 'CREATE_IN_PROGRESS');
    await createGroup(ros, 'tolerant', INSTANCE_TEMPLATE);
    const operationId = await createInstances(ros, 'tolerant', accounts, [REGION], {
      operationPreferences: { FailureToleranceCount: 1 },
    });
    const operation = await waitForOperation(ros, operationId);
    open(dir, 'Create');
    const result = await deploying;

    // ROS calls the operation a success (the failure was tolerated); the job did not reach every account.
    expect(operation.status).toBe('SUCCEEDED');
    expect(result).toMatchObject({ status: 'CREATE_COMPLETE', success: false });
    expect(result.statusReason).toContain('1 of 3 stack instances');
    const [failure] = result.stackGroups![0].failures;
    expect(result.stackGroups![0].failures).toHaveLength(1);
    expect(failure).toMatchObject({
      accountId: accounts[2],
      regionId: REGION,
      action: 'CREATE',
      status: 'FAILED',
    });
    expect(failure.statusReason).toMatch(/AliyunROSStackGroupExecutionRole|assume/i);
    expect(lines(events)).toContain(`${accounts[2]} ${REGION} CREATE FAILED`);

    // Deployed again without changes: ROS has nothing to do, but the instance is still not CURRENT.
    const again = await deployStack({
      ...fast,
      stackName: 'org-tolerant',
      template: stackTemplate('tolerant', dir),
    });
    expect(again).toMatchObject({ noChanges: true, success: false, status: 'CREATE_COMPLETE' });
    expect(again.statusReason).toContain(
      '1 of 3 stack instances of group tolerant are not CURRENT (OUTDATED',
    );
    expect(again.statusReason).toContain('UpdateStackInstances');
    expect(again.stackGroups![0].failures).toEqual([
      expect.objectContaining({ accountId: accounts[2], regionId: REGION, status: 'OUTDATED' }),
    ]);

    // Once the account can be reached and its instance is made again, the unchanged deploy succeeds.
    putExecutionRole(cloud.accounts[2], cloud.accountId);
    const retried = (
      await ros.updateStackInstances(
        new $Ros.UpdateStackInstancesRequest({
          regionId: REGION,
          stackGroupName: 'tolerant',
          accountIds: [accounts[2]],
          regionIds: [REGION],
        }),
      )
    ).body!.operationId!;
    await waitForOperation(ros, retried);
    const healed = await deployStack({
      ...fast,
      stackName: 'org-tolerant',
      template: stackTemplate('tolerant', dir),
    });
    expect(healed).toMatchObject({ noChanges: true, success: true });
  });

  it('follows the deletion of the instances during a destroy, and names the instances a failed destroy left', async () => {
    const create = deployStack({ ...fast, stackName: 'org-leaves', template: stackTemplate('leaves', dir) });
    await atGate('org-leaves', 'CREATE_IN_PROGRESS');
    await createGroup(ros, 'leaves', INSTANCE_TEMPLATE);
    await waitForOperation(ros, await createInstances(ros, 'leaves', accounts.slice(0, 2), [REGION]));
    open(dir, 'Create');
    expect(await create).toMatchObject({ success: true });

    // The deletion removes one account's instance, then fails: the other's is left.
    fs.writeFileSync(path.join(dir, 'fail-Delete'), '');
    const events: DeployEvent[] = [];
    const destroying = destroyStack({ ...fast, stackName: 'org-leaves', onEvent: (e) => events.push(e) });
    await atGate('org-leaves', 'DELETE_IN_PROGRESS');
    const deletion = (
      await ros.deleteStackInstances(
        new $Ros.DeleteStackInstancesRequest({
          regionId: REGION,
          stackGroupName: 'leaves',
          accountIds: [accounts[1]],
          regionIds: [REGION],
          retainStacks: false,
        }),
      )
    ).body!.operationId!;
    await waitForOperation(ros, deletion);
    open(dir, 'Delete');
    const result: StackOperationResult = await destroying;

    expect(result).toMatchObject({ status: 'DELETE_FAILED', success: false });
    expect(lines(events)).toContain(`${accounts[1]} ${REGION} DELETE SUCCEEDED`);
    expect(result.stackGroups![0]).toMatchObject({
      stackGroupName: 'leaves',
      exists: true,
      operations: [{ operationId: deletion, action: 'DELETE', status: 'SUCCEEDED' }],
      instances: [expect.objectContaining({ accountId: accounts[0], regionId: REGION, status: 'CURRENT' })],
    });
  });
});

/** A stack of ALIYUN::ROS::StackGroup and ALIYUN::ROS::StackInstances (H2's template types) in `accounts` × `regions`. */
function groupTemplate(groupName: string, accounts: string[], regions: string[], tolerance = 0) {
  return {
    ROSTemplateFormatVersion: '2015-09-01',
    Resources: {
      Group: {
        Type: 'ALIYUN::ROS::StackGroup',
        Properties: { StackGroupName: groupName, TemplateBody: INSTANCE_TEMPLATE },
      },
      Instances: {
        Type: 'ALIYUN::ROS::StackInstances',
        Properties: {
          StackGroupName: { Ref: 'Group' },
          AccountIds: accounts,
          RegionIds: regions,
          OperationPreferences: { MaxConcurrentCount: 2, FailureToleranceCount: tolerance },
        },
      },
    },
  };
}

describe('ros-deploy and the ALIYUN::ROS::StackGroup / StackInstances template types (LocalCloud, 3 accounts)', () => {
  let cloud: LocalCloud;
  let fast: Awaited<ReturnType<typeof startCloud>>['fast'];
  let accounts: string[];
  beforeAll(async () => {
    ({ cloud, fast } = await startCloud({ accounts: 3 }));
    accounts = cloud.accounts.map((a) => a.accountId);
    // No execution role in the third account: ROS cannot reach it.
    putAdministrationRole(cloud.accounts[0]);
    putExecutionRole(cloud.accounts[0], cloud.accountId);
    putExecutionRole(cloud.accounts[1], cloud.accountId);
  });
  afterAll(async () => {
    for (const account of cloud.accounts) {
      await account.stackGroups.settled();
    }
    await cloud.stop();
  });

  const statuses = (events: DeployEvent[]) =>
    events.flatMap((e) =>
      e.type === 'stack-instance' ? [`${e.accountId} ${e.regionId} ${e.action} ${e.status}`] : [],
    );

  it('follows the instances the stack creates, reads their images, then follows their deletion to an empty account', async () => {
    const [a, b] = accounts;
    const events: DeployEvent[] = [];
    const created = await deployStack({
      ...fast,
      stackName: 'typed',
      template: groupTemplate('typed', [a, b], [REGION, OTHER_REGION]),
      onEvent: (e) => events.push(e),
    });
    expect(created).toMatchObject({ status: 'CREATE_COMPLETE', success: true });
    expect(imageIdsOf(created.stackGroups![0])).toEqual({
      [a]: { [REGION]: `m-${a}-${REGION}`, [OTHER_REGION]: `m-${a}-${OTHER_REGION}` },
      [b]: { [REGION]: `m-${b}-${REGION}`, [OTHER_REGION]: `m-${b}-${OTHER_REGION}` },
    });
    expect(
      statuses(events)
        .filter((l) => l.endsWith('CREATE SUCCEEDED'))
        .sort(),
    ).toEqual(
      [a, b]
        .flatMap((acc) => [`${acc} ${OTHER_REGION} CREATE SUCCEEDED`, `${acc} ${REGION} CREATE SUCCEEDED`])
        .sort(),
    );
    expect(events.filter((e) => e.type === 'stack-group-progress').pop()).toMatchObject({
      done: 4,
      total: 4,
    });

    events.length = 0;
    const destroyed = await destroyStack({ ...fast, stackName: 'typed', onEvent: (e) => events.push(e) });
    expect(destroyed).toMatchObject({ status: 'DELETE_COMPLETE', success: true });
    expect(statuses(events).filter((l) => l.endsWith('DELETE SUCCEEDED'))).toHaveLength(4);
    expect(destroyed.stackGroups).toEqual([
      expect.objectContaining({ stackGroupName: 'typed', exists: false, instances: [], failures: [] }),
    ]);
  });

  it('deploys as before, saying so, when the deploying identity may not read the stack group operations', async () => {
    const [a] = accounts;
    const deployer = cloud.issueRoleCredentials('deployer', {
      Version: '1',
      Statement: [
        { Effect: 'Allow', Action: ['*'], Resource: ['*'] },
        { Effect: 'Deny', Action: ['ros:ListStackGroupOperations'], Resource: ['*'] },
      ],
    });
    const events: DeployEvent[] = [];
    const created = await deployStack({
      ...fast,
      credentials: deployer,
      stackName: 'typed-unread',
      template: groupTemplate('typed-unread', [a], [REGION]),
      onEvent: (e) => events.push(e),
    });
    // The stack's status is the outcome; the groups were a view of it.
    expect(created).toMatchObject({ status: 'CREATE_COMPLETE', success: true });
    expect(created.stackGroups).toBeUndefined();
    const messages = events.flatMap((e) => (e.type === 'message' ? [e.text] : []));
    expect(messages).toEqual([
      expect.stringMatching(
        /^stack group operations are unavailable \(ListStackGroupOperations failed: .*Forbidden\.RAM/,
      ),
      expect.stringMatching(/^cannot read the stack's stack groups \(.*\): their instances are not checked$/),
    ]);
    expect(events.some((e) => e.type === 'stack-instance')).toBe(false);
    expect(await destroyStack({ ...fast, stackName: 'typed-unread' })).toMatchObject({ success: true });
  });

  it('fails a stack whose StackInstances completed with an unreachable account within FailureToleranceCount, and names the instance its destroy cannot delete', async () => {
    const events: DeployEvent[] = [];
    const created = await deployStack({
      ...fast,
      stackName: 'typed-tolerant',
      template: groupTemplate('typed-tolerant', accounts, [REGION], 1),
      onEvent: (e) => events.push(e),
    });
    expect(created).toMatchObject({ status: 'CREATE_COMPLETE', success: false });
    expect(created.stackGroups![0].failures).toEqual([
      expect.objectContaining({
        accountId: accounts[2],
        regionId: REGION,
        action: 'CREATE',
        status: 'FAILED',
      }),
    ]);
    expect(Object.keys(imageIdsOf(created.stackGroups![0])).sort()).toEqual(accounts.slice(0, 2).sort());
    // As ros-deploy prints it: the images that were made, then the failure with ROS's reason, last.
    const printed = formatResults([created], 'deploy').trimEnd().split('\n');
    const reached = accounts.slice(0, 2).sort();
    expect(printed).toEqual([
      'Images of typed-tolerant, stack group typed-tolerant (cn-hangzhou), per account and region:',
      ...reached.map((account) => `  ${account} ${REGION.padEnd(16)} m-${account}-${REGION}`),
      '  (1 of 3 stack instances have no image)',
      expect.stringMatching(
        /^FAILED typed-tolerant \(cn-hangzhou\): CREATE_COMPLETE: the stack completed, but 1 of 3 stack instances/,
      ),
      '  stack group typed-tolerant (cn-hangzhou): 1 failed:',
      expect.stringMatching(
        new RegExp(`^    ${accounts[2]} ${REGION} +CREATE FAILED: Failed to assume the execution role`),
      ),
    ]);

    // Its deletion cannot reach that account either: the group keeps its instance, and the destroy says so.
    const destroyed = await destroyStack({ ...fast, stackName: 'typed-tolerant' });
    expect(destroyed).toMatchObject({ status: 'DELETE_FAILED', success: false });
    expect(destroyed.stackGroups).toEqual([
      expect.objectContaining({
        stackGroupName: 'typed-tolerant',
        exists: true,
        instances: [
          expect.objectContaining({ accountId: accounts[2], regionId: REGION, status: 'OUTDATED' }),
        ],
        failures: [
          expect.objectContaining({
            accountId: accounts[2],
            action: 'DELETE',
            status: 'FAILED',
            statusReason: expect.stringContaining('AliyunROSStackGroupExecutionRole'),
          }),
        ],
      }),
    ]);
  });
});
