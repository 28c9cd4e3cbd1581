/**
 * The `ImageCopy` custom resource: `onCreate`, `onUpdate` and `onDelete`, each answering with an {@link Outcome}
 * or throwing an {@link ImageCopyError} (or {@link ContinuationRequired} to continue in a new invocation).
 *
 * - Create copies (or adopts `ExistingImageId`, like a Terraform import: the resource then owns that image and
 *   deletes it on Delete), waits until Available and answers with the image id as physical id.
 * - Update applies the {@link analyzeUpdate} table: in place, or a replacement (copy anew, wait, remove the old
 *   copy, answer with the new id; on failure the new copy is removed and the old one kept).
 * - Delete cancels or deletes the physical id's image, waits until it is gone, then sweeps this resource's
 *   leftover copies. A placeholder id from a create that failed before any image existed succeeds at once.
 */
import {
  ImageCopyData,
  type ImageCopyOutputs,
  OWNERSHIP_TAG_KEY,
  ownershipRequestHash,
  ownershipTagValue,
} from '../protocol';
import { analyzeUpdate } from './analyze-update';
import { startCopy, temporaryNameFor, waitUntilAvailable } from './copy';
import { ContinuationRequired, describeApiError, hasCode, ImageCopyError } from './errors';
import { removeImage, sweepLeftoverCopies } from './image-removal';
import type { ImageView } from './images';
import type { OperationContext } from './operation';
import { readSettings, readSettingsLeniently, type ImageCopySettings } from './settings';

/** What the handler answers ROS. */
export type Outcome =
  | { readonly status: 'SUCCESS'; readonly physicalResourceId: string; readonly data?: ImageCopyOutputs }
  | { readonly status: 'FAILED'; readonly physicalResourceId: string; readonly reason: string };

const PLACEHOLDER_PREFIX = 'image-copy-failed-';

/** The physical id of a create that failed before an image existed; Delete recognises it and does nothing. */
export function placeholderPhysicalId(requestId: string): string {
  return `${PLACEHOLDER_PREFIX}${ownershipRequestHash(requestId)}`;
}

export function isPlaceholderPhysicalId(id: string | undefined): boolean {
  return id !== undefined && id.startsWith(PLACEHOLDER_PREFIX);
}

/** Whether a physical id names an ECS image (`m-...`). */
export function isImageId(id: string | undefined): id is string {
  return id !== undefined && /^m-[A-Za-z0-9]+$/.test(id);
}

function outputs(settings: ImageCopySettings, image: ImageView): ImageCopyOutputs {
  return {
    [ImageCopyData.ImageId]: image.imageId,
    [ImageCopyData.RegionId]: settings.destinationRegionId,
    [ImageCopyData.SourceImageId]: settings.sourceImageId,
    [ImageCopyData.SourceRegionId]: settings.sourceRegionId,
    [ImageCopyData.ImageName]: image.imageName,
  };
}

export class ImageCopyResource {
  constructor(private readonly ctx: OperationContext) {}

  /** The physical id a failure of this request answers with. */
  failurePhysicalId(): string {
    const { event, state } = this.ctx;
    if (event.RequestType === 'Create') {
      return state.imageId ?? placeholderPhysicalId(event.RequestId);
    }
    return event.PhysicalResourceId || placeholderPhysicalId(event.RequestId);
  }

  async handle(): Promise<Outcome> {
    switch (this.ctx.event.RequestType) {
      case 'Create':
        return this.onCreate();
      case 'Update':
        return this.onUpdate();
      case 'Delete':
        return this.onDelete();
    }
  }

  // -------------------------------------------------------------------------------------------------------------
  // Create

  async onCreate(): Promise<Outcome> {
    const { ctx } = this;
    const settings = readSettings(ctx.event.ResourceProperties, ctx.event.RegionId);
    ctx.deadline = ctx.state.startedAt + settings.createTimeoutSeconds * 1000;
    if (settings.existingImageId) {
      return this.adoptExisting(settings, settings.existingImageId);
    }
    ctx.state.enter(ctx.state.imageId ? 'wait' : 'copy', ctx.clock.now());
    const imageId = await startCopy(ctx, settings);
    ctx.state.enter('wait', ctx.clock.now());
    const image = await waitUntilAvailable(ctx, settings, imageId);
    return { status: 'SUCCESS', physicalResourceId: image.imageId, data: outputs(settings, image) };
  }

