import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ImageCopy } from '../../lib';
import { deployStack, destroyStack, readAssembly, StackOperationResult, synthesize } from '../../lib/deploy';
import { ECS_REGION_IDS, LocalCloud } from '../../lib/local';
import { packageRoot } from '../../lib/package-root';
import * as $Ecs from '@alicloud/ecs20140526';
import { OWNERSHIP_TAG_KEY } from '../../lib/protocol';
import { ecsClient } from '../support/cloud';
import { newStack, Template } from './template';

/**
 * The examples run as a user runs them: `node` with the TypeScript require hook, the way cdk.json's "app" and
 * `npm run synth` start them, writing a cloud assembly (templates and manifest) to CDK_OUTDIR.
 */

const ROOT = packageRoot();
/** ROS rejects a TemplateBody larger than this. */
const TEMPLATE_BODY_LIMIT_BYTES = 524_288;

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
  outdir: string;
}

let outRoot: string;
beforeAll(() => {
  outRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'image-copy-examples-'));
});
afterAll(() => fs.rmSync(outRoot, { recursive: true, force: true }));

/** Runs a command line from the repository root as a shell would (cdk.json's "app" is one). */
function run(commandLine: string, context?: Record<string, string>): Run {
  const outdir = fs.mkdtempSync(path.join(outRoot, 'out-'));
  const env: NodeJS.ProcessEnv = { ...process.env, CDK_OUTDIR: outdir };
  if (context) {
    env.CDK_CONTEXT_JSON = JSON.stringify(context);
  }
  const result = spawnSync('sh', ['-c', commandLine], { cwd: ROOT, env, encoding: 'utf8', timeout: 60_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr, outdir };
}

const example = (name: string) => `node --require ./examples/ts-register.js examples/${name}/app.ts`;

function templateOf(outdir: string, stackName: string): { json: any; bytes: number } {
  const text = fs.readFileSync(path.join(outdir, `${stackName}.template.json`), 'utf8');
  return { json: JSON.parse(text), bytes: Buffer.byteLength(JSON.stringify(JSON.parse(text))) };
}

function manifestStacks(outdir: string): string[] {
  const manifest = JSON.parse(fs.readFileSync(path.join(outdir, 'manifest.json'), 'utf8'));
  return Object.entries(manifest.artifacts as Record<string, { type: string }>)
    .filter(([, artifact]) => artifact.type === 'aliyun:ros:stack')
    .map(([id]) => id);
}

function typesOf(template: { Resources: Record<string, { Type: string }> }): Record<string, string> {
  return Object.fromEntries(Object.entries(template.Resources).map(([id, r]) => [id, r.Type]));
}

describe('examples', () => {
  it('cdk.json runs the single-copy example with its context, into a cloud assembly', () => {
    const cdkJson = JSON.parse(fs.readFileSync(path.join(ROOT, 'cdk.json'), 'utf8'));
    expect(cdkJson.app).toBe(example('single-copy'));
    const result = run(cdkJson.app, cdkJson.context);
    expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 0, stderr: '' });
    expect(manifestStacks(result.outdir)).toEqual(['ImageCopyExample']);
    const { json, bytes } = templateOf(result.outdir, 'ImageCopyExample');
    expect(typesOf(json)).toEqual({
      GoldenCopy: 'ALIYUN::ROS::CustomResource',
      ImageCopyProviderRole: 'ALIYUN::RAM::Role',
      ImageCopyProviderFunction: 'ALIYUN::FC3::Function',
    });
    expect(json.Resources.GoldenCopy.Properties.Parameters).toMatchObject({
      SourceImageId: cdkJson.context.sourceImageId,
      SourceRegionId: cdkJson.context.sourceRegionId,
      DestinationRegionId: cdkJson.context.destinationRegionId,
      ImageName: cdkJson.context.imageName,
    });
    expect(Object.keys(json.Outputs)).toEqual(['ImageId', 'RegionId', 'ImageName', 'SourceImageId']);
    expect(bytes).toBeLessThan(TEMPLATE_BODY_LIMIT_BYTES);
  });

  it('single-copy takes the source and destination from context', () => {
    const result = run(example('single-copy'), {
      sourceImageId: 'm-uf6seedgoldenimage01',
      sourceRegionId: 'cn-shanghai',
      destinationRegionId: 'cn-beijing',
    });
    expect(result.status).toBe(0);
    const { json } = templateOf(result.outdir, 'ImageCopyExample');
    expect(json.Resources.GoldenCopy.Properties.Parameters).toMatchObject({
      SourceImageId: 'm-uf6seedgoldenimage01',
      SourceRegionId: 'cn-shanghai',
      DestinationRegionId: 'cn-beijing',
    });
  });

  it('fails with the validation message and a non-zero exit when the context is bad', () => {
    const result = run(example('single-copy'), { sourceImageId: 'golden' });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain(
      'ImageCopyValidationError: ImageCopy ImageCopyExample/GoldenCopy: sourceImageId "golden" is invalid',
    );
    expect(fs.existsSync(path.join(result.outdir, 'ImageCopyExample.template.json'))).toBe(false);
  });

  it('replication publishes the image to each region with an output per region', () => {
    const result = run(example('replication'));
    expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 0, stderr: '' });
    const { json } = templateOf(result.outdir, 'ImageReplicationExample');
    expect(Object.keys(json.Resources).sort()).toEqual([
      'GoldenApSoutheast1',
      'GoldenCnBeijing',
      'GoldenCnShanghai',
      'ImageCopyProviderFunction',
      'ImageCopyProviderRole',
    ]);
    expect(json.Outputs.GoldenCnBeijingImageId.Value).toEqual({
      'Fn::GetAtt': ['GoldenCnBeijing', 'ImageId'],
    });
    expect(Object.keys(json.Outputs)).toHaveLength(3);
  });

  it('replication takes the regions from context as a comma-separated list', () => {
    const result = run(example('replication'), { destinationRegionIds: 'cn-qingdao, cn-shenzhen' });
    expect(result.status).toBe(0);
    const { json } = templateOf(result.outdir, 'ImageReplicationExample');
    expect(Object.keys(json.Outputs)).toEqual(['GoldenCnQingdaoImageId', 'GoldenCnShenzhenImageId']);
  });

  it('distribution shares each region’s copy with a second account, with a family, keeping one previous release', () => {
    const result = run(example('distribution'));
    expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 0, stderr: '' });
    const { json } = templateOf(result.outdir, 'ImageDistributionExample');
    for (const copy of ['GoldenCnShanghai', 'GoldenCnBeijing']) {
      expect(json.Resources[copy].Properties.Parameters).toMatchObject({
        SharedWithAccounts: ['1234567890123456'],
        ImageFamily: 'golden-web',
        CopySourceTags: true,
        KeepPreviousVersions: 1,
      });
    }
    expect(Object.keys(json.Outputs)).toEqual([
      'GoldenCnShanghaiImageId',
      'GoldenCnShanghaiSharedWith',
      'GoldenCnShanghaiPreviousImageIds',
      'GoldenCnBeijingImageId',
      'GoldenCnBeijingSharedWith',
      'GoldenCnBeijingPreviousImageIds',
    ]);
  });

  it('distribution takes the accounts and the count from context', () => {
    const result = run(example('distribution'), {
      sharedWithAccounts: '1111111111111111, 2222222222222222',
      keepPreviousVersions: '2',
    });
    expect(result.status).toBe(0);
    const { json } = templateOf(result.outdir, 'ImageDistributionExample');
    expect(json.Resources.GoldenCnBeijing.Properties.Parameters).toMatchObject({
      SharedWithAccounts: ['1111111111111111', '2222222222222222'],
      KeepPreviousVersions: 2,
    });
  });

  it('launch-template composes the copied image into an ECS launch template', () => {
    const result = run(example('launch-template'));
    expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 0, stderr: '' });
    const { json } = templateOf(result.outdir, 'LaunchTemplateExample');
    expect(json.Resources.WebServers).toMatchObject({
      Type: 'ALIYUN::ECS::LaunchTemplate',
      Properties: { ImageId: { 'Fn::GetAtt': ['BaseImage', 'ImageId'] }, InstanceType: 'ecs.g7.large' },
    });
    // The copy goes to the stack's region, where the launch template is: no DestinationRegionId is written, so
    // the handler copies into the region of the request.
    expect(json.Resources.BaseImage.Properties.Parameters).not.toHaveProperty('DestinationRegionId');
  });

  it('npm run synth synthesizes every example into one assembly', () => {
    const packageJson = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
    expect(packageJson.scripts.synth).toContain('examples/synth-all.ts');
    const result = run('node --require ./examples/ts-register.js examples/synth-all.ts');
    expect(result.status).toBe(0);
    expect(manifestStacks(result.outdir).sort()).toEqual([
      'ImageCopyExample',
      'ImageDistributionExample',
      'ImageReplicationExample',
      'LaunchTemplateExample',
    ]);
    for (const name of manifestStacks(result.outdir)) {
      expect(templateOf(result.outdir, name).bytes).toBeLessThan(TEMPLATE_BODY_LIMIT_BYTES);
    }
    expect(fs.existsSync(path.join(result.outdir, 'tree.json'))).toBe(true);
  });
});

