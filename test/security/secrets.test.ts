/**
 * No secret leaks. Lifecycles run through the bundled handler in LocalCloud's Function Compute and through
 * `ros-deploy --local` in each output mode (a progress bar on a terminal, events, --json); then the handler's logs,
 * its answers, the CLI's stdout and stderr and the synthesized templates are searched for every access key secret
 * and security token LocalCloud issued, the root key's secret, the user's own environment credentials, and the
 * signature of every response URL ROS handed out. None may appear.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { main, type CliIo } from '../../lib/cli/ros-deploy';
import { removeServerInfo, writeServerInfo } from '../../lib/local/discovery';
import { LocalCloud } from '../../lib/local';
import { handlerZipPath, packageRoot } from '../../lib/package-root';
import { HANDLER_ZIP_ENVIRONMENT_VARIABLE } from '../../lib/provider';
import { cliPath } from '../cli-paths';
import {
  DESTINATION_REGION,
  eventFor,
  type Harness,
  invokeAsync,
  logsOf,
  MEDIUM_SIZE_GIB,
  newResource,
  putSource,
  ROLE_NAME,
  run,
  SOURCE_REGION,
  startHarness,
  stepsOf,
  answered,
  invocationsOf,
} from '../handler/harness';
import { unique } from '../support/names';
import type { Callback } from '../../lib/local';

/** Every secret LocalCloud's RAM has issued so far: the root key's secret, role secrets and security tokens. */
function issuedSecrets(cloud: LocalCloud): { roleSecrets: string[]; tokens: string[]; root: string } {
  const ram = cloud.state.section<{
    keys: Record<string, { secret: string; kind: string; securityToken?: string }>;
  }>('ram', () => {
    throw new Error('LocalCloud has no RAM state');
  });
  const roleKeys = Object.values(ram.keys).filter((key) => key.kind === 'role');
  return {
    roleSecrets: roleKeys.map((key) => key.secret),
    tokens: roleKeys.map((key) => key.securityToken!),
    root: cloud.credentials.accessKeySecret,
  };
}

const signatureOf = (url: string): string => {
  const signature = new URL(url).searchParams.get('Signature');
  if (!signature) {
    throw new Error(`no Signature in a response URL`);
  }
  return signature;
};

/** The secrets found in `text`, each with where it was found (an empty list is the only good answer). */
function leaks(text: string, secrets: Record<string, readonly string[]>): string[] {
  const found: string[] = [];
  for (const [kind, values] of Object.entries(secrets)) {
    for (const value of values) {
      if (text.includes(value)) {
        found.push(`${kind} ${value.slice(0, 6)}…`);
      }
    }
  }
  return found;
}

