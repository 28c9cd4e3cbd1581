/**
 * The `ImageCopy` custom resource: the steps of its Create, Update and Delete by phase (`createSteps`, `updateSteps`,
 * `deleteSteps`, run by the loop of phases.ts), coming to an {@link Outcome} or throwing an {@link ImageCopyError}.
 * A wait that outlasts the invocation hands the work over to a fresh one (continuation.ts); no step here deals with
 * that, and ECS refusals are read from tables (outcomes.ts).
 *
 * One physical id for the life of the resource: a Create answers `image-copy-<h>` (`physicalIdFor`, h the hash of
 * its RequestId), SUCCESS or FAILED; Update and Delete answer with the id they received. The current image id
 * travels in `Data`. Every copy made for the resource instance `h` carries `h` in its ownership tag (see
 * `OWNERSHIP_TAG_KEY`), and is confirmed once ROS accepted the answer that made it the resource's image.
 *
 * - Create copies (or adopts `ExistingImageId`, like a Terraform import: the resource then owns that image and
 *   deletes it on Delete), waits until Available and answers with the instance's id and the image in `Data`.
 * - Update finds the instance's current image (`currentImageOf`) and applies the {@link analyzeUpdate} table: in
 *   place, or a replacement (copy anew for the same instance, wait, remove the old copy, answer with the same id
 *   and the new `Data`; on failure the new copy is removed and the old one kept).
 * - Delete removes the copies the physical id names (see `deleteSteps`).
 *
 * Distribution (sharing, family, source tags, kept previous versions: distribution.ts, distribution-tags.ts,
 * previous-versions.ts) runs inside these steps: before every SUCCESS answer with an image, in the in-place
 * update, in the replacement's `remove-old` and `rename`, and before the Delete removes a copy.
 */
import {
  confirmedOwnershipValue,
  ImageCopyData,
  type ImageCopyOutputs,
  OWNERSHIP_TAG_KEY,
  ownershipRequestHash,
  physicalIdFor,
  readPhysicalId,
  type PhysicalIdReading,
  RESERVED_TAG_KEYS,
} from '../protocol';
import { analyzeUpdate, type UpdatePlan } from './analyze-update';
import { startCopy, temporaryNameFor, waitOrFallBack } from './copy';
import { describeApiError, ImageCopyError } from './errors';
import type { Confirmation, CustomResourceEvent, PendingAnswer } from './event';
import { discardCopy } from './discard';
import { applyDistribution, type DistributionOutputs, revokeSharingBeforeDelete } from './distribution';
import { inPlaceTagChanges } from './distribution-tags';
import {
  isFailed,
  isPending,
  removeImages,
  removeImage,
  type RemovalOptions,
  type RemovalTarget,
} from './image-removal';
import type { ImageView } from './images';
import type { OperationContext } from './operation';
import { attempt, callOnImage, outcomeTable } from './outcomes';
import {
  confirmationFor,
  currentImageOf,
  instanceOfRequest,
  ownedCopies,
  ownershipValueFor,
  type OwnedCopy,
} from './ownership';
import { type PhaseTable, runPhases, type StepResult } from './phases';
import { PollPlanner } from './poll-planner';
import { retireOrRemoveReplaced, settlePreviousVersions } from './previous-versions';
import { readSettings, readSettingsLeniently, type ImageCopySettings } from './settings';
import { visibilityGraceMs } from './visibility';

/** What a refused rename means. */
const RENAME_OUTCOMES = outcomeTable({ 'name-taken': ['InvalidImageName.Duplicated'] });

/** What the handler answers ROS, and what follows the answer. */
export type Outcome =
  | {
      readonly status: 'SUCCESS';
      readonly physicalResourceId: string;
      readonly data?: Readonly<Record<string, string>>;
      /** Confirm this copy as the resource's image once ROS accepted the answer. */
      readonly confirm?: Confirmation;
      /** The copy this request started (removed if ROS refuses the answer, see index.ts). */
      readonly ownCopy?: PendingAnswer['ownCopy'];
    }
  | { readonly status: 'FAILED'; readonly physicalResourceId: string; readonly reason: string };

