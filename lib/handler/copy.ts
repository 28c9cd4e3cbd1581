/**
 * Starting a copy and waiting for it. A request first looks for the copy it already started (by its ownership
 * tag: duplicate, retried and continued deliveries adopt it), then calls `CopyImage` with its `ClientToken` (which
 * finds a copy the tag lookup cannot see yet: ECS may list a new copy late). A `CopyImage` that ECS refuses because
 * the source is being copied already is tried again, with backoff, until the create timeout. The wait starts with a
 * planned delay after a `CopyImage` (a copy just started has nothing to read yet), then follows the copy's own
 * progress (see `poll-planner.ts`) until it is Available, failed or gone, or the create timeout passes — then the
 * copy is cancelled and the failure says so. A copy not listed yet counts as pending for a bounded time.
 */
import {
  clientTokenFor,
  MAX_TAGS_PER_IMAGE,
  OWNERSHIP_TAG_KEY,
  ownershipRequestHash,
  SOURCE_TAG_KEY,
  sourceTagValue,
} from '../protocol';
import { IMAGE_NAME_MAX_LENGTH } from '../validation';
import { describeApiError, errorCode, hasCode, ImageCopyError } from './errors';
import { discardCopy } from './discard';
import { copiedSourceTags } from './distribution-tags';
import { cancelCopy, isFailed, isPending, readForPoll } from './image-removal';
import type { ImageView } from './images';
import { formatDuration, type OperationContext } from './operation';
import { attempt, outcomeTable } from './outcomes';
import { ownedCopies, ownershipValueFor } from './ownership';
import { PollPlanner } from './poll-planner';
import { backoffDelay } from './retry';
import type { ImageCopySettings } from './settings';
import { unlistedUntil, visibilityGraceMs } from './visibility';

/** The longest pause between two looks for the image that holds the name CopyImage refused, ms. */
const NAME_HOLDER_MAX_PAUSE_MS = 5_000;

/**
 * The CopyImage refusals that mean "not yet": the source is being copied (by this stack or anything else). The
 * CopyImage reference documents all three
 * (https://www.alibabacloud.com/help/en/ecs/developer-reference/api-ecs-2014-05-26-copyimage).
 */
export const COPY_CONFLICT_CODES = [
  'OperationDenied.ImageCopyConflict',
  'OperationDenied.ImageCopying',
  'InvalidOperation.Conflict',
] as const;

/** What a refused `CopyImage` of the source means: not yet (the source is being copied), or a name to look into. */
const COPY_OUTCOMES = outcomeTable({
  'source-busy': COPY_CONFLICT_CODES,
  'name-taken': ['InvalidImageName.Duplicated'],
});

/** Waits between CopyImage attempts refused as concurrent: doubling from 4 s to 30 s, ±20 % jitter. */
export const CONFLICT_BACKOFF = { baseMs: 4_000, maxMs: 30_000, jitter: 0.2 } as const;

/** The shortest wait for a peer's copy in progress to be done. */
const FOLLOW_FLOOR_MS = 2_000;

/** An image somewhere: the source, or a copy of it. */
export interface ImageLocation {
  readonly regionId: string;
  readonly imageId: string;
}

/**
 * The source is being copied: a copy of an `ImageReplication` may copy from a peer instead, a finished (Available)
 * copy of the same source (and encryption) in another of the replication's regions, which carries the source tag
 * only its handler writes. Each peer is tried in an order that differs from one request to the next (so members
 * spread over the peers); a peer that is itself being copied, or gone, is skipped. Without a peer to copy from,
 * says when the soonest peer copy in progress should be done, to be followed rather than waited for blindly. After
 * a copy from a peer has failed (`peerFallback`), only the source is used.
 */
