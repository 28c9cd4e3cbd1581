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
});
