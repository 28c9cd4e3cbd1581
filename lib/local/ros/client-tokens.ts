/**
 * ROS's idempotency by `ClientToken` (CreateStack, UpdateStack, CreateChangeSet, ExecuteChangeSet): the first
 * request with a token runs and its answer is kept; the same request again gets that answer without running; another
 * request with the token is refused (`InvalidIdempotenceParameter`). Tokens are kept for 24 hours, in the state
 * (section `rosTokens`), so a retry after a restart is still recognised.
 */
import { createHash } from 'crypto';
import type { Clock } from '../clock';
import { ApiError } from '../errors';
import type { StateStore } from '../state';

/** How long a ClientToken is remembered. */
const TOKEN_LIFETIME_MS = 24 * 3600 * 1000;

interface TokenRecord {
  action: string;
  hash: string;
  /** The answer the first request got (`StackId` alone in records written before change sets). */
  result?: Record<string, unknown>;
  stackId?: string;
  time: number;
}

/** The ClientTokens ROS has seen and the answers their first requests got. */
export class ClientTokens {
  private readonly tokens: Record<string, TokenRecord>;

  constructor(
    private readonly store: StateStore,
    /** ROS's clock: a token is kept for 24 hours of it. */
    private readonly clock: Clock,
  ) {
    this.tokens = store.section<Record<string, TokenRecord>>('rosTokens', () => ({}));
  }

  /**
   * Runs `run` for the first request with `token` (`action` with `input`) and answers a repeat of it with the first
   * answer; without a token, just runs it.
   */
  once(
    action: string,
    token: string | undefined,
    input: object,
    run: () => Record<string, unknown>,
  ): Record<string, unknown> {
    if (token === undefined) {
      return run();
    }
    const hash = createHash('sha256').update(action).update(JSON.stringify(input)).digest('hex');
    const now = this.clock.now();
    for (const [t, record] of Object.entries(this.tokens)) {
      if (now - record.time > TOKEN_LIFETIME_MS) {
        delete this.tokens[t];
      }
    }
    const seen = this.tokens[token];
    if (seen) {
      if (seen.hash !== hash || seen.action !== action) {
        throw new ApiError(
          'InvalidIdempotenceParameter',
          `The ClientToken ${token} was used for a different request.`,
          400,
        );
      }
      return seen.result ?? { StackId: seen.stackId };
    }
    const result = run();
    this.tokens[token] = { action, hash, result, time: now };
    this.store.changed();
    return result;
  }
}
