import * as http from 'http';
import Ecs, * as $Ecs from '@alicloud/ecs20140526';
import * as $Ros from '@alicloud/ros20190910';
import { $OpenApiUtil } from '@alicloud/openapi-core';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ImageCopy } from '../../lib';
import { LocalCloud } from '../../lib/local';
import { Authenticator, FileNonceStore } from '../../lib/local/auth';
import { ApiError } from '../../lib/local/errors';
import { isAllowed, PolicyDocument, Ram, wildcardMatch } from '../../lib/local/ram';
import { LocalServer } from '../../lib/local/server';
import type { RpcService } from '../../lib/local/service';
import { sha256Hex, v3CanonicalRequest, v3Signature } from '../../lib/local/signature';
import { StateStore } from '../../lib/local/state';
import { PROVIDER_NAME_PREFIX } from '../../lib/provider';
import { newStack, Template } from '../construct/template';
import { rosClient, withCloud } from '../support/cloud';

/** A stand-in ECS that authorizes `ecs:<Action>` on one image ARN and remembers what it received. */
let received: { action: string; params: Record<string, string>; principal: string } | undefined;
const echoService: RpcService = {
  product: 'ecs',
  version: '2014-05-26',
  hostId: 'ecs.aliyuncs.com',
  async handle(action, params, ctx) {
    if (action === 'DescribeRegions') {
      throw new ApiError('Throttling.User', 'Request was denied due to user flow control.', 400, {
        'x-acs-retry-after': '1500',
      });
    }
    ctx.authorize(`ecs:${action}`, [
      `acs:ecs:${params.RegionId}:${ctx.accountId}:image/${params.ImageId ?? '*'}`,
    ]);
    received = { action, params, principal: ctx.principal.kind };
    return {};
  },
};

async function startServer(options: { now?: () => number } = {}) {
  const ram = new Ram(new StateStore());
  const server = new LocalServer({
    authenticator: new Authenticator(ram, options),
    accountOf: () => ({ accountId: '1234567890123456', ram }),
  });
  server.addService(echoService);
  await server.listen(0);
  return { ram, server };
}

function ecsClient(
  endpoint: string,
  key: { accessKeyId: string; accessKeySecret: string; securityToken?: string },
  v1 = false,
) {
  return new Ecs(
    new $OpenApiUtil.Config({
      ...key,
      regionId: 'cn-hangzhou',
      endpoint,
      protocol: 'http',
      signatureAlgorithm: v1 ? 'v2' : undefined,
    }),
  );
}

async function errorOf(promise: Promise<unknown>): Promise<any> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected the call to fail');
}

