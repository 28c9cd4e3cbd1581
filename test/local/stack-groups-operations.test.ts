/**
 * Stack group operations as OperationPreferences shape them, observed from the instances' own stacks (a custom
 * resource in each that logs when it ran): concurrency per region, failure tolerance, sequential and parallel
 * regions, StopStackGroupOperation, and an operation carried on across a LocalCloud restart.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as $Ros from '@alicloud/ros20190910';
import { LocalCloud } from '../../lib/local';
import {
  createGroup,
  createInstances,
  grantSelfManaged,
  maxOverlap,
  operationResults,
  readSleeperLog,
  REGION,
  rosClient,
  slowTemplate,
  waitForOperation,
} from './stack-groups-fixture';

const OTHER_REGION = 'cn-beijing';

describe('stack group operations', () => {
  let cloud: LocalCloud;
  let dir: string;
  let log: string;
  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stack-group-ops-'));
    log = path.join(dir, 'runs.log');
    cloud = await LocalCloud.start({ accounts: 4, stateFile: path.join(dir, 'state.json') });
    grantSelfManaged(cloud);
  });
  afterEach(async () => {
    await cloud.accounts[0].stackGroups.settled();
    await cloud.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const everyAccount = () => cloud.accounts.map((a) => a.accountId);

  it('runs at most MaxConcurrentCount accounts at once in a region, and the regions one after another (SEQUENTIAL, the default)', async () => {
    const ros = rosClient(cloud);
    await createGroup(ros, 'g', slowTemplate(log, 400));
    const operationId = await createInstances(ros, 'g', everyAccount(), [REGION, OTHER_REGION], {
      operationPreferences: { MaxConcurrentCount: 2 },
    });
    expect((await waitForOperation(ros, operationId)).status).toBe('SUCCEEDED');
    const runs = readSleeperLog(log);
    expect(runs).toHaveLength(8);
    const first = runs.filter((r) => r.region === REGION);
    const second = runs.filter((r) => r.region === OTHER_REGION);
    expect(maxOverlap(first)).toBe(2);
    expect(maxOverlap(second)).toBe(2);
    // Every stack of the first region had finished before any of the second began.
    expect(Math.max(...first.map((r) => r.end))).toBeLessThan(Math.min(...second.map((r) => r.start)));
  });

  it('runs the regions at the same time with RegionConcurrencyType PARALLEL, MaxConcurrentPercentage accounts at once in each', async () => {
    const ros = rosClient(cloud);
    await createGroup(ros, 'g', slowTemplate(log, 400));
    const operationId = await createInstances(ros, 'g', everyAccount(), [REGION, OTHER_REGION], {
      // 25% of 4 accounts: one at a time in each region.
      operationPreferences: { MaxConcurrentPercentage: 25, RegionConcurrencyType: 'PARALLEL' },
    });
    const operation = await waitForOperation(ros, operationId);
    expect(operation.status).toBe('SUCCEEDED');
    expect(operation.operationPreferences!.maxConcurrentPercentage).toBe(25);
    const runs = readSleeperLog(log);
    expect(maxOverlap(runs.filter((r) => r.region === REGION))).toBe(1);
    expect(maxOverlap(runs.filter((r) => r.region === OTHER_REGION))).toBe(1);
    expect(maxOverlap(runs)).toBe(2);
  });

  it('stops in a region once its failures exceed FailureToleranceCount, does not go on to the next region, and cancels what never started', async () => {
    const ros = rosClient(cloud);
    const [a0, a1, a2, a3] = everyAccount();
    await createGroup(ros, 'g', slowTemplate(log, 50), {
      parameters: [
        new $Ros.CreateStackGroupRequestParameters({ parameterKey: 'FailAccount', parameterValue: a1 }),
      ],
    });
    const operationId = await createInstances(ros, 'g', [a0, a1, a2, a3], [REGION, OTHER_REGION], {
      operationPreferences: { MaxConcurrentCount: 1, FailureToleranceCount: 0 },
    });
    expect((await waitForOperation(ros, operationId)).status).toBe('FAILED');
    const results = await operationResults(ros, operationId);
    const statusOf = (account: string, region: string) =>
      results.find((r) => r.accountId === account && r.regionId === region)?.status;
    expect([a0, a1, a2, a3].map((a) => statusOf(a, REGION))).toEqual([
      'SUCCEEDED',
      'FAILED',
      'CANCELLED',
      'CANCELLED',
    ]);
    expect([a0, a1, a2, a3].map((a) => statusOf(a, OTHER_REGION))).toEqual([
      'CANCELLED',
      'CANCELLED',
      'CANCELLED',
      'CANCELLED',
    ]);
    const failed = results.find((r) => r.status === 'FAILED')!;
    expect(failed.statusReason).toContain(`asked to fail in ${a1}`);
    expect(failed.statusReason).toContain('Sleeper');
    const instance = (
      await ros.getStackInstance(
        new $Ros.GetStackInstanceRequest({
          regionId: REGION,
          stackGroupName: 'g',
          stackInstanceAccountId: a1,
          stackInstanceRegionId: REGION,
        }),
      )
    ).body!.stackInstance!;
    expect(instance.status).toBe('OUTDATED');
    expect(instance.statusReason).toContain(`asked to fail in ${a1}`);
    // Nothing ran in the second region.
    expect(readSleeperLog(log).filter((r) => r.region === OTHER_REGION)).toHaveLength(0);
  });

  it('goes on through failures within FailureTolerancePercentage, and the operation succeeds', async () => {
    const ros = rosClient(cloud);
    const accounts = everyAccount();
    await createGroup(ros, 'g', slowTemplate(log, 50), {
      parameters: [
        new $Ros.CreateStackGroupRequestParameters({
          parameterKey: 'FailAccount',
          parameterValue: accounts[2],
        }),
      ],
    });
    const operationId = await createInstances(ros, 'g', accounts, [REGION, OTHER_REGION], {
      // 25% of 4 accounts: one failure per region is tolerated.
      operationPreferences: { MaxConcurrentCount: 4, FailureTolerancePercentage: 25 },
    });
    expect((await waitForOperation(ros, operationId)).status).toBe('SUCCEEDED');
    const results = await operationResults(ros, operationId);
    expect(results.filter((r) => r.status === 'FAILED').map((r) => r.accountId)).toEqual([
      accounts[2],
      accounts[2],
    ]);
    expect(results.filter((r) => r.status === 'SUCCEEDED')).toHaveLength(6);
  });

  it('StopStackGroupOperation lets what runs finish, starts nothing more, and ends STOPPED; a second stop is refused', async () => {
    const ros = rosClient(cloud);
    await createGroup(ros, 'g', slowTemplate(log, 600));
    const operationId = await createInstances(ros, 'g', everyAccount(), [REGION], {
      operationPreferences: { MaxConcurrentCount: 1 },
    });
    await ros.stopStackGroupOperation(
      new $Ros.StopStackGroupOperationRequest({ regionId: REGION, operationId }),
    );
    const stopping = (
      await ros.getStackGroupOperation(
        new $Ros.GetStackGroupOperationRequest({ regionId: REGION, operationId }),
      )
    ).body!.stackGroupOperation!;
    expect(stopping.status).toBe('STOPPING');
    expect((await waitForOperation(ros, operationId)).status).toBe('STOPPED');
    const results = await operationResults(ros, operationId);
    expect(results.map((r) => r.status)).toEqual(['SUCCEEDED', 'STOPPED', 'STOPPED', 'STOPPED']);
    await expect(
      ros.stopStackGroupOperation(new $Ros.StopStackGroupOperationRequest({ regionId: REGION, operationId })),
    ).rejects.toMatchObject({ code: 'InvalidParameter' });
  });

  it('carries on an operation LocalCloud stopped in the middle of once it starts again on the same state', async () => {
    const stateFile = path.join(dir, 'state.json');
    let ros = rosClient(cloud);
    await createGroup(ros, 'g', slowTemplate(log, 700));
    const accounts = everyAccount().slice(1);
    const operationId = await createInstances(ros, 'g', accounts, [REGION], {
      operationPreferences: { MaxConcurrentCount: 1 },
    });
    // Stop once the first account is done and the second is under way.
    for (;;) {
      const results = await operationResults(ros, operationId);
      if (results.some((r) => r.status === 'SUCCEEDED') && results.some((r) => r.status === 'RUNNING')) {
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await cloud.stop();
    cloud = await LocalCloud.start({ stateFile });
    ros = rosClient(cloud);
    expect((await waitForOperation(ros, operationId)).status).toBe('SUCCEEDED');
    const instances = (
      await ros.listStackInstances(
        new $Ros.ListStackInstancesRequest({ regionId: REGION, stackGroupName: 'g' }),
      )
    ).body!.stackInstances!;
    expect(instances.map((i) => i.status)).toEqual(['CURRENT', 'CURRENT', 'CURRENT']);
    for (const instance of instances) {
      const account = cloud.accounts.find((a) => a.accountId === instance.accountId)!;
      const live = account.ros.stacks(REGION).filter((s) => s.status !== 'DELETE_COMPLETE');
      // One stack per account: the one the restart interrupted was deleted and created anew.
      expect(live.map((s) => [s.stackId, s.status])).toEqual([[instance.stackId, 'CREATE_COMPLETE']]);
    }
  });
});
