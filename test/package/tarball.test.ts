import { execFile, type ExecFileOptions } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { promisify } from 'util';
import { packageRoot } from '../../lib/package-root';

const exec = promisify(execFile);
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/**
 * The package as users get it: `npm pack`, installed into fresh apps (TypeScript with `skipLibCheck: false`, and
 * plain JavaScript) with the ROS CDK framework packages at both ends of the tested peer range, then synthesized and
 * deployed to LocalCloud with the installed `ros-deploy`.
 */
describe('the packed tarball in a fresh app', () => {
  let work: string;
  let tarball: string;
  let files: string[];

  beforeAll(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'ros-cdk-image-copy-pack-'));
    // `npm pack` runs the `prepare` script (the build) first, as a publish would.
    const { stdout } = await exec(npm, ['pack', '--json', '--pack-destination', work], {
      cwd: packageRoot(),
      maxBuffer: 64 * 1024 * 1024,
    });
    const packed = JSON.parse(stdout.slice(stdout.indexOf('['))) as Array<{
      filename: string;
      files: Array<{ path: string }>;
    }>;
    tarball = path.join(work, packed[0].filename);
    files = packed[0].files.map((file) => file.path);
  }, 240_000);

  afterAll(() => {
    if (work) {
      fs.rmSync(work, { recursive: true, force: true });
    }
  });

  it('ships the license, the changelog, the docs and the handler zip, and no unused files', () => {
    expect(files).toEqual(
      expect.arrayContaining([
        'LICENSE',
        'CHANGELOG.md',
        'README.md',
        'package.json',
        'dist/handler/handler.zip',
        'dist/lib/index.js',
        'dist/lib/index.d.ts',
        'dist/lib/deploy/index.js',
        'dist/lib/local/index.js',
        'bin/ros-deploy.js',
        'bin/ros-local.js',
        'docs/construct.md',
        'docs/cli.md',
      ]),
    );
    // Source maps would point at sources that are not shipped; the unzipped handler is never loaded.
    expect(files.filter((file) => file.endsWith('.map'))).toEqual([]);
    expect(files).not.toContain('dist/handler/index.js');
    expect(files.filter((file) => /^(test|bench|examples|lib|scripts)\//.test(file))).toEqual([]);
    // Every document the README links to is in the tarball.
    const readme = fs.readFileSync(path.join(packageRoot(), 'README.md'), 'utf8');
    const linked = [...readme.matchAll(/\]\(((?:docs\/)[^)#]+)/g)].map((match) => match[1]);
    expect(linked.length).toBeGreaterThan(0);
    expect(linked.filter((doc) => !files.includes(doc))).toEqual([]);
  });

  const frameworks = {
    'the newest tested framework': {
      '@alicloud/ros-cdk-core': '1.12.0',
      constructs: '3.4.344',
    },
    'the oldest framework in the peer range': {
      '@alicloud/ros-cdk-core': '1.11.0',
      constructs: '3.0.4',
    },
  };

  describe.each(Object.entries(frameworks))('with %s', (name, framework) => {
    let app: string;
    const run = async (command: string, args: string[], options: ExecFileOptions = {}) => {
      const { stdout, stderr } = await exec(command, args, {
        cwd: app,
        maxBuffer: 64 * 1024 * 1024,
        env: { ...process.env, CI: 'true', ALIBABA_CLOUD_ECS_METADATA_DISABLED: 'true' },
        ...options,
      });
      return { stdout: String(stdout), stderr: String(stderr) };
    };

    beforeAll(async () => {
      app = fs.mkdtempSync(path.join(work, 'app-'));
      const typescript = JSON.parse(
        fs.readFileSync(path.join(packageRoot(), 'node_modules', 'typescript', 'package.json'), 'utf8'),
      ).version as string;
      fs.writeFileSync(
        path.join(app, 'package.json'),
        JSON.stringify({
          name: 'fresh-app',
          private: true,
          dependencies: { 'ros-cdk-image-copy': `file:${tarball}`, ...framework },
          devDependencies: { typescript },
        }),
      );
      await run(npm, ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error']);
      fs.writeFileSync(
        path.join(app, 'app.ts'),
        [
          "import * as ros from '@alicloud/ros-cdk-core';",
          "import { ImageCopy } from 'ros-cdk-image-copy';",
          '',
          'const app = new ros.App();',
          "const stack = new ros.Stack(app, 'FreshApp');",
          "const copy = new ImageCopy(stack, 'Golden', {",
          "  sourceImageId: 'm-bp1seedgoldenimage01',",
          "  sourceRegionId: 'cn-hangzhou',",
          "  destinationRegionId: 'cn-shanghai',",
          "  imageName: 'fresh-app-golden',",
          '});',
          "new ros.RosOutput(stack, 'ImageId', { value: copy.attrImageId });",
          'app.synth();',
          '',
        ].join('\n'),
      );
      fs.writeFileSync(
        path.join(app, 'org.ts'),
        [
          "import * as ros from '@alicloud/ros-cdk-core';",
          "import { ImageDistribution } from 'ros-cdk-image-copy';",
          '',
          'const app = new ros.App();',
          "const stack = new ros.Stack(app, 'FreshOrg', { env: { region: 'cn-hangzhou' } });",
          "const golden = new ImageDistribution(stack, 'Golden', {",
          "  sourceImageId: 'm-bp1seedgoldenimage01',",
          "  sourceRegionId: 'cn-hangzhou',",
          "  targetAccountIds: ['1234567890123456', '2345678901234567'],",
          "  targetRegionIds: ['cn-hangzhou', 'cn-shanghai'],",
          "  operationPreferences: { maxConcurrentCount: 10, regionConcurrencyType: 'PARALLEL' },",
          '});',
          "new ros.RosOutput(stack, 'ImageIds', { value: golden.attrImageIds });",
          "new ros.RosOutput(stack, 'Shanghai', { value: golden.imageIdFor('1234567890123456', 'cn-shanghai') });",
          'app.synth();',
          '',
        ].join('\n'),
      );
      fs.writeFileSync(
        path.join(app, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: {
            target: 'ES2022',
            module: 'commonjs',
            strict: true,
            skipLibCheck: false,
            types: [],
            outDir: 'out',
          },
          files: ['app.ts', 'org.ts'],
        }),
      );
      fs.writeFileSync(path.join(app, 'cdk.json'), JSON.stringify({ app: 'node out/app.js' }));
    }, 240_000);

    it('has one ROS CDK core, and the construct entry loads neither the ROS SDK nor LocalCloud', async () => {
      const { stdout } = await run(npm, ['ls', '--all', '--parseable', '@alicloud/ros-cdk-core']);
      const cores = new Set(
        stdout
          .split('\n')
          .filter((line) => line.endsWith(path.join('@alicloud', 'ros-cdk-core')))
          .map((line) => fs.realpathSync(line)),
      );
      expect(cores.size).toBe(1);
      const loaded = await run(process.execPath, [
        '-e',
        "require('ros-cdk-image-copy'); console.log(JSON.stringify(Object.keys(require.cache)))",
      ]);
      const modules = JSON.parse(loaded.stdout) as string[];
      expect(modules.filter((file) => /ros20190910|openapi-core|[\\/]local[\\/]/.test(file))).toEqual([]);
    });

    it('compiles a TypeScript app with skipLibCheck false, synthesizes it and deploys it to LocalCloud', async () => {
      await run(process.execPath, [path.join(app, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', '.']);
      const cli = path.join(app, 'node_modules', '.bin', 'ros-deploy');
      const synth = await run(cli, ['synth']);
      expect(synth.stdout).toContain('FreshApp');
      const template = JSON.parse(
        fs.readFileSync(path.join(app, 'cdk.out', 'FreshApp.template.json'), 'utf8'),
      ) as { Resources: Record<string, { Type: string }> };
      expect(Object.values(template.Resources).map((r) => r.Type)).toEqual(
        expect.arrayContaining(['ALIYUN::ROS::CustomResource', 'ALIYUN::FC3::Function', 'ALIYUN::RAM::Role']),
      );
      const deploy = await run(cli, ['deploy', '--local']);
      expect(deploy.stdout).toMatch(/FreshApp\.ImageId = m-[0-9a-z]+/);
      const destroy = await run(cli, ['destroy', '--local', '--force']);
      expect(destroy.stdout).toContain('FreshApp');
    }, 240_000);

    it('compiles and synthesizes an ImageDistribution app: its custom resource, replicas and instance template', async () => {
      await run(process.execPath, [path.join(app, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', '.']);
      const cli = path.join(app, 'node_modules', '.bin', 'ros-deploy');
      await run(cli, ['synth', '--app', 'node out/org.js']);
      const template = JSON.parse(
        fs.readFileSync(path.join(app, 'cdk.out', 'FreshOrg.template.json'), 'utf8'),
      ) as { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> };
      const resources = Object.values(template.Resources);
      const distribution = resources.find((resource) => resource.Type === 'Custom::ImageDistribution')!;
      expect(distribution).toBeDefined();
      // The instance template each account runs: its own provider function and the copy of the shared replica.
      const instance = JSON.parse(
        String((distribution.Properties.Parameters as Record<string, unknown>).TemplateBody),
      ) as {
        Resources: Record<string, { Type: string }>;
      };
      expect(Object.values(instance.Resources).map((r) => r.Type)).toEqual(
        expect.arrayContaining(['ALIYUN::FC3::Function', 'ALIYUN::ROS::CustomResource']),
      );
      // A replica per target region in this account.
      expect(resources.filter((resource) => resource.Type === 'ALIYUN::ROS::CustomResource')).toHaveLength(2);
    }, 240_000);

    it('gives the package version with ros-deploy --version and ros-local --version', async () => {
      const version = JSON.parse(fs.readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')).version;
      for (const bin of ['ros-deploy', 'ros-local']) {
        const { stdout } = await run(path.join(app, 'node_modules', '.bin', bin), ['--version']);
        expect(stdout).toBe(`${version}\n`);
      }
    });

    if (name === 'the newest tested framework') {
      it('writes with ros-deploy init an app that installs, passes its jest test, deploys to LocalCloud and is destroyed', async () => {
        const initialized = path.join(work, 'initialized-app');
        const init = await run(path.join(app, 'node_modules', '.bin', 'ros-deploy'), ['init', initialized]);
        expect(init.stdout).toContain('Wrote a TypeScript app with the stack InitializedApp');
        const manifestFile = path.join(initialized, 'package.json');
        const manifest = JSON.parse(fs.readFileSync(manifestFile, 'utf8'));
        // The app depends on the published package; here, on the tarball under test.
        manifest.dependencies['ros-cdk-image-copy'] = `file:${tarball}`;
        fs.writeFileSync(manifestFile, JSON.stringify(manifest, null, 2));
        const inApp = { cwd: initialized };
        await run(npm, ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], inApp);
        const tested = await run(npm, ['test'], inApp);
        expect(tested.stderr).toMatch(/Tests: +3 passed, 3 total/);
        const npx = process.platform === 'win32' ? 'npx.cmd' : 'npx';
        const deploy = await run(npx, ['ros-deploy', 'deploy', '--local'], inApp);
        expect(deploy.stdout).toContain('Deployed InitializedApp (cn-hangzhou): CREATE_COMPLETE');
        expect(deploy.stdout).toMatch(/InitializedApp\.ImageId = m-[0-9a-z]+/);
        const destroy = await run(npx, ['ros-deploy', 'destroy', '--local', '--force'], inApp);
        expect(destroy.stdout).toContain('Destroyed InitializedApp (cn-hangzhou): DELETE_COMPLETE');
      }, 600_000);
    }
  });
});
