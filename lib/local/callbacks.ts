/**
 * The response URLs of custom resources: ROS's presigned URL pair (public and intranet) a provider posts its answer
 * to, checked as ROS checks it (POST, JSON, at most 4096 bytes, the required fields, the request it answers), with
 * the fault hooks that make a URL fail its first posts or its public address unreachable.
 */
import { randomBytes, randomUUID } from 'crypto';
import { ApiError } from './errors';
import type { IncomingCall, Route, RouteResponse } from './server';
import { sameSignature } from './signature';

/** The body a custom-resource provider posts to its response URL. */
export interface CustomResourceResponse {
  readonly Status: 'SUCCESS' | 'FAILED';
  readonly Reason?: string;
  readonly PhysicalResourceId?: string;
  readonly StackId: string;
  readonly RequestId: string;
  readonly LogicalResourceId: string;
  readonly Data?: Record<string, unknown>;
  readonly NoEcho?: boolean;
}

export interface CallbackOptions {
  /** The request the response must echo; checked when given. */
  readonly expect?: {
    readonly StackId?: string;
    readonly RequestId?: string;
    readonly LogicalResourceId?: string;
  };
  /** Answer the first N posts with HTTP 500 (a flaky endpoint). */
  readonly failFirst?: number;
  /** Make the public URL unreachable (connection refused), so only the intranet URL works. */
  readonly publicUnreachable?: boolean;
}

/** A presigned response URL pair and what was posted to it. */
export interface Callback {
  readonly id: string;
  readonly url: string;
  readonly intranetUrl: string;
  /** Resolves with the first valid response body. */
  readonly response: Promise<CustomResourceResponse>;
  /** Every valid body received, in order (providers may answer twice). */
  readonly bodies: CustomResourceResponse[];
  /** Why posts were refused (bad method, signature, body), in order. */
  readonly rejections: string[];
  /** Which URL each accepted post came in on. */
  readonly via: Array<'public' | 'intranet'>;
}

interface PendingCallback extends Callback {
  readonly signature: string;
  readonly options: CallbackOptions;
  failuresLeft: number;
  /** Whether the failures come from the fault plan (counted there) rather than from `failFirst`. */
  readonly planned: boolean;
  resolve(body: CustomResourceResponse): void;
}

const PUBLIC_PREFIX = '/ros-callbacks/';
const INTRANET_PREFIX = '/ros-callbacks-intranet/';
const MAX_BODY = 4096;

/** Fault hooks for response URLs: how many posts a new URL fails when its creator did not say (`failFirst`). */
export interface CallbackFaults {
  failFirst(): number;
  /** Told each time a post was answered with an injected failure. */
  onInjectedFailure?(callbackId: string): void;
}

/** Presigned response URLs for custom resources, checking what providers post as ROS does. */
export class Callbacks {
  private readonly pending = new Map<string, PendingCallback>();
  readonly routes: Route[];

  constructor(
    private readonly endpoint: () => string,
    private readonly faults?: CallbackFaults,
  ) {
    this.routes = [this.route(PUBLIC_PREFIX, 'public'), this.route(INTRANET_PREFIX, 'intranet')];
  }

  create(options: CallbackOptions = {}): Callback {
    const id = randomUUID();
    const signature = randomBytes(24).toString('base64url');
    const expires = Math.floor(Date.now() / 1000) + 12 * 3600;
    const query = `?Expires=${expires}&Signature=${signature}`;
    const publicHost = options.publicUnreachable ? '127.0.0.1:1' : this.endpoint();
    let resolve!: (body: CustomResourceResponse) => void;
    const response = new Promise<CustomResourceResponse>((r) => (resolve = r));
    const callback: PendingCallback = {
      id,
      url: `http://${publicHost}${PUBLIC_PREFIX}${id}${query}`,
      intranetUrl: `http://${this.endpoint()}${INTRANET_PREFIX}${id}${query}`,
      response,
      bodies: [],
      rejections: [],
      via: [],
      signature,
      options,
      failuresLeft: options.failFirst ?? this.faults?.failFirst() ?? 0,
      planned: options.failFirst === undefined,
      resolve,
    };
    this.pending.set(id, callback);
    return callback;
  }

