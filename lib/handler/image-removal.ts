/**
 * Removing an image, whatever state it is in: a copy in progress is cancelled (`CancelCopyImage`, which deletes
 * the partial copy); a copy that refuses to be cancelled is waited for and then deleted; anything else is deleted
 * (`DeleteImage`, with `Force` when asked). Then it waits until the image is gone. Not found is success at every
 * step. Unlike Terraform, which never cancels (ecs-image-api.md §5.8), a delete during a copy works.
 */
import { FAILED_STATUSES, PENDING_STATUSES, type ImageStatus } from '../protocol';
import { describeApiError, errorCode, ImageCopyError } from './errors';
import type { ImageView } from './images';
import { formatDuration, type OperationContext } from './operation';
import { attempt, outcomeTable } from './outcomes';
import { PollPlanner } from './poll-planner';
import { transientKind } from './retry';

const NOT_FOUND = ['InvalidImageId.NotFound', 'InvalidImageId.NotExist', 'InvalidResourceId.NotFound'];
/** The image is (again) a copy in progress: cancel it instead, or wait for it. */
const COPYING = ['OperationDenied.ImageCopying', 'ImageIsCreating'];

/** What a refused `DeleteImage` means. */
const DELETE_OUTCOMES = outcomeTable({
  gone: NOT_FOUND,
  copying: COPYING,
  'in-use': ['ImageUsingByInstance'],
});

/** What a refused `CancelCopyImage` means. */
const CANCEL_OUTCOMES = outcomeTable({
  gone: NOT_FOUND,
  finished: ['IncorrectImageStatus'],
  'not-cancellable': ['CancelNotSupported', 'ImageCreatedNotFromCopy'],
});

/** What a refused `CancelCopyImage` of an image DescribeImages does not list means. */
const UNLISTED_CANCEL_OUTCOMES = outcomeTable({
  gone: NOT_FOUND,
  busy: ['CancelNotSupported'],
  'not-a-copy-in-progress': ['IncorrectImageStatus', 'ImageCreatedNotFromCopy'],
});

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
  const left = ctx.state.deadline - ctx.clock.now();
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
    const read = await attempt(() => ctx.images.describe(regionId, imageId));
    if (read.outcome === 'ok') {
      return { image: read.value };
    }
    if (transientKind(read.error) === undefined) {
      throw read.error;
    }
    ctx.log.warn('poll-missed', { reason: describeApiError('ECS DescribeImages', read.error) });
    if (!(await pause(ctx, ctx.polling.floorMs ?? 1_000))) {
      return { unread: read.error };
    }
  }
}

/**
 * Cancels or deletes the image and waits until it is gone; throws `DeleteTimeout` when the deadline passes. An image
 * DescribeImages does not list is not taken for gone until ECS says so by its id: a new copy may be listed late.
 */
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
    if (!image) {
      if (last) {
        log.info('gone', { regionId });
        return;
      }
      const outcome = await removeUnlisted(ctx, options);
      if (outcome === 'gone') {
        log.info('gone', { regionId });
        return;
      }
      if (outcome === 'removed') {
        break;
      }
      // A copy in progress that refuses to be cancelled: wait for it to finish, then delete it.
      const delay = planner.next({ status: 'Waiting', at: ctx.clock.now() }, () => ctx.clock.random());
      log.info('wait-for-copy-to-finish', { status: 'not listed', delayMs: delay });
      if (!(await pause(ctx, delay))) {
        throw deleteTimeout(ctx, options);
      }
      continue;
    }
    last = image;
    if (ctx.clock.now() >= ctx.state.deadline) {
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
    const deleted = await attempt(
      () =>
        ctx.images.call('DeleteImage', {
          RegionId: regionId,
          ImageId: imageId,
          ...(options.force ? { Force: true } : {}),
        }),
      DELETE_OUTCOMES,
    );
    if (deleted.outcome === 'ok') {
      log.info('delete-requested', { regionId, status: image.status, force: options.force });
      break;
    }
    if (deleted.outcome === 'gone') {
      log.info('gone', { regionId });
      return;
    }
    if (deleted.outcome === 'copying') {
      // It is (again) a copy in progress: read it again and cancel instead.
      if (!(await pause(ctx, 1_000))) {
        throw deleteTimeout(ctx, options, image);
      }
      continue;
    }
    if (deleted.outcome === 'in-use') {
      throw new ImageCopyError(
        'ApiError',
        `${describeApiError('ECS DeleteImage', deleted.error)}. ${options.role} ${imageId} is used by instances; ` +
          `delete them first, or set Force (force: true) to delete the image anyway.`,
        { imageId, cause: deleted.error },
      );
    }
    throw new ImageCopyError(
      'ApiError',
      `Could not delete ${options.role} ${imageId}: ${describeApiError('ECS DeleteImage', deleted.error)}`,
      { imageId, cause: deleted.error },
    );
  }
  await waitUntilGone(ctx, options);
}

/**
 * Removes an image that DescribeImages does not list, by its id: cancelled if it is a copy in progress, else deleted.
 * `gone` when ECS does not know the id; `busy` when it is a copy in progress that refuses to be cancelled.
 */
