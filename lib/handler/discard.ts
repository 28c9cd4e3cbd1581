/** Removing, as well as can be done, a copy this request made that will not be used. */
import { describeApiError } from './errors';
import { isPending } from './image-removal';
import type { OperationContext } from './operation';
import { attempt, outcomeTable } from './outcomes';
import { PollPlanner } from './poll-planner';
import { unlistedUntil } from './visibility';

const NOT_FOUND = ['InvalidImageId.NotFound', 'InvalidImageId.NotExist'];

/** What a refused `CancelCopyImage` of the copy means (`unknown`: ECS does not know the id, or not yet). */
const CANCEL_OUTCOMES = outcomeTable({
  unknown: NOT_FOUND,
  'not-a-copy-in-progress': ['IncorrectImageStatus', 'ImageCreatedNotFromCopy'],
});

/** What a refused `DeleteImage` of the copy means. */
const DELETE_OUTCOMES = outcomeTable({ unknown: NOT_FOUND });

/**
 * Best effort: cancels or deletes a copy this request made that will not be used, also one not listed yet (ECS may
 * list a new copy late; CancelCopyImage takes it by id). A copy this request has never seen that ECS does not know by
 * its id either may not be listed yet (see `visibility.ts`): it is asked for again until it is listed or its listing
 * bound has passed, for as long as the invocation has time. Logs instead of throwing; what remains is removed when
 * the resource is deleted.
 */
export async function discardCopy(
  ctx: OperationContext,
  regionId: string,
  imageId: string,
  what: string,
): Promise<void> {
  const until = unlistedUntil(ctx, imageId);
  const planner = new PollPlanner(ctx.polling);
  try {
    for (;;) {
      const status = await discardOnce(ctx, regionId, imageId);
      if (status !== 'unknown') {
        ctx.log.info(`${what}-discarded`, { imageId, status });
        return;
      }
      const now = ctx.clock.now();
      const delay = planner.next({ status: 'Waiting', at: now }, () => ctx.clock.random());
      if (until === undefined || now + delay >= until || now + delay >= ctx.invocation.deadlines.soft) {
        ctx.log.info(`${what}-not-found`, {
          imageId,
          note:
            until !== undefined && now < until
              ? 'ECS does not know the id yet, and the invocation has no time left to ask again'
              : 'ECS does not know the id: nothing to remove',
        });
        return;
      }
      ctx.log.info(`${what}-not-listed-yet`, { imageId, nextAttemptMs: delay });
      await ctx.clock.sleep(delay);
    }
  } catch (error) {
    ctx.log.warn(`${what}-not-discarded`, {
      imageId,
      reason: describeApiError('discarding the copy', error),
    });
  }
}

/**
 * One attempt: cancels the copy if it is in progress (or not listed), deletes it if it is done or failed. Returns
 * the status it was removed in, or `unknown` when neither DescribeImages nor the actions by id know the id.
 */
async function discardOnce(ctx: OperationContext, regionId: string, imageId: string): Promise<string> {
  const image = await ctx.images.describe(regionId, imageId);
  if (image === undefined || isPending(image.status)) {
    const cancelled = await attempt(
      () => ctx.images.call('CancelCopyImage', { RegionId: regionId, ImageId: imageId }),
      CANCEL_OUTCOMES,
    );
    if (cancelled.outcome === 'ok') {
      return image?.status ?? 'not listed';
    }
    if (cancelled.outcome === 'unknown' && !image) {
      return 'unknown';
    }
    // Finished (or failed) since it was read, or never listed and already done: delete it instead.
    if (cancelled.outcome !== 'not-a-copy-in-progress') {
      throw cancelled.error;
    }
  }
  const deleted = await attempt(
    () => ctx.images.call('DeleteImage', { RegionId: regionId, ImageId: imageId }),
    DELETE_OUTCOMES,
  );
  if (deleted.outcome === 'unknown' && !image) {
    return 'unknown';
  }
  if (deleted.outcome !== 'ok') {
    throw deleted.error;
  }
  return image?.status ?? 'not listed';
}
