/**
 * The ECS image calls the handler makes, each retried on transient errors (see `retry.ts`), with the answers
 * read into a small {@link ImageView}. `DescribeImages` always passes an explicit `Status`: its default
 * (`Available`) hides copies in progress. Calls act in the region of the image they concern: `CopyImage` in the
 * source region, everything else in the destination region.
 */
import type { Clock } from '../clock';
import { ALL_IMAGE_STATUSES, MAX_TAGS_PER_IMAGE, type ImageStatus } from '../protocol';
import type { EcsApi } from './clients';
import type { Invocation } from './invocation';
import type { Logger } from './log';
import { withRetry } from './retry';
import type { EcsAction, EcsRequest, EcsResponse, WireImage } from './wire';

/** An image as the handler needs it. */
export interface ImageView {
  readonly imageId: string;
  readonly regionId: string;
  readonly status: string;
  readonly imageName: string;
  readonly description: string;
  /** 0-100, when reported. */
  readonly percent?: number;
  /** `42%`, as reported (or '' when not). */
  readonly progress: string;
  /** Seconds left on the slowest disk, when reported. */
  readonly remainSeconds?: number;
  readonly tags: Readonly<Record<string, string>>;
  readonly resourceGroupId: string;
  /** The image family ('' when none). */
  readonly imageFamily?: string;
  /** `YYYY-MM-DDTHH:mm:ssZ` as reported (compares as text), or '' when not reported. */
  readonly creationTime: string;
}

export const PAGE_SIZE = 100;

/** The longest one ECS call may take when the invocation has time for it, ms. */
export const CALL_TIMEOUT_MS = 20_000;

function parsePercent(value: unknown): number | undefined {
  if (typeof value !== 'string' && typeof value !== 'number') {
    return undefined;
  }
  const match = /^\s*(\d+(?:\.\d+)?)\s*%?\s*$/.exec(String(value));
  return match ? Math.min(100, Number(match[1])) : undefined;
}

/** Reads one image of a `DescribeImages` answer. */
export function imageView(image: WireImage, regionId: string): ImageView {
  const disks = image.DiskDeviceMappings?.DiskDeviceMapping ?? [];
  const remain = disks
    .map((disk) => disk.RemainTime)
    .filter((value): value is number => typeof value === 'number' && Number.isFinite(value));
  const diskPercents = disks
    .map((disk) => parsePercent(disk.Progress))
    .filter((p): p is number => p !== undefined);
  const percent =
    parsePercent(image.Progress) ?? (diskPercents.length > 0 ? Math.min(...diskPercents) : undefined);
  return {
    imageId: image.ImageId ?? '',
    regionId,
    status: image.Status ?? '',
    imageName: image.ImageName ?? '',
    description: image.Description ?? '',
    percent,
    progress: percent === undefined ? '' : `${percent}%`,
    remainSeconds: remain.length > 0 ? Math.max(...remain) : undefined,
    tags: Object.fromEntries((image.Tags?.Tag ?? []).map((tag) => [tag.TagKey ?? '', tag.TagValue ?? ''])),
    resourceGroupId: image.ResourceGroupId ?? '',
    imageFamily: image.ImageFamily ?? '',
    creationTime: image.CreationTime ?? '',
  };
}

/** What a call needs to know about time: the clock, the invocation (for hand-over) and the operation's deadline. */
export interface CallTiming {
  readonly clock: Clock;
  readonly invocation: Invocation;
  /** The operation's own deadline (create or delete timeout). */
  readonly deadline: () => number;
}

export class EcsImages {
  constructor(
    private readonly ecs: EcsApi,
    private readonly timing: CallTiming,
    private readonly log: Logger,
  ) {}

  /** One ECS call, retried on throttling, `ServiceUnavailable`, 5xx and network errors. */
  async call<A extends EcsAction>(action: A, request: EcsRequest<A>): Promise<EcsResponse<A>> {
    const { clock, invocation, deadline } = this.timing;
    // The retry gives up at the operation's deadline; the invocation's own deadline is handled by its sleep,
    // which hands a retry's wait over to a fresh invocation instead of failing the operation.
    return withRetry(
      () => this.ecs.call(action, request, { timeoutMs: invocation.callTimeoutMs(CALL_TIMEOUT_MS) }),
      {
        operation: `ECS ${action}`,
        deadline: deadline(),
        clock,
        sleep: (ms) => invocation.sleep(ms),
        onRetry: (info) =>
          this.log.warn('retry', {
            action,
            attempt: info.attempt,
            delayMs: info.delayMs,
            kind: info.kind,
            code: info.code,
          }),
      },
    );
  }

  /** The image, in any status, or undefined when there is none. */
  async describe(regionId: string, imageId: string): Promise<ImageView | undefined> {
    const answer = await this.call('DescribeImages', {
      RegionId: regionId,
      ImageId: imageId,
      Status: ALL_IMAGE_STATUSES.join(','),
      ImageOwnerAlias: 'self',
      PageSize: 10,
    });
    const image = (answer.Images?.Image ?? []).find((candidate) => candidate.ImageId === imageId);
    return image ? imageView(image, regionId) : undefined;
  }

  /** Every image of the region with the tag (any value when `value` is undefined) in one of the statuses. */
  async findByTag(
    regionId: string,
    key: string,
    value: string | undefined,
    statuses: readonly ImageStatus[] = ALL_IMAGE_STATUSES,
  ): Promise<ImageView[]> {
    return this.list({
      RegionId: regionId,
      Status: statuses.join(','),
      ImageOwnerAlias: 'self',
      Tag: [value === undefined ? { Key: key } : { Key: key, Value: value }],
    });
  }

  /** The images of the region named exactly `name` (the API's name filter is a fuzzy match). */
  async findByName(regionId: string, name: string): Promise<ImageView[]> {
    const images = await this.list({
      RegionId: regionId,
      Status: ALL_IMAGE_STATUSES.join(','),
      ImageOwnerAlias: 'self',
      ImageName: name,
    });
    return images.filter((image) => image.imageName === name);
  }

  private async list(request: EcsRequest<'DescribeImages'>): Promise<ImageView[]> {
    const images: ImageView[] = [];
    for (let page = 1; ; page++) {
      const answer = await this.call('DescribeImages', { ...request, PageNumber: page, PageSize: PAGE_SIZE });
      const batch = answer.Images?.Image ?? [];
      images.push(...batch.map((image) => imageView(image, request.RegionId ?? '')));
      const total = answer.TotalCount ?? 0;
      if (batch.length < PAGE_SIZE || images.length >= total) {
        return images;
      }
    }
  }

  /** Sets tags (overwriting values of existing keys), at most 20 per call. */
  async tag(regionId: string, imageId: string, tags: Readonly<Record<string, string>>): Promise<void> {
    const entries = Object.entries(tags);
    for (let i = 0; i < entries.length; i += MAX_TAGS_PER_IMAGE) {
      await this.call('TagResources', {
        RegionId: regionId,
        ResourceType: 'image',
        ResourceId: [imageId],
        Tag: entries.slice(i, i + MAX_TAGS_PER_IMAGE).map(([Key, Value]) => ({ Key, Value })),
      });
    }
  }

  /** Removes tag keys, at most 20 per call. */
  async untag(regionId: string, imageId: string, keys: readonly string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += MAX_TAGS_PER_IMAGE) {
      await this.call('UntagResources', {
        RegionId: regionId,
        ResourceType: 'image',
        ResourceId: [imageId],
        TagKey: keys.slice(i, i + MAX_TAGS_PER_IMAGE),
      });
    }
  }
}
