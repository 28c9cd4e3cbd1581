/**
 * LocalCloud's ECS model: the custom images of every region and their copies, kept in the state, with the rules that
 * are about the images rather than a request: the copy queue and its time model, status and progress, listing
 * (copy visibility), and the CopyImage ClientTokens that make a retried copy idempotent.
 */
import { randomBytes } from 'crypto';
import { ApiError } from '../errors';
import type { StateStore } from '../state';
import type { CloudVariants } from '../variants';
import { findRegion } from './regions';

/** A CopyImage `ClientToken` is remembered this long. */
export const CLIENT_TOKEN_TTL_MS = 24 * 60 * 60 * 1000;

export type ImageStatus =
  'Creating' | 'Waiting' | 'Available' | 'UnAvailable' | 'CreateFailed' | 'Deprecated';

export const IMAGE_STATUSES: readonly ImageStatus[] = [
  'Creating',
  'Waiting',
  'Available',
  'UnAvailable',
  'CreateFailed',
  'Deprecated',
];

/**
 * At most this many copies run at once per destination region ("A region supports only up to five concurrent image
 * copy tasks. Excess image copy tasks are queued for execution", CopyImage,
 * https://www.alibabacloud.com/help/en/ecs/developer-reference/api-ecs-2014-05-26-copyimage); the others wait
 * (`Waiting`) in request order. Whether the five are the region's or each account's in the region is the
 * `copyQueue` variant.
 */
export const MAX_RUNNING_COPIES_PER_REGION = 5;

/** An image as the facade (`cloud.ecs.getImage`) shows it, status and progress as of now (without noise). */
export interface EcsImage {
  readonly imageId: string;
  readonly regionId: string;
  readonly imageName: string;
  readonly description: string;
  readonly status: ImageStatus;
  /** 0-100: 100 once Available; the true figure, without the noise DescribeImages may add. */
  readonly progress: number;
  /** Seconds until the copy finishes (0 unless Creating or Waiting). */
  readonly remainTimeSeconds: number;
  readonly sizeGiB: number;
  readonly isCopied: boolean;
  readonly sourceImageId?: string;
  readonly sourceRegionId?: string;
  readonly tags: Record<string, string>;
  readonly resourceGroupId: string;
  /** `YYYY-MM-DDTHH:mm:ssZ`, as DescribeImages reports it. */
  readonly creationTime: string;
  readonly encrypted: boolean;
  readonly kmsKeyId?: string;
  /** Set through `setInUse`: DeleteImage then needs `Force=true`. */
  readonly inUse: boolean;
  /** Set through `setCancelSupported`: CancelCopyImage answers `CancelNotSupported` when false. */
  readonly cancelSupported: boolean;
  /** The account that owns the image. */
  readonly ownerId: string;
  /** The accounts it is shared with (ModifyImageSharePermission), in the order they were added. */
  readonly sharedWith: readonly string[];
  /** Set through ModifyImageAttribute `ImageFamily`; empty when none. */
  readonly imageFamily: string;
}

/** Facts about a copy; its status is derived from them and the clock (see `ImageCatalog.advance`). */
export interface CopyFacts {
  sourceImageId: string;
  sourceRegionId: string;
  /** When CopyImage was called (ms since epoch): the copy's place in its region's queue. */
  requestedAt: number;
  durationMs: number;
  /** When the copy left the queue and started (set by `advance`). */
  startedAt?: number;
  /** When the copy failed (`failCopy`). */
  failedAt?: number;
  cancelSupported: boolean;
}

/** One image in the persisted state. */
export interface StoredImage {
  imageId: string;
  regionId: string;
  imageName: string;
  description: string;
  sizeGiB: number;
  createdAt: number;
  /** Creation order, to break ties between images created in the same millisecond. */
  seq: number;
  /** The status of an image that is not a copy in progress; for a copy, the status once it has finished. */
  status: ImageStatus;
  /** Tags in the order they were added. */
  tags: Array<[string, string]>;
  resourceGroupId: string;
  encrypted: boolean;
  kmsKeyId?: string;
  inUse: boolean;
  snapshotId: string;
  platform: string;
  osName: string;
  osNameEn: string;
  imageFamily: string;
  bootMode: string;
  /** The owner's account id (state files of one account have none: the first account's). */
  ownerId: string;
  /** The accounts the image is shared with, and when each was added (ms since epoch), in the order added. */
  sharedWith?: Record<string, number>;
  copy?: CopyFacts;
  /**
   * A new copy under the `copyVisibility: delayed` variant: DescribeImages and ListTagResources do not show it before
   * this time (ms since epoch). Every other action treats it as the existing image it is.
   */
  visibleAt?: number;
}

