/**
 * A golden image distributed: copied to two regions with ImageReplication, each copy shared with a second account,
 * given an image family (instances launch "the latest of the family"), carrying the source's tags, and keeping the
 * previous release (deprecated, for rollback) when a new source image is published.
 *
 * Release a new golden image by deploying again with another `sourceImageId` (context): each region gets a new copy,
 * the previous one is unshared, renamed `<name>-previous-<id>` and deprecated, and the one before it deleted.
 *
 * In your own app, import from 'ros-cdk-image-copy' instead of '../../lib'.
 */
import * as ros from '@alicloud/ros-cdk-core';
import { ImageReplication } from '../../lib';

export interface DistributionStackProps extends ros.StackProps {
  /** The image to publish. */
  readonly sourceImageId: string;
  /** Where it lives. */
  readonly sourceRegionId: string;
  /** Where to publish it. */
  readonly destinationRegionIds: string[];
  /** The accounts that may use the copies. */
  readonly sharedWithAccounts: string[];
  /** The image family of every copy. */
  readonly imageFamily: string;
  /** How many previous releases each region keeps. */
  readonly keepPreviousVersions: number;
}

/** LocalCloud's seeded golden image, published to two regions and shared with a second account. */
export const DISTRIBUTION_DEFAULTS: DistributionStackProps = {
  sourceImageId: 'm-bp1seedgoldenimage01',
  sourceRegionId: 'cn-hangzhou',
  destinationRegionIds: ['cn-shanghai', 'cn-beijing'],
  sharedWithAccounts: ['1234567890123456'],
  imageFamily: 'golden-web',
  keepPreviousVersions: 1,
};

/** A list from context: comma-separated text or a list; the default when absent. */
function listFromContext(scope: ros.Construct, key: string, fallback: string[]): string[] {
  const value: unknown = scope.node.tryGetContext(key);
  if (typeof value === 'string') {
    return value
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item !== '');
  }
  return Array.isArray(value) ? value.map(String) : fallback;
}

/**
 * Props from context: `sourceImageId`, `sourceRegionId`, `destinationRegionIds` and `sharedWithAccounts`
 * (comma-separated or lists), `imageFamily`, `keepPreviousVersions`.
 */
export function distributionPropsFromContext(scope: ros.Construct): DistributionStackProps {
  const keep: unknown = scope.node.tryGetContext('keepPreviousVersions');
  return {
    sourceImageId: scope.node.tryGetContext('sourceImageId') ?? DISTRIBUTION_DEFAULTS.sourceImageId,
    sourceRegionId: scope.node.tryGetContext('sourceRegionId') ?? DISTRIBUTION_DEFAULTS.sourceRegionId,
    destinationRegionIds: listFromContext(
      scope,
      'destinationRegionIds',
      DISTRIBUTION_DEFAULTS.destinationRegionIds,
    ),
    sharedWithAccounts: listFromContext(
      scope,
      'sharedWithAccounts',
      DISTRIBUTION_DEFAULTS.sharedWithAccounts,
    ),
    imageFamily: scope.node.tryGetContext('imageFamily') ?? DISTRIBUTION_DEFAULTS.imageFamily,
    keepPreviousVersions: keep === undefined ? DISTRIBUTION_DEFAULTS.keepPreviousVersions : Number(keep),
  };
}

export class DistributionStack extends ros.Stack {
  public readonly replication: ImageReplication;

  constructor(scope: ros.Construct, id: string, props: DistributionStackProps) {
    super(scope, id, props);
    this.replication = new ImageReplication(this, 'Golden', {
      sourceImageId: props.sourceImageId,
      sourceRegionId: props.sourceRegionId,
      destinationRegionIds: props.destinationRegionIds,
      imageName: 'golden-web',
      tags: { example: 'distribution' },
      sharedWithAccounts: props.sharedWithAccounts,
      imageFamily: props.imageFamily,
      copySourceTags: true,
      keepPreviousVersions: props.keepPreviousVersions,
      timeouts: { create: 60 },
    });
    // Per region: the image, whom it is shared with, and the previous releases kept (GoldenCnShanghaiImageId, ...).
    for (const regionId of this.replication.destinationRegionIds) {
      const name = this.replication.copyIn(regionId).node.id;
      new ros.RosOutput(this, `${name}ImageId`, {
        value: this.replication.imageIdIn(regionId),
        description: `The golden image in ${regionId}`,
      });
      new ros.RosOutput(this, `${name}SharedWith`, {
        value: this.replication.sharedWithAccountsIn(regionId),
        description: `The accounts the golden image in ${regionId} is shared with`,
      });
      new ros.RosOutput(this, `${name}PreviousImageIds`, {
        value: this.replication.previousImageIdsIn(regionId),
        description: `The previous releases kept in ${regionId}, newest first`,
      });
    }
  }
}
