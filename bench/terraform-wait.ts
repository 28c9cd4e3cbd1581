/**
 * A replay of how Terraform's `alicloud_image_copy` creates a copy and waits for it, as documented in
 * ../shared/reference/ecs-image-api.md §5.2 (TF `resource_alicloud_image_copy.go` L77-127) and its
 * "Polling schedule" (TF `common.go` `BuildStateConf` L1030-1039; TFSDK v1.17.2 `helper/resource/state.go`):
 *
 * 1. `CopyImage` in the source region (no ClientToken, no retry);
 * 2. `Delay` = 1 minute before the first refresh;
 * 3. refresh = `DescribeImages(RegionId, ImageId, Status="Creating,Waiting,Available,UnAvailable,CreateFailed")`
 *    (`DescribeImageById`, §5.3); `Available` is the target, `CreateFailed` / `UnAvailable` fail;
 * 4. between refreshes the wait starts at 100 ms and doubles, clamped to at least `MinTimeout` (3 s) and at most
 *    10 s: 3 s, 6 s, 10 s, 10 s, ...;
 * 5. then Read: one more `DescribeImageById`.
 *
 * Used by benchmark 3 as the baseline that runs against the same kind of copies as our handler.
 */
import Ecs, * as $Ecs from '@alicloud/ecs20140526';
import { $OpenApiUtil } from '@alicloud/openapi-core';
import type { LocalCloud } from '../lib/local';
import { sleep } from './stats';

const DELAY_MS = 60_000;
const MIN_TIMEOUT_MS = 3_000;
const MAX_WAIT_MS = 10_000;
const INITIAL_WAIT_MS = 100;
const DESCRIBE_STATUSES = 'Creating,Waiting,Available,UnAvailable,CreateFailed';

export interface TerraformCopyResult {
  readonly imageId: string;
  /** When Create returned (after the Read), ms since the epoch. */
  readonly doneAt: number;
  /** ECS calls made: CopyImage, the refreshes and the Read. */
  readonly calls: number;
}

/** Creates one copy the way Terraform does and waits for it; resolves when Terraform's Create would return. */
export async function terraformCreateCopy(
  cloud: LocalCloud,
  copy: { sourceImageId: string; sourceRegionId: string; destinationRegionId: string; imageName: string },
): Promise<TerraformCopyResult> {
  const client = (regionId: string) =>
    new Ecs(
      new $OpenApiUtil.Config({ ...cloud.credentials, regionId, endpoint: cloud.endpoint, protocol: 'http' }),
    );
  const source = client(copy.sourceRegionId);
  const destination = client(copy.destinationRegionId);
  let calls = 0;
  const copied = await source.copyImage(
    new $Ecs.CopyImageRequest({
      regionId: copy.sourceRegionId,
      imageId: copy.sourceImageId,
      destinationRegionId: copy.destinationRegionId,
      destinationImageName: copy.imageName,
      encrypted: false,
    }),
  );
  calls++;
  const imageId = copied.body!.imageId!;
  const describe = async (): Promise<string | undefined> => {
    for (let attempt = 1; ; attempt++) {
      try {
        const answer = await destination.describeImages(
          new $Ecs.DescribeImagesRequest({
            regionId: copy.destinationRegionId,
            imageId,
            status: DESCRIBE_STATUSES,
          }),
        );
        calls++;
        return answer.body?.images?.image?.[0]?.status;
      } catch (error) {
        // The Go SDK under Terraform retries transport errors (reference §5.2); a kept-alive socket that the
        // server closed while this poller slept is one. Only answered calls are counted.
        if (attempt >= 3 || !isTransportError(error)) {
          throw error;
        }
      }
    }
  };

  await sleep(DELAY_MS);
  let wait = INITIAL_WAIT_MS;
  for (;;) {
    const status = await describe();
    if (status === 'Available') {
      break;
    }
    if (status === 'CreateFailed' || status === 'UnAvailable') {
      throw new Error(`Failed to reach target status. Last status: ${status}.`);
    }
    wait = Math.min(MAX_WAIT_MS, Math.max(MIN_TIMEOUT_MS, wait * 2));
    await sleep(wait);
  }
  await describe(); // Read
  return { imageId, doneAt: Date.now(), calls };
}

function isTransportError(error: unknown): boolean {
  const text = `${(error as { code?: unknown })?.code ?? ''} ${(error as Error)?.message ?? ''}`;
  return /ECONNRESET|socket hang up|EPIPE|ECONNREFUSED/i.test(text);
}
