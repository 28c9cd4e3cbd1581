import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { main, CliIo } from '../../lib/cli/ros-deploy';
import { main as localMain } from '../../lib/cli/ros-local';
import { LocalCloud, SEEDED_IMAGES } from '../../lib/local';
import { packageRoot } from '../../lib/package-root';
import { findRunningServer } from '../../lib/local/discovery';
import { cliPath } from '../cli-paths';
import { CompressedClock } from '../deploy/fixtures';
import { captureIo, cleanEnv, Run, startCli, waitFor } from './cli-fixtures';
import { AppSpec, writeApp } from './ros-deploy-app';

/** Runs the bundled CLI as a user would: a child process with real arguments. */
const start = (dir: string, args: string[], env: NodeJS.ProcessEnv) => startCli('ros-deploy', dir, args, env);

/**
 * Runs `main` in this process, as the child would run (output not a terminal, no prompt), its waits on a
 * compressed clock: `stdout()` so far, and the outcome once done.
 */
function launch(dir: string, args: string[], env: NodeJS.ProcessEnv) {
  const captured = captureIo(dir, { env, clock: new CompressedClock() });
  const done: Promise<Run> = main(args, captured.io).then((code) => ({
    code,
    stdout: captured.out(),
    stderr: captured.err(),
  }));
  return { done, stdout: captured.out };
}