interface RegionQueue {
  /** The queue has been simulated up to this time: copies that started before it have `startedAt` set. */
  settledAt: number;
}

export interface ClientTokenRecord {
  fingerprint: string;
  imageId: string;
  at: number;
}

export interface EcsState {
  version: 1;
  nextSeq: number;
  images: Record<string, StoredImage>;
  queues: Record<string, RegionQueue>;
  clientTokens: Record<string, ClientTokenRecord>;
}

/** The custom images a fresh LocalCloud has; the example app and tests use these ids. */
export const SEEDED_IMAGES: ReadonlyArray<{
  readonly regionId: string;
  readonly imageId: string;
  readonly imageName: string;
  readonly description: string;
  readonly sizeGiB: number;
}> = [
  {
    regionId: 'cn-hangzhou',
    imageId: 'm-bp1seedgoldenimage01',
    imageName: 'golden-base',
    description: 'Seeded by LocalCloud',
    sizeGiB: 40,
  },
  {
    regionId: 'cn-hangzhou',
    imageId: 'm-bp1seedubuntu220401',
    imageName: 'ubuntu-22-04-base',
    description: 'Seeded by LocalCloud',
    sizeGiB: 20,
  },
  {
    regionId: 'cn-shanghai',
    imageId: 'm-uf6seedgoldenimage01',
    imageName: 'golden-base',
    description: 'Seeded by LocalCloud',
    sizeGiB: 40,
  },
];

const ALNUM = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** `count` random lowercase letters and digits. */
export function randomAlnum(count: number): string {
  const bytes = randomBytes(count);
  return [...bytes].map((b) => ALNUM[b % ALNUM.length]).join('');
}

/** `YYYY-MM-DDTHH:mm:ssZ`, the time format of the ECS API. */
export const ecsTime = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** What a new image needs; everything else has a default. */
export interface NewImage {
  readonly regionId: string;
  /** The owner's account id. */
  readonly ownerId: string;
  readonly imageId?: string;
  readonly imageName: string;
  readonly description?: string;
  readonly sizeGiB?: number;
  readonly status?: ImageStatus;
  readonly tags?: ReadonlyArray<readonly [string, string]>;
  readonly resourceGroupId?: string;
  readonly encrypted?: boolean;
  readonly kmsKeyId?: string;
  readonly imageFamily?: string;
  readonly platform?: { platform: string; osName: string; osNameEn: string };
  readonly copy?: CopyFacts;
  /** See {@link StoredImage.visibleAt}. */
  readonly visibleAt?: number;
}

const ALINUX = {
  platform: 'Aliyun',
  osName: 'Alibaba Cloud Linux  3.2104 LTS 64位',
  osNameEn: 'Alibaba Cloud Linux  3.2104 LTS 64 bit',
};
const UBUNTU = { platform: 'Ubuntu', osName: 'Ubuntu  22.04 64位', osNameEn: 'Ubuntu  22.04 64 bit' };

/**
 * LocalCloud's custom images and copies, kept in a `StateStore` section.
 *
 * Time model: a copy stores only facts (when it was requested, how long it takes, when it started, whether it
 * failed); its status is derived from the clock. `advance(region)` replays the region's queue in time order — at
 * most five copies run, the others start in request order as running ones end — and records the start times it
 * finds, so progress continues across restarts and is the same whenever it is read.
 */
export class ImageCatalog {
  readonly state: EcsState;

  constructor(
    private readonly store: StateStore,
    private readonly now: () => number,
    /** The first account: it owns the seeded images and the images of a state file written before accounts. */
    private readonly firstAccountId: string,
    /** Whose the five running copies of a region are: all accounts' together, or each account's (`copyQueue`). */
    private readonly copyQueue: CloudVariants['copyQueue'] = 'shared',
  ) {
    this.state = store.section<EcsState>('ecs', () => this.freshState());
    for (const image of Object.values(this.state.images)) {
      image.ownerId ??= firstAccountId;
    }
  }

