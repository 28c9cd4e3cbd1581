/**
 * Starting a copy and waiting for it. A request first looks for the copy it already started (by its ownership
 * tag: duplicate, retried and continued deliveries adopt it), then calls `CopyImage` with its `ClientToken`. The
 * wait starts with a planned delay after a `CopyImage` (a copy just started has nothing to read yet), then follows
 * the copy's own progress (see `poll-planner.ts`) until it is Available, failed or gone, or the create timeout
 * passes — then the copy is cancelled and the failure says so.
 */
import {
  clientTokenFor,
  isOwnedBy,
  MAX_TAGS_PER_IMAGE,
  OWNERSHIP_TAG_KEY,
  ownershipTagValue,
} from '../protocol';
import { IMAGE_NAME_MAX_LENGTH } from '../validation';
import { ContinuationRequired, describeApiError, hasCode, ImageCopyError } from './errors';
import { cancelCopy, isFailed, isPending, readForPoll } from './image-removal';
import type { ImageView } from './images';
import { formatDuration, type OperationContext } from './operation';
import { PollPlanner } from './poll-planner';
import type { ImageCopySettings } from './settings';

/** How many times CopyImage is tried when the name it refused turns out to be free. */
const NAME_RACE_ATTEMPTS = 3;

export interface StartCopyOptions {
  /** The image this resource has now, which a replacement must never adopt. */
  readonly currentImageId?: string;
  /** Copy under this name instead of the wanted one (the current image may hold the wanted name). */
  readonly temporaryName?: string;
}

/** Ranks copies found by tag: a usable one first, the newest failure last. */
function preference(image: ImageView): number {
  if (image.status === 'Available' || image.status === 'Deprecated') return 0;
  if (isPending(image.status)) return 1;
  return 2;
}

/** A copy this very request already started, if any. */
async function findOwnCopy(
  ctx: OperationContext,
  settings: ImageCopySettings,
): Promise<ImageView | undefined> {
  const { StackId, LogicalResourceId, RequestId } = ctx.event;
  const tagValue = ownershipTagValue(StackId, LogicalResourceId, RequestId);
  const found = await ctx.images.findByTag(settings.destinationRegionId, OWNERSHIP_TAG_KEY, tagValue);
  return found.sort((a, b) => preference(a) - preference(b))[0];
}

/** Starts the copy for this request (or finds the one it already started) and returns its id. */
export async function startCopy(
  ctx: OperationContext,
  settings: ImageCopySettings,
  options: StartCopyOptions = {},
): Promise<string> {
  const { state, event, log } = ctx;
  if (state.imageId) {
    return state.imageId;
  }
  const own = await findOwnCopy(ctx, settings);
  if (own) {
    log.info('copy-adopted', {
      imageId: own.imageId,
      status: own.status,
      reason: 'started by this request already',
    });
    state.imageId = own.imageId;
    return own.imageId;
  }
  const name = options.temporaryName ?? settings.imageName;
  const tags = {
    ...settings.tags,
    [OWNERSHIP_TAG_KEY]: ownershipTagValue(event.StackId, event.LogicalResourceId, event.RequestId),
  };
  let imageId: string | undefined;
  // A duplicate delivery racing this one can free the name between CopyImage's refusal and the lookup of its
  // holder (it removed the old copy, and has not yet renamed its own): then look and copy again.
  for (let attempt = 1; imageId === undefined; attempt++) {
    try {
      const answer = await ctx.images.call('CopyImage', {
        RegionId: settings.sourceRegionId,
        ImageId: settings.sourceImageId,
        DestinationRegionId: settings.destinationRegionId,
        // A copy under a temporary name is a different request for ECS's idempotence.
        ClientToken: clientTokenFor(
          event.StackId,
          event.LogicalResourceId,
          options.temporaryName === undefined ? event.RequestId : `${event.RequestId}#temporary-name`,
        ),
        ...(name !== undefined ? { DestinationImageName: name } : {}),
        ...(settings.description !== undefined ? { DestinationDescription: settings.description } : {}),
        ...(settings.encrypted ? { Encrypted: true } : {}),
        ...(settings.encrypted && settings.kmsKeyId !== undefined ? { KMSKeyId: settings.kmsKeyId } : {}),
        ...(settings.resourceGroupId !== undefined ? { ResourceGroupId: settings.resourceGroupId } : {}),
        Tag: Object.entries(tags)
          .slice(-MAX_TAGS_PER_IMAGE)
          .map(([Key, Value]) => ({ Key, Value })),
      });
      imageId = answer.ImageId ?? '';
      state.copyRequestedAt = ctx.clock.now();
    } catch (error) {
      if (error instanceof ContinuationRequired) {
        throw error;
      }
      if (hasCode(error, 'InvalidImageName.Duplicated')) {
        imageId = await adoptOwnCopyByName(ctx, settings, name, options, error, attempt < NAME_RACE_ATTEMPTS);
      } else {
        throw copyRefused(settings, error);
      }
    }
    if (imageId === undefined) {
      log.info('name-freed', { imageName: name, attempt });
    }
  }
  if (!imageId) {
    throw new ImageCopyError('ApiError', 'ECS CopyImage answered without an ImageId');
  }
  state.imageId = imageId;
  log.info('copy-started', {
    imageId,
    sourceImageId: settings.sourceImageId,
    sourceRegionId: settings.sourceRegionId,
    destinationRegionId: settings.destinationRegionId,
    imageName: name,
  });
  return imageId;
}

