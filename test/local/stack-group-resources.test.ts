/**
 * `ALIYUN::ROS::StackGroup` and `ALIYUN::ROS::StackInstances` in a template, through CreateStack / UpdateStack /
 * DeleteStack of the real `@alicloud/ros20190910` client: a group with instances in two accounts, a change that
 * replaces both (every property is documented "Editable: No",
 * https://www.alibabacloud.com/help/en/ros/developer-reference/aliyun-ros-stackgroup and
 * https://www.alibabacloud.com/help/en/ros/developer-reference/aliyun-ros-stackinstances), the deletion that leaves
 * nothing in any account, and an operation that FAILED failing the resource with each account's reason.
 */
import Ros, * as $Ros from '@alicloud/ros20190910';
import { LocalCloud } from '../../lib/local';
import { instanceTemplate, REGION, rosClient } from './stack-groups-fixture';

/** The main stack's template: a group and its instances in `accounts`, in REGION. */
function template(options: {
  groupName: string;
  name: string;
  accounts: string[];
  instanceProperties?: Record<string, unknown>;
  /** Every instance's stack fails (a launch template of an image that does not exist). */
  failing?: boolean;
}): string {
  return JSON.stringify({
    ROSTemplateFormatVersion: '2015-09-01',
    Resources: {
      Group: {
        Type: 'ALIYUN::ROS::StackGroup',
        Properties: {
          StackGroupName: options.groupName,
          // As JSON text: a template object would have its own Refs resolved in this stack, as any property's.
          TemplateBody: instanceTemplate({ failWhen: 'yes' }),
          Parameters: { Name: options.name, Fail: options.failing ? 'yes' : 'no' },
          Description: 'made by a template',
        },
      },
      Instances: {
        Type: 'ALIYUN::ROS::StackInstances',
        Properties: {
          StackGroupName: { Ref: 'Group' },
          AccountIds: options.accounts,
          RegionIds: [REGION],
          OperationPreferences: { MaxConcurrentCount: 2, FailureToleranceCount: 0 },
          ...options.instanceProperties,
        },
      },
    },
    Outputs: {
      GroupId: { Value: { 'Fn::GetAtt': ['Group', 'StackGroupId'] } },
      GroupName: { Value: { 'Fn::GetAtt': ['Group', 'StackGroupName'] } },
      OperationId: { Value: { 'Fn::GetAtt': ['Instances', 'LastOperationId'] } },
      Stacks: { Value: { 'Fn::GetAtt': ['Instances', 'Stacks'] } },
    },
  });
}

async function settled(cloud: LocalCloud): Promise<void> {
  for (let round = 0; round < 3; round++) {
    for (const account of cloud.accounts) {
      await account.ros.settled();
      await account.stackGroups.settled();
    }
  }
}

async function stackOf(ros: Ros, stackId: string) {
  return (await ros.getStack(new $Ros.GetStackRequest({ regionId: REGION, stackId }))).body!;
}

/** The stacks an account has in REGION that are not deleted. */
const liveStacks = (cloud: LocalCloud, index: number) =>
  cloud.accounts[index].ros.stacks(REGION).filter((s) => s.status !== 'DELETE_COMPLETE');

const activeGroups = (cloud: LocalCloud) =>
  cloud.accounts[0].stackGroups.list(REGION).map((g) => g.stackGroupName);

