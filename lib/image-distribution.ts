/**
 * `ImageDistribution`: one source image copied into many accounts and regions at once, on a ROS stack group.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { createHash } from 'crypto';
import * as ros from '@alicloud/ros-cdk-core';
import { ImageCopy, type ImageCopyTimeouts, ImageCopyValidationError } from './image-copy';
import { computeTimeouts } from './image-copy-timeouts';
import { ImageReplication } from './image-replication';
import {
  DEFAULT_ADMINISTRATION_ROLE_NAME,
  DEFAULT_EXECUTION_ROLE_NAME,
  DISTRIBUTION_MAPPING_KEY,
  DISTRIBUTION_MAPPING_NAME,
  DistributionInstanceOutput,
  distributionImageIdKey,
  HANDLER_CODE_PLACEHOLDER,
  IMAGE_DISTRIBUTION_RESOURCE_TYPE,
  ImageDistributionData,
  ImageDistributionParameter,
  MAX_DISTRIBUTION_REGIONS,
  MAX_SHARED_ACCOUNTS_PER_IMAGE,
  MAX_USER_TAGS,
  STACK_GROUP_NAME_PATTERN,
} from './protocol';
import { ImageCopyProvider } from './provider';
import {
  formatValueForMessage,
  invalidMessage,
  isAbsent,
  requiredMessage,
  validateDescription,
  validateImageFamily,
  validateImageId,
  validateImageName,
  validateKeepPreviousVersions,
  validateRegionId,
  validateTags,
  validateTimeoutMinutes,
} from './validation';

/**
 * How ROS runs each stack group operation of an {@link ImageDistribution} (ROS `OperationPreferences`,
 * https://www.alibabacloud.com/help/en/ros/developer-reference/api-ros-2019-09-10-createstackinstances).
 */
export interface ImageDistributionOperationPreferences {
  /**
   * How many accounts ROS deploys to at once in each region, 1 to 20. Exclusive with `maxConcurrentPercentage`.
   *
   * @default - ROS's default (1)
   */
  readonly maxConcurrentCount?: number;

  /** The same as a percentage of the accounts, 1 to 100. Exclusive with `maxConcurrentCount`. @default - none */
  readonly maxConcurrentPercentage?: number;

  /**
   * How many accounts may fail in each region before ROS stops the operation, 0 to 20. The failed ones are reported
   * in `attrFailedTargets` and the deployment goes on. Exclusive with `failureTolerancePercentage`.
   *
   * @default - ROS's default (0)
   */
  readonly failureToleranceCount?: number;

  /** The same as a percentage of the accounts, 0 to 100. Exclusive with `failureToleranceCount`. @default - none */
  readonly failureTolerancePercentage?: number;

  /**
   * `SEQUENTIAL` (one region after the other) or `PARALLEL` (every region at once).
   *
   * @default - ROS's default (SEQUENTIAL)
   */
  readonly regionConcurrencyType?: string;
}

/** Properties of an {@link ImageDistribution}. */
export interface ImageDistributionProps {
  /** The ECS custom image to distribute (`m-...`), owned by this stack's account, in `sourceRegionId`. */
  readonly sourceImageId: string;

  /** The region the source image lives in, e.g. `cn-hangzhou`. */
  readonly sourceRegionId: string;

  /**
   * The accounts that get copies (16-digit Alibaba Cloud account ids), at most 50 (ECS shares an image with at most
   * 50 accounts). Self-managed permissions: each account needs the execution role (`executionRoleName`) trusting
   * this account, and this account the administration role. Exactly one of `targetAccountIds` and
   * `targetFolderIds`. Adding or removing an account creates or deletes only its copies.
   *
   * @default - none: `targetFolderIds` is required then
   */
  readonly targetAccountIds?: string[];

  /**
   * Resource Directory folders (`fd-...`) whose member accounts get copies (service-managed permissions: this
   * account is the management account or a delegated administrator of ROS). Exactly one of `targetAccountIds` and
   * `targetFolderIds`.
   *
   * @default - none: `targetAccountIds` is required then
   */
  readonly targetFolderIds?: string[];

