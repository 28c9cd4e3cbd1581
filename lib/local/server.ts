/**
 * LocalCloud's HTTP server, bound to 127.0.0.1: reads each request, routes RPC calls by version (ECS, ROS) and the
 * others by path (FC 3.0, response URLs), checks signatures and authorization context, runs the fault hook, and
 * answers errors in the JSON shape the Alibaba SDK parses; it records every call. Each FC region gets a listener of
 * its own, as FC 3.0's endpoints are regional.
 */
import { randomUUID } from 'crypto';
import * as http from 'http';
import type { AddressInfo } from 'net';
import type { Duplex } from 'stream';
import { Authenticated, Authenticator, SignedRequest } from './auth';
import { ApiError } from './errors';
import type { Ram } from './ram';
import type { RequestContext, RpcService } from './service';
import { V1_SIGNING_PARAMETERS } from './signature';

/** A request with its id, as given to routes. */
export interface IncomingCall extends SignedRequest {
  readonly requestId: string;
  /**
   * The region of the endpoint the call came in on, for regional endpoints (FC 3.0's
   * `<account>.<region>.fc.aliyuncs.com` has the region in its host name; LocalCloud gives each region a port).
   */
  readonly endpointRegion?: string;
}

/** What a route answers; `body` objects are sent as JSON. */
export interface RouteResponse {
  readonly status?: number;
  readonly headers?: Record<string, string>;
  readonly body?: unknown;
}

/** A non-RPC API mounted under a path prefix (FC 3.0's ROA paths, ROS response callbacks). */
export interface Route {
  readonly prefix: string;
  /** Product name for metrics and faults, e.g. `fc`. */
  readonly product: string;
  /** Whether calls must carry a valid signature (then `ctx` is given and faults apply). */
  readonly signed: boolean;
  /** The API action a call is, for the call log and faults (e.g. `InvokeFunction`). */
  actionOf(call: IncomingCall): string;
  handle(call: IncomingCall, ctx: RequestContext | undefined): Promise<RouteResponse>;
}

/** One API call as LocalCloud saw it. */
export interface CallRecord {
  readonly time: number;
  readonly product: string;
  readonly action: string;
  readonly principal: 'root' | 'role' | 'anonymous';
  readonly status: number;
  readonly code?: string;
}

/**
 * Injected faults (throttling, 5xx, resets, latency): consulted before an authenticated call reaches its service.
 * It may throw an `ApiError` to answer with it, or return `'reset'` to drop the connection.
 */
export interface FaultHook {
  beforeCall(
    product: string,
    action: string,
    principal?: 'root' | 'role',
    call?: CallInfo,
  ): Promise<'reset' | undefined>;
}

/** What the server and LocalCloud tell a fault hook about a call, besides its product, action and principal. */
export interface CallInfo {
  /** The access key that signed the call (the client, for a throttle rule's `enforceRetryAfter`). */
  readonly accessKeyId?: string;
  /** The unit of `x-acs-retry-after` (the `retryAfterUnit` variant). @default 's' */
  readonly retryAfterUnit?: 's' | 'ms';
}

/** The account an access key belongs to, and its RAM, which authorizes the calls the key signs. */
export interface KeyAccount {
  readonly accountId: string;
  readonly ram: Ram;
}

export interface LocalServerOptions {
  readonly authenticator: Authenticator;
  /** The account of an access key the authenticator accepted (a root key, or temporary credentials of a role). */
  readonly accountOf: (accessKeyId: string) => KeyAccount;
  readonly faults?: FaultHook;
  /** Keep at most this many call records (oldest dropped). Default 200,000. */
  readonly maxCallRecords?: number;
}

const MAX_BODY_BYTES = 8 * 1024 * 1024;
const MAX_HEADER_BYTES = 128 * 1024;

/** The one HTTP server of LocalCloud, bound to 127.0.0.1: signature checks, routing, errors in the SDK's shape. */
export class LocalServer {
  private readonly services = new Map<string, RpcService>();
  private readonly routes: Route[] = [];
  private readonly server: http.Server;
  private readonly regional = new Map<string, { server: http.Server; endpoint: Promise<string> }>();
  private readonly records: CallRecord[] = [];
  private port = 0;

  constructor(private readonly options: LocalServerOptions) {
    this.server = this.createHttpServer();
  }

