/**
 * The answer to ROS: a JSON body POSTed to the presigned `ResponseURL` with `Content-Type: application/json` and a
 * GMT `Date` header, at most 4096 bytes (the `Reason` is shortened to fit). Retried with backoff; when the public
 * URL cannot be reached (connection error, timeout, 5xx) the `IntranetResponseURL` is tried, which is the only
 * one that works from a function without internet access. The URLs are secrets (anyone holding one can answer
 * for the resource): logs say `public` or `intranet`, never the URL.
 */
import * as http from 'http';
import * as https from 'https';
import { RESPONSE_BODY_LIMIT_BYTES, type ImageCopyOutputs } from '../protocol';
import type { Logger } from './log';
import { backoffDelay, type Clock } from './retry';

/** The body ROS reads (ros-custom-resource.md §3). */
export interface ResponseBody {
  readonly Status: 'SUCCESS' | 'FAILED';
  readonly Reason?: string;
  readonly PhysicalResourceId: string;
  readonly StackId: string;
  readonly RequestId: string;
  readonly LogicalResourceId: string;
  readonly Data?: ImageCopyOutputs;
}

const ELLIPSIS = '…';

/** Shortens `text` to at most `maxBytes` of UTF-8 without cutting a character, ending with `…` when cut. */
export function truncateUtf8(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text, 'utf8') <= maxBytes) {
    return text;
  }
  const budget = maxBytes - Buffer.byteLength(ELLIPSIS, 'utf8');
  let bytes = 0;
  let result = '';
  for (const character of text) {
    const size = Buffer.byteLength(character, 'utf8');
    if (bytes + size > budget) {
      break;
    }
    bytes += size;
    result += character;
  }
  return result + ELLIPSIS;
}

/** Serialises the body within the size limit, shortening `Reason` (and dropping `Data` if it still does not fit). */
export function serializeResponse(body: ResponseBody, limit: number = RESPONSE_BODY_LIMIT_BYTES): string {
  let json = JSON.stringify(body);
  if (Buffer.byteLength(json, 'utf8') <= limit) {
    return json;
  }
  const reason = body.Reason ?? '';
  const size = (text: string) => Buffer.byteLength(text, 'utf8');
  // JSON escaping can make the serialised reason longer than its text: shrink until the whole fits.
  let budget = limit - size(JSON.stringify({ ...body, Reason: '' }));
  while (budget > 0) {
    json = JSON.stringify({ ...body, Reason: truncateUtf8(reason, budget) });
    if (size(json) <= limit) {
      return json;
    }
    budget -= size(json) - limit;
  }
  const { Data: _dropped, ...withoutData } = body;
  json = JSON.stringify({ ...withoutData, Reason: truncateUtf8(reason, 512) });
  return json;
}

export interface SendOptions {
  readonly clock: Clock;
  readonly log: Logger;
  /** Rounds over the URLs. Default 5. */
  readonly attempts?: number;
  /** First wait between rounds, doubling. Default 500 ms. */
  readonly baseDelayMs?: number;
  /** One POST may take at most this long. Default 10 s. */
  readonly attemptTimeoutMs?: number;
  /** Nothing is sent after this time (the function is about to be stopped), ms since epoch. */
  readonly deadline?: number;
}

type PostResult =
  | { readonly ok: true; readonly status: number }
  | { readonly ok: false; readonly retryable: boolean; readonly status?: number; readonly code?: string };

/** One POST; never throws and never mentions the URL. */
function post(url: string, payload: string, timeoutMs: number, now: Date): Promise<PostResult> {
  return new Promise((resolve) => {
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      resolve({ ok: false, retryable: false, code: 'InvalidURL' });
      return;
    }
    const transport = target.protocol === 'http:' ? http : https;
    const request = transport.request(
      target,
      {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          'Content-Length': Buffer.byteLength(payload, 'utf8'),
          Date: now.toUTCString(),
          Accept: 'application/json',
          'User-Agent': 'ros-cdk-image-copy-handler',
        },
        timeout: timeoutMs,
      },
      (response) => {
        response.resume();
        response.on('end', () => {
          const status = response.statusCode ?? 0;
          if (status >= 200 && status < 300) {
            resolve({ ok: true, status });
          } else {
            const retryable = status >= 500 || status === 408 || status === 429;
            resolve({ ok: false, retryable, status });
          }
        });
        response.on('error', () => resolve({ ok: false, retryable: true, code: 'ResponseAborted' }));
      },
    );
    request.on('timeout', () => request.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
    request.on('error', (error: NodeJS.ErrnoException) =>
      resolve({ ok: false, retryable: true, code: error.code ?? error.name }),
    );
    request.end(payload);
  });
}

/**
 * Sends the response: in each round the public URL, then (if it could not be reached) the intranet URL; between
 * rounds a doubling wait with jitter. A URL that refuses the body (4xx) is not tried again. Resolves true once a
 * URL accepted it, false when every round failed (logged; there is nobody else to tell).
 */
export async function sendResponse(
  urls: { readonly public?: string; readonly intranet?: string },
  body: ResponseBody,
  options: SendOptions,
): Promise<boolean> {
  const { clock, log } = options;
  const payload = serializeResponse(body);
  const attempts = options.attempts ?? 5;
  const candidates = (
    [
      ['public', urls.public],
      ['intranet', urls.intranet],
    ] as const
  ).filter(
    (entry): entry is readonly ['public' | 'intranet', string] =>
      typeof entry[1] === 'string' && entry[1] !== '',
  );
  const refused = new Set<string>();
  for (let round = 1; round <= attempts; round++) {
    for (const [via, url] of candidates) {
      if (refused.has(via)) {
        continue;
      }
      const remaining = (options.deadline ?? Number.POSITIVE_INFINITY) - clock.now();
      const timeout = Math.max(500, Math.min(options.attemptTimeoutMs ?? 10_000, remaining));
      const result = await post(url, payload, timeout, new Date(clock.now()));
      if (result.ok) {
        log.info('response-sent', {
          via,
          status: body.Status,
          httpStatus: result.status,
          round,
          bytes: Buffer.byteLength(payload, 'utf8'),
        });
        return true;
      }
      log.warn('response-not-accepted', { via, round, httpStatus: result.status, code: result.code });
      if (!result.retryable) {
        refused.add(via);
      }
    }
    if (refused.size === candidates.length || round === attempts) {
      break;
    }
    const delay = backoffDelay(round, {
      baseMs: options.baseDelayMs ?? 500,
      maxMs: 8_000,
      random: () => clock.random(),
    });
    if (options.deadline !== undefined && clock.now() + delay >= options.deadline) {
      break;
    }
    await clock.sleep(delay);
  }
  log.error('response-failed', { status: body.Status, reason: 'no response URL accepted the answer' });
  return false;
}
