/**
 * `KeepPreviousVersions`: when a replacement (a new source image: a golden-image release) makes a new copy, the copy
 * it replaces is kept rather than deleted, for rollback. Kept, it is
 *
 * 1. marked retired in its ownership tag (`<owner>#<instance>!<request>`, see `retiredOwnershipValue`): it stays the
 *    instance's, so the resource's Delete removes it, but is never again taken for the current image, nor removed
 *    by a Delete that does not name its instance;
 * 2. unshared from every account (ECS refuses to deprecate a shared image);
 * 3. renamed `<name>-previous-<imageId>` (`previousVersionName`), freeing its name for the new copy;
 * 4. deprecated (ModifyImageAttribute `Status=Deprecated`): still launches instances, no longer listed as the
 *    latest of its family, cannot be shared or copied
 *    (https://www.alibabacloud.com/help/en/ecs/developer-reference/api-ecs-2014-05-26-modifyimageattribute).
 *
 * Each step checks what the image has first, so a continued or repeated delivery repeats nothing. Beyond the count,
 * the oldest kept copies are deleted. Kept copies live in the destination region: a replacement that moves the copy
 * to another region keeps none there (the Delete sweeps the current region only).
 */
import { OWNERSHIP_TAG_KEY, previousVersionName, retiredOwnershipValue } from '../protocol';
import { revokeSharing } from './distribution';
import { describeApiError, ImageCopyError } from './errors';
import { removeImage } from './image-removal';
import type { ImageView } from './images';
import type { OperationContext } from './operation';
import { attempt } from './outcomes';
import { ownedCopies } from './ownership';
import type { ImageCopySettings } from './settings';

/** The kept (retired) copies of an instance in a region, newest first. */
export async function previousVersionsOf(
  ctx: OperationContext,
  regionId: string,
  instance: string,
): Promise<ImageView[]> {
  return (await ownedCopies(ctx, regionId))
    .filter((copy) => copy.tag.retired && copy.tag.instance === instance)
    .map((copy) => copy.image)
    .sort((a, b) =>
      a.creationTime < b.creationTime
        ? 1
        : a.creationTime > b.creationTime
          ? -1
          : a.imageId < b.imageId
            ? 1
            : -1,
    );
}

/** Which kept copies go: all but the newest `keep`. */
export function versionsBeyond(previous: readonly ImageView[], keep: number): ImageView[] {
  return previous.slice(Math.max(0, keep));
}

/**
 * Keeps the replaced copy as a previous version (see the module's steps). Returns false when it cannot be kept (gone,
 * or tagged by the previous version of the handler, whose tag has no room for the mark): the caller removes it as
 * before.
 */
export async function retirePreviousVersion(
  ctx: OperationContext,
  regionId: string,
  imageId: string,
): Promise<boolean> {
  const image = await ctx.images.describe(regionId, imageId);
  const retired = image && retiredOwnershipValue(image.tags[OWNERSHIP_TAG_KEY] ?? '');
  if (!image || retired === undefined) {
    return false;
  }
  const name = previousVersionName(image.imageName, imageId);
  const kept = await attempt(async () => {
    if (image.tags[OWNERSHIP_TAG_KEY] !== retired) {
      await ctx.images.tag(regionId, imageId, { [OWNERSHIP_TAG_KEY]: retired });
    }
    if (image.status !== 'Deprecated') {
      await revokeSharing(ctx, regionId, imageId);
    }
    if (image.status !== 'Deprecated' || image.imageName !== name) {
      await ctx.images.call('ModifyImageAttribute', {
        RegionId: regionId,
        ImageId: imageId,
        ...(image.imageName !== name ? { ImageName: name } : {}),
        ...(image.status !== 'Deprecated' ? { Status: 'Deprecated' } : {}),
      });
    }
  });
  if (kept.outcome !== 'ok') {
    const { error } = kept;
    if (error instanceof ImageCopyError) {
      throw error;
    }
    throw new ImageCopyError(
      'ApiError',
      `Could not keep ${imageId} as a previous version: ${describeApiError('ECS', error)}`,
      { imageId, cause: error },
    );
  }
  ctx.log.child({ imageId }).info('previous-version-kept', { imageName: name, status: 'Deprecated' });
  return true;
}

/** Deletes the kept copies of the instance beyond the newest `keep`. Returns the ids kept, newest first. */
export async function prunePreviousVersions(
  ctx: OperationContext,
  settings: ImageCopySettings,
  regionId: string,
  instance: string,
  keep: number,
): Promise<string[]> {
  const previous = await previousVersionsOf(ctx, regionId, instance);
  const beyond = versionsBeyond(previous, keep);
  for (const image of beyond) {
    await removeImage(ctx, {
      regionId,
      imageId: image.imageId,
      force: settings.force,
      role: 'the previous version',
      timeoutSeconds: settings.deleteTimeoutSeconds,
    });
    ctx.log.info('previous-version-deleted', { imageId: image.imageId, keep });
  }
  return previous.slice(0, Math.max(0, keep)).map((image) => image.imageId);
}

/**
 * The replaced copy of a replacement: kept as a previous version when `KeepPreviousVersions` asks for it and the copy
 * stays in its region (see {@link retirePreviousVersion}); otherwise unshared (when the resource shared it) and
 * removed by `remove`, as before.
 */
export async function retireOrRemoveReplaced(
  ctx: OperationContext,
  settings: ImageCopySettings,
  old: ImageCopySettings,
  currentId: string,
  remove: () => Promise<void>,
): Promise<void> {
  const region = old.destinationRegionId;
  const keeps = (settings.keepPreviousVersions ?? 0) > 0 && region === settings.destinationRegionId;
  if (keeps && (await retirePreviousVersion(ctx, region, currentId))) {
    return;
  }
  if ((old.sharedWithAccounts ?? []).length > 0) {
    await revokeSharingQuietly(ctx, region, currentId);
  }
  await remove();
}

/**
 * The kept copies once an Update is done: those beyond `KeepPreviousVersions` deleted (also when the count was
 * lowered in place; all of them in a region the copy left), the rest's ids returned, newest first. No call when the
 * resource neither keeps nor kept previous versions.
 */
export async function settlePreviousVersions(
  ctx: OperationContext,
  settings: ImageCopySettings,
  old: ImageCopySettings,
  instance: string,
): Promise<string[]> {
  const keep = settings.keepPreviousVersions ?? 0;
  if (keep === 0 && (old.keepPreviousVersions ?? 0) === 0) {
    return [];
  }
  if (old.destinationRegionId !== settings.destinationRegionId && (old.keepPreviousVersions ?? 0) > 0) {
    await prunePreviousVersions(ctx, settings, old.destinationRegionId, instance, 0);
  }
  return prunePreviousVersions(ctx, settings, settings.destinationRegionId, instance, keep);
}

/** Unshares an image from every account, logging rather than failing (the image is about to be deleted). */
async function revokeSharingQuietly(ctx: OperationContext, regionId: string, imageId: string): Promise<void> {
  const revoked = await attempt(() => revokeSharing(ctx, regionId, imageId));
  if (revoked.outcome !== 'ok') {
    const { error } = revoked;
    ctx.log.warn('unshare-failed', {
      imageId,
      reason: error instanceof Error ? error.message : String(error),
    });
  }
}