async function removeUnlisted(
  ctx: OperationContext,
  options: RemovalOptions,
): Promise<'gone' | 'removed' | 'busy'> {
  const { regionId, imageId } = options;
  const log = ctx.log.child({ imageId });
  const cancelled = await attempt(
    () => ctx.images.call('CancelCopyImage', { RegionId: regionId, ImageId: imageId }),
    UNLISTED_CANCEL_OUTCOMES,
  );
  switch (cancelled.outcome) {
    case 'ok':
      log.info('cancel-requested', { regionId, status: 'not listed' });
      return 'removed';
    case 'gone':
      return 'gone';
    case 'busy':
      log.info('cancel-not-supported', { regionId, code: 'CancelNotSupported' });
      return 'busy';
    case 'failed':
      throw new ImageCopyError(
        'ApiError',
        `Could not cancel the copy ${imageId}: ${describeApiError('ECS CancelCopyImage', cancelled.error)}`,
        { imageId, cause: cancelled.error },
      );
    case 'not-a-copy-in-progress':
      break;
  }
  // Not a copy in progress (finished, failed, or not a copy at all): delete it.
  const deleted = await attempt(
    () =>
      ctx.images.call('DeleteImage', {
        RegionId: regionId,
        ImageId: imageId,
        ...(options.force ? { Force: true } : {}),
      }),
    DELETE_OUTCOMES,
  );
  switch (deleted.outcome) {
    case 'ok':
      log.info('delete-requested', { regionId, status: 'not listed', force: options.force });
      return 'removed';
    case 'gone':
      return 'gone';
    case 'copying':
      return 'busy';
    case 'in-use':
    case 'failed':
      throw new ImageCopyError(
        'ApiError',
        `Could not delete ${options.role} ${imageId}: ${describeApiError('ECS DeleteImage', deleted.error)}`,
        { imageId, cause: deleted.error },
      );
  }
}

type CancelOutcome = 'cancelled' | 'gone' | 'finished' | 'not-cancellable';

/** `CancelCopyImage` in the destination region, reading the refusals that matter. */
export async function cancelCopy(
  ctx: OperationContext,
  regionId: string,
  image: ImageView,
): Promise<CancelOutcome> {
  const log = ctx.log.child({ imageId: image.imageId });
  const cancelled = await attempt(
    () => ctx.images.call('CancelCopyImage', { RegionId: regionId, ImageId: image.imageId }),
    CANCEL_OUTCOMES,
  );
  switch (cancelled.outcome) {
    case 'ok':
      log.info('cancel-requested', { regionId, status: image.status, progress: image.progress });
      return 'cancelled';
    case 'gone':
      return 'gone';
    case 'finished':
      log.info('cancel-refused-finished', { regionId });
      return 'finished';
    case 'not-cancellable':
      log.info('cancel-not-supported', { regionId, code: errorCode(cancelled.error) });
      return 'not-cancellable';
    case 'failed':
      throw new ImageCopyError(
        'ApiError',
        `Could not cancel the copy ${image.imageId}: ${describeApiError('ECS CancelCopyImage', cancelled.error)}`,
        { imageId: image.imageId, progress: image.progress, cause: cancelled.error },
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
      const deleted = await attempt(
        () =>
          ctx.images.call('DeleteImage', {
            RegionId: options.regionId,
            ImageId: options.imageId,
            ...(options.force ? { Force: true } : {}),
          }),
        DELETE_OUTCOMES,
      );
      if (deleted.outcome === 'ok') {
        log.info('delete-requested', { regionId: options.regionId, status: image.status });
      } else if (deleted.outcome === 'gone') {
        log.info('gone', { regionId: options.regionId });
        return;
      } else {
        log.warn('delete-failed', {
          status: image.status,
          reason: describeApiError('ECS DeleteImage', deleted.error),
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

/** An image a Delete removes, and what it is for messages (`the copy`, `the leftover copy`). */
export interface RemovalTarget {
  readonly image: ImageView;
  readonly role: string;
}

/**
 * Removes each image (see {@link removeImage}) and waits until it is gone. A failure to remove one does not stop the
 * others; once all were tried, the first failure is thrown, naming how many others failed. A delete timeout is
 * thrown at once (the others would meet it too), as is a hand-over to a fresh invocation.
 */
export async function removeImages(
  ctx: OperationContext,
  regionId: string,
  targets: readonly RemovalTarget[],
  removal: Pick<RemovalOptions, 'force' | 'timeoutSeconds'>,
): Promise<void> {
  const failures: ImageCopyError[] = [];
  for (const { image, role } of targets) {
    const removed = await attempt(() =>
      removeImage(ctx, { ...removal, regionId, imageId: image.imageId, role }),
    );
    if (removed.outcome !== 'ok') {
      const { error } = removed;
      if (error instanceof ImageCopyError && error.code === 'DeleteTimeout') {
        throw error;
      }
      const failure =
        error instanceof ImageCopyError
          ? error
          : new ImageCopyError(
              'ApiError',
              `Could not remove ${role} ${image.imageId}: ${describeApiError('removing it', error)}`,
              { imageId: image.imageId, cause: error },
            );
      ctx.log.warn('remove-failed', { imageId: image.imageId, reason: failure.message });
      failures.push(failure);
    }
  }
  if (failures.length > 0) {
    const [first] = failures;
    const others =
      failures.length > 1
        ? ` ${failures.length - 1} other copies could not be removed either: ` +
          `${failures
            .slice(1)
            .map((failure) => failure.imageId)
            .join(', ')}.`
        : '';
    throw new ImageCopyError('ApiError', `${first.message}${others}`, {
      imageId: first.imageId,
      cause: first,
    });
  }
}