/** Whether a physical id names an ECS image (`m-...`): a resource created by the previous version. */
export function isImageId(id: string | undefined): id is string {
  return readPhysicalId(id).kind === 'legacy-image';
}

/**
 * The physical id every answer to a request carries, SUCCESS or FAILED: a Create's is `physicalIdFor(RequestId)`;
 * an Update or Delete copies the one it received (should one come without, it answers as a Create would).
 */
export function physicalIdOf(event: CustomResourceEvent): string {
  if (event.RequestType === 'Create') {
    return physicalIdFor(event.RequestId);
  }
  return event.PhysicalResourceId || physicalIdFor(event.RequestId);
}

function outputs(
  settings: ImageCopySettings,
  image: ImageView,
  distribution: DistributionOutputs,
): ImageCopyOutputs {
  return {
    ...distribution,
    [ImageCopyData.ImageId]: image.imageId,
    [ImageCopyData.RegionId]: settings.destinationRegionId,
    [ImageCopyData.SourceImageId]: settings.sourceImageId,
    [ImageCopyData.SourceRegionId]: settings.sourceRegionId,
    [ImageCopyData.ImageName]: image.imageName,
  };
}

export class ImageCopyResource {
  constructor(private readonly ctx: OperationContext) {}

  /** The region this request copies into, once its settings are read. */
  private copyRegionId?: string;

  /** The physical id every answer to this request carries (a failure's too). */
  physicalId(): string {
    return physicalIdOf(this.ctx.event);
  }

  /** The copy this request started (Create, or the replacing Update), if it started one. */
  ownCopy(): PendingAnswer['ownCopy'] {
    const { state } = this.ctx;
    return state.imageId && this.copyRegionId
      ? { regionId: this.copyRegionId, imageId: state.imageId }
      : undefined;
  }

  /** Runs the request's operation (see phases.ts) to its outcome. */
  async handle(): Promise<Outcome> {
    return runPhases(this.ctx.state, this.ctx.clock, await this.steps());
  }

  /** The steps of this request's operation, once its properties are read. */
  private async steps(): Promise<PhaseTable<Outcome>> {
    switch (this.ctx.event.RequestType) {
      case 'Create':
        return this.createSteps();
      case 'Update':
        return this.updateSteps();
      case 'Delete':
        return this.deleteSteps();
    }
  }

  // -------------------------------------------------------------------------------------------------------------
  // Create

  /** Create: `copy` (or adopt `ExistingImageId`) → `wait`, then answer with the copy. */
  private createSteps(): PhaseTable<Outcome> {
    const { ctx } = this;
    const { state } = ctx;
    const settings = readSettings(ctx.event.ResourceProperties, ctx.event.RegionId);
    state.setTimeouts(settings.createTimeoutSeconds, settings.deleteTimeoutSeconds);
    const existingImageId = settings.existingImageId;
    if (existingImageId) {
      return { copy: async () => ({ done: await this.adoptExisting(settings, existingImageId) }) };
    }
    this.copyRegionId = settings.destinationRegionId;
    const instance = ownershipRequestHash(ctx.event.RequestId);
    state.enter(state.imageId ? 'wait' : 'copy', ctx.clock.now());
    return {
      copy: async () => {
        await startCopy(ctx, settings, { instance });
        return { next: 'wait' };
      },
      wait: async () => {
        const image = await waitOrFallBack(ctx, settings, state.imageId!);
        return image ? { done: await this.copied(settings, image) } : { next: 'copy' };
      },
    };
  }

