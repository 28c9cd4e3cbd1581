import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ImageCopy } from '../../lib';
import { packageRoot } from '../../lib/package-root';
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
