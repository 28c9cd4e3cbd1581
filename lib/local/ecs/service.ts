/**
 * LocalCloud's ECS as a service: `EcsService` takes each RPC call (API version 2014-05-26) to its action
 * (`actions.ts`: request parsing and the response) over the image model (`images.ts`), applies the fault plan's
 * copy faults, and is the facade tests and users reach as `cloud.ecs` (putImage, getImage, failCopy...).
 */
import { createHash } from 'crypto';
import { ApiError } from '../errors';
import type { RequestContext, RpcService } from '../service';
import type { StateStore } from '../state';
import { DEFAULT_VARIANTS } from '../variants';
import { ECS_ACTIONS, type ActionEnv, type EcsVariants } from './actions';
import { ImageCatalog, randomAlnum, type EcsImage, type ImageStatus, type StoredImage } from './images';
import { Params } from './params';
import { ECS_REGION_IDS, findRegion } from './regions';

export interface EcsOptions {
  /**
   * How long a copy runs once it has left the queue: a number of ms for every copy, or a function of the image
   * size in GiB.
   * @default 150 ms per GiB, clamped to [3 s, 25 s], so a demo shows progress and finishes well under a minute
   */
  readonly copyDurationMs?: number | ((sizeGiB: number) => number);
  /**
   * Relative noise (0..1) on the Progress and RemainTime that DescribeImages reports for a copy that is running
   * (not on when it really finishes): Progress is under-reported by up to this fraction, RemainTime is off by up
   * to this fraction either way. Deterministic for a seed, an image and a second.
   * @default 0
   */
  readonly progressNoise?: number;
  /** Seed for the noise. @default 0 */
  readonly seed?: number;
  /** The clock. @default Date.now */
  readonly now?: () => number;
  /**
   * The readings of undocumented ECS behaviours to play: `copyConflict`, `copyVisibility` (with
   * `copyVisibilityDelayMs`), `hiddenCopyActions` and `clientTokenReplay` (see `lib/local/variants.ts`). LocalCloud
   * passes its own.
   * @default the strictest reading of each
   */
  readonly variants?: Partial<EcsVariants>;
  /**
   * Whether an account id is one of the cloud's accounts (ModifyImageSharePermission shares only with those).
   * LocalCloud passes its own. @default the service's account only
   */
  readonly isAccount?: (accountId: string) => boolean;
}

/** A hook deciding, once per new copy, whether it ends `CreateFailed` and whether it can be cancelled (faults). */
export interface CopyFaultHook {
  onCopy(copy: {
    readonly imageId: string;
    readonly regionId: string;
    readonly sourceImageId: string;
    readonly sourceRegionId: string;
  }): { readonly createFailed: boolean; readonly cancelNotSupported: boolean };
  /** Told when CancelCopyImage answered `CancelNotSupported`. */
  onCancelRefused?(imageId: string): void;
}

/** The default copy duration: 150 ms per GiB, at least 3 s, at most 25 s. */
export const defaultCopyDurationMs = (sizeGiB: number): number =>
  Math.min(25_000, Math.max(3_000, sizeGiB * 150));

/** Everything `putImage` accepts; what is left out gets a default. */
export interface PutImageSpec {
  readonly imageId?: string;
  /** @default `image-<random>` */
  readonly imageName?: string;
  readonly description?: string;
  /** @default 20 */
  readonly sizeGiB?: number;
  /** A fixed status (a put image is never a copy, so `Creating` / `Waiting` do not progress). @default Available */
  readonly status?: ImageStatus;
  readonly tags?: Record<string, string>;
  readonly resourceGroupId?: string;
  /** The owner's account id. @default the first account */
  readonly ownerId?: string;
  /** Encrypted (with the service key unless `kmsKeyId`). @default false */
  readonly encrypted?: boolean;
  readonly kmsKeyId?: string;
  /** The image family. @default none */
  readonly imageFamily?: string;
}

/**
 * LocalCloud's ECS (API version 2014-05-26): regions, custom images, cross-region copies that progress over the
 * wall clock through a five-per-region queue, cancel, delete, rename, tags and resource groups. See `actions.ts`
 * for the actions and their error codes.
 *
 * The methods after `handle` are the facade tests and users reach as `cloud.ecs`.
 */
export class EcsService implements RpcService {
  readonly product = 'ecs';
  readonly version = '2014-05-26';
  readonly hostId = 'ecs.aliyuncs.com';

  private readonly catalog: ImageCatalog;
  private readonly now: () => number;
  /** The readings of undocumented ECS behaviours in force. */
  readonly variants: EcsVariants;
  private readonly counts: Record<string, number> = {};