  /** `ExistingImageId`: make an Available image in the destination region this resource's image. */
  private async adoptExisting(settings: ImageCopySettings, imageId: string): Promise<Outcome> {
    const { ctx } = this;
    const region = settings.destinationRegionId;
    const image = await ctx.images.describe(region, imageId);
    if (!image) {
      throw new ImageCopyError(
        'ExistingImageUnusable',
        `ExistingImageId ${imageId} was not found in ${region} (the destination region): check the id and the region.`,
      );
    }
    if (image.status !== 'Available') {
      throw new ImageCopyError(
        'ExistingImageUnusable',
        `ExistingImageId ${imageId} in ${region} is ${image.status}${image.progress ? ` (${image.progress})` : ''}; ` +
          `only an Available image can be adopted.`,
      );
    }
    const { event } = ctx;
    const ownership = ownershipTagValue(event.StackId, event.LogicalResourceId, event.RequestId);
    const adopted = await this.applyInPlace(settings, image, {
      tagsToSet: { ...settings.tags, [OWNERSHIP_TAG_KEY]: ownership },
      tagsToRemove: [],
    });
    ctx.state.imageId = imageId;
    ctx.log.info('existing-image-adopted', { imageId, regionId: region });
    return { status: 'SUCCESS', physicalResourceId: imageId, data: outputs(settings, adopted) };
  }

  // -------------------------------------------------------------------------------------------------------------
  // Update

  async onUpdate(): Promise<Outcome> {
    const { ctx } = this;
    const { event, state } = ctx;
    const settings = readSettings(event.ResourceProperties, event.RegionId);
    // Without the old properties nothing says what changed: rather than replace a copy that may be fine (every
    // property would look new), bring the current image to the wanted name, description and tags in place.
    const old = event.OldResourceProperties
      ? readSettingsLeniently(event.OldResourceProperties, event.RegionId)
      : settings;
    if (!event.OldResourceProperties && !state.continued) {
      ctx.log.warn('no-old-properties', {
        reason: 'the Update carries no OldResourceProperties; updating in place',
      });
    }
    const currentId = event.PhysicalResourceId;
    const plan = analyzeUpdate(old, settings);
    const replacement = plan.replacement || !isImageId(currentId) || state.phase !== 'update';
    if (!state.continued) {
      ctx.log.info('update-plan', {
        changes: plan.changes.map((c) => `${c.property}: ${c.behaviour}`),
        replacement,
      });
    }
    if (replacement) {
      return this.replace(settings, old, isImageId(currentId) ? currentId : undefined);
    }
    ctx.deadline = state.startedAt + settings.createTimeoutSeconds * 1000;
    const image = await ctx.images.describe(settings.destinationRegionId, currentId);
    if (!image) {
      throw new ImageCopyError(
        'ImageMissing',
        `The image ${currentId} no longer exists in ${settings.destinationRegionId} (deleted outside this stack?). ` +
          `Change a property that forces a replacement, or recreate the resource.`,
        { imageId: currentId },
      );
    }
    if (plan.descriptionRemoved) {
      ctx.log.info('description-kept', {
        imageId: currentId,
        reason: 'ECS cannot clear an image description; the current one is left as it is',
      });
    }
    // Only what differs from the image as it is: changed or added keys are set, removed keys untagged.
    const tagsToSet = Object.fromEntries(
      Object.entries(settings.tags).filter(([key, value]) => image.tags[key] !== value),
    );
    const tagsToRemove = plan.tags.remove.filter((key) => key !== OWNERSHIP_TAG_KEY && key in image.tags);
    const updated = await this.applyInPlace(settings, image, { tagsToSet, tagsToRemove });
    return { status: 'SUCCESS', physicalResourceId: currentId, data: outputs(settings, updated) };
  }

