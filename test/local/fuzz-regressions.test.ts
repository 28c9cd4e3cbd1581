/**
 * The bugs the property-based tests (fuzz.test.ts) found in LocalCloud, each pinned by the smallest input that
 * showed it.
 */
import { randomUUID } from 'crypto';
import * as net from 'net';
import Ecs, * as $Ecs from '@alicloud/ecs20140526';
import Fc, * as $Fc from '@alicloud/fc20230330';
import { $OpenApiUtil } from '@alicloud/openapi-core';
import { LocalCloud } from '../../lib/local';
import { sha256Hex, v3CanonicalRequest, v3Signature } from '../../lib/local/signature';
import { writeZip } from '../../lib/zip';
import { ecsClient, withCloud } from '../support/cloud';

const SEED_IMAGE = 'm-bp1seedgoldenimage01';
const FC_PREFIX = '/2023-03-30/functions';

interface Answer {
  readonly status: number;
  readonly body: Record<string, any>;
}

/** Sends a V3-signed request the way the SDK signs it, with whatever parameters (even odd ones) are given. */
async function signedFetch(
  cloud: LocalCloud,
  endpoint: string,
  o: {
    method?: string;
    pathname?: string;
    action: string;
    version: string;
    query?: Record<string, string>;
    body?: string;
  },
): Promise<Answer> {
  const body = Buffer.from(o.body ?? '');
  const query = o.query ?? {};
  const headers: Record<string, string> = {
    host: endpoint,
    'x-acs-action': o.action,
    'x-acs-version': o.version,
    'x-acs-date': new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    'x-acs-signature-nonce': randomUUID(),
    'x-acs-content-sha256': sha256Hex(body),
    ...(body.length > 0 && { 'content-type': 'application/json' }),
  };
  const signed = Object.keys(headers).sort();
  const method = o.method ?? 'POST';
  const pathname = o.pathname ?? '/';
  const canonical = v3CanonicalRequest({
    method,
    pathname,
    query,
    headers,
    signedHeaders: signed,
    payloadHash: headers['x-acs-content-sha256'],
  });
  const { accessKeyId, accessKeySecret } = cloud.credentials;
  headers.authorization = `ACS3-HMAC-SHA256 Credential=${accessKeyId},SignedHeaders=${signed.join(';')},Signature=${v3Signature(accessKeySecret, canonical)}`;
  const qs = Object.entries(query)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
    .join('&');
  const res = await fetch(`http://${endpoint}${pathname}${qs ? `?${qs}` : ''}`, {
    method,
    headers,
    ...(body.length > 0 && { body }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, any>) : {} };
}

/** Writes raw bytes to the server and reads what it answers before closing. */
function rawExchange(endpoint: string, bytes: string): Promise<string> {
  const [host, port] = endpoint.split(':');
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port: Number(port) }, () => socket.write(bytes));
    let text = '';
    socket.on('data', (chunk) => (text += chunk.toString()));
    socket.on('end', () => resolve(text));
    socket.on('error', reject);
  });
}

