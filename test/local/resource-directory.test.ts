/**
 * LocalCloud's Resource Directory (the `resourceDirectory` option, `ros-local start --folder`, `ROS_LOCAL_FOLDERS`)
 * and the Resource Manager 2020-03-31 API over it, called as the SDK's POP client calls it (RPC, signed, through
 * `@alicloud/openapi-core`): GetResourceDirectory, ListAccountsForParent, ListFoldersForParent, their paging, RAM
 * authorization and documented error codes; and the stack-group roles (`stackGroupRoles`, `--stack-group-roles`,
 * `ROS_LOCAL_STACK_GROUP_ROLES`) the ROS guide for self-managed stack groups tells a user to create.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import OpenApi, { $OpenApiUtil } from '@alicloud/openapi-core';
import * as $Ros from '@alicloud/ros20190910';
import { main } from '../../lib/cli/ros-local';
import { localTarget } from '../../lib/deploy/target';
import { LocalCloud, type AccessKey, type TemporaryCredentials } from '../../lib/local';
import { resourceDirectoryFromEnvironment, stackGroupRolesFromEnvironment } from '../../lib/local/connect';
import { findRunningServer } from '../../lib/local/discovery';
import { parseFolderAssignments } from '../../lib/local/rd';
import {
  STACK_GROUP_ADMINISTRATION_ROLE,
  STACK_GROUP_EXECUTION_ROLE,
} from '../../lib/local/stack-group-roles';
import { rpcParams } from '../../lib/openapi-rpc';
import { captureIo, waitFor } from '../cli/cli-fixtures';
import { instanceTemplate, REGION, rosClient, waitForOperation } from './stack-groups-fixture';

const VERSION = '2020-03-31';

/** Resource Manager as its SDK calls it: RPC, the parameters in the query, signed with `key`. */
async function rm(
  cloud: LocalCloud | { endpoint: string },
  key: AccessKey | TemporaryCredentials,
  action: string,
  query: Record<string, string> = {},
): Promise<any> {
  const client = new OpenApi(
    new $OpenApiUtil.Config({ ...key, regionId: 'cn-hangzhou', endpoint: cloud.endpoint, protocol: 'http' }),
  );
  const answer = await client.callApi(
    rpcParams(action, VERSION),
    new $OpenApiUtil.OpenApiRequest({ query }),
    {} as Parameters<OpenApi['callApi']>[2],
  );
  return answer.body;
}

async function errorOf(promise: Promise<unknown>): Promise<any> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected the call to fail');
}