describe('the handler in Function Compute', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h.stop());

  it('writes no secret, token or response URL signature to its logs or answers, whatever happens', async () => {
    const callbacks: Callback[] = [];
    const track = <T extends { callback: Callback }>(result: T): T => {
      callbacks.push(result.callback);
      return result;
    };
    const fn = h.deployHandler({ timeoutSeconds: 4 });
    const resource = newResource();
    const properties = {
      SourceImageId: putSource(h, { sizeGiB: MEDIUM_SIZE_GIB }),
      SourceRegionId: SOURCE_REGION,
      DestinationRegionId: DESTINATION_REGION,
      ImageName: unique('quiet'),
      Tags: { team: 'web' },
    };

    // A create that continues across invocations, answering through a response URL that fails its first post.
    const { response: createdAnswer } = track(
      await run(h, fn, resource, { RequestType: 'Create', ResourceProperties: properties }, { failFirst: 1 }),
    );
    expect(createdAnswer.Status).toBe('SUCCESS');
    const imageId = createdAnswer.PhysicalResourceId!;

    // An in-place update whose ECS calls meet connection resets and are retried.
    let resets = 0;
    h.fault = (product, action) =>
      product === 'ecs' && action === 'ModifyImageAttribute' && resets++ < 2 ? 'reset' : undefined;
    const renamed = { ...properties, ImageName: unique('quiet'), Tags: { team: 'ops' } };
    try {
      const { response } = track(
        await run(h, fn, resource, {
          RequestType: 'Update',
          PhysicalResourceId: imageId,
          OldResourceProperties: properties,
          ResourceProperties: renamed,
        }),
      );
      expect(response.Status).toBe('SUCCESS');
    } finally {
      h.fault = undefined;
    }

    // A replacement that fails (the new source does not exist): its reason carries the API error.
    const { response: refusedReplacement } = track(
      await run(h, fn, resource, {
        RequestType: 'Update',
        PhysicalResourceId: imageId,
        OldResourceProperties: renamed,
        ResourceProperties: { ...renamed, SourceImageId: 'm-bp1doesnotexist000' },
      }),
    );
    expect(refusedReplacement.Status).toBe('FAILED');

    // A delete by a role that may not delete: the reason carries the RAM refusal.
    h.cloud.putRole({
      roleName: 'no-delete',
      assumeRolePolicyDocument: h.cloud.getRole(ROLE_NAME)!.assumeRolePolicyDocument,
      policies: [
        {
          Version: '1',
          Statement: [{ Effect: 'Allow', Action: ['ecs:DescribeImages'], Resource: '*' }],
        },
      ],
    });
    const narrow = h.deployHandler({ roleName: 'no-delete' });
    const { response: forbidden } = track(
      await run(h, narrow, resource, {
        RequestType: 'Delete',
        PhysicalResourceId: imageId,
        ResourceProperties: renamed,
      }),
    );
    expect(forbidden.Status).toBe('FAILED');
    expect(forbidden.Reason).toContain('Forbidden.RAM');

    // A malformed request that still carries its URLs: refused, answered FAILED.
    const malformed = h.cloud.createCallback();
    callbacks.push(malformed);
    await invokeAsync(h, fn, {
      ...eventFor(h.cloud, resource, { RequestType: 'Create', ResourceProperties: {} }, malformed),
      RequestType: 'Upsert',
    });
    expect((await answered(malformed)).Status).toBe('FAILED');

    // The delete itself.
    const { response: deleted } = track(
      await run(h, fn, resource, {
        RequestType: 'Delete',
        PhysicalResourceId: imageId,
        ResourceProperties: renamed,
      }),
    );
    expect(deleted.Status).toBe('SUCCESS');

    const issued = issuedSecrets(h.cloud);
    const secrets = {
      'role access key secret': issued.roleSecrets,
      'security token': issued.tokens,
      'root access key secret': [issued.root],
      'response URL signature': callbacks.map((c) => signatureOf(c.url)),
      'response URL': callbacks.flatMap((c) => [c.url, c.intranetUrl]),
    };
    // Every invocation got credentials of its own; all of them are searched for.
    const functions = h.cloud.fc.listFunctions(DESTINATION_REGION).map((f) => f.functionName);
    const invocations = functions.flatMap((name) => invocationsOf(h, name));
    expect(issued.roleSecrets.length).toBeGreaterThanOrEqual(invocations.length);
    expect(invocations.length).toBeGreaterThan(6);

    const logs = functions.flatMap((name) => logsOf(h, name)).join('\n');
    const steps = stepsOf(h, fn).map((step) => step.step);
    // The logs cover what could leak: continuation, retried posts and calls, refusals and failures.
    expect(steps).toEqual(
      expect.arrayContaining(['continued', 'response-not-accepted', 'retry', 'event-refused', 'failed']),
    );
    expect(leaks(logs, secrets)).toEqual([]);
    const errors = invocations.map((record) => record.error ?? '').join('\n');
    expect(leaks(errors, secrets)).toEqual([]);
    const answers = JSON.stringify(callbacks.flatMap((c) => c.bodies));
    expect(answers).toContain('Forbidden.RAM');
    expect(leaks(answers, secrets)).toEqual([]);
  });
});

