/**
 * The copy's id composed into another resource: an ECS launch template that starts instances from the copied
 * image. The copy goes to the stack's region (the default destination), where the launch template lives, and ROS
 * creates the template once the copy is Available because `imageId` refers to it.
 *
 * In your own app, import from 'ros-cdk-image-copy' instead of '../../lib'.
 */
import * as ros from '@alicloud/ros-cdk-core';
import * as ecs from '@alicloud/ros-cdk-ecs';
import { ImageCopy } from '../../lib';

export interface LaunchTemplateStackProps extends ros.StackProps {
  /** The image to copy into the stack's region. */
  readonly sourceImageId: string;
  /** Where it lives. */
  readonly sourceRegionId: string;
  /** Instance type of the launch template. */
  readonly instanceType: string;
}

export const LAUNCH_TEMPLATE_DEFAULTS: LaunchTemplateStackProps = {
  sourceImageId: 'm-bp1seedgoldenimage01',
  sourceRegionId: 'cn-hangzhou',
  instanceType: 'ecs.g7.large',
};

export function launchTemplatePropsFromContext(scope: ros.Construct): LaunchTemplateStackProps {
  const context = (key: keyof LaunchTemplateStackProps): string =>
    scope.node.tryGetContext(key) ?? LAUNCH_TEMPLATE_DEFAULTS[key];
  return {
    sourceImageId: context('sourceImageId'),
    sourceRegionId: context('sourceRegionId'),
    instanceType: context('instanceType'),
  };
}

export class LaunchTemplateStack extends ros.Stack {
  public readonly copy: ImageCopy;
  public readonly launchTemplate: ecs.LaunchTemplate;

  constructor(scope: ros.Construct, id: string, props: LaunchTemplateStackProps) {
    super(scope, id, props);
    this.copy = new ImageCopy(this, 'BaseImage', {
      sourceImageId: props.sourceImageId,
      sourceRegionId: props.sourceRegionId,
      imageName: 'web-base',
      tags: { example: 'launch-template' },
    });
    this.launchTemplate = new ecs.LaunchTemplate(this, 'WebServers', {
      launchTemplateName: ros.Fn.join('-', ['web', ros.RosPseudo.stackName]),
      imageId: this.copy.attrImageId,
      instanceType: props.instanceType,
      description: 'Web servers started from the copied base image',
    });

    new ros.RosOutput(this, 'ImageId', { value: this.copy.attrImageId });
    new ros.RosOutput(this, 'LaunchTemplateId', { value: this.launchTemplate.attrLaunchTemplateId });
  }
}