async function copyFromPeer(
  ctx: OperationContext,
  settings: ImageCopySettings,
  copyFrom: (from: ImageLocation) => Promise<string>,
): Promise<{ readonly imageId?: string; readonly nextEndInMs?: number }> {
  const { state, log } = ctx;
  if (settings.replicaRegionIds.length === 0 || state.peerFallback) {
    return {};
  }
  const value = sourceTagValue(settings.sourceRegionId, settings.sourceImageId, settings.encrypted);
  const peers: ImageView[] = [];
  for (const regionId of settings.replicaRegionIds.filter((r) => r !== settings.destinationRegionId)) {
    peers.push(...(await ctx.images.findByTag(regionId, SOURCE_TAG_KEY, value)));
  }
  // Available only: a Deprecated image cannot be copied.
  const ready = peers.filter((peer) => peer.status === 'Available');
  const offset =
    ready.length > 0 ? parseInt(ownershipRequestHash(ctx.event.RequestId).slice(0, 8), 16) % ready.length : 0;
  for (const peer of [...ready.slice(offset), ...ready.slice(0, offset)]) {
    const copied = await attempt(() => copyFrom({ regionId: peer.regionId, imageId: peer.imageId }));
    if (copied.outcome === 'ok') {
      state.copiedFrom = `${peer.regionId}/${peer.imageId}`;
      log.info('copy-from-peer', {
        peerRegionId: peer.regionId,
        peerImageId: peer.imageId,
        imageId: copied.value,
      });
      return { imageId: copied.value };
    }
    // Being copied itself, gone or unusable meanwhile: try the next one.
    log.info('peer-skipped', {
      peerRegionId: peer.regionId,
      peerImageId: peer.imageId,
      reason: describeApiError('ECS CopyImage', copied.error),
    });
  }
  const ends = peers.filter((peer) => isPending(peer.status)).map((peer) => (peer.remainSeconds ?? 0) * 1000);
  return ends.length > 0 ? { nextEndInMs: Math.min(...ends) } : {};
}

/**
 * Waits until this request's copy is Available and returns it (see {@link waitUntilAvailable}). A copy made from a
 * peer's copy that fails or disappears (the peer's copy deleted or replaced while it was copied from) is removed,
 * and undefined says to copy again, from the source itself.
 */
export async function waitOrFallBack(
  ctx: OperationContext,
  settings: ImageCopySettings,
  imageId: string,
): Promise<ImageView | undefined> {
  const { state } = ctx;
  const waited = await attempt(() => waitUntilAvailable(ctx, settings, imageId));
  if (waited.outcome === 'ok') {
    return waited.value;
  }
  const { error } = waited;
  const fromPeer =
    state.copiedFrom !== undefined &&
    error instanceof ImageCopyError &&
    (error.code === 'CopyFailed' || error.code === 'CopyDisappeared');
  if (!fromPeer) {
    throw error;
  }
  ctx.log.warn('peer-copy-failed', {
    imageId,
    copiedFrom: state.copiedFrom,
    reason: error.message,
    next: 'copying from the source itself',
  });
  await discardCopy(ctx, settings.destinationRegionId, imageId, 'peer-copy');
  state.peerFallback = true;
  state.copiedFrom = undefined;
  state.imageId = undefined;
  state.copySeen = undefined;
  state.copyRequestedAt = undefined;
  return undefined;
}

export interface StartCopyOptions {
  /** The resource instance the copy is for (the hash its ownership tag carries). */
  readonly instance: string;
  /** The image this resource has now, which a replacement must never adopt. */
  readonly currentImageId?: string;
  /** Copy under this name instead of the wanted one (the current image may hold the wanted name). */
  readonly temporaryName?: string;
}

/** Ranks copies found by tag: a usable one first, the newest failure last. */
function preference(image: ImageView): number {
  if (image.status === 'Available' || image.status === 'Deprecated') {
    return 0;
  }
  if (isPending(image.status)) {
    return 1;
  }
  return 2;
}