  /**
   * The answer for this request's copy, Available (a Create's, or a replacement's once the old copy is gone), after
   * its distribution (sharing, family: distribution.ts) is applied; `previousVersions` are the kept copies' ids
   * (KeepPreviousVersions, after a replacement).
   */
  private async copied(
    settings: ImageCopySettings,
    copy: ImageView,
    previousVersions?: readonly string[],
  ): Promise<Outcome> {
    const { image, outputs: distribution } = await applyDistribution(
      this.ctx,
      settings,
      undefined,
      copy,
      previousVersions,
    );
    return {
      status: 'SUCCESS',
      physicalResourceId: this.physicalId(),
      data: outputs(settings, image, distribution),
      confirm: confirmationFor(this.ctx, image),
      ownCopy: this.ownCopy(),
    };
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
    const ownership = ownershipValueFor(ctx, ownershipRequestHash(ctx.event.RequestId));
    const adopted = await this.applyInPlace(settings, image, {
      tagsToSet: { ...settings.tags, [OWNERSHIP_TAG_KEY]: ownership },
      tagsToRemove: [],
    });
    ctx.log.info('existing-image-adopted', { imageId, regionId: region });
    const { outputs: distribution } = await applyDistribution(ctx, settings, undefined, adopted);
    // Not an own copy: should ROS refuse the answer, the image stays (it was there before the resource).
    return {
      status: 'SUCCESS',
      physicalResourceId: this.physicalId(),
      data: outputs(settings, adopted, distribution),
      confirm: { regionId: region, imageId, value: confirmedOwnershipValue(ownership)! },
    };
  }

  // -------------------------------------------------------------------------------------------------------------
  // Update

  /** Update: `update` in place, or the replacement's `copy` → `wait` → `remove-old` → `rename`. */
  private async updateSteps(): Promise<PhaseTable<Outcome>> {
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
    state.setTimeouts(settings.createTimeoutSeconds, settings.deleteTimeoutSeconds);
    const reading = readPhysicalId(event.PhysicalResourceId);
    const instance = instanceOfRequest(ctx, reading);
    // The current image is looked up once: a continued replacement must not take its own new copy for it.
    let current: ImageView | undefined;
    if (state.currentImageId === undefined) {
      current = await currentImageOf(ctx, reading, instance, old.destinationRegionId);
      state.currentImageId = current?.imageId ?? '';
    }
    const currentId = state.currentImageId || undefined;
    const plan = analyzeUpdate(old, settings);
    const replacement = plan.replacement || state.phase !== 'update';
    if (!state.continued) {
      ctx.log.info('update-plan', {
        changes: plan.changes.map((c) => `${c.property}: ${c.behaviour}`),
        replacement,
        currentImageId: currentId,
      });
    }
    if (replacement) {
      this.copyRegionId = settings.destinationRegionId;
    }
    return {
      update: async () =>
        replacement
          ? { next: 'copy' }
          : { done: await this.updateInPlace(settings, old, instance, plan, current, currentId) },
      ...this.replacementSteps(settings, old, currentId, instance),
    };
  }

