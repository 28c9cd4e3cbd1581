import { deployStack, DeployEvent, destroyStack } from '../../lib/deploy';
import { followStack, pollDelay } from '../../lib/deploy/follow';
import type { StackApi, StackEvent } from '../../lib/deploy/stack-api';
import { ApiError, LocalCloud } from '../../lib/local';
import { REGION, role, rolesTemplate, startCloud, VirtualClock } from './fixtures';

/** The ROS calls the deploy tool made (not the provider's) since `from` calls into the log. */
const rosCallsSince = (cloud: LocalCloud, from: number) =>
  cloud.calls.slice(from).flatMap((c) => (c.product === 'ros' && c.principal === 'root' ? [c.action] : []));

const polls = (events: DeployEvent[]) => events.filter((e) => e.type === 'poll').length;

describe('following a stack with one call per poll (LocalCloud)', () => {
  let cloud: LocalCloud;
  let fast: Awaited<ReturnType<typeof startCloud>>['fast'];
  beforeAll(async () => ({ cloud, fast } = await startCloud()));
  afterAll(() => cloud.stop());

  it('polls with ListStackEvents alone and asks GetStack once, at the end, for the status and the outputs', async () => {
    let from = cloud.calls.length;
    const events: DeployEvent[] = [];
    const onEvent = (e: DeployEvent) => events.push(e);
    const created = await deployStack({
      ...fast,
      stackName: 'calls',
      template: rolesTemplate({ A: 'calls-a' }),
      onEvent,
    });
    expect(created).toMatchObject({ status: 'CREATE_COMPLETE', success: true });
    expect(created.outputs.map((o) => o.key)).toEqual(['AArn']);
    const n = polls(events);
    expect(n).toBeGreaterThan(0);
    expect(rosCallsSince(cloud, from)).toEqual([
      'ListStacks',
      'CreateStack',
      ...Array<string>(n).fill('ListStackEvents'),
      'GetStack',
    ]);

    from = cloud.calls.length;
    events.length = 0;
    const updated = await deployStack({
      ...fast,
      stackName: 'calls',
      template: rolesTemplate({ A: 'calls-a', B: 'calls-b' }),
      onEvent,
    });
    expect(updated).toMatchObject({ status: 'UPDATE_COMPLETE', success: true });
    expect(updated.outputs.map((o) => o.key).sort()).toEqual(['AArn', 'BArn']);
    // One ListStackEvents before the update marks the older events as seen; GetTemplate tells which custom
    // resources the update removes, for the stack timeout.
    expect(rosCallsSince(cloud, from)).toEqual([
      'ListStacks',
      'ListStackEvents',
      'GetTemplate',
      'UpdateStack',
      ...Array<string>(polls(events)).fill('ListStackEvents'),
      'GetStack',
    ]);

    from = cloud.calls.length;
    events.length = 0;
    const destroyed = await destroyStack({ ...fast, stackName: 'calls', onEvent });
    expect(destroyed).toMatchObject({ status: 'DELETE_COMPLETE', success: true });
    expect(rosCallsSince(cloud, from)).toEqual([
      'ListStacks',
      'ListStackResources',
      'ListStackEvents',
      'DeleteStack',
      ...Array<string>(polls(events)).fill('ListStackEvents'),
      'GetStack',
    ]);
    // The stack's own events are still shown, and the last poll carries the final status.
    expect(events.filter((e) => e.type === 'stack-event' && e.event.logicalResourceId === 'calls')).toEqual([
      expect.objectContaining({ event: expect.objectContaining({ status: 'DELETE_IN_PROGRESS' }) }),
      expect.objectContaining({ event: expect.objectContaining({ status: 'DELETE_COMPLETE' }) }),
    ]);
    expect(events.filter((e) => e.type === 'poll').pop()).toMatchObject({ status: 'DELETE_COMPLETE' });
  });

  it('ends a failed create with one GetStack, naming the failed resource from the events it read', async () => {
    const from = cloud.calls.length;
    const failed = await deployStack({
      ...fast,
      stackName: 'calls-failed',
      template: { ROSTemplateFormatVersion: '2015-09-01', Resources: { Bad: role('calls bad') } },
    });
    expect(failed).toMatchObject({ status: 'CREATE_ROLLBACK_COMPLETE', success: false, outputs: [] });
    const calls = rosCallsSince(cloud, from);
    // A failure reads no outputs; its failed resources come from the events already read.
    expect(calls.filter((a) => a === 'GetStack')).toHaveLength(1);
    expect(calls).not.toContain('ListStackResources');
    expect(failed.failedResources.map((r) => r.logicalResourceId)).toEqual(['Bad']);
  });
});