describe('ros-deploy (child process, LocalCloud)', () => {
  let dir: string;
  let home: string;
  let env: NodeJS.ProcessEnv;
  /** In process (see launch); `runChild` as a child process, for what needs one (the environment's credentials). */
  const run = (args: string[], extraEnv: Record<string, string> = {}) =>
    launch(dir, args, { ...env, ...extraEnv }).done;
  const runChild = (args: string[], extraEnv: Record<string, string> = {}) =>
    start(dir, args, { ...env, ...extraEnv }).done;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ros-deploy-'));
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'ros-deploy-home-'));
    env = cleanEnv(home);
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(home, { recursive: true, force: true });
  });

  it('deploys with progress and outputs, re-deploys with no changes, updates, then destroys in separate runs', async () => {
    writeApp(dir, { stacks: [{ name: 'Web', roles: { Runner: 'web-runner' } }] });
    const first = await run(['deploy', '--local', '--outputs-file', 'outputs.json']);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('ros-deploy: using embedded LocalCloud (state in .ros-local/state.json)');
    expect(first.stdout).toMatch(
      /Web \| \d\d:\d\d:\d\d \| CREATE_COMPLETE +\| ALIYUN::RAM::Role \| Web\/Roles\/Runner \(Runner\)/,
    );
    expect(first.stdout).toContain(
      'Deployed Web (cn-hangzhou): CREATE_COMPLETE\nOutputs:\n  Web.RunnerArn = acs:ram::',
    );
    const outputs = JSON.parse(fs.readFileSync(path.join(dir, 'outputs.json'), 'utf8'));
    expect(outputs).toEqual({
      Web: { RunnerArn: expect.stringMatching(/^acs:ram::\d{16}:role\/web-runner$/) },
    });
    expect(fs.existsSync(path.join(dir, '.ros-local', 'state.json'))).toBe(true);

    const again = await run(['deploy', '--local']);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('Deployed Web (cn-hangzhou): no changes');

    writeApp(dir, { stacks: [{ name: 'Web', roles: { Runner: 'web-runner', Worker: 'web-worker' } }] });
    const diff = await run(['diff', '--local', '--fail']);
    expect(diff.code).toBe(1);
    expect(diff.stdout).toContain(
      '[+] ALIYUN::RAM::Role Worker (Web/Roles/Worker)\n' +
        '    [security] broadens permissions\n' +
        '    [security] + trust Service fc.aliyuncs.com\n',
    );
    expect(diff.stdout).toContain(
      '1 to add, 0 to modify in place, 0 to replace, 0 to remove; 1 security-relevant',
    );
    const diffJson = await run(['diff', '--local', '--json']);
    expect(JSON.parse(diffJson.stdout).stacks[0]).toMatchObject({
      summary: { add: 1, modify: 0, replace: 0, remove: 0, securityRelevant: 1, broadening: true },
      changes: expect.arrayContaining([
        expect.objectContaining({
          id: 'Worker',
          action: 'add',
          imageCopy: false,
          security: { added: ['trust Service fc.aliyuncs.com'], removed: [], broadening: true },
        }),
      ]),
    });
    const update = await run(['deploy', '--local', '--json']);
    expect(update.code).toBe(0);
    const report = JSON.parse(update.stdout);
    expect(report).toMatchObject({
      success: true,
      stacks: [
        {
          stackName: 'Web',
          operation: 'update',
          status: 'UPDATE_COMPLETE',
          outputs: { WorkerArn: expect.any(String) },
        },
      ],
    });
    expect(update.stderr).toContain('UPDATE_COMPLETE');

    const shown = await run(['outputs', 'Web', '--local']);
    expect(shown.stdout).toMatch(/^RunnerArn = acs:ram::\d+:role\/web-runner\nWorkerArn = /m);
    const events = await run(['events', 'Web', '--local', '--limit', '2']);
    expect(events.stdout).toMatch(/UPDATE_IN_PROGRESS|UPDATE_COMPLETE/);

    const destroyed = await run(['destroy', '--local', '--force']);
    expect(destroyed.code).toBe(0);
    expect(destroyed.stdout).toContain('Destroyed Web (cn-hangzhou): DELETE_COMPLETE');
    const gone = await run(['outputs', 'Web', '--local']);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toBe('ros-deploy: No stack named Web in cn-hangzhou.\n');
  });

  it('exits 1 on a failed deploy, printing the failing resources with construct paths and reasons last', async () => {
    writeApp(dir, { stacks: [{ name: 'Broken', roles: { Fine: 'broken-fine', Bad: 'not valid' } }] });
    const result = await run(['deploy', '--local', '--progress', 'events']);
    expect(result.code).toBe(1);
    const tail = result.stdout.trim().split('\n').slice(-2);
    expect(tail[0]).toMatch(/^FAILED Broken \(cn-hangzhou\): CREATE_ROLLBACK_COMPLETE: /);
    expect(tail[1]).toBe(
      '  Broken/Roles/Bad (Bad) ALIYUN::RAM::Role CREATE_FAILED: RoleName "not valid" is invalid: 1-64 letters, digits, "." or "-"',
    );
    expect(result.stderr).toBe('');

    // --no-rollback keeps what was created; the next deploy is refused until the stack is destroyed.
    const kept = await run(['deploy', '--local', '--no-rollback', '--json']);
    expect(kept.code).toBe(1);
    expect(JSON.parse(kept.stdout).stacks[0]).toMatchObject({ status: 'CREATE_FAILED', success: false });
    const refused = await run(['deploy', '--local']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('ros-deploy: Stack Broken is CREATE_FAILED');
    expect(refused.stderr).toContain('Destroy it (`ros-deploy destroy Broken`), then deploy again.');
  });

  it("sends the app's stack tags and env.region to ROS, and keeps parameters that are not given again", async () => {
    const stack = {
      name: 'Tagged',
      roles: { R: 'tagged-r' },
      tags: { team: 'images' },
      region: 'cn-shanghai',
    };
    writeApp(dir, { stacks: [{ ...stack, parameters: { Env: 'dev', Tier: 'web' } }] });
    const first = await run([
      'deploy',
      '--local',
      '--parameters',
      'Env=prod',
      '--tags',
      'owner=ci',
      '--timeout',
      '90',
      '--json',
    ]);
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout).stacks[0]).toMatchObject({ regionId: 'cn-shanghai', success: true });
    const stored = () => {
      const state = JSON.parse(fs.readFileSync(path.join(dir, '.ros-local', 'state.json'), 'utf8'));
      return Object.values(state.ros.stacks as Record<string, Record<string, unknown>>).find(
        (s) => s.stackName === 'Tagged' && s.status !== 'DELETE_COMPLETE',
      )!;
    };
    expect(stored()).toMatchObject({
      regionId: 'cn-shanghai',
      tags: expect.arrayContaining([
        { Key: 'team', Value: 'images' },
        { Key: 'owner', Value: 'ci' },
      ]),
      parameters: { Env: 'prod' },
      timeoutInMinutes: 90,
    });

    // A change without --parameters keeps Env=prod (not its default), as `cdk deploy` does.
    writeApp(dir, {
      stacks: [
        { ...stack, roles: { R: 'tagged-r', S: 'tagged-s' }, parameters: { Env: 'dev', Tier: 'web' } },
      ],
    });
    expect((await run(['deploy', '--local'])).code).toBe(0);
    // ... and without --timeout asks for what the template needs: no custom resources, ROS's default of 60.
    expect(stored()).toMatchObject({
      status: 'UPDATE_COMPLETE',
      parameters: { Env: 'prod' },
      timeoutInMinutes: 60,
    });
    // Dropping a parameter from the template still keeps the others.
    writeApp(dir, { stacks: [{ ...stack, parameters: { Env: 'dev' } }] });
    expect((await run(['deploy', '--local'])).code).toBe(0);
    expect(stored()).toMatchObject({ status: 'UPDATE_COMPLETE', parameters: { Env: 'prod' } });

    const contradicted = await run(['deploy', '--local', '--region', 'Tagged:cn-beijing']);
    expect(contradicted.code).toBe(2);
    expect(contradicted.stderr).toBe(
      'ros-deploy: --region Tagged:cn-beijing contradicts the app, which pins Tagged to cn-shanghai (its env.region) ' +
        "and made its template for that region: drop the flag, or change the stack's env in the app\n",
    );
  });

  it('never deploys a stale cdk.out: an app that writes no assembly exits 2 saying so', async () => {
    writeApp(dir, { stacks: [{ name: 'Old', roles: { R: 'stale-old' } }] });
    expect((await run(['deploy', '--local'])).code).toBe(0);
    writeApp(dir, { stacks: [{ name: 'New', roles: { R: 'stale-new' } }], skipSynth: true });
    const result = await run(['deploy', '--local']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      'ros-deploy: The app `node app.js` exited without writing a cloud assembly (no manifest.json in CDK_OUTDIR)',
    );
    const state = JSON.parse(fs.readFileSync(path.join(dir, '.ros-local', 'state.json'), 'utf8'));
    expect(Object.values(state.ros.stacks).map((s) => (s as { stackName: string }).stackName)).toEqual([
      'Old',
    ]);
    expect(result.stdout).not.toContain('Deployed');
  });

  it('follows and shows events in order when LocalCloud lists them oldest first (ROS_LOCAL_VARIANTS)', async () => {
    const variant = { ROS_LOCAL_VARIANTS: 'stackEventsOrder=oldest-first' };
    const roles = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`R${i}`, `ordered-${i}`]));
    writeApp(dir, { stacks: [{ name: 'Ordered', roles }] });
    const deployed = await run(['deploy', '--local', '--progress', 'events'], variant);
    expect(deployed.code).toBe(0);
    const state = JSON.parse(fs.readFileSync(path.join(dir, '.ros-local', 'state.json'), 'utf8'));
    const recorded = (
      Object.values(state.ros.stacks)[0] as { events: { LogicalResourceId: string; Status: string }[] }
    ).events;
    const shown = deployed.stdout
      .split('\n')
      .filter((line) => /^Ordered \| \d\d:/.test(line))
      .map((line) => line.split(' | '))
      .map(
        ([, , status, , where]) => `${/\((\w+)\)/.exec(where)?.[1] ?? where.split(' ')[0]} ${status.trim()}`,
      );
    expect(shown).toEqual(recorded.map((e) => `${e.LogicalResourceId} ${e.Status}`));

    const latest = await run(['events', 'Ordered', '--local', '--limit', '3', '--json'], variant);
    expect(JSON.parse(latest.stdout).events.map((e: { status: string }) => e.status)).toEqual(
      recorded.slice(-3).map((e) => e.Status),
    );
    expect(JSON.parse(latest.stdout).events.at(-1)).toMatchObject({
      logicalResourceId: 'Ordered',
      status: 'CREATE_COMPLETE',
    });
  });

  it('exits 2 with one clear message when no credentials are found without --local', async () => {
    writeApp(dir, { stacks: [{ name: 'Web', roles: { Runner: 'web-runner' } }] });
    const result = await runChild(['deploy', '--region', 'cn-hangzhou']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      'ros-deploy: No Alibaba Cloud credentials found. Provide them in one of these ways:',
    );
    expect(result.stderr).toContain('Or try everything without an account against LocalCloud: add --local.');
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('exits 2 when no region is known, and reads it from the aliyun CLI profile', async () => {
    writeApp(dir, { stacks: [{ name: 'Web', roles: { Runner: 'web-runner' } }] });
    const none = await run(['deploy']);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('ros-deploy: no region for stack Web: pass --region REGION');
    fs.mkdirSync(path.join(home, '.aliyun'));
    fs.writeFileSync(
      path.join(home, '.aliyun', 'config.json'),
      JSON.stringify({
        current: 'p',
        profiles: [
          { name: 'p', mode: 'AK', access_key_id: 'LTAIx', access_key_secret: 'y', region_id: 'cn-beijing' },
        ],
      }),
    );
    // Region and credentials come from the profile; it then talks to the real endpoint, which we do not: use --local.
    const local = await run(['deploy', '--local', '--json']);
    expect(JSON.parse(local.stdout).stacks[0]).toMatchObject({ regionId: 'cn-beijing', success: true });
  });

  it('deploys without --local through the default credential chain and an aliyun CLI profile, at an endpoint from the environment', async () => {
    writeApp(dir, { stacks: [{ name: 'Chain', roles: { Runner: 'chain-runner' } }] });
    const server = spawn(process.execPath, [cliPath('ros-local'), 'start'], {
      cwd: dir,
      env,
      stdio: 'ignore',
    });
    try {
      const info = await waitFor(() => findRunningServer(path.join(dir, '.ros-local')));
      const state = JSON.parse(fs.readFileSync(info.stateFile, 'utf8'));
      const accessKeyId = state.ram.rootAccessKeyId as string;
      const accessKeySecret = state.ram.keys[accessKeyId].secret as string;
      const endpoints = {
        ALIBABA_CLOUD_ROS_ENDPOINT: info.endpoint,
        ALIBABA_CLOUD_ECS_ENDPOINT: info.endpoint,
        ALIBABA_CLOUD_ENDPOINT_PROTOCOL: 'http',
        ALIBABA_CLOUD_REGION_ID: 'cn-hangzhou',
      };
      // No terminal: a first deploy, which creates a role, needs --require-approval never.
      const fromEnv = await runChild(['deploy', '--require-approval', 'never'], {
        ...endpoints,
        ALIBABA_CLOUD_ACCESS_KEY_ID: accessKeyId,
        ALIBABA_CLOUD_ACCESS_KEY_SECRET: accessKeySecret,
      });
      expect(fromEnv.stderr).toBe('');
      expect(fromEnv.code).toBe(0);
      expect(fromEnv.stdout).toContain(`ros-deploy: using Alibaba Cloud at ${info.endpoint}\n`);
      expect(fromEnv.stdout).toContain('Deployed Chain (cn-hangzhou): CREATE_COMPLETE');

      fs.mkdirSync(path.join(home, '.aliyun'));
      fs.writeFileSync(
        path.join(home, '.aliyun', 'config.json'),
        JSON.stringify({
          current: 'default',
          profiles: [
            { name: 'default', mode: 'AK', access_key_id: 'LTAIunknown', access_key_secret: 'wrong' },
            { name: 'local', mode: 'AK', access_key_id: accessKeyId, access_key_secret: accessKeySecret },
          ],
        }),
      );
      const wrongKeys = await runChild(['outputs', 'Chain'], endpoints);
      expect(wrongKeys.code).toBe(2);
      expect(wrongKeys.stderr).toEqual(
        expect.stringMatching(
          /^ros-deploy: ListStacks failed: Specified access key is not found\. \(InvalidAccessKeyId\.NotFound, request id [\w-]+\)\n$/,
        ),
      );
      const fromProfile = await runChild(['destroy', 'Chain', '--profile', 'local', '--force'], endpoints);
      expect(fromProfile.code).toBe(0);
      expect(fromProfile.stdout).toContain(
        `ros-deploy: using Alibaba Cloud at ${info.endpoint} (profile local)\n`,
      );
      expect(fromProfile.stdout).toContain('Destroyed Chain (cn-hangzhou): DELETE_COMPLETE');
      for (const r of [fromEnv, wrongKeys, fromProfile]) {
        expect(r.stdout + r.stderr).not.toContain(accessKeySecret);
      }
    } finally {
      server.kill('SIGTERM');
      await new Promise((r) => server.once('close', r));
    }
  });

  it.each([
    [['deploy', '--bogus'], "Unknown option '--bogus'"],
    [['launch'], 'unknown command "launch"'],
    [['deploy', '--local', '--progress', 'fancy'], '--progress "fancy" is invalid: expected bar or events'],
    [
      ['deploy', '--local', '--timeout', '5'],
      '--timeout "5" is invalid: expected an integer from 10 to 1440',
    ],
    [
      ['deploy', '--local', '--parameters', 'Password'],
      '--parameters (value not shown: it may be a secret) is invalid: expected STACK:KEY=VALUE',
    ],
    [['outputs', '--local'], 'outputs takes exactly one STACK'],
    [
      ['deploy', '--require-approval', 'sometimes'],
      '--require-approval "sometimes" is invalid: expected never, broadening, any-change',
    ],
  ])('exits 2 with a message for bad usage: %j', async (args, message) => {
    writeApp(dir, { stacks: [{ name: 'Web', roles: { Runner: 'web-runner' } }] });
    const result = await run(args);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`ros-deploy: ${message}`);
    expect(result.stderr).toContain('Usage: ros-deploy <command>');
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(result.stderr.length).toBeLessThan(5000);
  });

  it('does not echo an absurd stack name at full length', async () => {
    writeApp(dir, { stacks: [{ name: 'Web', roles: { Runner: 'web-runner' } }] });
    const result = await run(['deploy', '--local', 'a'.repeat(100_000)]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      'ros-deploy: stack name "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa…" (100000 characters) is invalid: ' +
        'expected up to 255 letters, digits, _ or - (and * as a wildcard), starting with a letter or digit\n',
    );
    expect(result.stderr.length).toBeLessThan(5000);
  });

  it.each([
    [['deploy'], 'no region for stack Web: pass --region REGION'],
    [['destroy', '--local'], 'destroy: pass --force to delete Web without a terminal to confirm on'],
    [['deploy', '--local', 'Nope'], 'no stack matches "Nope" (stacks: Web)'],
  ])(
    'exits 2 with the message alone (no usage text) for a configuration problem: %j',
    async (args, message) => {
      writeApp(dir, { stacks: [{ name: 'Web', roles: { Runner: 'web-runner' } }] });
      const result = await run(args);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(message);
      expect(result.stderr).not.toContain('Usage:');
    },
  );

  it('says that an unknown --profile does not exist, listing the profiles there are', async () => {
    writeApp(dir, { stacks: [{ name: 'Web', roles: { Runner: 'web-runner' } }] });
    const none = await run(['deploy', '--profile', 'nope']);
    expect(none.code).toBe(2);
    expect(none.stderr).toBe(
      `ros-deploy: The aliyun CLI profile "nope" does not exist: there is no ${path.join(home, '.aliyun', 'config.json')}. ` +
        'Create it with `aliyun configure --profile nope`.\n',
    );
    fs.mkdirSync(path.join(home, '.aliyun'));
    fs.writeFileSync(
      path.join(home, '.aliyun', 'config.json'),
      JSON.stringify({
        current: 'dev',
        profiles: [
          {
            name: 'dev',
            mode: 'AK',
            access_key_id: 'LTAIx',
            access_key_secret: 'y',
            region_id: 'cn-beijing',
          },
          { name: 'prod', mode: 'AK', access_key_id: 'LTAIz', access_key_secret: 'w' },
        ],
      }),
    );
    const unknown = await run(['destroy', 'Web', '--profile', 'staging', '--force']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toBe(
      `ros-deploy: The aliyun CLI profile "staging" does not exist in ${path.join(home, '.aliyun', 'config.json')} ` +
        '(profiles there: dev, prod). Create it with `aliyun configure --profile staging`, or pass one of those.\n',
    );
  });

  it('exits 2 with what to do when the LocalCloud state file is broken', async () => {
    writeApp(dir, { stacks: [{ name: 'Web', roles: { Runner: 'web-runner' } }] });
    fs.mkdirSync(path.join(dir, '.ros-local'));
    fs.writeFileSync(path.join(dir, '.ros-local', 'state.json'), '[1, 2');
    const result = await run(['deploy', '--local']);
    expect(result.code).toBe(2);
    const stateFile = path.join(dir, '.ros-local', 'state.json');
    expect(
      result.stderr.startsWith(`ros-deploy: cannot start LocalCloud: LocalCloud state file ${stateFile} `),
    ).toBe(true);
    expect(result.stderr).toMatch(
      / cannot be used: it is not JSON \(.+\)\. It was left as it is: fix it, or delete it \(or choose another state file\) to start from a fresh cloud\.\n$/,
    );
    expect(fs.readFileSync(stateFile, 'utf8')).toBe('[1, 2');
  });

  it('exits 2 naming the problem when cdk.json is broken', async () => {
    fs.writeFileSync(path.join(dir, 'cdk.json'), '{bad');
    const broken = await run(['synth']);
    expect(broken.code).toBe(2);
    expect(broken.stderr).toMatch(/^ros-deploy: cdk.json is not valid JSON: /);
    fs.writeFileSync(path.join(dir, 'cdk.json'), '["node app.js"]');
    const notObject = await run(['deploy', '--local']);
    expect(notObject.code).toBe(2);
    expect(notObject.stderr).toContain(
      'ros-deploy: cdk.json must hold a JSON object, like {"app": "node app.js"}',
    );
  });

  it('exits 2 with the app output, shown once, when the app fails to synthesize', async () => {
    fs.writeFileSync(path.join(dir, 'fail.js'), "console.error('imageName is too long'); process.exit(3);\n");
    fs.writeFileSync(path.join(dir, 'cdk.json'), JSON.stringify({ app: 'node fail.js' }));
    const result = await run(['deploy', '--local']);
    expect(result.code).toBe(2);
    // The app's output streams as it comes; the failure line follows it and does not repeat it.
    expect(result.stderr.split('imageName is too long')).toHaveLength(2);
    expect(result.stderr.trimEnd()).toMatch(
      /imageName is too long\nros-deploy: The app `node fail.js` failed \(exit code 3\)\.$/,
    );
  });

  it('deploys two independent stacks in parallel with --concurrency 2', async () => {
    // Each stack's provider marks that it started, then waits for the other's mark: only a parallel deploy ends.
    const marks = { a: path.join(dir, 'a.started'), b: path.join(dir, 'b.started') };
    writeApp(dir, {
      stacks: [
        { name: 'East', gate: { mark: marks.a, gate: marks.b, functionName: 'east-provider' } },
        { name: 'West', gate: { mark: marks.b, gate: marks.a, functionName: 'west-provider' } },
      ],
    });
    const result = await run([
      'deploy',
      '--local',
      '--concurrency',
      '2',
      '--region',
      'West:cn-shanghai',
      '--json',
    ]);
    expect(result.code).toBe(0);
    const stacks = JSON.parse(result.stdout).stacks as { stackName: string }[];
    expect(stacks.sort((a, b) => a.stackName.localeCompare(b.stackName))).toEqual([
      expect.objectContaining({
        stackName: 'East',
        regionId: 'cn-hangzhou',
        status: 'CREATE_COMPLETE',
        outputs: {},
      }),
      expect.objectContaining({ stackName: 'West', regionId: 'cn-shanghai', status: 'CREATE_COMPLETE' }),
    ]);
  });

  it('prints events and heartbeats fit for CI logs while a resource takes its time', async () => {
    const gate = path.join(dir, 'open');
    writeApp(dir, {
      stacks: [
        { name: 'Slow', gate: { mark: path.join(dir, 'started'), gate, functionName: 'slow-provider' } },
      ],
    });
    const running = launch(dir, ['deploy', '--local'], {
      ...env,
      CI: 'true',
      ROS_DEPLOY_HEARTBEAT_SECONDS: '0.2',
    });
    await waitFor(() =>
      /Slow \| still CREATE_IN_PROGRESS after \d+s; in progress: Slow\/Gated \(Gated\)/.test(
        running.stdout(),
      ),
    );
    fs.writeFileSync(gate, '');
    const result = await running.done;
    expect(result.code).toBe(0);
    expect(result.stdout).not.toContain('\x1b[');
    expect(result.stdout).toMatch(
      /Slow \| \d\d:\d\d:\d\d \| CREATE_COMPLETE +\| ALIYUN::ROS::CustomResource \| Slow\/Gated \(Gated\)/,
    );
  });

  it('stops on Ctrl-C with a message (exit 1), and the stack can be destroyed afterwards', async () => {
    const mark = path.join(dir, 'started');
    const gate = path.join(dir, 'open');
    writeApp(dir, { stacks: [{ name: 'Slow', gate: { mark, gate, functionName: 'slow-fn' } }] });
    const running = start(dir, ['deploy', '--local'], env);
    await waitFor(() => fs.existsSync(mark));
    running.child.kill('SIGINT');
    const result = await running.done;
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      'ros-deploy: Stopped: the embedded LocalCloud stops with ros-deploy, so the create of Slow (cn-hangzhou) ends ' +
        'as failed (marked so when LocalCloud next starts); what its resources had started goes on in LocalCloud ' +
        '(an image copy runs to its end). To clean up, run `ros-deploy destroy Slow --local` to delete Slow and what ' +
        'it made, then deploy again.\n',
    );
    fs.writeFileSync(gate, ''); // the provider answers the Delete at once
    const destroyed = await run(['destroy', '--local', '--force']);
    expect(destroyed.code).toBe(0);
    expect(destroyed.stdout).toContain('Destroyed Slow (cn-hangzhou): DELETE_COMPLETE');
  });

  it('refuses to deploy a stack while another run is still deploying it', async () => {
    const gate = path.join(dir, 'open');
    const mark = path.join(dir, 'started');
    writeApp(dir, { stacks: [{ name: 'Slow', gate: { mark, gate, functionName: 'slow-provider' } }] });
    const server = spawn(process.execPath, [cliPath('ros-local'), 'start'], {
      cwd: dir,
      env,
      stdio: 'ignore',
    });
    try {
      await waitFor(() => findRunningServer(path.join(dir, '.ros-local')));
      const first = launch(dir, ['deploy', '--local'], env);
      await waitFor(() => fs.existsSync(mark));
      const second = await run(['deploy', '--local']);
      expect(second.code).toBe(1);
      expect(second.stdout).toMatch(
        /ros-deploy: using LocalCloud served by ros-local at 127\.0\.0\.1:\d+ \(pid \d+\)/,
      );
      expect(second.stderr).toContain(
        'ros-deploy: Stack Slow is busy (CREATE_IN_PROGRESS): another operation is in progress.',
      );
      fs.writeFileSync(gate, '');
      expect((await first.done).code).toBe(0);
    } finally {
      server.kill('SIGTERM');
      await new Promise((r) => server.once('close', r));
    }
  });

  it('runs deploys and destroys at once one after the other on the embedded LocalCloud: none is lost or undone', async () => {
    const gate = path.join(dir, 'open');
    const mark = path.join(dir, 'started');
    writeApp(dir, {
      stacks: [
        { name: 'Slow', gate: { mark, gate, functionName: 'slow-provider' } },
        { name: 'Quick', roles: { R: 'quick-r' } },
        { name: 'Other', roles: { R: 'other-r' } },
      ],
    });
    expect((await run(['deploy', 'Quick', '--local'])).code).toBe(0);
    const first = start(dir, ['deploy', 'Slow', '--local'], env);
    try {
      await waitFor(() => fs.existsSync(mark));
      const deploy = start(dir, ['deploy', 'Other', '--local'], env);
      const destroy = start(dir, ['destroy', 'Quick', '--local', '--force'], env);
      for (const waiting of [deploy, destroy]) {
        await waitFor(() => waiting.stdout().includes('ros-deploy: waiting for'));
        expect(waiting.stdout()).toMatch(
          /ros-deploy: waiting for ros-deploy --local \(\.ros-local\/state\.json\) \(pid \d+, since [\dT:.Z-]+\) to finish: one LocalCloud at a time may use \.ros-local\/state\.json\n/,
        );
      }
      fs.writeFileSync(gate, '');
      expect((await first.done).code).toBe(0);
      const [deployed, destroyed] = await Promise.all([deploy.done, destroy.done]);
      expect([deployed.code, destroyed.code]).toEqual([0, 0]);
      expect(deployed.stdout).toContain('Deployed Other (cn-hangzhou): CREATE_COMPLETE');
      expect(destroyed.stdout).toContain('Destroyed Quick (cn-hangzhou): DELETE_COMPLETE');
      const state = JSON.parse(fs.readFileSync(path.join(dir, '.ros-local', 'state.json'), 'utf8'));
      expect(
        Object.values(state.ros.stacks as Record<string, { stackName: string; status: string }>)
          .map((s) => `${s.stackName} ${s.status}`)
          .sort(),
      ).toEqual(['Other CREATE_COMPLETE', 'Quick DELETE_COMPLETE', 'Slow CREATE_COMPLETE']);
    } finally {
      fs.writeFileSync(gate, '');
    }
  });

  it('takes over the state file of a run that was killed (SIGKILL), and ros-local refuses while a run holds it', async () => {
    const gate = path.join(dir, 'open');
    const mark = path.join(dir, 'started');
    writeApp(dir, {
      stacks: [
        { name: 'Slow', gate: { mark, gate, functionName: 'killed-provider' } },
        { name: 'Quick', roles: { R: 'after-kill-r' } },
      ],
    });
    try {
      const held = start(dir, ['deploy', 'Slow', '--local'], env);
      await waitFor(() => fs.existsSync(mark));
      const server = spawn(process.execPath, [cliPath('ros-local'), 'start'], { cwd: dir, env });
      let serverErr = '';
      server.stderr!.on('data', (c: Buffer) => (serverErr += c.toString()));
      const serverCode = await new Promise((r) => server.once('close', r));
      expect(serverCode).toBe(2);
      expect(serverErr).toMatch(
        /^ros-local: the state file \S+state\.json is in use by ros-deploy --local \(\.ros-local\/state\.json\) \(pid \d+, since \S+\): one LocalCloud at a time may use a state file\. Start ros-local once it has finished/,
      );

      held.child.kill('SIGKILL');
      await held.done;
      expect(fs.existsSync(path.join(dir, '.ros-local', 'state.json.lock'))).toBe(true);
      const after = await run(['deploy', 'Quick', '--local']);
      expect(after.code).toBe(0);
      expect(after.stdout).not.toContain('waiting for');
      expect(after.stdout).toContain('Deployed Quick (cn-hangzhou): CREATE_COMPLETE');
    } finally {
      fs.writeFileSync(gate, ''); // the killed run's function process exits once the gate opens
    }
  });

  it('rides out throttling, 503s and a dropped connection injected by ros-local --faults, creating the stack once', async () => {
    writeApp(dir, { stacks: [{ name: 'Bumpy', roles: { A: 'bumpy-a', B: 'bumpy-b' } }] });
    const plan = {
      seed: 3,
      rules: [
        {
          kind: 'throttle',
          product: 'ros',
          action: ['GetStack', 'ListStackEvents'],
          every: 2,
          retryAfterMs: 50,
        },
        { kind: 'error503', product: 'ros', action: 'ListStacks', first: 2 },
        { kind: 'reset', product: 'ros', action: 'CreateStack', first: 1 },
      ],
    };
    fs.writeFileSync(path.join(dir, 'faults.json'), JSON.stringify(plan));
    const server = spawn(process.execPath, [cliPath('ros-local'), 'start', '--faults', 'faults.json'], {
      cwd: dir,
      env,
      stdio: 'ignore',
    });
    try {
      await waitFor(() => findRunningServer(path.join(dir, '.ros-local')));
      const result = await run(['deploy', '--local', '--progress', 'events', '--json']);
      expect(result.code).toBe(0);
      expect(JSON.parse(result.stdout).stacks[0]).toMatchObject({ status: 'CREATE_COMPLETE', success: true });
      expect(result.stderr).toMatch(/Bumpy \| ListStacks: ServiceUnavailable, retrying in \d+s/);
      expect(result.stderr).toMatch(/Bumpy \| CreateStack: .+, retrying in \d+s/);
      expect(result.stderr).toMatch(
        /Bumpy \| (GetStack|ListStackEvents): Throttling[.\w]*, retrying in \d+s/,
      );
      const events = await run(['events', 'Bumpy', '--local', '--json']);
      expect(
        JSON.parse(events.stdout).events.filter((e: { status: string }) => e.status === 'CREATE_IN_PROGRESS'),
      ).toHaveLength(3);
      const state = JSON.parse(fs.readFileSync(path.join(dir, '.ros-local', 'state.json'), 'utf8'));
      expect(
        Object.values(state.ros.stacks).filter((s) => (s as { stackName: string }).stackName === 'Bumpy'),
      ).toHaveLength(1);
    } finally {
      server.kill('SIGTERM');
      await new Promise((r) => server.once('close', r));
    }
  });

  it('never prints a NoEcho parameter value or the access key secret', async () => {
    const secret = 'S3cret-Value-42';
    writeApp(dir, { stacks: [{ name: 'Vault', secretRole: true }] });
    const results = [
      await run(['deploy', '--local', '--parameters', `Vault:Password=${secret}`, '--progress', 'events']),
      await run(['deploy', '--local', '--parameters', `Password=${secret}`, '--json']),
      await run(['events', 'Vault', '--local', '--json']),
      await run(['deploy', '--local', '--parameters', `Vault:Password${secret}`]),
    ];
    expect(results.map((r) => r.code)).toEqual([1, 1, 0, 2]);
    const state = JSON.parse(fs.readFileSync(path.join(dir, '.ros-local', 'state.json'), 'utf8'));
    const accessKeySecret = state.ram.keys[state.ram.rootAccessKeyId].secret as string;
    for (const r of results) {
      expect(r.stdout + r.stderr).not.toContain(secret);
      expect(r.stdout + r.stderr).not.toContain(accessKeySecret);
    }
    expect(results[0].stdout).toContain(
      'Vault/Secretive (Secretive) ALIYUN::RAM::Role CREATE_FAILED: RoleName "x ****" is invalid',
    );
  });
});