  /** Brings the current image to the wanted name, description, tags and resource group. */
  private async updateInPlace(
    settings: ImageCopySettings,
    old: ImageCopySettings,
    instance: string,
    plan: UpdatePlan,
    current: ImageView | undefined,
    currentId: string | undefined,
  ): Promise<Outcome> {
    const { ctx } = this;
    const image =
      current ?? (currentId ? await ctx.images.describe(settings.destinationRegionId, currentId) : undefined);
    if (!image) {
      const which = currentId ?? `of this resource (${this.physicalId()})`;
      throw new ImageCopyError(
        'ImageMissing',
        `The image ${which} no longer exists in ${settings.destinationRegionId} (deleted outside this stack?). ` +
          `Change a property that forces a replacement, or recreate the resource.`,
        { imageId: currentId },
      );
    }
    if (plan.descriptionRemoved) {
      ctx.log.info('description-kept', {
        imageId: image.imageId,
        reason: 'ECS cannot clear an image description; the current one is left as it is',
      });
    }
    // Only what differs from the image as it is: changed or added keys are set, removed keys untagged.
    const tagsToSet = Object.fromEntries(
      Object.entries(settings.tags).filter(([key, value]) => image.tags[key] !== value),
    );
    const tagsToRemove = plan.tags.remove.filter(
      (key) => !RESERVED_TAG_KEYS.includes(key) && key in image.tags,
    );
    const tagChanges = (await inPlaceTagChanges(ctx, old, settings, image.tags)) ?? {
      tagsToSet,
      tagsToRemove,
    };
    const updated = await this.applyInPlace(settings, image, tagChanges);
    const previous = await settlePreviousVersions(ctx, settings, old, instance);
    const distributed = await applyDistribution(ctx, settings, old, updated, previous);
    return {
      status: 'SUCCESS',
      physicalResourceId: this.physicalId(),
      data: outputs(settings, distributed.image, distributed.outputs),
      confirm: confirmationFor(ctx, image),
    };
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
      const modified = await attempt(
        () =>
          ctx.images.call('ModifyImageAttribute', {
            RegionId: region,
            ImageId: image.imageId,
            ...(rename ? { ImageName: settings.imageName } : {}),
            ...(redescribe ? { Description: settings.description } : {}),
          }),
        RENAME_OUTCOMES,
      );
      if (modified.outcome === 'name-taken') {
        throw new ImageCopyError(
          'NameTaken',
          `Cannot rename ${image.imageId} to "${settings.imageName}": another image in ${region} has that name. ` +
            `Choose another ImageName. (${describeApiError('ECS ModifyImageAttribute', modified.error)})`,
          { imageId: image.imageId, cause: modified.error },
        );
      }
      if (modified.outcome === 'failed') {
        throw new ImageCopyError('ApiError', describeApiError('ECS ModifyImageAttribute', modified.error), {
          imageId: image.imageId,
          cause: modified.error,
        });
      }
      log.info('attributes-modified', {
        ...(rename ? { imageName: settings.imageName } : {}),
        ...(redescribe ? { description: 'changed' } : {}),
      });
    }
    await this.applyTags(region, image.imageId, tags.tagsToSet, tags.tagsToRemove);
    if (settings.resourceGroupId !== undefined && settings.resourceGroupId !== image.resourceGroupId) {
      await callOnImage('ECS JoinResourceGroup', image.imageId, () =>
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
      await callOnImage('ECS UntagResources', imageId, () => this.ctx.images.untag(region, imageId, remove));
      log.info('tags-removed', { keys: remove });
    }
    if (Object.keys(set).length > 0) {
      await callOnImage('ECS TagResources', imageId, () => this.ctx.images.tag(region, imageId, set));
      log.info('tags-set', { keys: Object.keys(set) });
    }
  }

  /**
   * Replacement: copy anew (this request's own copy, never the current one), wait, remove the current copy,
   * then give the new copy its name if it had to copy under a temporary one (the current copy held the name).
   * A failure before the current copy is removed removes the new copy and keeps the current one (the failure
   * carries the current id).
   */
  private replacementSteps(
    settings: ImageCopySettings,
    old: ImageCopySettings,
    currentId: string | undefined,
    instance: string,
  ): PhaseTable<Outcome> {
    const { ctx } = this;
    const { state } = ctx;
    const keepingCurrent = async (step: () => Promise<StepResult<Outcome>>): Promise<StepResult<Outcome>> => {
      const result = await attempt(step);
      if (result.outcome === 'ok') {
        return result.value;
      }
      if (state.imageId && state.imageId !== currentId) {
        await this.discardReplacementCopy(settings, state.imageId);
      }
      throw this.replacementFailed(result.error, currentId);
    };
    return {
      copy: () =>
        keepingCurrent(async () => {
          await this.startReplacementCopy(settings, old, currentId, instance);
          return { next: 'wait' };
        }),
      wait: () =>
        keepingCurrent(async () =>
          (await waitOrFallBack(ctx, settings, state.imageId!)) ? { next: 'remove-old' } : { next: 'copy' },
        ),
      'remove-old': async () => {
        const newId = state.imageId!;
        if (currentId && currentId !== newId) {
          // Kept as a previous version when KeepPreviousVersions asks for it, else unshared and removed.
          await retireOrRemoveReplaced(ctx, settings, old, currentId, () =>
            this.removeReplacedCopy(settings, old, currentId, newId),
          );
        }
        return { next: 'rename' };
      },
      rename: async () => ({ done: await this.renameReplacement(settings, old, instance, currentId) }),
    };
  }