describe('LocalCloud authentication', () => {
  let ram: Ram;
  let server: LocalServer;
  beforeEach(async () => ({ ram, server } = await startServer()));
  afterEach(() => server.close());

  it('listens on 127.0.0.1 only', () => {
    expect(server.endpoint).toMatch(/^127\.0\.0\.1:\d+$/);
  });

  it('accepts a V3-signed call from the real SDK and passes its parameters through', async () => {
    const res = await ecsClient(server.endpoint, ram.rootCredentials).describeImages(
      new $Ecs.DescribeImagesRequest({
        regionId: 'cn-hangzhou',
        imageId: 'm-1',
        status: 'ALL',
        tag: [{ key: 'k', value: 'v w' }],
      }),
    );
    expect(res.statusCode).toBe(200);
    expect(res.body!.requestId).toMatch(/^[0-9A-F-]{36}$/);
    expect(received!.params).toEqual({
      RegionId: 'cn-hangzhou',
      ImageId: 'm-1',
      Status: 'ALL',
      'Tag.1.Key': 'k',
      'Tag.1.Value': 'v w',
    });
    expect(server.calls.at(-1)).toMatchObject({
      product: 'ecs',
      action: 'DescribeImages',
      principal: 'root',
      status: 200,
    });
  });

  it('accepts a V1-signed (HMAC-SHA1) call and strips the signing parameters', async () => {
    await ecsClient(server.endpoint, ram.rootCredentials, true).describeImages(
      new $Ecs.DescribeImagesRequest({ regionId: 'cn-hangzhou', imageName: "a b!*'()~" }),
    );
    expect(received!.params).toEqual({ RegionId: 'cn-hangzhou', ImageName: "a b!*'()~" });
  });

  it('rejects an unknown access key with InvalidAccessKeyId.NotFound', async () => {
    const err = await errorOf(
      ecsClient(server.endpoint, { accessKeyId: 'LTAInobody', accessKeySecret: 'x' }).describeImages(
        new $Ecs.DescribeImagesRequest({ regionId: 'cn-hangzhou' }),
      ),
    );
    expect(err).toMatchObject({ name: 'ClientError', code: 'InvalidAccessKeyId.NotFound', statusCode: 400 });
  });

  it.each([false, true])('rejects a wrong secret with SignatureDoesNotMatch (V1: %s)', async (v1) => {
    const key = { ...ram.rootCredentials, accessKeySecret: 'wrong' };
    const err = await errorOf(
      ecsClient(server.endpoint, key, v1).describeImages(
        new $Ecs.DescribeImagesRequest({ regionId: 'cn-hangzhou' }),
      ),
    );
    expect(err).toMatchObject({ name: 'ClientError', code: 'SignatureDoesNotMatch', statusCode: 400 });
    expect(err.data.RequestId).toBeDefined();
  });

  it('rejects unsigned requests with IncompleteSignature', async () => {
    const res = await rawPost(server.endpoint, '/?RegionId=cn-hangzhou', {
      'x-acs-version': '2014-05-26',
      'x-acs-action': 'DescribeImages',
    });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ Code: 'IncompleteSignature', HostId: 'ecs.aliyuncs.com' });
  });

  it('rejects a replayed nonce with SignatureNonceUsed', async () => {
    const headers = signedHeaders(server.endpoint, ram.rootCredentials, new Date(), 'nonce-replayed');
    expect((await rawPost(server.endpoint, '/?RegionId=cn-hangzhou', headers)).status).toBe(200);
    const again = await rawPost(server.endpoint, '/?RegionId=cn-hangzhou', headers);
    expect(again).toMatchObject({ status: 400, body: { Code: 'SignatureNonceUsed' } });
  });

  it('rejects a stale timestamp with IllegalTimestamp', async () => {
    const headers = signedHeaders(
      server.endpoint,
      ram.rootCredentials,
      new Date(Date.now() - 20 * 60_000),
      'nonce-stale',
    );
    const res = await rawPost(server.endpoint, '/?RegionId=cn-hangzhou', headers);
    expect(res).toMatchObject({ status: 400, body: { Code: 'IllegalTimestamp' } });
  });

  it('rejects a body that does not match x-acs-content-sha256', async () => {
    const headers = signedHeaders(server.endpoint, ram.rootCredentials, new Date(), 'nonce-body');
    const res = await rawPost(server.endpoint, '/?RegionId=cn-hangzhou', headers, 'tampered');
    expect(res).toMatchObject({ status: 400, body: { Code: 'SignatureDoesNotMatch' } });
  });

  it('answers errors in the shape the SDK turns into ThrottlingError with retryAfter', async () => {
    const err = await errorOf(
      ecsClient(server.endpoint, ram.rootCredentials).describeRegions(new $Ecs.DescribeRegionsRequest({})),
    );
    expect(err).toMatchObject({ name: 'ThrottlingError', code: 'Throttling.User', retryAfter: 1500 });
  });

  describe('temporary credentials of a role', () => {
    const policy: PolicyDocument = {
      Version: '1',
      Statement: [
        { Effect: 'Allow', Action: ['ecs:Describe*'], Resource: '*' },
        { Effect: 'Allow', Action: 'ecs:DeleteImage', Resource: 'acs:ecs:cn-hangzhou:*:image/m-allowed' },
      ],
    };

    it('allows what the policy allows, on the resources it names', async () => {
      const creds = ram.issueRoleCredentials('copier', policy);
      const client = ecsClient(server.endpoint, creds);
      await client.describeImages(new $Ecs.DescribeImagesRequest({ regionId: 'cn-hangzhou' }));
      expect(received!.principal).toBe('role');
      await client.deleteImage(
        new $Ecs.DeleteImageRequest({ regionId: 'cn-hangzhou', imageId: 'm-allowed' }),
      );
    });

    it('denies other actions and resources with Forbidden.RAM', async () => {
      const client = ecsClient(server.endpoint, ram.issueRoleCredentials('copier', policy));
      const other = await errorOf(
        client.modifyImageAttribute(
          new $Ecs.ModifyImageAttributeRequest({ regionId: 'cn-hangzhou', imageId: 'm-allowed' }),
        ),
      );
      expect(other).toMatchObject({ name: 'ClientError', code: 'Forbidden.RAM', statusCode: 403 });
      expect(other.data.Message).toContain('ecs:ModifyImageAttribute');
      const elsewhere = await errorOf(
        client.deleteImage(new $Ecs.DeleteImageRequest({ regionId: 'cn-hangzhou', imageId: 'm-other' })),
      );
      expect(elsewhere).toMatchObject({ code: 'Forbidden.RAM' });
    });

    it('refuses the credentials without their security token, or with another', async () => {
      const creds = ram.issueRoleCredentials('copier', policy);
      const request = new $Ecs.DescribeImagesRequest({ regionId: 'cn-hangzhou' });
      const without = await errorOf(
        ecsClient(server.endpoint, {
          accessKeyId: creds.accessKeyId,
          accessKeySecret: creds.accessKeySecret,
        }).describeImages(request),
      );
      expect(without).toMatchObject({ code: 'InvalidSecurityToken.MismatchWithAccessKey' });
      const wrong = await errorOf(
        ecsClient(server.endpoint, { ...creds, securityToken: 'CAISforged' }).describeImages(request),
      );
      expect(wrong).toMatchObject({ code: 'InvalidSecurityToken.MismatchWithAccessKey' });
    });

    it('refuses expired credentials with InvalidSecurityToken.Expired', async () => {
      const creds = ram.issueRoleCredentials('copier', policy, -1);
      const err = await errorOf(
        ecsClient(server.endpoint, creds).describeImages(
          new $Ecs.DescribeImagesRequest({ regionId: 'cn-hangzhou' }),
        ),
      );
      expect(err).toMatchObject({ code: 'InvalidSecurityToken.Expired' });
    });
  });
});

