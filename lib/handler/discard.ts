/** Removing, as well as can be done, a copy this request made that will not be used. */
import { describeApiError, hasCode } from './errors';
import { isPending } from './image-removal';
import type { OperationContext } from './operation';

/**
 * Best effort: cancels or deletes a copy this request made that will not be used, also one not listed yet (ECS may
 * list a new copy late; CancelCopyImage takes it by id). Logs instead of throwing; what remains is removed when the
 * resource is deleted.
 */
export async function discardCopy(
  ctx: OperationContext,
  regionId: string,
  imageId: string,
  what: string,
): Promise<void> {
  try {
    const image = await ctx.images.describe(regionId, imageId);
    let remove = image !== undefined && !isPending(image.status);
    if (!remove) {
      try {
        await ctx.images.call('CancelCopyImage', { RegionId: regionId, ImageId: imageId });
      } catch (error) {
        if (!image && hasCode(error, 'InvalidImageId.NotFound', 'InvalidImageId.NotExist')) {
          return;
        }
        // Finished (or failed) since it was read, or never listed and already done: delete it instead.
        if (!hasCode(error, 'IncorrectImageStatus', 'ImageCreatedNotFromCopy')) {
          throw error;
        }
        remove = true;
      }
    }
    if (remove) {
      await ctx.images.call('DeleteImage', { RegionId: regionId, ImageId: imageId });
    }
    ctx.log.info(`${what}-discarded`, { imageId, status: image?.status ?? 'not listed' });
  } catch (error) {
    ctx.log.warn(`${what}-not-discarded`, {
      imageId,
      reason: describeApiError('discarding the copy', error),
    });
  }
}