  /** The old copy is gone: gives the new copy the name the old one held, and answers with it. */
  private async renameReplacement(
    settings: ImageCopySettings,
    old: ImageCopySettings,
    instance: string,
    currentId: string | undefined,
  ): Promise<Outcome> {
    const { ctx } = this;
    const newId = ctx.state.imageId!;
    let image = await ctx.images.describe(settings.destinationRegionId, newId);
    if (!image) {
      throw new ImageCopyError(
        'CopyDisappeared',
        `The replacement copy ${newId} disappeared after it became Available (deleted outside this stack?).`,
        { imageId: newId },
      );
    }
    // The name the copy should carry, once the old copy no longer holds it (see startReplacementCopy).
    const finalName = ctx.state.finalName ?? settings.imageName;
    if (finalName !== undefined && image.imageName !== finalName) {
      const renamed = await attempt(() =>
        ctx.images.call('ModifyImageAttribute', {
          RegionId: settings.destinationRegionId,
          ImageId: newId,
          ImageName: finalName,
        }),
      );
      if (renamed.outcome === 'ok') {
        image = { ...image, imageName: finalName };
        ctx.log.info('attributes-modified', { imageId: newId, imageName: finalName });
      } else {
        // The old copy is gone, so the new one is the resource's image now, under its temporary name; the next
        // update renames it (in place, the name differing from the wanted one).
        ctx.log.warn('rename-failed', {
          imageId: newId,
          reason: describeApiError('ECS ModifyImageAttribute', renamed.error),
        });
      }
    }
    ctx.log.info('replaced', { imageId: newId, oldImageId: currentId });
    // The kept copies beyond KeepPreviousVersions go; the rest are named in the answer.
    const previous = await settlePreviousVersions(ctx, settings, old, instance);
    return this.copied(settings, image, previous);
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
    instance: string,
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
    return startCopy(ctx, settings, {
      instance,
      currentImageId: currentId,
      temporaryName: state.temporaryName,
    });
  }