  /**
   * The regions every target account gets a copy in, at most 20, known at synth time (this stack replicates the
   * source into each of them to share it: a shared image can only be copied within its region).
   */
  readonly targetRegionIds: string[];

  /**
   * Per-account regions, `{ accountId: [regionId, ...] }`, replacing `targetRegionIds` for the accounts named (each a
   * target account; `targetAccountIds` only).
   *
   * @default - every account gets `targetRegionIds`
   */
  readonly regionsByAccount?: { [accountId: string]: string[] };

  /** Name of every copy (see {@link ImageCopyProps.imageName}); known at synth time. @default - the name ECS gives */
  readonly imageName?: string;

  /** Description of every copy; known at synth time. @default - no description */
  readonly description?: string;

  /** Tags of every copy, at most 19; known at synth time. @default - no tags */
  readonly tags?: { [key: string]: string };

  /** Image family of every copy; known at synth time. @default - no family */
  readonly imageFamily?: string;

  /**
   * Whether the target accounts' copies are encrypted.
   *
   * @default false
   */
  readonly encrypted?: boolean;

  /**
   * KMS keys by target region, `{ regionId: keyId }`, requires `encrypted: true`, and then names a key for every
   * target region. Each key id must be valid in every target account (a key of this account shared with them, or
   * an alias every account has): ROS uses the same instance template everywhere.
   *
   * @default - the service key of ECS in each account and region when `encrypted` is true
   */
  readonly kmsKeyIds?: { [regionId: string]: string };

  /**
   * How many previous copies each account and region keeps when a new source replaces them (see
   * {@link ImageCopyProps.keepPreviousVersions}).
   *
   * @default 0
   */
  readonly keepPreviousVersions?: number;

  /** How ROS runs each operation on the stack group. @default - ROS's defaults */
  readonly operationPreferences?: ImageDistributionOperationPreferences;

  /**
   * The stack group's name: up to 255 letters, digits, `-` and `_`, starting with a letter or a digit, unique in
   * the account and region.
   *
   * @default - `<stack name>-<construct id>`, made to fit that rule
   */
  readonly stackGroupName?: string;

  /**
   * Self-managed permissions: the RAM role in this account that ROS uses to reach the target accounts.
   *
   * @default AliyunROSStackGroupAdministrationRole
   */
  readonly administrationRoleName?: string;

  /**
   * Self-managed permissions: the RAM role in each target account that the administration role assumes.
   *
   * @default AliyunROSStackGroupExecutionRole
   */
  readonly executionRoleName?: string;

  /**
   * Bounds in minutes: `create` on the whole create or update (every stack group operation of it) and on each copy,
   * `delete` on the whole delete and on each copy's removal.
   *
   * @default - 60 minutes each for the distribution, 10 for each copy
   */
  readonly timeouts?: ImageCopyTimeouts;
}

/** The interface of an {@link ImageDistribution}. */
export interface IImageDistribution extends ros.IConstruct {
  /** The stack group's name. */
  readonly attrStackGroupName: string;
  /** `{ accountId: { regionId: imageId } }` as JSON text. */
  readonly attrImageIds: string;
}

/** Default bounds of the distribution's own custom resource, minutes. */
const DEFAULT_DISTRIBUTION_TIMEOUT_MINUTES = 60;

/** A 16-digit Alibaba Cloud account id. */
const ACCOUNT_ID = /^[0-9]{16}$/;

/** A Resource Directory folder id. */
const FOLDER_ID = /^fd-[A-Za-z0-9]+$/;

/** A RAM role name: 1 to 64 letters, digits, `.` and `-` (RAM CreateRole). */
const ROLE_NAME = /^[A-Za-z0-9.-]{1,64}$/;

const REGION_CONCURRENCY_TYPES = ['SEQUENTIAL', 'PARALLEL'];

