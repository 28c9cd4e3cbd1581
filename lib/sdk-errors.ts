/**
 * Reading the errors the Alibaba Cloud SDK raises (`ClientError`, `ServerError`, `ThrottlingError`, and Node's
 * network errors), shared by the handler and the deploy helper: the code, HTTP status, message and request id, and
 * whether an error is transient (worth another attempt). The SDK does not retry (signing-and-sdk.md §8). No
 * imports, so the handler's bundle can take it.
 */

/** The parts of an Alibaba Cloud SDK error read here (`ClientError`, `ServerError`, `ThrottlingError`). */
export interface SdkErrorLike {
  readonly name?: string;
  readonly code?: string;
  readonly statusCode?: number;
  readonly message?: string;
  readonly requestId?: string;
  readonly retryAfter?: number;
  readonly data?: {
    readonly Message?: unknown;
    readonly message?: unknown;
    readonly RequestId?: unknown;
  } | null;
}

function asRecord(error: unknown): SdkErrorLike | undefined {
  return typeof error === 'object' && error !== null ? (error as SdkErrorLike) : undefined;
}

/** The service `Code` of an SDK error (`InvalidImageId.NotFound`), or a Node network code (`ECONNRESET`). */
export function errorCode(error: unknown): string | undefined {
  const code = asRecord(error)?.code;
  return typeof code === 'string' && code !== '' && code !== 'undefined' ? code : undefined;
}

/** The HTTP status of an SDK error, when the service answered. */
export function errorStatus(error: unknown): number | undefined {
  const status = asRecord(error)?.statusCode;
  return typeof status === 'number' ? status : undefined;
}

/** Whether an error is the API error `code` (exact match). */
export function hasCode(error: unknown, ...codes: string[]): boolean {
  const code = errorCode(error);
  return code !== undefined && codes.includes(code);
}

/** The service's own message of an SDK error, without the SDK's prefixes; else the error's message. */
export function errorMessage(error: unknown): string {
  const record = asRecord(error);
  const dataMessage = record?.data?.Message ?? record?.data?.message;
  if (typeof dataMessage === 'string' && dataMessage !== '') {
    return dataMessage;
  }
  if (error instanceof Error) {
    return error.message;
  }
  return String(error);
}

/** The request id the service answered an SDK error with, when there is one. */
export function errorRequestId(error: unknown): string | undefined {
  const record = asRecord(error);
  const fromData = record?.data?.RequestId;
  if (typeof fromData === 'string' && fromData !== '') {
    return fromData;
  }
  const requestId = record?.requestId;
  return typeof requestId === 'string' && requestId !== '' && requestId !== 'undefined'
    ? requestId
    : undefined;
}

/** Node network error codes worth another attempt. */
const NETWORK_ERROR_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENOTFOUND',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'UND_ERR_SOCKET',
  'ESOCKETTIMEDOUT',
]);

/** Error names of timeouts raised by the SDK's HTTP layer (httpx) and by Node. */
const TIMEOUT_ERROR_NAMES = new Set(['RequestTimeoutError', 'TimeoutError', 'AbortError']);

/** Why an error is worth retrying, or undefined when it is not. */
export type TransientKind = 'throttling' | 'unavailable' | 'server' | 'network';

/** Classifies an error from an SDK call: transient (retry) or not. */
export function transientKind(error: unknown): TransientKind | undefined {
  const code = errorCode(error) ?? '';
  const name = (error as SdkErrorLike | undefined)?.name ?? '';
  if (name === 'ThrottlingError' || code.includes('Throttling')) {
    return 'throttling';
  }
  if (code.startsWith('ServiceUnavailable')) {
    return 'unavailable';
  }
  const status = errorStatus(error);
  if (status !== undefined && status >= 500 && status <= 599) {
    return 'server';
  }
  if (NETWORK_ERROR_CODES.has(code) || TIMEOUT_ERROR_NAMES.has(name)) {
    return 'network';
  }
  const message = error instanceof Error ? error.message : '';
  if (/socket hang up|ReadTimeout|connect ?timeout|ECONNRESET|ECONNREFUSED|ETIMEDOUT/i.test(message)) {
    return 'network';
  }
  return undefined;
}

/** A requested wait of at most this many units is read as seconds; a larger one as milliseconds. */
export const RETRY_AFTER_SECONDS_UP_TO = 10;

/** The shortest wait a `retry-after` is honoured with, ms. */
export const RETRY_AFTER_FLOOR_MS = 1_000;

/** The longest wait a `retry-after` is honoured with, ms. */
export const RETRY_AFTER_CEILING_MS = 30_000;

/**
 * The server's requested wait of a throttling error, in ms, when it gave one (`x-acs-retry-after`, which the SDK
 * parses with `parseInt` into `retryAfter`); undefined otherwise.
 *
 * No document says the header's unit (the SDK's own retry loop takes it as milliseconds). So a value of at most
 * {@link RETRY_AFTER_SECONDS_UP_TO} is read as seconds (a server asking for a wait of 10 ms or less is implausible,
 * one of 1-10 s is a usual throttling window) and a larger one as milliseconds; the wait is then bounded to
 * [{@link RETRY_AFTER_FLOOR_MS}, {@link RETRY_AFTER_CEILING_MS}]. A value meant in the other unit is then off by at
 * most 10× (milliseconds of 10 or less, waited as seconds, instead of the 1 s floor) or 30× (seconds above 10,
 * waited as the floor instead of the ceiling), never 1000×: a too short wait is followed by backoff, a too long one
 * is capped.
 */
export function retryAfterMs(error: unknown): number | undefined {
  const value = (error as SdkErrorLike | undefined)?.retryAfter;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    return undefined;
  }
  const ms = value <= RETRY_AFTER_SECONDS_UP_TO ? value * 1000 : value;
  return Math.min(RETRY_AFTER_CEILING_MS, Math.max(RETRY_AFTER_FLOOR_MS, ms));
}