/** A copy this very request already started (unconfirmed or confirmed, or by the previous version), if any. */
async function findOwnCopy(
  ctx: OperationContext,
  settings: ImageCopySettings,
): Promise<ImageView | undefined> {
  const request = ownershipRequestHash(ctx.event.RequestId);
  // A failed copy is never adopted: the ClientToken still finds it for a retried delivery (and the copy fails as it
  // did), while a copy made anew after a peer's copy failed is not taken for the failed one.
  const found = (await ownedCopies(ctx, settings.destinationRegionId))
    .filter((copy) => copy.tag.request === request && !isFailed(copy.image.status))
    .map((copy) => copy.image);
  return found.sort((a, b) => preference(a) - preference(b))[0];
}

/** Starts the copy for this request (or finds the one it already started) and returns its id. */
export async function startCopy(
  ctx: OperationContext,
  settings: ImageCopySettings,
  options: StartCopyOptions,
): Promise<string> {
  const { state, event, log } = ctx;
  if (state.imageId) {
    return state.imageId;
  }
  if (state.resumeAt !== undefined) {
    // A wait for a concurrent copy of the source, handed over from the last invocation.
    const resumeAt = Math.min(state.resumeAt, ctx.state.deadline);
    state.resumeAt = undefined;
    await ctx.invocation.sleepUntil(resumeAt);
  }
  const own = await findOwnCopy(ctx, settings);
  if (own) {
    log.info('copy-adopted', {
      imageId: own.imageId,
      status: own.status,
      reason: 'started by this request already',
    });
    state.imageId = own.imageId;
    state.copySeen = true;
    return own.imageId;
  }
  const name = options.temporaryName ?? settings.imageName;
  const tags = {
    // CopySourceTags: the source's tags that fit, the user's winning (distribution-tags.ts).
    ...(await copiedSourceTags(ctx, settings)),
    ...settings.tags,
    // A copy of an ImageReplication says which source it copies, so the others may copy from it once it is done.
    ...(settings.replicaRegionIds.length > 0
      ? {
          [SOURCE_TAG_KEY]: sourceTagValue(
            settings.sourceRegionId,
            settings.sourceImageId,
            settings.encrypted,
          ),
        }
      : {}),
    [OWNERSHIP_TAG_KEY]: ownershipValueFor(ctx, options.instance),
  };
  /** CopyImage of `from` (the source, or a peer's finished copy of it) into the destination. */
  const copyFrom = async (from: ImageLocation): Promise<string> => {
    const fromSource = from.regionId === settings.sourceRegionId && from.imageId === settings.sourceImageId;
    // A copy under a temporary name, or from a peer, is a different request for ECS's idempotence.
    const token = [
      event.RequestId,
      ...(options.temporaryName === undefined ? [] : ['temporary-name']),
      ...(fromSource ? [] : [`from:${from.regionId}/${from.imageId}`]),
    ].join('#');
    const answer = await ctx.images.call('CopyImage', {
      RegionId: from.regionId,
      ImageId: from.imageId,
      DestinationRegionId: settings.destinationRegionId,
      ClientToken: clientTokenFor(event.StackId, event.LogicalResourceId, token),
      ...(name !== undefined ? { DestinationImageName: name } : {}),
      ...(settings.description !== undefined ? { DestinationDescription: settings.description } : {}),
      ...(settings.encrypted ? { Encrypted: true } : {}),
      ...(settings.encrypted && settings.kmsKeyId !== undefined ? { KMSKeyId: settings.kmsKeyId } : {}),
      ...(settings.resourceGroupId !== undefined ? { ResourceGroupId: settings.resourceGroupId } : {}),
      Tag: Object.entries(tags)
        .slice(-MAX_TAGS_PER_IMAGE)
        .map(([Key, Value]) => ({ Key, Value })),
    });
    state.copyRequestedAt ??= ctx.clock.now();
    state.justRequested = true;
    return answer.ImageId ?? '';
  };
  let imageId: string | undefined;
  for (;;) {
    const copied = await attempt(
      () => copyFrom({ regionId: settings.sourceRegionId, imageId: settings.sourceImageId }),
      COPY_OUTCOMES,
    );
    if (copied.outcome === 'ok') {
      imageId = copied.value;
      break;
    }
    if (copied.outcome === 'failed') {
      throw copyRefused(settings, copied.error);
    }
    if (copied.outcome === 'source-busy') {
      const peers = await copyFromPeer(ctx, settings, copyFrom);
      if (peers.imageId !== undefined) {
        imageId = peers.imageId;
        break;
      }
      await waitOutConflict(ctx, settings, copied.error, peers.nextEndInMs);
      continue;
    }
    // 'name-taken'
    imageId = await adoptOwnCopyByName(ctx, settings, name, options, copied.error);
    if (imageId !== undefined) {
      break;
    }
    await waitForNameHolder(ctx, settings, name, copied.error);
  }
  if (!imageId) {
    throw new ImageCopyError('ApiError', 'ECS CopyImage answered without an ImageId');
  }
  state.imageId = imageId;
  if (state.conflictSince !== undefined) {
    log.info('copy-conflict-over', { waitedMs: ctx.clock.now() - state.conflictSince });
  }
  log.info('copy-started', {
    imageId,
    sourceImageId: settings.sourceImageId,
    sourceRegionId: settings.sourceRegionId,
    destinationRegionId: settings.destinationRegionId,
    imageName: name,
  });
  return imageId;
}