  /**
   * Brings an existing image to the wanted name, description, tags and resource group, calling only what
   * differs. Returns the image as it now is.
   */
  private async applyInPlace(
    settings: ImageCopySettings,
    image: ImageView,
    tags: { tagsToSet: Readonly<Record<string, string>>; tagsToRemove: readonly string[] },
  ): Promise<ImageView> {
    const { ctx } = this;
    const region = settings.destinationRegionId;
    const log = ctx.log.child({ imageId: image.imageId });
    const rename = settings.imageName !== undefined && settings.imageName !== image.imageName;
    const redescribe = settings.description !== undefined && settings.description !== image.description;
    if (rename || redescribe) {
      try {
        await ctx.images.call('ModifyImageAttribute', {
          RegionId: region,
          ImageId: image.imageId,
          ...(rename ? { ImageName: settings.imageName } : {}),
          ...(redescribe ? { Description: settings.description } : {}),
        });
      } catch (error) {
        if (error instanceof ContinuationRequired) {
          throw error;
        }
        if (hasCode(error, 'InvalidImageName.Duplicated')) {
          throw new ImageCopyError(
            'NameTaken',
            `Cannot rename ${image.imageId} to "${settings.imageName}": another image in ${region} has that name. ` +
              `Choose another ImageName. (${describeApiError('ECS ModifyImageAttribute', error)})`,
            { imageId: image.imageId, cause: error },
          );
        }
        throw new ImageCopyError('ApiError', describeApiError('ECS ModifyImageAttribute', error), {
          imageId: image.imageId,
          cause: error,
        });
      }
      log.info('attributes-modified', {
        ...(rename ? { imageName: settings.imageName } : {}),
        ...(redescribe ? { description: 'changed' } : {}),
      });
    }
    await this.applyTags(region, image.imageId, tags.tagsToSet, tags.tagsToRemove);
    if (settings.resourceGroupId !== undefined && settings.resourceGroupId !== image.resourceGroupId) {
      await this.wrapApiCall('ECS JoinResourceGroup', image.imageId, () =>
        ctx.images.call('JoinResourceGroup', {
          RegionId: region,
          ResourceType: 'image',
          ResourceId: image.imageId,
          ResourceGroupId: settings.resourceGroupId,
        }),
      );
      log.info('resource-group-joined', { resourceGroupId: settings.resourceGroupId });
    }
    return {
      ...image,
      imageName: rename ? (settings.imageName ?? image.imageName) : image.imageName,
      description: redescribe ? (settings.description ?? image.description) : image.description,
    };
  }

  private async applyTags(
    region: string,
    imageId: string,
    set: Readonly<Record<string, string>>,
    remove: readonly string[],
  ): Promise<void> {
    const log = this.ctx.log.child({ imageId });
    if (remove.length > 0) {
      await this.wrapApiCall('ECS UntagResources', imageId, () =>
        this.ctx.images.untag(region, imageId, remove),
      );
      log.info('tags-removed', { keys: remove });
    }
    if (Object.keys(set).length > 0) {
      await this.wrapApiCall('ECS TagResources', imageId, () => this.ctx.images.tag(region, imageId, set));
      log.info('tags-set', { keys: Object.keys(set) });
    }
  }