  /** The images of a region that an account owns, in creation order. */
  ownedInRegion(regionId: string, ownerId: string): StoredImage[] {
    return this.inRegion(regionId).filter((image) => image.ownerId === ownerId);
  }

  /** Whether an image is shared with an account. */
  isSharedWith(image: StoredImage, accountId: string): boolean {
    return image.sharedWith !== undefined && accountId in image.sharedWith;
  }

  /** The accounts an image is shared with, in the order they were added. */
  sharesOf(image: StoredImage): Array<{ accountId: string; sharedAt: number }> {
    return Object.entries(image.sharedWith ?? {}).map(([accountId, sharedAt]) => ({ accountId, sharedAt }));
  }

  /** Shares an image with accounts and unshares it from others (removals first); persists. */
  changeShares(image: StoredImage, add: readonly string[], remove: readonly string[]): void {
    const shares = (image.sharedWith ??= {});
    for (const accountId of remove) {
      delete shares[accountId];
    }
    const now = this.now();
    for (const accountId of add) {
      shares[accountId] ??= now;
    }
    this.changed();
  }

  /** Persists the state; call after every mutation. */
  changed(): void {
    this.store.changed();
  }

  find(regionId: string, imageId: string): StoredImage | undefined {
    const image = this.state.images[imageId];
    return image && image.regionId === regionId ? image : undefined;
  }

  /** The images of a region in creation order. */
  inRegion(regionId: string): StoredImage[] {
    return Object.values(this.state.images)
      .filter((image) => image.regionId === regionId)
      .sort((a, b) => a.seq - b.seq);
  }

  /** A fresh image id for a region: `m-` + the region's 3-character prefix + 17 random characters. */
  newImageId(regionId: string): string {
    const prefix = findRegion(regionId)?.idPrefix ?? randomAlnum(3);
    let id: string;
    do {
      id = `m-${prefix}${randomAlnum(17)}`;
    } while (this.state.images[id]);
    return id;
  }

  /** Adds an image (a copy joins its region's queue now); persists. */
  add(spec: NewImage): StoredImage {
    const at = this.advance(spec.regionId);
    const imageId = spec.imageId ?? this.newImageId(spec.regionId);
    const os = spec.platform ?? (/ubuntu/i.test(spec.imageName) ? UBUNTU : ALINUX);
    const image: StoredImage = {
      imageId,
      regionId: spec.regionId,
      imageName: spec.imageName,
      description: spec.description ?? '',
      sizeGiB: spec.sizeGiB ?? 20,
      createdAt: at,
      seq: this.state.nextSeq++,
      status: spec.status ?? 'Available',
      tags: (spec.tags ?? []).map(([k, v]) => [k, v]),
      resourceGroupId: spec.resourceGroupId ?? '',
      encrypted: spec.encrypted ?? false,
      ...(spec.kmsKeyId !== undefined ? { kmsKeyId: spec.kmsKeyId } : {}),
      inUse: false,
      snapshotId: `s-${findRegion(spec.regionId)?.idPrefix ?? randomAlnum(3)}${randomAlnum(17)}`,
      ...os,
      imageFamily: spec.imageFamily ?? '',
      bootMode: 'BIOS',
      ownerId: spec.ownerId,
      ...(spec.copy ? { copy: { ...spec.copy, requestedAt: at } } : {}),
      ...(spec.visibleAt !== undefined ? { visibleAt: spec.visibleAt } : {}),
    };
    this.state.images[imageId] = image;
    this.advance(spec.regionId);
    this.changed();
    return image;
  }

  /** Removes an image now; a copy that was running frees its slot at this moment. Persists. */
  remove(image: StoredImage): void {
    this.advance(image.regionId);
    delete this.state.images[image.imageId];
    this.advance(image.regionId);
    this.changed();
  }

  /** Makes a copy in progress fail now (it ends `CreateFailed`, its slot is freed). Persists. */
  failCopy(image: StoredImage): void {
    const at = this.advance(image.regionId);
    if (!image.copy) {
      throw new Error(`Image ${image.imageId} is not a copy`);
    }
    const status = this.statusOf(image, at);
    if (status !== 'Creating' && status !== 'Waiting') {
      throw new Error(`The copy ${image.imageId} is already ${status}; only a copy in progress can fail`);
    }
    image.copy.failedAt = at;
    this.advance(image.regionId);
    this.changed();
  }