describe('LocalCloud fixes found by fuzzing', () => {
  let cloud: LocalCloud;
  let ecs: Ecs;
  beforeAll(async () => {
    cloud = await LocalCloud.start({ copyDurationMs: 60_000 });
    ecs = ecsClient(cloud);
  });
  afterAll(() => cloud.stop());

  it('verifies and serves a request with a parameter named __proto__ (it was dropped, so the signature failed)', async () => {
    const answer = await signedFetch(cloud, cloud.endpoint, {
      action: 'DescribeRegions',
      version: '2014-05-26',
      // JSON.parse makes __proto__ an own property, as a decoded query has it.
      query: JSON.parse('{"__proto__": "0", "constructor": "x"}') as Record<string, string>,
    });
    expect(answer.status).toBe(200);
    expect(answer.body.Regions.Region.length).toBeGreaterThan(10);
  });

  it('accepts the long URLs the SDK builds for 20 tags of 128 CJK characters (Node refused them with a bare 431)', async () => {
    const tag = (i: number) =>
      new $Ecs.CopyImageRequestTag({ key: `键${i}`.padEnd(128, '键'), value: `值${i}`.padEnd(128, '值') });
    const res = await ecs.copyImage(
      new $Ecs.CopyImageRequest({
        regionId: 'cn-hangzhou',
        imageId: SEED_IMAGE,
        destinationRegionId: 'cn-beijing',
        destinationImageName: 'long-tags',
        tag: Array.from({ length: 20 }, (_, i) => tag(i)),
      }),
    );
    expect(cloud.ecs.getImage('cn-beijing', res.body!.imageId!)!.tags[`键0`.padEnd(128, '键')]).toBe(
      `值0`.padEnd(128, '值'),
    );
  });

  it('answers a request over the header limit, and one that is not HTTP, with a JSON error', async () => {
    const huge = await rawExchange(
      cloud.endpoint,
      `GET /?RegionId=${'x'.repeat(140_000)} HTTP/1.1\r\nhost: ${cloud.endpoint}\r\n\r\n`,
    );
    expect(huge).toMatch(/^HTTP\/1\.1 431 /);
    expect(JSON.parse(huge.slice(huge.indexOf('\r\n\r\n') + 4))).toMatchObject({
      Code: 'RequestHeaderTooLarge',
    });
    const garbage = await rawExchange(cloud.endpoint, 'HELLO THERE\r\n\r\n');
    expect(garbage).toMatch(/^HTTP\/1\.1 400 /);
    expect(garbage).toContain('content-type: application/json');
    expect(JSON.parse(garbage.slice(garbage.indexOf('\r\n\r\n') + 4))).toMatchObject({
      Code: 'MalformedRequest',
      RequestId: expect.stringMatching(/^[0-9A-F-]{36}$/),
    });
    // The server is still serving.
    expect((await ecs.describeRegions(new $Ecs.DescribeRegionsRequest({}))).statusCode).toBe(200);
  });

  describe('FC 3.0', () => {
    let fcEndpoint: string;
    beforeAll(async () => {
      fcEndpoint = await cloud.fc.endpoint('cn-hangzhou');
      cloud.fc.createFunction('cn-hangzhou', {
        functionName: 'echo',
        runtime: 'nodejs20',
        handler: 'index.handler',
        zipFile: writeZip([
          { name: 'index.js', data: Buffer.from('exports.handler = async (e) => e;') },
        ]).toString('base64'),
      });
    });
    const fcCall = (method: string, path: string, body?: string) =>
      signedFetch(cloud, fcEndpoint, {
        method,
        pathname: `${FC_PREFIX}${path}`,
        action: 'X',
        version: '2023-03-30',
        body,
      });

    it('answers a path with broken percent-encoding with 400 InvalidArgument (it was a 500 URIError)', async () => {
      const answer = await fcCall('GET', '/%E0%A4%A');
      expect([answer.status, answer.body.Code]).toEqual([400, 'InvalidArgument']);
    });

    it.each([
      ['GET', '/echo/invocations', 405, 'MethodNotAllowed'], // was invoked
      ['DELETE', '', 405, 'MethodNotAllowed'], // was ListFunctions
      ['PUT', '/', 405, 'MethodNotAllowed'], // was ListFunctions
      ['GET', '/echo/invocations/x', 404, 'NotFound'], // was GetFunction echo
      ['GET', '/a//b', 404, 'NotFound'],
    ])('routes %s %s to %i %s, as FC does, instead of to another API', async (method, path, status, code) => {
      const answer = await fcCall(method, path);
      expect([answer.status, answer.body.Code]).toEqual([status, code]);
    });

    it('still serves every route through the real FC client', async () => {
      const fc = new Fc(
        new $OpenApiUtil.Config({
          ...cloud.credentials,
          regionId: 'cn-hangzhou',
          endpoint: fcEndpoint,
          protocol: 'http',
        }),
      );
      expect((await fc.getFunction('echo', new $Fc.GetFunctionRequest({}))).body!.functionName).toBe('echo');
      expect((await fc.listFunctions(new $Fc.ListFunctionsRequest({}))).body!.functions!.length).toBe(1);
    });

    it.each([
      ['null', 'The request body must be a JSON object, not null'], // was a 500 TypeError
      ['[1]', 'The request body must be a JSON object'],
      [
        JSON.stringify({ functionName: 'f', runtime: ['nodejs20'], handler: 'index.handler' }),
        'runtime must be a string',
      ],
      [
        JSON.stringify({ functionName: ['f'], runtime: 'nodejs20', handler: 'index.handler' }),
        'functionName must be a string',
      ],
      [
        JSON.stringify({ functionName: 'f', runtime: 'nodejs20', handler: 'i.h', description: {} }),
        'description must be a string',
      ],
      [
        JSON.stringify({
          functionName: 'f',
          runtime: 'nodejs20',
          handler: 'i.h',
          environmentVariables: { A: 1 },
        }),
        'environmentVariables must be an object of strings',
      ],
      ...(['timeout', 'memorySize'] as const).map((field): [string, string] => [
        JSON.stringify({
          functionName: 'f',
          runtime: 'nodejs20',
          handler: 'index.handler',
          code: { zipFile: writeZip([{ name: 'index.js', data: Buffer.from('') }]).toString('base64') },
          // An object whose toString is not callable: putting it in a message threw a TypeError (a 500).
          [field]: { toString: {} },
        }),
        `${field} {"toString":{}} is invalid`,
      ]),
    ])('refuses CreateFunction with %s (values of the wrong type were stored)', async (body, message) => {
      const answer = await fcCall('POST', '', body);
      expect([answer.status, answer.body.Code]).toEqual([400, 'InvalidArgument']);
      expect(answer.body.Message).toContain(message);
      expect(cloud.fc.getFunction('cn-hangzhou', 'f')).toBeUndefined();
    });
  });

  describe('RAM', () => {
    it.each([
      [{ Version: '1', Statement: [null] }, 'Statement[0] must be an object'],
      [
        { Version: '1', Statement: [{ Effect: 'Allow', Action: 5, Resource: '*' }] },
        'Statement[0].Action must be a string',
      ],
      [
        { Version: '1', Statement: [{ Effect: 'Allow', Action: ['ecs:*', 7], Resource: '*' }] },
        'Action must be',
      ],
      [
        { Version: '1', Statement: [{ Effect: 'Allow', Action: '*', Resource: {} }] },
        'Statement[0].Resource must be',
      ],
      [
        { Version: '1', Statement: [{ Effect: 'Allow', Action: '*', Principal: { Service: 5 } }] },
        'Principal must',
      ],
    ])('refuses a malformed policy when issuing credentials: %j', (policy, message) => {
      // Before, the first call signed with such credentials failed with a 500 TypeError.
      expect(() => cloud.issueRoleCredentials('bad', policy as never)).toThrow(message);
    });
  });

  it('gives accounts 16-digit ids that JSON numbers keep exact (ImageOwnerId was 0 for one account in nine)', async () => {
    for (let i = 0; i < 40; i++) {
      const local = await LocalCloud.start();
      await local.stop();
      expect(local.accountId).toMatch(/^1\d{15}$/);
      expect(Number.isSafeInteger(Number(local.accountId))).toBe(true);
    }
  });

  it('reports 99% for a zero-length copy that a fault plan fails (0 ms of 0 ms would be NaN%)', async () => {
    await withCloud(
      {
        copyDurationMs: 0,
        // Read at once after CopyImage: listed at once.
        variants: { copyVisibility: 'immediate' },
        faults: { rules: [{ kind: 'copyFails' }] },
      },
      async (local) => {
        const client = ecsClient(local);
        const copied = await client.copyImage(
          new $Ecs.CopyImageRequest({
            regionId: 'cn-hangzhou',
            imageId: SEED_IMAGE,
            destinationRegionId: 'cn-beijing',
          }),
        );
        const res = await client.describeImages(
          new $Ecs.DescribeImagesRequest({
            regionId: 'cn-beijing',
            imageId: copied.body!.imageId,
            status: 'CreateFailed',
          }),
        );
        expect(res.body!.images!.image![0]).toMatchObject({ status: 'CreateFailed', progress: '99%' });
      },
    );
  });
});