describe('template size', () => {
  it('stays under the 524288-byte TemplateBody limit of ROS with 1, 10 and 100 copies', () => {
    const sizes: Record<number, number> = {};
    for (const count of [1, 10, 100]) {
      const stack = newStack(`Copies${count}`);
      for (let i = 0; i < count; i++) {
        new ImageCopy(stack, `Copy${i}`, {
          sourceImageId: 'm-bp1seedgoldenimage01',
          sourceRegionId: 'cn-hangzhou',
          destinationRegionId: 'cn-shanghai',
          imageName: `golden-copy-${i}`,
          tags: { team: 'platform' },
        });
      }
      const template = Template.fromStack(stack);
      sizes[count] = template.compactByteLength;
      expect(template.compactByteLength).toBeLessThan(TEMPLATE_BODY_LIMIT_BYTES);
    }
    const zipFile = Template.fromStack(
      (() => {
        const stack = newStack('Zip');
        new ImageCopy(stack, 'Copy', { sourceImageId: 'm-bp1golden', sourceRegionId: 'cn-hangzhou' });
        return stack;
      })(),
    ).resource('ALIYUN::FC3::Function')[1].Properties!.Code as { ZipFile: string };
    console.log(
      `template bytes (compact JSON): 1 copy ${sizes[1]}, 10 copies ${sizes[10]}, 100 copies ${sizes[100]}; ` +
        `inline handler ZipFile ${zipFile.ZipFile.length} bytes of base64; ` +
        `each further copy about ${Math.round((sizes[100] - sizes[10]) / 90)} bytes`,
    );
  });
});