  private createHttpServer(endpointRegion?: string): http.Server {
    // The SDK puts every RPC parameter in the query: 20 tags of 128 CJK characters take ~50 KB of URL.
    const server = http.createServer({ maxHeaderSize: MAX_HEADER_BYTES }, (req, res) => {
      this.serve(req, res, endpointRegion).catch((err: unknown) => {
        // serve() answers every error itself; reaching here means the socket is gone.
        if (!res.headersSent) {
          res.destroy(err instanceof Error ? err : undefined);
        }
      });
    });
    server.on('clientError', (err: NodeJS.ErrnoException, socket) => answerUnparsable(err, socket));
    server.keepAliveTimeout = 5000;
    return server;
  }

  /**
   * The endpoint (`127.0.0.1:<port>`) of a region's own listener, started on first use: the same APIs, with calls
   * knowing their region as they would from a regional host name.
   */
  regionalEndpoint(region: string): Promise<string> {
    let entry = this.regional.get(region);
    if (!entry) {
      const server = this.createHttpServer(region);
      const endpoint = new Promise<string>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => resolve(`127.0.0.1:${(server.address() as AddressInfo).port}`));
      });
      entry = { server, endpoint };
      this.regional.set(region, entry);
    }
    return entry.endpoint;
  }

  addService(service: RpcService): void {
    this.services.set(service.version, service);
  }

  addRoute(route: Route): void {
    this.routes.push(route);
  }

  async listen(port: number): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.port = (this.server.address() as AddressInfo).port;
    return this.port;
  }

  get endpoint(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** The addresses the listeners are bound to (the shared endpoint first, then the regional ones started so far). */
  addresses(): AddressInfo[] {
    return [this.server, ...[...this.regional.values()].map((r) => r.server)]
      .filter((server) => server.listening)
      .map((server) => server.address() as AddressInfo);
  }

  async close(): Promise<void> {
    const servers = [this.server, ...[...this.regional.values()].map((r) => r.server)];
    await Promise.all(
      servers.map(
        (server) =>
          new Promise<void>((resolve) => {
            if (!server.listening) {
              return resolve();
            }
            server.close(() => resolve());
            server.closeAllConnections();
          }),
      ),
    );
  }

  /** Calls seen so far, oldest first. */
  get calls(): readonly CallRecord[] {
    return this.records;
  }

  /** Verifies a request's signature; throws the API error a real endpoint would answer. */
  private authenticate(req: SignedRequest): Authenticated {
    return this.options.authenticator.authenticate(req);
  }

  /** A request context for a caller, for routes that serve signed APIs. */
  private contextFor(requestId: string, auth: Authenticated): RequestContext {
    const { ram, accountId } = this.options.accountOf(auth.principal.accessKeyId);
    return {
      requestId,
      principal: auth.principal,
      accountId,
      authorize: (action, resources) => ram.authorize(auth.principal, action, resources),
    };
  }

  /** Runs the fault hook for a call (which may throw the error to answer); drops the connection when it says so. */
  private async dropConnection(
    product: string,
    action: string,
    auth: Authenticated,
    req: http.IncomingMessage,
  ): Promise<boolean> {
    const principal = auth.principal.kind;
    const call: CallInfo = { accessKeyId: auth.principal.accessKeyId };
    if ((await this.options.faults?.beforeCall(product, action, principal, call)) !== 'reset') {
      return false;
    }
    this.record(product, action, principal, 0, 'ConnectionReset');
    req.socket.destroy();
    return true;
  }

  private async serve(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    endpointRegion?: string,
  ): Promise<void> {
    const requestId = randomUUID().toUpperCase();
    let product = 'unknown';
    let action = 'unknown';
    let principal: CallRecord['principal'] = 'anonymous';
    let hostId = 'localcloud';
    try {
      const call = await readCall(req, requestId, endpointRegion);
      const route = this.routes.find((r) => call.pathname.startsWith(r.prefix));
      if (route) {
        product = route.product;
        action = route.actionOf(call);
        let ctx: RequestContext | undefined;
        if (route.signed) {
          const auth = this.authenticate(call);
          principal = auth.principal.kind;
          if (await this.dropConnection(product, action, auth, req)) {
            return;
          }
          ctx = this.contextFor(requestId, auth);
        }
        const answer = await route.handle(call, ctx);
        this.send(res, answer.status ?? 200, answer.body, answer.headers);
        this.record(product, action, principal, answer.status ?? 200);
        return;
      }
      const version = call.headers['x-acs-version'] ?? call.query['Version'];
      action = call.headers['x-acs-action'] ?? call.query['Action'] ?? '';
      const service = version ? this.services.get(version) : undefined;
      if (!service) {
        throw new ApiError(
          'InvalidVersion',
          `Specified parameter Version "${version ?? ''}" is not valid.`,
          400,
        );
      }
      product = service.product;
      hostId = service.hostId;
      if (!action) {
        throw new ApiError('MissingParameter', 'The input parameter "Action" is not supplied.', 400);
      }
      const auth = this.authenticate(call);
      principal = auth.principal.kind;
      if (await this.dropConnection(product, action, auth, req)) {
        return;
      }
      const params = apiParameters(call, auth.signatureVersion);
      const body = await service.handle(action, params, this.contextFor(requestId, auth));
      this.send(res, 200, { RequestId: requestId, ...body });
      this.record(product, action, principal, 200);
    } catch (err) {
      const apiError =
        err instanceof ApiError
          ? err
          : new ApiError(
              'InternalError',
              `The request processing has failed due to some unknown error. ${String(err)}`,
              500,
            );
      this.send(
        res,
        apiError.httpStatus,
        {
          RequestId: requestId,
          HostId: hostId,
          Code: apiError.code,
          Message: apiError.message,
          Recommend: `https://api.aliyun.com/troubleshoot?q=${encodeURIComponent(apiError.code)}`,
        },
        apiError.headers,
      );
      this.record(product, action, principal, apiError.httpStatus, apiError.code);
    }
  }

  private send(
    res: http.ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
  ): void {
    if (res.headersSent || res.destroyed) {
      return;
    }
    const isBuffer = Buffer.isBuffer(body);
    const payload = isBuffer ? body : body === undefined ? '' : JSON.stringify(body);
    res.writeHead(status, {
      'content-type': isBuffer ? 'application/octet-stream' : 'application/json;charset=utf-8',
      'content-length': Buffer.byteLength(payload),
      ...headers,
    });
    res.end(payload);
  }

  private record(
    product: string,
    action: string,
    principal: CallRecord['principal'],
    status: number,
    code?: string,
  ) {
    this.records.push({ time: Date.now(), product, action, principal, status, code });
    const max = this.options.maxCallRecords ?? 200_000;
    if (this.records.length > max) {
      this.records.splice(0, this.records.length - max);
    }
  }
}