/** After `InvalidImageName.Duplicated`: adopt the holder if it is one of this resource's own copies. */
async function adoptOwnCopyByName(
  ctx: OperationContext,
  settings: ImageCopySettings,
  requestedName: string | undefined,
  options: StartCopyOptions,
  error: unknown,
  mayRetry: boolean,
): Promise<string | undefined> {
  const { StackId, LogicalResourceId } = ctx.event;
  // A duplicate delivery of this request may have made its copy meanwhile, under any name.
  const started = await findOwnCopy(ctx, settings);
  if (started) {
    ctx.log.info('copy-adopted', {
      imageId: started.imageId,
      status: started.status,
      reason: 'started by this request already',
    });
    return started.imageId;
  }
  // Without a name, ECS names the copy after the source image.
  const name =
    requestedName ?? (await ctx.images.describe(settings.sourceRegionId, settings.sourceImageId))?.imageName;
  if (name === undefined) {
    throw copyRefused(settings, error);
  }
  const holders = await ctx.images.findByName(settings.destinationRegionId, name);
  const own = holders.find(
    (image) =>
      image.imageId !== options.currentImageId &&
      !isFailed(image.status) &&
      isOwnedBy(image.tags[OWNERSHIP_TAG_KEY] ?? '', StackId, LogicalResourceId),
  );
  if (own) {
    ctx.log.info('copy-adopted', {
      imageId: own.imageId,
      status: own.status,
      reason: 'own copy holding the name',
    });
    return own.imageId;
  }
  if (holders.length === 0 && mayRetry) {
    return undefined; // the name was freed since CopyImage refused it
  }
  const holder = holders[0];
  const by = holder ? ` by image ${holder.imageId}` : '';
  throw new ImageCopyError(
    'NameTaken',
    `ImageName "${name}" is already used${by} in ${settings.destinationRegionId}, and that image is not a copy ` +
      `made by this resource: choose another ImageName, or adopt that image with ExistingImageId. ` +
      `(${describeApiError('ECS CopyImage', error)})`,
    { cause: error },
  );
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
 * `CopyDisappeared` (absent) or, once the deadline passes, cancels the copy and throws `CreateTimeout`.
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
  const requestedAt = state.copyRequestedAt;
  state.copyRequestedAt = undefined;
  if (state.resumeAt !== undefined) {
    const resumeAt = Math.min(state.resumeAt, ctx.deadline);
    state.resumeAt = undefined;
    await invocation.sleepUntil(resumeAt);
  } else if (requestedAt !== undefined) {
    // CopyImage has just started the copy: nothing to read yet, so the first look is a planned wait away.
    await invocation.sleepUntil(Math.min(requestedAt + planner.first(() => clock.random()), ctx.deadline));
  }
  let last: ImageView | undefined;
  for (;;) {
    const read = await readForPoll(ctx, regionId, imageId);
    if ('unread' in read) {
      // ECS did not answer until the timeout, and the copy goes on regardless: cancel it as the timeout says.
      return cancelOnTimeout(ctx, settings, last ?? unreadView(imageId, regionId));
    }
    const image = read.image;
    last = image;
    const now = clock.now();
    if (!image) {
      throw new ImageCopyError(
        'CopyDisappeared',
        `The copy ${imageId} in ${regionId} disappeared before it became Available (cancelled or deleted ` +
          `outside this stack?).`,
        { imageId },
      );
    }
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
    if (now >= ctx.deadline) {
      return cancelOnTimeout(ctx, settings, image);
    }
    const delay = Math.min(
      planner.next({ ...image, at: now }, () => clock.random()),
      ctx.deadline - now,
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
  };
}

/** How long cancelling a copy may keep retrying after the create timeout, ms. */
export const CANCEL_GRACE_MS = 60_000;

/** The create timeout passed: cancel the copy and fail, saying how far it got. */
async function cancelOnTimeout(
  ctx: OperationContext,
  settings: ImageCopySettings,
  image: ImageView,
): Promise<ImageView> {
  const timeout = formatDuration(settings.createTimeoutSeconds);
  const where = `${image.progress || '0%'} (status ${image.status})`;
  // The create's own deadline has passed: the cancel gets a grace period of its own, so that a throttled or
  // failed-over call is retried rather than leaving the copy running.
  ctx.deadline = Math.max(ctx.deadline, ctx.clock.now() + CANCEL_GRACE_MS);
  const outcome = await cancelCopy(ctx, settings.destinationRegionId, image);
  if (outcome === 'finished') {
    const now = await ctx.images.describe(settings.destinationRegionId, image.imageId);
    if (now && (now.status === 'Available' || now.status === 'Deprecated')) {
      ctx.log.info('available', { imageId: now.imageId, note: 'finished as the create timeout passed' });
      return now;
    }
  }
  const what =
    outcome === 'not-cancellable'
      ? `it could not be cancelled (CancelNotSupported) and is left to finish; the rollback deletes it`
      : `the copy was cancelled`;
  throw new ImageCopyError(
    'CreateTimeout',
    `The create timeout of ${timeout} passed with the copy ${image.imageId} of ${settings.sourceImageId} at ` +
      `${where}; ${what}. Raise CreateTimeoutSeconds (timeouts.create) for large images.`,
    { imageId: image.imageId, progress: image.progress },
  );
}

/** A name for a replacement copy while the current copy still holds the wanted name. */
export function temporaryNameFor(name: string, requestHash: string): string {
  const suffix = `-replacement-${requestHash}`;
  return `${name.slice(0, IMAGE_NAME_MAX_LENGTH - suffix.length)}${suffix}`;
}
