/**
 * Property-based tests: malformed, oversized, mistyped, unsigned, badly signed and replayed requests thrown at
 * every API LocalCloud routes (ECS, ROS, FC 3.0, response URLs, RAM through role credentials). LocalCloud must
 * always answer a well-formed error with the right code, never crash or answer 500, and its state must still load
 * and serve afterwards.
 */
import { randomUUID } from 'crypto';
import * as fs from 'fs';
import * as http from 'http';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import Ecs, * as $Ecs from '@alicloud/ecs20140526';
import Ros, * as $Ros from '@alicloud/ros20190910';
import { $OpenApiUtil } from '@alicloud/openapi-core';
import fc from 'fast-check';
import { LocalCloud } from '../../lib/local';
import { ECS_ACTIONS, IMAGE_STATUSES } from '../../lib/local/ecs';
import type { PolicyDocument } from '../../lib/local/ram';
import { sha256Hex, v1Signature, v3CanonicalRequest, v3Signature } from '../../lib/local/signature';
import { writeZip } from '../../lib/zip';
import {
  ecsKeyArb,
  POLICY_ARB,
  PROTOTYPE_NAMES,
  rosKeyArb,
  runnableTemplateArb,
  SEED_IMAGE,
  templateBodyArb,
  valueArb,
} from './fuzz-arbitraries';

/** `FUZZ_SCALE=10 npx jest test/local/fuzz.test.ts` runs ten times as many cases (for a deeper search, not CI). */
const runs = (n: number) => Math.max(1, Math.round(n * Number(process.env.FUZZ_SCALE ?? 1)));
const ECS_VERSION = '2014-05-26';
const ROS_VERSION = '2019-09-10';
const FC_VERSION = '2023-03-30';
const FC_PREFIX = `/${FC_VERSION}/functions`;

interface Key {
  readonly accessKeyId: string;
  readonly accessKeySecret: string;
  readonly securityToken?: string;
}

interface RawRequest {
  readonly method: string;
  /** Path and query as sent. */
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body: Buffer;
}

interface RawResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly text: string;
}