describe('following a stack whose answers LocalCloud does not give by itself', () => {
  it('follows a delete to its end when the deleted stack stops answering (StackNotFound)', async () => {
    // Answers StackNotFound, as ROS may, once LocalCloud (which keeps deleted stacks visible) has deleted it.
    const started = await startCloud({
      faults: {
        async beforeCall(product: string, action: string) {
          const gone =
            started.cloud.ros.stacks(REGION).find((s) => s.stackName === 'vanishing')?.status ===
            'DELETE_COMPLETE';
          if (product === 'ros' && ['GetStack', 'ListStackEvents'].includes(action) && gone) {
            throw new ApiError('StackNotFound', 'The Stack (vanishing) could not be found.', 404);
          }
          return undefined;
        },
      },
    });
    try {
      await deployStack({ ...started.fast, stackName: 'vanishing', template: rolesTemplate({ A: 'van-a' }) });
      const events: DeployEvent[] = [];
      const result = await destroyStack({
        ...started.fast,
        stackName: 'vanishing',
        onEvent: (e) => events.push(e),
      });
      expect(result).toMatchObject({ operation: 'delete', status: 'DELETE_COMPLETE', success: true });
      expect(started.cloud.calls.filter((c) => c.code === 'StackNotFound').length).toBeGreaterThan(0);
      // Not mistaken for an identity that may not list events.
      expect(events.filter((e) => e.type === 'message')).toEqual([]);
    } finally {
      await started.cloud.stop();
    }
  });
});

describe('followStack against a scripted ROS', () => {
  const STACK_ID = 'stack-id';
  let next = 0;
  const event = (
    logicalResourceId: string,
    status: string,
    resourceType = 'ALIYUN::RAM::Role',
  ): StackEvent => ({
    eventId: `e${next++}`,
    stackName: 's',
    logicalResourceId,
    physicalResourceId: logicalResourceId === 's' ? STACK_ID : `${logicalResourceId}-id`,
    resourceType,
    status,
    statusReason: '',
    createTime: '2026-01-01T00:00:00',
  });
  const own = (status: string) => event('s', status, 'ALIYUN::ROS::Stack');

  /**
   * A StackApi whose ListStackEvents answers, poll after poll, the events of the script, and whose GetStack answers
   * the status of the script at the latest poll; it records the calls.
   */
  function scripted(script: { events: StackEvent[]; status: string }[]) {
    let poll = -1;
    const calls: string[] = [];
    const api = {
      newEvents: async () => {
        calls.push('ListStackEvents');
        poll = Math.min(poll + 1, script.length - 1);
        return script[poll].events;
      },
      get: async (stackId: string, withOutputs: boolean) => {
        calls.push(withOutputs ? 'GetStack with outputs' : 'GetStack');
        return { stackId, stackName: 's', status: script[Math.max(poll, 0)].status, outputs: [] };
      },
      clock: new VirtualClock(),
    } as unknown as StackApi;
    return { api, calls };
  }

  it("takes GetStack's word over a stack event: a CREATE_FAILED that turns into a rollback is followed to its end", async () => {
    const { api, calls } = scripted([
      { events: [own('CREATE_IN_PROGRESS'), event('R', 'CREATE_IN_PROGRESS')], status: 'CREATE_IN_PROGRESS' },
      { events: [event('R', 'CREATE_FAILED'), own('CREATE_FAILED')], status: 'CREATE_ROLLBACK_IN_PROGRESS' },
      {
        events: [
          own('CREATE_ROLLBACK_IN_PROGRESS'),
          event('R', 'DELETE_COMPLETE'),
          own('CREATE_ROLLBACK_COMPLETE'),
        ],
        status: 'CREATE_ROLLBACK_COMPLETE',
      },
    ]);
    const statuses: string[] = [];
    const followed = await followStack(api, STACK_ID, 'create', new Set(), {
      stackName: 's',
      successStatus: 'CREATE_COMPLETE',
      onEvent: (e) => e.type === 'poll' && statuses.push(e.status),
    });
    expect(followed.stack?.status).toBe('CREATE_ROLLBACK_COMPLETE');
    expect(followed.events).toHaveLength(7);
    expect(calls).toEqual(['ListStackEvents', 'ListStackEvents', 'GetStack', 'ListStackEvents', 'GetStack']);
    expect(statuses).toEqual([
      'CREATE_IN_PROGRESS',
      'CREATE_ROLLBACK_IN_PROGRESS',
      'CREATE_ROLLBACK_COMPLETE',
    ]);
  });

  it("ends on the stack's own terminal event, not on a nested stack's, reading the outputs with the last GetStack", async () => {
    const nested = (status: string) => event('Nested', status, 'ALIYUN::ROS::Stack');
    const { api, calls } = scripted([
      { events: [own('CREATE_IN_PROGRESS'), nested('CREATE_IN_PROGRESS')], status: 'CREATE_IN_PROGRESS' },
      { events: [nested('CREATE_COMPLETE')], status: 'CREATE_IN_PROGRESS' },
      { events: [own('CREATE_COMPLETE')], status: 'CREATE_COMPLETE' },
    ]);
    const followed = await followStack(api, STACK_ID, 'create', new Set(), {
      stackName: 's',
      successStatus: 'CREATE_COMPLETE',
    });
    expect(followed).toMatchObject({ stack: { status: 'CREATE_COMPLETE' }, outputsRead: true });
    expect(calls).toEqual(['ListStackEvents', 'ListStackEvents', 'ListStackEvents', 'GetStack with outputs']);
  });

  it("asks GetStack on every poll while the events show none of the stack's own", async () => {
    const { api, calls } = scripted([
      { events: [event('R', 'CREATE_IN_PROGRESS')], status: 'CREATE_IN_PROGRESS' },
      { events: [], status: 'CREATE_IN_PROGRESS' },
      { events: [event('R', 'CREATE_COMPLETE')], status: 'CREATE_COMPLETE' },
    ]);
    const followed = await followStack(api, STACK_ID, 'create', new Set(), {
      stackName: 's',
      successStatus: 'CREATE_COMPLETE',
    });
    expect(followed).toMatchObject({ stack: { status: 'CREATE_COMPLETE' }, outputsRead: false });
    expect(calls).toEqual([
      'ListStackEvents',
      'GetStack',
      'ListStackEvents',
      'GetStack',
      'ListStackEvents',
      'GetStack',
    ]);
  });
});

