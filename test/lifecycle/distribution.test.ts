/**
 * Issue 14's lifecycle through `ros-deploy --local`, run as a user runs it (the bundled CLI in a child process,
 * `examples/distribution` as the app, its settings given with `-c`), on the LocalCloud the CLI embeds with two
 * accounts (`ROS_LOCAL_ACCOUNTS=2`): create and share with the second account, which sees each region's copy and
 * uses it (copies it within its region, as ECS lets a sharee do); change the family in place; release a new source
 * keeping the previous copies (deprecated, no longer shared); stop sharing; destroy, leaving nothing in either
 * account.
 */
import * as $Ecs from '@alicloud/ecs20140526';
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
import { ecsClient } from '../support/cloud';

const STACK = 'ImageDistributionExample';
const SOURCE_REGION = 'cn-hangzhou';
const REGIONS = ['cn-shanghai', 'cn-beijing'] as const;
/** The example's output name prefix per region. */
const OUTPUT_PREFIX: Record<(typeof REGIONS)[number], string> = {
  'cn-shanghai': 'GoldenCnShanghai',
  'cn-beijing': 'GoldenCnBeijing',
};

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

let dir: string;
let env: NodeJS.ProcessEnv;
let second: { accountId: string };
let nextRelease: string;

/** Waits (polling) until `condition` holds; fails after `timeoutMs`. */
async function until(condition: () => boolean, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) {
      throw new Error(`condition not met within ${timeoutMs} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

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

/** Deploys with these context values and gives the stack's outputs (from `--outputs-file`). */
async function deploy(context: Record<string, string>): Promise<Record<string, string>> {
  const outputsFile = path.join(dir, 'outputs.json');
  const args = ['deploy', '--outputs-file', outputsFile];
  for (const [key, value] of Object.entries(context)) {
    args.push('-c', `${key}=${value}`);
  }
  const run = await rosDeploy(args);
  expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
  const outputs = JSON.parse(fs.readFileSync(outputsFile, 'utf8')) as Record<string, Record<string, unknown>>;
  return Object.fromEntries(Object.entries(outputs[STACK]).map(([key, value]) => [key, String(value)]));
}

const imageIdsOf = (outputs: Record<string, string>) =>
  REGIONS.map((r) => outputs[`${OUTPUT_PREFIX[r]}ImageId`]);

/** Runs `body` against the project's LocalCloud (the state the CLI left), as the second account sees it. */
async function withCloud<T>(body: (cloud: LocalCloud) => Promise<T>): Promise<T> {
  const cloud = await LocalCloud.start({ stateFile: stateFile(), accounts: 2 });
  try {
    return await body(cloud);
  } finally {
    await cloud.stop();
  }
}

/** The images of other accounts shared with the second account in a region, by id. */
async function sharedWithSecond(cloud: LocalCloud, regionId: string): Promise<string[]> {
  const answer = await ecsClient(cloud, regionId, cloud.accounts[1].credentials).describeImages(
    new $Ecs.DescribeImagesRequest({ regionId, imageOwnerAlias: 'others', pageSize: 100 }),
  );
  return (answer.body!.images?.image ?? []).map((image) => image.imageId!);
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'distribution-'));
  const root = packageRoot();
  const handlerZip = path.join(dir, 'handler.zip');
  fs.copyFileSync(handlerZipPath(), handlerZip);
  const app = `node --require ${path.join(root, 'examples', 'ts-register.js')} ${path.join(root, 'examples', 'distribution', 'app.ts')}`;
  fs.writeFileSync(path.join(dir, 'cdk.json'), JSON.stringify({ app }));
  env = {
    ...Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('ALIBABA_CLOUD_'))),
    ALIBABA_CLOUD_ECS_METADATA_DISABLED: 'true',
    [HANDLER_ZIP_ENVIRONMENT_VARIABLE]: handlerZip,
    [ACCOUNTS_ENVIRONMENT_VARIABLE]: '2',
  };
  // The two accounts exist before the first deploy (the second's id goes into the app's context), with the image
  // of the next release already published in the source region.
  const cloud = await LocalCloud.start({ stateFile: stateFile(), accounts: 2 });
  try {
    second = { accountId: cloud.accounts[1].accountId };
    nextRelease = cloud.ecs.putImage(SOURCE_REGION, { imageName: 'golden-2026-12' });
  } finally {
    await cloud.stop();
  }
});

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

it('shares, changes the family, releases keeping the previous copies, unshares and destroys, through ros-deploy --local with two accounts', async () => {
  // Create: each region's copy shared with the second account, which sees it and copies it in that region.
  const created = await deploy({ sharedWithAccounts: second.accountId, imageFamily: 'golden-web' });
  const firstRelease = imageIdsOf(created);
  await withCloud(async (cloud) => {
    for (const [i, regionId] of REGIONS.entries()) {
      expect(created[`${OUTPUT_PREFIX[regionId]}SharedWith`]).toBe(second.accountId);
      expect(await sharedWithSecond(cloud, regionId)).toContain(firstRelease[i]);
    }
    const sharee = ecsClient(cloud, REGIONS[0], cloud.accounts[1].credentials);
    const own = await sharee.copyImage(
      new $Ecs.CopyImageRequest({
        regionId: REGIONS[0],
        imageId: firstRelease[0],
        destinationRegionId: REGIONS[0],
        destinationImageName: 'second-account-golden',
      }),
    );
    const ownId = own.body!.imageId!;
    // Its own image, made from the shared one: Available in a few seconds, then the sharee removes it (the owner's
    // destroy neither needs it gone nor touches it).
    await until(() => cloud.ecs.getImage(REGIONS[0], ownId)?.status === 'Available');
    await sharee.deleteImage(new $Ecs.DeleteImageRequest({ regionId: REGIONS[0], imageId: ownId }));
    expect(cloud.ecs.getImage(REGIONS[0], ownId)).toBeUndefined();
  });

  // The family changes in place: the same images.
  const changed = await deploy({ sharedWithAccounts: second.accountId, imageFamily: 'golden-web-2' });
  expect(imageIdsOf(changed)).toEqual(firstRelease);
  await withCloud(async (cloud) => {
    for (const [i, regionId] of REGIONS.entries()) {
      const image = cloud.ecs.getImage(regionId, firstRelease[i]);
      expect(image?.imageFamily).toBe('golden-web-2');
    }
  });

  // A new release: new copies, shared; the previous ones kept, deprecated and no longer shared.
  const released = await deploy({
    sharedWithAccounts: second.accountId,
    imageFamily: 'golden-web-2',
    sourceImageId: nextRelease,
  });
  const secondRelease = imageIdsOf(released);
  await withCloud(async (cloud) => {
    for (const [i, regionId] of REGIONS.entries()) {
      expect(secondRelease[i]).not.toBe(firstRelease[i]);
      expect(released[`${OUTPUT_PREFIX[regionId]}PreviousImageIds`]).toBe(firstRelease[i]);
      expect(cloud.ecs.getImage(regionId, firstRelease[i])?.status).toBe('Deprecated');
      const shared = await sharedWithSecond(cloud, regionId);
      expect(shared).toContain(secondRelease[i]);
      expect(shared).not.toContain(firstRelease[i]);
    }
  });

  // Sharing stops in place.
  const unshared = await deploy({
    sharedWithAccounts: '',
    imageFamily: 'golden-web-2',
    sourceImageId: nextRelease,
  });
  expect(imageIdsOf(unshared)).toEqual(secondRelease);
  await withCloud(async (cloud) => {
    for (const regionId of REGIONS) {
      expect(await sharedWithSecond(cloud, regionId)).toEqual([]);
    }
  });

  // Destroy: nothing of ours is left in any account, and the stack is gone.
  const destroyed = await rosDeploy(['destroy', '--force']);
  expect({ code: destroyed.code, stderr: destroyed.stderr }).toEqual({ code: 0, stderr: '' });
  await withCloud(async (cloud) => {
    for (const account of cloud.accounts) {
      for (const regionId of [SOURCE_REGION, ...REGIONS]) {
        const answer = await ecsClient(cloud, regionId, account.credentials).describeImages(
          new $Ecs.DescribeImagesRequest({
            regionId,
            imageOwnerAlias: 'self',
            status: 'Creating,Waiting,Available,UnAvailable,CreateFailed,Deprecated',
            pageSize: 100,
          }),
        );
        const ours = (answer.body!.images?.image ?? []).filter((image) =>
          (image.tags?.tag ?? []).some((tag) => tag.tagKey === OWNERSHIP_TAG_KEY),
        );
        expect({ account: account.index, regionId, ours }).toEqual({
          account: account.index,
          regionId,
          ours: [],
        });
      }
    }
  });
}, 600_000);