/**
 * Distributes one ECS custom image to many accounts and regions with a ROS stack group: this stack replicates the
 * source into every target region (an {@link ImageReplication}; a shared image can only be copied within its
 * region) and shares each replica with the target accounts; the stack group's instances, one per account and
 * region, each hold one {@link ImageCopy} that copies the shared replica of its region into the account. Adding or
 * removing an account or a region creates or deletes only those instances.
 *
 * Synthesizes a `Custom::ImageDistribution` served by the stack's {@link ImageCopyProvider}, which calls the stack
 * group API (CreateStackGroup, CreateStackInstances, DeleteStackInstances, ...) one operation at a time.
 *
 * ```ts
 * const golden = new ImageDistribution(stack, 'Golden', {
 *   sourceImageId: 'm-bp1...', sourceRegionId: 'cn-hangzhou',
 *   targetAccountIds: ['1234567890123456'], targetRegionIds: ['cn-hangzhou', 'cn-beijing'],
 * });
 * golden.imageIdFor('1234567890123456', 'cn-beijing');
 * ```
 */
export class ImageDistribution extends ros.Resource implements IImageDistribution {
  /** The replicas of the source in this account, one per target region, shared with the target accounts. */
  public readonly replication: ImageReplication;

  /** The custom resource that manages the stack group. */
  public readonly customResource: ros.RosResource;

  /** The stack group's name (known at synth time). */
  public readonly stackGroupName: string;

  /** Every target region (the union of `targetRegionIds` and `regionsByAccount`), in the order first named. */
  public readonly regionIds: string[];

  /** The instance template, as the stack group gets it but for the placeholders the handler fills. */
  public readonly instanceTemplate: Record<string, unknown>;

  /** The stack group's name as the handler answers it. */
  public get attrStackGroupName(): string {
    return ros.Token.asString(this.customResource.getAtt(ImageDistributionData.StackGroupName));
  }

  /** `{ accountId: { regionId: imageId } }` (JSON text), as many pairs as fit ROS's 4096-byte response. */
  public get attrImageIds(): string {
    return ros.Token.asString(this.customResource.getAtt(ImageDistributionData.ImageIds));
  }

  /** How many pairs `attrImageIds` leaves out to fit the response. */
  public get attrImageIdsLeftOut(): string {
    return ros.Token.asString(this.customResource.getAtt(ImageDistributionData.ImageIdsLeftOut));
  }

  /** The pairs that failed within the failure tolerance, with ROS's reason (JSON text). */
  public get attrFailedTargets(): string {
    return ros.Token.asString(this.customResource.getAtt(ImageDistributionData.FailedTargets));
  }

