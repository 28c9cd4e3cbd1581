/**
 * `ImageReplication`: one source image published to many regions, one {@link ImageCopy} per destination region.
 */
import * as ros from '@alicloud/ros-cdk-core';
import { ImageCopy, type ImageCopyTimeouts, ImageCopyValidationError } from './image-copy';
import { ImageCopyParameter, MAX_REPLICA_USER_TAGS, SOURCE_TAG_KEY } from './protocol';
import { invalidMessage, requiredMessage, validateRegionId } from './validation';

/**
 * Properties of an {@link ImageReplication}: those of {@link ImageCopyProps} that make sense for every region at
 * once, and the list of destination regions.
 */
export interface ImageReplicationProps {
  /**
   * The ECS custom image to copy (`m-...`), in `sourceRegionId`. Changing it replaces every copy.
   */
  readonly sourceImageId: string;

  /**
   * The region the source image lives in, e.g. `cn-hangzhou`. Changing it replaces every copy.
   */
  readonly sourceRegionId: string;

  /**
   * The regions to copy the image into, one copy each, copied in parallel. At least one; no region twice; each a
   * region id known at synth time (it names the copy's construct and logical id: `cn-shanghai` under
   * `Everywhere` becomes `EverywhereCnShanghai`). Removing a region deletes its copy; adding one copies anew.
   */
  readonly destinationRegionIds: string[];

  /**
   * Name of every copy (see {@link ImageCopyProps.imageName}). Changed in place.
   *
   * @default - the name ECS gives each copy
   */
  readonly imageName?: string;

  /**
   * Description of every copy (see {@link ImageCopyProps.description}). Changed in place.
   *
   * @default - no description
   */
  readonly description?: string;

  /**
   * Whether the copies are encrypted. Changing it replaces every copy.
   *
   * @default false
   */
  readonly encrypted?: boolean | ros.IResolvable;

  /**
   * KMS keys by destination region, `{ regionId: keyId }` (KMS keys are regional); requires `encrypted: true`.
   * A region left out uses the service key of ECS. Changing a key replaces that region's copy.
   *
   * @default - the service key of ECS in every region when `encrypted` is true
   */
  readonly kmsKeyIds?: { [regionId: string]: string };

  /**
   * Tags of every copy (see {@link ImageCopyProps.tags}): at most 18 when there are two regions or more (each copy
   * also carries the reserved `ros-cdk-image-copy:source`, which lets one copy be made from another), 19 for one.
   * Changed in place.
   *
   * @default - no tags
   */
  readonly tags?: { [key: string]: string };

  /**
   * Resource group of every copy (`rg-...`; resource groups span regions). Changed in place.
   *
   * @default - the account's default resource group
   */
  readonly resourceGroupId?: string;

  /**
   * Delete the copies even when instances were created from them. Changed in place.
   *
   * @default false
   */
  readonly force?: boolean | ros.IResolvable;

  /**
   * Bounds on create and delete of each copy, in minutes.
   *
   * @default - 10 minutes each
   */
  readonly timeouts?: ImageCopyTimeouts;

  /**
   * Account ids to share every copy with (see {@link ImageCopyProps.sharedWithAccounts}): each region's copy is
   * shared, so the sharees find the image in every region. Changed in place.
   *
   * @default - the copies are not shared
   */
  readonly sharedWithAccounts?: string[];

  /**
   * Image family of every copy (see {@link ImageCopyProps.imageFamily}). Changed in place.
   *
   * @default - no family
   */
  readonly imageFamily?: string;

  /**
   * Put the source image's tags on every copy, the user's `tags` winning (see {@link ImageCopyProps.copySourceTags}).
   *
   * @default false
   */
  readonly copySourceTags?: boolean | ros.IResolvable;

  /**
   * How many previous copies each region keeps when a new source replaces them (see
   * {@link ImageCopyProps.keepPreviousVersions}).
   *
   * @default 0
   */
  readonly keepPreviousVersions?: number;
}

/**
 * Publishes one ECS custom image to many regions: one {@link ImageCopy} per destination region, all in this
 * stack and served by its one provider, started at once (ROS creates resources without dependencies between
 * them at the same time). Each copy is managed like a single `ImageCopy`. Where ECS refuses to copy one image
 * twice at once, a copy may be made from another region's finished copy of the same source instead of waiting for
 * the source (a fan-out tree: each finished copy is one more image to copy from).
 *
 * ```ts
 * const everywhere = new ImageReplication(stack, 'Everywhere', {
 *   sourceImageId: 'm-bp1...', sourceRegionId: 'cn-hangzhou',
 *   destinationRegionIds: ['cn-shanghai', 'cn-beijing'],
 * });
 * everywhere.imageIdIn('cn-beijing');
 * ```
 */
export class ImageReplication extends ros.Construct {
  /** The destination regions, in the order given. */
  public readonly destinationRegionIds: string[];

  /** One copy per destination region, in the order of {@link destinationRegionIds}. */
  public readonly copies: ImageCopy[];

  private readonly copiesByRegion = new Map<string, ImageCopy>();

