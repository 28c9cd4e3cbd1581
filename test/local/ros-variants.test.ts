/**
 * What LocalCloud's ROS does where ROS's documentation is silent or contradicts itself, under each reading it
 * offers (`lib/local/variants.ts`): a custom resource's Update answered with another PhysicalResourceId, the
 * PhysicalResourceId of the Delete after a failed or unanswered Create, the order of a replacement ROS performs
 * itself, and how ROS invokes a custom resource's function. Driven through the real ROS SDK client, with a small
 * inline provider of the test's own (not the ImageCopy handler) that logs every request it gets.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as $Ros from '@alicloud/ros20190910';
import type { CloudVariants, LocalCloud } from '../../lib/local';
import {
  providerTemplate,
  type ProviderTemplateOptions,
  readRequests,
  type RecordedRequest,
} from './ros-fixture';
import { rosClient, withCloud } from '../support/cloud';
import { FastForwardClock } from '../support/fast-forward-clock';
import { until } from '../support/until';

const REGION = 'cn-hangzhou';

let dir: string;
let logFile: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ros-variants-'));
  logFile = path.join(dir, 'provider.log');
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

/** The requests the provider got since the log was last cleared. */
const requests = (logicalId = 'Custom'): RecordedRequest[] => readRequests(logFile, logicalId);
const clearLog = () => fs.rmSync(logFile, { force: true });

/**
 * Runs `body` with a LocalCloud playing `variants` (ROS on a clock the test moves forward), a ROS client for it, and
 * helpers that wait for each operation to end; stops the LocalCloud afterwards.
 */
function withStacks<T>(
  variants: Partial<CloudVariants>,
  body: (t: ReturnType<typeof stacksOn>) => Promise<T>,
): Promise<T> {
  const clock = new FastForwardClock();
  return withCloud({ variants, ros: { clock } }, (cloud) => body(stacksOn(cloud, clock)));
}

/** A ROS client for `cloud`, and helpers that create, update and delete stacks of the recording provider. */
function stacksOn(cloud: LocalCloud, clock: FastForwardClock) {
  const ros = rosClient(cloud, REGION);
  const stack = async (stackId: string) => {
    await cloud.ros.settled();
    return (await ros.getStack(new $Ros.GetStackRequest({ regionId: REGION, stackId }))).body!;
  };
  const physicalId = async (stackId: string, logicalResourceId = 'Custom') =>
    (
      await ros.getStackResource(
        new $Ros.GetStackResourceRequest({ regionId: REGION, stackId, logicalResourceId }),
      )
    ).body!.physicalResourceId;
  const reasonOf = async (stackId: string, status: string, logicalResourceId = 'Custom') => {
    const events = await ros.listStackEvents(
      new $Ros.ListStackEventsRequest({ regionId: REGION, stackId, pageSize: 50 }),
    );
    return events.body!.events!.find((e) => e.logicalResourceId === logicalResourceId && e.status === status)
      ?.statusReason;
  };
  /** Once the function has run (and returned without answering), moves ROS's clock past the resource's Timeout. */
  const passTimeout = async (functionName: string, seconds: number) => {
    await until(() => cloud.fc.invocations({ functionName })[0]?.outcome);
    await clock.forward(seconds * 1000);
  };
  return {
    cloud,
    ros,
    stack,
    physicalId,
    reasonOf,
    passTimeout,
    async create(
      name: string,
      values: Record<string, string> = {},
      options: ProviderTemplateOptions = {},
      extra: Partial<$Ros.CreateStackRequest> = {},
    ) {
      const created = await ros.createStack(
        new $Ros.CreateStackRequest({
          regionId: REGION,
          stackName: name,
          templateBody: providerTemplate(logFile, options),
          parameters: Object.entries(values).map(
            ([parameterKey, parameterValue]) =>
              new $Ros.CreateStackRequestParameters({ parameterKey, parameterValue }),
          ),
          ...extra,
        }),
      );
      return created.body!.stackId!;
    },
    async update(
      stackId: string,
      values: Record<string, string>,
      options: ProviderTemplateOptions = {},
      extra: Partial<$Ros.UpdateStackRequest> = {},
    ) {
      await ros.updateStack(
        new $Ros.UpdateStackRequest({
          regionId: REGION,
          stackId,
          templateBody: providerTemplate(logFile, options),
          parameters: Object.entries(values).map(
            ([parameterKey, parameterValue]) =>
              new $Ros.UpdateStackRequestParameters({ parameterKey, parameterValue }),
          ),
          ...extra,
        }),
      );
      return stack(stackId);
    },
    async remove(stackId: string) {
      await ros.deleteStack(new $Ros.DeleteStackRequest({ regionId: REGION, stackId }));
      return stack(stackId);
    },
  };
}