/**
 * ECS refused the CopyImage because the source is being copied (by another copy of this stack, an ImageReplication
 * member, or anything else): wait with backoff and jitter, then try again. The wait may hand over to a fresh
 * invocation (`ContinuationRequired`); the refusals and their start are kept in the continuation state. Once the
 * create timeout has passed, fails saying so.
 */
async function waitOutConflict(
  ctx: OperationContext,
  settings: ImageCopySettings,
  error: unknown,
  peerEndsInMs?: number,
): Promise<void> {
  const { state, clock } = ctx;
  const now = clock.now();
  state.conflictSince ??= now;
  state.conflictRefusals = (state.conflictRefusals ?? 0) + 1;
  if (now >= ctx.state.deadline) {
    throw new ImageCopyError(
      'CopyConflict',
      `Cannot copy the source image ${settings.sourceImageId} in ${settings.sourceRegionId}: it was being copied ` +
        `by something else (another ImageCopy or ImageReplication member, or a copy outside this stack) for the ` +
        `whole create timeout of ${formatDuration(settings.createTimeoutSeconds)}: ECS refused CopyImage ` +
        `${state.conflictRefusals} times over ${formatDuration((now - state.conflictSince) / 1000)} ` +
        `(${describeApiError('ECS CopyImage', error)}). Deploy again once that copy has finished, or raise ` +
        `CreateTimeoutSeconds (timeouts.create).`,
      { cause: error },
    );
  }
  // A peer's copy in progress is followed: once it is done, it can be copied from (or the source may be free).
  const backoff = backoffDelay(state.conflictRefusals, { ...CONFLICT_BACKOFF, random: () => clock.random() });
  const following = peerEndsInMs === undefined ? backoff : Math.max(FOLLOW_FLOOR_MS, peerEndsInMs + 1_000);
  const delay = Math.min(backoff, following, ctx.state.deadline - now);

  ctx.log.info('copy-conflict', {
    code: errorCode(error),
    refusals: state.conflictRefusals,
    waitedMs: now - state.conflictSince,
    nextAttemptMs: delay,
  });
  await ctx.invocation.sleep(delay);
}

/**
 * After `InvalidImageName.Duplicated`: adopt the holder if this very request started it (a duplicate delivery may
 * have made its copy meanwhile, under any name). Another copy of this resource holding the name is never adopted:
 * it may be the image of another instance of the resource (ROS creating the new instance of a replacement it
 * performs itself before deleting the old one), or a leftover copied from another source.
 */