describe('ros-deploy main (in process)', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ros-deploy-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** A terminal's IO (80 columns), waits on a compressed clock. */
  function io(cwd: string, overrides: Partial<CliIo> = {}) {
    const captured = captureIo(cwd, { clock: new CompressedClock(), ...overrides });
    const value: CliIo = {
      ...captured.io,
      stdout: { write: (s: string) => captured.io.stdout.write(s), isTTY: true, columns: 80 },
    };
    return { value, out: captured.out, err: captured.err };
  }

  it('synthesizes: a named stack prints its template (YAML, or JSON), otherwise a summary; list --json', async () => {
    writeApp(dir, {
      stacks: [
        { name: 'One', roles: { R: 'synth-one' } },
        { name: 'Two', dependsOn: ['One'] },
      ],
    });
    const all = io(dir);
    expect(await main(['synth'], all.value)).toBe(0);
    expect(all.out()).toBe('Synthesized 2 stack(s) to cdk.out: One, Two\n');
    const yaml = io(dir);
    expect(await main(['synth', 'One'], yaml.value)).toBe(0);
    expect(yaml.out()).toContain('Resources:\n  R:\n    Type: ALIYUN::RAM::Role\n');
    const json = io(dir);
    expect(await main(['synth', 'One', '--json'], json.value)).toBe(0);
    expect(JSON.parse(json.out()).Resources.R.Properties.RoleName).toBe('synth-one');
    const list = io(dir);
    expect(await main(['list', '--json'], list.value)).toBe(0);
    expect(JSON.parse(list.out())).toEqual([
      { stackName: 'One', dependencies: [] },
      { stackName: 'Two', dependencies: ['One'] },
    ]);
    expect(fs.existsSync(path.join(dir, '.ros-local'))).toBe(false);
  });

  it('warns at synth about a template over ROS limit, naming the stack, its size and what to do', async () => {
    writeApp(dir, {
      stacks: [
        { name: 'Huge', bulk: { roles: 100, descriptionLength: 6000 } },
        { name: 'Small', roles: { R: 'small-r' } },
      ],
    });
    const synth = io(dir);
    expect(await main(['synth'], synth.value)).toBe(0);
    expect(synth.err()).toMatch(
      /^ros-deploy: warning: The template of stack Huge is [\d,]+ bytes \(JSON without indentation\), over ROS's limit of 524,288 bytes for a template: CreateStack and UpdateStack will refuse it\. Split the stack/,
    );
    expect(synth.err().split('\n').filter(Boolean)).toHaveLength(1);
    const deploy = io(dir);
    expect(await main(['deploy', 'Huge', '--local'], deploy.value)).toBe(2);
    expect(deploy.err()).toContain('ROS accepts at most 524288 bytes in TemplateBody.');
  });

  it('skips a stack whose dependency failed, and reports both as failed', async () => {
    writeApp(dir, {
      stacks: [
        { name: 'Base', roles: { R: 'skip base' } },
        { name: 'App', roles: { R: 'skip-app' }, dependsOn: ['Base'] },
      ],
    });
    const deploy = io(dir);
    expect(await main(['deploy', '--local', '--progress', 'events'], deploy.value)).toBe(1);
    expect(deploy.out()).toContain('FAILED App (cn-hangzhou): SKIPPED: not attempted because Base failed\n');
    expect(deploy.out()).toContain('FAILED Base (cn-hangzhou): CREATE_ROLLBACK_COMPLETE');
    expect(deploy.out()).not.toContain('App | create started');
  });

  it('deploys the stacks a named stack depends on first, destroys the ones that depend on it first; -e only the named', async () => {
    writeApp(dir, {
      stacks: [
        { name: 'Network', roles: { R: 'deps-network' } },
        { name: 'Base', roles: { R: 'deps-base' }, dependsOn: ['Network'] },
        { name: 'App', roles: { R: 'deps-app' }, dependsOn: ['Base'] },
        { name: 'Other', roles: { R: 'deps-other' } },
      ],
    });
    const deployed = io(dir);
    expect(await main(['deploy', 'App', '--local', '--progress', 'events'], deployed.value)).toBe(0);
    expect(deployed.out()).toContain(
      'ros-deploy: including the stacks they depend on: Network, Base (-e, --exclusively for the named stacks only)\n',
    );
    const order = [...deployed.out().matchAll(/^Deployed (\w+) /gm)].map((m) => m[1]);
    expect(order).toEqual(['Network', 'Base', 'App']);

    const destroyed = io(dir);
    expect(
      await main(['destroy', 'Base', '--local', '--force', '--progress', 'events'], destroyed.value),
    ).toBe(0);
    expect([...destroyed.out().matchAll(/^Destroyed (\w+) /gm)].map((m) => m[1])).toEqual(['App', 'Base']);

    const exclusive = io(dir);
    expect(await main(['deploy', 'App', '-e', '--local', '--json'], exclusive.value)).toBe(0);
    expect(JSON.parse(exclusive.out()).stacks.map((r: { stackName: string }) => r.stackName)).toEqual([
      'App',
    ]);
    const onlyNamed = io(dir);
    expect(
      await main(['destroy', 'Network', '--exclusively', '--local', '--force', '--json'], onlyNamed.value),
    ).toBe(0);
    expect(JSON.parse(onlyNamed.out()).stacks.map((r: { stackName: string }) => r.stackName)).toEqual([
      'Network',
    ]);
    const rest = io(dir);
    expect(await main(['destroy', '--local', '--force'], rest.value)).toBe(0);
  });

  it('destroys a stack that is no longer in the app, finding it by name', async () => {
    writeApp(dir, { stacks: [{ name: 'Legacy', roles: { R: 'legacy-r' } }] });
    expect(await main(['deploy', '--local'], io(dir).value)).toBe(0);
    writeApp(dir, { stacks: [{ name: 'Current', roles: { R: 'current-r' } }] });
    const destroyed = io(dir);
    expect(await main(['destroy', 'Legacy', '--local', '--force'], destroyed.value)).toBe(0);
    expect(destroyed.out()).toContain('Destroyed Legacy (cn-hangzhou): DELETE_COMPLETE');
    // A pattern still has to match a stack of the app.
    const pattern = io(dir);
    expect(await main(['destroy', 'Leg*', '--local', '--force'], pattern.value)).toBe(2);
    expect(pattern.err()).toBe('ros-deploy: no stack matches "Leg*" (stacks: Current)\n');
  });

  it('draws a progress bar on a terminal, asks before destroying, and lists stacks', async () => {
    const spec: AppSpec = {
      stacks: [
        { name: 'Base', roles: { R: 'bar-base' } },
        { name: 'App', roles: { R: 'bar-app' }, dependsOn: ['Base'] },
      ],
    };
    writeApp(dir, spec);
    const listing = io(dir);
    expect(await main(['list'], listing.value)).toBe(0);
    expect(listing.out()).toBe('Base\nApp (after Base)\n');

    const deploy = io(dir);
    expect(await main(['deploy', '--local'], deploy.value)).toBe(0);
    expect(deploy.out()).toContain('[####################] 1/1 CREATE_COMPLETE');
    expect(deploy.out()).toContain('\x1b[');
    expect(deploy.out()).toMatch(/Deployed Base .*\n[\s\S]*Deployed App /);

    const declined = io(dir, { confirm: async () => false });
    expect(await main(['destroy', '--local'], declined.value)).toBe(1);
    expect(declined.err()).toContain('nothing destroyed');
    let asked = '';
    const confirmed = io(dir, { confirm: async (q) => ((asked = q), true) });
    expect(await main(['destroy', '--local'], confirmed.value)).toBe(0);
    expect(asked).toBe('Delete Base (cn-hangzhou), App (cn-hangzhou) and all their resources? (y/N) ');
    // Dependents first: App is destroyed before Base.
    expect(confirmed.out().indexOf('Destroyed App')).toBeLessThan(confirmed.out().indexOf('Destroyed Base'));
    expect(confirmed.out()).toContain('Destroyed Base (cn-hangzhou): DELETE_COMPLETE');
  });
});

