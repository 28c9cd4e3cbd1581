/**
 * Issue 16's lifecycle through `ros-deploy --local`, run as a user runs it (the bundled CLI in a child process,
 * `examples/organization` as the app, its settings given with `-c`), on the LocalCloud the CLI embeds with five
 * accounts (the owner of the golden image and four target accounts) and the documented stack-group roles: the
 * distribution to three accounts in two regions, each of which then owns an Available copy in each region; a fourth
 * account added later gets its copies on the next deploy while the others keep theirs; `ros-deploy outputs` lists the
 * image per account and region; destroy leaves nothing in any account (no copy, no instance stack, no stack group).
 */
import * as $Ecs from '@alicloud/ecs20140526';
import * as $Ros from '@alicloud/ros20190910';
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { LocalCloud } from '../../lib/local';
import { ACCOUNTS_ENVIRONMENT_VARIABLE } from '../../lib/local/connect';
import { DEFAULT_LOCAL_DIR, STATE_FILE_NAME } from '../../lib/local/discovery';
import { handlerZipPath, packageRoot } from '../../lib/package-root';
import { OWNERSHIP_TAG_KEY } from '../../lib/protocol';
import { HANDLER_ZIP_ENVIRONMENT_VARIABLE } from '../../lib/provider';
import { cliPath } from '../cli-paths';
import { ecsClient, rosClient } from '../support/cloud';

const STACK = 'OrganizationExample';
const SOURCE_REGION = 'cn-hangzhou';
const REGIONS = ['cn-hangzhou', 'cn-shanghai'] as const;
const ACCOUNTS = 5;
const ALL_STATUSES = 'Creating,Waiting,Available,UnAvailable,CreateFailed,Deprecated';

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

let dir: string;
let env: NodeJS.ProcessEnv;
let accountIds: string[];

const stateFile = () => path.join(dir, DEFAULT_LOCAL_DIR, STATE_FILE_NAME);

/** `ros-deploy <args> --local` in the project, to its end. */
function rosDeploy(args: readonly string[]): Promise<Run> {
  const child = spawn(process.execPath, [cliPath('ros-deploy'), ...args, '--local'], {
    cwd: dir,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

/** Deploys to these target accounts and gives the stack's outputs (from `--outputs-file`). */
async function deploy(targets: readonly string[]): Promise<Record<string, string>> {
  const outputsFile = path.join(dir, 'outputs.json');
  const run = await rosDeploy([
    'deploy',
    '--outputs-file',
    outputsFile,
    '-c',
    `targetAccountIds=${targets.join(',')}`,
  ]);
  expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
  const outputs = JSON.parse(fs.readFileSync(outputsFile, 'utf8')) as Record<string, Record<string, unknown>>;
  return Object.fromEntries(Object.entries(outputs[STACK]).map(([key, value]) => [key, String(value)]));
}

/** Runs `body` against the project's LocalCloud (the state the CLI left). */
async function withCloud<T>(body: (cloud: LocalCloud) => Promise<T>): Promise<T> {
  const cloud = await LocalCloud.start({ stateFile: stateFile(), accounts: ACCOUNTS });
  try {
    return await body(cloud);
  } finally {
    await cloud.stop();
  }
}

/** The images an account owns in a region that this project made (carrying the ownership tag), any status. */
async function ownCopies(
  cloud: LocalCloud,
  index: number,
  regionId: string,
): Promise<$Ecs.DescribeImagesResponseBodyImagesImage[]> {
  const answer = await ecsClient(cloud, regionId, cloud.accounts[index].credentials).describeImages(
    new $Ecs.DescribeImagesRequest({
      regionId,
      imageOwnerAlias: 'self',
      status: ALL_STATUSES,
      pageSize: 100,
    }),
  );
  return (answer.body!.images?.image ?? []).filter((image) =>
    (image.tags?.tag ?? []).some((tag) => tag.tagKey === OWNERSHIP_TAG_KEY),
  );
}

/** Each target account's Available copy per region, checked against the stack's `ImageIds` output. */
async function expectCopies(
  cloud: LocalCloud,
  targets: readonly number[],
  imageIds: Record<string, Record<string, string>>,
) {
  for (const index of targets) {
    const accountId = cloud.accounts[index].accountId;
    for (const regionId of REGIONS) {
      const copies = await ownCopies(cloud, index, regionId);
      expect({
        accountId,
        regionId,
        copies: copies.map((c) => [c.imageId, c.status, c.imageFamily]),
      }).toEqual({
        accountId,
        regionId,
        copies: [[imageIds[accountId][regionId], 'Available', 'golden-web']],
      });
    }
  }
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'organization-'));
  const root = packageRoot();
  const handlerZip = path.join(dir, 'handler.zip');
  fs.copyFileSync(handlerZipPath(), handlerZip);
  const app = `node --require ${path.join(root, 'examples', 'ts-register.js')} ${path.join(root, 'examples', 'organization', 'app.ts')}`;
  fs.writeFileSync(path.join(dir, 'cdk.json'), JSON.stringify({ app }));
  env = {
    ...Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('ALIBABA_CLOUD_'))),
    ALIBABA_CLOUD_ECS_METADATA_DISABLED: 'true',
    [HANDLER_ZIP_ENVIRONMENT_VARIABLE]: handlerZip,
    [ACCOUNTS_ENVIRONMENT_VARIABLE]: String(ACCOUNTS),
    ROS_LOCAL_STACK_GROUP_ROLES: '1',
  };
  // The accounts exist before the first deploy: their ids go into the app's context.
  const cloud = await LocalCloud.start({ stateFile: stateFile(), accounts: ACCOUNTS, stackGroupRoles: true });
  try {
    accountIds = cloud.accounts.map((a) => a.accountId);
  } finally {
    await cloud.stop();
  }
});

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