describe('RAM policy evaluation', () => {
  const policy: PolicyDocument = {
    Version: '1',
    Statement: [
      { Effect: 'Allow', Action: 'ecs:*', Resource: '*' },
      { Effect: 'Deny', Action: 'ecs:DeleteImage', Resource: 'acs:ecs:*:*:image/m-keep*' },
    ],
  };

  it('lets an explicit Deny win over an Allow', () => {
    expect(isAllowed(policy, 'ecs:DeleteImage', 'acs:ecs:cn-hangzhou:1:image/m-keep1')).toBe(false);
    expect(isAllowed(policy, 'ecs:DeleteImage', 'acs:ecs:cn-hangzhou:1:image/m-other')).toBe(true);
  });

  it('denies what no statement allows', () => {
    expect(isAllowed(policy, 'fc:InvokeFunction', '*')).toBe(false);
  });

  it('matches actions case-insensitively and resources exactly, with * and ? wildcards', () => {
    expect(wildcardMatch('ecs:Describe*', 'ECS:DescribeImages', true)).toBe(true);
    expect(wildcardMatch('acs:ecs:cn-?angzhou:*:image/*', 'acs:ecs:cn-hangzhou:1:image/m-1', false)).toBe(
      true,
    );
    expect(wildcardMatch('acs:ecs:cn-hangzhou:*:image/M-1', 'acs:ecs:cn-hangzhou:1:image/m-1', false)).toBe(
      false,
    );
  });

  describe('as the RAM authorization tables of the API references say', () => {
    const principalOf = (ram: Ram, policy: PolicyDocument) =>
      ram.lookup(ram.issueRoleCredentials('handler', policy).accessKeyId)!.principal;
    const allow = (action: string, resource: string): PolicyDocument => ({
      Version: '1',
      Statement: [{ Effect: 'Allow', Action: action, Resource: resource }],
    });
    const fnArn = 'acs:fc:cn-hangzhou:1234567890123456:functions/ros-cdk-image-copy-x';

    it('grants fc:InvokeFunction ("All Resources") only by a statement on *: one naming the function is ineffective', () => {
      const ram = new Ram(new StateStore());
      expect(() =>
        ram.authorize(principalOf(ram, allow('fc:InvokeFunction', fnArn)), 'fc:InvokeFunction', [fnArn]),
      ).toThrow(
        /not allowed fc:InvokeFunction on \*\. fc:InvokeFunction has no resource-level authorization/,
      );
      expect(() =>
        ram.authorize(
          principalOf(ram, allow('fc:InvokeFunction', 'acs:fc:*:*:functions/*')),
          'fc:InvokeFunction',
          [fnArn],
        ),
      ).toThrow(expect.objectContaining({ code: 'Forbidden.RAM', httpStatus: 403 }));
      expect(() =>
        ram.authorize(principalOf(ram, allow('fc:InvokeFunction', '*')), 'fc:InvokeFunction', [fnArn]),
      ).not.toThrow();
    });

    it('grants ecs:CopyImage only on *, under the stricter of its two published tables', () => {
      const ram = new Ram(new StateStore());
      const source = 'acs:ecs:cn-hangzhou:1234567890123456:image/m-source';
      const destination = 'acs:ecs:cn-shanghai:1234567890123456:image/*';
      expect(() =>
        ram.authorize(principalOf(ram, allow('ecs:CopyImage', 'acs:ecs:*:*:image/*')), 'ecs:CopyImage', [
          source,
          destination,
        ]),
      ).toThrow(/not allowed ecs:CopyImage on \*/);
      expect(() =>
        ram.authorize(principalOf(ram, allow('ecs:CopyImage', '*')), 'ecs:CopyImage', [source, destination]),
      ).not.toThrow();
    });

    it('checks an action with an image resource type against the ARN of the image the call acts on', () => {
      const ram = new Ram(new StateStore());
      const principal = principalOf(
        ram,
        allow('ecs:DeleteImage', 'acs:ecs:*:1234567890123456:image/m-mine*'),
      );
      expect(() =>
        ram.authorize(principal, 'ecs:DeleteImage', ['acs:ecs:cn-hangzhou:1234567890123456:image/m-mine1']),
      ).not.toThrow();
      expect(() =>
        ram.authorize(principal, 'ecs:DeleteImage', ['acs:ecs:cn-hangzhou:1234567890123456:image/m-theirs']),
      ).toThrow(/not allowed ecs:DeleteImage on acs:ecs:cn-hangzhou:1234567890123456:image\/m-theirs\.$/);
    });
  });

  it('refuses a policy with a Condition it cannot evaluate', () => {
    const ram = new Ram(new StateStore());
    expect(() =>
      ram.issueRoleCredentials('r', {
        Version: '1',
        Statement: [{ Effect: 'Allow', Action: '*', Resource: '*', Condition: {} }],
      }),
    ).toThrow('Statement[0] has a Condition, which LocalCloud does not evaluate');
  });
});