describe('ros-deploy init and --version', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ros-deploy-init-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
  const manifest = JSON.parse(fs.readFileSync(path.join(packageRoot(), 'package.json'), 'utf8'));

  it('prints the version of the package with --version, ros-deploy and ros-local alike', async () => {
    const deploy = captureIo(dir);
    expect(await main(['--version'], deploy.io)).toBe(0);
    expect(deploy.out()).toBe(`${manifest.version}\n`);
    const local = captureIo(dir);
    expect(await localMain(['--version'], local.io)).toBe(0);
    expect(local.out()).toBe(`${manifest.version}\n`);
  });

  it('writes a TypeScript app whose dependencies are this package and the versions it is tested with', async () => {
    const target = path.join(dir, 'my-images');
    const init = captureIo(dir);
    expect(await main(['init', 'my-images'], init.io)).toBe(0);
    expect(init.out()).toContain('Wrote a TypeScript app with the stack MyImages into my-images:');
    expect(init.out()).toContain(
      '  cd my-images\n  npm install\n  npm test\n  npx ros-deploy deploy --local\n',
    );
    expect(fs.readdirSync(target).sort()).toEqual(
      [
        '.gitignore',
        'README.md',
        'bin',
        'cdk.json',
        'jest.config.js',
        'lib',
        'package.json',
        'register-ts.js',
        'test',
        'tsconfig.json',
      ].sort(),
    );
    const app = JSON.parse(fs.readFileSync(path.join(target, 'package.json'), 'utf8'));
    expect(app.name).toBe('my-images');
    expect(app.dependencies).toEqual({
      'ros-cdk-image-copy': `^${manifest.version}`,
      ...Object.fromEntries(
        Object.keys(manifest.peerDependencies).map((p) => [p, manifest.devDependencies[p]]),
      ),
    });
    for (const tool of ['typescript', 'jest', 'ts-jest', '@types/jest', '@types/node']) {
      expect(app.devDependencies[tool]).toBe(manifest.devDependencies[tool]);
    }
    expect(JSON.parse(fs.readFileSync(path.join(target, 'cdk.json'), 'utf8'))).toEqual({
      app: 'node --require ./register-ts.js bin/app.ts',
    });
    const source = fs.readFileSync(path.join(target, 'bin', 'app.ts'), 'utf8');
    expect(source).toContain("new ImageCopyStack(app, 'MyImages', {");
    // LocalCloud's seeded image, so `deploy --local` works as written.
    const seeded = SEEDED_IMAGES.find((i) => i.imageId === 'm-bp1seedgoldenimage01');
    expect(seeded).toMatchObject({ regionId: 'cn-hangzhou' });
    expect(source).toContain("?? 'm-bp1seedgoldenimage01'");
  });

  it('refuses a directory that is not empty unless --force, naming what is there', async () => {
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'mine');
    const refused = captureIo(dir);
    expect(await main(['init'], refused.io)).toBe(2);
    expect(refused.err()).toBe(
      `ros-deploy: ${dir} is not empty (notes.txt): a new app is written into an empty directory; pass --force to ` +
        'write into it anyway (files of the same names are replaced)\n',
    );
    expect(fs.readdirSync(dir)).toEqual(['notes.txt']);
    const forced = captureIo(dir);
    expect(await main(['init', '--force', '--json'], forced.io)).toBe(0);
    expect(JSON.parse(forced.out())).toMatchObject({ stackName: expect.stringMatching(/^RosDeployInit/) });
    expect(fs.readFileSync(path.join(dir, 'notes.txt'), 'utf8')).toBe('mine');
    expect(fs.existsSync(path.join(dir, 'lib', 'image-copy-stack.ts'))).toBe(true);
  });
});