describe('ALIYUN::ROS::StackGroup and ALIYUN::ROS::StackInstances in a template', () => {
  let cloud: LocalCloud;
  afterEach(async () => cloud?.stop());

  it('create a group with instances in two accounts, replace both on a change, and leave nothing in any account once deleted', async () => {
    cloud = await LocalCloud.start({ accounts: 3, stackGroupRoles: true });
    const ros = rosClient(cloud);
    const [, first, second] = cloud.accounts.map((a) => a.accountId);

    const created = await ros.createStack(
      new $Ros.CreateStackRequest({
        regionId: REGION,
        stackName: 'fleet',
        templateBody: template({ groupName: 'images-v1', name: 'v1', accounts: [first, second] }),
      }),
    );
    const stackId = created.body!.stackId!;
    await settled(cloud);
    const stack = await stackOf(ros, stackId);
    expect(stack.status).toBe('CREATE_COMPLETE');
    const outputs = Object.fromEntries(stack.outputs!.map((o: any) => [o.OutputKey, o.OutputValue]));
    const group = cloud.accounts[0].stackGroups.get(REGION, 'images-v1');
    expect(outputs.GroupId).toBe(group.stackGroupId);
    expect(outputs.GroupName).toBe('images-v1');
    const instances = cloud.accounts[0].stackGroups.instancesOf(group);
    expect(instances.map((i) => [i.accountId, i.status])).toEqual([
      [first, 'CURRENT'],
      [second, 'CURRENT'],
    ]);
    expect(outputs.Stacks).toEqual(
      instances.map((i) => ({ AccountId: i.accountId, RegionId: REGION, StackId: i.stackId })),
    );
    expect(cloud.accounts[0].stackGroups.operation(REGION, outputs.OperationId).action).toBe('CREATE');
    // Each instance is a stack of its own account, with the group's parameters.
    for (const index of [1, 2]) {
      const [instanceStack] = liveStacks(cloud, index);
      expect(instanceStack.stackName).toMatch(/^StackGroup-images-v1-/);
      expect(instanceStack.outputs?.find((o) => o.OutputKey === 'Name')?.OutputValue).toBe('v1');
    }
    expect(liveStacks(cloud, 0)).toHaveLength(1); // the template's own stack only

    // A new group name and parameters: every property is "Editable: No", so both resources are replaced.
    await ros.updateStack(
      new $Ros.UpdateStackRequest({
        regionId: REGION,
        stackId,
        templateBody: template({ groupName: 'images-v2', name: 'v2', accounts: [first, second] }),
        replacementOption: 'Enabled',
      }),
    );
    await settled(cloud);
    expect((await stackOf(ros, stackId)).status).toBe('UPDATE_COMPLETE');
    expect(activeGroups(cloud)).toEqual(['images-v2']);
    const replaced = cloud.accounts[0].stackGroups.get(REGION, 'images-v2');
    expect(cloud.accounts[0].stackGroups.instancesOf(replaced).map((i) => i.accountId)).toEqual([
      first,
      second,
    ]);
    for (const index of [1, 2]) {
      const live = liveStacks(cloud, index);
      expect(live.map((s) => s.stackName)).toEqual([expect.stringMatching(/^StackGroup-images-v2-/)]);
      expect(live[0].outputs?.find((o) => o.OutputKey === 'Name')?.OutputValue).toBe('v2');
    }

    await ros.deleteStack(new $Ros.DeleteStackRequest({ regionId: REGION, stackId }));
    await settled(cloud);
    expect((await stackOf(ros, stackId)).status).toBe('DELETE_COMPLETE');
    expect(activeGroups(cloud)).toEqual([]);
    for (const index of [0, 1, 2]) {
      expect(liveStacks(cloud, index)).toEqual([]);
    }
  });

  it("fails StackInstances with each failed account and region's reason when the operation FAILED, and the rollback leaves nothing", async () => {
    cloud = await LocalCloud.start({ accounts: 3, stackGroupRoles: true });
    const ros = rosClient(cloud);
    const [, first, second] = cloud.accounts.map((a) => a.accountId);
    const created = await ros.createStack(
      new $Ros.CreateStackRequest({
        regionId: REGION,
        stackName: 'half',
        templateBody: template({
          groupName: 'half',
          name: 'v1',
          accounts: [first, second],
          failing: true,
        }),
      }),
    );
    await settled(cloud);
    const stack = await stackOf(ros, created.body!.stackId!);
    expect(stack.status).toBe('CREATE_ROLLBACK_COMPLETE');
    const events = (
      await ros.listStackEvents(
        new $Ros.ListStackEventsRequest({ regionId: REGION, stackId: stack.stackId, pageSize: 50 }),
      )
    ).body!.events!;
    const failed = events.find((e) => e.logicalResourceId === 'Instances' && e.status === 'CREATE_FAILED')!;
    expect(failed.statusReason).toContain('CreateStackInstances operation');
    expect(failed.statusReason).toContain('ended FAILED');
    for (const account of [first, second]) {
      expect(failed.statusReason).toMatch(new RegExp(`${account}/${REGION}: [^;]*InvalidImageId.NotFound`));
    }
    expect(activeGroups(cloud)).toEqual([]);
    for (const index of [0, 1, 2]) {
      expect(liveStacks(cloud, index).filter((s) => s.stackName !== 'half')).toEqual([]);
    }
  });

  it.each([
    [
      'create-first',
      'the new instances collide with the old (StackInstanceExists): the update rolls back, and the old instances stay',
    ],
    ['delete-first', 'the old instances are deleted, then the new ones made'],
  ] as const)(
    'adding an account to StackInstances replaces it: under replacementOrder %s, %s',
    async (replacementOrder, _outcome) => {
      cloud = await LocalCloud.start({ accounts: 3, stackGroupRoles: true, variants: { replacementOrder } });
      const ros = rosClient(cloud);
      const [, first, second] = cloud.accounts.map((a) => a.accountId);
      const created = await ros.createStack(
        new $Ros.CreateStackRequest({
          regionId: REGION,
          stackName: 'grow',
          templateBody: template({ groupName: 'grow', name: 'v1', accounts: [first] }),
        }),
      );
      const stackId = created.body!.stackId!;
      await settled(cloud);
      const before = liveStacks(cloud, 1).map((s) => s.stackId);
      await ros.updateStack(
        new $Ros.UpdateStackRequest({
          regionId: REGION,
          stackId,
          templateBody: template({ groupName: 'grow', name: 'v1', accounts: [first, second] }),
          replacementOption: 'Enabled',
        }),
      );
      await settled(cloud);
      const group = cloud.accounts[0].stackGroups.get(REGION, 'grow');
      const accounts = cloud.accounts[0].stackGroups.instancesOf(group).map((i) => i.accountId);
      if (replacementOrder === 'create-first') {
        expect((await stackOf(ros, stackId)).status).toBe('ROLLBACK_COMPLETE');
        expect(accounts).toEqual([first]);
        expect(liveStacks(cloud, 1).map((s) => s.stackId)).toEqual(before);
        expect(liveStacks(cloud, 2)).toEqual([]);
      } else {
        expect((await stackOf(ros, stackId)).status).toBe('UPDATE_COMPLETE');
        expect(accounts.sort()).toEqual([first, second].sort());
        expect(liveStacks(cloud, 1).map((s) => s.stackId)).not.toEqual(before);
      }
    },
  );

  it('refuses a bad property naming it and the rule', async () => {
    cloud = await LocalCloud.start({ accounts: 2, stackGroupRoles: true });
    const ros = rosClient(cloud);
    const created = await ros.createStack(
      new $Ros.CreateStackRequest({
        regionId: REGION,
        stackName: 'bad',
        templateBody: template({
          groupName: 'bad',
          name: 'v1',
          accounts: [cloud.accounts[1].accountId],
          instanceProperties: { OperationPreferences: { MaxConcurrentCount: 21 } },
        }),
      }),
    );
    await settled(cloud);
    const stack = await stackOf(ros, created.body!.stackId!);
    expect(stack.status).toBe('CREATE_ROLLBACK_COMPLETE');
    expect(stack.statusReason).toContain(
      'OperationPreferences.MaxConcurrentCount must be an integer from 1 to 20, got 21',
    );
    expect(activeGroups(cloud)).toEqual([]);
  });
});