  /**
   * @param scope scope in which this resource is defined
   * @param id scoped id; also the custom resource's logical id
   * @param props the source, the targets and what every copy gets
   */
  constructor(scope: ros.Construct, id: string, props: ImageDistributionProps) {
    const subject = `ImageDistribution ${scope.node.path ? `${scope.node.path}/${id}` : id}`;
    const regionIds = validateDistributionProps(subject, props);
    super(scope, id);
    this.regionIds = regionIds;
    this.stackGroupName = props.stackGroupName ?? defaultStackGroupName(this.stack.stackName, id);

    this.replication = new ImageReplication(this, 'Replicas', {
      sourceImageId: props.sourceImageId,
      sourceRegionId: props.sourceRegionId,
      destinationRegionIds: regionIds,
      // Named after the group: a copy in the source region would otherwise take the source's own name, which ECS
      // refuses (InvalidImageName.Duplicated).
      imageName: replicaName(this.stackGroupName),
      timeouts: props.timeouts,
    });
    this.instanceTemplate = synthesizeInstanceTemplate(props);

    const provider = ImageCopyProvider.getOrCreate(this);
    provider.enableStackGroups();
    const timeouts = computeTimeouts(
      props.timeouts?.create ?? DEFAULT_DISTRIBUTION_TIMEOUT_MINUTES,
      props.timeouts?.delete ?? DEFAULT_DISTRIBUTION_TIMEOUT_MINUTES,
    );
    const replicaImageIds: Record<string, string> = {};
    for (const regionId of regionIds) {
      replicaImageIds[regionId] = this.replication.imageIdIn(regionId);
    }
    const selfManaged = props.targetAccountIds !== undefined;
    this.customResource = new ros.RosResource(this, id, {
      type: IMAGE_DISTRIBUTION_RESOURCE_TYPE,
      properties: {
        ServiceToken: provider.serviceToken,
        Timeout: timeouts.timeoutSeconds,
        Parameters: withoutAbsent({
          [ImageDistributionParameter.StackGroupName]: this.stackGroupName,
          [ImageDistributionParameter.TemplateBody]: JSON.stringify(this.instanceTemplate),
          [ImageDistributionParameter.ReplicaImageIds]: replicaImageIds,
          [ImageDistributionParameter.TargetAccountIds]: props.targetAccountIds,
          [ImageDistributionParameter.TargetFolderIds]: props.targetFolderIds,
          [ImageDistributionParameter.TargetRegionIds]: props.targetRegionIds,
          [ImageDistributionParameter.RegionsByAccount]: props.regionsByAccount,
          [ImageDistributionParameter.OperationPreferences]: operationPreferencesOf(
            props.operationPreferences,
          ),
          [ImageDistributionParameter.AdministrationRoleName]: selfManaged
            ? (props.administrationRoleName ?? DEFAULT_ADMINISTRATION_ROLE_NAME)
            : undefined,
          [ImageDistributionParameter.ExecutionRoleName]: selfManaged
            ? (props.executionRoleName ?? DEFAULT_EXECUTION_ROLE_NAME)
            : undefined,
          [ImageDistributionParameter.CreateTimeoutSeconds]: timeouts.createTimeoutSeconds,
          [ImageDistributionParameter.DeleteTimeoutSeconds]: timeouts.deleteTimeoutSeconds,
        }),
      },
    });
    this.resource = this.customResource;
  }

  /**
   * The id of the copy in one account and region (a token, `Fn::GetAtt` of the pair's `Data` key). The handler
   * answers one key per pair while they fit ROS's 4096-byte response (some 30 pairs); beyond that read
   * {@link attrImageIds} or `ros-deploy outputs`.
   *
   * @param accountId a target account
   * @param regionId one of its regions
   */
  public imageIdFor(accountId: string, regionId: string): string {
    if (!this.regionIds.includes(regionId)) {
      throw new Error(
        `ImageDistribution ${this.node.path} has no copies in ${JSON.stringify(regionId)}; its regions are ` +
          `${this.regionIds.map((r) => JSON.stringify(r)).join(', ')}.`,
      );
    }
    return ros.Token.asString(this.customResource.getAtt(distributionImageIdKey(accountId, regionId)));
  }
}

/** The ROS spelling of the preferences, or undefined when none is set. */
function operationPreferencesOf(
  preferences: ImageDistributionOperationPreferences | undefined,
): Record<string, unknown> | undefined {
  if (preferences === undefined) {
    return undefined;
  }
  const spelled = withoutAbsent({
    MaxConcurrentCount: preferences.maxConcurrentCount,
    MaxConcurrentPercentage: preferences.maxConcurrentPercentage,
    FailureToleranceCount: preferences.failureToleranceCount,
    FailureTolerancePercentage: preferences.failureTolerancePercentage,
    RegionConcurrencyType: preferences.regionConcurrencyType,
  });
  return Object.keys(spelled).length > 0 ? spelled : undefined;
}

/** The replicas' name: `replica-<group>`, within ECS's 128 characters. */
export function replicaName(stackGroupName: string): string {
  return ros.Token.isUnresolved(stackGroupName) ? stackGroupName : `replica-${stackGroupName}`.slice(0, 128);
}

