/**
 * Distributing a copy once it is Available: sharing it with accounts (`SharedWithAccounts`,
 * ModifyImageSharePermission, at most 10 accounts per call), giving it an image family (`ImageFamily`,
 * ModifyImageAttribute), and the `Data` that says so. Every step reads what the image has and calls only what
 * differs, so a repeated or continued delivery repeats nothing.
 *
 * Sharing is managed only when the resource names accounts (now or before): a resource without `SharedWithAccounts`
 * makes no sharing call at all. An account shared outside the stack is left alone by an Update, and unshared with
 * the others when the copy is deleted or kept as a previous version (ECS requires an image to be unshared before it
 * is deprecated: https://www.alibabacloud.com/help/en/ecs/developer-reference/api-ecs-2014-05-26-modifyimageattribute).
 */
import { ImageCopyData, type ImageCopyDataKey, MAX_SHARE_ACCOUNTS_PER_CALL } from '../protocol';
import type { ImageView } from './images';
import type { OperationContext } from './operation';
import { attempt, callOnImage } from './outcomes';
import type { ImageCopySettings } from './settings';

/** DescribeImageSharePermission's largest page (its reference: PageSize at most 100). */
const SHARE_PAGE_SIZE = 100;

/** The `Data` keys distribution adds to an answer. */
export type DistributionOutputs = Record<
  Extract<ImageCopyDataKey, 'SharedWithAccounts' | 'ImageFamily' | 'PreviousImageIds'>,
  string
>;

/** The accounts to add and to remove so that the image is shared as wanted. */
export interface SharingPlan {
  readonly add: readonly string[];
  readonly remove: readonly string[];
}

/**
 * What to change: the wanted accounts not shared yet are added; the accounts shared now that were wanted before and
 * are no longer are removed (an account shared outside the stack is left alone). In the order given.
 */
export function planSharing(
  wanted: readonly string[],
  previouslyWanted: readonly string[],
  current: readonly string[],
): SharingPlan {
  const shared = new Set(current);
  const keep = new Set(wanted);
  return {
    add: [...new Set(wanted)].filter((account) => !shared.has(account)),
    remove: [...new Set(previouslyWanted)].filter((account) => !keep.has(account) && shared.has(account)),
  };
}

/** Splits a list into calls of at most {@link MAX_SHARE_ACCOUNTS_PER_CALL}. */
export function shareBatches(accounts: readonly string[]): string[][] {
  const batches: string[][] = [];
  for (let i = 0; i < accounts.length; i += MAX_SHARE_ACCOUNTS_PER_CALL) {
    batches.push(accounts.slice(i, i + MAX_SHARE_ACCOUNTS_PER_CALL));
  }
  return batches;
}

/** The accounts an image is shared with now (DescribeImageSharePermission, every page). */
export async function sharedAccountsOf(
  ctx: OperationContext,
  regionId: string,
  imageId: string,
): Promise<string[]> {
  const accounts: string[] = [];
  for (let page = 1; ; page++) {
    const answer = await ctx.images.call('DescribeImageSharePermission', {
      RegionId: regionId,
      ImageId: imageId,
      PageNumber: page,
      PageSize: SHARE_PAGE_SIZE,
    });
    const batch = (answer.Accounts?.Account ?? [])
      .map((account) => account.AliyunId ?? '')
      .filter((id) => id !== '');
    accounts.push(...batch);
    const total = answer.TotalCount ?? 0;
    if (batch.length < SHARE_PAGE_SIZE || accounts.length >= total) {
      return accounts;
    }
  }
}

/** Applies a sharing plan: removals first (to stay within ECS's 50 accounts per image), 10 accounts per call. */
async function applySharing(
  ctx: OperationContext,
  regionId: string,
  imageId: string,
  plan: SharingPlan,
): Promise<void> {
  const log = ctx.log.child({ imageId });
  for (const batch of shareBatches(plan.remove)) {
    await callOnImage('ECS ModifyImageSharePermission', imageId, () =>
      ctx.images.call('ModifyImageSharePermission', {
        RegionId: regionId,
        ImageId: imageId,
        RemoveAccount: batch,
      }),
    );
    log.info('unshared', { accounts: batch });
  }
  for (const batch of shareBatches(plan.add)) {
    await callOnImage('ECS ModifyImageSharePermission', imageId, () =>
      ctx.images.call('ModifyImageSharePermission', {
        RegionId: regionId,
        ImageId: imageId,
        AddAccount: batch,
      }),
    );
    log.info('shared', { accounts: batch });
  }
}

