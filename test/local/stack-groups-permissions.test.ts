/**
 * Stack group permission models through LocalCloud's RAM (self-managed roles; service-managed through a Resource
 * Directory), RAM authorization of the actions on their stack group, and updates of a group and of its instances.
 */
import Ros, * as $Ros from '@alicloud/ros20190910';
import { $OpenApiUtil } from '@alicloud/openapi-core';
import { LocalCloud } from '../../lib/local';
import type { ResourceDirectoryView } from '../../lib/local/ros';
import {
  ADMINISTRATION_ROLE,
  createGroup,
  createInstances,
  EXECUTION_ROLE,
  grantSelfManaged,
  instanceTemplate,
  operationResults,
  putAdministrationRole,
  putExecutionRole,
  REGION,
  rosClient,
  waitForOperation,
} from './stack-groups-fixture';

const OTHER_REGION = 'cn-beijing';

describe('stack group permissions', () => {
  let cloud: LocalCloud;
  afterEach(async () => {
    await cloud.accounts[0].stackGroups.settled();
    await cloud.stop();
  });

  it('fails every instance naming the administration role and the administrator account when that role is missing', async () => {
    cloud = await LocalCloud.start({ accounts: 3 });
    cloud.accounts.forEach((a) => putExecutionRole(a, cloud.accountId));
    const ros = rosClient(cloud);
    await createGroup(ros, 'g', instanceTemplate());
    const operationId = await createInstances(ros, 'g', [cloud.accounts[1].accountId], [REGION]);
    expect((await waitForOperation(ros, operationId)).status).toBe('FAILED');
    const [result] = await operationResults(ros, operationId);
    expect(result.status).toBe('FAILED');
    expect(result.statusReason).toBe(
      `Failed to assume the administration role ${ADMINISTRATION_ROLE} of account ${cloud.accountId}: the role does not exist`,
    );
    expect(cloud.accounts[1].ros.stacks(REGION)).toHaveLength(0);
  });

  it('fails only the accounts whose execution role is missing or does not trust the administrator, with the role and account in the reason', async () => {
    cloud = await LocalCloud.start({ accounts: 4 });
    const [admin, good, missing, untrusting] = cloud.accounts;
    putAdministrationRole(admin);
    putExecutionRole(good, admin.accountId);
    putExecutionRole(untrusting, good.accountId);
    const ros = rosClient(cloud);
    await createGroup(ros, 'g', instanceTemplate());
    const operationId = await createInstances(
      ros,
      'g',
      [good.accountId, missing.accountId, untrusting.accountId],
      [REGION],
      { operationPreferences: { FailureToleranceCount: 2, MaxConcurrentCount: 3 } },
    );
    expect((await waitForOperation(ros, operationId)).status).toBe('SUCCEEDED');
    const results = Object.fromEntries(
      (await operationResults(ros, operationId)).map((r) => [r.accountId, r]),
    );
    expect(results[good.accountId].status).toBe('SUCCEEDED');
    expect(results[missing.accountId]).toMatchObject({
      status: 'FAILED',
      statusReason: `Failed to assume the execution role ${EXECUTION_ROLE} of account ${missing.accountId}: the role does not exist`,
    });
    expect(results[untrusting.accountId]).toMatchObject({
      status: 'FAILED',
      statusReason:
        `Failed to assume the execution role ${EXECUTION_ROLE} of account ${untrusting.accountId}: ` +
        `its trust policy does not trust the administrator account ${admin.accountId}`,
    });
    const instances = (
      await ros.listStackInstances(
        new $Ros.ListStackInstancesRequest({ regionId: REGION, stackGroupName: 'g' }),
      )
    ).body!.stackInstances!;
    const byAccount = Object.fromEntries(instances.map((i) => [i.accountId, i]));
    expect(byAccount[good.accountId].status).toBe('CURRENT');
    expect(byAccount[missing.accountId]).toMatchObject({ status: 'OUTDATED' });
    expect(byAccount[missing.accountId].statusReason).toContain(EXECUTION_ROLE);
    expect(byAccount[missing.accountId].stackId).toBeUndefined();
  });

  it('needs the administration role to be allowed sts:AssumeRole on the execution role the group names', async () => {
    cloud = await LocalCloud.start({ accounts: 2 });
    grantSelfManaged(cloud);
    const ros = rosClient(cloud);
    await createGroup(ros, 'g', instanceTemplate(), { executionRoleName: 'OtherExecutionRole' });
    const target = cloud.accounts[1].accountId;
    const operationId = await createInstances(ros, 'g', [target], [REGION]);
    await waitForOperation(ros, operationId);
    const [result] = await operationResults(ros, operationId);
    expect(result.statusReason).toBe(
      `Failed to assume the execution role OtherExecutionRole of account ${target}: the administration role ` +
        `${ADMINISTRATION_ROLE} of account ${cloud.accountId} is not allowed sts:AssumeRole on ` +
        `acs:ram::${target}:role/OtherExecutionRole`,
    );
  });

  it('service-managed: only the resource directory management account may create the group; instances go to the members of the folders given', async () => {
    // Built once the accounts have their ids; read by LocalCloud at each call.
    const directory: { view?: ResourceDirectoryView } = {};
    cloud = await LocalCloud.start({ accounts: 4, resourceDirectoryView: () => directory.view });
    const [management, m1, m2, m3] = cloud.accounts.map((a) => a.accountId);
    const folders: Record<string, string[]> = { 'fd-apps': [m1, m2], 'fd-data': [m3] };
    directory.view = {
      enabled: true,
      managementAccountId: management,
      delegatedAdministratorAccountIds: [],
      hasFolder: (id) => id in folders,
      accountsIn: (id) => (folders[id] ?? []).map((accountId) => ({ accountId, folderId: id })),
      folderOf: (accountId) => Object.keys(folders).find((f) => folders[f].includes(accountId)),
    };
    const ros = rosClient(cloud);
    const member = rosClient(cloud, cloud.accounts[1]);
    await expect(
      createGroup(member, 'g', instanceTemplate(), { permissionModel: 'SERVICE_MANAGED' }),
    ).rejects.toMatchObject({ code: 'InvalidParameter' });
    await createGroup(ros, 'g', instanceTemplate(), {
      permissionModel: 'SERVICE_MANAGED',
      autoDeployment: new $Ros.CreateStackGroupRequestAutoDeployment({
        enabled: true,
        retainStacksOnAccountRemoval: false,
      }),
    });
    const group = (
      await ros.getStackGroup(new $Ros.GetStackGroupRequest({ regionId: REGION, stackGroupName: 'g' }))
    ).body!.stackGroup!;
    expect(group).toMatchObject({
      permissionModel: 'SERVICE_MANAGED',
      autoDeployment: { enabled: true, retainStacksOnAccountRemoval: false },
    });
    expect(group.administrationRoleName).toBeUndefined();
    // Self-managed AccountIds are refused: the targets come from DeploymentTargets.
    await expect(createInstances(ros, 'g', [m1], [REGION])).rejects.toMatchObject({
      code: 'InvalidParameter',
    });
    const response = await ros.createStackInstances(
      new $Ros.CreateStackInstancesRequest({
        regionId: REGION,
        stackGroupName: 'g',
        deploymentTargets: new $Ros.CreateStackInstancesRequestDeploymentTargets({
          rdFolderIds: ['fd-apps'],
        }),
        regionIds: [REGION],
      }),
    );
    // No execution role anywhere: service-managed stack groups use ROS's service-linked roles.
    expect((await waitForOperation(ros, response.body!.operationId!)).status).toBe('SUCCEEDED');
    const instances = (
      await ros.listStackInstances(
        new $Ros.ListStackInstancesRequest({ regionId: REGION, stackGroupName: 'g' }),
      )
    ).body!.stackInstances!;
    expect(instances.map((i) => [i.accountId, i.rdFolderId, i.status])).toEqual([
      [m1, 'fd-apps', 'CURRENT'],
      [m2, 'fd-apps', 'CURRENT'],
    ]);
    expect(cloud.accounts[3].ros.stacks(REGION)).toHaveLength(0);
    const deployed = (
      await ros.getStackGroup(new $Ros.GetStackGroupRequest({ regionId: REGION, stackGroupName: 'g' }))
    ).body!.stackGroup!;
    expect(deployed.rdFolderIds).toEqual(['fd-apps']);
    // UpdateStackInstances on folders updates their members that have instances (m3 in fd-data has none).
    const update = await ros.updateStackInstances(
      new $Ros.UpdateStackInstancesRequest({
        regionId: REGION,
        stackGroupName: 'g',
        deploymentTargets: new $Ros.UpdateStackInstancesRequestDeploymentTargets({
          rdFolderIds: ['fd-apps', 'fd-data'],
        }),
        regionIds: [REGION],
        parameterOverrides: [
          new $Ros.UpdateStackInstancesRequestParameterOverrides({
            parameterKey: 'Name',
            parameterValue: 'apps',
          }),
        ],
      }),
    );
    expect((await waitForOperation(ros, update.body!.operationId!)).status).toBe('SUCCEEDED');
    expect(
      (await operationResults(ros, update.body!.operationId!)).map((r) => [r.accountId, r.rdFolderId]),
    ).toEqual([
      [m1, 'fd-apps'],
      [m2, 'fd-apps'],
    ]);
    await expect(
      ros.createStackInstances(
        new $Ros.CreateStackInstancesRequest({
          regionId: REGION,
          stackGroupName: 'g',
          deploymentTargets: new $Ros.CreateStackInstancesRequestDeploymentTargets({
            rdFolderIds: ['fd-none'],
          }),
          regionIds: [REGION],
        }),
      ),
    ).rejects.toMatchObject({ code: 'InvalidParameter', message: expect.stringContaining('fd-none') });
  });

  it('authorizes each action on its stack group (acs:ros:<region>:<account>:stackgroup/<name>)', async () => {
    cloud = await LocalCloud.start({ accounts: 2 });
    grantSelfManaged(cloud);
    await createGroup(rosClient(cloud), 'allowed', instanceTemplate());
    await createGroup(rosClient(cloud), 'other', instanceTemplate());
    const credentials = cloud.issueRoleCredentials('reader', {
      Version: '1',
      Statement: [
        {
          Effect: 'Allow',
          Action: 'ros:GetStackGroup',
          Resource: `acs:ros:${REGION}:${cloud.accountId}:stackgroup/allowed`,
        },
      ],
    });
    const reader = new Ros(
      new $OpenApiUtil.Config({
        ...credentials,
        regionId: REGION,
        endpoint: cloud.endpoint,
        protocol: 'http',
      }),
    );
    const allowed = await reader.getStackGroup(
      new $Ros.GetStackGroupRequest({ regionId: REGION, stackGroupName: 'allowed' }),
    );
    expect(allowed.body!.stackGroup!.stackGroupName).toBe('allowed');
    await expect(
      reader.getStackGroup(new $Ros.GetStackGroupRequest({ regionId: REGION, stackGroupName: 'other' })),
    ).rejects.toMatchObject({
      code: 'Forbidden.RAM',
      message: expect.stringContaining(`acs:ros:${REGION}:${cloud.accountId}:stackgroup/other`),
    });
  });

  it('UpdateStackGroup applies a new template to the instances given and leaves the others OUTDATED; UpdateStackInstances overrides parameters', async () => {
    cloud = await LocalCloud.start({ accounts: 3 });
    grantSelfManaged(cloud);
    const ros = rosClient(cloud);
    const [, a, b] = cloud.accounts;
    await createGroup(ros, 'g', instanceTemplate());
    await waitForOperation(
      ros,
      await createInstances(ros, 'g', [a.accountId, b.accountId], [REGION, OTHER_REGION]),
    );

    const update = await ros.updateStackGroup(
      new $Ros.UpdateStackGroupRequest({
        regionId: REGION,
        stackGroupName: 'g',
        templateBody: instanceTemplate(),
        parameters: [
          new $Ros.UpdateStackGroupRequestParameters({ parameterKey: 'Name', parameterValue: 'v2' }),
        ],
        accountIds: [a.accountId],
        regionIds: [REGION],
      }),
    );
    const operation = await waitForOperation(ros, update.body!.operationId!);
    expect(operation).toMatchObject({ action: 'UPDATE', status: 'SUCCEEDED' });
    const status = async (account: string, region: string) =>
      (
        await ros.getStackInstance(
          new $Ros.GetStackInstanceRequest({
            regionId: REGION,
            stackGroupName: 'g',
            stackInstanceAccountId: account,
            stackInstanceRegionId: region,
            outputOption: 'Enabled',
          }),
        )
      ).body!.stackInstance!;
    const updated = await status(a.accountId, REGION);
    expect(updated.status).toBe('CURRENT');
    expect(updated.outputs!.find((o) => o.OutputKey === 'Name')!.OutputValue).toBe('v2');
    expect((await status(a.accountId, OTHER_REGION)).status).toBe('OUTDATED');
    expect((await status(b.accountId, REGION)).status).toBe('OUTDATED');

    const overrides = await ros.updateStackInstances(
      new $Ros.UpdateStackInstancesRequest({
        regionId: REGION,
        stackGroupName: 'g',
        accountIds: [b.accountId],
        regionIds: [REGION, OTHER_REGION],
        parameterOverrides: [
          new $Ros.UpdateStackInstancesRequestParameterOverrides({
            parameterKey: 'Name',
            parameterValue: 'b-only',
          }),
        ],
      }),
    );
    expect((await waitForOperation(ros, overrides.body!.operationId!)).status).toBe('SUCCEEDED');
    for (const region of [REGION, OTHER_REGION]) {
      const instance = await status(b.accountId, region);
      expect(instance.status).toBe('CURRENT');
      expect(instance.parameterOverrides).toEqual([{ parameterKey: 'Name', parameterValue: 'b-only' }]);
      expect(instance.outputs!.find((o) => o.OutputKey === 'Name')!.OutputValue).toBe('b-only');
    }
    await expect(
      ros.updateStackInstances(
        new $Ros.UpdateStackInstancesRequest({
          regionId: REGION,
          stackGroupName: 'g',
          accountIds: [cloud.accountId],
          regionIds: [REGION],
        }),
      ),
    ).rejects.toMatchObject({ code: 'StackInstanceNotFound' });
  });
});
