/**
 * The answer to ROS: a JSON body POSTed to the presigned `ResponseURL` with `Content-Type: application/json` and a
 * GMT `Date` header, at most 4096 bytes (the `Reason` is shortened to fit). Retried with backoff for as long as the
 * caller's deadline allows; when the public URL cannot be reached (connection error, timeout, 5xx) the
 * `IntranetResponseURL` is tried, which is the only one that works from a function without internet access. Each
 * POST has a hard deadline on the whole exchange (connect, send, status line and headers): a URL that trickles bytes
 * cannot hold the handler. The URLs are secrets (anyone holding one can answer for the resource): logs say `public`
 * or `intranet`, never the URL.
 */
import * as http from 'http';
import * as https from 'https';
import { RESPONSE_BODY_LIMIT_BYTES } from '../protocol';
import type { Logger } from './log';
import type { Clock } from '../clock';
import { backoffDelay } from './retry';

/** The body ROS reads (ros-custom-resource.md §3). */
export interface ResponseBody {
  readonly Status: 'SUCCESS' | 'FAILED';
  readonly Reason?: string;
  readonly PhysicalResourceId: string;
  readonly StackId: string;
  readonly RequestId: string;
  readonly LogicalResourceId: string;
  readonly Data?: Readonly<Record<string, string>>;
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
  /** Rounds over the URLs at most. Default: as many as fit before `deadline`; 5 without a deadline. */
  readonly attempts?: number;
  /** First wait between rounds, doubling. Default 500 ms. */
  readonly baseDelayMs?: number;
  /** Longest wait between rounds. Default 8 s. */
  readonly maxDelayMs?: number;
  /**
   * One POST may take at most this long, from connecting to the status and headers of the answer, whatever the URL
   * does meanwhile (not an idle timeout). Default 10 s.
   */
  readonly attemptTimeoutMs?: number;
  /** No POST runs past this time (ms since epoch): the caller hands the answer over, or its function is stopped. */
  readonly deadline?: number;
}

/**
 * How sending ended: a URL accepted the answer (2xx); every URL refused it (a 4xx other than 408 and 429: ROS does
 * not want it, e.g. the request is over); or the time ran out with no URL having answered either way.
 */
export type SendOutcome = 'sent' | 'refused' | 'unsent';

type PostResult =
  | { readonly ok: true; readonly status: number }
  | { readonly ok: false; readonly retryable: boolean; readonly status?: number; readonly code?: string };

/** A POST shorter than this is not started: it could not get an answer in time. */
const MIN_ATTEMPT_MS = 200;

/**
 * One POST; never throws and never mentions the URL. Settles on the status line and headers (the body of the answer
 * is not needed), or when `timeoutMs` has passed since the start, whichever comes first: then the request is
 * destroyed, however busy the connection still is.
 */
function post(url: string, payload: string, timeoutMs: number, now: Date): Promise<PostResult> {
  return new Promise((resolve) => {
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      resolve({ ok: false, retryable: false, code: 'InvalidURL' });
      return;
    }
    let settled = false;
    const settle = (result: PostResult): void => {
      if (settled) {
        return;
      }
      settled = true;
      clearTimeout(timer);
      resolve(result);
    };
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
      },
      (response) => {
        const status = response.statusCode ?? 0;
        // The status says it all; a slow body must not hold the answer, so the connection is let go.
        response.on('error', () => undefined);
        response.destroy();
        if (status >= 200 && status < 300) {
          settle({ ok: true, status });
        } else {
          settle({ ok: false, retryable: status >= 500 || status === 408 || status === 429, status });
        }
      },
    );
    const timer = setTimeout(
      () => {
        settle({ ok: false, retryable: true, code: 'ETIMEDOUT' });
        request.destroy();
      },
      Math.max(1, timeoutMs),
    );
    request.on('error', (error: NodeJS.ErrnoException) =>
      settle({ ok: false, retryable: true, code: error.code ?? error.name }),
    );
    request.end(payload);
  });
}

/**
 * Sends the response: in each round the public URL, then (if it could not be reached) the intranet URL; between
 * rounds a doubling wait with jitter, for as long as the deadline allows. A URL that refuses the body (4xx) is not
 * tried again. Never runs past the deadline. Logs how it ended; the caller decides what follows (hand the answer
 * over, or give up).
 */
export async function sendResponse(
  urls: { readonly public?: string; readonly intranet?: string },
  body: ResponseBody,
  options: SendOptions,
): Promise<SendOutcome> {
  const { clock, log } = options;
  const payload = serializeResponse(body);
  const deadline = options.deadline ?? Number.POSITIVE_INFINITY;
  const attempts = options.attempts ?? (options.deadline === undefined ? 5 : Number.POSITIVE_INFINITY);
  const attemptTimeoutMs = options.attemptTimeoutMs ?? 10_000;
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
  const unsent = (round: number): SendOutcome => {
    log.warn('response-unsent', { status: body.Status, rounds: round, reason: 'no URL answered in time' });
    return 'unsent';
  };
  let lastRound = false;
  for (let round = 1; ; round++) {
    for (const [via, url] of candidates) {
      if (refused.has(via)) {
        continue;
      }
      const remaining = deadline - clock.now();
      if (remaining < MIN_ATTEMPT_MS) {
        return unsent(round);
      }
      const result = await post(url, payload, Math.min(attemptTimeoutMs, remaining), new Date(clock.now()));
      if (result.ok) {
        log.info('response-sent', {
          via,
          status: body.Status,
          httpStatus: result.status,
          round,
          bytes: Buffer.byteLength(payload, 'utf8'),
        });
        return 'sent';
      }
      log.warn('response-not-accepted', { via, round, httpStatus: result.status, code: result.code });
      if (!result.retryable) {
        refused.add(via);
      }
    }
    if (refused.size === candidates.length) {
      log.error('response-refused', { status: body.Status, reason: 'every response URL refused the answer' });
      return 'refused';
    }
    if (round >= attempts || lastRound) {
      return unsent(round);
    }
    const backoff = backoffDelay(round, {
      baseMs: options.baseDelayMs ?? 500,
      maxMs: options.maxDelayMs ?? 8_000,
      random: () => clock.random(),
    });
    const room = deadline - clock.now() - MIN_ATTEMPT_MS;
    if (room < 0) {
      return unsent(round);
    }
    // The full wait would end too late: one last round, as late as the deadline allows.
    lastRound = backoff > room;
    await clock.sleep(Math.min(backoff, room));
  }
}
