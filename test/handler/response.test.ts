import * as http from 'http';
import * as net from 'net';
import type { AddressInfo } from 'net';
import { Logger } from '../../lib/handler/log';
import { type ResponseBody, sendResponse, serializeResponse, truncateUtf8 } from '../../lib/handler/response';
import { systemClock } from '../../lib/clock';
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
    SharedWithAccounts: '',
    ImageFamily: '',
    PreviousImageIds: '',
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
    expect(await sendResponse({ public: `${base}/public?Signature=s` }, body, { clock, log })).toBe('sent');
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
    expect(await sendResponse({ public: `${base}/public` }, body, { clock, log })).toBe('sent');
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
    expect(sent).toBe('sent');
    expect(received.map((r) => r.path)).toEqual(['/intranet']);
  });

  it('does not repeat a post the URL refused (4xx), and says every URL refused it', async () => {
    statuses = [400, 400];
    const clock = new FakeClock();
    const sent = await sendResponse({ public: `${base}/public`, intranet: `${base}/intranet` }, body, {
      clock,
      log,
    });
    expect(sent).toBe('refused');
    expect(received.map((r) => r.path)).toEqual(['/public', '/intranet']);
    expect(clock.sleeps).toEqual([]);
  });

  it('gives up after the rounds allowed', async () => {
    statuses = [500, 500, 500];
    const clock = new FakeClock();
    expect(await sendResponse({ public: `${base}/public` }, body, { clock, log, attempts: 3 })).toBe(
      'unsent',
    );
    expect(received).toHaveLength(3);
  });

  it('keeps trying while the deadline allows, and never waits past it', async () => {
    statuses = Array.from({ length: 20 }, () => 500);
    const clock = new FakeClock();
    const deadline = clock.now() + 30_000;
    const sent = await sendResponse({ public: `${base}/public` }, body, { clock, log, deadline });
    expect(sent).toBe('unsent');
    // 500 ms doubling to 8 s: far more than the 5 rounds of old, and the last wait ends before the deadline.
    expect(received.length).toBeGreaterThan(5);
    expect(clock.now()).toBeLessThanOrEqual(deadline);
  });

  it('accepts an answer a URL took after failing for a while, as long as time is left', async () => {
    statuses = Array.from({ length: 8 }, () => 503);
    const clock = new FakeClock();
    const sent = await sendResponse({ public: `${base}/public` }, body, {
      clock,
      log,
      deadline: clock.now() + 120_000,
    });
    expect(sent).toBe('sent');
    expect(received).toHaveLength(9);
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

/**
 * Response URLs that misbehave at the transport level. Each POST has a hard deadline on the whole exchange (not an
 * idle timeout), so none of them can hold the handler: it retries until the overall deadline and says it could not
 * answer. The deadlines here are short (real clock, since sockets are real); the assertions count attempts.
 */
describe('sendResponse against URLs that misbehave', () => {
  const lines: string[] = [];
  const log = new Logger({ info: (line) => lines.push(line), warn: (line) => lines.push(line) });
  let server: net.Server | undefined;
  let connections = 0;
  const sockets = new Set<net.Socket>();

  /** A TCP server that does `behave` with each connection. */
  async function misbehaving(behave: (socket: net.Socket) => void): Promise<string> {
    connections = 0;
    server = net.createServer((socket) => {
      connections++;
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => sockets.delete(socket));
      behave(socket);
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/public?Signature=s`;
  }

  /** Writes `chunks` one every `everyMs` (until the socket closes). */
  function trickle(socket: net.Socket, chunks: string[], everyMs: number): void {
    let index = 0;
    const timer = setInterval(() => {
      if (socket.destroyed || index >= chunks.length) {
        clearInterval(timer);
        return;
      }
      socket.write(chunks[index++]);
    }, everyMs);
    socket.on('close', () => clearInterval(timer));
  }

  afterEach(async () => {
    for (const socket of sockets) {
      socket.destroy();
    }
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = undefined;
    lines.length = 0;
  });

  const send = (url: string) =>
    sendResponse({ public: url }, body, {
      clock: systemClock,
      log,
      attemptTimeoutMs: 300,
      baseDelayMs: 50,
      maxDelayMs: 100,
      deadline: Date.now() + 2_000,
    });

  it('a URL that refuses connections: retried until the deadline, then unsent', async () => {
    expect(await send('http://127.0.0.1:1/public?Signature=s')).toBe('unsent');
    expect(lines.filter((line) => line.includes('"step":"response-not-accepted"')).length).toBeGreaterThan(2);
    expect(lines.join('\n')).toContain('ECONNREFUSED');
  });

  it('a URL that answers 500 every time: retried until the deadline, then unsent', async () => {
    const url = await misbehaving((socket) =>
      socket.once('data', () =>
        socket.end('HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n'),
      ),
    );
    expect(await send(url)).toBe('unsent');
    expect(connections).toBeGreaterThan(2);
  });

  it('a URL that accepts the connection and never answers: each attempt is cut at its deadline', async () => {
    const url = await misbehaving(() => undefined);
    expect(await send(url)).toBe('unsent');
    expect(connections).toBeGreaterThan(2);
    expect(lines.join('\n')).toContain('ETIMEDOUT');
  });

  it('a URL that trickles its headers one at a time: each attempt is cut at its deadline', async () => {
    const url = await misbehaving((socket) =>
      socket.once('data', () =>
        trickle(
          socket,
          ['HTTP/1.1 200 OK\r\n', ...Array.from({ length: 100 }, (_, i) => `X-Slow-${i}: ${i}\r\n`), '\r\n'],
          100,
        ),
      ),
    );
    expect(await send(url)).toBe('unsent');
    expect(connections).toBeGreaterThan(2);
  });

  it('a URL that trickles a status line byte by byte: each attempt is cut at its deadline', async () => {
    const url = await misbehaving((socket) =>
      socket.once('data', () => trickle(socket, [...'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'], 200)),
    );
    expect(await send(url)).toBe('unsent');
    expect(connections).toBeGreaterThan(2);
  });

  it('a URL that answers 200 and then trickles its body: accepted on the status, not held by the body', async () => {
    const url = await misbehaving((socket) =>
      socket.once('data', () => {
        socket.write('HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n');
        trickle(
          socket,
          Array.from({ length: 1000 }, () => '.'),
          100,
        );
      }),
    );
    // Were it to wait for the body, the test would time out (it takes 100 s).
    expect(await send(url)).toBe('sent');
    expect(connections).toBe(1);
  });
});