  /** Removes the replaced copy; if that fails, removes the new copy instead and fails, keeping the old one. */
  private async removeReplacedCopy(
    settings: ImageCopySettings,
    old: ImageCopySettings,
    currentId: string,
    newId: string,
  ): Promise<void> {
    const removed = await attempt(() =>
      removeImage(this.ctx, {
        regionId: old.destinationRegionId,
        imageId: currentId,
        force: settings.force,
        role: 'the old copy',
        timeoutSeconds: settings.deleteTimeoutSeconds,
      }),
    );
    if (removed.outcome !== 'ok') {
      const { error } = removed;
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

  /** Best effort: cancel or delete a replacement copy that will not be used (the Delete catches what remains). */
  private async discardReplacementCopy(settings: ImageCopySettings, imageId: string): Promise<void> {
    await discardCopy(this.ctx, settings.destinationRegionId, imageId, 'replacement-copy');
  }

  // -------------------------------------------------------------------------------------------------------------
  // Delete

  /**
   * Removes the copies of this resource that the physical id names, whatever their status (a copy in progress is
   * cancelled, one that refuses to be cancelled is waited for, then deleted), and never another owner's:
   *
   * - `image-copy-<h>` (or the previous version's placeholder `image-copy-failed-<h>`): every copy of instance `h`,
   *   Available ones included, confirmed or not;
   * - an image id (a resource created by the previous version): that image, and the copies of instance
   *   `hash(<image id>)` (replacements made since);
   * - anything else (empty, the logical id, `<LogicalId>-never-created`: ROS's Delete after a failed or unanswered
   *   Create): every copy of this resource that ROS never accepted as an image (unconfirmed), Available ones
   *   included, and the copies of instance `hash(<id>)`; never a confirmed copy, which belongs to a live instance
   *   (e.g. the new resource of a replacement ROS performs itself);
   * - in every case, the previous version's copies of this resource that never became an image (in progress or
   *   failed), as it did.
   */
  private deleteSteps(): PhaseTable<Outcome> {
    const { ctx } = this;
    const { event, state } = ctx;
    const reading = readPhysicalId(event.PhysicalResourceId);
    const settings = readSettingsLeniently(event.ResourceProperties, event.RegionId);
    state.setTimeouts(settings.createTimeoutSeconds, settings.deleteTimeoutSeconds);
    const regionId = settings.destinationRegionId;
    const removal = { force: settings.force, timeoutSeconds: settings.deleteTimeoutSeconds };
    return {
      delete: async () => {
        if (reading.kind === 'legacy-image') {
          await removeImage(ctx, { ...removal, regionId, imageId: reading.imageId, role: 'the image' });
        }
        return { next: 'sweep' };
      },
      sweep: async () => ({ done: await this.sweep(settings, reading, regionId, removal) }),
    };
  }

  /** Removes the copies of this resource that the physical id names (see {@link deleteSteps}). */
  private async sweep(
    settings: ImageCopySettings,
    reading: PhysicalIdReading,
    regionId: string,
    removal: Pick<RemovalOptions, 'force' | 'timeoutSeconds'>,
  ): Promise<Outcome> {
    const { ctx } = this;
    const { state } = ctx;
    // A Delete whose id is not ours follows a Create ROS never got the answer of: that Create may have started a copy
    // ECS does not list yet. It is looked for again until a copy started before this Delete began must be listed.
    const lookUntil =
      reading.kind === 'foreign'
        ? Math.min(state.startedAt + visibilityGraceMs(ctx.polling), state.deadline)
        : undefined;
    const planner = new PollPlanner(ctx.polling);
    for (;;) {
      if (state.resumeAt !== undefined) {
        // A look again, handed over from the last invocation.
        const resumeAt = Math.min(state.resumeAt, lookUntil ?? state.deadline);
        state.resumeAt = undefined;
        await ctx.invocation.sleepUntil(resumeAt);
      }
      const targets = (await ownedCopies(ctx, regionId))
        .filter((copy) => deletes(reading, copy))
        .map((copy): RemovalTarget => ({
          image: copy.image,
          role: !copy.tag.legacy && copy.tag.instance === reading.instance ? 'the copy' : 'the leftover copy',
        }));
      ctx.log.info('sweep', {
        regionId,
        physicalIdKind: reading.kind,
        copies: targets.map(({ image }) => `${image.imageId} (${image.status})`),
      });
      await revokeSharingBeforeDelete(
        ctx,
        settings,
        regionId,
        targets.map(({ image }) => image),
      );
      await removeImages(ctx, regionId, targets, removal);
      const now = ctx.clock.now();
      if (lookUntil === undefined || now >= lookUntil) {
        break;
      }
      const delay = Math.min(
        planner.next({ status: 'Waiting', at: now }, () => ctx.clock.random()),
        lookUntil - now,
      );
      ctx.log.info('sweep-again', {
        reason: 'the Create ROS never got the answer of may have started a copy ECS does not list yet',
        lookingForMs: now - state.startedAt,
        nextLookMs: delay,
      });
      await ctx.invocation.sleep(delay);
    }
    return { status: 'SUCCESS', physicalResourceId: this.physicalId() };
  }
}

/** Whether a Delete whose physical id reads so removes this copy of the resource (see `deleteSteps`). */
function deletes(reading: PhysicalIdReading, copy: OwnedCopy): boolean {
  const { tag, image } = copy;
  if (tag.legacy) {
    return (
      isPending(image.status) ||
      isFailed(image.status) ||
      (reading.kind === 'instance' && tag.request === reading.instance)
    );
  }
  if (reading.kind === 'legacy-image' && image.imageId === reading.imageId) {
    return true;
  }
  if (reading.instance !== undefined && tag.instance === reading.instance) {
    return true;
  }
  return reading.kind === 'foreign' && !tag.confirmed;
}
