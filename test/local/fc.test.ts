import { Readable } from 'stream';
import Fc, * as $Fc from '@alicloud/fc20230330';
import * as $Ecs from '@alicloud/ecs20140526';
import { $OpenApiUtil } from '@alicloud/openapi-core';
import { RuntimeOptions } from '@darabonba/typescript';
import { LocalCloud } from '../../lib/local';
import { writeZip } from '../../lib/zip';
import { ecsClient, withCloud } from '../support/cloud';

const zipOf = (source: string) =>
  writeZip([{ name: 'index.js', data: Buffer.from(source) }]).toString('base64');

const ECHO = `
exports.handler = async (event, context) => {
  context.logger.info('got', event.length, 'bytes');
  return JSON.stringify({
    event: JSON.parse(event.toString()),
    isBuffer: Buffer.isBuffer(event),
    context: { requestId: context.requestId, function: context.function, region: context.region, accountId: context.accountId,
      credentials: context.credentials },
    env: { ecs: process.env.ALIBABA_CLOUD_ECS_ENDPOINT, fc: process.env.ALIBABA_CLOUD_FC_ENDPOINT,
      protocol: process.env.ALIBABA_CLOUD_ENDPOINT_PROTOCOL, custom: process.env.CUSTOM, home: process.env.HOME_SECRET },
  });
};`;

const TRUST = {
  Version: '1',
  Statement: [
    { Effect: 'Allow' as const, Action: 'sts:AssumeRole', Principal: { Service: ['fc.aliyuncs.com'] } },
  ],
};

