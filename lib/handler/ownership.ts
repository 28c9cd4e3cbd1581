/**
 * Finding this resource's copies by their ownership tag (see `OWNERSHIP_TAG_KEY` in protocol.ts): the copy a request
 * started, the current image of a resource instance, and the copies a Delete removes.
 *
 * Every lookup is one DescribeImages by the tag key alone, filtered here by owner, instance and request: one call
 * finds both forms of a value (unconfirmed and confirmed) and the previous version's, where exact-value queries would
 * take one call per form. It lists every image of the region that carries the key (the copies of every ImageCopy of
 * the account there), a page per 100.
 */
import {
  ALL_IMAGE_STATUSES,
  confirmedOwnershipValue,
  type ImageStatus,
  OWNERSHIP_TAG_KEY,
  ownershipOf,
  ownershipRequestHash,
  ownershipTagValue,
  type OwnershipTag,
  type PhysicalIdReading,
} from '../protocol';
import type { Confirmation } from './event';
import type { ImageView } from './images';
import type { OperationContext } from './operation';

/** A copy of this resource, with what its ownership tag says. */
export interface OwnedCopy {
  readonly image: ImageView;
  readonly tag: OwnershipTag;
}

/** The copies of this resource in a region (any instance, any request, either version), in the given statuses. */
export async function ownedCopies(
  ctx: OperationContext,
  regionId: string,
  statuses: readonly ImageStatus[] = ALL_IMAGE_STATUSES,
): Promise<OwnedCopy[]> {
  const { StackId, LogicalResourceId } = ctx.event;
  const images = await ctx.images.findByTag(regionId, OWNERSHIP_TAG_KEY, undefined, statuses);
  return images.flatMap((image) => {
    const tag = ownershipOf(image.tags[OWNERSHIP_TAG_KEY] ?? '', StackId, LogicalResourceId);
    return tag ? [{ image, tag }] : [];
  });
}

/** The resource instance this request works for: the hash its copies carry. */
export function instanceOfRequest(ctx: OperationContext, reading: PhysicalIdReading): string {
  if (ctx.event.RequestType === 'Create') {
    return ownershipRequestHash(ctx.event.RequestId);
  }
  // An Update or Delete without a physical id (never sent by ROS, but answerable) works for the instance whose id it
  // answers with: physicalIdFor(RequestId).
  return reading.instance ?? ownershipRequestHash(ctx.event.RequestId);
}

/** The ownership tag value for a copy this request starts for `instance` (unconfirmed). */
export function ownershipValueFor(ctx: OperationContext, instance: string): string {
  const { StackId, LogicalResourceId, RequestId } = ctx.event;
  return ownershipTagValue(StackId, LogicalResourceId, RequestId, { instance });
}

/** Whether an image is usable as the resource's image. */
export const isUsable = (image: ImageView): boolean =>
  image.status === 'Available' || image.status === 'Deprecated';

const newestFirst = (a: OwnedCopy, b: OwnedCopy): number =>
  a.image.creationTime < b.image.creationTime ? 1 : a.image.creationTime > b.image.creationTime ? -1 : 0;

/**
 * The current image of a resource instance, for an Update: its confirmed usable copy (the newest, should there be
 * several); else, for a resource created by the previous version, the image its physical id names; else its
 * unconfirmed usable copy, the one its Create started first (a confirmation lost between ROS's 2xx and the tag
 * write), then the newest. Undefined when it has none.
 */
export async function currentImageOf(
  ctx: OperationContext,
  reading: PhysicalIdReading,
  instance: string,
  regionId: string,
): Promise<ImageView | undefined> {
  const copies = (await ownedCopies(ctx, regionId, ['Available', 'Deprecated']))
    // A previous version kept by KeepPreviousVersions (retired) is never the current image again.
    .filter(
      (copy) =>
        !copy.tag.legacy && !copy.tag.retired && copy.tag.instance === instance && isUsable(copy.image),
    )
    .sort(newestFirst);
  const confirmed = copies.find((copy) => copy.tag.confirmed);
  if (confirmed) {
    return confirmed.image;
  }
  if (reading.kind === 'legacy-image') {
    const image = await ctx.images.describe(regionId, reading.imageId);
    if (image) {
      return image;
    }
  }
  const unconfirmed = copies.filter((copy) => !copy.tag.confirmed);
  return (unconfirmed.find((copy) => copy.tag.request === instance) ?? unconfirmed[0])?.image;
}

/** The confirmation of an image once ROS accepts an answer naming it; undefined when there is nothing to confirm. */
export function confirmationFor(ctx: OperationContext, image: ImageView): Confirmation | undefined {
  const { StackId, LogicalResourceId } = ctx.event;
  const value = image.tags[OWNERSHIP_TAG_KEY] ?? '';
  if (!ownershipOf(value, StackId, LogicalResourceId)) {
    return undefined;
  }
  const confirmed = confirmedOwnershipValue(value);
  return confirmed === undefined
    ? undefined
    : { regionId: image.regionId, imageId: image.imageId, value: confirmed };
}