describe("a deleted role's temporary credentials", () => {
  const TRUST: PolicyDocument = {
    Version: '1',
    Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { Service: ['fc.aliyuncs.com'] } }],
  };
  const RENAME: PolicyDocument = {
    Version: '1',
    Statement: [{ Effect: 'Allow', Action: 'ecs:ModifyImageAttribute', Resource: 'acs:ecs:*:*:image/*' }],
  };
  const image = 'acs:ecs:cn-hangzhou:1234567890123456:image/m-1';

  it('can do only what the role allows at each call: they lose what it loses, and everything once it is deleted', () => {
    const ram = new Ram(new StateStore());
    ram.putRole({ roleName: 'handler', assumeRolePolicyDocument: TRUST, policies: [RENAME] });
    const principal = ram.lookup(
      ram.assumeRoleAsService('handler', 'fc.aliyuncs.com').accessKeyId,
    )!.principal;
    expect(() => ram.authorize(principal, 'ecs:ModifyImageAttribute', [image])).not.toThrow();
    ram.putRole({ roleName: 'handler', assumeRolePolicyDocument: TRUST, policies: [] });
    expect(() => ram.authorize(principal, 'ecs:ModifyImageAttribute', [image])).toThrow(
      /Role handler is not allowed ecs:ModifyImageAttribute/,
    );
    ram.putRole({ roleName: 'handler', assumeRolePolicyDocument: TRUST, policies: [RENAME] });
    expect(() => ram.authorize(principal, 'ecs:ModifyImageAttribute', [image])).not.toThrow();
    ram.deleteRole('handler');
    expect(() => ram.authorize(principal, 'ecs:ModifyImageAttribute', [image])).toThrow(
      expect.objectContaining({
        code: 'Forbidden.RAM',
        message: expect.stringContaining('Role handler no longer exists'),
      }),
    );
    // A role of the same name created later does not bring them back: they were issued to the deleted one.
    ram.putRole({ roleName: 'handler', assumeRolePolicyDocument: TRUST, policies: [RENAME] });
    expect(() => ram.authorize(principal, 'ecs:ModifyImageAttribute', [image])).toThrow(/no longer exists/);
    const fresh = ram.lookup(ram.assumeRoleAsService('handler', 'fc.aliyuncs.com').accessKeyId)!.principal;
    expect(() => ram.authorize(fresh, 'ecs:ModifyImageAttribute', [image])).not.toThrow();
  });

  it("a destroyed stack's handler role can no longer rename another stack's image", async () => {
    await withCloud(async (cloud) => {
      const ros = rosClient(cloud);
      // The provider of a synthesized ImageCopy stack: its role and function (the copy itself left out).
      const app = newStack('Destroyed');
      new ImageCopy(app, 'Copy', { sourceImageId: 'm-bp1golden', sourceRegionId: 'cn-hangzhou' });
      const json = Template.fromStack(app).json;
      const resources = Object.fromEntries(
        Object.entries(json.Resources!).filter(([, r]) => r.Type !== 'ALIYUN::ROS::CustomResource'),
      );
      const created = await ros.createStack(
        new $Ros.CreateStackRequest({
          regionId: 'cn-hangzhou',
          stackName: 'destroyed',
          templateBody: JSON.stringify({ ...json, Resources: resources, Outputs: {} }),
        }),
      );
      const stackId = created.body!.stackId!;
      const status = async () => {
        await cloud.ros.settled();
        return (await ros.getStack(new $Ros.GetStackRequest({ regionId: 'cn-hangzhou', stackId }))).body!
          .status;
      };
      expect(await status()).toBe('CREATE_COMPLETE');
      // What Function Compute hands the stack's handler, kept by someone after the stack is gone.
      const handler = cloud.assumeRole(`${PROVIDER_NAME_PREFIX}${stackId}`);
      const ecs = ecsClient(cloud.endpoint, handler);
      const theirs = cloud.ecs.putImage('cn-hangzhou', {
        imageName: 'theirs',
        tags: { 'ros-cdk-image-copy:owner': 'another-stack/Copy' },
      });
      const rename = (imageName: string) =>
        ecs.modifyImageAttribute(
          new $Ecs.ModifyImageAttributeRequest({ regionId: 'cn-hangzhou', imageId: theirs, imageName }),
        );
      await rename('renamed-while-live');

      await ros.deleteStack(new $Ros.DeleteStackRequest({ regionId: 'cn-hangzhou', stackId }));
      expect(await status()).toBe('DELETE_COMPLETE');
      expect(cloud.getRole(`${PROVIDER_NAME_PREFIX}${stackId}`)).toBeUndefined();
      const refused = await errorOf(rename('renamed-after-destroy'));
      expect(refused).toMatchObject({ code: 'Forbidden.RAM', statusCode: 403 });
      expect(refused.data.Message).toContain('no longer exists');
      expect(cloud.ecs.getImage('cn-hangzhou', theirs)!.imageName).toBe('renamed-while-live');
    });
  });
});