describe('the Resource Directory of a LocalCloud', () => {
  let cloud: LocalCloud;
  afterEach(async () => cloud?.stop());

  it('puts accounts in the folders named, the others in the Root folder, with ids as Resource Manager has them', async () => {
    cloud = await LocalCloud.start({
      accounts: 4,
      resourceDirectory: { folders: { prod: [1, 2], dev: [3] } },
    });
    const rd = cloud.resourceDirectory!;
    expect(rd.resourceDirectoryId).toMatch(/^rd-[a-z0-9]{6}$/);
    expect(rd.rootFolderId).toMatch(/^r-[a-z0-9]{6}$/);
    const prod = rd.folderId('prod');
    expect(prod).toMatch(/^fd-[a-z0-9]{10}$/);
    expect(rd.accountsOf(prod)).toEqual([cloud.accounts[1].accountId, cloud.accounts[2].accountId]);
    expect(rd.accountsOf(rd.folderId('dev'))).toEqual([cloud.accounts[3].accountId]);
    expect(rd.accountsOf(rd.rootFolderId)).toEqual([cloud.accountId]);
    expect(rd.managementAccountId).toBe(cloud.accountId);
    expect(() => rd.folderId('test')).toThrow('no folder named "test"; there are Root, prod, dev');
  });

  it('has none unless asked for', async () => {
    cloud = await LocalCloud.start({ accounts: 2 });
    expect(cloud.resourceDirectory).toBeUndefined();
  });

  it('keeps its ids across a restart, and a restart with other folders moves the accounts it names', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rd-'));
    const stateFile = path.join(dir, 'state.json');
    try {
      cloud = await LocalCloud.start({
        stateFile,
        accounts: 3,
        resourceDirectory: { folders: { prod: [1, 2] } },
      });
      const before = cloud.resourceDirectory!;
      const ids = {
        rd: before.resourceDirectoryId,
        root: before.rootFolderId,
        prod: before.folderId('prod'),
      };
      const [, second, third] = cloud.accounts.map((a) => a.accountId);
      await cloud.stop();

      cloud = await LocalCloud.start({ stateFile });
      const again = cloud.resourceDirectory!;
      expect([again.resourceDirectoryId, again.rootFolderId, again.folderId('prod')]).toEqual([
        ids.rd,
        ids.root,
        ids.prod,
      ]);
      expect(again.accountsOf(ids.prod)).toEqual([second, third]);
      await cloud.stop();

      cloud = await LocalCloud.start({ stateFile, resourceDirectory: { folders: { dev: [2] } } });
      const moved = cloud.resourceDirectory!;
      expect(moved.folderId('prod')).toBe(ids.prod);
      expect(moved.accountsOf(ids.prod)).toEqual([second]);
      expect(moved.accountsOf(moved.folderId('dev'))).toEqual([third]);
    } finally {
      await cloud.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each([
    [
      { prod: [3] },
      "account index 3 is not one of the cloud's accounts (0 to 2; 0 is the management account)",
    ],
    [{ prod: [1], dev: [1] }, 'account 1 is in folders prod and dev; an account is in at most one folder'],
    [
      { 'my folder': [1] },
      'folder name "my folder" is invalid: 1 to 24 letters, digits, "_", "-" or ".", and not "Root"',
    ],
    [{ Root: [1] }, 'folder name "Root" is invalid'],
  ])('refuses folders %j naming the rule', async (folders, message) => {
    await expect(LocalCloud.start({ accounts: 3, resourceDirectory: { folders } })).rejects.toThrow(message);
  });
});

describe('Resource Manager 2020-03-31 over the directory', () => {
  let cloud: LocalCloud;
  beforeAll(async () => {
    cloud = await LocalCloud.start({
      accounts: 8,
      resourceDirectory: { folders: { prod: [1, 2, 3, 4, 5], dev: [6] } },
    });
  });
  afterAll(async () => cloud.stop());

  it('GetResourceDirectory: the directory, for the management account and for a member', async () => {
    const rd = cloud.resourceDirectory!;
    const expected = {
      ResourceDirectoryId: rd.resourceDirectoryId,
      RootFolderId: rd.rootFolderId,
      MasterAccountId: cloud.accountId,
    };
    expect((await rm(cloud, cloud.credentials, 'GetResourceDirectory')).ResourceDirectory).toMatchObject(
      expected,
    );
    expect(
      (await rm(cloud, cloud.accounts[6].credentials, 'GetResourceDirectory')).ResourceDirectory,
    ).toMatchObject(expected);
  });

  it('ListAccountsForParent: the members of a folder, page by page (PageSize 1-100, default 10)', async () => {
    const prod = cloud.resourceDirectory!.folderId('prod');
    const pages = [];
    for (let page = 1; page <= 3; page++) {
      pages.push(
        await rm(cloud, cloud.credentials, 'ListAccountsForParent', {
          ParentFolderId: prod,
          PageNumber: String(page),
          PageSize: '2',
        }),
      );
    }
    expect(pages.map((p) => p.TotalCount)).toEqual([5, 5, 5]);
    expect(pages.map((p) => p.PageNumber)).toEqual([1, 2, 3]);
    expect(pages.flatMap((p) => p.Accounts.Account.map((a: any) => a.AccountId))).toEqual(
      [1, 2, 3, 4, 5].map((i) => cloud.accounts[i].accountId),
    );
    expect(pages[0].Accounts.Account[0]).toMatchObject({
      FolderId: prod,
      ResourceDirectoryId: cloud.resourceDirectory!.resourceDirectoryId,
      Status: 'CreateSuccess',
      Type: 'ResourceAccount',
      JoinMethod: 'created',
      DisplayName: 'account-1',
    });
    const all = await rm(cloud, cloud.credentials, 'ListAccountsForParent', { ParentFolderId: prod });
    expect(all.PageSize).toBe(10);
    expect(all.Accounts.Account).toHaveLength(5);
    for (const PageSize of ['0', '101', 'ten']) {
      expect(
        await errorOf(rm(cloud, cloud.credentials, 'ListAccountsForParent', { PageSize })),
      ).toMatchObject({
        code: 'InvalidParameter',
        statusCode: 400,
      });
    }
  });

  it('ListAccountsForParent without ParentFolderId: the Root folder, which holds the accounts no folder does', async () => {
    const root = await rm(cloud, cloud.credentials, 'ListAccountsForParent');
    expect(root.Accounts.Account.map((a: any) => a.AccountId)).toEqual([
      cloud.accounts[0].accountId,
      cloud.accounts[7].accountId,
    ]);
    expect(root.Accounts.Account[0].FolderId).toBe(cloud.resourceDirectory!.rootFolderId);
  });

  it('ListFoldersForParent: the folders under the Root folder (also when ParentFolderId is left out), none under a folder', async () => {
    const rd = cloud.resourceDirectory!;
    const queries: Record<string, string>[] = [{ ParentFolderId: rd.rootFolderId }, {}];
    for (const query of queries) {
      const answer = await rm(cloud, cloud.credentials, 'ListFoldersForParent', query);
      expect(answer.TotalCount).toBe(2);
      expect(answer.Folders.Folder.map((f: any) => [f.FolderName, f.FolderId])).toEqual([
        ['prod', rd.folderId('prod')],
        ['dev', rd.folderId('dev')],
      ]);
    }
    const leaf = await rm(cloud, cloud.credentials, 'ListFoldersForParent', {
      ParentFolderId: rd.folderId('dev'),
    });
    expect(leaf).toMatchObject({ TotalCount: 0, Folders: { Folder: [] } });
  });

  it('answers the documented codes: a malformed folder id, a folder that does not exist, a member that manages no directory', async () => {
    expect(
      await errorOf(rm(cloud, cloud.credentials, 'ListAccountsForParent', { ParentFolderId: 'folder-1' })),
    ).toMatchObject({ code: 'InvalidParameter.ParentFolderId', statusCode: 400 });
    expect(
      await errorOf(
        rm(cloud, cloud.credentials, 'ListAccountsForParent', { ParentFolderId: 'fd-0000000000' }),
      ),
    ).toMatchObject({
      code: 'EntityNotExists.Folder',
      statusCode: 404,
      message: expect.stringContaining('The resource directory folder does not exist.'),
    });
    expect(
      await errorOf(rm(cloud, cloud.credentials, 'ListFoldersForParent', { ParentFolderId: 'r-000000' })),
    ).toMatchObject({ code: 'EntityNotExists.Folder' });
    expect(await errorOf(rm(cloud, cloud.accounts[1].credentials, 'ListAccountsForParent'))).toMatchObject({
      code: 'EntityNotExists.ResourceDirectory',
      statusCode: 404,
    });
    expect(await errorOf(rm(cloud, cloud.credentials, 'CreateFolder', { FolderName: 'x' }))).toMatchObject({
      code: 'InvalidAction.NotFound',
    });
  });

  it("authorizes through RAM: a role allowed one folder's members lists that folder only", async () => {
    const rd = cloud.resourceDirectory!;
    const prod = rd.folderId('prod');
    cloud.putRole({
      roleName: 'prod-reader',
      assumeRolePolicyDocument: {
        Version: '1',
        Statement: [
          { Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { Service: ['fc.aliyuncs.com'] } },
        ],
      },
      policies: [],
    });
    const key = cloud.issueRoleCredentials('prod-reader', {
      Version: '1',
      Statement: [
        {
          Effect: 'Allow',
          Action: 'resourcemanager:ListAccountsForParent',
          Resource: `acs:resourcemanager:*:${cloud.accountId}:folder/*/${prod}`,
        },
      ],
    });
    const answer = await rm(cloud, key, 'ListAccountsForParent', { ParentFolderId: prod });
    expect(answer.TotalCount).toBe(5);
    expect(
      await errorOf(rm(cloud, key, 'ListAccountsForParent', { ParentFolderId: rd.folderId('dev') })),
    ).toMatchObject({ code: 'Forbidden.RAM', statusCode: 403 });
    expect(await errorOf(rm(cloud, key, 'GetResourceDirectory'))).toMatchObject({ code: 'Forbidden.RAM' });
  });
});

describe('service-managed stack groups over the directory', () => {
  it('deploy to the members of a folder and of the folders under the Root folder, each instance naming its folder', async () => {
    const cloud = await LocalCloud.start({
      accounts: 4,
      resourceDirectory: { folders: { prod: [1, 2], dev: [3] } },
    });
    try {
      const rd = cloud.resourceDirectory!;
      const prod = rd.folderId('prod');
      const ros = rosClient(cloud);
      await ros.createStackGroup(
        new $Ros.CreateStackGroupRequest({
          regionId: REGION,
          stackGroupName: 'by-folder',
          templateBody: instanceTemplate(),
          permissionModel: 'SERVICE_MANAGED',
          autoDeployment: new $Ros.CreateStackGroupRequestAutoDeployment({ enabled: false }),
        }),
      );
      const created = await ros.createStackInstances(
        new $Ros.CreateStackInstancesRequest({
          regionId: REGION,
          stackGroupName: 'by-folder',
          regionIds: [REGION],
          deploymentTargets: new $Ros.CreateStackInstancesRequestDeploymentTargets({ rdFolderIds: [prod] }),
        }),
      );
      expect((await waitForOperation(ros, created.body!.operationId!)).status).toBe('SUCCEEDED');
      const instances = (
        await ros.listStackInstances(
          new $Ros.ListStackInstancesRequest({ regionId: REGION, stackGroupName: 'by-folder' }),
        )
      ).body!.stackInstances!;
      expect(instances.map((i) => [i.accountId, i.rdFolderId]).sort()).toEqual(
        [
          [cloud.accounts[1].accountId, prod],
          [cloud.accounts[2].accountId, prod],
        ].sort(),
      );
      // The Root folder holds every member, in whichever folder under it.
      expect(rd.accountsIn(rd.rootFolderId).map((m) => m.accountId)).toEqual(
        cloud.accounts.map((a) => a.accountId),
      );
      expect(rd.folderOf('1000000000000000')).toBeUndefined();
    } finally {
      await cloud.stop();
    }
  });
});

describe('Resource Manager without a directory', () => {
  it('GetResourceDirectory answers ResourceDirectoryNotInUse, the lists EntityNotExists.ResourceDirectory', async () => {
    const cloud = await LocalCloud.start();
    try {
      expect(await errorOf(rm(cloud, cloud.credentials, 'GetResourceDirectory'))).toMatchObject({
        code: 'ResourceDirectoryNotInUse',
        statusCode: 404,
      });
      expect(await errorOf(rm(cloud, cloud.credentials, 'ListAccountsForParent'))).toMatchObject({
        code: 'EntityNotExists.ResourceDirectory',
        statusCode: 404,
        message: expect.stringContaining('The resource directory for the account is not enabled.'),
      });
    } finally {
      await cloud.stop();
    }
  });
});

describe('the directory and the roles from the command line and the environment', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rd-cli-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('parses NAME=INDEX,... folders, and refuses what is not one naming it', () => {
    expect(parseFolderAssignments(['prod=1,2', 'dev=3', 'empty='])).toEqual({
      folders: { prod: [1, 2], dev: [3], empty: [] },
    });
    expect(() => parseFolderAssignments(['prod:1'])).toThrow(
      'folder "prod:1" is invalid: expected NAME=INDEX,INDEX,...',
    );
    expect(() => parseFolderAssignments(['prod=1', 'prod=2'])).toThrow('folder prod is given twice');
  });

  it('reads ROS_LOCAL_FOLDERS (NAME=I,J;NAME=K) and ROS_LOCAL_STACK_GROUP_ROLES, refusing what is not one', () => {
    expect(resourceDirectoryFromEnvironment({})).toBeUndefined();
    expect(resourceDirectoryFromEnvironment({ ROS_LOCAL_FOLDERS: 'prod=1,2;dev=3' })).toEqual({
      folders: { prod: [1, 2], dev: [3] },
    });
    expect(() => resourceDirectoryFromEnvironment({ ROS_LOCAL_FOLDERS: 'prod' })).toThrow(
      'ROS_LOCAL_FOLDERS=prod: folder "prod" is invalid',
    );
    expect(stackGroupRolesFromEnvironment({})).toBe(false);
    expect(stackGroupRolesFromEnvironment({ ROS_LOCAL_STACK_GROUP_ROLES: 'true' })).toBe(true);
    expect(stackGroupRolesFromEnvironment({ ROS_LOCAL_STACK_GROUP_ROLES: '1' })).toBe(true);
    expect(() => stackGroupRolesFromEnvironment({ ROS_LOCAL_STACK_GROUP_ROLES: 'yes' })).toThrow(
      'ROS_LOCAL_STACK_GROUP_ROLES=yes: expected 1, true, 0 or false',
    );
  });

  it("ros-deploy --local's embedded LocalCloud has the folders of ROS_LOCAL_FOLDERS and the roles of ROS_LOCAL_STACK_GROUP_ROLES", async () => {
    const target = await localTarget({
      directory: dir,
      env: { ROS_LOCAL_ACCOUNTS: '3', ROS_LOCAL_FOLDERS: 'prod=1,2', ROS_LOCAL_STACK_GROUP_ROLES: '1' },
    });
    await target.close();
    const cloud = await LocalCloud.start({ stateFile: path.join(dir, '.ros-local', 'state.json') });
    try {
      const rd = cloud.resourceDirectory!;
      expect(rd.accountsOf(rd.folderId('prod'))).toEqual([
        cloud.accounts[1].accountId,
        cloud.accounts[2].accountId,
      ]);
      expect(cloud.accounts[2].getRole(STACK_GROUP_EXECUTION_ROLE)).toBeDefined();
    } finally {
      await cloud.stop();
    }
    await expect(localTarget({ directory: dir, env: { ROS_LOCAL_FOLDERS: 'prod=7' } })).rejects.toThrow(
      "cannot start LocalCloud: LocalCloud: resourceDirectory folder prod: account index 7 is not one of the cloud's accounts",
    );
  });

  it('ros-local start --folder prod=1 --stack-group-roles serves the directory and the roles, and prints the folders', async () => {
    const stateFile = path.join(dir, 'state.json');
    const stop = new AbortController();
    const captured = captureIo(dir, { signal: stop.signal });
    const running = main(
      ['start', '--state', stateFile, '--accounts', '2', '--folder', 'prod=1', '--stack-group-roles'],
      captured.io,
    );
    try {
      await waitFor(() => findRunningServer(dir));
      const info = findRunningServer(dir)!;
      const text = captured.out();
      const folderId = /prod (fd-[a-z0-9]{10}) \(1 accounts\)/.exec(text)![1];
      const accessKeyId = /access key id\s+(\S+)/.exec(text)![1];
      const accessKeySecret = /access key secret\s+(\S+)/.exec(text)![1];
      const members = await rm(info, { accessKeyId, accessKeySecret }, 'ListAccountsForParent', {
        ParentFolderId: folderId,
      });
      expect(members.Accounts.Account.map((a: any) => a.AccountId)).toEqual([
        /account 2: id (\d{16})/.exec(text)![1],
      ]);
    } finally {
      stop.abort();
      expect(await running).toBe(0);
    }
    const cloud = await LocalCloud.start({ stateFile });
    try {
      expect(cloud.getRole(STACK_GROUP_ADMINISTRATION_ROLE)).toBeDefined();
      expect(cloud.accounts[1].getRole(STACK_GROUP_EXECUTION_ROLE)).toBeDefined();
    } finally {
      await cloud.stop();
    }
  });

  it('ros-local start --folder with a wrong value is a usage error naming it', async () => {
    const captured = captureIo(dir);
    expect(await main(['start', '--state', path.join(dir, 's.json'), '--folder', 'prod'], captured.io)).toBe(
      2,
    );
    expect(captured.err()).toContain('--folder: folder "prod" is invalid');
    const again = captureIo(dir);
    expect(await main(['start', '--state', path.join(dir, 's.json'), '--folder', 'prod=4'], again.io)).toBe(
      2,
    );
    expect(again.err()).toContain('--folder: LocalCloud: resourceDirectory folder prod: account index 4');
  });
});

describe('the stack-group roles (stackGroupRoles)', () => {
  it('creates the administration role in account 0 and the execution role, trusting account 0, in every account', async () => {
    const cloud = await LocalCloud.start({ accounts: 3, stackGroupRoles: true });
    try {
      const admin = cloud.getRole(STACK_GROUP_ADMINISTRATION_ROLE)!;
      expect(admin.assumeRolePolicyDocument.Statement).toEqual([
        { Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { Service: ['ros.aliyuncs.com'] } },
      ]);
      expect(admin.policies).toEqual([
        {
          Version: '1',
          Statement: [
            {
              Effect: 'Allow',
              Action: 'sts:AssumeRole',
              Resource: 'acs:ram:*:*:role/AliyunROSStackGroupExecutionRole',
            },
          ],
        },
      ]);
      // ROS can assume it; Function Compute cannot.
      expect(
        cloud.assumeRole(STACK_GROUP_ADMINISTRATION_ROLE, 'ros.aliyuncs.com').securityToken,
      ).toBeTruthy();
      expect(() => cloud.assumeRole(STACK_GROUP_ADMINISTRATION_ROLE, 'fc.aliyuncs.com')).toThrow();
      for (const account of cloud.accounts) {
        const execution = account.getRole(STACK_GROUP_EXECUTION_ROLE)!;
        expect(execution.assumeRolePolicyDocument.Statement).toEqual([
          {
            Effect: 'Allow',
            Action: 'sts:AssumeRole',
            Principal: { RAM: [`acs:ram::${cloud.accountId}:root`] },
          },
        ]);
        expect(execution.policies).toEqual([
          { Version: '1', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] },
        ]);
      }
      expect(cloud.accounts[1].getRole(STACK_GROUP_ADMINISTRATION_ROLE)).toBeUndefined();
    } finally {
      await cloud.stop();
    }
  });

  it('creates them once: a restart keeps a change made to them, and an account added later gets its role', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sg-roles-'));
    const stateFile = path.join(dir, 'state.json');
    try {
      let cloud = await LocalCloud.start({ stateFile, accounts: 2, stackGroupRoles: true });
      const narrowed = {
        Version: '1',
        Statement: [{ Effect: 'Allow' as const, Action: 'ecs:*', Resource: '*' }],
      };
      const execution = cloud.accounts[1].getRole(STACK_GROUP_EXECUTION_ROLE)!;
      cloud.accounts[1].putRole({ ...execution, policies: [narrowed] });
      await cloud.stop();

      cloud = await LocalCloud.start({ stateFile, accounts: 3, stackGroupRoles: true });
      try {
        expect(cloud.accounts[1].getRole(STACK_GROUP_EXECUTION_ROLE)!.policies).toEqual([narrowed]);
        expect(cloud.accounts[2].getRole(STACK_GROUP_EXECUTION_ROLE)).toBeDefined();
      } finally {
        await cloud.stop();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('creates none by default', async () => {
    const cloud = await LocalCloud.start({ accounts: 2 });
    try {
      expect(cloud.getRole(STACK_GROUP_ADMINISTRATION_ROLE)).toBeUndefined();
      expect(cloud.accounts[1].getRole(STACK_GROUP_EXECUTION_ROLE)).toBeUndefined();
    } finally {
      await cloud.stop();
    }
  });
});
