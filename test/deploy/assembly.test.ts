import * as fs from 'fs';
import * as path from 'path';
import { assemblyStack, readAssembly, synthesize } from '../../lib/deploy';
import { tempDir } from './fixtures';

describe('cloud assembly', () => {
  it('reads stacks, their ROS names, dependencies and logical id → construct path', () => {
    const dir = tempDir('assembly-');
    const manifest = {
      version: '7.0.0',
      artifacts: {
        Tree: { type: 'cdk:tree', properties: { file: 'tree.json' } },
        'Base.assets': { type: 'cdk:asset-manifest', properties: { file: 'Base.assets.json' } },
        Base: {
          type: 'aliyun:ros:stack',
          properties: { templateFile: 'Base.template.json' },
          dependencies: ['Base.assets'],
          metadata: { '/Base/Roles/Runner': [{ type: 'aliyun:ros:logicalId', data: 'Runner' }] },
        },
        AppArtifact: {
          type: 'aliyun:ros:stack',
          properties: { templateFile: 'AppArtifact.template.json', stackName: 'app-prod' },
          dependencies: ['Base'],
          metadata: {
            '/App/Copy/Resource': [
              { type: 'aliyun:ros:logicalId', data: 'CopyResource' },
              { type: 'other', data: 'x' },
            ],
          },
        },
      },
    };
    fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify(manifest));
    const assembly = readAssembly(dir);
    expect(assembly.stacks).toEqual([
      {
        stackName: 'Base',
        artifactId: 'Base',
        templateFile: path.join(dir, 'Base.template.json'),
        dependencies: [],
        constructPaths: { Runner: 'Base/Roles/Runner' },
      },
      {
        stackName: 'app-prod',
        artifactId: 'AppArtifact',
        templateFile: path.join(dir, 'AppArtifact.template.json'),
        dependencies: ['Base'],
        constructPaths: { CopyResource: 'App/Copy/Resource' },
      },
    ]);
    expect(assemblyStack(assembly, 'AppArtifact').stackName).toBe('app-prod');
    expect(() => assemblyStack(assembly, 'Nope')).toThrow(
      `No stack named Nope in ${dir} (stacks: Base, app-prod).`,
    );
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('says which file is missing or broken', () => {
    const dir = tempDir('assembly-');
    expect(() => readAssembly(dir)).toThrow(
      `Cannot read the cloud assembly ${path.join(dir, 'manifest.json')}`,
    );
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('runs the app with CDK_OUTDIR and the context, and passes on its output', async () => {
    const dir = tempDir('synth-');
    const outdir = path.join(dir, 'out');
    const script = [
      "const fs = require('fs');",
      'const ctx = JSON.parse(process.env.CDK_CONTEXT_JSON);',
      "console.log('synthesizing', ctx.flavour);",
      'fs.writeFileSync(process.env.CDK_OUTDIR + "/S.template.json", JSON.stringify({ Description: ctx.flavour }));',
      'fs.writeFileSync(process.env.CDK_OUTDIR + "/manifest.json", JSON.stringify({ artifacts: { S: { type: "aliyun:ros:stack" } } }));',
    ].join('\n');
    fs.writeFileSync(path.join(dir, 'app.js'), script);
    const output: string[] = [];
    const assembly = await synthesize({
      app: 'node app.js',
      cwd: dir,
      outdir,
      context: { flavour: 'vanilla' },
      onOutput: (c) => output.push(c),
    });
    expect(assembly.stacks.map((s) => s.stackName)).toEqual(['S']);
    expect(assembly.directory).toBe(outdir);
    expect(assembly.stacks[0].template).toBe('{"Description":"vanilla"}');
    expect(fs.readFileSync(path.join(outdir, 'S.template.json'), 'utf8')).toBe('{"Description":"vanilla"}');
    expect(output.join('')).toBe('synthesizing vanilla\n');
    await expect(synthesize({ app: 'node -e "process.exit(4)"', cwd: dir, outdir })).rejects.toMatchObject({
      code: 'SynthFailed',
      message: 'The app `node -e "process.exit(4)"` failed (exit code 4).',
    });
    // Without onOutput the message carries the output's tail; with it, the caller has shown the output already.
    const failing = "node -e \"console.error('first'); console.error('bad source'); process.exit(3)\"";
    await expect(synthesize({ app: failing, cwd: dir, outdir })).rejects.toMatchObject({
      message: `The app \`${failing}\` failed (exit code 3).\nfirst\nbad source`,
    });
    const shown: string[] = [];
    await expect(
      synthesize({ app: failing, cwd: dir, outdir, onOutput: (c) => shown.push(c) }),
    ).rejects.toMatchObject({ message: `The app \`${failing}\` failed (exit code 3).` });
    expect(shown.join('')).toBe('first\nbad source\n');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('never reads a previous run: an app that writes no assembly fails, saying so, and cdk.out stays as it was', async () => {
    const dir = tempDir('stale-');
    const outdir = path.join(dir, 'cdk.out');
    fs.writeFileSync(path.join(dir, 'app.js'), APP);
    await synthesize({ app: 'node app.js', cwd: dir, outdir, context: { name: 'Old' } });
    expect(readAssembly(outdir).stacks.map((s) => s.stackName)).toEqual(['Old']);
    // An app that never calls app.synth(): exit 0, nothing written.
    await expect(synthesize({ app: 'node -e "0"', cwd: dir, outdir })).rejects.toMatchObject({
      code: 'SynthFailed',
      message:
        'The app `node -e "0"` exited without writing a cloud assembly (no manifest.json in CDK_OUTDIR): ' +
        'does it call app.synth(), leaving the output directory to CDK_OUTDIR?',
    });
    expect(readAssembly(outdir).stacks.map((s) => s.stackName)).toEqual(['Old']);
    // Nothing of the failed run is left behind next to cdk.out.
    expect(fs.readdirSync(dir).sort()).toEqual(['app.js', 'cdk.out']);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('gives two runs at once each its own assembly', async () => {
    const dir = tempDir('parallel-');
    const outdir = path.join(dir, 'cdk.out');
    fs.writeFileSync(path.join(dir, 'app.js'), APP);
    const [a, b] = await Promise.all(
      ['Alpha', 'Beta'].map((name) =>
        synthesize({ app: 'node app.js', cwd: dir, outdir, context: { name } }),
      ),
    );
    expect(a.stacks.map((s) => [s.stackName, JSON.parse(s.template!).Description])).toEqual([
      ['Alpha', 'Alpha'],
    ]);
    expect(b.stacks.map((s) => [s.stackName, JSON.parse(s.template!).Description])).toEqual([
      ['Beta', 'Beta'],
    ]);
    // cdk.out holds one of the two complete assemblies.
    const published = readAssembly(outdir).stacks.map((s) => s.stackName);
    expect([['Alpha'], ['Beta']]).toContainEqual(published);
    expect(fs.readdirSync(dir).sort()).toEqual(['app.js', 'cdk.out']);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('refuses to replace an output directory that is not a cloud assembly', async () => {
    const dir = tempDir('outdir-');
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'mine');
    fs.writeFileSync(path.join(dir, 'app.js'), APP);
    await expect(synthesize({ app: 'node app.js', cwd: dir, outdir: dir })).rejects.toMatchObject({
      code: 'SynthFailed',
      message: expect.stringContaining('holds files but no manifest.json'),
    });
    expect(fs.readFileSync(path.join(dir, 'notes.txt'), 'utf8')).toBe('mine');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("reads the stack's tags, the region its app pinned it to, and the warnings of its constructs", () => {
    const dir = tempDir('assembly-');
    const manifest = {
      artifacts: {
        'Pinned.assets': { type: 'cdk:asset-manifest', properties: { file: 'Pinned.assets.json' } },
        Pinned: {
          type: 'aliyun:ros:stack',
          properties: { templateFile: 'Pinned.template.json', tags: { team: 'images', env: 'dev' } },
          dependencies: ['Pinned.assets'],
          metadata: { '/Pinned': [{ type: 'aliyun:ros:warning', data: 'the template is big' }] },
        },
        'Free.assets': { type: 'cdk:asset-manifest', properties: { file: 'Free.assets.json' } },
        Free: {
          type: 'aliyun:ros:stack',
          properties: { templateFile: 'Free.template.json' },
          dependencies: ['Free.assets'],
        },
      },
    };
    const assets = (region?: string) => ({
      files: {
        abc: {
          source: { path: 'x.template.json', packaging: 'file' },
          destinations: {
            'current_account-current_region': {
              bucketName: `cdk-assets-${region ?? '${ALIYUN::Region}'}`,
              ...(region && { region }),
            },
          },
        },
      },
    });
    fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify(manifest));
    fs.writeFileSync(path.join(dir, 'Pinned.assets.json'), JSON.stringify(assets('cn-beijing')));
    fs.writeFileSync(path.join(dir, 'Free.assets.json'), JSON.stringify(assets()));
    const [pinned, free] = readAssembly(dir).stacks;
    expect(pinned).toMatchObject({
      stackName: 'Pinned',
      tags: { team: 'images', env: 'dev' },
      regionId: 'cn-beijing',
      warnings: ['Pinned: the template is big'],
    });
    expect(free.regionId).toBeUndefined();
    expect(free.tags).toBeUndefined();
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

/** An app that writes one stack named after the context value `name`, its template's Description saying the same. */
const APP = [
  "const fs = require('fs');",
  'const { name } = JSON.parse(process.env.CDK_CONTEXT_JSON);',
  'const out = process.env.CDK_OUTDIR;',
  'fs.writeFileSync(`${out}/${name}.template.json`, JSON.stringify({ Description: name }));',
  // Slow enough that two runs at once overlap.
  'setTimeout(() => fs.writeFileSync(`${out}/manifest.json`, JSON.stringify({ artifacts: { [name]: { type: "aliyun:ros:stack" } } })), 200);',
].join('\n');
