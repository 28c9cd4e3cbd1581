/**
 * The signature algorithms of Alibaba Cloud's APIs, as the SDK computes them: V3 (`ACS3-HMAC-SHA256`: canonical
 * request, signed headers) and V1 (`HMAC-SHA1` over the sorted, percent-encoded parameters), and the comparison
 * that does not leak timing. `auth.ts` applies them.
 */
import { createHash, createHmac, timingSafeEqual } from 'crypto';

/** RFC 3986 percent-encoding as Alibaba Cloud signs it: `encodeURIComponent` plus `! ' ( ) *`. */
export function percentEncode(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

export const sha256Hex = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');

/** The fields of an `ACS3-HMAC-SHA256 Credential=...,SignedHeaders=...,Signature=...` header. */
export interface V3Authorization {
  readonly accessKeyId: string;
  readonly signedHeaders: string[];
  readonly signature: string;
}

const V3_AUTHORIZATION =
  /^ACS3-HMAC-SHA256 Credential=([^,]+),SignedHeaders=([^,]+),Signature=([0-9a-f]{64})$/;

export function parseV3Authorization(header: string): V3Authorization | undefined {
  const match = V3_AUTHORIZATION.exec(header.trim());
  if (!match) {
    return undefined;
  }
  return { accessKeyId: match[1], signedHeaders: match[2].split(';'), signature: match[3] };
}

export interface V3Request {
  readonly method: string;
  /** The URL path, as sent (still percent-encoded). */
  readonly pathname: string;
  /** Decoded query parameters. */
  readonly query: Record<string, string>;
  /** Lower-cased header names. */
  readonly headers: Record<string, string | undefined>;
  readonly signedHeaders: readonly string[];
  /** Hex SHA-256 of the body, as claimed by `x-acs-content-sha256`. */
  readonly payloadHash: string;
}

/** The V3 canonical request: method, URI, sorted re-encoded query, signed headers, their names, payload hash. */
export function v3CanonicalRequest(req: V3Request): string {
  const uri = canonicalUri(req.pathname);
  const query = Object.keys(req.query)
    .sort()
    .map((key) => `${key}=${percentEncode(req.query[key])}`)
    .join('&');
  const names = [...req.signedHeaders].map((h) => h.toLowerCase()).sort();
  const headers = names.map((name) => `${name}:${(req.headers[name] ?? '').trim()}\n`).join('');
  return [req.method.toUpperCase(), uri, query, headers, names.join(';'), req.payloadHash].join('\n');
}

function canonicalUri(pathname: string): string {
  // The SDK signs the encoded path with `+` → %20, `*` → %2A and %7E → `~`; normalise what arrives the same way.
  const decoded = pathname
    .split('/')
    .map((segment) => percentEncode(safeDecode(segment)))
    .join('/');
  return decoded.replace(/%7E/g, '~') || '/';
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

export function v3Signature(secret: string, canonicalRequest: string): string {
  const stringToSign = `ACS3-HMAC-SHA256\n${sha256Hex(canonicalRequest)}`;
  return createHmac('sha256', secret).update(stringToSign).digest('hex');
}

/** The V1 (`HMAC-SHA1`) signature over every parameter except `Signature`. */
export function v1Signature(secret: string, method: string, params: Record<string, string>): string {
  const canonical = Object.keys(params)
    .filter((key) => key !== 'Signature')
    .sort()
    .map((key) => `${percentEncode(key)}=${percentEncode(params[key])}`)
    .join('&');
  const stringToSign = `${method.toUpperCase()}&${percentEncode('/')}&${percentEncode(canonical)}`;
  return createHmac('sha1', `${secret}&`).update(stringToSign).digest('base64');
}

/** Constant-time comparison of two signatures. */
export function sameSignature(expected: string, actual: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(actual);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Headers V3 requires to be signed. */
export const V3_REQUIRED_SIGNED_HEADERS = [
  'host',
  'x-acs-action',
  'x-acs-version',
  'x-acs-date',
  'x-acs-signature-nonce',
  'x-acs-content-sha256',
] as const;

/** Query parameters that belong to V1 signing, not to the API. */
export const V1_SIGNING_PARAMETERS = [
  'Action',
  'Version',
  'Format',
  'Timestamp',
  'SignatureNonce',
  'SignatureMethod',
  'SignatureVersion',
  'AccessKeyId',
  'SecurityToken',
  'Signature',
] as const;
