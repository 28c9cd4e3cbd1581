import * as http from 'http';
import type { AddressInfo } from 'net';
import { Logger } from '../../lib/handler/log';
import { type ResponseBody, sendResponse, serializeResponse, truncateUtf8 } from '../../lib/handler/response';
import { RESPONSE_BODY_LIMIT_BYTES } from '../../lib/protocol';
import { FakeClock } from './fake-clock';

const bytes = (text: string) => Buffer.byteLength(text, 'utf8');

const body: ResponseBody = {
  Status: 'FAILED',
  Reason: 'x',
  PhysicalResourceId: 'm-uf6copy',
  StackId: 'stack-1',
  RequestId: 'request-1',
  LogicalResourceId: 'Copy',
  Data: {
    ImageId: 'm-uf6copy',
    RegionId: 'cn-shanghai',
    SourceImageId: 'm-bp1source',
    SourceRegionId: 'cn-hangzhou',
    ImageName: 'web',
  },
};

describe('truncateUtf8', () => {
  it('leaves text that fits alone', () => {
    expect(truncateUtf8('short', 10)).toBe('short');
  });

  it('cuts at a character boundary, ending with an ellipsis, within the byte budget', () => {
    const text = '镜像复制'.repeat(10); // 3 bytes a character
    const cut = truncateUtf8(text, 20);
    expect(bytes(cut)).toBeLessThanOrEqual(20);
    expect(cut).toBe('镜像复制镜…');
    expect(truncateUtf8('😀😀😀', 9)).toBe('😀…');
  });
});

describe('serializeResponse', () => {
  it('keeps a body that fits as it is', () => {
    expect(JSON.parse(serializeResponse(body))).toEqual(body);
  });

  it('shortens a long Reason so that the whole body stays within 4096 bytes, keeping the rest', () => {
    const long = { ...body, Reason: 'é'.repeat(5000) };
    const json = serializeResponse(long);
    expect(bytes(json)).toBeLessThanOrEqual(RESPONSE_BODY_LIMIT_BYTES);
    expect(bytes(json)).toBeGreaterThan(RESPONSE_BODY_LIMIT_BYTES - 10);
    const parsed = JSON.parse(json);
    expect(parsed.Data).toEqual(body.Data);
    expect(parsed.Reason.endsWith('…')).toBe(true);
  });

  it('accounts for JSON escaping when shortening', () => {
    const escaped = { ...body, Reason: '"\\\n\u0001'.repeat(2000) };
    const json = serializeResponse(escaped);
    expect(bytes(json)).toBeLessThanOrEqual(RESPONSE_BODY_LIMIT_BYTES);
    expect(JSON.parse(json).Reason.length).toBeGreaterThan(100);
  });

  it('honours a smaller limit', () => {
    expect(bytes(serializeResponse({ ...body, Reason: 'r'.repeat(1000) }, 600))).toBeLessThanOrEqual(600);
  });
});

describe('sendResponse', () => {
  interface Received {
    method?: string;
    headers: http.IncomingHttpHeaders;
    body: string;
    path?: string;
  }
  let server: http.Server;
  let base: string;
  const received: Received[] = [];
  let statuses: number[] = [];

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        received.push({
          method: req.method,
          headers: req.headers,
          body: Buffer.concat(chunks).toString(),
          path: req.url,
        });
        res.statusCode = statuses.shift() ?? 200;
        res.end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));
  beforeEach(() => {
    received.length = 0;
    statuses = [];
  });

  const lines: string[] = [];
  const log = new Logger({ info: (line) => lines.push(line) });

  it('POSTs the JSON body with Content-Type and a GMT Date header', async () => {
    const clock = new FakeClock(Date.parse('2019-11-26T08:46:44Z'));
    expect(await sendResponse({ public: `${base}/public?Signature=s` }, body, { clock, log })).toBe(true);
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({ method: 'POST', path: '/public?Signature=s' });
    expect(received[0].headers['content-type']).toBe('application/json');
    expect(received[0].headers.date).toBe('Tue, 26 Nov 2019 08:46:44 GMT');
    expect(JSON.parse(received[0].body)).toEqual(body);
    expect(Number(received[0].headers['content-length'])).toBe(bytes(received[0].body));
  });

  it('logs the size of what it sent in bytes', async () => {
    const sizeLines: string[] = [];
    const sizeLog = new Logger({ info: (line) => sizeLines.push(line) });
    const multibyte = { ...body, Reason: '镜像复制失败'.repeat(10) };
    await sendResponse({ public: `${base}/public` }, multibyte, { clock: new FakeClock(), log: sizeLog });
    const sent = JSON.parse(sizeLines.find((line) => line.includes('response-sent'))!);
    expect(sent.bytes).toBe(bytes(received[0].body));
    expect(sent.bytes).toBeGreaterThan(received[0].body.length);
  });

  it('retries 5xx answers with backoff', async () => {
    statuses = [500, 503];
    const clock = new FakeClock();
    expect(await sendResponse({ public: `${base}/public` }, body, { clock, log })).toBe(true);
    expect(received).toHaveLength(3);
    expect(clock.sleeps).toEqual([500, 1000]);
  });

  it('tries the intranet URL when the public one cannot be reached', async () => {
    const clock = new FakeClock();
    const sent = await sendResponse(
      { public: 'http://127.0.0.1:1/public', intranet: `${base}/intranet` },
      body,
      {
        clock,
        log,
      },
    );
    expect(sent).toBe(true);
    expect(received.map((r) => r.path)).toEqual(['/intranet']);
  });

  it('does not repeat a post the URL refused (4xx), and says it could not answer', async () => {
    statuses = [400, 400];
    const clock = new FakeClock();
    const sent = await sendResponse({ public: `${base}/public`, intranet: `${base}/intranet` }, body, {
      clock,
      log,
    });
    expect(sent).toBe(false);
    expect(received.map((r) => r.path)).toEqual(['/public', '/intranet']);
    expect(clock.sleeps).toEqual([]);
  });

  it('gives up after the rounds allowed', async () => {
    statuses = [500, 500, 500];
    const clock = new FakeClock();
    expect(await sendResponse({ public: `${base}/public` }, body, { clock, log, attempts: 3 })).toBe(false);
    expect(received).toHaveLength(3);
  });

  it('stops before the deadline rather than waiting past it', async () => {
    statuses = [500, 500, 500, 500];
    const clock = new FakeClock();
    const sent = await sendResponse({ public: `${base}/public` }, body, {
      clock,
      log,
      deadline: clock.now() + 1_200,
    });
    expect(sent).toBe(false);
    expect(received).toHaveLength(2);
  });

  it('never writes the URLs into the log', async () => {
    statuses = [500];
    const secretLines: string[] = [];
    const secretLog = new Logger({ info: (line) => secretLines.push(line) });
    const url = `${base}/public?Signature=top-secret-signature`;
    secretLog.addSecret(url);
    await sendResponse({ public: url }, body, { clock: new FakeClock(), log: secretLog });
    expect(secretLines.length).toBeGreaterThan(0);
    expect(secretLines.join('\n')).not.toContain('top-secret-signature');
    expect(secretLines.join('\n')).not.toContain('/public');
  });
});