  /**
   * Replays the region's copy queues up to now (one for the region, or one per owner under `copyQueue:
   * per-account`): starts waiting copies (in request order) whenever fewer than five of their queue are running, at
   * the moment a slot freed. Records start times (persisting them) and returns the time the region's images should
   * be read at (now, or the last settled time if the clock went backwards).
   */
  advance(regionId: string): number {
    const queue = (this.state.queues[regionId] ??= { settledAt: this.now() });
    const now = Math.max(this.now(), queue.settledAt);
    const copies = this.inRegion(regionId).filter((image) => image.copy);
    const queues = new Map<string, CopyFacts[]>();
    for (const image of copies) {
      const key = this.copyQueue === 'per-account' ? image.ownerId : '';
      const queued = queues.get(key) ?? [];
      queued.push(image.copy!);
      queues.set(key, queued);
    }
    let started = false;
    for (const queued of queues.values()) {
      started = this.replayQueue(queued, queue.settledAt, now) || started;
    }
    queue.settledAt = now;
    if (started) {
      this.changed();
    }
    return now;
  }

  /** Replays one queue of copies from `settledAt` to `now`; whether a copy started. */
  private replayQueue(copies: readonly CopyFacts[], settledAt: number, now: number): boolean {
    let cursor = settledAt;
    const endOf = (copy: CopyFacts): number =>
      Math.min(copy.startedAt! + copy.durationMs, copy.failedAt ?? Number.POSITIVE_INFINITY);
    let running = copies.filter((c) => c.startedAt !== undefined && endOf(c) > cursor);
    const waiting = copies
      .filter((c) => c.startedAt === undefined && c.failedAt === undefined)
      .sort((a, b) => a.requestedAt - b.requestedAt);
    let started = false;
    for (;;) {
      while (running.length < MAX_RUNNING_COPIES_PER_REGION && waiting.length > 0) {
        const next = waiting.shift()!;
        next.startedAt = Math.max(cursor, next.requestedAt);
        running.push(next);
        started = true;
      }
      const nextEnd = Math.min(...running.map(endOf));
      if (!(nextEnd <= now)) {
        break;
      }
      cursor = Math.max(cursor, nextEnd);
      running = running.filter((c) => endOf(c) > cursor);
    }
    return started;
  }

  /**
   * The copy a CopyImage `ClientToken` already made, when this request replays it: the same parameters
   * (`fingerprint`) within 24 hours give its image id; other parameters are refused with
   * `IdempotentParameterMismatch`. Under the `clientTokenReplay` reading `while-image-exists`, a token whose copy is
   * gone is forgotten, and the request is a new one (undefined).
   */
  replayCopyToken(
    clientToken: string,
    fingerprint: string,
    replay: CloudVariants['clientTokenReplay'],
  ): string | undefined {
    const key = `CopyImage:${clientToken}`;
    let remembered: ClientTokenRecord | undefined = this.state.clientTokens[key];
    if (remembered && replay === 'while-image-exists' && !this.state.images[remembered.imageId]) {
      delete this.state.clientTokens[key];
      this.changed();
      remembered = undefined;
    }
    if (!remembered || remembered.at + CLIENT_TOKEN_TTL_MS <= this.now()) {
      return undefined;
    }
    if (remembered.fingerprint !== fingerprint) {
      throw new ApiError(
        'IdempotentParameterMismatch',
        'The request uses the same client token as a previous, but non-identical request.',
        400,
      );
    }
    return remembered.imageId;
  }

  /** Remembers the copy a CopyImage `ClientToken` made (forgetting tokens older than 24 hours); persists. */
  rememberCopyToken(clientToken: string, fingerprint: string, imageId: string): void {
    const now = this.now();
    for (const [key, record] of Object.entries(this.state.clientTokens)) {
      if (record.at + CLIENT_TOKEN_TTL_MS <= now) {
        delete this.state.clientTokens[key];
      }
    }
    this.state.clientTokens[`CopyImage:${clientToken}`] = { fingerprint, imageId, at: now };
    this.changed();
  }

  /** Whether listings (DescribeImages, ListTagResources) show the image at `at`. */
  isListed(image: StoredImage, at: number): boolean {
    return image.visibleAt === undefined || at >= image.visibleAt;
  }

