/**
 * Removing an image, whatever state it is in: a copy in progress is cancelled (`CancelCopyImage`, which deletes
 * the partial copy); a copy that refuses to be cancelled is waited for and then deleted; anything else is deleted
 * (`DeleteImage`, with `Force` when asked). Then it waits until the image is gone. Not found is success at every
 * step. Unlike Terraform, which never cancels (ecs-image-api.md §5.8), a delete during a copy works.
 */
import {
  FAILED_STATUSES,
  isOwnedBy,
  OWNERSHIP_TAG_KEY,
  PENDING_STATUSES,
  type ImageStatus,
} from '../protocol';
import { ContinuationRequired, describeApiError, hasCode, ImageCopyError } from './errors';
import type { ImageView } from './images';
import { formatDuration, type OperationContext } from './operation';
import { PollPlanner } from './poll-planner';
import { transientKind } from './retry';

const NOT_FOUND = ['InvalidImageId.NotFound', 'InvalidImageId.NotExist', 'InvalidResourceId.NotFound'];

/** Statuses of a copy still running. */
export const isPending = (status: string): boolean => PENDING_STATUSES.includes(status as ImageStatus);

/** Statuses of a copy that will never become available. */
export const isFailed = (status: string): boolean => FAILED_STATUSES.includes(status as ImageStatus);

export interface RemovalOptions {
  readonly regionId: string;
  readonly imageId: string;
  readonly force: boolean;
  /** What the image is, for messages: `the copy`, `the old copy`. */
  readonly role: string;
  /** The delete timeout, seconds, for the message when it passes. */
  readonly timeoutSeconds: number;
}

function deleteTimeout(
  _ctx: OperationContext,
  options: RemovalOptions,
  image?: ImageView,
  lastError?: unknown,
): ImageCopyError {
  const status = image ? ` (status ${image.status}${image.progress ? ` at ${image.progress}` : ''})` : '';
  const unread =
    lastError === undefined
      ? ''
      : ` ECS could not be read at the end: ${describeApiError('DescribeImages', lastError)}.`;
  return new ImageCopyError(
    'DeleteTimeout',
    `The delete timeout of ${formatDuration(options.timeoutSeconds)} passed before ${options.role} ` +
      `${options.imageId} in ${options.regionId} was gone${status}.${unread} Try again, or raise ` +
      `DeleteTimeoutSeconds (timeouts.delete).`,
    { imageId: options.imageId, progress: image?.progress, cause: lastError },
  );
}

/** Sleeps `ms`, bounded by the deadline; false when the deadline has passed. */
async function pause(ctx: OperationContext, ms: number): Promise<boolean> {
  const left = ctx.deadline - ctx.clock.now();
  if (left <= 0) {
    return false;
  }
  await ctx.invocation.sleep(Math.min(ms, left));
  return true;
}

/**
 * Reads the image for a poll. A call that still fails after its retries (throttling, 5xx, network errors) is a
 * missed look, not a failure of what is awaited: it is logged and the image read again after a pause, until the
 * operation's deadline; then `{ unread }` (the last error) lets the caller act as its timeout says. Any other error
 * is thrown as it is.
 */
export async function readForPoll(
  ctx: OperationContext,
  regionId: string,
  imageId: string,
): Promise<{ readonly image: ImageView | undefined } | { readonly unread: unknown }> {
  for (;;) {
    try {
      return { image: await ctx.images.describe(regionId, imageId) };
    } catch (error) {
      if (error instanceof ContinuationRequired || transientKind(error) === undefined) {
        throw error;
      }
      ctx.log.warn('poll-missed', { reason: describeApiError('ECS DescribeImages', error) });
      if (!(await pause(ctx, ctx.polling.floorMs ?? 1_000))) {
        return { unread: error };
      }
    }
  }
}