/**
 * Shares the image with exactly the wanted accounts among those this resource manages: adds the missing ones,
 * removes those wanted before and no longer (see {@link planSharing}). No call when neither names an account.
 */
export async function reconcileSharing(
  ctx: OperationContext,
  image: ImageView,
  wanted: readonly string[],
  previouslyWanted: readonly string[],
): Promise<void> {
  if (wanted.length === 0 && previouslyWanted.length === 0) {
    return;
  }
  const current = await callOnImage('ECS DescribeImageSharePermission', image.imageId, () =>
    sharedAccountsOf(ctx, image.regionId, image.imageId),
  );
  await applySharing(ctx, image.regionId, image.imageId, planSharing(wanted, previouslyWanted, current));
}

/** Unshares the image from every account it is shared with (before it is deleted or deprecated). */
export async function revokeSharing(ctx: OperationContext, regionId: string, imageId: string): Promise<void> {
  const current = await callOnImage('ECS DescribeImageSharePermission', imageId, () =>
    sharedAccountsOf(ctx, regionId, imageId),
  );
  if (current.length > 0) {
    await applySharing(ctx, regionId, imageId, { add: [], remove: current });
  }
}

/**
 * Unshares, before they are deleted, the Available images of a resource that manages sharing (`SharedWithAccounts`
 * named accounts); an image in progress or failed was never shared. A failure is logged, not thrown: the delete
 * goes on (ECS deletes a shared image too; unsharing first is courtesy to the sharees' view, not a precondition).
 */
export async function revokeSharingBeforeDelete(
  ctx: OperationContext,
  settings: ImageCopySettings,
  regionId: string,
  images: readonly ImageView[],
): Promise<void> {
  if ((settings.sharedWithAccounts ?? []).length === 0) {
    return;
  }
  for (const image of images.filter((candidate) => candidate.status === 'Available')) {
    const revoked = await attempt(() => revokeSharing(ctx, regionId, image.imageId));
    if (revoked.outcome !== 'ok') {
      const { error } = revoked;
      ctx.log.warn('unshare-failed', {
        imageId: image.imageId,
        reason: error instanceof Error ? error.message : String(error),
      });
    }
  }
}

/** Gives the image the wanted family (ModifyImageAttribute `ImageFamily`); ECS cannot clear one, so none is kept. */
export async function applyFamily(
  ctx: OperationContext,
  settings: ImageCopySettings,
  image: ImageView,
): Promise<ImageView> {
  const family = settings.imageFamily;
  if (family === undefined || family === image.imageFamily) {
    return image;
  }
  await callOnImage('ECS ModifyImageAttribute', image.imageId, () =>
    ctx.images.call('ModifyImageAttribute', {
      RegionId: image.regionId,
      ImageId: image.imageId,
      ImageFamily: family,
    }),
  );
  ctx.log.info('family-set', { imageId: image.imageId, imageFamily: family });
  return { ...image, imageFamily: family };
}

/**
 * Distributes an Available copy: its family, then its sharing. `old` is what the resource wanted before (an in-place
 * Update), undefined for a copy new to this request. Returns the image and the `Data` keys that describe it.
 */
export async function applyDistribution(
  ctx: OperationContext,
  settings: ImageCopySettings,
  old: ImageCopySettings | undefined,
  image: ImageView,
  previousImageIds: readonly string[] = [],
): Promise<{ image: ImageView; outputs: DistributionOutputs }> {
  const withFamily = await applyFamily(ctx, settings, image);
  const wanted = settings.sharedWithAccounts ?? [];
  await reconcileSharing(ctx, withFamily, wanted, old?.sharedWithAccounts ?? []);
  return {
    image: withFamily,
    outputs: {
      [ImageCopyData.SharedWithAccounts]: wanted.join(','),
      [ImageCopyData.ImageFamily]: withFamily.imageFamily ?? '',
      [ImageCopyData.PreviousImageIds]: previousImageIds.join(','),
    },
  };
}