describe('ros-deploy --local', () => {
  let dir: string;
  let cloud: LocalCloud;
  let invoke: jest.SpiedFunction<LocalCloud['fc']['invoke']>;
  /** Every event delivered to a function (by ROS, or by the handler continuing): their response URLs are secrets. */
  const deliveredEvents = (): Buffer[] => invoke.mock.calls.map((call) => call[2]);
  /** What a user's shell holds: credentials of their own, which --local must neither use nor print. */
  const userCredentials = {
    ALIBABA_CLOUD_ACCESS_KEY_ID: 'LTAI5tUserOwnKeyId0001',
    ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'UserOwnSecretValueNeverPrinted0001',
    ALIBABA_CLOUD_SECURITY_TOKEN: 'CAISUserOwnSecurityTokenNeverPrinted0001',
  };
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ros-deploy-secrets-'));
    const root = packageRoot();
    const cdkJson = JSON.parse(fs.readFileSync(path.join(root, 'cdk.json'), 'utf8'));
    const app = `node --require ${path.join(root, 'examples', 'ts-register.js')} ${path.join(root, 'examples', 'single-copy', 'app.ts')}`;
    fs.writeFileSync(path.join(dir, 'cdk.json'), JSON.stringify({ ...cdkJson, app }));
    const handlerZip = path.join(dir, 'handler.zip');
    fs.copyFileSync(handlerZipPath(), handlerZip);
    env = {
      ...process.env,
      ...userCredentials,
      ALIBABA_CLOUD_ECS_METADATA_DISABLED: 'true',
      [HANDLER_ZIP_ENVIRONMENT_VARIABLE]: handlerZip,
    };
    delete env.CI;
    // This process serves the LocalCloud that `--local` finds in .ros-local/server.json, so the test can read
    // what it issued and what ROS delivered.
    const localDir = path.join(dir, '.ros-local');
    const stateFile = path.join(localDir, 'state.json');
    cloud = await LocalCloud.start({ stateFile, copyDurationMs: 1_500 });
    // A spy that records each event and calls through.
    invoke = jest.spyOn(cloud.fc, 'invoke');
    writeServerInfo(localDir, {
      endpoint: cloud.endpoint,
      pid: process.pid,
      accountId: cloud.accountId,
      stateFile,
      startedAt: new Date().toISOString(),
    });
  });

  afterAll(async () => {
    removeServerInfo(path.join(dir, '.ros-local'), process.pid);
    await cloud.ros.settled();
    await cloud.fc.settled();
    await cloud.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** The secrets known so far. */
  function secrets(): Record<string, string[]> {
    const urls = deliveredEvents().flatMap((bytes) => {
      const event = JSON.parse(bytes.toString('utf8')) as {
        ResponseURL?: string;
        IntranetResponseURL?: string;
      };
      return [event.ResponseURL, event.IntranetResponseURL].filter((url): url is string => !!url);
    });
    const issued = issuedSecrets(cloud);
    const known = {
      'role access key secret': issued.roleSecrets,
      'security token': issued.tokens,
      'root access key secret': [issued.root],
      "the user's own secret": [userCredentials.ALIBABA_CLOUD_ACCESS_KEY_SECRET],
      "the user's own token": [userCredentials.ALIBABA_CLOUD_SECURITY_TOKEN],
      'response URL signature': urls.map(signatureOf),
    };
    // Never a vacuous search: by the first scan, functions have run and been handed URLs and credentials.
    for (const [kind, values] of Object.entries(known)) {
      expect([kind, values.length > 0]).toEqual([kind, true]);
    }
    return known;
  }

  const runChild = (args: string[]) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [cliPath('ros-deploy'), ...args], {
        cwd: dir,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });

  /** The provider functions' logs so far. */
  const handlerLogs = () =>
    cloud.fc
      .invocations()
      .flatMap((record) => [...record.logs, record.error ?? ''])
      .join('\n');

  it('deploys with a progress bar on a terminal, printing none of them', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const io: CliIo = {
      stdout: { write: (s: string) => out.push(s), isTTY: true, columns: 120 },
      stderr: { write: (s: string) => err.push(s) },
      env,
      cwd: dir,
    };
    expect(await main(['deploy', '--local'], io)).toBe(0);
    const output = out.join('') + err.join('');
    expect(output).toContain('\x1b['); // drawn as a bar
    expect(output).toMatch(/ImageCopyExample\.ImageId = m-\w+/);
    expect(deliveredEvents().length).toBeGreaterThan(0);
    expect(leaks(output, secrets())).toEqual([]);
    expect(leaks(handlerLogs(), secrets())).toEqual([]);
  });

  it('updates with event lines, and fails an update with its reason, printing none of them', async () => {
    const renamed = await runChild([
      'deploy',
      '--local',
      '--progress',
      'events',
      '-c',
      'imageName=quiet-renamed',
    ]);
    expect(renamed.code).toBe(0);
    expect(renamed.stdout).toContain('UPDATE_COMPLETE');
    const failed = await runChild([
      'deploy',
      '--local',
      '--progress',
      'events',
      '-c',
      'sourceImageId=m-bp1doesnotexist000',
    ]);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toContain('m-bp1doesnotexist000');
    for (const result of [renamed, failed]) {
      expect(leaks(result.stdout + result.stderr, secrets())).toEqual([]);
    }
    expect(leaks(handlerLogs(), secrets())).toEqual([]);
  });

  it('reports in JSON and destroys, printing none of them', async () => {
    const deployed = await runChild(['deploy', '--local', '--json', '-c', 'imageName=quiet-json']);
    expect(deployed.code).toBe(0);
    expect(JSON.parse(deployed.stdout)).toMatchObject({ success: true });
    const destroyed = await runChild(['destroy', '--local', '--force', '--json']);
    expect(destroyed.code).toBe(0);
    for (const result of [deployed, destroyed]) {
      expect(leaks(result.stdout + result.stderr, secrets())).toEqual([]);
    }
    expect(leaks(handlerLogs(), secrets())).toEqual([]);
    // The scan covered every request of the lifecycle: create, two updates, a rollback and a delete.
    const requestTypes = deliveredEvents().map((bytes) => JSON.parse(bytes.toString('utf8')).RequestType);
    expect(new Set(requestTypes)).toEqual(new Set(['Create', 'Update', 'Delete']));
  });

  it('synthesizes templates that hold none of them, though the environment of the synth held credentials', () => {
    const out = path.join(dir, 'cdk.out');
    const templates = fs.readdirSync(out).filter((name) => name.endsWith('.template.json'));
    expect(templates).toEqual(['ImageCopyExample.template.json']);
    const text = templates.map((name) => fs.readFileSync(path.join(out, name), 'utf8')).join('\n');
    expect(text).toContain('ALIYUN::FC3::Function');
    expect(
      leaks(text, { ...secrets(), "the user's own key id": [userCredentials.ALIBABA_CLOUD_ACCESS_KEY_ID] }),
    ).toEqual([]);
  });
});