describe('nonces across restarts', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nonces-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('refuses a signed request captured before a restart when it is replayed after it, within its clock window', async () => {
    const stateFile = path.join(dir, 'state.json');
    const first = await LocalCloud.start({ stateFile });
    const captured = signedHeaders(first.endpoint, first.credentials, new Date(), 'nonce-captured');
    expect((await rawPost(first.endpoint, '/?RegionId=cn-hangzhou', captured)).status).toBe(200);
    await first.stop();

    await withCloud({ stateFile }, async (second) => {
      // The same bytes, sent to the restarted LocalCloud (its Host header still the one signed).
      const replay = await rawPost(second.endpoint, '/?RegionId=cn-hangzhou', captured);
      expect(replay).toMatchObject({ status: 400, body: { Code: 'SignatureNonceUsed' } });
      const fresh = signedHeaders(second.endpoint, second.credentials, new Date(), 'nonce-fresh');
      expect((await rawPost(second.endpoint, '/?RegionId=cn-hangzhou', fresh)).status).toBe(200);
    });
  });

  it('forgets nonces whose window has passed, and a half-written line, when it starts', () => {
    const file = path.join(dir, 'state.json.nonces');
    const now = Date.now();
    fs.writeFileSync(file, `[${now - 1},"expired"]\n[${now + 60_000},"live"]\n[${now + 60_000},"hal`);
    const store = new FileNonceStore(file, now);
    expect(fs.readFileSync(file, 'utf8')).toBe(`[${now + 60_000},"live"]\n`);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(store.claim('live', now, now + 1000)).toBe(false);
    expect(store.claim('expired', now, now + 1000)).toBe(true);
    expect(new FileNonceStore(file, now).claim('expired', now, now + 1000)).toBe(false);
  });
});

function signedHeaders(
  endpoint: string,
  key: { accessKeyId: string; accessKeySecret: string },
  date: Date,
  nonce: string,
) {
  const headers: Record<string, string> = {
    host: endpoint,
    'x-acs-action': 'DescribeImages',
    'x-acs-version': '2014-05-26',
    'x-acs-date': date.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    'x-acs-signature-nonce': nonce,
    'x-acs-content-sha256': sha256Hex(''),
  };
  const signed = Object.keys(headers).sort();
  const canonical = v3CanonicalRequest({
    method: 'POST',
    pathname: '/',
    query: { RegionId: 'cn-hangzhou' },
    headers,
    signedHeaders: signed,
    payloadHash: sha256Hex(''),
  });
  headers.authorization = `ACS3-HMAC-SHA256 Credential=${key.accessKeyId},SignedHeaders=${signed.join(';')},Signature=${v3Signature(key.accessKeySecret, canonical)}`;
  return headers;
}

function rawPost(
  endpoint: string,
  path: string,
  headers: Record<string, string>,
  body = '',
): Promise<{ status: number; body: any }> {
  const [host, port] = endpoint.split(':');
  return new Promise((resolve, reject) => {
    const req = http.request({ host, port: Number(port), path, method: 'POST', headers }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}