  /**
   * @param scope scope in which this construct is defined
   * @param id scoped id; the copies are named `<id><Region>`, e.g. `EverywhereCnShanghai`
   * @param props the source, the destination regions and what every copy shares
   */
  constructor(scope: ros.Construct, id: string, props: ImageReplicationProps) {
    // Validated before the construct joins the tree, so a rejected replication leaves nothing behind.
    validateReplicationProps(`ImageReplication ${scope.node.path ? `${scope.node.path}/${id}` : id}`, props);
    super(scope, id);
    this.destinationRegionIds = [...props.destinationRegionIds];
    this.copies = this.destinationRegionIds.map((regionId) => {
      const copy = new ImageCopy(this, `${id}${pascalCase(regionId)}`, {
        sourceImageId: props.sourceImageId,
        sourceRegionId: props.sourceRegionId,
        destinationRegionId: regionId,
        imageName: props.imageName,
        description: props.description,
        encrypted: props.encrypted,
        kmsKeyId: props.kmsKeyIds?.[regionId],
        tags: props.tags,
        resourceGroupId: props.resourceGroupId,
        force: props.force,
        timeouts: props.timeouts,
        sharedWithAccounts: props.sharedWithAccounts,
        imageFamily: props.imageFamily,
        copySourceTags: props.copySourceTags,
        keepPreviousVersions: props.keepPreviousVersions,
      });
      this.copiesByRegion.set(regionId, copy);
      return copy;
    });
    if (this.destinationRegionIds.length > 1) {
      for (const copy of this.copies) {
        copy.customResource.addPropertyOverride(
          `Parameters.${ImageCopyParameter.ReplicaRegionIds}`,
          this.destinationRegionIds.filter((regionId) => regionId !== copy.destinationRegionId),
        );
      }
    }
  }

  /**
   * The copy in a destination region.
   *
   * @param regionId one of {@link destinationRegionIds}
   */
  public copyIn(regionId: string): ImageCopy {
    const copy = this.copiesByRegion.get(regionId);
    if (copy === undefined) {
      throw new Error(
        `ImageReplication ${this.node.path} has no copy in ${JSON.stringify(regionId)}; its destination regions ` +
          `are ${this.destinationRegionIds.map((r) => JSON.stringify(r)).join(', ')}.`,
      );
    }
    return copy;
  }

  /**
   * The id of the copy in a destination region (a token resolved at deploy time).
   *
   * @param regionId one of {@link destinationRegionIds}
   */
  public imageIdIn(regionId: string): string {
    return this.copyIn(regionId).attrImageId;
  }

  /**
   * The accounts the copy in a destination region is shared with, comma-separated (a token).
   *
   * @param regionId one of {@link destinationRegionIds}
   */
  public sharedWithAccountsIn(regionId: string): string {
    return this.copyIn(regionId).attrSharedWithAccounts;
  }

  /**
   * The image family of the copy in a destination region (a token).
   *
   * @param regionId one of {@link destinationRegionIds}
   */
  public imageFamilyIn(regionId: string): string {
    return this.copyIn(regionId).attrImageFamily;
  }

  /**
   * The previous copies kept in a destination region, comma-separated, newest first (a token).
   *
   * @param regionId one of {@link destinationRegionIds}
   */
  public previousImageIdsIn(regionId: string): string {
    return this.copyIn(regionId).attrPreviousImageIds;
  }
}

/**
 * The replication's own rules: the region list (the copies check everything else). Throws
 * {@link ImageCopyValidationError} listing every broken rule.
 */
function validateReplicationProps(subject: string, props: ImageReplicationProps): void {
  const property = 'destinationRegionIds';
  const regions: unknown = props.destinationRegionIds;
  const messages: string[] = [];
  if (regions === undefined || regions === null) {
    messages.push(requiredMessage(property));
  } else if (ros.Token.isUnresolved(regions) || !Array.isArray(regions)) {
    messages.push(invalidMessage(property, regions, 'must be a list of region ids known at synth time'));
  } else if (regions.length === 0) {
    messages.push(invalidMessage(property, regions, 'must name at least one region'));
  } else {
    const seen = new Set<string>();
    regions.forEach((region: unknown, index) => {
      const element = `${property}[${index}]`;
      if (ros.Token.isUnresolved(region)) {
        messages.push(
          `${element} is invalid: must be a region id known at synth time (it names the copy's logical id)`,
        );
        return;
      }
      const problems = validateRegionId(region, element);
      messages.push(...problems);
      if (problems.length === 0 && region !== undefined && region !== null) {
        if (seen.has(region as string)) {
          messages.push(invalidMessage(element, region, 'repeats a region: each region gets one copy'));
        }
        seen.add(region as string);
      }
    });
    for (const keyRegion of Object.keys(props.kmsKeyIds ?? {})) {
      if (!seen.has(keyRegion)) {
        messages.push(
          invalidMessage(
            `kmsKeyIds key`,
            keyRegion,
            `must be one of the ${property} (it picks that region's key)`,
          ),
        );
      }
    }
  }
  const tags: unknown = props.tags;
  if (
    Array.isArray(regions) &&
    regions.length > 1 &&
    tags !== undefined &&
    tags !== null &&
    typeof tags === 'object' &&
    !ros.Token.isUnresolved(tags) &&
    Object.keys(tags).length > MAX_REPLICA_USER_TAGS
  ) {
    messages.push(
      `tags (${Object.keys(tags).length} tags) is invalid: at most ${MAX_REPLICA_USER_TAGS} tags are allowed on ` +
        `the copies of an ImageReplication to more than one region (ECS allows 20 per image; ros-cdk-image-copy ` +
        `reserves its ownership tag and "${SOURCE_TAG_KEY}")`,
    );
  }
  if (messages.length > 0) {
    throw new ImageCopyValidationError(subject, messages);
  }
}

/** `cn-hangzhou` → `CnHangzhou`, `ap-southeast-1` → `ApSoutheast1`: a region as part of a logical id. */
function pascalCase(regionId: string): string {
  return regionId
    .split(/[^A-Za-z0-9]+/)
    .filter((part) => part.length > 0)
    .map((part) => part[0].toUpperCase() + part.slice(1))
    .join('');
}