/**
 * --require-approval against a cloud that is not LocalCloud to ros-deploy: a LocalCloud reached through the endpoint
 * variables, with its keys in this process's environment (where the default credential chain reads them).
 */
describe('deploy --require-approval', () => {
  let cloud: LocalCloud;
  let dir: string;
  const saved = { ...process.env };
  beforeAll(async () => {
    cloud = await LocalCloud.start();
    process.env.ALIBABA_CLOUD_ACCESS_KEY_ID = cloud.credentials.accessKeyId;
    process.env.ALIBABA_CLOUD_ACCESS_KEY_SECRET = cloud.credentials.accessKeySecret;
  });
  afterAll(async () => {
    for (const key of Object.keys(process.env)) {
      if (!(key in saved)) {
        delete process.env[key];
      }
    }
    Object.assign(process.env, saved);
    await cloud.stop();
  });
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ros-deploy-approval-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** IO towards the cloud, a terminal's when `confirm` is given (it records the questions). */
  function cloudIo(confirm?: (question: string) => Promise<boolean>, env: Record<string, string> = {}) {
    return captureIo(dir, {
      clock: new CompressedClock(),
      confirm,
      env: {
        ...captureIo(dir).io.env,
        ALIBABA_CLOUD_ROS_ENDPOINT: cloud.endpoint,
        ALIBABA_CLOUD_ECS_ENDPOINT: cloud.endpoint,
        ALIBABA_CLOUD_ENDPOINT_PROTOCOL: 'http',
        ALIBABA_CLOUD_REGION_ID: 'cn-hangzhou',
        ...env,
      },
    });
  }
  const live = (name: string) =>
    cloud.ros.stacks('cn-hangzhou').filter((s) => s.stackName === name && s.status !== 'DELETE_COMPLETE');
  const never = (question: string): Promise<boolean> => {
    throw new Error(`asked: ${question}`);
  };

  it('fails without a terminal, or in CI, with exit 2 naming what needs approval, and deploys nothing', async () => {
    writeApp(dir, { stacks: [{ name: 'Guarded', roles: { Runner: 'guarded-runner' } }] });
    const headless = cloudIo();
    expect(await main(['deploy'], headless.io)).toBe(2);
    expect(headless.err()).toBe(
      'ros-deploy: deploy: these changes need approval (--require-approval broadening), and there is no terminal ' +
        'to ask on:\n' +
        '  Guarded: Guarded/Roles/Runner (Runner): broadens permissions: trust Service fc.aliyuncs.com\n' +
        'Deploy on a terminal to approve them, or pass --require-approval never\n',
    );
    const ci = cloudIo(never, { CI: 'true' });
    expect(await main(['deploy'], ci.io)).toBe(2);
    expect(ci.err()).toContain('and there is no terminal to ask on (CI):\n');
    expect(live('Guarded')).toEqual([]);
  });

  it('asks on a terminal: an answer of no deploys nothing (exit 1), yes deploys', async () => {
    writeApp(dir, { stacks: [{ name: 'Asked', roles: { Runner: 'asked-runner' } }] });
    const questions: string[] = [];
    const declined = cloudIo(async (q) => (questions.push(q), false));
    expect(await main(['deploy'], declined.io)).toBe(1);
    expect(declined.out()).toContain(
      'These changes need approval (--require-approval broadening):\n' +
        '  Asked: Asked/Roles/Runner (Runner): broadens permissions: trust Service fc.aliyuncs.com\n',
    );
    expect(declined.err()).toBe('ros-deploy: nothing deployed.\n');
    expect(live('Asked')).toEqual([]);
    const accepted = cloudIo(async (q) => (questions.push(q), true));
    expect(await main(['deploy'], accepted.io)).toBe(0);
    expect(accepted.out()).toContain('Deployed Asked (cn-hangzhou): CREATE_COMPLETE');
    expect(questions).toEqual(['Deploy these changes? (y/N) ', 'Deploy these changes? (y/N) ']);
  });

  it("asks after showing ROS's change set: no deletes it and deploys nothing, yes executes it", async () => {
    writeApp(dir, { stacks: [{ name: 'Staged', roles: { Runner: 'staged-runner' } }] });
    const declined = cloudIo(async () => false);
    expect(await main(['deploy', '--method', 'change-set'], declined.io)).toBe(1);
    expect(declined.out()).toContain('[+] ALIYUN::RAM::Role Runner (Staged/Roles/Runner)\n');
    expect(declined.out()).toContain(
      '  Staged: Staged/Roles/Runner (Runner): broadens permissions: trust Service fc.aliyuncs.com\n',
    );
    expect(declined.err()).toBe('ros-deploy: nothing deployed; the change sets were deleted.\n');
    expect(live('Staged')).toEqual([]);
    const headless = cloudIo();
    expect(await main(['deploy', '--method', 'change-set'], headless.io)).toBe(2);
    expect(live('Staged')).toEqual([]);
    const accepted = cloudIo(async () => true);
    expect(await main(['deploy', '--method', 'change-set'], accepted.io)).toBe(0);
    expect(accepted.out()).toContain('Deployed Staged (cn-hangzhou): CREATE_COMPLETE');
    expect(live('Staged').map((s) => s.status)).toEqual(['CREATE_COMPLETE']);
  });

  it('never asks with never, for a change that does not broaden, or on LocalCloud; any-change asks for any change', async () => {
    writeApp(dir, { stacks: [{ name: 'Calm', roles: { Runner: 'calm-runner', Helper: 'calm-helper' } }] });
    expect(await main(['deploy', '--require-approval', 'never'], cloudIo().io)).toBe(0);
    // Removing a role narrows permissions: no question at the default level.
    writeApp(dir, { stacks: [{ name: 'Calm', roles: { Runner: 'calm-runner' } }] });
    expect(await main(['deploy'], cloudIo(never).io)).toBe(0);
    writeApp(dir, {
      stacks: [{ name: 'Calm', roles: { Runner: 'calm-runner' }, parameters: { Env: 'dev' } }],
    });
    const questions: string[] = [];
    const strict = cloudIo(async (q) => (questions.push(q), false));
    expect(await main(['deploy', '--require-approval', 'any-change'], strict.io)).toBe(1);
    expect(strict.out()).toContain('  Calm: Env: adds parameter\n');
    expect(await main(['deploy'], cloudIo(never).io)).toBe(0);
    expect(live('Calm')[0].status).toBe('UPDATE_COMPLETE');
    // LocalCloud never asks, whatever the level: the README's `deploy --local` runs without a terminal.
    const local = captureIo(dir, { clock: new CompressedClock() });
    expect(await main(['deploy', '--local', '--require-approval', 'any-change'], local.io)).toBe(0);
    expect(local.out()).toContain('Deployed Calm (cn-hangzhou): CREATE_COMPLETE');
  });
});

