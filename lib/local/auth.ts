/**
 * Who signed a request, checked as the real endpoints check it: the V3 (`ACS3-HMAC-SHA256`) and V1 (`HMAC-SHA1`)
 * signatures against the key's secret, the security token of temporary credentials and their expiry, the request's
 * timestamp against the clock window, and its nonce against replays (kept in a file beside the state file, so a
 * request captured before a restart is still refused after it). The algorithms themselves are in `signature.ts`.
 */
import * as fs from 'fs';
import * as path from 'path';
import { ApiError } from './errors';
import type { KeyLookup, Principal } from './ram';
import {
  parseV3Authorization,
  sameSignature,
  sha256Hex,
  v1Signature,
  v3CanonicalRequest,
  v3Signature,
  V3_REQUIRED_SIGNED_HEADERS,
} from './signature';

/** A request as the server received it, before any API logic. */
export interface SignedRequest {
  readonly method: string;
  readonly pathname: string;
  /** Decoded query parameters. */
  readonly query: Record<string, string>;
  /** Decoded form-body parameters (empty unless the body is `application/x-www-form-urlencoded`). */
  readonly form: Record<string, string>;
  /** Lower-cased header names. */
  readonly headers: Record<string, string | undefined>;
  readonly body: Buffer;
}

/** Where the access keys are: one account's RAM, or every account's. */
export interface KeyStore {
  lookup(accessKeyId: string): KeyLookup | undefined;
}

export interface Authenticated {
  readonly principal: Principal;
  readonly signatureVersion: 'v3' | 'v1';
}

export interface AuthenticatorOptions {
  /** Largest accepted difference between the request's time and ours. Default 15 minutes. */
  readonly maxSkewMs?: number;
  readonly now?: () => number;
  /** Where the nonces seen are remembered. Default: in memory (a restart forgets them). */
  readonly nonces?: NonceStore;
}

/**
 * The nonces of signed requests seen while a replay of them could still carry an accepted timestamp: each is kept
 * until twice the clock window has passed, then forgotten.
 */
export interface NonceStore {
  /** Records `nonce` until `expiresAt`; false when it is recorded already and has not expired (a replay). */
  claim(nonce: string, now: number, expiresAt: number): boolean;
}

/** Nonces in memory. */
export class MemoryNonceStore implements NonceStore {
  protected readonly live = new Map<string, number>();

  claim(nonce: string, now: number, expiresAt: number): boolean {
    for (const [seen, expires] of this.live) {
      if (expires < now) {
        this.live.delete(seen);
      }
    }
    if (this.live.has(nonce)) {
      return false;
    }
    this.live.set(nonce, expiresAt);
    return true;
  }
}

/**
 * Nonces in memory and in a file beside the state file, so that a request captured before a restart is still
 * refused after it (within its clock window). The file is a log, one `[expiresAt, nonce]` JSON line per request,
 * appended as each is seen; it is read when LocalCloud starts, then rewritten with the nonces that have not expired
 * (and again whenever expired lines outnumber live ones). Mode 0600.
 */
export class FileNonceStore extends MemoryNonceStore {
  private lines = 0;

  constructor(
    readonly file: string,
    now: number = Date.now(),
  ) {
    super();
    let text = '';
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw err;
      }
    }
    for (const line of text.split('\n')) {
      try {
        const [expiresAt, nonce] = JSON.parse(line) as [unknown, unknown];
        if (typeof expiresAt === 'number' && typeof nonce === 'string' && expiresAt >= now) {
          this.live.set(nonce, expiresAt);
        }
      } catch {
        // an empty line, or the half line of a process that was killed while writing it
      }
    }
    this.compact();
  }

  override claim(nonce: string, now: number, expiresAt: number): boolean {
    if (!super.claim(nonce, now, expiresAt)) {
      return false;
    }
    fs.appendFileSync(this.file, JSON.stringify([expiresAt, nonce]) + '\n', { mode: 0o600 });
    if (++this.lines > Math.max(1000, 2 * this.live.size)) {
      this.compact();
    }
    return true;
  }

  private compact(): void {
    fs.mkdirSync(path.dirname(this.file), { recursive: true, mode: 0o700 });
    const tmp = `${this.file}.${process.pid}.tmp`;
    const text = [...this.live]
      .map(([nonce, expiresAt]) => JSON.stringify([expiresAt, nonce]) + '\n')
      .join('');
    fs.writeFileSync(tmp, text, { mode: 0o600 });
    fs.renameSync(tmp, this.file);
    this.lines = this.live.size;
  }
}

const incomplete = (why: string): ApiError =>
  new ApiError(
    'IncompleteSignature',
    `The request signature does not conform to Aliyun standards. ${why}`,
    400,
  );

const mismatch = (): ApiError =>
  new ApiError(
    'SignatureDoesNotMatch',
    'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
    400,
  );

/**
 * Checks V3 (`ACS3-HMAC-SHA256`) and V1 (`HMAC-SHA1`) signatures, access keys, security tokens, timestamps and
 * nonces, as Alibaba Cloud's API gateway does.
 */
export class Authenticator {
  private readonly maxSkewMs: number;
  private readonly now: () => number;
  private readonly nonces: NonceStore;