  constructor(
    store: StateStore,
    readonly accountId: string,
    private readonly options: EcsOptions = {},
    private readonly copyFaults?: CopyFaultHook,
  ) {
    this.now = options.now ?? Date.now;
    this.variants = {
      copyConflict: options.variants?.copyConflict ?? DEFAULT_VARIANTS.copyConflict,
      copyVisibility: options.variants?.copyVisibility ?? DEFAULT_VARIANTS.copyVisibility,
      copyVisibilityDelayMs:
        options.variants?.copyVisibilityDelayMs ?? DEFAULT_VARIANTS.copyVisibilityDelayMs,
      clientTokenReplay: options.variants?.clientTokenReplay ?? DEFAULT_VARIANTS.clientTokenReplay,
      hiddenCopyActions: options.variants?.hiddenCopyActions ?? DEFAULT_VARIANTS.hiddenCopyActions,
      shareAccountsOverTen: options.variants?.shareAccountsOverTen ?? DEFAULT_VARIANTS.shareAccountsOverTen,
      sharedImageDelete: options.variants?.sharedImageDelete ?? DEFAULT_VARIANTS.sharedImageDelete,
      sharedImageTags: options.variants?.sharedImageTags ?? DEFAULT_VARIANTS.sharedImageTags,
      repeatedImageStatus: options.variants?.repeatedImageStatus ?? DEFAULT_VARIANTS.repeatedImageStatus,
      copyQueue: options.variants?.copyQueue ?? DEFAULT_VARIANTS.copyQueue,
    };
    this.catalog = new ImageCatalog(store, this.now, accountId, this.variants.copyQueue);
  }

  async handle(
    action: string,
    params: Record<string, string>,
    ctx: RequestContext,
  ): Promise<Record<string, unknown>> {
    const run = Object.prototype.hasOwnProperty.call(ECS_ACTIONS, action) ? ECS_ACTIONS[action] : undefined;
    if (!run) {
      throw new ApiError(
        'InvalidAction.NotFound',
        'Specified api is not found, please check your url and method.',
        404,
      );
    }
    this.counts[action] = (this.counts[action] ?? 0) + 1;
    if (!this.copyFaults) {
      return run(this.env(ctx), new Params(params));
    }
    const before = action === 'CopyImage' ? new Set(Object.keys(this.catalog.state.images)) : undefined;
    try {
      const answer = run(this.env(ctx), new Params(params));
      if (before) {
        this.applyCopyFaults(String(answer.ImageId), before);
      }
      return answer;
    } catch (err) {
      if (action === 'CancelCopyImage' && err instanceof ApiError && err.code === 'CancelNotSupported') {
        this.copyFaults.onCancelRefused?.(params.ImageId ?? '');
      }
      throw err;
    }
  }

  /** Marks a copy CopyImage has just created (not one a client token replayed) as the fault hook decides. */
  private applyCopyFaults(imageId: string, before: ReadonlySet<string>): void {
    const image = this.catalog.state.images[imageId];
    if (!image?.copy || before.has(imageId) || !this.copyFaults) {
      return;
    }
    const fate = this.copyFaults.onCopy({
      imageId,
      regionId: image.regionId,
      sourceImageId: image.copy.sourceImageId,
      sourceRegionId: image.copy.sourceRegionId,
    });
    // A copy's `status` is what it becomes when its time is up, so it still queues and progresses first.
    if (fate.createFailed) {
      image.status = 'CreateFailed';
    }
    if (fate.cancelNotSupported) {
      image.copy.cancelSupported = false;
    }
    if (fate.createFailed || fate.cancelNotSupported) {
      this.catalog.changed();
    }
  }

  /**
   * Adds a custom image to a region (Available unless `status` says otherwise) and returns its id.
   * Throws on an unknown region, an id that exists, or a name already used in the region.
   */
  putImage(regionId: string, image: PutImageSpec = {}): string {
    this.checkRegion(regionId);
    if (image.imageId !== undefined && this.catalog.state.images[image.imageId]) {
      throw new Error(`LocalCloud ECS: image ${image.imageId} already exists`);
    }
    const imageName = image.imageName ?? `image-${randomAlnum(8)}`;
    const ownerId = image.ownerId ?? this.accountId;
    if (this.catalog.ownedInRegion(regionId, ownerId).some((i) => i.imageName === imageName)) {
      throw new Error(`LocalCloud ECS: an image named "${imageName}" already exists in ${regionId}`);
    }
    return this.catalog.add({
      regionId,
      ownerId,
      imageName,
      ...(image.encrypted !== undefined ? { encrypted: image.encrypted } : {}),
      ...(image.kmsKeyId !== undefined ? { kmsKeyId: image.kmsKeyId } : {}),
      ...(image.imageFamily !== undefined ? { imageFamily: image.imageFamily } : {}),
      ...(image.imageId !== undefined ? { imageId: image.imageId } : {}),
      ...(image.description !== undefined ? { description: image.description } : {}),
      ...(image.sizeGiB !== undefined ? { sizeGiB: image.sizeGiB } : {}),
      ...(image.status !== undefined ? { status: image.status } : {}),
      ...(image.resourceGroupId !== undefined ? { resourceGroupId: image.resourceGroupId } : {}),
      tags: Object.entries(image.tags ?? {}),
    }).imageId;
  }

