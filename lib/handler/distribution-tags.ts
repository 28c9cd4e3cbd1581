/**
 * `CopySourceTags`: the source image's tags onto the copy, the user's tags winning, within ECS's 20 tags per image
 * counting the tags ros-cdk-image-copy reserves. Pure functions, and the one read of the source's tags.
 */
import { MAX_TAGS_PER_IMAGE, RESERVED_TAG_KEYS } from '../protocol';
import type { OperationContext } from './operation';
import type { ImageCopySettings } from './settings';

/** Keys ECS keeps for itself (system tags): a user cannot set them, so they are never copied. */
const SYSTEM_TAG_KEY = /^(aliyun|acs:)/i;

/**
 * The source's tags that go onto the copy: not a reserved or system key, not a key the user sets (the user's value
 * wins), and only as many as leave room for the user's tags and the `reserved` tags (by key, in the source's order).
 */
export function sourceTags(
  source: Readonly<Record<string, string>>,
  user: Readonly<Record<string, string>>,
  reserved: number,
): Record<string, string> {
  const room = Math.max(0, MAX_TAGS_PER_IMAGE - reserved - Object.keys(user).length);
  const eligible = Object.entries(source).filter(
    ([key]) => !RESERVED_TAG_KEYS.includes(key) && !SYSTEM_TAG_KEY.test(key) && !(key in user),
  );
  return Object.fromEntries(eligible.slice(0, room));
}

/** How many reserved tags a copy carries: the ownership tag, and the source tag on a copy of an ImageReplication. */
export function reservedTagCount(settings: ImageCopySettings): number {
  return settings.replicaRegionIds.length > 0 ? 2 : 1;
}

/** The tags of the source image, or none when `CopySourceTags` is off (then nothing is read). */
export async function readSourceTags(
  ctx: OperationContext,
  settings: ImageCopySettings,
): Promise<Record<string, string>> {
  if (!settings.copySourceTags) {
    return {};
  }
  const source = await ctx.images.describe(settings.sourceRegionId, settings.sourceImageId);
  return { ...(source?.tags ?? {}) };
}

/** The tags a copy is given: the source's that fit (when `CopySourceTags`), then the user's. */
export function wantedTags(
  settings: ImageCopySettings,
  source: Readonly<Record<string, string>>,
): Record<string, string> {
  if (!settings.copySourceTags) {
    return { ...settings.tags };
  }
  return { ...sourceTags(source, settings.tags, reservedTagCount(settings)), ...settings.tags };
}

/** The copy's tags from the source, for a CopyImage (the user's are added by the caller). */
export async function copiedSourceTags(
  ctx: OperationContext,
  settings: ImageCopySettings,
): Promise<Record<string, string>> {
  if (!settings.copySourceTags) {
    return {};
  }
  return sourceTags(await readSourceTags(ctx, settings), settings.tags, reservedTagCount(settings));
}

/**
 * An in-place Update's tag calls when `CopySourceTags` is or was on: the wanted tags (source's and user's) that
 * differ from the image are set; the keys wanted before and no longer are removed, never a reserved key. Undefined
 * when `CopySourceTags` is off before and after (the caller's own diff of the user's tags applies).
 */
export async function inPlaceTagChanges(
  ctx: OperationContext,
  old: ImageCopySettings,
  settings: ImageCopySettings,
  imageTags: Readonly<Record<string, string>>,
): Promise<{ tagsToSet: Record<string, string>; tagsToRemove: string[] } | undefined> {
  if (!settings.copySourceTags && !old.copySourceTags) {
    return undefined;
  }
  const source = await readSourceTags(ctx, { ...settings, copySourceTags: true });
  const wanted = wantedTags(settings, source);
  const before = wantedTags(old, source);
  return {
    tagsToSet: Object.fromEntries(Object.entries(wanted).filter(([key, value]) => imageTags[key] !== value)),
    tagsToRemove: Object.keys(before).filter(
      (key) => !(key in wanted) && key in imageTags && !RESERVED_TAG_KEYS.includes(key),
    ),
  };
}
