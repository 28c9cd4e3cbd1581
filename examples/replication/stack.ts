/**
 * One golden image published to several regions with ImageReplication: one copy per region, in parallel, each
 * region's image id an output.
 *
 * In your own app, import from 'ros-cdk-image-copy' instead of '../../lib'.
 */
import * as ros from '@alicloud/ros-cdk-core';
import { ImageReplication } from '../../lib';

export interface ReplicationStackProps extends ros.StackProps {
  /** The image to publish. */
  readonly sourceImageId: string;
  /** Where it lives. */
  readonly sourceRegionId: string;
  /** Where to publish it. */
  readonly destinationRegionIds: string[];
}

/** LocalCloud's seeded golden image, published to three regions. */
export const REPLICATION_DEFAULTS: ReplicationStackProps = {
  sourceImageId: 'm-bp1seedgoldenimage01',
  sourceRegionId: 'cn-hangzhou',
  destinationRegionIds: ['cn-shanghai', 'cn-beijing', 'ap-southeast-1'],
};

/** Props from context: `sourceImageId`, `sourceRegionId`, `destinationRegionIds` (comma-separated or a list). */
export function replicationPropsFromContext(scope: ros.Construct): ReplicationStackProps {
  const regions: unknown = scope.node.tryGetContext('destinationRegionIds');
  return {
    sourceImageId: scope.node.tryGetContext('sourceImageId') ?? REPLICATION_DEFAULTS.sourceImageId,
    sourceRegionId: scope.node.tryGetContext('sourceRegionId') ?? REPLICATION_DEFAULTS.sourceRegionId,
    destinationRegionIds:
      typeof regions === 'string'
        ? regions.split(',').map((region) => region.trim())
        : Array.isArray(regions)
          ? regions.map(String)
          : REPLICATION_DEFAULTS.destinationRegionIds,
  };
}

export class ReplicationStack extends ros.Stack {
  public readonly replication: ImageReplication;

  constructor(scope: ros.Construct, id: string, props: ReplicationStackProps) {
    super(scope, id, props);
    this.replication = new ImageReplication(this, 'Golden', {
      sourceImageId: props.sourceImageId,
      sourceRegionId: props.sourceRegionId,
      destinationRegionIds: props.destinationRegionIds,
      imageName: 'golden-published',
      tags: { example: 'replication', release: '2026.11' },
      timeouts: { create: 60 },
    });
    // One output per region, named after its copy: GoldenCnShanghaiImageId, ...
    for (const regionId of this.replication.destinationRegionIds) {
      new ros.RosOutput(this, `${this.replication.copyIn(regionId).node.id}ImageId`, {
        value: this.replication.imageIdIn(regionId),
        description: `The golden image in ${regionId}`,
      });
    }
  }
}
