import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import Ros, * as $Ros from '@alicloud/ros20190910';
import { LocalCloud } from '../../lib/local';
import { FastForwardClock } from '../support/fast-forward-clock';
import { until } from '../support/until';
import { readLog as readProviderLog, template } from './ros-fixture';
import { rosClient } from '../support/cloud';

/**
 * The ROS API of LocalCloud through the real `@alicloud/ros20190910` client: stacks of RAM roles, FC 3.0
 * functions and custom resources whose provider is a tiny function that answers at the response URL.
 */

describe('LocalCloud ROS stack API', () => {
  let cloud: LocalCloud;
  let ros: Ros;
  const clock = new FastForwardClock();
  let dir: string;
  let logFile: string;

  beforeAll(async () => {
    cloud = await LocalCloud.start({ ros: { clock } });
    ros = rosClient(cloud);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ros-test-'));
    logFile = path.join(dir, 'provider.log');
  });
  afterAll(async () => {
    await cloud.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const readLog = () => readProviderLog(logFile);
  const clearLog = () => fs.rmSync(logFile, { force: true });

  const params = (values: Record<string, string>) =>
    Object.entries(values).map(
      ([parameterKey, parameterValue]) =>
        new $Ros.CreateStackRequestParameters({ parameterKey, parameterValue }),
    );

  async function createStack(
    stackName: string,
    templateBody: string,
    extra: Partial<$Ros.CreateStackRequest> = {},
  ) {
    const res = await ros.createStack(
      new $Ros.CreateStackRequest({ regionId: 'cn-hangzhou', stackName, templateBody, ...extra }),
    );
    return res.body!.stackId!;
  }

  async function waitFor(stackId: string): Promise<$Ros.GetStackResponseBody> {
    await cloud.ros.settled();
    const res = await ros.getStack(new $Ros.GetStackRequest({ regionId: 'cn-hangzhou', stackId }));
    return res.body!;
  }

  async function events(stackId: string) {
    const res = await ros.listStackEvents(
      new $Ros.ListStackEventsRequest({ regionId: 'cn-hangzhou', stackId, pageSize: 50 }),
    );
    return res.body!;
  }

  const errorOf = async (promise: Promise<unknown>) => {
    try {
      await promise;
    } catch (err) {
      return err as { code: string; message: string; statusCode?: number };
    }
    throw new Error('expected the call to fail');
  };

  it('creates a stack of a role, a function and a custom resource; outputs resolve; NoEcho stays hidden', async () => {
    clearLog();
    const stackId = await createStack('basic', template(logFile, { extraOutputs: true }), {
      parameters: params({ Value: 'hello' }),
      tags: [new $Ros.CreateStackRequestTags({ key: 'team', value: 'images' })],
    });
    expect(stackId).toMatch(/^[0-9a-f-]{36}$/);
    const stack = await waitFor(stackId);
    expect(`${stack.status} ${stack.statusReason}`).toMatch(/^CREATE_COMPLETE /);
    const outputs = Object.fromEntries(stack.outputs!.map((o) => [o['OutputKey'], o['OutputValue']]));
    expect(outputs.Echo).toBe('echo:hello');
    expect(outputs.Region).toBe('cn-hangzhou');
    expect(outputs.Secret).toBe('****');
    expect(outputs.RoleArn).toBe(`acs:ram::${cloud.accountId}:role/provider-basic`);
    expect(JSON.stringify(stack)).not.toContain('hunter2-top-secret');
    expect(stack.parameters).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ parameterKey: 'Secret', parameterValue: '****' }),
        expect.objectContaining({ parameterKey: 'Value', parameterValue: 'hello' }),
      ]),
    );
    expect(stack.tags).toEqual([expect.objectContaining({ key: 'team', value: 'images' })]);
    // The provider got exactly the Parameters as ResourceProperties (no ServiceToken or Timeout; Fail omitted by NoValue).
    const log = readLog();
    expect(log).toEqual([
      expect.objectContaining({
        type: 'Create',
        logicalId: 'Custom',
        value: 'hello',
        keys: ['Generation', 'LogFile', 'Silent', 'Value'],
      }),
    ]);

    const resources = await ros.listStackResources(
      new $Ros.ListStackResourcesRequest({ regionId: 'cn-hangzhou', stackId }),
    );
    expect(resources.body!.resources!.map((r) => [r.logicalResourceId, r.status]).sort()).toEqual([
      ['Custom', 'CREATE_COMPLETE'],
      ['Function', 'CREATE_COMPLETE'],
      ['Role', 'CREATE_COMPLETE'],
    ]);
    const custom = await ros.getStackResource(
      new $Ros.GetStackResourceRequest({ regionId: 'cn-hangzhou', stackId, logicalResourceId: 'Custom' }),
    );
    expect(custom.body!.physicalResourceId).toBe('pid-Custom-0');
    expect(custom.body!.resourceType).toBe('ALIYUN::ROS::CustomResource');

    const ev = await events(stackId);
    const statuses = ev.events!.map((e) => `${e.logicalResourceId}:${e.status}`);
    // Newest first: the stack's CREATE_COMPLETE is the first event; its CREATE_IN_PROGRESS the last.
    expect(statuses[0]).toBe('basic:CREATE_COMPLETE');
    expect(statuses[statuses.length - 1]).toBe('basic:CREATE_IN_PROGRESS');
    for (const id of ['Role', 'Function', 'Custom']) {
      expect(statuses.indexOf(`${id}:CREATE_COMPLETE`)).toBeLessThan(
        statuses.indexOf(`${id}:CREATE_IN_PROGRESS`),
      );
    }
    // DependsOn honoured: the role completes before the function starts, the function before the custom resource.
    expect(statuses.indexOf('Role:CREATE_COMPLETE')).toBeGreaterThan(
      statuses.indexOf('Function:CREATE_IN_PROGRESS'),
    );
    expect(statuses.indexOf('Function:CREATE_COMPLETE')).toBeGreaterThan(
      statuses.indexOf('Custom:CREATE_IN_PROGRESS'),
    );
    expect(JSON.stringify(ev)).not.toContain('hunter2-top-secret');

    const tpl = await ros.getTemplate(new $Ros.GetTemplateRequest({ regionId: 'cn-hangzhou', stackId }));
    expect(JSON.parse(tpl.body!.templateBody!).Resources.Custom.Type).toBe('ALIYUN::ROS::CustomResource');

    const listed = await ros.listStacks(
      new $Ros.ListStacksRequest({ regionId: 'cn-hangzhou', stackName: ['basic'] }),
    );
    expect(listed.body!.stacks!.map((s) => [s.stackName, s.status])).toEqual([['basic', 'CREATE_COMPLETE']]);
  });

  it('rejects a second stack of the same name, an unknown stack and an unchanged update with the real codes', async () => {
    const body = template(logFile);
    const exists = await errorOf(createStack('basic', body));
    expect(exists.code).toBe('StackExists');
    const missing = await errorOf(
      ros.getStack(
        new $Ros.GetStackRequest({
          regionId: 'cn-hangzhou',
          stackId: '00000000-0000-0000-0000-000000000000',
        }),
      ),
    );
    expect(missing.code).toBe('StackNotFound');
    const [basic] = (
      await ros.listStacks(new $Ros.ListStacksRequest({ regionId: 'cn-hangzhou', stackName: ['basic'] }))
    ).body!.stacks!;
    const same = await errorOf(
      ros.updateStack(
        new $Ros.UpdateStackRequest({
          regionId: 'cn-hangzhou',
          stackId: basic.stackId,
          templateBody: template(logFile, { extraOutputs: true }),
          parameters: [
            new $Ros.UpdateStackRequestParameters({ parameterKey: 'Value', parameterValue: 'hello' }),
          ],
        }),
      ),
    );
    expect(same.code).toBe('NotSupported');
    expect(same.message).toContain('Update the completely same stack');
  });

  it('updates in place with OldResourceProperties, creates added resources and deletes removed ones', async () => {
    clearLog();
    const stackId = await createStack('updates', template(logFile), { parameters: params({ Value: 'v1' }) });
    expect((await waitFor(stackId)).status).toBe('CREATE_COMPLETE');
    clearLog();
    await ros.updateStack(
      new $Ros.UpdateStackRequest({
        regionId: 'cn-hangzhou',
        stackId,
        templateBody: template(logFile),
        parameters: [new $Ros.UpdateStackRequestParameters({ parameterKey: 'Value', parameterValue: 'v2' })],
      }),
    );
    let stack = await waitFor(stackId);
    expect(stack.status).toBe('UPDATE_COMPLETE');
    expect(stack.outputs!.find((o) => o['OutputKey'] === 'Echo')!['OutputValue']).toBe('echo:v2');
    expect(readLog()).toEqual([
      expect.objectContaining({ type: 'Update', physicalId: 'pid-Custom-0', value: 'v2', old: 'v1' }),
    ]);

    // Adding and removing resources: the removed custom resource gets its Delete.
    clearLog();
    await ros.updateStack(
      new $Ros.UpdateStackRequest({
        regionId: 'cn-hangzhou',
        stackId,
        templateBody: template(logFile, { customs: ['Second'] }),
        usePreviousParameters: true,
      }),
    );
    stack = await waitFor(stackId);
    expect(stack.status).toBe('UPDATE_COMPLETE');
    expect(
      readLog()
        .map((l) => [l.type, l.logicalId])
        .sort(),
    ).toEqual([
      ['Create', 'Second'],
      ['Delete', 'Custom'],
    ]);
  });

  it('rolls a failed create back in reverse order and reports the reason; DisableRollback keeps what was made', async () => {
    clearLog();
    const stackId = await createStack('fails', template(logFile), {
      parameters: params({ Fail: 'quota exceeded' }),
    });
    const stack = await waitFor(stackId);
    expect(stack.status).toBe('CREATE_ROLLBACK_COMPLETE');
    expect(stack.statusReason).toContain('asked to fail: quota exceeded');
    const ev = (await events(stackId)).events!;
    const failed = ev.find((e) => e.logicalResourceId === 'Custom' && e.status === 'CREATE_FAILED')!;
    expect(failed.statusReason).toContain('asked to fail: quota exceeded');
    // Rolled back: the function and the role are gone; the custom resource got its Delete.
    expect(cloud.fc.getFunction('cn-hangzhou', 'provider-fails')).toBeUndefined();
    expect(readLog().map((l) => l.type)).toEqual(['Create', 'Delete']);
    const order = ev.map((e) => `${e.logicalResourceId}:${e.status}`).reverse();
    expect(order.indexOf('Function:DELETE_COMPLETE')).toBeGreaterThan(
      order.indexOf('Custom:DELETE_COMPLETE'),
    );
    expect(order.indexOf('Role:DELETE_COMPLETE')).toBeGreaterThan(order.indexOf('Function:DELETE_COMPLETE'));

    const kept = await createStack('fails-kept', template(logFile), {
      parameters: params({ Fail: 'nope' }),
      disableRollback: true,
    });
    const keptStack = await waitFor(kept);
    expect(keptStack.status).toBe('CREATE_FAILED');
    expect(cloud.fc.getFunction('cn-hangzhou', 'provider-fails-kept')).toBeDefined();
    await ros.deleteStack(new $Ros.DeleteStackRequest({ regionId: 'cn-hangzhou', stackId: kept }));
    expect((await waitFor(kept)).status).toBe('DELETE_COMPLETE');
    expect(cloud.fc.getFunction('cn-hangzhou', 'provider-fails-kept')).toBeUndefined();
  });

  it('fails a custom resource whose provider never answers after its Timeout, naming the cause', async () => {
    const stackId = await createStack('silent', template(logFile, { timeout: 2 }), {
      parameters: params({ Silent: 'yes' }),
      disableRollback: true,
    });
    // The provider got the Create and returned without answering: its 2 seconds pass.
    await until(() => cloud.fc.invocations({ functionName: 'provider-silent' })[0]?.outcome);
    await clock.forward(2000);
    const stack = await waitFor(stackId);
    expect(stack.status).toBe('CREATE_FAILED');
    expect(stack.statusReason).toMatch(/No response from the custom resource provider within 2 seconds/);
    await ros.deleteStack(new $Ros.DeleteStackRequest({ regionId: 'cn-hangzhou', stackId }));
    expect((await waitFor(stackId)).status).toBe('DELETE_COMPLETE');
  });

  it('refuses an operation while another is in progress (ActionInProgress)', async () => {
    const stackId = await createStack('busy', template(logFile));
    const busy = await errorOf(
      ros.deleteStack(new $Ros.DeleteStackRequest({ regionId: 'cn-hangzhou', stackId })),
    );
    expect(busy.code).toBe('ActionInProgress');
    expect((await waitFor(stackId)).status).toBe('CREATE_COMPLETE');
  });

  it('makes CreateStack idempotent by ClientToken', async () => {
    const body = template(logFile, { customs: ['TypedOne'] });
    const first = await createStack('token', body, { clientToken: 'token-123' });
    const again = await createStack('token', body, { clientToken: 'token-123' });
    expect(again).toBe(first);
    const other = await errorOf(createStack('token-other', body, { clientToken: 'token-123' }));
    expect(other.code).toBe('InvalidIdempotenceParameter');
    expect((await waitFor(first)).status).toBe('CREATE_COMPLETE');
  });

  it('deletes a stack: custom resources get Delete, functions and roles go, the stack shows DELETE_COMPLETE', async () => {
    const [basic] = (
      await ros.listStacks(new $Ros.ListStacksRequest({ regionId: 'cn-hangzhou', stackName: ['basic'] }))
    ).body!.stacks!;
    clearLog();
    await ros.deleteStack(new $Ros.DeleteStackRequest({ regionId: 'cn-hangzhou', stackId: basic.stackId }));
    const stack = await waitFor(basic.stackId!);
    expect(stack.status).toBe('DELETE_COMPLETE');
    expect(readLog()).toEqual([expect.objectContaining({ type: 'Delete', physicalId: 'pid-Custom-0' })]);
    expect(cloud.fc.getFunction('cn-hangzhou', 'provider-basic')).toBeUndefined();
    // The name is free again.
    const again = await createStack(
      'basic',
      JSON.stringify({
        ROSTemplateFormatVersion: '2015-09-01',
        Resources: { Nothing: { Type: 'ALIYUN::ROS::WaitConditionHandle' } },
      }),
      { disableRollback: true },
    );
    expect(again).not.toBe(basic.stackId);
  });

  it('validates templates: bad references, cycles, unsupported types, bad parameters, oversize bodies', async () => {
    const validate = (body: unknown) =>
      errorOf(
        ros.validateTemplate(
          new $Ros.ValidateTemplateRequest({
            regionId: 'cn-hangzhou',
            templateBody: typeof body === 'string' ? body : JSON.stringify(body),
          }),
        ),
      );
    const base = { ROSTemplateFormatVersion: '2015-09-01' };
    const unknownRef = await validate({
      ...base,
      Resources: { A: { Type: 'ALIYUN::RAM::Role', Properties: { RoleName: { Ref: 'Nope' } } } },
    });
    expect(unknownRef.code).toBe('InvalidTemplate');
    expect(unknownRef.message).toContain('Nope');
    const cycle = await validate({
      ...base,
      Resources: {
        A: { Type: 'ALIYUN::RAM::Role', DependsOn: ['B'] },
        B: { Type: 'ALIYUN::RAM::Role', DependsOn: ['A'] },
      },
    });
    expect(cycle.code).toBe('InvalidTemplate');
    expect(cycle.message).toMatch(/A/);
    expect(cycle.message).toMatch(/B/);
    const notJson = await validate('{ not json');
    expect(notJson.code).toBe('InvalidTemplate');

    const big = await errorOf(
      createStack('big', JSON.stringify({ ...base, Description: 'x'.repeat(524_289), Resources: {} })),
    );
    expect(big.code).toBe('InvalidParameter');

    const badParam = await errorOf(
      createStack('bad-param', template(logFile), { parameters: params({ Silent: 'maybe' }) }),
    );
    expect(badParam.code).toBe('InvalidParameter');
    expect(badParam.message).toContain('Silent');

    const ok = await ros.validateTemplate(
      new $Ros.ValidateTemplateRequest({ regionId: 'cn-hangzhou', templateBody: template(logFile) }),
    );
    expect(ok.body!.parameters!.map((p) => p['ParameterKey']).sort()).toEqual([
      'Fail',
      'Secret',
      'Silent',
      'Value',
    ]);

    // A type LocalCloud does not emulate fails that resource, never a silent success.
    const vpc = await createStack(
      'vpc',
      JSON.stringify({ ...base, Resources: { Vpc: { Type: 'ALIYUN::ECS::VPC', Properties: {} } } }),
      {
        disableRollback: true,
      },
    );
    const stack = await waitFor(vpc);
    expect(stack.status).toBe('CREATE_FAILED');
    expect(stack.statusReason).toContain('not supported by LocalCloud');
  });

  it('refuses templates nested too deeply, and patterns that backtrack catastrophically, without stalling', async () => {
    const base = { ROSTemplateFormatVersion: '2015-09-01', Resources: {} };
    // A Fn::Join nested 3000 deep overflowed the resolver's stack: 500 instead of InvalidTemplate.
    const deep = '{"Fn::Join":["",['.repeat(3000) + '"x"' + ']]}'.repeat(3000);
    const nested = await errorOf(
      createStack(
        'deep',
        `{"ROSTemplateFormatVersion":"2015-09-01","Resources":{},"Outputs":{"O":{"Value":${deep}}}}`,
      ),
    );
    expect([nested.code, nested.message]).toEqual([
      'InvalidTemplate',
      expect.stringContaining('levels deep'),
    ]);

    // (a+)+$ against 30 a's and a "!" blocked the event loop for minutes.
    const evil = JSON.stringify({
      ...base,
      Parameters: { P: { Type: 'String', AllowedPattern: '(a+)+$', Default: `${'a'.repeat(30)}!` } },
    });
    const pattern = await errorOf(createStack('evil-pattern', evil));
    expect(pattern.message).toContain('catastrophic backtracking');
    const matchPattern = JSON.stringify({
      ...base,
      Outputs: { O: { Value: { 'Fn::MatchPattern': ['(a+)+$', `${'a'.repeat(30)}!`] } } },
    });
    const stackId = await createStack('evil-match', matchPattern);
    const stack = await waitFor(stackId);
    expect(stack.statusReason).toContain('catastrophic backtracking');
  });

  it('keeps the outputs that resolve and names the ones that do not', async () => {
    const body = JSON.stringify({
      ROSTemplateFormatVersion: '2015-09-01',
      Mappings: { M: { a: { b: 1 } } },
      Resources: {},
      Outputs: { Broken: { Value: { 'Fn::FindInMap': ['M', 'zz', 'b'] } }, Kept: { Value: 'kept' } },
    });
    const stackId = await createStack('outputs', body);
    const stack = await waitFor(stackId);
    expect(stack.status).toBe('CREATE_COMPLETE');
    expect(stack.outputs).toEqual([expect.objectContaining({ OutputKey: 'Kept', OutputValue: 'kept' })]);
    expect(stack.statusReason).toMatch(/outputs that could not be resolved: Broken: /);
  });

  it('accepts YAML templates and pages stack events', async () => {
    const yaml = [
      "ROSTemplateFormatVersion: '2015-09-01'",
      'Resources:',
      ...Array.from({ length: 30 }, (_, i) => [
        `  R${i}:`,
        '    Type: ALIYUN::RAM::Role',
        '    Properties:',
        `      RoleName: !Sub 'yaml-${i}-\${ALIYUN::StackName}'`,
        '      AssumeRolePolicyDocument:',
        "        Version: '1'",
        '        Statement: [{ Action: sts:AssumeRole, Effect: Allow, Principal: { Service: [fc.aliyuncs.com] } }]',
      ]).flat(),
    ].join('\n');
    const stackId = await createStack('yaml', yaml);
    expect((await waitFor(stackId)).status).toBe('CREATE_COMPLETE');
    const page1 = await ros.listStackEvents(
      new $Ros.ListStackEventsRequest({ regionId: 'cn-hangzhou', stackId, pageSize: 50, pageNumber: 1 }),
    );
    const page2 = await ros.listStackEvents(
      new $Ros.ListStackEventsRequest({ regionId: 'cn-hangzhou', stackId, pageSize: 50, pageNumber: 2 }),
    );
    expect(page1.body!.totalCount).toBe(62);
    expect(page1.body!.events).toHaveLength(50);
    expect(page2.body!.events).toHaveLength(12);
    const ids = new Set([...page1.body!.events!, ...page2.body!.events!].map((e) => e.eventId));
    expect(ids.size).toBe(62);
  });
});