/** `<stack>-<id>`, its characters those ROS allows in a group name, shortened with a digest past 255. */
export function defaultStackGroupName(stackName: string, id: string): string {
  let name = `${stackName}-${id}`.replace(/[^A-Za-z0-9_-]/g, '-').replace(/^[^A-Za-z0-9]+/, '');
  if (name === '') {
    name = 'ImageDistribution';
  }
  if (name.length > 255) {
    const digest = createHash('sha256').update(name, 'utf8').digest('hex').slice(0, 16);
    name = `${name.slice(0, 255 - 17)}-${digest}`;
  }
  return name;
}

/**
 * The instance template: a private app whose one stack holds one {@link ImageCopy} of the shared replica of the
 * instance's own region (`Fn::FindInMap` over {@link DISTRIBUTION_MAPPING_NAME}, filled by the handler) into that
 * region, with its provider; the provider's code is the placeholder the handler fills with its own.
 */
function synthesizeInstanceTemplate(props: ImageDistributionProps): Record<string, unknown> {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'image-distribution-'));
  try {
    const app = new ros.App({ outdir });
    const stack = new ros.Stack(app, 'ImageDistributionInstance');
    const region = ros.RosPseudo.region;
    const kmsKeyIds = props.encrypted ? props.kmsKeyIds : undefined;
    if (kmsKeyIds !== undefined) {
      new ros.RosMapping(stack, 'KmsKeyIds', {
        mapping: Object.fromEntries(Object.entries(kmsKeyIds).map(([r, key]) => [r, { KeyId: key }])),
      });
    }
    const copy = new ImageCopy(stack, 'Copy', {
      sourceImageId: ros.Token.asString(
        ros.Fn.findInMap(DISTRIBUTION_MAPPING_NAME, region, DISTRIBUTION_MAPPING_KEY),
      ),
      sourceRegionId: region,
      imageName: props.imageName,
      description: props.description,
      tags: props.tags,
      imageFamily: props.imageFamily,
      encrypted: props.encrypted,
      kmsKeyId:
        kmsKeyIds !== undefined
          ? ros.Token.asString(ros.Fn.findInMap('KmsKeyIds', region, 'KeyId'))
          : undefined,
      keepPreviousVersions: props.keepPreviousVersions,
      timeouts: props.timeouts,
    });
    new ros.RosOutput(stack, DistributionInstanceOutput.ImageId, { value: copy.attrImageId });
    new ros.RosOutput(stack, DistributionInstanceOutput.ImageName, { value: copy.attrImageName });
    new ros.RosOutput(stack, DistributionInstanceOutput.RegionId, { value: copy.attrRegionId });
    const assembly = app.synth();
    const template = JSON.parse(JSON.stringify(assembly.getStackByName(stack.stackName).template)) as Record<
      string,
      unknown
    >;
    template.Mappings = { ...(template.Mappings as object | undefined), [DISTRIBUTION_MAPPING_NAME]: {} };
    const resources = template.Resources as Record<string, { Properties?: Record<string, unknown> }>;
    const fn = resources[ImageCopyProvider.FUNCTION_LOGICAL_ID];
    (fn.Properties!.Code as Record<string, unknown>).ZipFile = HANDLER_CODE_PLACEHOLDER;
    delete template.Metadata;
    return template;
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}

/** The parameters without absent values. */
function withoutAbsent(values: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => !isAbsent(value)));
}

/** A list known at synth time, or undefined for a token or an absent value. */
function concreteList(value: unknown): unknown[] | undefined {
  return Array.isArray(value) && !ros.Token.isUnresolved(value) ? value : undefined;
}