  private async wrapApiCall<T>(operation: string, imageId: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      if (error instanceof ContinuationRequired || error instanceof ImageCopyError) {
        throw error;
      }
      throw new ImageCopyError('ApiError', `${describeApiError(operation, error)} (image ${imageId})`, {
        imageId,
        cause: error,
      });
    }
  }

  /**
   * Replacement: copy anew (this request's own copy, never the current one), wait, remove the current copy,
   * then give the new copy its name if it had to copy under a temporary one (the current copy held the name).
   * A failure before the current copy is removed removes the new copy and keeps the current one (the failure
   * carries the current id).
   */
  private async replace(
    settings: ImageCopySettings,
    old: ImageCopySettings,
    currentId: string | undefined,
  ): Promise<Outcome> {
    const { ctx } = this;
    const { state } = ctx;
    state.enter(state.phase === 'update' ? 'copy' : state.phase, ctx.clock.now());
    if (state.phase === 'copy' || state.phase === 'wait') {
      ctx.deadline = state.startedAt + settings.createTimeoutSeconds * 1000;
      try {
        const newId = await this.startReplacementCopy(settings, old, currentId);
        state.enter('wait', ctx.clock.now());
        await waitUntilAvailable(ctx, settings, newId);
      } catch (error) {
        if (error instanceof ContinuationRequired) {
          throw error;
        }
        if (state.imageId && state.imageId !== currentId) {
          await this.discardReplacementCopy(settings, state.imageId);
        }
        throw this.replacementFailed(error, currentId);
      }
      state.enter('remove-old', ctx.clock.now());
    }
    const newId = state.imageId!;
    if (state.phase === 'remove-old') {
      ctx.deadline = state.phaseStartedAt + settings.deleteTimeoutSeconds * 1000;
      if (currentId && currentId !== newId) {
        await this.removeReplacedCopy(settings, old, currentId, newId);
      }
      state.enter('rename', ctx.clock.now());
    }
    let image = await ctx.images.describe(settings.destinationRegionId, newId);
    if (!image) {
      throw new ImageCopyError(
        'CopyDisappeared',
        `The replacement copy ${newId} disappeared after it became Available (deleted outside this stack?).`,
        { imageId: newId },
      );
    }
    // The name the copy should carry, once the old copy no longer holds it (see startReplacementCopy).
    const finalName = state.finalName ?? settings.imageName;
    if (finalName !== undefined && image.imageName !== finalName) {
      try {
        await ctx.images.call('ModifyImageAttribute', {
          RegionId: settings.destinationRegionId,
          ImageId: newId,
          ImageName: finalName,
        });
        image = { ...image, imageName: finalName };
        ctx.log.info('attributes-modified', { imageId: newId, imageName: finalName });
      } catch (error) {
        if (error instanceof ContinuationRequired) {
          throw error;
        }
        // The old copy is gone, so the new one is the resource's image now, under its temporary name; the next
        // update renames it (in place, the name differing from the wanted one).
        ctx.log.warn('rename-failed', {
          imageId: newId,
          reason: describeApiError('ECS ModifyImageAttribute', error),
        });
      }
    }
    ctx.log.info('replaced', { imageId: newId, oldImageId: currentId });
    return { status: 'SUCCESS', physicalResourceId: newId, data: outputs(settings, image) };
  }

  /**
   * Starts this request's copy. A copy that may meet the current one's name starts under a temporary name (renamed
   * once the current copy is gone) whatever it finds: a named copy always, an unnamed one (ECS names it after the
   * source image) when it stays in the current copy's region. Then every delivery of this request sends ECS the same
   * CopyImage with the same ClientToken. Were the name chosen by whether the current copy still holds it, a delivery
   * arriving after the current copy was removed (a late FC retry, even after the stack was deleted) would send a
   * different request and make a copy nobody owns.
   */
  private async startReplacementCopy(
    settings: ImageCopySettings,
    old: ImageCopySettings,
    currentId: string | undefined,
  ): Promise<string> {
    const { ctx } = this;
    const { state, event } = ctx;
    if (state.temporaryName === undefined && currentId !== undefined) {
      const wanted =
        settings.imageName ??
        (old.destinationRegionId === settings.destinationRegionId
          ? (await ctx.images.describe(settings.sourceRegionId, settings.sourceImageId))?.imageName
          : undefined);
      if (wanted !== undefined) {
        state.finalName = wanted;
        state.temporaryName = temporaryNameFor(wanted, ownershipRequestHash(event.RequestId));
        ctx.log.info('temporary-name', {
          imageName: state.temporaryName,
          reason: `renamed to "${wanted}" once the current image ${currentId} is removed`,
        });
      }
    }
    return startCopy(ctx, settings, { currentImageId: currentId, temporaryName: state.temporaryName });
  }

  /** Removes the replaced copy; if that fails, removes the new copy instead and fails, keeping the old one. */
  private async removeReplacedCopy(
    settings: ImageCopySettings,
    old: ImageCopySettings,
    currentId: string,
    newId: string,
  ): Promise<void> {
    try {
      await removeImage(this.ctx, {
        regionId: old.destinationRegionId,
        imageId: currentId,
        force: settings.force,
        role: 'the old copy',
        timeoutSeconds: settings.deleteTimeoutSeconds,
      });
    } catch (error) {
      if (error instanceof ContinuationRequired) {
        throw error;
      }
      const gone = !(await this.ctx.images.describe(old.destinationRegionId, currentId));
      if (gone) {
        return;
      }
      await this.discardReplacementCopy(settings, newId);
      const reason =
        error instanceof ImageCopyError ? error.message : describeApiError('removing the old copy', error);
      throw new ImageCopyError(
        'ApiError',
        `The replacement copy ${newId} was made, but the old copy ${currentId} could not be removed: ${reason} ` +
          `The replacement copy was removed and the old copy kept.`,
        { imageId: currentId, cause: error },
      );
    }
  }

  private replacementFailed(error: unknown, currentId: string | undefined): ImageCopyError {
    const kept = currentId ? ` The current image ${currentId} is kept.` : '';
    if (error instanceof ImageCopyError) {
      return new ImageCopyError(error.code, `Replacement failed: ${error.message}${kept}`, {
        imageId: error.imageId,
        progress: error.progress,
        cause: error,
      });
    }
    return new ImageCopyError(
      'ApiError',
      `Replacement failed: ${describeApiError('the replacement copy', error)}${kept}`,
      {
        cause: error,
      },
    );
  }

  /** Best effort: cancel or delete a replacement copy that will not be used (the sweep catches what remains). */
  private async discardReplacementCopy(settings: ImageCopySettings, imageId: string): Promise<void> {
    const { ctx } = this;
    const region = settings.destinationRegionId;
    try {
      const image = await ctx.images.describe(region, imageId);
      if (!image) {
        return;
      }
      if (image.status === 'Creating' || image.status === 'Waiting') {
        await ctx.images.call('CancelCopyImage', { RegionId: region, ImageId: imageId });
      } else {
        await ctx.images.call('DeleteImage', { RegionId: region, ImageId: imageId });
      }
      ctx.log.info('replacement-copy-discarded', { imageId, status: image.status });
    } catch (error) {
      ctx.log.warn('replacement-copy-not-discarded', {
        imageId,
        reason: error instanceof Error ? error.message : String(error),
      });
    }
  }

  // -------------------------------------------------------------------------------------------------------------
  // Delete

  async onDelete(): Promise<Outcome> {
    const { ctx } = this;
    const { event, state } = ctx;
    const physicalId = event.PhysicalResourceId ?? '';
    if (isPlaceholderPhysicalId(physicalId)) {
      ctx.log.info('nothing-to-delete', { reason: 'placeholder id of a create that made no image' });
      return { status: 'SUCCESS', physicalResourceId: physicalId };
    }
    const settings = readSettingsLeniently(event.ResourceProperties, event.RegionId);
    ctx.deadline = state.startedAt + settings.deleteTimeoutSeconds * 1000;
    if (state.phase === 'delete' && isImageId(physicalId)) {
      await removeImage(ctx, {
        regionId: settings.destinationRegionId,
        imageId: physicalId,
        force: settings.force,
        role: 'the image',
        timeoutSeconds: settings.deleteTimeoutSeconds,
      });
    }
    state.enter('sweep', ctx.clock.now());
    await sweepLeftoverCopies(
      ctx,
      settings.destinationRegionId,
      isImageId(physicalId) ? physicalId : undefined,
      {
        force: settings.force,
        timeoutSeconds: settings.deleteTimeoutSeconds,
      },
    );
    return { status: 'SUCCESS', physicalResourceId: physicalId || placeholderPhysicalId(event.RequestId) };
  }
}
