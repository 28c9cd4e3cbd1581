/**
 * LocalCloud's ROS stack groups through the real `@alicloud/ros20190910` client, with four accounts: groups,
 * instances as real stacks in each target account, operations and their results, the documented error codes.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as $Ros from '@alicloud/ros20190910';
import { LocalCloud } from '../../lib/local';
import { ECS_REGION_IDS } from '../../lib/local/ecs';
import {
  createGroup,
  createInstances,
  grantSelfManaged,
  instanceTemplate,
  operationResults,
  REGION,
  rosClient,
  slowTemplate,
  waitForOperation,
} from './stack-groups-fixture';

const OTHER_REGION = 'cn-beijing';

describe('LocalCloud stack groups', () => {
  let cloud: LocalCloud;
  let dir: string;
  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stack-groups-'));
    cloud = await LocalCloud.start({ accounts: 4 });
    grantSelfManaged(cloud);
  });
  afterEach(async () => {
    await cloud.accounts[0].stackGroups.settled();
    await cloud.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const errorOf = async (promise: Promise<unknown>) => {
    try {
      await promise;
    } catch (err) {
      return err as { code: string; message: string; statusCode: number };
    }
    throw new Error('expected the call to fail');
  };

  it('creates a self-managed stack group with the documented role defaults, gets and lists it, and refuses a second one of that name', async () => {
    const ros = rosClient(cloud);
    const id = await createGroup(ros, 'images', instanceTemplate(), {
      description: 'golden images',
      parameters: [
        new $Ros.CreateStackGroupRequestParameters({ parameterKey: 'Name', parameterValue: 'gold' }),
      ],
    });
    const group = (
      await ros.getStackGroup(new $Ros.GetStackGroupRequest({ regionId: REGION, stackGroupName: 'images' }))
    ).body!.stackGroup!;
    expect(group).toMatchObject({
      stackGroupId: id,
      stackGroupName: 'images',
      description: 'golden images',
      status: 'ACTIVE',
      permissionModel: 'SELF_MANAGED',
      administrationRoleName: 'AliyunROSStackGroupAdministrationRole',
      executionRoleName: 'AliyunROSStackGroupExecutionRole',
      parameters: [{ parameterKey: 'Name', parameterValue: 'gold' }],
    });
    expect(group.templateBody).toBe(instanceTemplate());
    const list = (await ros.listStackGroups(new $Ros.ListStackGroupsRequest({ regionId: REGION }))).body!;
    expect(list.stackGroups!.map((g) => g.stackGroupName)).toEqual(['images']);
    // The same ClientToken replays the first answer.
    const token = 'create-images-2';
    const first = await createGroup(ros, 'images-2', instanceTemplate(), { clientToken: token });
    expect(await createGroup(ros, 'images-2', instanceTemplate(), { clientToken: token })).toBe(first);
    const exists = await errorOf(createGroup(ros, 'images', instanceTemplate()));
    expect(exists.code).toBe('StackGroupExists');
    expect(exists.message).toContain('The StackGroup (images) already exists.');
    const missing = await errorOf(
      ros.getStackGroup(new $Ros.GetStackGroupRequest({ regionId: REGION, stackGroupName: 'nope' })),
    );
    expect(missing.code).toBe('StackGroupNotFound');
    const badName = await errorOf(createGroup(ros, '-bad', instanceTemplate()));
    expect(badName.code).toBe('InvalidParameter');
    expect(badName.message).toContain('StackGroupName');
  });

  it("creates instances as real stacks in each target account's own ROS, named StackGroup-<name>-<uuid>, CURRENT with their outputs", async () => {
    const ros = rosClient(cloud);
    await createGroup(ros, 'images', instanceTemplate(), {
      parameters: [
        new $Ros.CreateStackGroupRequestParameters({ parameterKey: 'Name', parameterValue: 'gold' }),
      ],
    });
    const targets = cloud.accounts.slice(1).map((a) => a.accountId);
    const operationId = await createInstances(ros, 'images', targets, [REGION, OTHER_REGION], {
      parameterOverrides: [
        new $Ros.CreateStackInstancesRequestParameterOverrides({
          parameterKey: 'Name',
          parameterValue: 'silver',
        }),
      ],
      operationPreferences: { MaxConcurrentCount: 3 },
      operationDescription: 'first',
    });
    const operation = await waitForOperation(ros, operationId);
    expect(operation).toMatchObject({
      operationId,
      action: 'CREATE',
      status: 'SUCCEEDED',
      stackGroupName: 'images',
      operationDescription: 'first',
      operationPreferences: { maxConcurrentCount: 3, regionIdsOrder: [REGION, OTHER_REGION] },
    });
    expect(operation.endTime).toBeDefined();
    const results = await operationResults(ros, operationId);
    expect(results.map((r) => `${r.accountId}/${r.regionId}:${r.status}`).sort()).toEqual(
      targets.flatMap((a) => [`${a}/${REGION}:SUCCEEDED`, `${a}/${OTHER_REGION}:SUCCEEDED`]).sort(),
    );
    const instances = (
      await ros.listStackInstances(
        new $Ros.ListStackInstancesRequest({ regionId: REGION, stackGroupName: 'images', pageSize: 50 }),
      )
    ).body!;
    expect(instances.totalCount).toBe(6);
    expect(instances.stackInstances!.every((i) => i.status === 'CURRENT' && i.stackId)).toBe(true);

    for (const account of cloud.accounts.slice(1)) {
      const own = rosClient(cloud, account);
      for (const region of [REGION, OTHER_REGION]) {
        const stacks = (await own.listStacks(new $Ros.ListStacksRequest({ regionId: region }))).body!.stacks!;
        expect(stacks).toHaveLength(1);
        expect(stacks[0].stackName).toMatch(
          /^StackGroup-images-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
        );
        expect(stacks[0].status).toBe('CREATE_COMPLETE');
        // TimeoutInMinutes: "Default value: 60" (CreateStackInstancesRequest).
        expect(stacks[0].timeoutInMinutes).toBe(60);
        const instance = (
          await ros.getStackInstance(
            new $Ros.GetStackInstanceRequest({
              regionId: REGION,
              stackGroupName: 'images',
              stackInstanceAccountId: account.accountId,
              stackInstanceRegionId: region,
              outputOption: 'Enabled',
            }),
          )
        ).body!.stackInstance!;
        expect(instance).toMatchObject({
          accountId: account.accountId,
          regionId: region,
          status: 'CURRENT',
          stackId: stacks[0].stackId,
          parameterOverrides: [{ parameterKey: 'Name', parameterValue: 'silver' }],
        });
        const outputs = Object.fromEntries(instance.outputs!.map((o) => [o.OutputKey, o.OutputValue]));
        expect(outputs).toMatchObject({ Region: region, Name: 'silver' });
        expect(String(outputs.RoleArn)).toContain(`acs:ram::${account.accountId}:role/r-silver-`);
      }
    }
    // The administrator's own account has no stack: it was not a target.
    expect(cloud.accounts[0].ros.stacks(REGION)).toHaveLength(0);
    const withoutOutputs = (
      await ros.getStackInstance(
        new $Ros.GetStackInstanceRequest({
          regionId: REGION,
          stackGroupName: 'images',
          stackInstanceAccountId: targets[0],
          stackInstanceRegionId: REGION,
        }),
      )
    ).body!.stackInstance!;
    expect(withoutOutputs.outputs).toBeUndefined();
  });

  it('refuses a second operation while one runs (StackGroupOperationInProgress), an existing instance (StackInstanceExists) and deleting a group that has instances (StackGroupNotEmpty)', async () => {
    const ros = rosClient(cloud);
    await createGroup(ros, 'images', slowTemplate(path.join(dir, 'log'), 500));
    const target = cloud.accounts[1].accountId;
    const operationId = await createInstances(ros, 'images', [target], [REGION]);
    const busy = await errorOf(createInstances(ros, 'images', [cloud.accounts[2].accountId], [REGION]));
    expect(busy.code).toBe('StackGroupOperationInProgress');
    expect(busy.statusCode).toBe(409);
    expect(busy.message).toContain('Another Operation on StackGroup (images) is in progress.');
    await waitForOperation(ros, operationId);
    const exists = await errorOf(createInstances(ros, 'images', [target], [REGION]));
    expect(exists.code).toBe('StackInstanceExists');
    const notEmpty = await errorOf(
      ros.deleteStackGroup(new $Ros.DeleteStackGroupRequest({ regionId: REGION, stackGroupName: 'images' })),
    );
    expect(notEmpty.code).toBe('StackGroupNotEmpty');
    expect(notEmpty.message).toContain('The StackGroup (images) is not empty.');
  });

  it('deletes instances with their stacks, or detaches the stacks with RetainStacks, then deletes the group (listed as DELETED)', async () => {
    const ros = rosClient(cloud);
    await createGroup(ros, 'images', instanceTemplate());
    const [a, b] = [cloud.accounts[1], cloud.accounts[2]];
    await waitForOperation(ros, await createInstances(ros, 'images', [a.accountId, b.accountId], [REGION]));
    const stackOfB = b.ros.stacks(REGION)[0];

    const deleteA = await ros.deleteStackInstances(
      new $Ros.DeleteStackInstancesRequest({
        regionId: REGION,
        stackGroupName: 'images',
        accountIds: [a.accountId],
        regionIds: [REGION],
        retainStacks: false,
      }),
    );
    const deletion = await waitForOperation(ros, deleteA.body!.operationId!);
    expect(deletion).toMatchObject({ action: 'DELETE', status: 'SUCCEEDED', retainStacks: false });
    expect(a.ros.stacks(REGION).map((s) => s.status)).toEqual(['DELETE_COMPLETE']);

    const retainB = await ros.deleteStackInstances(
      new $Ros.DeleteStackInstancesRequest({
        regionId: REGION,
        stackGroupName: 'images',
        accountIds: [b.accountId],
        regionIds: [REGION],
        retainStacks: true,
      }),
    );
    expect((await waitForOperation(ros, retainB.body!.operationId!)).status).toBe('SUCCEEDED');
    expect(b.ros.get(REGION, stackOfB.stackId).status).toBe('CREATE_COMPLETE');

    const operations = (
      await ros.listStackGroupOperations(
        new $Ros.ListStackGroupOperationsRequest({ regionId: REGION, stackGroupName: 'images' }),
      )
    ).body!.stackGroupOperations!;
    expect(operations.map((o) => [o.action, o.status])).toEqual([
      ['DELETE', 'SUCCEEDED'],
      ['DELETE', 'SUCCEEDED'],
      ['CREATE', 'SUCCEEDED'],
    ]);
    await ros.deleteStackGroup(
      new $Ros.DeleteStackGroupRequest({ regionId: REGION, stackGroupName: 'images' }),
    );
    const gone = await errorOf(
      ros.getStackGroup(new $Ros.GetStackGroupRequest({ regionId: REGION, stackGroupName: 'images' })),
    );
    expect(gone.code).toBe('StackGroupNotFound');
    const deleted = (
      await ros.listStackGroups(new $Ros.ListStackGroupsRequest({ regionId: REGION, status: 'DELETED' }))
    ).body!.stackGroups!;
    expect(deleted.map((g) => [g.stackGroupName, g.status])).toEqual([['images', 'DELETED']]);
  });

  it('answers StackGroupOperationNotFound for an unknown operation, and refuses bad parameters naming them', async () => {
    const ros = rosClient(cloud);
    const missing = await errorOf(
      ros.getStackGroupOperation(
        new $Ros.GetStackGroupOperationRequest({
          regionId: REGION,
          operationId: '00000000-0000-0000-0000-000000000000',
        }),
      ),
    );
    expect(missing.code).toBe('StackGroupOperationNotFound');
    expect(missing.message).toContain(
      'The StackGroupOperation (00000000-0000-0000-0000-000000000000) could not be found.',
    );
    await createGroup(ros, 'images', instanceTemplate());
    const accounts = [cloud.accounts[1].accountId];
    const both = await errorOf(
      createInstances(ros, 'images', accounts, [REGION], {
        operationPreferences: { MaxConcurrentCount: 2, MaxConcurrentPercentage: 50 },
      }),
    );
    expect(both.code).toBe('InvalidParameter');
    expect(both.message).toContain(
      'MaxConcurrentCount and MaxConcurrentPercentage cannot be specified at the same time',
    );
    const tolerance = await errorOf(
      createInstances(ros, 'images', accounts, [REGION], {
        operationPreferences: { FailureToleranceCount: 1, FailureTolerancePercentage: 10 },
      }),
    );
    expect(tolerance.message).toContain(
      'FailureToleranceCount and FailureTolerancePercentage cannot be specified',
    );
    const outOfRange = await errorOf(
      createInstances(ros, 'images', accounts, [REGION], {
        operationPreferences: { MaxConcurrentCount: 21 },
      }),
    );
    expect(outOfRange.message).toContain('OperationPreferences.MaxConcurrentCount');
    expect(outOfRange.message).toContain('an integer from 1 to 20');
    const tooManyAccounts = await errorOf(
      createInstances(
        ros,
        'images',
        Array.from({ length: 21 }, (_, i) => String(1_000_000_000_000_000 + i)),
        [REGION],
      ),
    );
    expect(tooManyAccounts.message).toContain('AccountIds');
    expect(tooManyAccounts.message).toContain('at most 20 per call');
    const tooManyRegions = await errorOf(
      createInstances(
        ros,
        'images',
        accounts,
        Array.from({ length: 21 }, () => REGION),
      ),
    );
    expect(tooManyRegions.message).toContain('RegionIds');
    const unknownRegion = await errorOf(createInstances(ros, 'images', accounts, ['xx-nowhere-1']));
    expect(unknownRegion.message).toContain('xx-nowhere-1');
  });

  it('keeps to the documented limits: 100 stack groups per account, 2,000 instances per group (LimitExceeded)', async () => {
    const ros = rosClient(cloud);
    for (let i = 0; i < 100; i++) {
      await createGroup(ros, `g${i}`, instanceTemplate());
    }
    const groups = await errorOf(createGroup(ros, 'g100', instanceTemplate()));
    expect(groups.code).toBe('LimitExceeded');
    expect(groups.message).toContain('at most 100 per account');
    // Accounts that do not exist fail at once (no execution role): their instances still count.
    const regions = ECS_REGION_IDS.slice(0, 20);
    for (let call = 0; call < 5; call++) {
      const accounts = Array.from({ length: 20 }, (_, i) => String(1_500_000_000_000_000 + call * 100 + i));
      await waitForOperation(ros, await createInstances(ros, 'g0', accounts, regions));
    }
    const instances = await errorOf(createInstances(ros, 'g0', [cloud.accounts[1].accountId], [REGION]));
    expect(instances.code).toBe('LimitExceeded');
    expect(instances.message).toContain('at most 2000 per stack group');
  });

  it('takes up to 50 accounts a call under the variant stackGroupAccountsPerCall=50 (20 by default)', async () => {
    const lax = await LocalCloud.start({ variants: { stackGroupAccountsPerCall: '50' } });
    try {
      const ros = rosClient(lax);
      await createGroup(ros, 'g', instanceTemplate());
      const accounts = (n: number) => Array.from({ length: n }, (_, i) => String(1_600_000_000_000_000 + i));
      const operationId = await createInstances(ros, 'g', accounts(50), [REGION]);
      expect((await waitForOperation(ros, operationId)).status).toBe('FAILED');
      await expect(createInstances(ros, 'g', accounts(51), [OTHER_REGION])).rejects.toMatchObject({
        code: 'InvalidParameter',
        message: expect.stringContaining('at most 50 per call'),
      });
    } finally {
      await lax.accounts[0].stackGroups.settled();
      await lax.stop();
    }
  });
});