/** Checks a list of ids: a list, its elements matching `pattern` (tokens skipped), none twice. */
function validateIdList(
  messages: string[],
  property: string,
  value: unknown,
  pattern: RegExp,
  rule: string,
  max: { readonly count: number; readonly why: string },
): string[] {
  if (ros.Token.isUnresolved(value)) {
    return [];
  }
  if (!Array.isArray(value)) {
    messages.push(invalidMessage(property, value, `must be a list (${rule})`));
    return [];
  }
  if (value.length === 0) {
    messages.push(invalidMessage(property, value, 'must name at least one'));
  }
  if (value.length > max.count) {
    messages.push(`${property} (${value.length}) is invalid: at most ${max.count} (${max.why})`);
  }
  const seen = new Set<string>();
  value.forEach((element: unknown, index) => {
    if (ros.Token.isUnresolved(element)) {
      return;
    }
    const where = `${property}[${index}]`;
    if (typeof element !== 'string' || !pattern.test(element)) {
      messages.push(invalidMessage(where, element, rule));
      return;
    }
    if (seen.has(element)) {
      messages.push(invalidMessage(where, element, 'is named twice'));
    }
    seen.add(element);
  });
  return [...seen];
}

/** Checks a value that becomes part of the instance template: it must be known at synth time. */
function requireConcrete(messages: string[], property: string, value: unknown): boolean {
  if (value !== undefined && ros.Token.isUnresolved(value)) {
    messages.push(
      `${property} is invalid: must be known at synth time (it is part of the stack group's template, which ` +
        'every account runs)',
    );
    return false;
  }
  return true;
}

/** Checks a number of the operation preferences. */
function validatePreference(
  messages: string[],
  property: string,
  value: unknown,
  min: number,
  max: number,
): void {
  if (value === undefined || ros.Token.isUnresolved(value)) {
    return;
  }
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    messages.push(invalidMessage(property, value, `must be a whole number from ${min} to ${max}`));
  }
}

/**
 * Every rule of the props (tokens are left to the handler); throws {@link ImageCopyValidationError} listing each
 * broken one. Returns the target regions.
 */