  /** Forgets a callback (its URLs then answer 404). */
  discard(id: string): void {
    this.pending.delete(id);
  }

  private route(prefix: string, via: 'public' | 'intranet'): Route {
    return {
      prefix,
      product: 'ros-callback',
      signed: false,
      actionOf: () => 'PostResponse',
      handle: async (call) => this.receive(call, prefix, via),
    };
  }

  private async receive(
    call: IncomingCall,
    prefix: string,
    via: 'public' | 'intranet',
  ): Promise<RouteResponse> {
    const callback = this.pending.get(call.pathname.slice(prefix.length));
    if (!callback) {
      throw new ApiError('NotFound', 'This response URL is unknown or has expired.', 404);
    }
    const refuse = (status: number, code: string, message: string): never => {
      callback.rejections.push(`${code}: ${message}`);
      throw new ApiError(code, message, status);
    };
    if (!sameSignature(callback.signature, call.query['Signature'] ?? '')) {
      refuse(403, 'SignatureDoesNotMatch', 'The response URL signature is missing or wrong.');
    }
    if (call.method !== 'POST') {
      refuse(405, 'MethodNotAllowed', `Response URLs accept POST only, not ${call.method}.`);
    }
    if (callback.failuresLeft > 0) {
      callback.failuresLeft--;
      callback.rejections.push('InternalError: injected failure');
      if (callback.planned) {
        this.faults?.onInjectedFailure?.(callback.id);
      }
      throw new ApiError('InternalError', 'Injected response-URL failure (LocalCloud).', 500);
    }
    if (!(call.headers['content-type'] ?? '').startsWith('application/json')) {
      refuse(400, 'InvalidContentType', 'The response must be sent with Content-Type: application/json.');
    }
    if (call.body.length > MAX_BODY) {
      refuse(
        400,
        'ResponseTooLong',
        `The response body is ${call.body.length} bytes; the limit is ${MAX_BODY}.`,
      );
    }
    const body = parseResponse(call.body, refuse);
    for (const [key, value] of Object.entries(callback.options.expect ?? {})) {
      if (value !== undefined && body[key as keyof CustomResourceResponse] !== value) {
        refuse(400, 'InvalidResponse', `${key} must be copied from the request: expected ${value}.`);
      }
    }
    callback.bodies.push(body);
    callback.via.push(via);
    callback.resolve(body);
    return { status: 200, body: {} };
  }
}

function parseResponse(
  raw: Buffer,
  refuse: (status: number, code: string, message: string) => never,
): CustomResourceResponse {
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch {
    return refuse(400, 'InvalidResponse', 'The response body is not JSON.');
  }
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    refuse(400, 'InvalidResponse', 'The response body must be a JSON object.');
  }
  if (body.Status !== 'SUCCESS' && body.Status !== 'FAILED') {
    refuse(400, 'InvalidResponse', 'Status must be SUCCESS or FAILED.');
  }
  for (const key of ['StackId', 'RequestId', 'LogicalResourceId'] as const) {
    if (typeof body[key] !== 'string' || !body[key]) {
      refuse(400, 'InvalidResponse', `${key} is required.`);
    }
  }
  const physicalId = body.PhysicalResourceId;
  if (body.Status === 'SUCCESS' && (typeof physicalId !== 'string' || physicalId === '')) {
    refuse(400, 'InvalidResponse', 'PhysicalResourceId is required on SUCCESS.');
  }
  if (typeof physicalId === 'string' && Buffer.byteLength(physicalId) > 255) {
    refuse(400, 'InvalidResponse', 'PhysicalResourceId is longer than 255 bytes.');
  }
  if (body.Status === 'FAILED' && typeof body.Reason !== 'string') {
    refuse(400, 'InvalidResponse', 'Reason is required on FAILED.');
  }
  if (
    body.Data !== undefined &&
    (typeof body.Data !== 'object' || body.Data === null || Array.isArray(body.Data))
  ) {
    refuse(400, 'InvalidResponse', 'Data must be a JSON object.');
  }
  return body as unknown as CustomResourceResponse;
}