describe('LocalCloud Function Compute 3.0', () => {
  let cloud: LocalCloud;
  let fc: Fc;
  beforeAll(async () => {
    cloud = await LocalCloud.start();
    cloud.putRole({
      roleName: 'reader',
      assumeRolePolicyDocument: TRUST,
      policies: [
        { Version: '1', Statement: [{ Effect: 'Allow', Action: 'ecs:DescribeRegions', Resource: '*' }] },
      ],
    });
    fc = new Fc(
      new $OpenApiUtil.Config({
        ...cloud.credentials,
        regionId: 'cn-hangzhou',
        endpoint: await cloud.fc.endpoint('cn-hangzhou'),
        protocol: 'http',
      }),
    );
  });
  afterAll(() => cloud.stop());

  const create = (functionName: string, source: string, extra: Partial<$Fc.CreateFunctionInput> = {}) =>
    fc.createFunction(
      new $Fc.CreateFunctionRequest({
        body: new $Fc.CreateFunctionInput({
          functionName,
          runtime: 'nodejs20',
          handler: 'index.handler',
          code: new $Fc.InputCodeLocation({ zipFile: zipOf(source) }),
          timeout: 10,
          ...extra,
        }),
      }),
    );
  const invoke = async (name: string, payload: unknown, async = false) => {
    const res = await fc.invokeFunctionWithOptions(
      name,
      new $Fc.InvokeFunctionRequest({ body: Readable.from(Buffer.from(JSON.stringify(payload))) }),
      new $Fc.InvokeFunctionHeaders({ xFcInvocationType: async ? 'Async' : undefined }),
      new RuntimeOptions({}),
    );
    const chunks: Buffer[] = [];
    for await (const chunk of res.body!) {
      chunks.push(Buffer.from(chunk));
    }
    return { status: res.statusCode, headers: res.headers!, text: Buffer.concat(chunks).toString() };
  };

  it('creates, gets and lists functions through the real FC client', async () => {
    const created = await create('echo', ECHO, {
      role: cloud.roleArn('reader'),
      environmentVariables: { CUSTOM: 'yes' },
      memorySize: 256,
    });
    expect(created.body).toMatchObject({
      functionName: 'echo',
      functionArn: `acs:fc:cn-hangzhou:${cloud.accountId}:functions/echo`,
      timeout: 10,
      memorySize: 256,
    });
    const got = await fc.getFunction('echo', new $Fc.GetFunctionRequest({}));
    expect(got.body!.handler).toBe('index.handler');
    expect(cloud.fc.listFunctions('cn-hangzhou').map((f) => f.functionName)).toContain('echo');
    await expect(create('echo', ECHO)).rejects.toMatchObject({
      code: 'FunctionAlreadyExists',
      statusCode: 409,
    });
  });

  it("runs the code with the event as a Buffer, an FC-like context and the role's credentials", async () => {
    const { status, headers, text } = await invoke('echo', { hello: 'world' });
    expect(status).toBe(200);
    const out = JSON.parse(text);
    expect(out.event).toEqual({ hello: 'world' });
    expect(out.isBuffer).toBe(true);
    expect(out.context).toMatchObject({
      requestId: headers['x-fc-request-id'],
      function: { name: 'echo', handler: 'index.handler', memory: 256, timeout: 10 },
      region: 'cn-hangzhou',
      accountId: cloud.accountId,
    });
    expect(out.env).toMatchObject({
      ecs: cloud.endpoint,
      fc: await cloud.fc.endpoint('cn-hangzhou'),
      protocol: 'http',
      custom: 'yes',
    });
    const ecs = (denied: boolean) =>
      ecsClient(cloud, 'cn-hangzhou', out.context.credentials)[denied ? 'describeImages' : 'describeRegions'](
        new $Ecs.DescribeImagesRequest({ regionId: 'cn-hangzhou' }),
      );
    await expect(ecs(false)).resolves.toBeDefined();
    await expect(ecs(true)).rejects.toMatchObject({ code: 'Forbidden.RAM' });
    expect(cloud.fc.invocations({ functionName: 'echo' }).at(-1)!.logs.join('\n')).toMatch(
      /\[INFO\] got 17 bytes/,
    );
  });

  it('does not pass the host environment to functions', async () => {
    process.env.HOME_SECRET = 'leak';
    try {
      expect(JSON.parse((await invoke('echo', {})).text).env.home).toBeUndefined();
    } finally {
      delete process.env.HOME_SECRET;
    }
  });

  it('answers an async invocation with 202 at once and runs it in the background', async () => {
    await create(
      'slow',
      `exports.handler = async () => { await new Promise(r => setTimeout(r, 300)); console.log('done'); return 'ok'; };`,
    );
    const { status } = await invoke('slow', {}, true);
    expect(status).toBe(202);
    await cloud.fc.settled();
    const [record] = cloud.fc.invocations({ functionName: 'slow' });
    expect(record).toMatchObject({ async: true, outcome: 'succeeded' });
    expect(record.logs).toContain('done');
  });

  it('retries a failed async invocation up to 3 times, each retry with a new request id by default; never a sync one', async () => {
    // Fails on the first two deliveries (counted in a file next to the code), succeeds on the third.
    await create(
      'flaky',
      `const fs = require('fs'); const path = require('os').tmpdir() + '/flaky-' + process.env.FC_ACCOUNT_ID;
       exports.handler = async () => {
         const n = (fs.existsSync(path) ? Number(fs.readFileSync(path, 'utf8')) : 0) + 1;
         fs.writeFileSync(path, String(n));
         if (n < 3) throw new Error('attempt ' + n + ' fails');
         return 'ok';
       };`,
    );
    await invoke('flaky', {}, true);
    await cloud.fc.settled();
    const records = cloud.fc.invocations({ functionName: 'flaky' });
    expect(records.map((r) => [r.attempt, r.outcome])).toEqual([
      [0, 'failed'],
      [1, 'failed'],
      [2, 'succeeded'],
    ]);
    // fcAsyncRetry: new-request-id (the default): each retry is a new request, tied to the first by retryOf.
    expect(new Set(records.map((r) => r.requestId)).size).toBe(3);
    expect(records.map((r) => r.retryOf)).toEqual([undefined, records[0].requestId, records[0].requestId]);

    await create('always-fails', `exports.handler = async () => { throw new Error('never'); };`);
    await invoke('always-fails', {}, true);
    await cloud.fc.settled();
    expect(cloud.fc.invocations({ functionName: 'always-fails' }).map((r) => r.attempt)).toEqual([
      0, 1, 2, 3,
    ]);

    const sync = await invoke('always-fails', {});
    expect(sync.headers['x-fc-error-type']).toBe('UnhandledInvocationError');
    await cloud.fc.settled();
    expect(cloud.fc.invocations({ functionName: 'always-fails' })).toHaveLength(5);
  });

  it('retries an invocation killed mid-flight as a failed one', async () => {
    cloud.setFaults({ rules: [{ kind: 'killInvocation', afterMs: 200, functionName: 'crashy', first: 1 }] });
    try {
      await create(
        'crashy',
        `exports.handler = async () => { await new Promise(r => setTimeout(r, 600)); return 'ok'; };`,
      );
      await invoke('crashy', {}, true);
      await cloud.fc.settled();
      expect(cloud.fc.invocations({ functionName: 'crashy' }).map((r) => [r.attempt, r.outcome])).toEqual([
        [0, 'killed'],
        [1, 'succeeded'],
      ]);
    } finally {
      cloud.setFaults(undefined);
    }
  });

  it('kills an invocation that outlives its timeout', async () => {
    await create('sleeper', `exports.handler = async () => new Promise(() => setInterval(() => {}, 1000));`, {
      timeout: 1,
    });
    const { headers, text } = await invoke('sleeper', {});
    expect(headers['x-fc-error-type']).toBe('FunctionTimeout');
    expect(JSON.parse(text).errorMessage).toBe('Function timed out after 1 seconds');
  });

  it('reports an unhandled error, also for callback-style handlers', async () => {
    await create(
      'thrower',
      `exports.handler = (event, context, callback) => callback(new TypeError('bad input'));`,
    );
    const { headers, text } = await invoke('thrower', {});
    expect(headers['x-fc-error-type']).toBe('UnhandledInvocationError');
    expect(JSON.parse(text)).toEqual({ errorMessage: 'bad input', errorType: 'TypeError' });
  });

  it('fails an invocation whose role does not trust Function Compute', async () => {
    cloud.putRole({
      roleName: 'untrusting',
      assumeRolePolicyDocument: {
        Version: '1',
        Statement: [
          { Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { Service: ['ecs.aliyuncs.com'] } },
        ],
      },
      policies: [],
    });
    await create('orphan', ECHO, { role: cloud.roleArn('untrusting') });
    const { headers, text } = await invoke('orphan', {});
    expect(headers['x-fc-error-type']).toBe('UnhandledInvocationError');
    expect(JSON.parse(text).errorMessage).toContain('does not trust fc.aliyuncs.com');
  });

  it("checks fc:InvokeFunction against the caller's policy", async () => {
    const creds = cloud.issueRoleCredentials('no-fc', {
      Version: '1',
      Statement: [{ Effect: 'Allow', Action: 'ecs:*', Resource: '*' }],
    });
    const client = new Fc(
      new $OpenApiUtil.Config({
        ...creds,
        regionId: 'cn-hangzhou',
        endpoint: await cloud.fc.endpoint('cn-hangzhou'),
        protocol: 'http',
      }),
    );
    await expect(
      client.invokeFunction(
        'echo',
        new $Fc.InvokeFunctionRequest({ body: Readable.from(Buffer.from('{}')) }),
      ),
    ).rejects.toMatchObject({
      code: 'Forbidden.RAM',
      statusCode: 403,
    });
  });

  it('keeps functions per region and refuses an unknown one', async () => {
    const shanghai = new Fc(
      new $OpenApiUtil.Config({
        ...cloud.credentials,
        regionId: 'cn-shanghai',
        endpoint: await cloud.fc.endpoint('cn-shanghai'),
        protocol: 'http',
      }),
    );
    await expect(shanghai.getFunction('echo', new $Fc.GetFunctionRequest({}))).rejects.toMatchObject({
      code: 'FunctionNotFound',
      statusCode: 404,
    });
  });

  it('refuses code that is not a zip and runtimes it cannot run', async () => {
    await expect(
      fc.createFunction(
        new $Fc.CreateFunctionRequest({
          body: new $Fc.CreateFunctionInput({
            functionName: 'bad',
            runtime: 'nodejs20',
            handler: 'index.handler',
            code: new $Fc.InputCodeLocation({ zipFile: 'bm90IGEgemlw' }),
          }),
        }),
      ),
    ).rejects.toMatchObject({ code: 'InvalidArgument' });
    await expect(create('py', ECHO, { runtime: 'python3.10' })).rejects.toMatchObject({
      code: 'InvalidArgument',
    });
  });
});

