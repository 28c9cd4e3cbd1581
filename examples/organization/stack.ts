/**
 * An organization's golden image in every account and region it runs in: `ImageDistribution` in the stack of the
 * account that owns the image replicates it into the target regions, shares each replica with the target accounts,
 * and runs a ROS stack group whose instances (one per account and region) make each account's own copy there.
 *
 * Add an account or a region (context `targetAccountIds`, `targetRegionIds`) and deploy again: only its stack
 * instances are created. Remove one: only its instances (and their copies) are deleted.
 *
 * In your own app, import from 'ros-cdk-image-copy' instead of '../../lib'.
 */
import * as ros from '@alicloud/ros-cdk-core';
import { ImageDistribution } from '../../lib';

export interface OrganizationStackProps extends ros.StackProps {
  /** The golden image, in the account this stack is deployed to. */
  readonly sourceImageId: string;
  /** Where it lives. */
  readonly sourceRegionId: string;
  /** The accounts that get their own copies (self-managed stack group permissions). */
  readonly targetAccountIds: string[];
  /** The regions every account gets a copy in. */
  readonly targetRegionIds: string[];
  /** The image family of every copy: instances launch "the latest of the family". */
  readonly imageFamily: string;
  /** How many accounts a region works on at once. */
  readonly maxConcurrentCount: number;
  /** How many accounts may fail per region before the stack group stops. */
  readonly failureToleranceCount: number;
}

/** LocalCloud's seeded golden image, to two regions of every target account. */
export const ORGANIZATION_DEFAULTS: Omit<OrganizationStackProps, 'targetAccountIds'> = {
  sourceImageId: 'm-bp1seedgoldenimage01',
  sourceRegionId: 'cn-hangzhou',
  targetRegionIds: ['cn-hangzhou', 'cn-shanghai'],
  imageFamily: 'golden-web',
  maxConcurrentCount: 10,
  failureToleranceCount: 0,
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

/** A number from context; the default when absent. */
function numberFromContext(scope: ros.Construct, key: string, fallback: number): number {
  const value: unknown = scope.node.tryGetContext(key);
  return value === undefined ? fallback : Number(value);
}

/**
 * Props from context: `targetAccountIds` (required: comma-separated, e.g. from `npx ros-local accounts --members --ids`),
 * `sourceImageId`, `sourceRegionId`, `targetRegionIds`, `imageFamily`, `maxConcurrentCount`,
 * `failureToleranceCount`.
 */
export function organizationPropsFromContext(scope: ros.Construct): OrganizationStackProps {
  const targetAccountIds = listFromContext(scope, 'targetAccountIds', []);
  if (targetAccountIds.length === 0) {
    throw new Error(
      'The organization example needs the target accounts: -c targetAccountIds=<id>,<id>,... ' +
        '(on LocalCloud: -c targetAccountIds=$(npx ros-local accounts --members --ids))',
    );
  }
  return {
    sourceImageId: scope.node.tryGetContext('sourceImageId') ?? ORGANIZATION_DEFAULTS.sourceImageId,
    sourceRegionId: scope.node.tryGetContext('sourceRegionId') ?? ORGANIZATION_DEFAULTS.sourceRegionId,
    targetAccountIds,
    targetRegionIds: listFromContext(scope, 'targetRegionIds', ORGANIZATION_DEFAULTS.targetRegionIds),
    imageFamily: scope.node.tryGetContext('imageFamily') ?? ORGANIZATION_DEFAULTS.imageFamily,
    maxConcurrentCount: numberFromContext(
      scope,
      'maxConcurrentCount',
      ORGANIZATION_DEFAULTS.maxConcurrentCount,
    ),
    failureToleranceCount: numberFromContext(
      scope,
      'failureToleranceCount',
      ORGANIZATION_DEFAULTS.failureToleranceCount,
    ),
  };
}

export class OrganizationStack extends ros.Stack {
  public readonly distribution: ImageDistribution;

  constructor(scope: ros.Construct, id: string, props: OrganizationStackProps) {
    super(scope, id, props);
    this.distribution = new ImageDistribution(this, 'Golden', {
      sourceImageId: props.sourceImageId,
      sourceRegionId: props.sourceRegionId,
      targetAccountIds: props.targetAccountIds,
      targetRegionIds: props.targetRegionIds,
      imageName: 'golden-web',
      imageFamily: props.imageFamily,
      tags: { example: 'organization' },
      operationPreferences: {
        maxConcurrentCount: props.maxConcurrentCount,
        failureToleranceCount: props.failureToleranceCount,
        regionConcurrencyType: 'PARALLEL',
      },
    });
    new ros.RosOutput(this, 'StackGroupName', {
      value: this.distribution.attrStackGroupName,
      description: 'The stack group whose instances hold each account’s copies',
    });
    new ros.RosOutput(this, 'ImageIds', {
      value: this.distribution.attrImageIds,
      description: 'The copy in each account and region: {"<account>": {"<region>": "m-..."}}',
    });
  }
}
