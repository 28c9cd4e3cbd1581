/**
 * One image copied into one region, with its id and details as stack outputs.
 *
 * In your own app, import from 'ros-cdk-image-copy' instead of '../../lib'.
 */
import * as ros from '@alicloud/ros-cdk-core';
import { ImageCopy } from '../../lib';

/** What the example copies, from where to where. */
export interface SingleCopyStackProps extends ros.StackProps {
  /** The image to copy. */
  readonly sourceImageId: string;
  /** Where it lives. */
  readonly sourceRegionId: string;
  /** Where to copy it; the stack's region when left out. */
  readonly destinationRegionId?: string;
  /** The copy's name. */
  readonly imageName: string;
}

/**
 * Defaults that exist in a fresh LocalCloud (its seeded golden image in cn-hangzhou), so
 * `ros-deploy deploy --local` deploys the example as it is. Override them with context: `-c sourceImageId=m-...`.
 */
export const SINGLE_COPY_DEFAULTS = {
  sourceImageId: 'm-bp1seedgoldenimage01',
  sourceRegionId: 'cn-hangzhou',
  destinationRegionId: 'cn-shanghai',
  imageName: 'golden-copy',
} as const;

/** The example's props from the app's context (cdk.json "context" or `-c key=value`), with the defaults above. */
export function singleCopyPropsFromContext(scope: ros.Construct): SingleCopyStackProps {
  const context = (key: keyof typeof SINGLE_COPY_DEFAULTS): string =>
    scope.node.tryGetContext(key) ?? SINGLE_COPY_DEFAULTS[key];
  return {
    sourceImageId: context('sourceImageId'),
    sourceRegionId: context('sourceRegionId'),
    destinationRegionId: context('destinationRegionId'),
    imageName: context('imageName'),
  };
}

export class SingleCopyStack extends ros.Stack {
  /** The copy. */
  public readonly copy: ImageCopy;

  constructor(scope: ros.Construct, id: string, props: SingleCopyStackProps) {
    super(scope, id, props);
    this.copy = new ImageCopy(this, 'GoldenCopy', {
      sourceImageId: props.sourceImageId,
      sourceRegionId: props.sourceRegionId,
      destinationRegionId: props.destinationRegionId,
      imageName: props.imageName,
      description: `Copy of ${props.sourceImageId} from ${props.sourceRegionId}, managed by ROS`,
      tags: { example: 'single-copy' },
      timeouts: { create: 30 },
    });

    new ros.RosOutput(this, 'ImageId', { value: this.copy.attrImageId, description: 'The copied image' });
    new ros.RosOutput(this, 'RegionId', {
      value: this.copy.attrRegionId,
      description: 'Where the copy lives',
    });
    new ros.RosOutput(this, 'ImageName', { value: this.copy.attrImageName, description: "The copy's name" });
    new ros.RosOutput(this, 'SourceImageId', {
      value: this.copy.attrSourceImageId,
      description: 'The image that was copied',
    });
  }
}