function validateDistributionProps(subject: string, props: ImageDistributionProps): string[] {
  const messages: string[] = [];
  if (isAbsent(props.sourceImageId)) {
    messages.push(requiredMessage('sourceImageId'));
  } else if (!ros.Token.isUnresolved(props.sourceImageId)) {
    messages.push(...validateImageId(props.sourceImageId, 'sourceImageId'));
  }
  if (isAbsent(props.sourceRegionId)) {
    messages.push(requiredMessage('sourceRegionId'));
  } else if (!ros.Token.isUnresolved(props.sourceRegionId)) {
    messages.push(...validateRegionId(props.sourceRegionId, 'sourceRegionId'));
  }

  // Targets: exactly one kind.
  const accountsGiven = !isAbsent(props.targetAccountIds);
  const foldersGiven = !isAbsent(props.targetFolderIds);
  let accounts: string[] = [];
  if (accountsGiven === foldersGiven) {
    messages.push(
      accountsGiven
        ? 'targetAccountIds and targetFolderIds are exclusive: give the accounts (self-managed permissions) or ' +
            'the Resource Directory folders (service-managed), not both'
        : 'targetAccountIds or targetFolderIds is required: the accounts, or the Resource Directory folders ' +
            'whose member accounts, get the copies',
    );
  }
  if (accountsGiven) {
    accounts = validateIdList(
      messages,
      'targetAccountIds',
      props.targetAccountIds,
      ACCOUNT_ID,
      'each an Alibaba Cloud account id of 16 digits',
      { count: MAX_SHARED_ACCOUNTS_PER_IMAGE, why: 'ECS shares an image with at most 50 accounts' },
    );
  }
  if (foldersGiven) {
    validateIdList(
      messages,
      'targetFolderIds',
      props.targetFolderIds,
      FOLDER_ID,
      'each a Resource Directory folder id like "fd-abc123"',
      { count: 20, why: 'ROS takes at most 20 folders in DeploymentTargets' },
    );
    for (const property of ['administrationRoleName', 'executionRoleName', 'regionsByAccount'] as const) {
      if (!isAbsent(props[property])) {
        messages.push(
          `${property} ${formatValueForMessage(props[property])} is invalid: only with targetAccountIds ` +
            '(self-managed permissions); folders use service-managed permissions',
        );
      }
    }
  }

  // Regions: known at synth time (they name the replicas), at most 20 in all.
  const regions: string[] = [];
  const addRegions = (property: string, value: unknown): void => {
    if (isAbsent(value)) {
      messages.push(requiredMessage(property));
      return;
    }
    if (ros.Token.isUnresolved(value) || !Array.isArray(value)) {
      messages.push(invalidMessage(property, value, 'must be a list of region ids known at synth time'));
      return;
    }
    if (value.length === 0) {
      messages.push(invalidMessage(property, value, 'must name at least one region'));
    }
    const seen = new Set<string>();
    value.forEach((region: unknown, index) => {
      const where = `${property}[${index}]`;
      if (ros.Token.isUnresolved(region)) {
        messages.push(`${where} is invalid: must be a region id known at synth time (it names a replica)`);
        return;
      }
      const problems = validateRegionId(region, where);
      messages.push(...problems);
      if (problems.length === 0) {
        if (seen.has(region as string)) {
          messages.push(invalidMessage(where, region, 'repeats a region'));
        }
        seen.add(region as string);
        if (!regions.includes(region as string)) {
          regions.push(region as string);
        }
      }
    });
  };
  addRegions('targetRegionIds', props.targetRegionIds);
  const byAccount: unknown = props.regionsByAccount;
  if (!isAbsent(byAccount) && accountsGiven) {
    if (typeof byAccount !== 'object' || Array.isArray(byAccount) || ros.Token.isUnresolved(byAccount)) {
      messages.push(
        invalidMessage(
          'regionsByAccount',
          byAccount,
          'must be a map { accountId: [regionId, ...] } known at synth',
        ),
      );
    } else {
      const accountList = concreteList(props.targetAccountIds);
      for (const [account, accountRegions] of Object.entries(byAccount as Record<string, unknown>)) {
        if (accountList !== undefined && !accountList.includes(account)) {
          messages.push(
            invalidMessage('regionsByAccount key', account, 'must be one of the targetAccountIds'),
          );
        }
        addRegions(`regionsByAccount[${JSON.stringify(account)}]`, accountRegions);
      }
    }
  }
  if (regions.length > MAX_DISTRIBUTION_REGIONS) {
    messages.push(
      `targetRegionIds and regionsByAccount (${regions.length} regions) are invalid: at most ` +
        `${MAX_DISTRIBUTION_REGIONS} regions (ROS deploys a stack group to at most ${MAX_DISTRIBUTION_REGIONS} regions ` +
        'per operation)',
    );
  }

  // What each copy gets: part of the instance template, so known at synth time.
  if (requireConcrete(messages, 'imageName', props.imageName) && !isAbsent(props.imageName)) {
    messages.push(...validateImageName(props.imageName, 'imageName'));
  }
  if (requireConcrete(messages, 'description', props.description) && !isAbsent(props.description)) {
    messages.push(...validateDescription(props.description, 'description'));
  }
  if (requireConcrete(messages, 'tags', props.tags) && !isAbsent(props.tags)) {
    messages.push(...validateTags(props.tags, 'tags'));
    if (typeof props.tags === 'object' && Object.keys(props.tags).length > MAX_USER_TAGS) {
      messages.push(
        `tags (${Object.keys(props.tags).length} tags) is invalid: at most ${MAX_USER_TAGS} tags`,
      );
    }
  }
  if (requireConcrete(messages, 'imageFamily', props.imageFamily) && !isAbsent(props.imageFamily)) {
    messages.push(...validateImageFamily(props.imageFamily, 'imageFamily'));
  }
  if (requireConcrete(messages, 'encrypted', props.encrypted) && !isAbsent(props.encrypted)) {
    if (typeof props.encrypted !== 'boolean') {
      messages.push(invalidMessage('encrypted', props.encrypted, 'must be true or false'));
    }
  }
  if (requireConcrete(messages, 'kmsKeyIds', props.kmsKeyIds) && !isAbsent(props.kmsKeyIds)) {
    if (props.encrypted !== true) {
      messages.push(`kmsKeyIds ${formatValueForMessage(props.kmsKeyIds)} requires encrypted: true`);
    } else {
      for (const [region, key] of Object.entries(props.kmsKeyIds)) {
        if (!regions.includes(region)) {
          messages.push(invalidMessage('kmsKeyIds key', region, 'must be one of the target regions'));
        }
        if (typeof key !== 'string' || key.trim() === '' || ros.Token.isUnresolved(key)) {
          messages.push(
            invalidMessage(`kmsKeyIds[${JSON.stringify(region)}]`, key, 'must be a key id known at synth'),
          );
        }
      }
      for (const region of regions) {
        if (!(region in props.kmsKeyIds)) {
          messages.push(
            `kmsKeyIds is invalid: names no key for the target region ${JSON.stringify(region)}; name a key for ` +
              'every target region, or none for the service key of ECS everywhere',
          );
        }
      }
    }
  }
  if (requireConcrete(messages, 'keepPreviousVersions', props.keepPreviousVersions)) {
    messages.push(...validateKeepPreviousVersions(props.keepPreviousVersions, 'keepPreviousVersions'));
  }

  // Operation preferences: ranges and exclusive pairs (CreateStackInstances).
  const preferences = props.operationPreferences;
  if (preferences !== undefined) {
    const p = 'operationPreferences';
    validatePreference(messages, `${p}.maxConcurrentCount`, preferences.maxConcurrentCount, 1, 20);
    validatePreference(messages, `${p}.maxConcurrentPercentage`, preferences.maxConcurrentPercentage, 1, 100);
    validatePreference(messages, `${p}.failureToleranceCount`, preferences.failureToleranceCount, 0, 20);
    validatePreference(
      messages,
      `${p}.failureTolerancePercentage`,
      preferences.failureTolerancePercentage,
      0,
      100,
    );
    if (preferences.maxConcurrentCount !== undefined && preferences.maxConcurrentPercentage !== undefined) {
      messages.push(`${p}.maxConcurrentCount and ${p}.maxConcurrentPercentage are exclusive: give one`);
    }
    if (
      preferences.failureToleranceCount !== undefined &&
      preferences.failureTolerancePercentage !== undefined
    ) {
      messages.push(`${p}.failureToleranceCount and ${p}.failureTolerancePercentage are exclusive: give one`);
    }
    const type = preferences.regionConcurrencyType;
    if (type !== undefined && !ros.Token.isUnresolved(type) && !REGION_CONCURRENCY_TYPES.includes(type)) {
      messages.push(invalidMessage(`${p}.regionConcurrencyType`, type, 'must be SEQUENTIAL or PARALLEL'));
    }
  }

  // Names.
  const groupName = props.stackGroupName;
  if (groupName !== undefined && !ros.Token.isUnresolved(groupName)) {
    if (typeof groupName !== 'string' || !STACK_GROUP_NAME_PATTERN.test(groupName)) {
      messages.push(
        invalidMessage(
          'stackGroupName',
          groupName,
          'must be 1 to 255 letters, digits, "-" and "_", starting with a letter or a digit (ROS CreateStackGroup)',
        ),
      );
    }
  } else if (groupName !== undefined) {
    messages.push('stackGroupName is invalid: must be known at synth time');
  }
  for (const property of ['administrationRoleName', 'executionRoleName'] as const) {
    const value = props[property];
    if (value !== undefined && !ros.Token.isUnresolved(value) && !ROLE_NAME.test(value)) {
      messages.push(
        invalidMessage(property, value, 'must be a RAM role name: 1 to 64 letters, digits, "." and "-"'),
      );
    }
  }
  messages.push(...validateTimeoutMinutes(props.timeouts?.create, 'timeouts.create'));
  messages.push(...validateTimeoutMinutes(props.timeouts?.delete, 'timeouts.delete'));
  if (accounts.length > 0 && messages.length === 0 && regions.length === 0) {
    messages.push(requiredMessage('targetRegionIds'));
  }
  if (messages.length > 0) {
    throw new ImageCopyValidationError(subject, messages);
  }
  return regions;
}
