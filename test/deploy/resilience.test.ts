import * as path from 'path';
import { deployStack, DeployEvent, destroyStack, stackOutputs } from '../../lib/deploy';
import { ApiError } from '../../lib/local';
import { REGION, role, rolesTemplate, startCloud, tempDir, withCloud } from './fixtures';

describe('backoff on throttling and server errors', () => {
  it('retries Throttling.User and 503 answers on every call with backoff and still deploys', async () => {
    const failures = new Map<string, number>();
    const faulty = new Set(['ListStacks', 'CreateStack', 'GetStack', 'ListStackEvents']);
    await withCloud(
      {
        faults: {
          async beforeCall(product: string, action: string) {
            if (product !== 'ros' || !faulty.has(action)) {
              return undefined;
            }
            const n = (failures.get(action) ?? 0) + 1;
            failures.set(action, n);
            // Every call fails twice, then goes through once, the pattern repeating.
            if (n % 3 === 1) {
              throw new ApiError('Throttling.User', 'Request was denied due to user flow control.', 400);
            }
            if (n % 3 === 2) {
              throw new ApiError(
                'ServiceUnavailable',
                'The request has failed due to a temporary failure.',
                503,
              );
            }
            return undefined;
          },
        },
      },
      async ({ cloud, fast }) => {
        const events: DeployEvent[] = [];
        const result = await deployStack({
          ...fast,
          stackName: 'throttled',
          template: rolesTemplate({ A: 'thr-a' }),
          onEvent: (e) => events.push(e),
        });
        expect(result).toMatchObject({ status: 'CREATE_COMPLETE', success: true });
        const retries = events.flatMap((e) =>
          e.type === 'retry' ? [`${e.notice.action} ${e.notice.reason}`] : [],
        );
        expect(retries).toEqual(
          expect.arrayContaining(['CreateStack Throttling.User', 'CreateStack ServiceUnavailable']),
        );
        expect(retries).toEqual(
          expect.arrayContaining(['GetStack Throttling.User', 'ListStackEvents ServiceUnavailable']),
        );
        // CreateStack was retried with its ClientToken: one stack, not three.
        expect(cloud.ros.stacks(REGION).filter((s) => s.stackName === 'throttled')).toHaveLength(1);
      },
    );
  });

  it('gives up after the configured attempts with the API code and request id in the message', async () => {
    await withCloud(
      {
        faults: {
          async beforeCall(_product: string, action: string) {
            if (action === 'ListStacks') {
              throw new ApiError('Throttling.User', 'Request was denied due to user flow control.', 400);
            }
            return undefined;
          },
        },
      },
      async ({ cloud, connection }) => {
        const attempt = stackOutputs({
          ...connection,
          retry: { baseDelayMs: 1, maxAttempts: 3 },
          stackName: 'any',
        });
        await expect(attempt).rejects.toMatchObject({
          code: 'ApiError',
          apiCode: 'Throttling.User',
          message: expect.stringMatching(
            /^ListStacks failed: Request was denied due to user flow control\. \(Throttling\.User, request id [0-9A-F-]+\)$/,
          ),
        });
        expect(cloud.calls.filter((c) => c.action === 'ListStacks')).toHaveLength(3);
      },
    );
  });

  it('says where a connection failed in a readable sentence, without the query string', async () => {
    const { cloud, connection } = await startCloud();
    const endpoint = cloud.endpoint;
    await cloud.stop(); // nothing listens there any more
    const attempt = deployStack({
      ...connection,
      retry: { baseDelayMs: 1, maxAttempts: 2 },
      stackName: 'unreachable',
      template: rolesTemplate({ A: 'unreachable-a' }),
      parameters: {},
    });
    await expect(attempt).rejects.toMatchObject({
      code: 'ApiError',
      message: `ListStacks failed: connect ECONNREFUSED ${endpoint} (POST http://${endpoint}/)`,
    });
  });

  it('turns an ActionInProgress answer (another deploy got there first) into a polite refusal', async () => {
    await withCloud(
      {
        faults: {
          async beforeCall(_product: string, action: string) {
            if (action === 'UpdateStack') {
              throw new ApiError(
                'ActionInProgress',
                'Stack raced already has an action (UPDATE) in progress.',
                409,
              );
            }
            return undefined;
          },
        },
      },
      async ({ connection }) => {
        await deployStack({
          ...connection,
          pollIntervalMs: 20,
          stackName: 'raced',
          template: rolesTemplate({ A: 'raced-a' }),
        });
        await expect(
          deployStack({
            ...connection,
            stackName: 'raced',
            template: rolesTemplate({ A: 'raced-a', B: 'raced-b' }),
          }),
        ).rejects.toMatchObject({
          code: 'StackBusy',
          message:
            'Stack raced is busy (ActionInProgress): ROS says: Stack raced already has an action (UPDATE) in progress. ' +
            "Wait for it to finish (follow it with `stackEvents({ stackName: 'raced' })`), then run this again.",
        });
      },
    );
  });

  it('follows the status alone when the identity may not list stack events, and names failed resources all the same', async () => {
    await withCloud(
      {
        faults: {
          async beforeCall(_product: string, action: string) {
            if (action === 'ListStackEvents') {
              throw new ApiError('Forbidden.RAM', 'User not authorized to operate.', 403);
            }
            return undefined;
          },
        },
      },
      async ({ cloud, connection }) => {
        const events: DeployEvent[] = [];
        const template = {
          ROSTemplateFormatVersion: '2015-09-01',
          Resources: { Bad: role('no events here') },
        };
        const result = await deployStack({
          ...connection,
          pollIntervalMs: 20,
          stackName: 'blind',
          template,
          disableRollback: true,
          onEvent: (e) => events.push(e),
        });
        expect(result).toMatchObject({ status: 'CREATE_FAILED', success: false });
        expect(result.failedResources).toEqual([
          expect.objectContaining({
            logicalResourceId: 'Bad',
            status: 'CREATE_FAILED',
            statusReason: expect.stringContaining('RoleName "no events here" is invalid'),
          }),
        ]);
        expect(events.filter((e) => e.type === 'message')).toEqual([
          expect.objectContaining({
            text: expect.stringMatching(
              /^stack events are unavailable \(ListStackEvents failed: User not authorized/,
            ),
          }),
        ]);
        expect(events.some((e) => e.type === 'stack-event')).toBe(false);
        // Asked once, then every poll is a GetStack.
        expect(cloud.calls.filter((c) => c.action === 'ListStackEvents')).toHaveLength(1);
        expect(cloud.calls.filter((c) => c.action === 'GetStack').length).toBe(
          events.filter((e) => e.type === 'poll').length,
        );
      },
    );
  });

  it('does not retry a client error', async () => {
    await withCloud({}, async ({ cloud, connection }) => {
      await expect(
        deployStack({
          ...connection,
          stackName: 'bad-template',
          template: '{"ROSTemplateFormatVersion": "2015-09-01", "Resources": 3}',
        }),
      ).rejects.toMatchObject({ code: 'ApiError', apiCode: 'InvalidTemplate' });
      expect(cloud.calls.filter((c) => c.action === 'CreateStack')).toHaveLength(1);
    });
  });
});

describe('credentials and configuration', () => {
  const saved = { ...process.env };
  afterEach(() => {
    for (const key of Object.keys(process.env)) {
      if (!(key in saved)) {
        delete process.env[key];
      }
    }
    Object.assign(process.env, saved);
  });

  /**
   * An environment where the default credential chain finds nothing and never asks the ECS metadata service.
   * (The aliyun CLI profile is covered by the CLI tests, whose child processes get their own HOME.)
   */
  function emptyChain(): void {
    for (const key of Object.keys(process.env)) {
      if (key.startsWith('ALIBABA_CLOUD_')) {
        delete process.env[key];
      }
    }
    process.env.ALIBABA_CLOUD_CLI_PROFILE_DISABLED = 'true';
    process.env.ALIBABA_CLOUD_CREDENTIALS_FILE = path.join(tempDir('home-'), 'none');
    process.env.ALIBABA_CLOUD_ECS_METADATA_DISABLED = 'true';
  }

  it('says how to provide credentials when the default chain has none', async () => {
    emptyChain();
    await expect(
      destroyStack({ regionId: REGION, stackName: 'x', endpoint: '127.0.0.1:9', protocol: 'http' }),
    ).rejects.toMatchObject({
      code: 'MissingCredentials',
      isConfigurationError: true,
      message: expect.stringContaining('ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET'),
    });
  });

  it('uses the default chain: credentials from the environment', async () => {
    emptyChain();
    await withCloud({}, async ({ cloud, connection }) => {
      const { accessKeyId, accessKeySecret } = cloud.credentials;
      process.env.ALIBABA_CLOUD_ACCESS_KEY_ID = accessKeyId;
      process.env.ALIBABA_CLOUD_ACCESS_KEY_SECRET = accessKeySecret;
      const fromEnv = { ...connection, credentials: undefined };
      expect(await destroyStack({ ...fromEnv, stackName: 'none' })).toMatchObject({ status: 'NOT_FOUND' });
    });
  });

  it('submits a JSON template without indentation, so a pretty-printed one over the limit still fits', async () => {
    await withCloud({}, async ({ cloud, connection }) => {
      // Indented deeply enough to be over 524,288 bytes as printed, and well under it compact.
      const roles = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`R${i}`, `pretty-${i}`]));
      const template = rolesTemplate(roles, { Description: 'd'.repeat(400_000) });
      const pretty = JSON.stringify(template, null, 2).replace(/\n/g, `\n${' '.repeat(200)}`);
      expect(Buffer.byteLength(pretty)).toBeGreaterThan(524_288);
      const result = await deployStack({ ...connection, stackName: 'pretty', template: pretty });
      expect(result.status).toBe('CREATE_COMPLETE');
      const stored = cloud.ros.stacks('cn-hangzhou').find((s) => s.stackName === 'pretty')!;
      expect(stored.templateBody).toBe(JSON.stringify(template));
    });
  });

  it('refuses a template over the ROS size limit before calling anything', async () => {
    await withCloud({}, async ({ cloud, connection }) => {
      const template = rolesTemplate({ A: 'big-a' }, { Description: 'x'.repeat(530_000) });
      await expect(deployStack({ ...connection, stackName: 'big', template })).rejects.toMatchObject({
        code: 'InvalidTemplate',
        message: expect.stringContaining('ROS accepts at most 524288 bytes'),
      });
      expect(cloud.calls.filter((c) => c.product === 'ros')).toEqual([]);
    });
  });
});
