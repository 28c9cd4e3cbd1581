/**
 * `ros-deploy outputs` and `destroy` for a stack that manages a stack group, run as a child process against a
 * LocalCloud with three accounts reached through the environment's endpoint and credentials (as the real cloud is).
 */
import * as fs from 'fs';
import * as path from 'path';
import * as $Ros from '@alicloud/ros20190910';
import { deployStack } from '../../lib/deploy';
import type { LocalCloud } from '../../lib/local';
import { REGION, startCloud, tempDir, waitFor } from '../deploy/fixtures';
import { INSTANCE_TEMPLATE, open, OTHER_REGION, stackTemplate } from '../deploy/stack-groups-fixture';
import {
  createGroup,
  createInstances,
  grantSelfManaged,
  rosClient,
  waitForOperation,
} from '../local/stack-groups-fixture';
import { cleanEnv, startCli } from './cli-fixtures';

describe('ros-deploy with a stack that manages a stack group (LocalCloud, 3 accounts)', () => {
  let cloud: LocalCloud;
  let fast: Awaited<ReturnType<typeof startCloud>>['fast'];
  let dir: string;
  let gate: string;
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    ({ cloud, fast } = await startCloud({ accounts: 3 }));
    grantSelfManaged(cloud);
    dir = tempDir('ros-deploy-groups-');
    gate = tempDir('ros-deploy-groups-gate-');
    env = cleanEnv(dir, {
      ALIBABA_CLOUD_ROS_ENDPOINT: cloud.endpoint,
      ALIBABA_CLOUD_ECS_ENDPOINT: cloud.endpoint,
      ALIBABA_CLOUD_ENDPOINT_PROTOCOL: 'http',
      ALIBABA_CLOUD_REGION_ID: REGION,
      ALIBABA_CLOUD_ACCESS_KEY_ID: cloud.credentials.accessKeyId,
      ALIBABA_CLOUD_ACCESS_KEY_SECRET: cloud.credentials.accessKeySecret,
    });
    // The stack and its group: an instance per account in two regions.
    const ros = rosClient(cloud);
    const deploying = deployStack({ ...fast, stackName: 'Org', template: stackTemplate('golden', gate) });
    await waitFor(() =>
      cloud.ros.stacks(REGION).find((s) => s.stackName === 'Org' && s.status === 'CREATE_IN_PROGRESS'),
    );
    await createGroup(ros, 'golden', INSTANCE_TEMPLATE);
    const accounts = cloud.accounts.map((a) => a.accountId);
    await waitForOperation(
      ros,
      await createInstances(ros, 'golden', accounts, [REGION, OTHER_REGION], {
        operationPreferences: { MaxConcurrentCount: 3 },
      }),
    );
    open(gate, 'Create');
    expect(await deploying).toMatchObject({ success: true });
  });
  afterAll(async () => {
    for (const account of cloud.accounts) {
      await account.stackGroups.settled();
    }
    await cloud.stop();
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(gate, { recursive: true, force: true });
  });

  /** A child process, as a user runs it: the credentials come from its environment (the default chain). */
  const run = (args: string[]) => startCli('ros-deploy', dir, args, env).done;

  it('outputs lists the image id per account and region of the group, in text and in --json', async () => {
    const accounts = cloud.accounts.map((a) => a.accountId).sort();
    const text = await run(['outputs', 'Org']);
    expect(text.stderr).toBe('');
    expect(text.code).toBe(0);
    const expected = accounts.flatMap((account) =>
      [OTHER_REGION, REGION].map((region) => `  ${account} ${region.padEnd(16)} m-${account}-${region}`),
    );
    expect(text.stdout).toBe(
      [
        `ros-deploy: using Alibaba Cloud at ${cloud.endpoint}`,
        'Org has no outputs',
        'Images of Org, stack group golden (cn-hangzhou), per account and region:',
        ...expected,
        '',
      ].join('\n'),
    );

    const json = await run(['outputs', 'Org', '--json']);
    expect(json.code).toBe(0);
    const parsed = JSON.parse(json.stdout) as {
      Org: Record<string, unknown>;
      stackGroups: { stackGroupName: string; imageIds: Record<string, Record<string, string>> }[];
    };
    expect(parsed.Org).toEqual({});
    expect(parsed.stackGroups).toHaveLength(1);
    expect(parsed.stackGroups[0].stackGroupName).toBe('golden');
    expect(parsed.stackGroups[0].imageIds).toEqual(
      Object.fromEntries(
        accounts.map((a) => [a, { [REGION]: `m-${a}-${REGION}`, [OTHER_REGION]: `m-${a}-${OTHER_REGION}` }]),
      ),
    );
  });

  it('destroy follows the deletion of instances line by line, and prints last the instances a failed deletion left (exit 1)', async () => {
    const ros = rosClient(cloud);
    const [first, second, third] = cloud.accounts.map((a) => a.accountId);
    fs.writeFileSync(path.join(gate, 'fail-Delete'), '');
    const destroying = run(['destroy', 'Org', '--force', '--progress', 'events']);
    await waitFor(() =>
      cloud.ros.stacks(REGION).find((s) => s.stackName === 'Org' && s.status === 'DELETE_IN_PROGRESS'),
    );
    const deletion = (
      await ros.deleteStackInstances(
        new $Ros.DeleteStackInstancesRequest({
          regionId: REGION,
          stackGroupName: 'golden',
          accountIds: [third],
          regionIds: [REGION, OTHER_REGION],
          retainStacks: false,
        }),
      )
    ).body!.operationId!;
    await waitForOperation(ros, deletion);
    open(gate, 'Delete');
    const result = await destroying;

    expect(result.code).toBe(1);
    const short = `${third.slice(0, 4)}…${third.slice(-4)}`;
    expect(result.stdout).toContain(
      `Org | stack group golden | ${short} ${REGION.padEnd(16)} DELETE  SUCCEEDED\n`,
    );
    expect(result.stdout).toContain('Org | stack group golden | DELETE 2/2 stack instances done\n');
    const tail = result.stdout.trim().split('\n').slice(-7);
    expect(tail[0]).toMatch(/^FAILED Org \(cn-hangzhou\): DELETE_FAILED: /);
    expect(tail.slice(1)).toEqual([
      '  Distribution Custom::ImageDistribution DELETE_FAILED: the test failed the Delete',
      '  stack group golden (cn-hangzhou) still has 4 stack instances:',
      ...[first, second]
        .sort()
        .flatMap((account) =>
          [OTHER_REGION, REGION].map((region) => `    ${account} ${region.padEnd(16)} CURRENT`),
        ),
    ]);
  });

  it('destroy --json: a stack deleted while its group keeps instances is no success (exit 1), the group and its instances in the JSON', async () => {
    // The stack can go now, but the instances the test made stay in the group: nothing deletes them.
    fs.rmSync(path.join(gate, 'fail-Delete'));
    const result = await run(['destroy', 'Org', '--force', '--json']);
    expect(result.code).toBe(1);
    const parsed = JSON.parse(result.stdout) as {
      success: boolean;
      stacks: {
        status: string;
        success: boolean;
        statusReason: string;
        stackGroups: { stackGroupName: string; exists: boolean; instances: { accountId: string }[] }[];
      }[];
    };
    expect(parsed.success).toBe(false);
    expect(parsed.stacks[0]).toMatchObject({ status: 'DELETE_COMPLETE', success: false });
    expect(parsed.stacks[0].statusReason).toContain(
      'the stack is deleted, but stack group golden still has 4',
    );
    expect(parsed.stacks[0].stackGroups).toEqual([
      expect.objectContaining({ stackGroupName: 'golden', exists: true, instances: expect.any(Array) }),
    ]);
    expect(parsed.stacks[0].stackGroups[0].instances).toHaveLength(4);
    expect(result.stderr).toContain('still has 4 stack instances:');
  });
});