describe('physicalIdChange: an Update answered with another PhysicalResourceId', () => {
  it('refuse (the default): the update fails, saying the id must be copied from the request; the old id stays', async () => {
    await withStacks({}, async (t) => {
      expect(t.cloud.variants.physicalIdChange).toBe('refuse');
      const stackId = await t.create('refuse');
      expect((await t.stack(stackId)).status).toBe('CREATE_COMPLETE');
      clearLog();
      const stack = await t.update(stackId, { Id: 'pid-2', Value: 'v2' });
      expect(stack.status).toBe('ROLLBACK_COMPLETE');
      expect(await t.reasonOf(stackId, 'UPDATE_FAILED')).toContain(
        'answered the Update with PhysicalResourceId "pid-2", not the request\'s "pid-1": the PhysicalResourceId must be copied from the request',
      );
      expect(await t.physicalId(stackId)).toBe('pid-1');
      // The rollback updates it back, under its old id; nothing is deleted.
      expect(requests().map((r) => [r.type, r.physicalId, r.props.Id, r.old?.Id])).toEqual([
        ['Update', 'pid-1', 'pid-2', 'pid-1'],
        ['Update', 'pid-1', 'pid-1', 'pid-2'],
      ]);
    });
  });

  it('keep: the update succeeds and ROS keeps the old id, sending no Delete', async () => {
    await withStacks({ physicalIdChange: 'keep' }, async (t) => {
      const stackId = await t.create('keep');
      expect((await t.stack(stackId)).status).toBe('CREATE_COMPLETE');
      clearLog();
      const stack = await t.update(stackId, { Id: 'pid-2', Value: 'v2' });
      expect(stack.status).toBe('UPDATE_COMPLETE');
      expect(await t.physicalId(stackId)).toBe('pid-1');
      expect(stack.outputs!.find((o) => o['OutputKey'] === 'Value')!['OutputValue']).toBe('v2');
      expect(requests().map((r) => [r.type, r.physicalId])).toEqual([['Update', 'pid-1']]);
      // The stack's Delete names the id ROS kept.
      clearLog();
      expect((await t.remove(stackId)).status).toBe('DELETE_COMPLETE');
      expect(requests().map((r) => [r.type, r.physicalId])).toEqual([['Delete', 'pid-1']]);
    });
  });

  it("replace: the new id is the resource's, and after the update ROS deletes the old id with the old properties", async () => {
    await withStacks({ physicalIdChange: 'replace' }, async (t) => {
      const stackId = await t.create('replace');
      expect((await t.stack(stackId)).status).toBe('CREATE_COMPLETE');
      clearLog();
      const stack = await t.update(stackId, { Id: 'pid-2', Value: 'v2' });
      expect(stack.status).toBe('UPDATE_COMPLETE');
      expect(await t.physicalId(stackId)).toBe('pid-2');
      expect(requests().map((r) => [r.type, r.physicalId, r.props.Id, r.props.Value])).toEqual([
        ['Update', 'pid-1', 'pid-2', 'v2'],
        ['Delete', 'pid-1', 'pid-1', 'v1'],
      ]);
    });
  });

  it('replace: when the stack update rolls back, ROS deletes the new id and keeps the old one', async () => {
    await withStacks({ physicalIdChange: 'replace' }, async (t) => {
      const stackId = await t.create('replace-rollback', {}, { breaker: true });
      expect((await t.stack(stackId)).status).toBe('CREATE_COMPLETE');
      clearLog();
      // Custom answers a new id; Breaker, updated after it, fails: the update rolls back.
      const stack = await t.update(
        stackId,
        { Id: 'pid-2', Value: 'v2', BreakerAnswer: 'fail' },
        { breaker: true },
      );
      expect(stack.status).toBe('ROLLBACK_COMPLETE');
      expect(await t.physicalId(stackId)).toBe('pid-1');
      expect(requests().map((r) => [r.type, r.physicalId, r.props.Id])).toEqual([
        ['Update', 'pid-1', 'pid-2'],
        ['Delete', 'pid-2', 'pid-2'],
      ]);
    });
  });
});

