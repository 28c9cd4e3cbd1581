import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { findRunningServer } from '../../lib/local/discovery';
import { handlerZipPath, packageRoot } from '../../lib/package-root';
import { HANDLER_ZIP_ENVIRONMENT_VARIABLE } from '../../lib/provider';
import { cliPath } from '../cli-paths';
import { startCli, waitFor } from './cli-fixtures';

/**
 * The example app (examples/single-copy, an ImageCopy with its provider) deployed, updated and destroyed through
 * the CLI as a user would, against the LocalCloud that `ros-local` serves (copies take a few seconds there).
 */
describe('ros-deploy with the ImageCopy example app', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let server: ReturnType<typeof spawn>;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ros-deploy-example-'));
    const root = packageRoot();
    const cdkJson = JSON.parse(fs.readFileSync(path.join(root, 'cdk.json'), 'utf8'));
    // The same app as the repository's cdk.json, run from a directory of its own (its .ros-local/ and cdk.out/).
    const app = `node --require ${path.join(root, 'examples', 'ts-register.js')} ${path.join(root, 'examples', 'single-copy', 'app.ts')}`;
    fs.writeFileSync(path.join(dir, 'cdk.json'), JSON.stringify({ ...cdkJson, app }));
    // A copy of the handler bundle for this test alone: other test runs may rebuild dist/handler meanwhile, which
    // would change the template between two deploys that should find no changes.
    const handlerZip = path.join(dir, 'handler.zip');
    fs.copyFileSync(handlerZipPath(), handlerZip);
    env = {
      ...process.env,
      ALIBABA_CLOUD_ECS_METADATA_DISABLED: 'true',
      [HANDLER_ZIP_ENVIRONMENT_VARIABLE]: handlerZip,
    };
    delete env.CI;
    server = spawn(process.execPath, [cliPath('ros-local'), 'start', '--copy-duration-ms', '4000'], {
      cwd: dir,
      env,
      stdio: 'ignore',
    });
    await waitFor(() => findRunningServer(path.join(dir, '.ros-local')));
  });

  afterAll(async () => {
    server.kill('SIGTERM');
    await new Promise((r) => server.once('close', r));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const run = (args: string[]) => startCli('ros-deploy', dir, args, env).done;

  it('deploys the copy with its progress and the copied image id as an output', async () => {
    const result = await run(['deploy', '--local', '--outputs-file', 'outputs.json']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/ros-deploy: using LocalCloud served by ros-local at 127\.0\.0\.1:\d+/);
    expect(result.stdout).toMatch(
      /ImageCopyExample \| ImageCopy ImageCopyExample\/GoldenCopy\/GoldenCopy \(GoldenCopy\) copying m-\w+: \d+%/,
    );
    expect(result.stdout).toMatch(/ImageCopyExample\.ImageId = m-\w+\n/);
    const outputs = JSON.parse(fs.readFileSync(path.join(dir, 'outputs.json'), 'utf8'));
    expect(outputs.ImageCopyExample).toMatchObject({
      ImageId: expect.stringMatching(/^m-/),
      RegionId: 'cn-shanghai',
    });

    const again = await run(['deploy', '--local']);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('Deployed ImageCopyExample (cn-hangzhou): no changes');
  });

  it('fails an update to a source image that does not exist with the reason and the construct path, and rolls back', async () => {
    const result = await run(['deploy', '--local', '-c', 'sourceImageId=m-bp1doesnotexist000']);
    expect(result.code).toBe(1);
    const failure = result.stdout.slice(result.stdout.lastIndexOf('FAILED ImageCopyExample'));
    expect(failure).toMatch(/^FAILED ImageCopyExample \(cn-hangzhou\): ROLLBACK_COMPLETE/);
    expect(failure).toContain(
      'ImageCopyExample/GoldenCopy/GoldenCopy (GoldenCopy) ALIYUN::ROS::CustomResource UPDATE_FAILED: ',
    );
    expect(failure).toContain('m-bp1doesnotexist000');
  });

  it('destroys the stack in another run', async () => {
    const result = await run(['destroy', '--local', '--force']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Destroyed ImageCopyExample (cn-hangzhou): DELETE_COMPLETE');
  });
});