/** Cancels or deletes the image and waits until it is gone; throws `DeleteTimeout` when the deadline passes. */
export async function removeImage(ctx: OperationContext, options: RemovalOptions): Promise<void> {
  const { regionId, imageId } = options;
  const log = ctx.log.child({ imageId });
  const planner = new PollPlanner(ctx.polling);
  let last: ImageView | undefined;
  for (;;) {
    const read = await readForPoll(ctx, regionId, imageId);
    if ('unread' in read) {
      throw deleteTimeout(ctx, options, last, read.unread);
    }
    const image = read.image;
    last = image;
    if (!image) {
      log.info('gone', { regionId });
      return;
    }
    if (ctx.clock.now() >= ctx.deadline) {
      throw deleteTimeout(ctx, options, image);
    }
    if (isPending(image.status)) {
      const outcome = await cancelCopy(ctx, regionId, image);
      if (outcome === 'cancelled' || outcome === 'gone') {
        break;
      }
      if (outcome === 'not-cancellable') {
        // Wait for the copy to finish, then delete it.
        const delay = planner.next({ ...image, at: ctx.clock.now() }, () => ctx.clock.random());
        log.info('wait-for-copy-to-finish', {
          status: image.status,
          progress: image.progress,
          delayMs: delay,
        });
        if (!(await pause(ctx, delay))) {
          throw deleteTimeout(ctx, options, image);
        }
      }
      continue; // finished meanwhile: read it again, then delete
    }
    try {
      await ctx.images.call('DeleteImage', {
        RegionId: regionId,
        ImageId: imageId,
        ...(options.force ? { Force: true } : {}),
      });
      log.info('delete-requested', { regionId, status: image.status, force: options.force });
      break;
    } catch (error) {
      if (error instanceof ContinuationRequired) {
        throw error;
      }
      if (hasCode(error, ...NOT_FOUND)) {
        log.info('gone', { regionId });
        return;
      }
      if (hasCode(error, 'OperationDenied.ImageCopying', 'ImageIsCreating')) {
        // It is (again) a copy in progress: read it again and cancel instead.
        if (!(await pause(ctx, 1_000))) {
          throw deleteTimeout(ctx, options, image);
        }
        continue;
      }
      if (hasCode(error, 'ImageUsingByInstance')) {
        throw new ImageCopyError(
          'ApiError',
          `${describeApiError('ECS DeleteImage', error)}. ${options.role} ${imageId} is used by instances; ` +
            `delete them first, or set Force (force: true) to delete the image anyway.`,
          { imageId, cause: error },
        );
      }
      throw new ImageCopyError(
        'ApiError',
        `Could not delete ${options.role} ${imageId}: ${describeApiError('ECS DeleteImage', error)}`,
        {
          imageId,
          cause: error,
        },
      );
    }
  }
  await waitUntilGone(ctx, options);
}

type CancelOutcome = 'cancelled' | 'gone' | 'finished' | 'not-cancellable';

/** `CancelCopyImage` in the destination region, reading the refusals that matter. */
export async function cancelCopy(
  ctx: OperationContext,
  regionId: string,
  image: ImageView,
): Promise<CancelOutcome> {
  const log = ctx.log.child({ imageId: image.imageId });
  try {
    await ctx.images.call('CancelCopyImage', { RegionId: regionId, ImageId: image.imageId });
    log.info('cancel-requested', { regionId, status: image.status, progress: image.progress });
    return 'cancelled';
  } catch (error) {
    if (error instanceof ContinuationRequired) {
      throw error;
    }
    if (hasCode(error, ...NOT_FOUND)) {
      return 'gone';
    }
    if (hasCode(error, 'IncorrectImageStatus')) {
      log.info('cancel-refused-finished', { regionId });
      return 'finished';
    }
    if (hasCode(error, 'CancelNotSupported', 'ImageCreatedNotFromCopy')) {
      log.info('cancel-not-supported', { regionId, code: (error as { code?: string }).code });
      return 'not-cancellable';
    }
    throw new ImageCopyError(
      'ApiError',
      `Could not cancel the copy ${image.imageId}: ${describeApiError('ECS CancelCopyImage', error)}`,
      {
        imageId: image.imageId,
        progress: image.progress,
        cause: error,
      },
    );
  }
}

