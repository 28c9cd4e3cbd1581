/**
 * Typed errors of the handler. Every failure that reaches ROS is an {@link ImageCopyError}: its message is the
 * `Reason` a person reads, so it says what happened and what to do, with the API code, message and request id,
 * the image id and the progress reached when they are known.
 */

/** What went wrong, as a stable code (also logged). */
export type ImageCopyErrorCode =
  | 'InvalidEvent'
  | 'InvalidProperties'
  | 'SourceImageUnusable'
  | 'ExistingImageUnusable'
  | 'NameTaken'
  | 'CopyConflict'
  | 'CopyFailed'
  | 'CopyDisappeared'
  | 'CreateTimeout'
  | 'DeleteTimeout'
  | 'ImageMissing'
  | 'ApiError'
  | 'ContinuationFailed'
  | 'Internal';

export interface ImageCopyErrorDetails {
  /** The image the failure concerns (the copy), when one exists. */
  readonly imageId?: string;
  /** The copy's progress when it failed, e.g. `42%`. */
  readonly progress?: string;
  /** The API error behind this failure. */
  readonly cause?: unknown;
}

/** A failure the handler answers ROS with (`Status: FAILED`, `Reason: message`). */
export class ImageCopyError extends Error {
  readonly imageId?: string;
  readonly progress?: string;

  constructor(
    readonly code: ImageCopyErrorCode,
    message: string,
    details: ImageCopyErrorDetails = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'ImageCopyError';
    this.imageId = details.imageId;
    this.progress = details.progress;
  }
}

/**
 * Thrown when this invocation must hand over to a fresh one (its function timeout is near): not a failure. The
 * entry point re-invokes the function with the continuation state and returns without answering ROS.
 */
export class ContinuationRequired extends Error {
  constructor(
    /** When the next step (a poll, a retry) is due, ms since epoch. */
    readonly resumeAt: number,
  ) {
    super('the invocation deadline is near; continuing in a new invocation');
    this.name = 'ContinuationRequired';
  }
}

export {
  errorCode,
  errorMessage,
  errorRequestId,
  errorStatus,
  hasCode,
  type SdkErrorLike,
} from '../sdk-errors';
import { errorCode, errorMessage, errorRequestId } from '../sdk-errors';

/** `ECS CopyImage failed: InvalidImageId.NotFound: The specified ImageId does not exist. (request id 1A2B…)`. */
export function describeApiError(operation: string, error: unknown): string {
  if (error instanceof ImageCopyError) {
    return error.message;
  }
  const code = errorCode(error);
  const requestId = errorRequestId(error);
  const message = errorMessage(error);
  const parts = [`${operation} failed: `, code ? `${code}: ` : '', message];
  if (requestId) {
    parts.push(` (request id ${requestId})`);
  }
  return parts.join('');
}