async function adoptOwnCopyByName(
  ctx: OperationContext,
  settings: ImageCopySettings,
  requestedName: string | undefined,
  options: StartCopyOptions,
  error: unknown,
): Promise<string | undefined> {
  const started = await findOwnCopy(ctx, settings);
  if (started) {
    ctx.log.info('copy-adopted', {
      imageId: started.imageId,
      status: started.status,
      reason: 'started by this request already',
    });
    ctx.state.copySeen = true;
    return started.imageId;
  }
  // Without a name, ECS names the copy after the source image.
  const name =
    requestedName ?? (await ctx.images.describe(settings.sourceRegionId, settings.sourceImageId))?.imageName;
  if (name === undefined) {
    throw copyRefused(settings, error);
  }
  const [holder] = await ctx.images.findByName(settings.destinationRegionId, name);
  if (holder === undefined) {
    return undefined;
  }
  const ours = (await ownedCopies(ctx, settings.destinationRegionId)).find(
    (copy) => copy.image.imageId === holder.imageId,
  );
  const whose = !ours
    ? `that image is not a copy made by this resource: choose another ImageName, or adopt that image with ` +
      `ExistingImageId.`
    : ours.tag.confirmed || holder.imageId === options.currentImageId
      ? `that image is the copy of another instance of this resource (a replacement that ROS performs itself ` +
        `creates the new resource before it deletes the old one): change ImageName along with what forces the ` +
        `replacement.`
      : `that image is a copy left by an earlier request of this resource, which is removed when the resource (or ` +
        `the failed create it belongs to) is deleted: deploy again once it is gone, or choose another ImageName.`;
  throw new ImageCopyError(
    'NameTaken',
    `ImageName "${name}" is already used by image ${holder.imageId} in ${settings.destinationRegionId}, and ${whose} ` +
      `(${describeApiError('ECS CopyImage', error)})`,
    { cause: error },
  );
}

/**
 * CopyImage refused the name, and no image listed has it: either it was freed since (a duplicate delivery of a
 * replacement removed the old copy and has not renamed its own yet), or its holder is not listed yet. The holder may
 * be this very request's copy, started by another delivery with another ClientToken (from a peer's copy rather than
 * the source), which it then adopts once ECS lists it. So CopyImage is tried again, at once the first time, then
 * after pauses, across hand-overs, for as long as a new copy may stay unlisted (see `visibility.ts`); then it fails.
 */
async function waitForNameHolder(
  ctx: OperationContext,
  settings: ImageCopySettings,
  name: string | undefined,
  error: unknown,
): Promise<void> {
  const { state, clock } = ctx;
  const now = clock.now();
  state.nameRefusedSince ??= now;
  state.nameRefusals = (state.nameRefusals ?? 0) + 1;
  const until = Math.min(state.nameRefusedSince + visibilityGraceMs(ctx.polling), ctx.state.deadline);
  if (now >= until) {
    throw new ImageCopyError(
      'NameTaken',
      `ImageName "${name}" is already used in ${settings.destinationRegionId} by an image that DescribeImages did ` +
        `not list in the ${formatDuration((now - state.nameRefusedSince) / 1000)} it was looked for: choose another ` +
        `ImageName. (${describeApiError('ECS CopyImage', error)})`,
      { cause: error },
    );
  }
  const floor = ctx.polling.floorMs ?? 1_000;
  const pause =
    state.nameRefusals === 1 ? 0 : Math.min(NAME_HOLDER_MAX_PAUSE_MS, floor * 2 ** (state.nameRefusals - 2));
  ctx.log.info('name-holder-not-listed', {
    imageName: name,
    refusals: state.nameRefusals,
    nextAttemptMs: Math.min(pause, until - now),
  });
  await ctx.invocation.sleep(Math.min(pause, until - now));
}

/** A failure message for a `CopyImage` the service refused, naming what to check. */
function copyRefused(settings: ImageCopySettings, error: unknown): ImageCopyError {
  const source = `the source image ${settings.sourceImageId} in ${settings.sourceRegionId}`;
  const api = describeApiError('ECS CopyImage', error);
  if (hasCode(error, 'InvalidImageId.NotFound')) {
    return new ImageCopyError(
      'SourceImageUnusable',
      `Cannot copy ${source}: it does not exist (check SourceImageId and SourceRegionId). ${api}`,
      { cause: error },
    );
  }
  if (hasCode(error, 'IncorrectImageStatus')) {
    return new ImageCopyError(
      'SourceImageUnusable',
      `Cannot copy ${source}: it is not Available (only an Available image can be copied). ${api}`,
      { cause: error },
    );
  }
  return new ImageCopyError('ApiError', `Cannot copy ${source}: ${api}`, { cause: error });
}