  /**
   * The copies of one source image still in progress (Creating or Waiting), in every region, as of now: what makes a
   * new CopyImage of that source a conflict.
   */
  runningCopiesOf(sourceRegionId: string, sourceImageId: string): StoredImage[] {
    const copies = Object.values(this.state.images).filter(
      (image) => image.copy?.sourceImageId === sourceImageId && image.copy.sourceRegionId === sourceRegionId,
    );
    const at = new Map<string, number>();
    for (const regionId of new Set(copies.map((image) => image.regionId))) {
      at.set(regionId, this.advance(regionId));
    }
    return copies.filter((image) => {
      const status = this.statusOf(image, at.get(image.regionId)!);
      return status === 'Creating' || status === 'Waiting';
    });
  }

  /** The status of an image at `at` (after `advance`). */
  statusOf(image: StoredImage, at: number): ImageStatus {
    const copy = image.copy;
    if (!copy) {
      return image.status;
    }
    if (copy.failedAt !== undefined) {
      return 'CreateFailed';
    }
    if (copy.startedAt === undefined) {
      return 'Waiting';
    }
    if (at < copy.startedAt + copy.durationMs) {
      return 'Creating';
    }
    return image.status;
  }

  /** True progress (0-100) and remaining seconds of an image at `at` (after `advance`). */
  progressOf(image: StoredImage, at: number): { progress: number; remainTimeSeconds: number } {
    const status = this.statusOf(image, at);
    const copy = image.copy;
    if (status === 'Waiting') {
      return { progress: 0, remainTimeSeconds: copy ? Math.ceil(copy.durationMs / 1000) : 0 };
    }
    if (status === 'Creating' && copy && copy.startedAt !== undefined) {
      const elapsed = at - copy.startedAt;
      return {
        progress: Math.min(99, Math.max(0, Math.floor((elapsed * 100) / copy.durationMs))),
        remainTimeSeconds: Math.max(0, Math.ceil((copy.durationMs - elapsed) / 1000)),
      };
    }
    if (status === 'Creating') {
      return { progress: 0, remainTimeSeconds: 0 };
    }
    if (status === 'CreateFailed' && copy && copy.startedAt !== undefined) {
      const elapsed = (copy.failedAt ?? at) - copy.startedAt;
      // A zero-length copy that fails (fault injection) has no ratio to report: it got as far as it could.
      const percent = copy.durationMs > 0 ? (elapsed * 100) / copy.durationMs : 99;
      return { progress: Math.min(99, Math.max(0, Math.floor(percent))), remainTimeSeconds: 0 };
    }
    if (status === 'CreateFailed') {
      return { progress: 0, remainTimeSeconds: 0 };
    }
    return { progress: 100, remainTimeSeconds: 0 };
  }

  /** The facade's view of an image at `at` (after `advance`). */
  view(image: StoredImage, at: number): EcsImage {
    return {
      imageId: image.imageId,
      regionId: image.regionId,
      imageName: image.imageName,
      description: image.description,
      status: this.statusOf(image, at),
      ...this.progressOf(image, at),
      sizeGiB: image.sizeGiB,
      isCopied: image.copy !== undefined,
      ...(image.copy
        ? { sourceImageId: image.copy.sourceImageId, sourceRegionId: image.copy.sourceRegionId }
        : {}),
      tags: Object.fromEntries(image.tags),
      resourceGroupId: image.resourceGroupId,
      creationTime: ecsTime(image.createdAt),
      encrypted: image.encrypted,
      ...(image.kmsKeyId !== undefined ? { kmsKeyId: image.kmsKeyId } : {}),
      inUse: image.inUse,
      cancelSupported: image.copy?.cancelSupported ?? false,
      ownerId: image.ownerId,
      sharedWith: Object.keys(image.sharedWith ?? {}),
      imageFamily: image.imageFamily,
    };
  }

  private freshState(): EcsState {
    const now = this.now();
    const state: EcsState = { version: 1, nextSeq: 1, images: {}, queues: {}, clientTokens: {} };
    for (const seed of SEEDED_IMAGES) {
      state.images[seed.imageId] = {
        ...seed,
        createdAt: now,
        seq: state.nextSeq++,
        status: 'Available',
        tags: [],
        resourceGroupId: '',
        encrypted: false,
        inUse: false,
        snapshotId: `s-${seed.imageId.slice(2)}`,
        ...(/ubuntu/i.test(seed.imageName) ? UBUNTU : ALINUX),
        imageFamily: '',
        bootMode: 'BIOS',
        ownerId: this.firstAccountId,
      };
    }
    return state;
  }
}