/**
 * The README's worked example, as written: the first `ts` block under "## A worked example". A README edit that
 * breaks it breaks this test.
 */
function readmeWorkedExample(): string {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## A worked example'));
  const block = /```ts\n([\s\S]*?)```/.exec(section);
  if (!block) {
    throw new Error('README.md has no ```ts block under "## A worked example"');
  }
  return block[1];
}

/**
 * Writes `code` as an app of its own, outside this repository, whose `import ... from 'ros-cdk-image-copy'` is this
 * checkout's `lib` (a user's app gets the installed package) and whose other imports come from this repository's
 * node_modules. Returns the command that runs it and its environment.
 */
function standaloneApp(code: string): { app: string; env: NodeJS.ProcessEnv; dir: string } {
  const dir = fs.mkdtempSync(path.join(outRoot, 'app-'));
  fs.writeFileSync(path.join(dir, 'app.ts'), code);
  fs.writeFileSync(
    path.join(dir, 'resolve-package.js'),
    `const Module = require('module');
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  if (request === 'ros-cdk-image-copy') request = ${JSON.stringify(path.join(ROOT, 'lib', 'index.ts'))};
  return resolve.call(this, request, ...rest);
};
`,
  );
  const register = path.join(ROOT, 'examples', 'ts-register.js');
  return {
    app: `node --require ${register} --require ./resolve-package.js app.ts`,
    env: { ...process.env, NODE_PATH: path.join(ROOT, 'node_modules') },
    dir,
  };
}