it('gives three accounts their copies, then a fourth added later, lists them, and destroys leaving nothing, through ros-deploy --local with five accounts', async () => {
  // Three target accounts: each owns an Available copy in each region.
  const first = await deploy(accountIds.slice(1, 4));
  const firstIds = JSON.parse(first.ImageIds) as Record<string, Record<string, string>>;
  await withCloud((cloud) => expectCopies(cloud, [1, 2, 3], firstIds));

  // A fourth account added: it gets its copies; the others keep the same ones (only its instances are created).
  const second = await deploy(accountIds.slice(1, 5));
  const secondIds = JSON.parse(second.ImageIds) as Record<string, Record<string, string>>;
  for (const accountId of accountIds.slice(1, 4)) {
    expect(secondIds[accountId]).toEqual(firstIds[accountId]);
  }
  await withCloud((cloud) => expectCopies(cloud, [1, 2, 3, 4], secondIds));

  // `ros-deploy outputs` lists the image of every account and region.
  const outputs = await rosDeploy(['outputs', STACK]);
  expect(outputs.code).toBe(0);
  for (const accountId of accountIds.slice(1, 5)) {
    for (const regionId of REGIONS) {
      expect(outputs.stdout).toMatch(
        new RegExp(`${accountId}\\s+${regionId}\\s+${secondIds[accountId][regionId]}`),
      );
    }
  }

  // Destroy: no copy of ours, no stack, no stack group left in any account.
  const destroyed = await rosDeploy([
    'destroy',
    '--force',
    '-c',
    `targetAccountIds=${accountIds.slice(1, 5).join(',')}`,
  ]);
  expect({ code: destroyed.code, stderr: destroyed.stderr }).toEqual({ code: 0, stderr: '' });
  await withCloud(async (cloud) => {
    for (const account of cloud.accounts) {
      for (const regionId of REGIONS) {
        expect({
          account: account.index,
          regionId,
          ours: await ownCopies(cloud, account.index, regionId),
        }).toEqual({
          account: account.index,
          regionId,
          ours: [],
        });
        const ros = rosClient(cloud, regionId, account.credentials);
        const stacks = await ros.listStacks(new $Ros.ListStacksRequest({ regionId, pageSize: 50 }));
        const live = (stacks.body!.stacks ?? []).filter((s) => s.status !== 'DELETE_COMPLETE');
        expect({ account: account.index, regionId, live }).toEqual({
          account: account.index,
          regionId,
          live: [],
        });
      }
    }
    const groups = await rosClient(cloud, SOURCE_REGION).listStackGroups(
      new $Ros.ListStackGroupsRequest({ regionId: SOURCE_REGION, status: 'ACTIVE' }),
    );
    expect(groups.body!.stackGroups ?? []).toEqual([]);
  });
}, 900_000);