  /** An image with its status and progress as of now, or undefined. */
  getImage(regionId: string, imageId: string): EcsImage | undefined {
    if (!findRegion(regionId)) {
      return undefined;
    }
    const at = this.catalog.advance(regionId);
    const image = this.catalog.find(regionId, imageId);
    return image && this.catalog.view(image, at);
  }

  /** All images of a region, in every status, oldest first. */
  listImages(regionId: string): EcsImage[] {
    this.checkRegion(regionId);
    const at = this.catalog.advance(regionId);
    return this.catalog.inRegion(regionId).map((image) => this.catalog.view(image, at));
  }

  /** The region ids LocalCloud's ECS serves. */
  regions(): string[] {
    return [...ECS_REGION_IDS];
  }

  /** Makes a copy that is still in progress end `CreateFailed` now. Throws if it is not a copy in progress. */
  failCopy(regionId: string, imageId: string): void {
    this.catalog.failCopy(this.existing(regionId, imageId));
  }

  /** When false, CancelCopyImage on this copy answers `CancelNotSupported`. */
  setCancelSupported(regionId: string, imageId: string, supported: boolean): void {
    const image = this.existing(regionId, imageId);
    if (!image.copy) {
      throw new Error(`LocalCloud ECS: image ${imageId} is not a copy`);
    }
    image.copy.cancelSupported = supported;
    this.catalog.changed();
  }

  /** Marks an image as used by instances: DeleteImage then answers `ImageUsingByInstance` unless `Force=true`. */
  setInUse(regionId: string, imageId: string, inUse: boolean): void {
    this.existing(regionId, imageId).inUse = inUse;
    this.catalog.changed();
  }

  /** How many times each action was called on this instance (failed calls included). */
  callCounts(): Record<string, number> {
    return { ...this.counts };
  }

  private env(ctx: RequestContext): ActionEnv {
    return {
      catalog: this.catalog,
      variants: this.variants,
      accountId: ctx.accountId,
      isAccount: this.options.isAccount ?? ((id) => id === this.accountId),
      ctx,
      now: this.now,
      copyDurationMs: (sizeGiB) => this.copyDurationMs(sizeGiB),
      reportedProgress: (image, at) => this.reportedProgress(image, at),
    };
  }

  private copyDurationMs(sizeGiB: number): number {
    const option = this.options.copyDurationMs;
    if (option === undefined) {
      return defaultCopyDurationMs(sizeGiB);
    }
    return typeof option === 'number' ? option : option(sizeGiB);
  }

  /**
   * The noise is a hash of (seed, image, second), so a figure is stable within a second and across restarts;
   * progress is only ever under-reported, so it never goes back by more than the noise.
   */
  private reportedProgress(image: StoredImage, at: number): { progress: number; remainTimeSeconds: number } {
    const truth = this.catalog.progressOf(image, at);
    const noise = Math.min(1, Math.max(0, this.options.progressNoise ?? 0));
    if (noise === 0 || this.catalog.statusOf(image, at) !== 'Creating') {
      return truth;
    }
    const second = Math.floor(at / 1000);
    const unit = (salt: string): number =>
      createHash('sha256')
        .update(`${this.options.seed ?? 0}|${image.imageId}|${second}|${salt}`)
        .digest()
        .readUInt32BE(0) / 0x1_0000_0000;
    return {
      progress: Math.min(99, Math.max(0, Math.floor(truth.progress * (1 - noise * unit('progress'))))),
      remainTimeSeconds: Math.max(
        0,
        Math.round(truth.remainTimeSeconds * (1 + noise * (2 * unit('remain') - 1))),
      ),
    };
  }

  private checkRegion(regionId: string): void {
    if (!findRegion(regionId)) {
      throw new Error(
        `LocalCloud ECS: unknown region "${regionId}"; known regions: ${ECS_REGION_IDS.join(', ')}`,
      );
    }
  }

  private existing(regionId: string, imageId: string): StoredImage {
    this.checkRegion(regionId);
    const image = this.catalog.find(regionId, imageId);
    if (!image) {
      throw new Error(`LocalCloud ECS: no image ${imageId} in ${regionId}`);
    }
    return image;
  }
}