describe('every example deploys and destroys on LocalCloud', () => {
  let cloud: LocalCloud;
  beforeAll(async () => {
    // Three accounts: the second and third are the sharees of examples/distribution and the target accounts of
    // examples/organization (with the roles of self-managed stack groups).
    cloud = await LocalCloud.start({ copyDurationMs: 1500, accounts: 3, stackGroupRoles: true });
  });
  /** Context for an example run with its defaults: the distribution example shares with the second account. */
  const contextFor = (name: string): NodeJS.ProcessEnv | undefined =>
    name === 'distribution'
      ? {
          ...process.env,
          CDK_CONTEXT_JSON: JSON.stringify({ sharedWithAccounts: cloud.accounts[1].accountId }),
        }
      : name === 'organization'
        ? {
            ...process.env,
            CDK_CONTEXT_JSON: JSON.stringify({
              targetAccountIds: cloud.accounts.slice(1).map((a) => a.accountId),
            }),
          }
        : undefined;
  /** The images account `index` sees shared with it in a region. */
  async function sharedWithAccount(index: number, regionId: string): Promise<string[]> {
    const answer = await ecsClient(cloud, regionId, cloud.accounts[index].credentials).describeImages(
      new $Ecs.DescribeImagesRequest({
        regionId,
        imageOwnerAlias: 'others',
        status: 'Available',
        pageSize: 100,
      }),
    );
    return (answer.body!.images?.image ?? []).map((image) => image.imageId!);
  }
  afterAll(() => cloud.stop());

  const connection = (regionId: string) => ({
    regionId,
    endpoint: cloud.endpoint,
    protocol: 'http' as const,
    credentials: cloud.credentials,
    pollIntervalMs: 200,
  });
  /** What a stack left behind: copies of ours, launch templates, functions (every region). */
  const leftovers = () =>
    ECS_REGION_IDS.flatMap((regionId) => [
      ...cloud.ecs
        .listImages(regionId)
        .filter((image) => OWNERSHIP_TAG_KEY in (image.tags ?? {}))
        .map((image) => `image ${image.imageId} in ${regionId}`),
      ...cloud.launchTemplates.list(regionId).map((lt) => `launch template ${lt.launchTemplateName}`),
      ...cloud.accounts.flatMap((account) =>
        account.fc
          .listFunctions(regionId)
          .map((fn) => `function ${fn.functionName} of account ${account.index}`),
      ),
    ]);
  const outcome = (result: StackOperationResult) => ({
    status: result.status,
    reason: result.success ? '' : result.statusReason,
    failed: result.failedResources.map((r) => `${r.logicalResourceId}: ${r.statusReason}`),
  });
  const succeeded = (status: string) => ({ status, reason: '', failed: [] });

  /** Synthesizes an app, deploys each of its stacks to `regionId`, checks it, destroys it; nothing may be left. */
  async function deployAndDestroy(
    synth: { app: string; cwd: string; env?: NodeJS.ProcessEnv },
    regionId: string,
    check: (stackName: string, outputs: Record<string, unknown>) => void | Promise<void>,
  ) {
    const outdir = fs.mkdtempSync(path.join(outRoot, 'assembly-'));
    const assembly = await synthesize({ ...synth, outdir });
    expect(assembly.stacks.length).toBeGreaterThan(0);
    for (const { stackName } of readAssembly(outdir).stacks) {
      const deployed = await deployStack({ ...connection(regionId), stackName, assemblyDir: outdir });
      expect(outcome(deployed)).toEqual(succeeded('CREATE_COMPLETE'));
      await check(stackName, Object.fromEntries(deployed.outputs.map((o) => [o.key, o.value])));
      const destroyed = await destroyStack({ ...connection(regionId), stackName, assemblyDir: outdir });
      expect(outcome(destroyed)).toEqual(succeeded('DELETE_COMPLETE'));
    }
    expect(leftovers()).toEqual([]);
  }

  const examples = fs
    .readdirSync(path.join(ROOT, 'examples'), { withFileTypes: true })
    .filter(
      (entry) => entry.isDirectory() && fs.existsSync(path.join(ROOT, 'examples', entry.name, 'app.ts')),
    )
    .map((entry) => entry.name);

  it('finds the examples to run', () => {
    expect(examples).toEqual(
      expect.arrayContaining([
        'distribution',
        'launch-template',
        'organization',
        'replication',
        'single-copy',
      ]),
    );
  });

  it.each(examples)(
    'examples/%s deploys with its defaults and destroys, leaving nothing',
    async (name) => {
      const synth = { app: example(name), cwd: ROOT, env: contextFor(name) };
      await deployAndDestroy(synth, 'cn-hangzhou', async (stackName, outputs) => {
        // A copy shared with the second account (examples/distribution): that account sees it.
        for (const [key, imageId] of Object.entries(outputs).filter(([k]) => k.endsWith('ImageId'))) {
          const sharedWith = outputs[key.replace(/ImageId$/, 'SharedWith')];
          if (sharedWith !== undefined) {
            expect(sharedWith).toBe(cloud.accounts[1].accountId);
            const regionId = ECS_REGION_IDS.find((r) => cloud.ecs.getImage(r, String(imageId)))!;
            expect(await sharedWithAccount(1, regionId)).toContain(String(imageId));
          }
        }
        const imageIds = Object.entries(outputs).filter(([key]) => key.endsWith('ImageId'));
        if (outputs.ImageIds !== undefined) {
          // examples/organization: an image per target account and region, each the account's own.
          const byAccount = JSON.parse(String(outputs.ImageIds)) as Record<string, Record<string, string>>;
          expect(Object.keys(byAccount).sort()).toEqual(
            cloud.accounts
              .slice(1)
              .map((a) => a.accountId)
              .sort(),
          );
          for (const [accountId, byRegion] of Object.entries(byAccount)) {
            for (const [regionId, imageId] of Object.entries(byRegion)) {
              const image = cloud.ecs.getImage(regionId, imageId);
              expect([accountId, regionId, image?.ownerId, image?.status]).toEqual([
                accountId,
                regionId,
                accountId,
                'Available',
              ]);
              imageIds.push([`${accountId}/${regionId}`, imageId]);
            }
          }
        }
        expect(imageIds.length).toBeGreaterThan(0);
        for (const [, imageId] of imageIds) {
          const image = ECS_REGION_IDS.map((r) => cloud.ecs.getImage(r, String(imageId))).find(Boolean);
          expect([stackName, image?.status]).toEqual([stackName, 'Available']);
        }
        if (outputs.LaunchTemplateId !== undefined) {
          // The launch template starts instances from the copy, in the stack's region.
          expect(
            cloud.launchTemplates.get('cn-hangzhou', String(outputs.LaunchTemplateId))?.configuration,
          ).toMatchObject({
            ImageId: outputs.ImageId,
          });
        }
      });
    },
    180_000,
  );

  it('examples/distribution: create and share, change the shares and the family, release a new source keeping the previous copies, destroy', async () => {
    const [, second, third] = cloud.accounts;
    const stackName = 'ImageDistributionExample';
    const regions = ['cn-shanghai', 'cn-beijing'];
    /** Synthesizes the example with this context and deploys it (a create, then updates). */
    async function deployWith(context: Record<string, string>): Promise<Record<string, string>> {
      const outdir = fs.mkdtempSync(path.join(outRoot, 'assembly-'));
      await synthesize({
        app: example('distribution'),
        cwd: ROOT,
        env: { ...process.env, CDK_CONTEXT_JSON: JSON.stringify(context) },
        outdir,
      });
      const deployed = await deployStack({ ...connection('cn-hangzhou'), stackName, assemblyDir: outdir });
      expect(outcome(deployed).failed).toEqual([]);
      expect(deployed.success).toBe(true);
      return Object.fromEntries(deployed.outputs.map((o) => [o.key, String(o.value)]));
    }
    const imageIds = (outputs: Record<string, string>) =>
      regions.map((r) => outputs[`Golden${r === 'cn-shanghai' ? 'CnShanghai' : 'CnBeijing'}ImageId`]);
    const familyOf = async (regionId: string, imageId: string) =>
      (
        await ecsClient(cloud, regionId).describeImages(
          new $Ecs.DescribeImagesRequest({ regionId, imageId, status: 'Available,Deprecated' }),
        )
      ).body!.images!.image![0].imageFamily;

    const created = await deployWith({ sharedWithAccounts: second.accountId });
    const firstRelease = imageIds(created);
    for (const [i, regionId] of regions.entries()) {
      expect(await sharedWithAccount(1, regionId)).toContain(firstRelease[i]);
      expect(await sharedWithAccount(2, regionId)).not.toContain(firstRelease[i]);
    }

    // Shares and family change in place: the same images.
    const changed = await deployWith({
      sharedWithAccounts: third.accountId,
      imageFamily: 'golden-web-2',
    });
    expect(imageIds(changed)).toEqual(firstRelease);
    for (const [i, regionId] of regions.entries()) {
      expect(await sharedWithAccount(1, regionId)).not.toContain(firstRelease[i]);
      expect(await sharedWithAccount(2, regionId)).toContain(firstRelease[i]);
      expect(await familyOf(regionId, firstRelease[i])).toBe('golden-web-2');
    }

    // A new golden image: new copies, the previous ones kept (deprecated, no longer shared).
    const newSource = cloud.ecs.putImage('cn-hangzhou', { imageName: 'golden-2026-12' });
    const released = await deployWith({
      sharedWithAccounts: third.accountId,
      imageFamily: 'golden-web-2',
      sourceImageId: newSource,
    });
    const secondRelease = imageIds(released);
    for (const [i, regionId] of regions.entries()) {
      expect(secondRelease[i]).not.toBe(firstRelease[i]);
      expect(released[`Golden${i === 0 ? 'CnShanghai' : 'CnBeijing'}PreviousImageIds`]).toBe(firstRelease[i]);
      expect(cloud.ecs.getImage(regionId, firstRelease[i])?.status).toBe('Deprecated');
      expect(await sharedWithAccount(2, regionId)).toEqual(expect.arrayContaining([secondRelease[i]]));
      expect(await sharedWithAccount(2, regionId)).not.toContain(firstRelease[i]);
    }

    const destroyed = await destroyStack({ ...connection('cn-hangzhou'), stackName });
    expect(outcome(destroyed)).toEqual(succeeded('DELETE_COMPLETE'));
    expect(leftovers()).toEqual([]);
  }, 300_000);

  it("the README's worked example deploys as written into its stack's region and destroys", async () => {
    const code = readmeWorkedExample();
    // ROS CDK apps name their region in the stack's env; the cloud assembly does not carry it, so it is read here.
    const region = /env:\s*\{\s*region:\s*'([a-z0-9-]+)'/.exec(code)?.[1];
    expect(region).toBe('cn-shanghai');
    const { app, env, dir } = standaloneApp(code);
    await deployAndDestroy({ app, env, cwd: dir }, region!, (stackName, outputs) => {
      expect(stackName).toBe('Images');
      const golden = cloud.ecs.getImage(region!, String(outputs.GoldenImageId));
      expect(golden).toMatchObject({ imageName: 'golden', status: 'Available' });
      expect(cloud.ecs.getImage('cn-beijing', String(outputs.BeijingImageId))?.status).toBe('Available');
      expect(cloud.launchTemplates.list(region!)).toEqual([
        expect.objectContaining({
          launchTemplateName: 'web',
          configuration: { LaunchTemplateName: 'web', ImageId: golden!.imageId },
        }),
      ]);
    });
  }, 240_000);
});
