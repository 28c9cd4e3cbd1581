/**
 * `ALIYUN::ECS::LaunchTemplate` (https://www.alibabacloud.com/help/en/ros/developer-reference/aliyun-ecs-launchtemplate),
 * which creates an ECS launch template (kept, with ECS's own rules, by `../launch-templates.ts`).
 *
 * What is played, and its source:
 * - ECS CreateLaunchTemplate: at most 30 launch templates per region (`LaunchTemplateLimitExceed`, 403), a name used
 *   once per region (`LaunchTemplateName.Duplicated`, 403); a new template has version 1, its default
 *   (https://www.alibabacloud.com/help/en/ecs/developer-reference/api-ecs-2014-05-26-createlaunchtemplate, "Error
 *   codes" and "Operation description").
 * - ROS: every property is "Editable: No", so any change replaces the template; `LaunchTemplateName` is 2 to 128
 *   characters (letters, digits, `:`, `_`, `-`), starting with a letter, not with `http://` or `https://`;
 *   `Fn::GetAtt` gives `LaunchTemplateId`, `LaunchTemplateName`, `DefaultVersionNumber`, `LatestVersionNumber`.
 * - Whether the `ImageId` must exist and be Available: the ECS reference says CreateLaunchTemplate does not verify
 *   parameter values ("verified only when you use the launch template to create instances"); whether ROS's resource
 *   checks the image is undocumented. Variant `launchTemplateImage`: `available` (the strictest: a missing image fails
 *   with ECS's `InvalidImageId.NotFound`, one that is not Available with `IncorrectImageStatus`) or `unchecked`.
 */
import { ApiError } from '../../errors';
import type { LaunchTemplate } from '../launch-templates';
import {
  optionalList,
  requireString,
  ResourceError,
  type CloudServices,
  type ProvisionContext,
  type Provisioned,
  type ResourceHandler,
} from './handler';

/** The properties of `ALIYUN::ECS::LaunchTemplate` (ROS resource reference, "Syntax"). */
export const LAUNCH_TEMPLATE_PROPERTIES: readonly string[] = [
  'LaunchTemplateName',
  'VersionDescription',
  'ImageId',
  'InstanceType',
  'SecurityGroupId',
  'NetworkType',
  'VSwitchId',
  'InstanceName',
  'Description',
  'InternetMaxBandwidthIn',
  'InternetMaxBandwidthOut',
  'HostName',
  'ZoneId',
  'SystemDiskCategory',
  'SystemDiskSize',
  'SystemDiskDiskName',
  'SystemDiskDescription',
  'IoOptimized',
  'InternetChargeType',
  'UserData',
  'KeyPairName',
  'RamRoleName',
  'AutoReleaseTime',
  'SpotStrategy',
  'SpotPriceLimit',
  'SecurityEnhancementStrategy',
  'DiskMappings',
  'NetworkInterfaces',
  'Tags',
  'TemplateTags',
  'TemplateResourceGroupId',
  'SecurityGroupIds',
  'ResourceGroupId',
  'SpotDuration',
  'ImageOwnerAlias',
  'Period',
  'Ipv6AddressCount',
  'PrivateIpAddress',
  'PasswordInherit',
  'SystemDiskDeleteWithInstance',
  'DeploymentSetId',
  'InstanceChargeType',
  'SystemDiskPerformanceLevel',
];

/** At most this many `Tags` and `TemplateTags` (ROS resource reference). */
const MAX_TAGS = 20;
const NAME = /^[A-Za-z\u4e00-\u9fa5][A-Za-z0-9\u4e00-\u9fa5:_-]{1,127}$/;

/** `ALIYUN::ECS::LaunchTemplate`: no property is editable, so every change replaces the template. */
export class LaunchTemplateHandler implements ResourceHandler {
  readonly replacementProperties = '*' as const;
  constructor(private readonly cloud: CloudServices) {}

  async create(ctx: ProvisionContext, p: Record<string, unknown>): Promise<Provisioned> {
    const unknown = Object.keys(p).filter((key) => !LAUNCH_TEMPLATE_PROPERTIES.includes(key));
    if (unknown.length > 0) {
      throw new ResourceError(`Unknown properties for ${ctx.resourceType}: ${unknown.join(', ')}`);
    }
    const name = requireString(p, 'LaunchTemplateName');
    if (!NAME.test(name) || /^https?:\/\//.test(name)) {
      throw new ResourceError(
        `LaunchTemplateName "${name}" is invalid: 2 to 128 characters (letters, digits, ":", "_" or "-"), ` +
          'starting with a letter, not with http:// or https://',
      );
    }
    for (const list of ['Tags', 'TemplateTags']) {
      const tags = optionalList(p, list) ?? [];
      if (tags.length > MAX_TAGS) {
        throw new ResourceError(`${list} has ${tags.length} tags: at most ${MAX_TAGS} are allowed`);
      }
    }
    if (p.ImageId !== undefined) {
      this.checkImage(ctx.regionId, requireString(p, 'ImageId'));
    }
    try {
      const template = this.cloud.launchTemplates.create(ctx.regionId, name, { ...p });
      return describe(template);
    } catch (err) {
      if (err instanceof ApiError) {
        throw new ResourceError(`${err.code}: ${err.message}`);
      }
      throw err;
    }
  }

  async update(): Promise<Provisioned> {
    // Unreachable through the engine: `replacementProperties: '*'` makes every change a replacement.
    throw new ResourceError(
      'ALIYUN::ECS::LaunchTemplate cannot be updated in place: none of its properties is editable',
    );
  }

  async delete(ctx: ProvisionContext, current: Provisioned | undefined): Promise<void> {
    // A template deleted outside the stack is gone already: nothing left to do.
    if (current) {
      this.cloud.launchTemplates.delete(ctx.regionId, current.physicalId);
    }
  }

  /** The `launchTemplateImage` variant: the image must exist in the template's region and be Available. */
  private checkImage(regionId: string, imageId: string): void {
    if (this.cloud.variants.launchTemplateImage === 'unchecked') {
      return;
    }
    const image = this.cloud.ecs.getImage(regionId, imageId);
    if (!image) {
      throw new ResourceError(
        `InvalidImageId.NotFound: The specified ImageId "${imageId}" does not exist in ${regionId}.`,
      );
    }
    if (image.status !== 'Available') {
      throw new ResourceError(
        `IncorrectImageStatus: The image ${imageId} in ${regionId} is ${image.status}, not Available.`,
      );
    }
  }
}

function describe(template: LaunchTemplate): Provisioned {
  return {
    physicalId: template.launchTemplateId,
    attributes: {
      LaunchTemplateId: template.launchTemplateId,
      LaunchTemplateName: template.launchTemplateName,
      DefaultVersionNumber: template.defaultVersionNumber,
      LatestVersionNumber: template.latestVersionNumber,
    },
  };
}