/**
 * Waits until the copy is Available and returns it. Throws `CopyFailed` (CreateFailed / UnAvailable),
 * `CopyDisappeared` (absent once seen, or never seen within {@link visibilityGraceMs} of its CopyImage) or, once
 * the deadline passes, cancels the copy and throws `CreateTimeout`.
 */
export async function waitUntilAvailable(
  ctx: OperationContext,
  settings: ImageCopySettings,
  imageId: string,
): Promise<ImageView> {
  const { state, clock, invocation } = ctx;
  const log = ctx.log.child({ imageId });
  const planner = new PollPlanner(ctx.polling, state.progressSample);
  const regionId = settings.destinationRegionId;
  const justRequested = state.justRequested;
  state.justRequested = false;
  if (state.resumeAt !== undefined) {
    const resumeAt = Math.min(state.resumeAt, ctx.state.deadline);
    state.resumeAt = undefined;
    await invocation.sleepUntil(resumeAt);
  } else if (justRequested && state.copyRequestedAt !== undefined) {
    // CopyImage has just started the copy: nothing to read yet, so the first look is a planned wait away.
    await invocation.sleepUntil(
      Math.min(state.copyRequestedAt + planner.first(() => clock.random()), ctx.state.deadline),
    );
  }
  let last: ImageView | undefined;
  for (;;) {
    const read = await readForPoll(ctx, regionId, imageId);
    if ('unread' in read) {
      // ECS did not answer until the timeout, and the copy goes on regardless: cancel it as the timeout says.
      return cancelOnTimeout(ctx, settings, last ?? unreadView(imageId, regionId));
    }
    const image = read.image;
    const now = clock.now();
    if (!image) {
      const unseenUntil = unlistedUntil(ctx, imageId);
      if (unseenUntil === undefined) {
        throw new ImageCopyError(
          'CopyDisappeared',
          `The copy ${imageId} in ${regionId} disappeared before it became Available (cancelled or deleted ` +
            `outside this stack?).`,
          { imageId },
        );
      }
      if (now >= ctx.state.deadline) {
        return cancelOnTimeout(ctx, settings, last ?? unreadView(imageId, regionId));
      }
      if (now >= unseenUntil) {
        // It may exist all the same (listed later still): cancel it by its id rather than leave it to run.
        await discardCopy(ctx, regionId, imageId, 'unlisted-copy');
        throw new ImageCopyError(
          'CopyDisappeared',
          `The copy ${imageId} that CopyImage started in ${regionId} never appeared in DescribeImages within ` +
            `${formatDuration(visibilityGraceMs(ctx.polling) / 1000)} (cancelled or deleted outside this stack?).`,
          { imageId },
        );
      }
      // ECS may list a new copy late: it is pending until the bound, looked at as a copy with nothing to go on.
      const delay = Math.min(
        planner.next({ status: 'Waiting', at: now }, () => clock.random()),
        unseenUntil - now,
        ctx.state.deadline - now,
      );
      log.info('not-listed-yet', { unseenForMs: now - (state.copyRequestedAt ?? now), nextPollMs: delay });
      await invocation.sleep(delay);
      continue;
    }
    last = image;
    state.copySeen = true;
    if (image.status === 'Available' || image.status === 'Deprecated') {
      log.info('available', { status: image.status, imageName: image.imageName });
      return image;
    }
    if (isFailed(image.status)) {
      throw new ImageCopyError(
        'CopyFailed',
        `The copy ${imageId} of ${settings.sourceImageId} (${settings.sourceRegionId} → ${regionId}) ended in ` +
          `status ${image.status}${image.progress ? ` at ${image.progress}` : ''}. It is kept for inspection and ` +
          `removed when the stack rolls back or the resource is deleted.`,
        { imageId, progress: image.progress },
      );
    }
    if (now >= ctx.state.deadline) {
      return cancelOnTimeout(ctx, settings, image);
    }
    const delay = Math.min(
      planner.next({ ...image, at: now }, () => clock.random()),
      ctx.state.deadline - now,
    );
    state.progressSample = planner.sample;
    log.info('poll', {
      status: image.status,
      progress: image.progress,
      remainSeconds: image.remainSeconds,
      nextPollMs: delay,
    });
    await invocation.sleep(delay);
  }
}