describe('ROS change sets: deploy --method change-set | prepare-change-set, diff --change-set (LocalCloud)', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ros-deploy-change-set-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
  const run = async (args: string[], env: Record<string, string> = {}) => {
    const captured = captureIo(dir, {
      clock: new CompressedClock(),
      env: { ...captureIo(dir).io.env, ...env },
    });
    const code = await main(args, captured.io);
    return { code, stdout: captured.out(), stderr: captured.err() };
  };
  /** The stacks and change sets in the state file. */
  const state = () => JSON.parse(fs.readFileSync(path.join(dir, '.ros-local', 'state.json'), 'utf8'));
  const stacks = () =>
    Object.values(state().ros.stacks as Record<string, { stackName: string; status: string }>).map(
      (s) => `${s.stackName} ${s.status}`,
    );
  const changeSets = () =>
    Object.values((state().rosChangeSets?.changeSets ?? {}) as Record<string, { changeSetName: string }>);

  it("shows ROS's view of a new stack and leaves nothing behind; deploys through change sets, create then update", async () => {
    writeApp(dir, { stacks: [{ name: 'Web', roles: { Runner: 'cs-runner' } }] });
    const preview = await run(['diff', '--change-set', '--local', '--fail']);
    expect(preview.code).toBe(1);
    expect(preview.stdout).toMatch(
      /\nStack Web: change set ros-deploy-\d{8}T\d{6}Z-[0-9a-f]{8} \(CREATE, [0-9a-f-]{36}\), as ROS lists its changes\n\[\+\] ALIYUN::RAM::Role Runner \(Web\/Roles\/Runner\)\n$/,
    );
    expect(stacks()).toEqual(['Web DELETE_COMPLETE']);
    expect(changeSets()).toEqual([]);

    const created = await run(['deploy', '--method', 'change-set', '--local']);
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    expect(created.stdout).toContain('[+] ALIYUN::RAM::Role Runner (Web/Roles/Runner)\n');
    expect(created.stdout).toContain(
      'Deployed Web (cn-hangzhou): CREATE_COMPLETE\nOutputs:\n  Web.RunnerArn = ',
    );

    writeApp(dir, { stacks: [{ name: 'Web', roles: { Runner: 'cs-runner-renamed', Worker: 'cs-worker' } }] });
    const renamed = await run(['diff', '--change-set', '--local']);
    expect(renamed.stderr).toBe('');
    expect(renamed.stdout).toContain(
      '[-/+] ALIYUN::RAM::Role Runner (Web/Roles/Runner) Replacement: True\n' +
        '    └─ Properties.RoleName (DirectModification, requires recreation: Always)\n',
    );
    writeApp(dir, { stacks: [{ name: 'Web', roles: { Runner: 'cs-runner', Worker: 'cs-worker' } }] });
    const updated = await run(['deploy', '--method', 'change-set', '--local', '--json']);
    expect(updated.code).toBe(0);
    expect(updated.stderr).toMatch(/change set ros-deploy-[\w-]+ \(UPDATE, [0-9a-f-]{36}\)/);
    expect(updated.stderr).toContain('[+] ALIYUN::RAM::Role Worker (Web/Roles/Worker)\n');
    expect(JSON.parse(updated.stdout).stacks[0]).toMatchObject({
      operation: 'update',
      status: 'UPDATE_COMPLETE',
      outputs: { WorkerArn: expect.any(String) },
    });
  });

  it.each(['failed', 'refused'])(
    'finds no changes when there are none, whether ROS fails such a change set or refuses it (changeSetWithoutChanges=%s)',
    async (variant) => {
      const env = { ROS_LOCAL_VARIANTS: `changeSetWithoutChanges=${variant}` };
      writeApp(dir, { stacks: [{ name: 'Same', roles: { Runner: 'same-runner' } }] });
      expect((await run(['deploy', '--local'], env)).code).toBe(0);
      const again = await run(['deploy', '--method', 'change-set', '--local'], env);
      expect(again.code).toBe(0);
      expect(again.stdout).toContain('There were no changes\n');
      expect(again.stdout).toContain('Deployed Same (cn-hangzhou): no changes');
      const diff = await run(['diff', '--change-set', '--local', '--fail'], env);
      expect(diff.code).toBe(0);
      expect(changeSets()).toEqual([]);
    },
  );

  it('prepares a change set for review and stops: the stack is not changed', async () => {
    writeApp(dir, { stacks: [{ name: 'Review', roles: { Runner: 'review-runner' } }] });
    expect((await run(['deploy', '--local'])).code).toBe(0);
    writeApp(dir, {
      stacks: [{ name: 'Review', roles: { Runner: 'review-runner', Worker: 'review-worker' } }],
    });
    const prepared = await run(['deploy', '--method', 'prepare-change-set', '--local']);
    expect(prepared.code).toBe(0);
    expect(prepared.stdout).toMatch(
      /Prepared change set ros-deploy-[\w-]+ \([0-9a-f-]{36}\) of stack Review \(cn-hangzhou\): review and execute it in the ROS console, or delete it there\n$/,
    );
    expect(prepared.stdout).not.toContain('Deployed');
    expect(changeSets()).toEqual([
      expect.objectContaining({ changeSetName: expect.stringMatching(/^ros-deploy-/) }),
    ]);
    expect(stacks()).toEqual(['Review CREATE_COMPLETE']);
  });

  it('treats a stack prepared by a CREATE change set as not deployed: diff shows it all as added, deploy says what to do', async () => {
    writeApp(dir, { stacks: [{ name: 'Pending', roles: { Runner: 'pending-runner' } }] });
    expect((await run(['deploy', '--method', 'prepare-change-set', '--local'])).code).toBe(0);
    expect(stacks()).toEqual(['Pending REVIEW_IN_PROGRESS']);
    const diff = await run(['diff', '--local']);
    expect(diff.stdout).toContain('Stack Pending (not deployed yet)\n');
    expect(diff.stdout).toContain('[+] ALIYUN::RAM::Role Runner (Pending/Roles/Runner)\n');
    const deploy = await run(['deploy', '--local']);
    expect(deploy.code).toBe(1);
    expect(deploy.stderr).toBe(
      'ros-deploy: Stack Pending is REVIEW_IN_PROGRESS: a change set that creates it waits for review. Execute it ' +
        '(in the ROS console), or destroy the stack (`ros-deploy destroy Pending`), then deploy again.\n',
    );
  });

  it('only looks with diff --change-set: a stack whose first create was rolled back is refused, not deleted', async () => {
    writeApp(dir, { stacks: [{ name: 'Failed', roles: { Bad: 'not valid' } }] });
    expect((await run(['deploy', '--local'])).code).toBe(1);
    expect(stacks()).toEqual(['Failed CREATE_ROLLBACK_COMPLETE']);
    const looked = await run(['diff', '--change-set', '--local']);
    expect(looked.code).toBe(1);
    expect(looked.stderr).toBe(
      'ros-deploy: Stack Failed is CREATE_ROLLBACK_COMPLETE (its first create failed): a deploy deletes it and ' +
        'creates it anew, and ROS makes no change set for it until then.\n',
    );
    expect(stacks()).toEqual(['Failed CREATE_ROLLBACK_COMPLETE']);
  });

  it('exits 2 for an unknown --method', async () => {
    writeApp(dir, { stacks: [{ name: 'Web', roles: { Runner: 'method-runner' } }] });
    const result = await run(['deploy', '--local', '--method', 'carefully']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      'ros-deploy: --method "carefully" is invalid: expected direct, change-set, prepare-change-set',
    );
  });
});
