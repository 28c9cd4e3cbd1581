import * as fs from 'fs';
import * as path from 'path';
import { deployStack, DeployEvent, destroyStack, stackEvents, stackOutputs } from '../../lib/deploy';
import type { LocalCloud } from '../../lib/local';
import { gatedTemplate, role, rolesTemplate, startCloud, tempDir, waitFor } from './fixtures';

describe('deployStack / destroyStack against LocalCloud', () => {
  let cloud: LocalCloud;
  let fast: Awaited<ReturnType<typeof startCloud>>['fast'];
  beforeAll(async () => ({ cloud, fast } = await startCloud()));
  afterAll(() => cloud.stop());

  it('creates, updates, finds no changes, then destroys a stack, reporting events and outputs', async () => {
    const events: DeployEvent[] = [];
    const onEvent = (e: DeployEvent) => events.push(e);
    const created = await deployStack({
      ...fast,
      stackName: 'lifecycle',
      template: rolesTemplate({ A: 'lc-a' }),
      tags: { team: 'images' },
      timeoutInMinutes: 15,
      onEvent,
    });
    const stored = cloud.ros.stacks('cn-hangzhou').find((s) => s.stackName === 'lifecycle')!;
    expect(stored).toMatchObject({
      tags: [{ Key: 'team', Value: 'images' }],
      timeoutInMinutes: 15,
      disableRollback: false,
    });
    expect(created).toMatchObject({
      operation: 'create',
      status: 'CREATE_COMPLETE',
      success: true,
      noChanges: false,
    });
    expect(created.outputs).toEqual([
      { key: 'AArn', value: `acs:ram::${cloud.accountId}:role/lc-a`, description: 'ARN of A' },
    ]);
    expect(events[0]).toMatchObject({ type: 'started', operation: 'create', resourceCount: 1 });
    const statuses = events.flatMap((e) =>
      e.type === 'stack-event' ? [`${e.event.logicalResourceId} ${e.event.status}`] : [],
    );
    expect(statuses).toEqual([
      'lifecycle CREATE_IN_PROGRESS',
      'A CREATE_IN_PROGRESS',
      'A CREATE_COMPLETE',
      'lifecycle CREATE_COMPLETE',
    ]);

    events.length = 0;
    const updated = await deployStack({
      ...fast,
      stackName: 'lifecycle',
      template: rolesTemplate({ A: 'lc-a', B: 'lc-b' }),
      onEvent,
    });
    expect(updated).toMatchObject({
      operation: 'update',
      status: 'UPDATE_COMPLETE',
      success: true,
      stackId: created.stackId,
    });
    expect(updated.outputs.map((o) => o.key).sort()).toEqual(['AArn', 'BArn']);
    // Only this operation's events are reported, not the create's.
    const updateEvents = events.flatMap((e) => (e.type === 'stack-event' ? [e.event.status] : []));
    expect(updateEvents[0]).toBe('UPDATE_IN_PROGRESS');
    expect(events.filter((e) => e.type === 'stack-event' && e.event.logicalResourceId === 'A')).toEqual([]);

    const same = await deployStack({
      ...fast,
      stackName: 'lifecycle',
      template: rolesTemplate({ A: 'lc-a', B: 'lc-b' }),
    });
    expect(same).toMatchObject({
      operation: 'none',
      noChanges: true,
      success: true,
      status: 'UPDATE_COMPLETE',
    });
    expect(same.outputs.map((o) => o.key).sort()).toEqual(['AArn', 'BArn']);

    expect(await stackOutputs({ ...fast, stackName: 'lifecycle' })).toMatchObject({
      stackId: created.stackId,
      status: 'UPDATE_COMPLETE',
      outputs: expect.arrayContaining([expect.objectContaining({ key: 'BArn' })]),
    });
    const history = await stackEvents({ ...fast, stackName: 'lifecycle', limit: 3 });
    // The latest three, oldest first: B created, the A/B update ends.
    expect(history.events.map((e) => `${e.logicalResourceId} ${e.status}`)).toEqual([
      'B CREATE_IN_PROGRESS',
      'B CREATE_COMPLETE',
      'lifecycle UPDATE_COMPLETE',
    ]);

    const destroyed = await destroyStack({ ...fast, stackName: 'lifecycle' });
    expect(destroyed).toMatchObject({ operation: 'delete', status: 'DELETE_COMPLETE', success: true });
    expect(cloud.ros.stacks('cn-hangzhou').find((s) => s.stackName === 'lifecycle')?.status).toBe(
      'DELETE_COMPLETE',
    );
    expect(await destroyStack({ ...fast, stackName: 'lifecycle' })).toMatchObject({
      operation: 'none',
      status: 'NOT_FOUND',
      success: true,
    });
    await expect(stackOutputs({ ...fast, stackName: 'lifecycle' })).rejects.toMatchObject({
      code: 'StackNotFound',
    });
  });

  it('pages back through a long event history to report every new event of an update, and only those', async () => {
    const roles = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`R${i}`, `many-${i}`]));
    await deployStack({ ...fast, stackName: 'many', template: rolesTemplate(roles) });
    const more = {
      ...roles,
      ...Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`N${i}`, `many-new-${i}`])),
    };
    const events: DeployEvent[] = [];
    const result = await deployStack({
      ...fast,
      stackName: 'many',
      template: rolesTemplate(more),
      onEvent: (e) => events.push(e),
    });
    expect(result.status).toBe('UPDATE_COMPLETE');
    const reported = events.flatMap((e) => (e.type === 'stack-event' ? [e.event] : []));
    // 30 new roles × 2 events, and the stack's own 2: more than one page of 50.
    expect(reported).toHaveLength(62);
    expect(new Set(reported.map((e) => e.eventId)).size).toBe(62);
    expect(reported.every((e) => e.logicalResourceId.startsWith('N') || e.logicalResourceId === 'many')).toBe(
      true,
    );
    expect(reported[0].status).toBe('UPDATE_IN_PROGRESS');
    expect(reported[61].status).toBe('UPDATE_COMPLETE');
  });

  it('reports a failed create with the failing resource and its reason, rolled back; the next deploy starts over', async () => {
    const template = {
      ROSTemplateFormatVersion: '2015-09-01',
      Resources: { Good: role('fail-good'), Bad: { ...role('no spaces allowed'), DependsOn: 'Good' } },
    };
    const result = await deployStack({ ...fast, stackName: 'failing', template });
    expect(result).toMatchObject({ operation: 'create', status: 'CREATE_ROLLBACK_COMPLETE', success: false });
    expect(result.failedResources).toEqual([
      {
        logicalResourceId: 'Bad',
        resourceType: 'ALIYUN::RAM::Role',
        status: 'CREATE_FAILED',
        statusReason: expect.stringContaining('RoleName "no spaces allowed" is invalid'),
      },
    ]);
    expect(cloud.ros.stacks('cn-hangzhou').find((s) => s.stackName === 'failing')?.resources).toEqual({});

    const events: DeployEvent[] = [];
    const retried = await deployStack({
      ...fast,
      stackName: 'failing',
      template: rolesTemplate({ Good: 'fail-good' }),
      onEvent: (e) => events.push(e),
    });
    expect(retried).toMatchObject({ operation: 'create', status: 'CREATE_COMPLETE', success: true });
    expect(events.find((e) => e.type === 'message')).toMatchObject({
      text: expect.stringContaining('deleting it before creating it again'),
    });
  });

  it('keeps a failed create with --no-rollback and then refuses to update it, saying to destroy it', async () => {
    const template = { ROSTemplateFormatVersion: '2015-09-01', Resources: { Bad: role('bad name') } };
    const result = await deployStack({ ...fast, stackName: 'kept', template, disableRollback: true });
    expect(result).toMatchObject({ status: 'CREATE_FAILED', success: false });
    expect(result.failedResources[0]).toMatchObject({ logicalResourceId: 'Bad', status: 'CREATE_FAILED' });
    await expect(
      deployStack({ ...fast, stackName: 'kept', template: rolesTemplate({ A: 'kept-a' }) }),
    ).rejects.toMatchObject({
      code: 'StackNotUpdatable',
      message: expect.stringContaining("Destroy it (`destroyStack({ stackName: 'kept' })`)"),
    });
    expect((await destroyStack({ ...fast, stackName: 'kept' })).success).toBe(true);
  });

  it('rolls back a failed update and names the resource that failed', async () => {
    await deployStack({ ...fast, stackName: 'upd', template: rolesTemplate({ A: 'upd-a' }) });
    const broken = rolesTemplate({ A: 'upd-a' });
    (broken.Resources as Record<string, unknown>).Bad = role('upd bad');
    const result = await deployStack({ ...fast, stackName: 'upd', template: broken });
    expect(result).toMatchObject({ operation: 'update', status: 'ROLLBACK_COMPLETE', success: false });
    expect(result.failedResources.map((r) => r.logicalResourceId)).toEqual(['Bad']);
    // ROLLBACK_COMPLETE can be updated again.
    expect(
      await deployStack({ ...fast, stackName: 'upd', template: rolesTemplate({ A: 'upd-a', B: 'upd-b' }) }),
    ).toMatchObject({
      status: 'UPDATE_COMPLETE',
    });
  });

  it('fails a deploy without changes while the stack is UPDATE_FAILED, saying what state it is in and what to do', async () => {
    await deployStack({ ...fast, stackName: 'stuck', template: rolesTemplate({ A: 'stuck-a' }) });
    const broken = rolesTemplate({ A: 'stuck-a' });
    (broken.Resources as Record<string, unknown>).Bad = role('stuck bad');
    const failed = await deployStack({
      ...fast,
      stackName: 'stuck',
      template: broken,
      disableRollback: true,
    });
    expect(failed).toMatchObject({ status: 'UPDATE_FAILED', success: false });

    // The same deploy again (a retried CI job): ROS finds nothing to change, but nothing succeeded either.
    const again = await deployStack({ ...fast, stackName: 'stuck', template: broken, disableRollback: true });
    expect(again).toMatchObject({
      operation: 'none',
      noChanges: true,
      status: 'UPDATE_FAILED',
      success: false,
      statusReason: expect.stringContaining(
        'the template and parameters are unchanged, but the stack is UPDATE_FAILED (',
      ),
    });
    expect(again.statusReason).toContain("or destroy the stack (`destroyStack({ stackName: 'stuck' })`)");
    expect(again.failedResources.map((r) => `${r.logicalResourceId} ${r.status}`)).toEqual([
      'Bad CREATE_FAILED',
    ]);

    // A stack whose failed update was rolled back is back at its template: unchanged is a success there.
    const fixed = await deployStack({
      ...fast,
      stackName: 'stuck',
      template: rolesTemplate({ A: 'stuck-a' }),
    });
    expect(fixed).toMatchObject({ status: 'UPDATE_COMPLETE', success: true });
    const rolledBack = await deployStack({ ...fast, stackName: 'stuck', template: broken });
    expect(rolledBack).toMatchObject({ status: 'ROLLBACK_COMPLETE', success: false });
    const unchanged = await deployStack({
      ...fast,
      stackName: 'stuck',
      template: rolesTemplate({ A: 'stuck-a' }),
    });
    expect(unchanged).toMatchObject({ status: 'ROLLBACK_COMPLETE', noChanges: true, success: true });
  });

  it('keeps the deployed parameter values an update does not give again, also when the template drops one', async () => {
    const withParameters = (names: string[], noEcho: string[] = []) => ({
      ...rolesTemplate({ A: 'kept-params-a' }),
      Parameters: Object.fromEntries([
        ...names.map((n) => [n, { Type: 'String', Default: `${n.toLowerCase()}-default` }]),
        ...noEcho.map((n) => [n, { Type: 'String', NoEcho: true, Default: 'secret-default' }]),
      ]),
      Description: names.join(','),
    });
    const stored = () => cloud.ros.stacks('cn-hangzhou').find((s) => s.stackName === 'params')!;
    await deployStack({
      ...fast,
      stackName: 'params',
      template: withParameters(['Env', 'Tier']),
      parameters: { Env: 'prod', Tier: 'web' },
    });
    // Another template, no parameters given: the deployed values stay.
    await deployStack({ ...fast, stackName: 'params', template: withParameters(['Env', 'Tier', 'Zone']) });
    expect(stored()).toMatchObject({ status: 'UPDATE_COMPLETE', parameters: { Env: 'prod', Tier: 'web' } });
    // Tier dropped from the template: Env is still kept, given explicitly.
    await deployStack({ ...fast, stackName: 'params', template: withParameters(['Env']) });
    expect(stored()).toMatchObject({ status: 'UPDATE_COMPLETE', parameters: { Env: 'prod' } });
    // A NoEcho value cannot be read back to be passed explicitly: it must be given again.
    await deployStack({
      ...fast,
      stackName: 'params',
      template: withParameters(['Env', 'Zone'], ['Password']),
      parameters: { Password: 'p4ssw0rd' },
    });
    await expect(
      deployStack({ ...fast, stackName: 'params', template: withParameters(['Env'], ['Password']) }),
    ).rejects.toMatchObject({
      code: 'MissingParameter',
      message: expect.stringContaining('Parameter Password of stack params is NoEcho'),
    });
  });

  it("takes the app's stack tags from the cloud assembly and refuses a region other than the one it pinned", async () => {
    const dir = tempDir('assembly-');
    const template = rolesTemplate({ A: 'assembled-a' });
    fs.writeFileSync(path.join(dir, 'Assembled.template.json'), JSON.stringify(template, null, 2));
    fs.writeFileSync(
      path.join(dir, 'Assembled.assets.json'),
      JSON.stringify({ files: { x: { destinations: { d: { region: 'cn-hangzhou' } } } } }),
    );
    fs.writeFileSync(
      path.join(dir, 'manifest.json'),
      JSON.stringify({
        artifacts: {
          'Assembled.assets': { type: 'cdk:asset-manifest', properties: { file: 'Assembled.assets.json' } },
          Assembled: {
            type: 'aliyun:ros:stack',
            properties: { templateFile: 'Assembled.template.json', tags: { team: 'images', env: 'dev' } },
            dependencies: ['Assembled.assets'],
          },
        },
      }),
    );
    await expect(
      deployStack({ ...fast, regionId: 'cn-shanghai', stackName: 'Assembled', assemblyDir: dir }),
    ).rejects.toMatchObject({
      code: 'RegionMismatch',
      message: expect.stringContaining(
        'Stack Assembled is pinned to cn-hangzhou by its env.region in the app',
      ),
    });
    const result = await deployStack({
      ...fast,
      stackName: 'Assembled',
      assemblyDir: dir,
      tags: { env: 'prod' },
    });
    expect(result.success).toBe(true);
    expect(cloud.ros.stacks('cn-hangzhou').find((s) => s.stackName === 'Assembled')!.tags).toEqual([
      { Key: 'team', Value: 'images' },
      { Key: 'env', Value: 'prod' },
    ]);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('refuses politely while another operation is in progress on the stack', async () => {
    const dir = tempDir('gate-');
    const gate = path.join(dir, 'open');
    const events: DeployEvent[] = [];
    const running = deployStack({
      ...fast,
      stackName: 'busy',
      template: gatedTemplate(gate, 'busy-provider'),
      onEvent: (e) => events.push(e),
    });
    await waitFor(() =>
      events.find((e) => e.type === 'stack-event' && e.event.logicalResourceId === 'Gated'),
    );
    const refusal = {
      code: 'StackBusy',
      message: expect.stringContaining('Stack busy is busy (CREATE_IN_PROGRESS)'),
    };
    await expect(
      deployStack({ ...fast, stackName: 'busy', template: rolesTemplate({ A: 'busy-a' }) }),
    ).rejects.toMatchObject(refusal);
    await expect(destroyStack({ ...fast, stackName: 'busy' })).rejects.toMatchObject(refusal);
    fs.writeFileSync(gate, '');
    const result = await running;
    expect(result).toMatchObject({ status: 'CREATE_COMPLETE', success: true });
    expect(result.outputs).toEqual([{ key: 'Opened', value: 'yes' }]);
    expect((await destroyStack({ ...fast, stackName: 'busy' })).success).toBe(true);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('stops following when aborted, leaving the operation to ROS', async () => {
    const dir = tempDir('gate-');
    const gate = path.join(dir, 'open');
    const abort = new AbortController();
    const following = deployStack({
      ...fast,
      stackName: 'aborted',
      template: gatedTemplate(gate, 'aborted-provider'),
      signal: abort.signal,
      onEvent: (e) => {
        if (e.type === 'stack-event' && e.event.logicalResourceId === 'Gated') {
          abort.abort();
        }
      },
    });
    await expect(following).rejects.toMatchObject({
      code: 'Aborted',
      message: 'Stopped following the stack; the operation goes on in ROS (see its events).',
    });
    expect(cloud.ros.stacks('cn-hangzhou').find((s) => s.stackName === 'aborted')?.status).toBe(
      'CREATE_IN_PROGRESS',
    );
    fs.writeFileSync(gate, '');
    await cloud.ros.settled();
    expect(cloud.ros.stacks('cn-hangzhou').find((s) => s.stackName === 'aborted')?.status).toBe(
      'CREATE_COMPLETE',
    );
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('never returns or reports the value of a NoEcho parameter', async () => {
    const secret = 'hunter2-very-secret';
    const template = {
      ROSTemplateFormatVersion: '2015-09-01',
      Parameters: { Password: { Type: 'String', NoEcho: true } },
      Resources: { Bad: role({ 'Fn::Join': ['', ['x ', { Ref: 'Password' }]] } as unknown as string) },
      Outputs: { Echo: { Value: { Ref: 'Password' } } },
    };
    const events: DeployEvent[] = [];
    const result = await deployStack({
      ...fast,
      stackName: 'secrets',
      template,
      parameters: { Password: secret },
      onEvent: (e) => events.push(e),
    });
    expect(result.success).toBe(false);
    expect(result.failedResources[0].statusReason).toBe(
      'RoleName "x ****" is invalid: 1-64 letters, digits, "." or "-"',
    );
    expect(JSON.stringify({ result, events })).not.toContain(secret);
  });
});

describe('a deploy after LocalCloud stopped in the middle of an update', () => {
  it('is not a success when nothing changed: the interrupted update left the stack UPDATE_FAILED', async () => {
    const dir = tempDir('crash-');
    const stateFile = path.join(dir, 'state.json');
    const gate = path.join(dir, 'open');
    let { cloud, fast } = await startCloud({ stateFile });
    try {
      await deployStack({ ...fast, stackName: 'crashed', template: rolesTemplate({ A: 'crash-a' }) });
      const gated = gatedTemplate(gate, 'crash-provider');
      const abort = new AbortController();
      const following = deployStack({
        ...fast,
        stackName: 'crashed',
        template: gated,
        signal: abort.signal,
        onEvent: (e) => {
          if (e.type === 'stack-event' && e.event.logicalResourceId === 'Gated') {
            abort.abort();
          }
        },
      });
      await expect(following).rejects.toMatchObject({ code: 'Aborted' });
      await cloud.stop(); // the crash: the update never ends
      ({ cloud, fast } = await startCloud({ stateFile }));
      const again = await deployStack({ ...fast, stackName: 'crashed', template: gated });
      expect(again).toMatchObject({ noChanges: true, status: 'UPDATE_FAILED', success: false });
      expect(again.statusReason).toContain('LocalCloud stopped while this operation was in progress');
    } finally {
      fs.writeFileSync(gate, '');
      await cloud.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