/** Polls until the image is absent (deletion is asynchronous as far as clients can tell). */
export async function waitUntilGone(ctx: OperationContext, options: RemovalOptions): Promise<void> {
  const log = ctx.log.child({ imageId: options.imageId });
  let delay = ctx.polling.floorMs ?? 1_000;
  let failedDeleted = false;
  let last: ImageView | undefined;
  for (;;) {
    const read = await readForPoll(ctx, options.regionId, options.imageId);
    if ('unread' in read) {
      throw deleteTimeout(ctx, options, last, read.unread);
    }
    const image = read.image;
    last = image;
    if (!image) {
      log.info('gone', { regionId: options.regionId });
      return;
    }
    // A cancelled copy may stay behind as a failed image (the reference leaves the transition open): delete it.
    if (isFailed(image.status) && !failedDeleted) {
      failedDeleted = true;
      try {
        await ctx.images.call('DeleteImage', {
          RegionId: options.regionId,
          ImageId: options.imageId,
          ...(options.force ? { Force: true } : {}),
        });
        log.info('delete-requested', { regionId: options.regionId, status: image.status });
      } catch (error) {
        if (error instanceof ContinuationRequired) {
          throw error;
        }
        if (hasCode(error, ...NOT_FOUND)) {
          log.info('gone', { regionId: options.regionId });
          return;
        }
        log.warn('delete-failed', {
          status: image.status,
          reason: describeApiError('ECS DeleteImage', error),
        });
      }
      continue;
    }
    log.info('wait-until-gone', { status: image.status, delayMs: delay });
    if (!(await pause(ctx, delay))) {
      throw deleteTimeout(ctx, options, image);
    }
    delay = Math.min(delay * 2, 10_000);
  }
}

/**
 * Removes this resource's copies that never became its image: images in the region carrying this resource's
 * ownership tag (any request) that are still in progress or failed, other than `keepImageId`. Available and
 * Deprecated images found are never touched: after a replacement one of them may be the current image. A copy in
 * progress that refuses to be cancelled (CancelNotSupported) is waited for and then deleted, as the resource's own
 * image would be: no copy can become the current image once ROS deletes the resource, and skipping it would leave
 * a paid-for image behind; the delete timeout passing first fails the Delete, naming it. Other failures are
 * logged, not thrown, since the resource's own image is already gone.
 */
export async function sweepLeftoverCopies(
  ctx: OperationContext,
  regionId: string,
  keepImageId: string | undefined,
  removal: Pick<RemovalOptions, 'force' | 'timeoutSeconds'>,
): Promise<void> {
  const { StackId, LogicalResourceId } = ctx.event;
  const candidates = await ctx.images.findByTag(regionId, OWNERSHIP_TAG_KEY, undefined, [
    'Creating',
    'Waiting',
    'CreateFailed',
    'UnAvailable',
  ]);
  const leftovers = candidates.filter(
    (image) =>
      image.imageId !== keepImageId &&
      isOwnedBy(image.tags[OWNERSHIP_TAG_KEY] ?? '', StackId, LogicalResourceId),
  );
  ctx.log.info('sweep', {
    regionId,
    leftovers: leftovers.map((image) => `${image.imageId} (${image.status})`),
  });
  for (const image of leftovers) {
    const log = ctx.log.child({ imageId: image.imageId });
    try {
      if (isPending(image.status)) {
        const outcome = await cancelCopy(ctx, regionId, image);
        if (outcome === 'finished') {
          const now = await ctx.images.describe(regionId, image.imageId);
          if (!now || !isFailed(now.status)) {
            log.info('sweep-skip', { status: now?.status ?? 'gone' });
            continue;
          }
          await ctx.images.call('DeleteImage', { RegionId: regionId, ImageId: image.imageId });
        } else if (outcome === 'not-cancellable') {
          log.info('sweep-wait', { status: image.status, reason: 'the copy cannot be cancelled' });
          await removeImage(ctx, { ...removal, regionId, imageId: image.imageId, role: 'the leftover copy' });
        }
      } else {
        await ctx.images.call('DeleteImage', { RegionId: regionId, ImageId: image.imageId });
        log.info('delete-requested', { regionId, status: image.status });
      }
    } catch (error) {
      if (error instanceof ContinuationRequired) {
        throw error;
      }
      if (error instanceof ImageCopyError && error.code === 'DeleteTimeout') {
        throw error;
      }
      if (!hasCode(error, ...NOT_FOUND)) {
        log.warn('sweep-failed', { reason: describeApiError('sweeping a leftover copy', error) });
      }
    }
  }
}