function send(endpoint: string, req: RawRequest): Promise<RawResponse> {
  const [host, port] = endpoint.split(':');
  return new Promise((resolve, reject) => {
    const outgoing = http.request(
      {
        host,
        port: Number(port),
        method: req.method,
        path: req.path,
        headers: { 'content-length': String(req.body.length), ...req.headers },
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode!,
            headers: res.headers,
            text: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    outgoing.on('error', reject);
    outgoing.end(req.body);
  });
}

const encodeQuery = (params: Record<string, string>) =>
  Object.entries(params)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
    .join('&');

const isoSeconds = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

interface V3Options {
  readonly endpoint: string;
  readonly key: Key;
  readonly method?: string;
  readonly pathname?: string;
  readonly query?: Record<string, string>;
  readonly action?: string;
  readonly version?: string;
  readonly body?: Buffer;
  readonly contentType?: string;
  readonly date?: string;
  readonly nonce?: string;
  readonly extraHeaders?: Record<string, string>;
}

/** A request signed with V3 (`ACS3-HMAC-SHA256`) exactly as the SDK signs it. */
function signV3(o: V3Options): RawRequest {
  const body = o.body ?? Buffer.alloc(0);
  const method = o.method ?? 'POST';
  const pathname = o.pathname ?? '/';
  const query = o.query ?? {};
  const headers: Record<string, string> = {
    host: o.endpoint,
    'x-acs-date': o.date ?? isoSeconds(Date.now()),
    'x-acs-signature-nonce': o.nonce ?? randomUUID(),
    'x-acs-content-sha256': sha256Hex(body),
    ...(o.action !== undefined && { 'x-acs-action': o.action }),
    ...(o.version !== undefined && { 'x-acs-version': o.version }),
    ...(o.contentType !== undefined && { 'content-type': o.contentType }),
    ...(o.key.securityToken !== undefined && {
      'x-acs-security-token': o.key.securityToken,
      'x-acs-accesskey-id': o.key.accessKeyId,
    }),
    ...o.extraHeaders,
  };
  const signed = Object.keys(headers)
    .filter((h) => h === 'host' || h === 'content-type' || h.startsWith('x-acs-'))
    .sort();
  // An RPC call without an action still needs the header for the canonical request to name it.
  const canonical = v3CanonicalRequest({
    method,
    pathname,
    query,
    headers,
    signedHeaders: signed,
    payloadHash: headers['x-acs-content-sha256'],
  });
  headers.authorization = `ACS3-HMAC-SHA256 Credential=${o.key.accessKeyId},SignedHeaders=${signed.join(';')},Signature=${v3Signature(o.key.accessKeySecret, canonical)}`;
  const qs = encodeQuery(query);
  return { method, path: `${pathname}${qs ? `?${qs}` : ''}`, headers, body };
}

/** A V1 (`HMAC-SHA1`) RPC request, as older SDKs send it. */
function signV1(endpoint: string, key: Key, action: string, params: Record<string, string>): RawRequest {
  const all: Record<string, string> = {
    ...params,
    Action: action,
    Version: ECS_VERSION,
    Format: 'json',
    Timestamp: isoSeconds(Date.now()),
    SignatureNonce: randomUUID(),
    SignatureMethod: 'HMAC-SHA1',
    SignatureVersion: '1.0',
    AccessKeyId: key.accessKeyId,
  };
  all.Signature = v1Signature(key.accessKeySecret, 'GET', all);
  return { method: 'GET', path: `/?${encodeQuery(all)}`, headers: { host: endpoint }, body: Buffer.alloc(0) };
}

/**
 * A well-formed LocalCloud answer: JSON, and for an error a 4xx (or the given codes) with Code, Message, RequestId
 * and HostId, and no stack trace. Returns the parsed body.
 */
function expectWellFormed(res: RawResponse): Record<string, unknown> {
  const fail = (why: string): never => {
    throw new Error(`${why}: HTTP ${res.status} ${res.headers['content-type']} ${res.text.slice(0, 400)}`);
  };
  if (res.status < 200 || res.status >= 500) {
    fail('not a 2xx-4xx answer');
  }
  if (/\n\s+at .+:\d+:\d+/.test(res.text)) {
    fail('a stack trace in the answer');
  }
  if (res.status === 204) {
    return {};
  }
  const type = res.headers['content-type'] ?? '';
  if (!/^application\/(json|octet-stream)/.test(type)) {
    fail('not JSON');
  }
  if (res.status < 300 && type.startsWith('application/octet-stream')) {
    return {};
  }
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(res.text || (res.status < 300 ? '{}' : '')) as Record<string, unknown>;
  } catch {
    return fail('a body that does not parse');
  }
  if (res.status < 300) {
    return body;
  }
  if (typeof body.Code !== 'string' || !/^[A-Za-z][\w.]*$/.test(body.Code)) {
    fail('no Code');
  }
  if (typeof body.Message !== 'string') {
    fail('no Message');
  }
  if (typeof body.RequestId !== 'string' || !/^[0-9A-F-]{36}$/.test(body.RequestId)) {
    fail('no RequestId');
  }
  if (typeof body.HostId !== 'string') {
    fail('no HostId');
  }
  if (body.Code === 'InternalError') {
    fail('an internal error');
  }
  return body;
}

// ---------------------------------------------------------------------------------------------------------------

describe('LocalCloud under malformed requests (property-based)', () => {
  let dir: string;
  let stateFile: string;
  let cloud: LocalCloud;
  let root: Key;
  let fcEndpoint: string;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'localcloud-fuzz-'));
    stateFile = path.join(dir, 'state.json');
    // The fuzz acts by id on the copies it makes at once: under hiddenCopyActions' default (not-found) every action on
    // a copy not listed yet is InvalidImageId.NotFound, and how many actions ever succeed would depend on the machine's
    // speed. That variant has its own tests (test/local/ecs-variants, test/handler/visibility).
    cloud = await LocalCloud.start({
      stateFile,
      copyDurationMs: 300,
      variants: { hiddenCopyActions: 'work' },
    });
    root = cloud.credentials;
    fcEndpoint = await cloud.fc.endpoint('cn-hangzhou');
    cloud.fc.createFunction('cn-hangzhou', {
      functionName: 'echo',
      runtime: 'nodejs20',
      handler: 'index.handler',
      zipFile: writeZip([
        { name: 'index.js', data: Buffer.from('exports.handler = async (e) => e;') },
      ]).toString('base64'),
      timeout: 5,
    });
  });

  afterAll(async () => {
    await cloud.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const rpc = (version: string, action: string, params: Record<string, string>, key: Key = root) =>
    send(cloud.endpoint, signV3({ endpoint: cloud.endpoint, key, action, version, query: params }));

  it('answers every ECS action with a well-formed result or error, whatever the parameters', async () => {
    const actions = [...Object.keys(ECS_ACTIONS), 'NoSuchAction', 'describeimages', ...PROTOTYPE_NAMES];
    const copies: string[] = [SEED_IMAGE];
    let n = 0;
    /** A valid request for each action, which the fuzz then bends (or replaces, for the rest of the cases). */
    const validFor = (action: string, copy: string): Record<string, string> => {
      const image = { RegionId: 'cn-shanghai', ImageId: copy };
      const resource = { RegionId: 'cn-shanghai', ResourceType: 'image', 'ResourceId.1': copy };
      switch (action) {
        case 'DescribeImages':
          return { RegionId: 'cn-shanghai', Status: 'Creating,Waiting,Available,CreateFailed' };
        case 'CopyImage':
          return {
            RegionId: 'cn-hangzhou',
            ImageId: SEED_IMAGE,
            DestinationRegionId: 'cn-shanghai',
            DestinationImageName: `fuzz-${++n}`,
          };
        case 'CancelCopyImage':
        case 'DeleteImage':
        case 'DescribeImageSharePermission':
        case 'ModifyImageSharePermission':
          return image;
        case 'ModifyImageAttribute':
          return { ...image, ImageName: `renamed-${++n}`, Description: 'd' };
        case 'TagResources':
          return { ...resource, 'Tag.1.Key': 'k', 'Tag.1.Value': 'v' };
        case 'UntagResources':
          return { ...resource, 'TagKey.1': 'k' };
        case 'ListTagResources':
          return { RegionId: 'cn-shanghai', ResourceType: 'image' };
        case 'JoinResourceGroup':
          return {
            RegionId: 'cn-shanghai',
            ResourceType: 'image',
            ResourceId: copy,
            ResourceGroupId: 'rg-fuzz1',
          };
        default:
          return {};
      }
    };
    const outcomes = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...actions),
        fc.dictionary(ecsKeyArb, valueArb, { maxKeys: 8 }),
        fc.constantFrom('valid', 'bent', 'random'),
        fc.nat(),
        fc.boolean(),
        async (action, params, shape, pick, v1) => {
          const base = shape === 'random' ? {} : validFor(action, copies[pick % copies.length]);
          const query = shape === 'valid' ? base : { ...base, ...params };
          const res = v1
            ? await send(cloud.endpoint, signV1(cloud.endpoint, root, action, query))
            : await rpc(ECS_VERSION, action, query);
          const body = expectWellFormed(res);
          const outcome = `${action} ${res.status} ${String(body.Code ?? '')}`;
          outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
          if (res.status === 431) {
            return;
          } // a URL over the header limit is refused before routing
          if (!Object.prototype.hasOwnProperty.call(ECS_ACTIONS, action)) {
            expect([res.status, body.Code]).toEqual([404, 'InvalidAction.NotFound']);
          }
          if (res.status === 200) {
            expect(body.RequestId).toMatch(/^[0-9A-F-]{36}$/);
          }
          if (action === 'CopyImage' && typeof body.ImageId === 'string') {
            copies.push(body.ImageId);
          }
        },
      ),
      { numRuns: runs(500) },
    );
    // The fuzz reached every action, and most succeeded at least once.
    const succeeded = new Set(
      [...outcomes.keys()].filter((o) => o.includes(' 200 ')).map((o) => o.split(' ')[0]),
    );
    expect(succeeded.size).toBeGreaterThanOrEqual(6);
    // Whatever it did, the images are still consistent.
    for (const region of cloud.ecs.regions()) {
      const images = cloud.ecs.listImages(region);
      expect(new Set(images.map((i) => i.imageName)).size).toBe(images.length);
      for (const image of images) {
        expect(IMAGE_STATUSES).toContain(image.status);
        expect(Number.isInteger(image.progress) && image.progress >= 0 && image.progress <= 100).toBe(true);
        expect(image.imageName.length).toBeGreaterThan(0);
        expect(Object.keys(image.tags).length).toBeLessThanOrEqual(20);
        expect(image.regionId).toBe(region);
      }
    }
  });

  it('runs any template that passes validation to a final status, with a reason when it failed', async () => {
    let run = 0;
    const outcomes = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(runnableTemplateArb, fc.boolean(), async (template, update) => {
        const create = await send(
          cloud.endpoint,
          signV3({
            endpoint: cloud.endpoint,
            key: root,
            action: 'CreateStack',
            version: ROS_VERSION,
            query: { RegionId: 'cn-hangzhou', StackName: `runnable-${++run}`, TimeoutInMinutes: '10' },
            body: Buffer.from(encodeQuery({ TemplateBody: template })),
            contentType: 'application/x-www-form-urlencoded',
          }),
        );
        const body = expectWellFormed(create);
        const outcome = `${create.status} ${String(body.Code ?? '')}`;
        outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
        if (create.status !== 200 || !update) {
          return;
        }
        await cloud.ros.settled();
        const res = await rpc(ROS_VERSION, 'UpdateStack', {
          RegionId: 'cn-hangzhou',
          StackId: String(body.StackId),
          UsePreviousParameters: 'true',
        });
        expectWellFormed(res);
      }),
      { numRuns: runs(80) },
    );
    await cloud.ros.settled();
    expect(outcomes.get('200 ')).toBeGreaterThan(20);
    for (const stack of cloud.ros.stacks('cn-hangzhou')) {
      expect(stack.status).toMatch(/_(COMPLETE|FAILED)$/);
      if (stack.status.endsWith('FAILED')) {
        expect(stack.statusReason).toBeTruthy();
      }
    }
  });

  it('answers every ROS action with a well-formed result or error, templates of any shape included', async () => {
    const actionArb = fc.oneof(
      { weight: 10, arbitrary: fc.constant('CreateStack') },
      { weight: 3, arbitrary: fc.constant('UpdateStack') },
      { weight: 2, arbitrary: fc.constant('ValidateTemplate') },
      {
        weight: 6,
        arbitrary: fc.constantFrom(
          'DeleteStack',
          'GetStack',
          'ListStacks',
          'ListStackEvents',
          'ListStackResources',
          'GetStackResource',
          'GetTemplate',
          'NoSuchAction',
          ...PROTOTYPE_NAMES,
        ),
      },
    );
    const stackIds: string[] = [];
    const stackIdArb = fc.oneof(
      { weight: 1, arbitrary: fc.constantFrom('not-a-stack', '00000000-0000-0000-0000-000000000000') },
      { weight: 4, arbitrary: fc.nat().map((i) => stackIds[i % Math.max(1, stackIds.length)] ?? 'none') },
    );
    const outcomes = new Map<string, number>();
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        actionArb,
        // Mostly valid requests with a few odd parameters, so that the engine runs the templates.
        fc.oneof(
          { weight: 2, arbitrary: fc.constant({}) },
          { weight: 1, arbitrary: fc.dictionary(rosKeyArb, valueArb, { maxKeys: 3 }) },
        ),
        fc.option(templateBodyArb, { nil: undefined, freq: 8 }),
        fc.option(stackIdArb, { nil: undefined, freq: 8 }),
        fc.oneof(
          { weight: 8, arbitrary: fc.constant('cn-hangzhou') },
          { weight: 1, arbitrary: fc.constantFrom('cn-beijing', 'xx', '') },
        ),
        fc.oneof(
          { weight: 8, arbitrary: fc.stringMatching(/^[a-z0-9]{1,12}$/) },
          { weight: 1, arbitrary: fc.string({ maxLength: 20 }) },
        ),
        fc.oneof(
          { weight: 6, arbitrary: fc.constant(undefined) },
          { weight: 1, arbitrary: fc.constantFrom('P1', 'ALIYUN::Region') },
        ),
        async (action, extra, template, stackId, region, stackName, parameterKey) => {
          const p: Record<string, string> = {
            RegionId: region,
            StackName: `fuzz-${stackName}-${++run}`,
            ...extra,
          };
          if (template !== undefined) {
            p.TemplateBody = template;
          }
          if (stackId !== undefined) {
            p.StackId = stackId;
          }
          if (parameterKey !== undefined) {
            p['Parameters.1.ParameterKey'] = parameterKey;
            p['Parameters.1.ParameterValue'] = (extra as Record<string, string>).StackName ?? 'v';
          }
          // CreateStack sends TemplateBody in a form body, as the ROS SDK does.
          const { TemplateBody, ...query } = p;
          const body = TemplateBody === undefined ? undefined : Buffer.from(encodeQuery({ TemplateBody }));
          const res = await send(
            cloud.endpoint,
            signV3({
              endpoint: cloud.endpoint,
              key: root,
              action,
              version: ROS_VERSION,
              query,
              body,
              contentType: body ? 'application/x-www-form-urlencoded' : undefined,
            }),
          );
          const answer = expectWellFormed(res);
          const outcome = `${action} ${res.status} ${String(answer.Code ?? '')}`;
          outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
          if (action === 'NoSuchAction' && res.status !== 431) {
            expect([res.status, answer.Code]).toEqual([404, 'InvalidAction.NotFound']);
          }
          if (res.status === 200 && typeof answer.StackId === 'string') {
            stackIds.push(answer.StackId);
          }
        },
      ),
      { numRuns: runs(300) },
    );
    await cloud.ros.settled();
    // The fuzzing reached the template checks (the test above runs templates that pass them).
    expect(outcomes.get('CreateStack 400 InvalidTemplate')).toBeGreaterThan(10);
    // Every stack the fuzzing created has come to rest, in a status with a reason when it failed.
    for (const stack of cloud.ros.stacks('cn-hangzhou')) {
      expect(stack.status).toMatch(/_(COMPLETE|FAILED)$/);
      if (stack.status.endsWith('FAILED')) {
        expect(stack.statusReason).toBeTruthy();
      }
    }
  });

  it('answers every FC 3.0 call (any method, path and body) with a well-formed result or error', async () => {
    const specArb = fc.record(
      {
        functionName: fc.oneof(
          fc.constantFrom('echo', 'fuzz-fn', '', 'a'.repeat(200)),
          fc.string(),
          fc.integer(),
        ),
        runtime: fc.oneof(fc.constantFrom('nodejs20', 'python3', ''), fc.jsonValue({ maxDepth: 1 })),
        handler: fc.oneof(
          fc.constantFrom('index.handler', 'x', '../../etc.passwd'),
          fc.jsonValue({ maxDepth: 1 }),
        ),
        code: fc.oneof(
          fc.record({
            zipFile: fc.oneof(fc.base64String(), fc.constant(writeZip([]).toString('base64')), fc.integer()),
          }),
          fc.constant({ ossBucketName: 'b', ossObjectName: 'o' }),
          fc.jsonValue({ maxDepth: 1 }),
        ),
        timeout: fc.oneof(fc.integer(), fc.double(), fc.string(), fc.constant(null)),
        memorySize: fc.oneof(fc.integer(), fc.string()),
        role: fc.oneof(fc.constantFrom('acs:ram::1:role/x', ''), fc.string(), fc.integer()),
        environmentVariables: fc.oneof(
          fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 2 }),
          fc.jsonValue({ maxDepth: 2 }),
        ),
        description: fc.oneof(fc.string(), fc.jsonValue({ maxDepth: 1 })),
      },
      { requiredKeys: [] },
    );
    const validSpec = {
      functionName: 'fuzz-fn',
      runtime: 'nodejs20',
      handler: 'index.handler',
      code: {
        zipFile: writeZip([
          { name: 'index.js', data: Buffer.from('exports.handler = async (e) => e;') },
        ]).toString('base64'),
      },
      timeout: 5,
    };
    // A valid function with one field of any type: what is accepted must read back with the documented types.
    const almostValidArb = fc
      .tuple(
        fc.constantFrom(
          'timeout',
          'memorySize',
          'environmentVariables',
          'description',
          'role',
          'handler',
          'runtime',
          'code',
        ),
        fc.oneof(
          fc.jsonValue({ maxDepth: 2 }),
          fc.constantFrom(10, 256, 'x', { A: 'b' }, { A: 1 }, [1], null),
        ),
      )
      .map(([field, value]) => Buffer.from(JSON.stringify({ ...validSpec, [field]: value })));
    const bodyArb = fc.oneof(
      almostValidArb,
      specArb.map((s) => Buffer.from(JSON.stringify(s))),
      fc.json({ maxDepth: 2 }).map((s) => Buffer.from(s)),
      fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)),
      fc.constant(Buffer.alloc(0)),
    );
    const outcomes = new Map<string, number>();
    const pathArb = fc.oneof(
      fc.constantFrom(
        '',
        '/',
        '',
        '/fuzz-fn',
        '/fuzz-fn',
        '/echo',
        '/echo/invocations',
        '/nope',
        '/nope/invocations',
        '/%',
        '/%E0%A4%A',
        '/a/b/c',
        '/..%2F..',
        '/echo/invocations/x',
      ),
      fc.string({ maxLength: 12 }).map((s) => `/${encodeURIComponent(s)}`),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH'),
        pathArb,
        bodyArb,
        fc.boolean(),
        fc.constantFrom(undefined, 'Async', 'Sync', 'bogus'),
        fc.constantFrom(
          'CreateFunction',
          'GetFunction',
          'UpdateFunction',
          'DeleteFunction',
          'InvokeFunction',
          'ListFunctions',
        ),
        async (method, rest, body, regional, invocationType, action) => {
          // The echo function must survive for the tests below: updates and deletes go to another name.
          if ((method === 'PUT' || method === 'DELETE') && rest.startsWith('/echo')) {
            rest = `/fuzz-fn${rest.slice(5)}`;
          }
          const endpoint = regional ? fcEndpoint : cloud.endpoint;
          const res = await send(
            endpoint,
            signV3({
              endpoint,
              key: root,
              method,
              action,
              version: FC_VERSION,
              pathname: `${FC_PREFIX}${rest}`,
              body,
              contentType: 'application/json',
              extraHeaders: invocationType ? { 'x-fc-invocation-type': invocationType } : {},
            }),
          );
          const answer = expectWellFormed(res);
          const outcome = `${method} ${res.status} ${String(answer.Code ?? '')}`;
          outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
        },
      ),
      { numRuns: runs(150) },
    );
    await cloud.fc.settled();
    // The calls got past authentication to the API, some all the way.
    expect([...outcomes.keys()].filter((o) => / 2\d\d /.test(o)).length).toBeGreaterThan(0);
    expect([...outcomes.keys()].some((o) => o.includes('IncompleteSignature'))).toBe(false);
    // Whatever was created or updated reads back with the documented field types.
    for (const region of ['cn-hangzhou', 'cn-shanghai', 'cn-beijing']) {
      for (const info of cloud.fc.listFunctions(region)) {
        expect(typeof info.functionName).toBe('string');
        expect(typeof info.runtime).toBe('string');
        expect(typeof info.handler).toBe('string');
        expect(Number.isInteger(info.timeout)).toBe(true);
        expect(Number.isInteger(info.memorySize)).toBe(true);
        if (info.description !== undefined) {
          expect(typeof info.description).toBe('string');
        }
        for (const value of Object.values(info.environmentVariables ?? {})) {
          expect(typeof value).toBe('string');
        }
      }
    }
  });

  it('creates and updates functions only from well-typed input: what it accepts reads back as documented', async () => {
    const zipFile = writeZip([
      { name: 'index.js', data: Buffer.from('exports.handler = async (e) => e;') },
    ]).toString('base64');
    const valid = { runtime: 'nodejs20', handler: 'index.handler', code: { zipFile }, timeout: 5 };
    const fieldArb = fc.constantFrom(
      'timeout',
      'memorySize',
      'environmentVariables',
      'description',
      'role',
      'handler',
      'runtime',
      'code',
      'functionName',
    );
    const valueArb = fc.oneof(
      fc.jsonValue({ maxDepth: 2 }),
      fc.constantFrom(10, 256, 1.5, -1, 86401, 'x', '', { A: 'b' }, { A: 1 }, { A: null }, [1], null, true),
    );
    let n = 0;
    const accepted = { create: 0, update: 0 };
    await fc.assert(
      // One case in five keeps the valid input as it is, so that some creates and updates are accepted.
      fc.asyncProperty(
        fieldArb,
        fc.option(valueArb, { nil: undefined, freq: 4 }),
        fc.boolean(),
        async (field, value, update) => {
          const name = `typed-${++n}`;
          const input =
            value === undefined
              ? { ...valid, functionName: name }
              : { ...valid, functionName: name, [field]: value };
          const body = Buffer.from(JSON.stringify(input));
          if (update) {
            cloud.fc.createFunction('cn-shanghai', { ...valid, functionName: name, zipFile });
          }
          const endpoint = await cloud.fc.endpoint('cn-shanghai');
          const res = await send(
            endpoint,
            signV3({
              endpoint,
              key: root,
              method: update ? 'PUT' : 'POST',
              action: update ? 'UpdateFunction' : 'CreateFunction',
              version: FC_VERSION,
              pathname: update ? `${FC_PREFIX}/${name}` : FC_PREFIX,
              body,
              contentType: 'application/json',
            }),
          );
          const answer = expectWellFormed(res);
          if (res.status !== 200) {
            // A name the fuzz chose twice exists already.
            expect(['InvalidArgument', 'FunctionAlreadyExists']).toContain(answer.Code);
            return;
          }
          accepted[update ? 'update' : 'create']++;
          const info = cloud.fc.getFunction('cn-shanghai', String(answer.functionName))!;
          expect(typeof info.runtime).toBe('string');
          expect(typeof info.handler).toBe('string');
          expect(Number.isInteger(info.timeout)).toBe(true);
          expect(Number.isInteger(info.memorySize)).toBe(true);
          expect(['undefined', 'string']).toContain(typeof info.description);
          expect(['undefined', 'string']).toContain(typeof info.role);
          if (info.environmentVariables !== undefined) {
            expect(typeof info.environmentVariables).toBe('object');
            for (const v of Object.values(info.environmentVariables)) {
              expect(typeof v).toBe('string');
            }
          }
        },
      ),
      { numRuns: runs(120) },
    );
    expect(accepted.create).toBeGreaterThan(0);
    expect(accepted.update).toBeGreaterThan(0);
  });

  it('checks what providers post to response URLs, never failing with a 500', async () => {
    const callbacks = Array.from({ length: 5 }, () => cloud.createCallback());
    const responseArb = fc.record(
      {
        Status: fc.constantFrom('SUCCESS', 'FAILED', 'success', 5),
        Reason: fc.oneof(fc.string(), fc.integer()),
        PhysicalResourceId: fc.oneof(fc.string(), fc.constant('p'.repeat(300)), fc.integer()),
        StackId: fc.oneof(fc.string(), fc.constant(null)),
        RequestId: fc.string(),
        LogicalResourceId: fc.string(),
        Data: fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constant('x'.repeat(5000))),
      },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(
        fc.nat(callbacks.length),
        fc.constantFrom('POST', 'PUT', 'GET'),
        fc.oneof(
          responseArb.map((r) => JSON.stringify(r)),
          // A valid answer with one field of any value.
          fc
            .tuple(
              fc.constantFrom('Status', 'Reason', 'PhysicalResourceId', 'Data', 'NoEcho'),
              fc.jsonValue({ maxDepth: 1 }),
            )
            .map(([field, value]) =>
              JSON.stringify({
                Status: 'SUCCESS',
                PhysicalResourceId: 'p-1',
                StackId: 's',
                RequestId: 'r',
                LogicalResourceId: 'L',
                [field]: value,
              }),
            ),
          fc.string(),
          fc.constant('[]'),
        ),
        fc.constantFrom('application/json', 'text/plain', ''),
        fc.constantFrom('good', 'bad', 'missing', 'intranet'),
        fc.boolean(),
        async (which, anyMethod, body, anyContentType, anySignature, proper) => {
          // Half the posts are made as a provider makes them, so that the body is what decides.
          const method = proper ? 'POST' : anyMethod;
          const contentType = proper ? 'application/json' : anyContentType;
          const signature = proper ? 'good' : anySignature;
          const callback = callbacks[which];
          const url = new URL(
            callback
              ? signature === 'intranet'
                ? callback.intranetUrl
                : callback.url
              : `http://${cloud.endpoint}/ros-callbacks/${randomUUID()}`,
          );
          if (signature === 'bad') {
            url.searchParams.set('Signature', 'forged');
          }
          if (signature === 'missing') {
            url.searchParams.delete('Signature');
          }
          const res = await send(cloud.endpoint, {
            method,
            path: `${url.pathname}${url.search}`,
            headers: contentType ? { 'content-type': contentType } : {},
            body: Buffer.from(body),
          });
          expectWellFormed(res);
          if (callback && signature === 'bad') {
            expect(res.status).toBe(403);
          }
        },
      ),
      { numRuns: runs(150) },
    );
    // Some bodies were accepted, and only those that keep the contract.
    expect(callbacks.flatMap((c) => c.bodies).length).toBeGreaterThan(0);
    for (const body of callbacks.flatMap((c) => c.bodies)) {
      expect(['SUCCESS', 'FAILED']).toContain(body.Status);
      for (const key of ['StackId', 'RequestId', 'LogicalResourceId'] as const) {
        expect(typeof body[key] === 'string' && body[key] !== '').toBe(true);
      }
      if (body.Status === 'SUCCESS') {
        expect(typeof body.PhysicalResourceId).toBe('string');
      }
      if (body.Status === 'FAILED') {
        expect(typeof body.Reason).toBe('string');
      }
      if (body.PhysicalResourceId !== undefined) {
        expect(Buffer.byteLength(String(body.PhysicalResourceId))).toBeLessThanOrEqual(255);
      }
      if (body.Data !== undefined) {
        expect(typeof body.Data === 'object' && !Array.isArray(body.Data)).toBe(true);
      }
    }
  });

  it('evaluates role credentials with any policy: a clean refusal at issue time, or 200 / Forbidden.RAM, never a crash', async () => {
    await fc.assert(
      fc.asyncProperty(
        POLICY_ARB,
        fc.constantFrom('DescribeImages', 'DescribeRegions', 'CopyImage', 'DeleteImage'),
        async (policy, action) => {
          let key: Key;
          try {
            key = cloud.issueRoleCredentials('fuzz-role', policy as PolicyDocument);
          } catch (err) {
            expect(err).toBeInstanceOf(Error);
            expect((err as Error).message).toMatch(/^policy of role fuzz-role: /);
            return;
          }
          const res = await rpc(
            ECS_VERSION,
            action,
            { RegionId: 'cn-hangzhou', ImageId: 'm-doesnotexist' },
            key,
          );
          const body = expectWellFormed(res);
          if (res.status === 403) {
            expect(body.Code).toBe('Forbidden.RAM');
          }
        },
      ),
      { numRuns: runs(200) },
    );
  });

  describe('authentication', () => {
    const imagesIn = (region: string) => cloud.ecs.listImages(region).length;

    /** Mutations of a valid signed CopyImage, each with the code it must be refused with. */
    const MUTATIONS: Record<
      string,
      { code: string; build: (endpoint: string, query: Record<string, string>) => RawRequest }
    > = {
      unsigned: {
        code: 'IncompleteSignature',
        build: (endpoint, query) => {
          const { authorization: _drop, ...headers } = sign(endpoint, query).headers;
          return { ...sign(endpoint, query), headers };
        },
      },
      'garbled Authorization': {
        code: 'IncompleteSignature',
        build: (endpoint, query) =>
          withHeader(sign(endpoint, query), 'authorization', 'ACS3-HMAC-SHA256 nonsense'),
      },
      'wrong signature': {
        code: 'SignatureDoesNotMatch',
        build: (endpoint, query) => {
          const req = sign(endpoint, query);
          return withHeader(
            req,
            'authorization',
            req.headers.authorization.replace(/Signature=\w+/, `Signature=${'0'.repeat(64)}`),
          );
        },
      },
      'wrong secret': {
        code: 'SignatureDoesNotMatch',
        build: (endpoint, query) =>
          signV3({
            endpoint,
            key: { ...root, accessKeySecret: 'guess' },
            action: 'CopyImage',
            version: ECS_VERSION,
            query,
          }),
      },
      'unknown access key': {
        code: 'InvalidAccessKeyId.NotFound',
        build: (endpoint, query) =>
          signV3({
            endpoint,
            key: { ...root, accessKeyId: 'LTAInobody' },
            action: 'CopyImage',
            version: ECS_VERSION,
            query,
          }),
      },
      'action changed after signing': {
        code: 'SignatureDoesNotMatch',
        build: (endpoint, query) => withHeader(sign(endpoint, query), 'x-acs-action', 'DeleteImage'),
      },
      'parameter changed after signing': {
        code: 'SignatureDoesNotMatch',
        build: (endpoint, query) => {
          const req = sign(endpoint, query);
          return { ...req, path: req.path.replace('cn-shanghai', 'cn-beijing') };
        },
      },
      'body added after signing': {
        code: 'SignatureDoesNotMatch',
        build: (endpoint, query) => ({ ...sign(endpoint, query), body: Buffer.from('x=1') }),
      },
      'required header not signed': {
        code: 'IncompleteSignature',
        build: (endpoint, query) => {
          const req = sign(endpoint, query);
          return withHeader(req, 'authorization', req.headers.authorization.replace('x-acs-date;', ''));
        },
      },
      'date not ISO': {
        code: 'IllegalTimestamp',
        build: (endpoint, query) => sign(endpoint, query, { date: new Date().toUTCString() }),
      },
      'date 16 minutes old': {
        code: 'IllegalTimestamp',
        build: (endpoint, query) => sign(endpoint, query, { date: isoSeconds(Date.now() - 16 * 60_000) }),
      },
      'V1 without Timestamp': {
        code: 'IncompleteSignature',
        build: (endpoint, query) => {
          const req = signV1(endpoint, root, 'CopyImage', query);
          return { ...req, path: req.path.replace(/&Timestamp=[^&]*/, '') };
        },
      },
      'V1 with a wrong signature': {
        code: 'SignatureDoesNotMatch',
        build: (endpoint, query) => {
          const req = signV1(endpoint, root, 'CopyImage', query);
          return { ...req, path: req.path.replace(/Signature=[^&]*$/, 'Signature=AAAA') };
        },
      },
      'STS key without its token': {
        code: 'InvalidSecurityToken.MismatchWithAccessKey',
        build: (endpoint, query) => {
          const { securityToken: _t, ...key } = stsKey();
          return signV3({ endpoint, key, action: 'CopyImage', version: ECS_VERSION, query });
        },
      },
      'STS key with another token': {
        code: 'InvalidSecurityToken.MismatchWithAccessKey',
        build: (endpoint, query) =>
          signV3({
            endpoint,
            key: { ...stsKey(), securityToken: 'CAISforged' },
            action: 'CopyImage',
            version: ECS_VERSION,
            query,
          }),
      },
    };

    /** Role credentials allowed everything, so only the token can be what is wrong. */
    const stsKey = (): Key =>
      cloud.issueRoleCredentials('fuzz-admin', {
        Version: '1',
        Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }],
      });

    function sign(
      endpoint: string,
      query: Record<string, string>,
      extra: Partial<V3Options> = {},
    ): RawRequest {
      return signV3({ endpoint, key: root, action: 'CopyImage', version: ECS_VERSION, query, ...extra });
    }

    function withHeader(req: RawRequest, name: string, value: string): RawRequest {
      return { ...req, headers: { ...req.headers, [name]: value } };
    }

    it('refuses unsigned, badly signed and stale requests with the right code, changing nothing', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...Object.keys(MUTATIONS)),
          fc.string({ maxLength: 16 }),
          async (mutation, name) => {
            const before = imagesIn('cn-shanghai');
            const query = {
              RegionId: 'cn-hangzhou',
              ImageId: SEED_IMAGE,
              DestinationRegionId: 'cn-shanghai',
              DestinationImageName: `fuzz-${name}`,
            };
            const { code, build } = MUTATIONS[mutation];
            const res = await send(cloud.endpoint, build(cloud.endpoint, query));
            const body = expectWellFormed(res);
            expect([res.status, body.Code]).toEqual([400, code]);
            expect(imagesIn('cn-shanghai')).toBe(before);
          },
        ),
        { numRuns: runs(150) },
      );
    });

    it('serves a signed request once and refuses its replays (V3 and V1)', async () => {
      await fc.assert(
        fc.asyncProperty(fc.boolean(), fc.integer({ min: 1, max: 3 }), async (v1, replays) => {
          const req = v1
            ? signV1(cloud.endpoint, root, 'DescribeRegions', {})
            : signV3({
                endpoint: cloud.endpoint,
                key: root,
                action: 'DescribeRegions',
                version: ECS_VERSION,
              });
          expect((await send(cloud.endpoint, req)).status).toBe(200);
          for (let i = 0; i < replays; i++) {
            const res = await send(cloud.endpoint, req);
            expect([res.status, expectWellFormed(res).Code]).toEqual([400, 'SignatureNonceUsed']);
          }
        }),
        { numRuns: runs(30) },
      );
    });

    it('refuses unsigned and replayed calls to FC and ROS too', async () => {
      const unsignedFc = await send(fcEndpoint, {
        method: 'GET',
        path: `${FC_PREFIX}/echo`,
        headers: {},
        body: Buffer.alloc(0),
      });
      expect([unsignedFc.status, expectWellFormed(unsignedFc).Code]).toEqual([400, 'IncompleteSignature']);
      const invoke = signV3({
        endpoint: fcEndpoint,
        key: root,
        method: 'POST',
        action: 'InvokeFunction',
        version: FC_VERSION,
        pathname: `${FC_PREFIX}/echo/invocations`,
        body: Buffer.from('"hi"'),
      });
      expect((await send(fcEndpoint, invoke)).status).toBe(200);
      const replayed = await send(fcEndpoint, invoke);
      expect([replayed.status, expectWellFormed(replayed).Code]).toEqual([400, 'SignatureNonceUsed']);
      expect(cloud.fc.invocations({ functionName: 'echo' }).filter((i) => !i.async).length).toBeGreaterThan(
        0,
      );
      const ros = signV3({
        endpoint: cloud.endpoint,
        key: root,
        action: 'ListStacks',
        version: ROS_VERSION,
        query: { RegionId: 'cn-hangzhou' },
      });
      expect((await send(cloud.endpoint, ros)).status).toBe(200);
      const rosReplay = await send(cloud.endpoint, ros);
      expect([rosReplay.status, expectWellFormed(rosReplay).Code]).toEqual([400, 'SignatureNonceUsed']);
      const { authorization: _a, ...unsignedHeaders } = ros.headers;
      const rosUnsigned = await send(cloud.endpoint, {
        ...ros,
        headers: { ...unsignedHeaders, 'x-acs-signature-nonce': 'fresh' },
      });
      expect([rosUnsigned.status, expectWellFormed(rosUnsigned).Code]).toEqual([400, 'IncompleteSignature']);
    });

    it('listens on 127.0.0.1 only: the loopback address answers, other addresses of this host refuse', async () => {
      const addresses = cloud.addresses();
      expect(addresses.length).toBeGreaterThanOrEqual(2); // the shared endpoint and cn-hangzhou's FC endpoint
      for (const address of addresses) {
        expect([address.family, address.address]).toEqual(['IPv4', '127.0.0.1']);
      }
      const endpoints = [cloud.endpoint, fcEndpoint];
      for (const endpoint of endpoints) {
        const [host, port] = endpoint.split(':');
        expect(host).toBe('127.0.0.1');
        expect(await connects('127.0.0.1', Number(port))).toBe(true);
        const others = Object.values(os.networkInterfaces())
          .flat()
          .filter((a): a is os.NetworkInterfaceInfo => !!a && !a.internal)
          .map((a) => a.address);
        for (const address of [...others, '::1']) {
          expect(await connects(address, Number(port))).toBe(false);
        }
      }
    });
  });

  it('answers ROS actions named like Object.prototype members as unknown actions, revealing nothing', async () => {
    // `valueOf` answered 200 with the whole serialized service, the root access key secret included.
    for (const action of PROTOTYPE_NAMES) {
      const res = await send(
        cloud.endpoint,
        signV3({
          endpoint: cloud.endpoint,
          key: root,
          action,
          version: ROS_VERSION,
          query: { RegionId: 'cn-hangzhou' },
        }),
      );
      expect([action, res.status, expectWellFormed(res).Code]).toEqual([
        action,
        404,
        'InvalidAction.NotFound',
      ]);
      expect(res.text).not.toContain(cloud.credentials.accessKeySecret);
    }
  });

  it('keeps a state that loads and serves after all of the above', async () => {
    await cloud.ros.settled();
    await cloud.fc.settled();
    const stacksBefore = cloud.ros.stacks('cn-hangzhou').length;
    await cloud.stop();
    const text = fs.readFileSync(stateFile, 'utf8');
    expect(() => JSON.parse(text)).not.toThrow();
    cloud = await LocalCloud.start({ stateFile, copyDurationMs: 300 });
    expect(cloud.credentials).toEqual(root);
    const config = { ...root, endpoint: cloud.endpoint, protocol: 'http' };
    for (const region of cloud.ecs.regions()) {
      const ecs = new Ecs(new $OpenApiUtil.Config({ ...config, regionId: region }));
      const res = await ecs.describeImages(
        new $Ecs.DescribeImagesRequest({ regionId: region, status: IMAGE_STATUSES.join(','), pageSize: 100 }),
      );
      for (const image of res.body!.images?.image ?? []) {
        expect(IMAGE_STATUSES).toContain(image.status);
        expect(image.progress).toMatch(/^\d{1,3}%$/);
        expect(image.imageName).toBeTruthy();
      }
    }
    const ros = new Ros(new $OpenApiUtil.Config({ ...config, regionId: 'cn-hangzhou' }));
    const stacks = await ros.listStacks(
      new $Ros.ListStacksRequest({ regionId: 'cn-hangzhou', pageSize: 100, status: undefined }),
    );
    expect(stacks.statusCode).toBe(200);
    expect(cloud.ros.stacks('cn-hangzhou')).toHaveLength(stacksBefore);
    for (const stack of cloud.ros.stacks('cn-hangzhou')) {
      const got = await ros.getStack(
        new $Ros.GetStackRequest({ regionId: 'cn-hangzhou', stackId: stack.stackId }),
      );
      expect(got.body!.stackId).toBe(stack.stackId);
    }
    const invoked = await cloud.fc.invoke('cn-hangzhou', 'echo', Buffer.from('"still here"'));
    expect(invoked.payload.toString()).toBe('"still here"');
  });
});

function connects(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