describe('pollDelay', () => {
  it('waits min at first, then a tenth of the time the operation has run, up to max; a number is fixed', () => {
    expect([0, 5_000, 10_000, 15_000, 20_000, 600_000].map((t) => pollDelay(undefined, t))).toEqual([
      1000, 1000, 1000, 1500, 2000, 2000,
    ]);
    expect(pollDelay({ min: 500, max: 10_000 }, 60_000)).toBe(6000);
    expect(pollDelay(250, 600_000)).toBe(250);
  });
});

describe('followStack on a virtual clock', () => {
  it("asks GetStack once a minute while a long operation's events never show the stack's own end", async () => {
    const clock = new VirtualClock();
    const calls: string[] = [];
    let polls = 0;
    const api = {
      clock,
      newEvents: async () => {
        calls.push('ListStackEvents');
        polls++;
        // The stack's own event first, then only a resource's progress, for two hours of polls.
        return polls === 1
          ? [
              {
                eventId: 'start',
                stackName: 's',
                logicalResourceId: 's',
                physicalResourceId: 'stack-id',
                resourceType: 'ALIYUN::ROS::Stack',
                status: 'CREATE_IN_PROGRESS',
                statusReason: '',
                createTime: '2026-01-01T00:00:00',
              },
            ]
          : [];
      },
      get: async (stackId: string) => {
        calls.push('GetStack');
        const elapsedMinutes = (clock.now() - start) / 60_000;
        return {
          stackId,
          stackName: 's',
          status: elapsedMinutes > 120 ? 'CREATE_COMPLETE' : 'CREATE_IN_PROGRESS',
        };
      },
    } as unknown as StackApi;
    const start = clock.now();
    const followed = await followStack(api, 'stack-id', 'create', new Set(), { stackName: 's' });
    expect(followed.stack?.status).toBe('CREATE_COMPLETE');
    // Polls every 2 s at most: about 3,600 ListStackEvents in two hours of virtual time, and a GetStack a minute.
    const getStacks = calls.filter((c) => c === 'GetStack').length;
    expect(getStacks).toBeGreaterThanOrEqual(120);
    expect(getStacks).toBeLessThanOrEqual(122);
    expect(clock.sleeps.every((ms) => ms >= 1000 && ms <= 2000)).toBe(true);
  });
});