/**
 * Answers a request Node could not parse (bad HTTP, oversized headers) with an error in the SDK's JSON shape
 * rather than Node's bare `400 Bad Request`, then closes the connection.
 */
function answerUnparsable(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (!socket.writable || err.code === 'ECONNRESET') {
    socket.destroy();
    return;
  }
  const tooLarge = err.code === 'HPE_HEADER_OVERFLOW';
  const status = tooLarge ? 431 : 400;
  const code = tooLarge ? 'RequestHeaderTooLarge' : 'MalformedRequest';
  const message = tooLarge
    ? `The request line and headers are larger than ${MAX_HEADER_BYTES} bytes.`
    : 'The request is not valid HTTP/1.1.';
  const body = JSON.stringify({
    RequestId: randomUUID().toUpperCase(),
    HostId: 'localcloud',
    Code: code,
    Message: message,
    Recommend: `https://api.aliyun.com/troubleshoot?q=${code}`,
  });
  socket.end(
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\n` +
      `content-type: application/json;charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\n` +
      `connection: close\r\n\r\n${body}`,
  );
}

async function readCall(
  req: http.IncomingMessage,
  requestId: string,
  endpointRegion?: string,
): Promise<IncomingCall> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) {
      throw new ApiError('InvalidParameter', `The request body is larger than ${MAX_BODY_BYTES} bytes.`, 413);
    }
    chunks.push(chunk as Buffer);
  }
  const body = Buffer.concat(chunks);
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const headers: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    headers[name.toLowerCase()] = Array.isArray(value) ? value.join(',') : value;
  }
  const contentType = headers['content-type'] ?? '';
  const form = contentType.startsWith('application/x-www-form-urlencoded')
    ? decodeParams(body.toString('utf8'))
    : {};
  return {
    requestId,
    endpointRegion,
    method: req.method ?? 'GET',
    pathname: url.pathname,
    query: decodeParams(url.search.slice(1)),
    form,
    headers,
    body,
  };
}

/**
 * Decodes `a=b&c=d`; `%20` and `+` both become spaces, as a form decoder does. The object has no prototype, so a
 * parameter named `__proto__` is kept (it is signed like any other) and `constructor` is not found where absent.
 */
function decodeParams(text: string): Record<string, string> {
  const params: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [key, value] of new URLSearchParams(text)) {
    params[key] = value;
  }
  return params;
}

/** The API's own parameters: query plus form body, without V1 signing parameters. */
function apiParameters(call: IncomingCall, version: 'v3' | 'v1'): Record<string, string> {
  const params = { ...call.query, ...call.form };
  if (version === 'v1') {
    for (const name of V1_SIGNING_PARAMETERS) {
      delete params[name];
    }
  }
  return params;
}
