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

/** The server's requested wait of a throttling error, in ms (the SDK's `retryAfter`), when given. */
export function retryAfterMs(error: unknown): number | undefined {
  const value = (error as SdkErrorLike | undefined)?.retryAfter;
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : undefined;
}
