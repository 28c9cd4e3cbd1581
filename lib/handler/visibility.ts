/**
 * How long a copy this request asked for may stay out of ECS's sight. ECS does not document when a new copy appears in
 * DescribeImages, nor what its actions by id (CancelCopyImage, DeleteImage, ...) answer for a copy it does not list
 * yet: they may act on it, or answer that it does not exist (the `copyVisibility` and `hiddenCopyActions` variants
 * LocalCloud plays). So, for a bounded time after its CopyImage, a copy this request has never seen is taken for
 * "not listed yet", not for "gone": its absence from DescribeImages, and an `InvalidImageId.NotFound` from an action
 * on its id.
 */
import type { OperationContext } from './operation';

/** Where the listing bound comes from: the poll planner's longest wait, or a bound the function was given. */
export interface ListingBoundOptions {
  readonly ceilingMs?: number;
  /** The bound itself, ms: the function's `IMAGE_COPY_LISTING_BOUND_MS` (see {@link listingBoundFromEnvironment}). */
  readonly listingBoundMs?: number;
}

/**
 * How long a copy this request asked for may stay absent from DescribeImages before it counts as gone: the larger
 * of 2 minutes (Terraform's `alicloud_image_copy` first looks after one) and two of the poll planner's longest
 * waits, so that at least two planned looks fall inside it; or the bound the function was given.
 */
export function visibilityGraceMs(polling: ListingBoundOptions): number {
  return polling.listingBoundMs ?? Math.max(120_000, 2 * (polling.ceilingMs ?? 30_000));
}

/**
 * The listing bound set on the function (`IMAGE_COPY_LISTING_BOUND_MS`, ms): for a cloud known to list new copies
 * sooner (LocalCloud's function runtime sets it from the listing delay it plays). Undefined when absent or not a
 * positive number.
 */
export function listingBoundFromEnvironment(env: NodeJS.ProcessEnv): number | undefined {
  const value = Number(env.IMAGE_COPY_LISTING_BOUND_MS);
  return Number.isFinite(value) && value > 0 ? value : undefined;
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