describe('LocalCloud Function Compute: the fcAsyncRetry variants', () => {
  const FAILS_TWICE = (marker: string) =>
    `const fs = require('fs'); const path = require('os').tmpdir() + '/${marker}-' + process.env.FC_ACCOUNT_ID;
     exports.handler = async () => {
       const n = (fs.existsSync(path) ? Number(fs.readFileSync(path, 'utf8')) : 0) + 1;
       fs.writeFileSync(path, String(n));
       if (n < 3) throw new Error('attempt ' + n + ' fails');
       return 'ok';
     };`;

  async function attempts(fcAsyncRetry: 'same-request-id' | 'none') {
    return withCloud({ variants: { fcAsyncRetry } }, async (cloud) => {
      cloud.fc.createFunction('cn-hangzhou', {
        functionName: 'flaky',
        runtime: 'nodejs20',
        handler: 'index.handler',
        zipFile: zipOf(FAILS_TWICE(`flaky-${fcAsyncRetry}`)),
      });
      const { requestId } = await cloud.fc.invoke('cn-hangzhou', 'flaky', Buffer.from('{}'), { async: true });
      await cloud.fc.settled();
      return { requestId, records: cloud.fc.invocations({ functionName: 'flaky' }) };
    });
  }

  it('same-request-id: each retry keeps the request id of the first delivery', async () => {
    const { requestId, records } = await attempts('same-request-id');
    expect(records.map((r) => [r.attempt, r.outcome, r.requestId])).toEqual([
      [0, 'failed', requestId],
      [1, 'failed', requestId],
      [2, 'succeeded', requestId],
    ]);
  });

  it('none: a failed asynchronous invocation is not retried', async () => {
    const { records } = await attempts('none');
    expect(records.map((r) => [r.attempt, r.outcome])).toEqual([[0, 'failed']]);
  });
});