describe('deleteAfterFailedCreate: the Delete that follows a failed or unanswered Create', () => {
  async function deleteAfterFailure(
    variant: CloudVariants['deleteAfterFailedCreate'] | undefined,
    values: Record<string, string>,
    options: ProviderTemplateOptions = {},
  ): Promise<RecordedRequest> {
    return withStacks(variant ? { deleteAfterFailedCreate: variant } : {}, async (t) => {
      const stackId = await t.create('failed-create', values, options);
      if (values.Answer === 'silent') {
        await t.passTimeout('a-failed-create', options.timeout ?? 30);
      }
      expect((await t.stack(stackId)).status).toBe('CREATE_ROLLBACK_COMPLETE');
      const deletes = requests().filter((r) => r.type === 'Delete');
      expect(deletes).toHaveLength(1);
      return deletes[0];
    });
  }

  it('logical-id (the default): on rollback, the Delete carries the logical id as PhysicalResourceId', async () => {
    const request = await deleteAfterFailure(undefined, { Answer: 'fail', Id: 'answered-id' });
    expect(request).toMatchObject({ hasPhysicalId: true, physicalId: 'Custom' });
  });

  it('logical-id: so does the Delete of a stack whose failed create was kept (DisableRollback)', async () => {
    await withStacks({}, async (t) => {
      const stackId = await t.create('kept', { Answer: 'fail' }, {}, { disableRollback: true });
      expect((await t.stack(stackId)).status).toBe('CREATE_FAILED');
      clearLog();
      expect((await t.remove(stackId)).status).toBe('DELETE_COMPLETE');
      expect(requests().map((r) => [r.type, r.physicalId])).toEqual([['Delete', 'Custom']]);
    });
  });

  it('empty: the Delete has no PhysicalResourceId field', async () => {
    const request = await deleteAfterFailure('empty', { Answer: 'fail', Id: 'answered-id' });
    expect(request.hasPhysicalId).toBe(false);
  });

  it('answered: the Delete carries the id the FAILED answer carried', async () => {
    const request = await deleteAfterFailure('answered', { Answer: 'fail', Id: 'answered-id' });
    expect(request).toMatchObject({ hasPhysicalId: true, physicalId: 'answered-id' });
  });

  it('answered: after a Create that was never answered, the Delete carries <LogicalId>-never-created', async () => {
    const request = await deleteAfterFailure('answered', { Answer: 'silent' }, { timeout: 2 });
    expect(request).toMatchObject({ hasPhysicalId: true, physicalId: 'Custom-never-created' });
  });
});