  constructor(
    private readonly ram: KeyStore,
    options: AuthenticatorOptions = {},
  ) {
    this.maxSkewMs = options.maxSkewMs ?? 15 * 60 * 1000;
    this.now = options.now ?? Date.now;
    this.nonces = options.nonces ?? new MemoryNonceStore();
  }

  authenticate(req: SignedRequest): Authenticated {
    const authorization = req.headers['authorization'];
    if (authorization?.startsWith('ACS3-')) {
      return this.verifyV3(req, authorization);
    }
    if (req.query['Signature'] !== undefined || req.form['Signature'] !== undefined) {
      return this.verifyV1(req);
    }
    throw incomplete('The request carries neither an Authorization header nor a Signature parameter.');
  }

  private verifyV3(req: SignedRequest, authorization: string): Authenticated {
    const auth = parseV3Authorization(authorization);
    if (!auth) {
      throw incomplete(
        'Authorization must read "ACS3-HMAC-SHA256 Credential=<id>,SignedHeaders=<h;h>,Signature=<hex>".',
      );
    }
    const signed = auth.signedHeaders.map((h) => h.toLowerCase());
    const missing = V3_REQUIRED_SIGNED_HEADERS.filter(
      (h) => !signed.includes(h) || req.headers[h] === undefined,
    );
    if (missing.length > 0) {
      throw incomplete(`Headers that must be present and signed: ${missing.join(', ')}.`);
    }
    const key = this.keyFor(
      auth.accessKeyId,
      req.headers['x-acs-security-token'],
      signed.includes('x-acs-security-token'),
    );
    const payloadHash = req.headers['x-acs-content-sha256']!;
    if (payloadHash !== sha256Hex(req.body)) {
      throw new ApiError(
        'SignatureDoesNotMatch',
        'The x-acs-content-sha256 header does not match the request body.',
        400,
      );
    }
    const canonical = v3CanonicalRequest({
      method: req.method,
      pathname: req.pathname,
      query: req.query,
      headers: req.headers,
      signedHeaders: signed,
      payloadHash,
    });
    if (!sameSignature(v3Signature(key.secret, canonical), auth.signature)) {
      throw mismatch();
    }
    this.checkFreshness(req.headers['x-acs-date']!, req.headers['x-acs-signature-nonce']!);
    return { principal: key.principal, signatureVersion: 'v3' };
  }

  private verifyV1(req: SignedRequest): Authenticated {
    const params = { ...req.query, ...req.form };
    for (const name of ['AccessKeyId', 'SignatureMethod', 'SignatureNonce', 'Timestamp'] as const) {
      if (!params[name]) {
        throw incomplete(`The ${name} parameter is required for signature version 1.0.`);
      }
    }
    if (params['SignatureMethod'] !== 'HMAC-SHA1') {
      throw new ApiError(
        'InvalidParameter',
        `SignatureMethod ${params['SignatureMethod']} is not supported; use HMAC-SHA1.`,
        400,
      );
    }
    const key = this.keyFor(
      params['AccessKeyId'],
      params['SecurityToken'],
      params['SecurityToken'] !== undefined,
    );
    if (!sameSignature(v1Signature(key.secret, req.method, params), params['Signature'])) {
      throw mismatch();
    }
    this.checkFreshness(params['Timestamp'], params['SignatureNonce']);
    return { principal: key.principal, signatureVersion: 'v1' };
  }

  private keyFor(accessKeyId: string, token: string | undefined, tokenSigned: boolean) {
    const key = this.ram.lookup(accessKeyId);
    if (!key) {
      throw new ApiError('InvalidAccessKeyId.NotFound', 'Specified access key is not found.', 400);
    }
    if (key.securityToken !== undefined) {
      if (token === undefined || !tokenSigned) {
        throw new ApiError(
          'InvalidSecurityToken.MismatchWithAccessKey',
          'The temporary access key needs its security token.',
          400,
        );
      }
      if (token !== key.securityToken) {
        throw new ApiError(
          'InvalidSecurityToken.MismatchWithAccessKey',
          'Specified SecurityToken mismatch with the AccessKey.',
          400,
        );
      }
      if (key.expiresAt !== undefined && key.expiresAt < this.now()) {
        throw new ApiError('InvalidSecurityToken.Expired', 'Specified SecurityToken is expired.', 400);
      }
    } else if (token !== undefined && token !== '') {
      throw new ApiError(
        'InvalidSecurityToken.MismatchWithAccessKey',
        'Specified SecurityToken mismatch with the AccessKey.',
        400,
      );
    }
    return key;
  }

  private checkFreshness(timestamp: string, nonce: string): void {
    const time = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/.test(timestamp) ? Date.parse(timestamp) : NaN;
    const now = this.now();
    if (Number.isNaN(time)) {
      throw new ApiError(
        'IllegalTimestamp',
        `The timestamp "${timestamp}" is not in the format YYYY-MM-DDThh:mm:ssZ.`,
        400,
      );
    }
    if (Math.abs(now - time) > this.maxSkewMs) {
      throw new ApiError(
        'IllegalTimestamp',
        `The timestamp ${timestamp} is more than ${this.maxSkewMs / 60000} minutes away from the server time.`,
        400,
      );
    }
    if (!this.nonces.claim(nonce, now, now + 2 * this.maxSkewMs)) {
      throw new ApiError('SignatureNonceUsed', 'Specified signature nonce was used already.', 400);
    }
  }
}
