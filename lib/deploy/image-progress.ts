/**
 * Image copy progress while a stack with ImageCopy resources is followed: the copies each resource is making, found
 * in ECS by their ownership tag, with ECS's percentage and remaining time. Best effort, read with the deploying
 * credentials.
 */
import OpenApi, { $OpenApiUtil, OpenApiUtil } from '@alicloud/openapi-core';
import { rpcParams } from '../openapi-rpc';
import { ImageCopyParameter, isOwnedBy, OWNERSHIP_TAG_KEY } from '../protocol';
import type { RosConnection } from './connection';
import { isImageCopyResource } from './review';

/** How far an ImageCopy's copy has come, as ECS reports it. */
export interface ImageCopyProgress {
  readonly logicalResourceId: string;
  readonly imageId: string;
  readonly regionId: string;
  /** 0 to 100. */
  readonly percent: number;
  /** Seconds ECS expects the copy to take still, when it says. */
  readonly remainingSeconds?: number;
}

interface DescribedImage {
  ImageId?: string;
  Progress?: string;
  Tags?: { Tag?: { TagKey?: string; TagValue?: string }[] };
  DiskDeviceMappings?: { DiskDeviceMapping?: { RemainTime?: number | string }[] };
}

type RuntimeOptions = Parameters<OpenApi['callApi']>[2];

/**
 * Reads the progress of the copies the template's ImageCopy resources are making, from ECS with the deploying
 * credentials. Best effort: any error skips one reading; a permission error turns it off for good.
 */
export class ImageCopyWatcher {
  /** Logical id → destination region of each ImageCopy in the template. */
  private readonly copies = new Map<string, string>();
  private readonly clients = new Map<string, OpenApi>();
  private disabled = false;
  private last = 0;

  constructor(
    private readonly connection: RosConnection,
    template: unknown,
    /** Time between two readings (a reading is one DescribeImages per destination region). */
    private readonly intervalMs = 5000,
  ) {
    const resources =
      (template as { Resources?: Record<string, { Type?: string; Properties?: any }> })?.Resources ?? {};
    for (const [id, resource] of Object.entries(resources)) {
      if (!isImageCopyResource(resource)) {
        continue;
      }
      const destination = resource.Properties?.Parameters?.[ImageCopyParameter.DestinationRegionId];
      this.copies.set(id, typeof destination === 'string' ? destination : connection.regionId);
    }
  }

  /** Whether the template has any ImageCopy. */
  get any(): boolean {
    return this.copies.size > 0;
  }

  /** The progress of the copies of those resources (among `logicalIds`) that are ImageCopies; [] between readings. */
  async progress(stackId: string, logicalIds: readonly string[]): Promise<ImageCopyProgress[]> {
    const watched = logicalIds.filter((id) => this.copies.has(id));
    if (this.disabled || watched.length === 0) {
      return [];
    }
    if (this.connection.clock.now() - this.last < this.intervalMs) {
      return [];
    }
    const readings: ImageCopyProgress[] = [];
    for (const region of new Set(watched.map((id) => this.copies.get(id)!))) {
      let images: DescribedImage[];
      try {
        images = await this.describeCopies(region);
      } catch (err) {
        const status = (err as { statusCode?: number }).statusCode ?? 0;
        if (
          status === 401 ||
          status === 403 ||
          /Forbidden|NoPermission/i.test(String((err as { code?: string }).code))
        ) {
          this.disabled = true;
        }
        continue;
      }
      for (const id of watched.filter((w) => this.copies.get(w) === region)) {
        const image = images.find((i) =>
          (i.Tags?.Tag ?? []).some(
            (t) => t.TagKey === OWNERSHIP_TAG_KEY && isOwnedBy(t.TagValue ?? '', stackId, id),
          ),
        );
        if (!image?.ImageId) {
          continue;
        }
        const percent = Number.parseInt(image.Progress ?? '0', 10);
        const remain = Number(image.DiskDeviceMappings?.DiskDeviceMapping?.[0]?.RemainTime);
        readings.push({
          logicalResourceId: id,
          imageId: image.ImageId,
          regionId: region,
          percent: Number.isFinite(percent) ? percent : 0,
          ...(Number.isFinite(remain) && remain > 0 && { remainingSeconds: remain }),
        });
      }
    }
    // Until a copy shows up (the provider may not have started it yet), look again at the next poll.
    if (readings.length > 0) {
      this.last = this.connection.clock.now();
    }
    return readings;
  }

  private async describeCopies(regionId: string): Promise<DescribedImage[]> {
    let client = this.clients.get(regionId);
    if (!client) {
      client = new OpenApi(this.connection.config('ecs', regionId));
      this.clients.set(regionId, client);
    }
    const params = rpcParams('DescribeImages', '2014-05-26');
    const query = {
      RegionId: regionId,
      ImageOwnerAlias: 'self',
      Status: 'Creating,Waiting',
      'Tag.1.Key': OWNERSHIP_TAG_KEY,
      PageSize: '100',
    };
    const answer = await client.callApi(
      params,
      new $OpenApiUtil.OpenApiRequest({ query: OpenApiUtil.query(query) }),
      {} as RuntimeOptions,
    );
    return ((answer.body as { Images?: { Image?: DescribedImage[] } })?.Images?.Image ??
      []) as DescribedImage[];
  }
}
