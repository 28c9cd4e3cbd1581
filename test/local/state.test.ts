import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as $Ros from '@alicloud/ros20190910';
import { deployStack, destroyStack } from '../../lib/deploy';
import { LocalCloud } from '../../lib/local';
import { StateFileError } from '../../lib/local/state-schema';
import { StateStore } from '../../lib/local/state';
import { rolesTemplate } from '../deploy/fixtures';
import { rosClient, withCloud } from '../support/cloud';

const mode = (file: string) => fs.statSync(file).mode & 0o777;

describe('the LocalCloud state file', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'state-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('is written 0600 in a directory made 0700 (it holds every secret), and an existing 0644 one is made 0600', async () => {
    const stateFile = path.join(dir, 'nested', 'state.json');
    const cloud = await LocalCloud.start({ stateFile });
    await cloud.stop();
    expect(mode(stateFile)).toBe(0o600);
    expect(mode(path.dirname(stateFile))).toBe(0o700);
    expect(fs.readFileSync(stateFile, 'utf8')).toContain(cloud.credentials.accessKeySecret);

    fs.chmodSync(stateFile, 0o644);
    const again = await LocalCloud.start({ stateFile });
    expect(mode(stateFile)).toBe(0o600);
    await again.stop();
    expect(fs.readdirSync(path.dirname(stateFile)).sort()).toEqual(['state.json', 'state.json.nonces']);
    expect(mode(`${stateFile}.nonces`)).toBe(0o600);
  });

  it.each([
    ['{"ecs":5}', 'ecs must be an object, not number 5'],
    ['{"ros":{"stacks":null}}', 'ros.stacks must be an object, not null'],
    ['{"ram":"x"}', 'ram must be an object, not string "x"'],
    ['[1]', 'it must hold a JSON object, not an array'],
    ['{"ros":{"stacks":{"s-1":{"stackId":7}}}}', 'ros.stacks["s-1"].stackId must be a string, not number 7'],
    [
      '{"ram":{"rootAccessKeyId":"k","keys":{},"roles":{}}}',
      'ram.rootAccessKeyId names "k", not in ram.keys',
    ],
    ['{"account": {', 'it is not JSON ('],
    [
      '{"rosStackGroups":{"groups":{},"instances":{},"operations":{"o-1":{"operationId":1}}}}',
      'rosStackGroups.operations["o-1"].operationId must be a string, not number 1',
    ],
    ['{"rosStackGroups":{"groups":[]}}', 'rosStackGroups.groups must be an object, not an array'],
    ['{"resourceDirectory":{"directory":5}}', 'resourceDirectory.directory must be an object, not number 5'],
    ['{"stackGroupRoles":{"accountIds":"x"}}', 'stackGroupRoles.accountIds must be an array, not string "x"'],
    ['{"rosChangeSets":{"changeSets":null}}', 'rosChangeSets.changeSets must be an object, not null'],
  ])(
    'of the wrong shape (%s) is refused at start, naming the field, and left as it is',
    async (content, problem) => {
      const stateFile = path.join(dir, 'state.json');
      fs.writeFileSync(stateFile, content);
      const start = LocalCloud.start({ stateFile });
      await expect(start).rejects.toBeInstanceOf(StateFileError);
      await expect(start).rejects.toThrow(`LocalCloud state file ${stateFile} cannot be used: ${problem}`);
      expect(fs.readFileSync(stateFile, 'utf8')).toBe(content);
    },
  );

  it('forgets deleted stacks after 90 days, and keeps only the summary of those deleted since', async () => {
    const stateFile = path.join(dir, 'state.json');
    const cloud = await LocalCloud.start({ stateFile });
    const connection = {
      regionId: 'cn-hangzhou',
      endpoint: cloud.endpoint,
      protocol: 'http' as const,
      credentials: cloud.credentials,
      pollIntervalMs: 20,
    };
    const roles = (stackName: string) =>
      Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`R${i}`, `${stackName}-${i}`]));
    for (const stackName of ['old', 'recent', 'live']) {
      const template = rolesTemplate(roles(stackName), { Description: stackName });
      expect((await deployStack({ ...connection, stackName, template })).success).toBe(true);
    }
    await destroyStack({ ...connection, stackName: 'old' });
    await destroyStack({ ...connection, stackName: 'recent' });
    await cloud.stop();
    const state = JSON.parse(fs.readFileSync(stateFile, 'utf8'));
    const byName = (name: string) =>
      Object.values(state.ros.stacks as Record<string, { stackName: string; deleteTime?: string }>).find(
        (s) => s.stackName === name,
      )!;
    byName('old').deleteTime = new Date(Date.now() - 91 * 24 * 3600 * 1000).toISOString().slice(0, 19);
    fs.writeFileSync(stateFile, JSON.stringify(state));
    const before = fs.statSync(stateFile).size;

    await withCloud({ stateFile }, async (restarted) => {
      const stacks = restarted.ros.stacks('cn-hangzhou');
      expect(stacks.map((s) => `${s.stackName} ${s.status}`).sort()).toEqual([
        'live CREATE_COMPLETE',
        'recent DELETE_COMPLETE',
      ]);
      const recent = stacks.find((s) => s.stackName === 'recent')!;
      expect(recent.events.map((e) => e.ResourceType)).toEqual(Array(4).fill('ALIYUN::ROS::Stack'));
      expect(JSON.parse(recent.templateBody)).toEqual({
        ROSTemplateFormatVersion: '2015-09-01',
        Description: 'recent',
        Resources: {},
      });
      // ROS's answers about the deleted stack still work.
      const ros = rosClient(restarted);
      const listed = await ros.listStacks(
        new $Ros.ListStacksRequest({ regionId: 'cn-hangzhou', status: ['DELETE_COMPLETE'] }),
      );
      expect(listed.body!.stacks!.map((s) => s.stackName)).toEqual(['recent']);
      const got = await ros.getStack(
        new $Ros.GetStackRequest({ regionId: 'cn-hangzhou', stackId: recent.stackId }),
      );
      expect(got.body).toMatchObject({ status: 'DELETE_COMPLETE', description: 'recent' });
      // The live stack is untouched.
      expect(Object.keys(stacks.find((s) => s.stackName === 'live')!.resources)).toHaveLength(20);
    });
    expect(fs.statSync(stateFile).size).toBeLessThan(before / 2);
  });

  it("drops an ended stack group operation's template and a deleted group's; an active group keeps its own", async () => {
    const stateFile = path.join(dir, 'state.json');
    const template = JSON.stringify({
      ROSTemplateFormatVersion: '2015-09-01',
      Resources: {},
      Metadata: { padding: 'x'.repeat(100_000) },
    });
    const group = (id: string, name: string, status: string) => ({
      stackGroupId: id,
      stackGroupName: name,
      regionId: 'cn-hangzhou',
      permissionModel: 'SELF_MANAGED',
      templateBody: template,
      parameters: {},
      createTime: '2026-12-01T00:00:00',
      status,
      tags: [],
    });
    const operation = (id: string, groupId: string, groupName: string, status: string) => ({
      operationId: id,
      stackGroupId: groupId,
      stackGroupName: groupName,
      regionId: 'cn-hangzhou',
      action: 'CREATE',
      status,
      createTime: '2026-12-01T00:00:00',
      endTime: '2026-12-01T00:01:00',
      preferences: {},
      regionOrder: ['cn-hangzhou'],
      accountIds: [],
      timeoutInMinutes: 60,
      disableRollback: false,
      templateBody: template,
      parameters: {},
      permissionModel: 'SELF_MANAGED',
      results: [],
    });
    fs.writeFileSync(
      stateFile,
      JSON.stringify({
        rosStackGroups: {
          groups: {
            'g-live': group('g-live', 'live', 'ACTIVE'),
            'g-gone': group('g-gone', 'gone', 'DELETED'),
          },
          instances: {},
          operations: {
            'o-done': operation('o-done', 'g-live', 'live', 'SUCCEEDED'),
            'o-failed': operation('o-failed', 'g-gone', 'gone', 'FAILED'),
          },
        },
      }),
    );
    await withCloud({ stateFile }, async (restarted) => {
      const groups = restarted.accounts[0].stackGroups;
      const [live] = groups.list('cn-hangzhou');
      expect(live.templateBody).toBe(template);
      expect(groups.operationsOf(live).map((o) => [o.operationId, o.templateBody])).toEqual([['o-done', '']]);
      const [gone] = groups.list('cn-hangzhou', 'DELETED');
      expect(gone.templateBody).toBe('');
      expect(groups.operationsOf(gone).map((o) => [o.operationId, o.templateBody])).toEqual([
        ['o-failed', ''],
      ]);
      // ROS's answers about the ended operation still work.
      const got = await rosClient(restarted).getStackGroupOperation(
        new $Ros.GetStackGroupOperationRequest({ regionId: 'cn-hangzhou', operationId: 'o-done' }),
      );
      expect(got.body!.stackGroupOperation).toMatchObject({ status: 'SUCCEEDED', stackGroupName: 'live' });
    });
    expect(fs.statSync(stateFile).size).toBeLessThan(250_000);
  });

  it('reads a state without writing it', () => {
    const stateFile = path.join(dir, 'state.json');
    fs.writeFileSync(stateFile, '{"account":{"accountId":"1234567890123456"}}');
    fs.chmodSync(stateFile, 0o600);
    const store = new StateStore(stateFile);
    expect(store.section('account', () => ({ accountId: 'new' }))).toEqual({ accountId: '1234567890123456' });
    expect(fs.readdirSync(dir)).toEqual(['state.json']);
  });

  it('keeps every account across a restart: ids, keys, roles, images and their shares, with three accounts', async () => {
    const stateFile = path.join(dir, 'state.json');
    const first = await LocalCloud.start({ stateFile, accounts: 3 });
    const ids = first.accounts.map((a) => a.accountId);
    const keys = first.accounts.map((a) => a.credentials);
    first.accounts[2].putRole({
      roleName: 'third',
      assumeRolePolicyDocument: {
        Version: '1',
        Statement: [
          { Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { Service: ['fc.aliyuncs.com'] } },
        ],
      },
      policies: [],
    });
    const image = first.ecs.putImage('cn-hangzhou', { imageName: 'of-the-third', ownerId: ids[2] });
    await first.stop();

    // Started without `accounts`: the file's three come back.
    const again = await LocalCloud.start({ stateFile });
    try {
      expect(again.accounts.map((a) => a.accountId)).toEqual(ids);
      expect(again.accounts.map((a) => a.credentials)).toEqual(keys);
      expect(again.accounts[2].getRole('third')).toBeDefined();
      expect(again.getRole('third')).toBeUndefined();
      expect(again.ecs.getImage('cn-hangzhou', image)).toMatchObject({ ownerId: ids[2] });
    } finally {
      await again.stop();
    }
  });

  it("loads a state file of one account written before accounts, its images the first account's", async () => {
    const stateFile = path.join(dir, 'state.json');
    const old = await LocalCloud.start({ stateFile });
    const image = old.ecs.putImage('cn-hangzhou', { imageName: 'old-image' });
    await old.stop();
    const text = JSON.parse(fs.readFileSync(stateFile, 'utf8'));
    delete text.ecs.images[image].ownerId;
    expect(text.accounts).toBeUndefined();
    fs.writeFileSync(stateFile, JSON.stringify(text), { mode: 0o600 });

    const cloud = await LocalCloud.start({ stateFile, accounts: 2 });
    try {
      expect(cloud.accounts).toHaveLength(2);
      expect(cloud.ecs.getImage('cn-hangzhou', image)).toMatchObject({ ownerId: cloud.accountId });
    } finally {
      await cloud.stop();
    }
  });

  it('refuses a state file whose second account has the wrong shape, naming the field', async () => {
    const stateFile = path.join(dir, 'state.json');
    fs.writeFileSync(stateFile, JSON.stringify({ accounts: { '1': { ram: { rootAccessKeyId: 7 } } } }), {
      mode: 0o600,
    });
    await expect(LocalCloud.start({ stateFile })).rejects.toThrow(
      'accounts["1"].ram.rootAccessKeyId must be a string, not number 7',
    );
  });
});
