/**
 * The handler called in this process (as `createHandler` builds it) against LocalCloud, with credentials the test
 * knows, so it can check that none of them — nor the response URLs — ever reaches a log line.
 */
import { randomUUID } from 'crypto';
import { createHandler } from '../../lib/handler';
import type { FcContext } from '../../lib/handler/event';
import { handlerPolicyDocument } from '../../lib/handler/policy';
import { ApiError, LocalCloud, type TemporaryCredentials } from '../../lib/local';
import { physicalIdFor } from '../../lib/protocol';
import { copyDurationMs, DESTINATION_REGION, eventFor, newResource, SOURCE_REGION } from './harness';

let cloud: LocalCloud;
let env: NodeJS.ProcessEnv;
let throttleNext = 0;
const lines: string[] = [];
const sink = { info: (line: string) => lines.push(line), warn: (line: string) => lines.push(line) };

beforeAll(async () => {
  cloud = await LocalCloud.start({
    copyDurationMs,
    faults: {
      beforeCall: async (product) => {
        if (product === 'ecs' && throttleNext > 0) {
          throttleNext--;
          throw new ApiError('Throttling.User', 'Request was denied due to user flow control.', 400);
        }
        return undefined;
      },
    },
  });
  env = {
    ALIBABA_CLOUD_ECS_ENDPOINT: cloud.endpoint,
    ALIBABA_CLOUD_FC_ENDPOINT: await cloud.fc.endpoint(DESTINATION_REGION),
    ALIBABA_CLOUD_ENDPOINT_PROTOCOL: 'http',
    // As LocalCloud's function runtime tells its functions: it lists a new copy within 1.5 s (its default delay).
    IMAGE_COPY_LISTING_BOUND_MS: '2500',
  };
});
afterAll(() => cloud.stop());
beforeEach(() => {
  lines.length = 0;
});

const contextWith = (credentials?: TemporaryCredentials): FcContext => ({
  requestId: randomUUID(),
  ...(credentials ? { credentials } : {}),
  function: { name: 'image-copy', timeout: 60, memory: 256 },
  region: DESTINATION_REGION,
  accountId: cloud.accountId,
});

const secretsOf = (credentials: TemporaryCredentials, urls: string[]) => [
  credentials.accessKeySecret,
  credentials.securityToken,
  ...urls,
  ...urls.map((url) => new URL(url).searchParams.get('Signature')!),
];

describe('the handler in process', () => {
  it('answers, and its logs hold no secret, token, URL or signature, retries and a refused post included', async () => {
    const credentials = cloud.issueRoleCredentials('image-copy-handler', handlerPolicyDocument());
    const source = cloud.ecs.putImage(SOURCE_REGION, { imageName: `golden-${randomUUID().slice(0, 8)}` });
    const callback = cloud.createCallback({ failFirst: 1 });
    const event = eventFor(
      cloud,
      newResource(),
      {
        RequestType: 'Create',
        ResourceProperties: {
          SourceImageId: source,
          SourceRegionId: SOURCE_REGION,
          ImageName: `q-${randomUUID().slice(0, 8)}`,
        },
      },
      callback,
    );
    throttleNext = 2;
    const handler = createHandler({ env, sink });
    const summary = await handler(Buffer.from(JSON.stringify(event)), contextWith(credentials));
    expect(summary).toMatchObject({ outcome: 'answered', status: 'SUCCESS' });
    expect((await callback.response).Status).toBe('SUCCESS');
    const text = lines.join('\n');
    expect(text).toContain('"step":"retry"');
    expect(text).toContain('"step":"response-not-accepted"');
    for (const secret of secretsOf(credentials, [callback.url, callback.intranetUrl])) {
      expect(text).not.toContain(secret);
    }
    expect(JSON.stringify(summary)).not.toContain('Signature');
  });

  it('answers FAILED with the API error when the role does not allow a call, and logs no secret', async () => {
    const credentials = cloud.issueRoleCredentials('too-narrow', {
      Version: '1',
      Statement: [{ Effect: 'Allow', Action: ['ecs:DescribeImages'], Resource: '*' }],
    });
    const source = cloud.ecs.putImage(SOURCE_REGION, { imageName: `golden-${randomUUID().slice(0, 8)}` });
    const callback = cloud.createCallback();
    const event = eventFor(
      cloud,
      newResource(),
      { RequestType: 'Create', ResourceProperties: { SourceImageId: source, SourceRegionId: SOURCE_REGION } },
      callback,
    );
    await createHandler({ env, sink })(event, contextWith(credentials));
    const response = await callback.response;
    expect(response.Status).toBe('FAILED');
    expect(response.Reason).toMatch(
      /^Cannot copy the source image m-\w+ in cn-hangzhou: ECS CopyImage failed: Forbidden\.RAM: .*\(request id [0-9A-F-]+\)$/,
    );
    for (const secret of secretsOf(credentials, [callback.url, callback.intranetUrl])) {
      expect(lines.join('\n')).not.toContain(secret);
    }
  });

  it('answers FAILED, asking for a role, when the function has no credentials', async () => {
    const callback = cloud.createCallback();
    const event = eventFor(
      cloud,
      newResource(),
      {
        RequestType: 'Create',
        ResourceProperties: { SourceImageId: 'm-bp1x', SourceRegionId: SOURCE_REGION },
      },
      callback,
    );
    await createHandler({ env, sink })(JSON.stringify(event), contextWith());
    const response = await callback.response;
    expect(response).toMatchObject({ Status: 'FAILED' });
    expect(response.Reason).toContain('give the Function Compute function a RAM role');
  });

  it('answers a Delete whose PhysicalResourceId is not text instead of failing on it', async () => {
    const callback = cloud.createCallback();
    const event = eventFor(cloud, newResource(), { RequestType: 'Delete', ResourceProperties: {} }, callback);
    const credentials = cloud.issueRoleCredentials('image-copy-handler', handlerPolicyDocument());
    await createHandler({ env, sink })({ ...event, PhysicalResourceId: { id: 1 } }, contextWith(credentials));
    const response = await callback.response;
    expect(response.Status).toBe('SUCCESS');
    // No id of its own to copy: it answers with the id a Create of this request would have had.
    expect(response.PhysicalResourceId).toBe(physicalIdFor(String(event.RequestId)));
  });

  it('logs what it could not answer when the event carries no response URL', async () => {
    const event = eventFor(cloud, newResource(), {
      RequestType: 'Delete',
      ResourceProperties: {},
      PhysicalResourceId: 'image-copy-failed-000000000000',
    });
    const summary = await createHandler({ env, sink })(
      event,
      contextWith(cloud.issueRoleCredentials('r', handlerPolicyDocument())),
    );
    expect(summary).toMatchObject({ outcome: 'not-answered', status: 'SUCCESS' });
    expect(lines.some((line) => line.includes('"step":"response-impossible"'))).toBe(true);
  });
});