/** A copy that has not been read yet (ECS did not answer before the create timeout). */
function unreadView(imageId: string, regionId: string): ImageView {
  return {
    imageId,
    regionId,
    status: 'not read',
    imageName: '',
    description: '',
    progress: '',
    tags: {},
    resourceGroupId: '',
    creationTime: '',
  };
}

/** How long cancelling a copy may keep retrying after the create timeout, ms. */
export const CANCEL_GRACE_MS = 60_000;

/**
 * The create timeout passed: cancel the copy and fail, saying how far it got. A copy this request has never seen that
 * ECS does not know by its id either may not be listed yet (see `visibility.ts`): it is asked for again, across
 * hand-overs, until it is listed (then cancelled) or its listing bound has passed.
 */
async function cancelOnTimeout(
  ctx: OperationContext,
  settings: ImageCopySettings,
  image: ImageView,
): Promise<ImageView> {
  const timeout = formatDuration(settings.createTimeoutSeconds);
  const regionId = settings.destinationRegionId;
  const until = unlistedUntil(ctx, image.imageId);
  // The create's own deadline has passed: the cancel gets a grace period of its own, so that a throttled or
  // failed-over call is retried rather than leaving the copy running.
  ctx.state.cancelGraceUntil = Math.max(ctx.clock.now() + CANCEL_GRACE_MS, (until ?? 0) + CANCEL_GRACE_MS);
  let current = image;
  let outcome = await cancelCopy(ctx, regionId, current);
  const planner = new PollPlanner(ctx.polling);
  while (outcome === 'gone' && until !== undefined && !ctx.state.copySeen && ctx.clock.now() < until) {
    const now = ctx.clock.now();
    const delay = Math.min(
      planner.next({ status: 'Waiting', at: now }, () => ctx.clock.random()),
      until - now,
    );
    ctx.log.info('not-listed-yet', {
      imageId: image.imageId,
      reason: 'create timeout',
      nextAttemptMs: delay,
    });
    await ctx.invocation.sleep(delay);
    const seen = await ctx.images.describe(regionId, image.imageId);
    if (seen) {
      ctx.state.copySeen = true;
      current = seen;
    }
    outcome = await cancelCopy(ctx, regionId, current);
  }
  if (outcome === 'finished') {
    const now = await ctx.images.describe(regionId, image.imageId);
    if (now && (now.status === 'Available' || now.status === 'Deprecated')) {
      ctx.log.info('available', { imageId: now.imageId, note: 'finished as the create timeout passed' });
      return now;
    }
  }
  const what =
    outcome === 'not-cancellable'
      ? `it could not be cancelled (CancelNotSupported) and is left to finish; the rollback deletes it`
      : `the copy was cancelled`;
  const where = `${current.progress || '0%'} (status ${current.status})`;
  throw new ImageCopyError(
    'CreateTimeout',
    `The create timeout of ${timeout} passed with the copy ${image.imageId} of ${settings.sourceImageId} at ` +
      `${where}; ${what}. Raise CreateTimeoutSeconds (timeouts.create) for large images.`,
    { imageId: image.imageId, progress: current.progress },
  );
}

/** A name for a replacement copy while the current copy still holds the wanted name. */
export function temporaryNameFor(name: string, requestHash: string): string {
  const suffix = `-replacement-${requestHash}`;
  return `${name.slice(0, IMAGE_NAME_MAX_LENGTH - suffix.length)}${suffix}`;
}