describe('replacementOrder: a replacement ROS performs itself (a new ServiceToken, ReplacementOption Enabled)', () => {
  const replace = { replacementOption: 'Enabled' } as const;

  it('is refused without ReplacementOption, naming the property that cannot change in place', async () => {
    await withStacks({}, async (t) => {
      const stackId = await t.create('no-replacement');
      expect((await t.stack(stackId)).status).toBe('CREATE_COMPLETE');
      const stack = await t.update(stackId, { Provider: 'B' });
      expect(stack.status).toBe('ROLLBACK_COMPLETE');
      expect(stack.statusReason).toContain('ServiceToken cannot be updated in place');
      expect(stack.statusReason).toContain('ReplacementOption=Enabled');
    });
  });

  it('create-first (the default): Create through the new token, then, after the update, Delete of the old id', async () => {
    await withStacks({}, async (t) => {
      expect(t.cloud.variants.replacementOrder).toBe('create-first');
      const stackId = await t.create('create-first');
      expect((await t.stack(stackId)).status).toBe('CREATE_COMPLETE');
      clearLog();
      const stack = await t.update(stackId, { Provider: 'B', Id: 'pid-b' }, {}, replace);
      expect(stack.status).toBe('UPDATE_COMPLETE');
      expect(requests().map((r) => [r.fn, r.type, r.physicalId])).toEqual([
        ['b-create-first', 'Create', undefined],
        ['a-create-first', 'Delete', 'pid-1'],
      ]);
      expect(await t.physicalId(stackId)).toBe('pid-b');
    });
  });

  it('delete-first: Delete of the old id through the old token, then Create through the new one', async () => {
    await withStacks({ replacementOrder: 'delete-first' }, async (t) => {
      const stackId = await t.create('delete-first');
      expect((await t.stack(stackId)).status).toBe('CREATE_COMPLETE');
      clearLog();
      const stack = await t.update(stackId, { Provider: 'B', Id: 'pid-b' }, {}, replace);
      expect(stack.status).toBe('UPDATE_COMPLETE');
      expect(requests().map((r) => [r.fn, r.type, r.physicalId])).toEqual([
        ['a-delete-first', 'Delete', 'pid-1'],
        ['b-delete-first', 'Create', undefined],
      ]);
      expect(await t.physicalId(stackId)).toBe('pid-b');
    });
  });

  it('delete-first: a rollback deletes the failed new resource and creates the old one again', async () => {
    await withStacks({ replacementOrder: 'delete-first' }, async (t) => {
      const stackId = await t.create('delete-first-rollback');
      expect((await t.stack(stackId)).status).toBe('CREATE_COMPLETE');
      clearLog();
      const stack = await t.update(stackId, { Provider: 'B', Id: 'pid-b', Answer: 'fail' }, {}, replace);
      expect(stack.status).toBe('ROLLBACK_COMPLETE');
      expect(requests().map((r) => [r.fn, r.type, r.physicalId, r.props.Id])).toEqual([
        ['a-delete-first-rollback', 'Delete', 'pid-1', 'pid-1'],
        ['b-delete-first-rollback', 'Create', undefined, 'pid-b'],
        ['b-delete-first-rollback', 'Delete', 'Custom', 'pid-b'],
        ['a-delete-first-rollback', 'Create', undefined, 'pid-1'],
      ]);
      expect(await t.physicalId(stackId)).toBe('pid-1');
    });
  });

  it('create-first: a rollback deletes the failed new resource and keeps the old one', async () => {
    await withStacks({}, async (t) => {
      const stackId = await t.create('create-first-rollback');
      expect((await t.stack(stackId)).status).toBe('CREATE_COMPLETE');
      clearLog();
      const stack = await t.update(stackId, { Provider: 'B', Id: 'pid-b', Answer: 'fail' }, {}, replace);
      expect(stack.status).toBe('ROLLBACK_COMPLETE');
      expect(requests().map((r) => [r.fn, r.type, r.physicalId])).toEqual([
        ['b-create-first-rollback', 'Create', undefined],
        ['b-create-first-rollback', 'Delete', 'Custom'],
      ]);
      expect(await t.physicalId(stackId)).toBe('pid-1');
      // The old resource is still the stack's: its Delete goes to the old token.
      clearLog();
      expect((await t.remove(stackId)).status).toBe('DELETE_COMPLETE');
      expect(requests().map((r) => [r.fn, r.type, r.physicalId])).toEqual([
        ['a-create-first-rollback', 'Delete', 'pid-1'],
      ]);
    });
  });
});

describe('customResourceInvocation: how ROS invokes the ServiceToken function', () => {
  it('async (the default): a delivery that fails without answering is retried by FC, which then answers', async () => {
    await withStacks({}, async (t) => {
      const stackId = await t.create('async', {}, { failFirstDelivery: true });
      expect((await t.stack(stackId)).status).toBe('CREATE_COMPLETE');
      await t.cloud.fc.settled();
      const invocations = t.cloud.fc.invocations({ functionName: 'a-async' });
      expect(invocations.map((i) => [i.async, i.attempt, i.outcome])).toEqual([
        [true, 0, 'failed'],
        [true, 1, 'succeeded'],
      ]);
    });
  });

  it('sync: no FC retry, the return value is ignored, and ROS still waits for the answer at the response URL', async () => {
    await withStacks({ customResourceInvocation: 'sync' }, async (t) => {
      const failing = await t.create('sync-failing', {}, { failFirstDelivery: true, timeout: 2 });
      await t.passTimeout('a-sync-failing', 2);
      expect((await t.stack(failing)).status).toBe('CREATE_ROLLBACK_COMPLETE');
      expect(await t.reasonOf(failing, 'CREATE_FAILED')).toContain(
        'No response from the custom resource provider',
      );
      await t.cloud.fc.settled();
      const first = t.cloud.fc.invocations({ functionName: 'a-sync-failing' });
      expect(first.map((i) => [i.async, i.attempt, i.outcome])).toEqual([
        [false, 0, 'failed'],
        [false, 0, 'succeeded'], // the rollback's Delete
      ]);
      // A provider that answers and returns a value: the answer counts, the value does not.
      const answering = await t.create('sync', { Value: 'answered' });
      const stack = await t.stack(answering);
      expect(stack.status).toBe('CREATE_COMPLETE');
      expect(stack.outputs!.find((o) => o['OutputKey'] === 'Value')!['OutputValue']).toBe('answered');
      await t.cloud.fc.settled();
      expect(t.cloud.fc.invocations({ functionName: 'a-sync' }).map((i) => [i.async, i.outcome])).toEqual([
        [false, 'succeeded'],
      ]);
    });
  });
});
