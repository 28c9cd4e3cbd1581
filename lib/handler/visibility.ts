/**
 * How long a copy this request asked for may stay out of ECS's sight. ECS does not document when a new copy appears in
 * DescribeImages, nor what its actions by id (CancelCopyImage, DeleteImage, ...) answer for a copy it does not list
 * yet: they may act on it, or answer that it does not exist (the `copyVisibility` and `hiddenCopyActions` variants
 * LocalCloud plays). So, for a bounded time after its CopyImage, a copy this request has never seen is taken for
 * "not listed yet", not for "gone": its absence from DescribeImages, and an `InvalidImageId.NotFound` from an action
 * on its id.
 */
import type { OperationContext } from './operation';

/**
 * How long a copy this request asked for may stay absent from DescribeImages before it counts as gone: the larger
 * of 2 minutes (Terraform's `alicloud_image_copy` first looks after one) and two of the poll planner's longest
 * waits, so that at least two planned looks fall inside it.
 */
export function visibilityGraceMs(polling: { readonly ceilingMs?: number }): number {
  return Math.max(120_000, 2 * (polling.ceilingMs ?? 30_000));
}

/**
 * Until when (ms since epoch) ECS may still not show `imageId`, this request's own copy that it has never seen:
 * its CopyImage plus {@link visibilityGraceMs}. Undefined for any other image, and once the copy has been seen (its
 * absence then means it is gone).
 */
export function unlistedUntil(ctx: OperationContext, imageId: string): number | undefined {
  const { state } = ctx;
  if (state.imageId !== imageId || state.copySeen) {
    return undefined;
  }
  return (state.copyRequestedAt ?? state.phaseStartedAt) + visibilityGraceMs(ctx.polling);
}