describe('LocalCloud response URLs', () => {
  let cloud: LocalCloud;
  beforeAll(async () => (cloud = await LocalCloud.start()));
  afterAll(() => cloud.stop());

  const body = {
    Status: 'SUCCESS',
    PhysicalResourceId: 'm-1',
    StackId: 's',
    RequestId: 'r',
    LogicalResourceId: 'L',
    Data: { A: '1' },
  };
  const post = (url: string, payload: unknown, init: RequestInit = {}) =>
    fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(payload),
      ...init,
    });

  it('accepts a valid response and resolves with it', async () => {
    const callback = cloud.createCallback({
      expect: { StackId: 's', RequestId: 'r', LogicalResourceId: 'L' },
    });
    expect((await post(callback.url, body)).status).toBe(200);
    await expect(callback.response).resolves.toEqual(body);
    expect(callback.via).toEqual(['public']);
  });

  it('refuses other methods, a wrong signature, oversize bodies and missing fields', async () => {
    const callback = cloud.createCallback({ expect: { RequestId: 'r' } });
    expect(
      (
        await fetch(callback.url, {
          method: 'PUT',
          headers: { 'Content-Type': 'application/json' },
          body: '{}',
        })
      ).status,
    ).toBe(405);
    expect((await post(callback.url.replace(/Signature=[^&]+/, 'Signature=forged'), body)).status).toBe(403);
    expect((await post(callback.url, { ...body, Reason: 'x'.repeat(5000) })).status).toBe(400);
    expect((await post(callback.url, { ...body, PhysicalResourceId: undefined })).status).toBe(400);
    expect((await post(callback.url, { ...body, Status: 'FAILED' })).status).toBe(400);
    expect((await post(callback.url, { ...body, RequestId: 'other' })).status).toBe(400);
    expect(callback.rejections).toHaveLength(6);
    expect(callback.bodies).toHaveLength(0);
  });

  it('can fail the first posts and make the public URL unreachable', async () => {
    const callback = cloud.createCallback({ failFirst: 1, publicUnreachable: true });
    await expect(post(callback.url, body)).rejects.toThrow();
    expect((await post(callback.intranetUrl, body)).status).toBe(500);
    expect((await post(callback.intranetUrl, body)).status).toBe(200);
    expect(callback.via).toEqual(['intranet']);
  });
});
