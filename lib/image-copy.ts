/**
 * `ImageCopy`: an ECS custom image copied into a region and managed for its whole life, as an
 * `ALIYUN::ROS::CustomResource` served by the stack's {@link ImageCopyProvider}.
 */
import * as ros from '@alicloud/ros-cdk-core';
import { computeTimeouts } from './image-copy-timeouts';
import {
  DEFAULT_CREATE_TIMEOUT_MINUTES,
  DEFAULT_DELETE_TIMEOUT_MINUTES,
  ImageCopyData,
  ImageCopyParameter,
  MAX_TIMEOUT_MINUTES,
} from './protocol';
import { ImageCopyProvider } from './provider';
import { watchTemplateSize } from './template-size';
import {
  IMAGE_COPY_PROPERTY_NAMES,
  type ImageCopyInput,
  requiredMessage,
  serviceKeyShareMessage,
  validateImageCopyProperties,
  validateImageId,
} from './validation';

/**
 * How long ImageCopy may take to create and to delete the copy, in minutes, as Terraform's `timeouts` block.
 *
 * The handler enforces both bounds itself and answers ROS with a reason when one passes. The custom resource's
 * `Timeout` is create + delete + 5 minutes (at most 12 hours), because an update that replaces the copy does
 * both in one request (copy anew, then delete the old copy); ROS therefore never gives up before the handler
 * has answered.
 */
export interface ImageCopyTimeouts {
  /**
   * Bound on copying the image until it is Available (also on the new copy of a replacing update). When it
   * passes, the copy is cancelled and the deployment fails with a reason that says so. More than 0, at most
   * 720 (12 hours, the longest a ROS custom resource may run). Must be known at synth time.
   *
   * @default 10
   */
  readonly create?: number;

  /**
   * Bound on deleting the copy (cancelling it when still in progress) until it is gone. More than 0, at most
   * 720. Must be known at synth time.
   *
   * @default 10
   */
  readonly delete?: number;
}

/**
 * Properties of an {@link ImageCopy}.
 *
 * "Replacement" below means a change copies the image anew (and then deletes the old copy), giving a new image
 * id; "in place" means the same image is modified.
 */
export interface ImageCopyProps {
  /**
   * The ECS custom image to copy (`m-...`), in `sourceRegionId`. Changing it replaces the copy.
   */
  readonly sourceImageId: string;

  /**
   * The region the source image lives in, e.g. `cn-hangzhou`. Changing it replaces the copy.
   */
  readonly sourceRegionId: string;

  /**
   * The region to copy the image into. Changing it replaces the copy.
   *
   * @default - the stack's region (`ALIYUN::Region`, or the stack's `env.region` when set)
   */
  readonly destinationRegionId?: string;

  /**
   * Name of the copy: 2-128 characters, starting with a letter or a Chinese character; letters, digits, Chinese
   * characters, `.`, `:`, `_` and `-`; not starting with `aliyun` or `acs:`; no `http://` or `https://`.
   * Changed in place.
   *
   * @default - the name ECS gives the copy
   */
  readonly imageName?: string;

  /**
   * Description of the copy: 2-256 characters, not starting with `http://` or `https://`. Changed in place (ECS
   * cannot clear a description once set).
   *
   * @default - no description
   */
  readonly description?: string;

  /**
   * Whether the copy is encrypted. Changing it replaces the copy.
   *
   * @default false
   */
  readonly encrypted?: boolean | ros.IResolvable;

  /**
   * The KMS key that encrypts the copy; requires `encrypted: true`. Changing it replaces the copy.
   *
   * @default - the service key of ECS when `encrypted` is true
   */
  readonly kmsKeyId?: string;

  /**
   * Tags of the copy, `{ key: value }`: at most 19 (ECS allows 20 and one key, `ros-cdk-image-copy:owner`, is
   * reserved). Keys 1-128 characters, values 0-128; neither may start with `acs:` (keys not with `aliyun`) or
   * contain `http://`/`https://`. Changed in place.
   *
   * @default - no tags
   */
  readonly tags?: { [key: string]: string };

  /**
   * Resource group of the copy (`rg-...`). Changed in place.
   *
   * @default - the account's default resource group
   */
  readonly resourceGroupId?: string;

  /**
   * Delete the copy even when instances were created from it (`DeleteImage` `Force`). Read when the copy is
   * deleted, so a change takes effect without touching the image.
   *
   * @default false
   */
  readonly force?: boolean | ros.IResolvable;

  /**
   * An image that already exists in the destination region to adopt as this copy instead of copying (what
   * `terraform import` does for `alicloud_image_copy`). From then on the image is managed like any copy,
   * including deletion with the stack. Read on create only: changing it later does nothing.
   *
   * @default - the image is copied
   */
  readonly existingImageId?: string;

  /**
   * Bounds on create and delete, in minutes.
   *
   * @default - 10 minutes each
   */
  readonly timeouts?: ImageCopyTimeouts;

  /**
   * Alibaba Cloud account ids (digits) to share the copy with (`ModifyImageSharePermission`), at most 50 (ECS's limit
   * per image; the handler shares 10 per call). Changed in place: added accounts are shared, removed ones unshared.
   * Every account is unshared before the copy is deleted or kept as a previous version. An encrypted copy can only be
   * shared when a customer KMS key encrypts it (`kmsKeyId`): ECS cannot share an image encrypted with its service key.
   *
   * @default - the copy is not shared (and no sharing call is made)
   */
  readonly sharedWithAccounts?: string[];

  /**
   * Image family of the copy (`ModifyImageAttribute` `ImageFamily`), so instances can launch "the latest Available
   * image of the family" (`DescribeImageFromFamily`): 2-128 characters, starting with a letter or a Chinese character;
   * letters, digits, Chinese characters, `.`, `:`, `_` and `-`; not starting with `aliyun` or `acs:`; no `http://` or
   * `https://`. Changed in place (ECS cannot clear a family once set).
   *
   * @default - no family
   */
  readonly imageFamily?: string;

  /**
   * Put the source image's tags on the copy, the user's `tags` winning, as many as fit within ECS's 20 tags per image
   * counting the tags ros-cdk-image-copy reserves (system keys `aliyun…`/`acs:…` and reserved keys are not copied).
   * Changed in place.
   *
   * @default false
   */
  readonly copySourceTags?: boolean | ros.IResolvable;

  /**
   * How many previous copies to keep when a change replaces the copy (a new `sourceImageId`: the golden-image
   * release), 0 to 10. A kept copy is unshared, renamed `<name>-previous-<imageId>` (freeing its name for the new
   * copy) and deprecated (`Status=Deprecated`: it still launches instances, for rollback, but is no longer the latest
   * of its family); beyond the count the oldest are deleted, and all of them with the resource. A copy that moves to
   * another region is not kept. Changed in place: a lowered count deletes the oldest kept copies beyond it.
   *
   * @default 0
   */
  readonly keepPreviousVersions?: number;
}

/**
 * An ECS image, copied by an {@link ImageCopy} of this stack or referenced by id with
 * {@link ImageCopy.fromImageId}. `ref` is the image id too.
 */
export interface IImageCopy extends ros.IResource {
  /** The image's id (`m-...`). */
  readonly attrImageId: string;

  /** The region the image lives in. */
  readonly attrRegionId: string;
}

/**
 * Copies an ECS custom image from `sourceRegionId` into a region (the stack's by default) and manages the copy
 * for its whole life: waits until it is Available; renames, re-describes, re-tags and moves it between resource
 * groups in place; replaces it when the source, the destination or the encryption changes; deletes it with the
 * stack (cancelling a copy still in progress).
 *
 * Synthesizes an `ALIYUN::ROS::CustomResource` whose `ServiceToken` is the stack's {@link ImageCopyProvider}
 * function. `ref` and `attrImageId` are the copied image's id (the custom resource's `Data.ImageId`; its physical id
 * is `image-copy-<hash>`, the same for the life of the resource).
 *
 * ```ts
 * const golden = new ImageCopy(stack, 'Golden', { sourceImageId: 'm-bp1...', sourceRegionId: 'cn-hangzhou' });
 * new ecs.LaunchTemplate(stack, 'Template', { imageId: golden.attrImageId, ... });
 * ```
 */
export class ImageCopy extends ros.Resource implements IImageCopy {
  /**
   * A reference to an image that this stack does not manage, e.g. to pass where an {@link IImageCopy} is
   * expected. Nothing is added to the template. ECS image ids are regional, so the image is taken to be in the
   * stack's region: `attrImageId` and `ref` are `imageId`, `attrRegionId` is the stack's region.
   *
   * @param scope the scope of the reference
   * @param id the reference's construct id
   * @param imageId the image's id (`m-...`); checked unless it is a token
   */
  public static fromImageId(scope: ros.Construct, id: string, imageId: string): IImageCopy {
    if (!ros.Token.isUnresolved(imageId)) {
      const messages = validateImageId(imageId, 'imageId');
      if (messages.length > 0) {
        throw new ImageCopyValidationError(`ImageCopy.fromImageId(${id})`, messages);
      }
    }
    return new ImportedImageCopy(scope, id, imageId);
  }

  /** The properties this copy was created with. */
  public readonly props: ImageCopyProps;

  /** The custom resource that manages the copy. */
  public readonly customResource: ros.RosResource;

  /** The provider serving this copy (shared by every ImageCopy of the stack). */
  public readonly provider: ImageCopyProvider;

  /**
   * The destination region: `destinationRegionId`, or the stack's region by default. A default that is a token
   * (`ALIYUN::Region`) is not written to the template: the handler takes the region ROS names in each request.
   */
  public readonly destinationRegionId: string;

  /**
   * The copied image's id (`m-...`): the `ImageId` of the custom resource's `Data` (`Fn::GetAtt`). A replacement
   * changes it; the custom resource's physical id (`image-copy-<hash>`) never changes, and is not an image id.
   */
  public get attrImageId(): string {
    return this.attribute(ImageCopyData.ImageId);
  }

  /**
   * The copied image's id, as {@link attrImageId}: what `ref` of an image is everywhere else. (`Ref` of the raw custom
   * resource, `customResource.ref`, is its physical id `image-copy-<hash>`, the same for the life of the resource.)
   */
  public get ref(): string {
    return this.attrImageId;
  }

  /** The region the copy lives in (the destination region). */
  public get attrRegionId(): string {
    return this.attribute(ImageCopyData.RegionId);
  }

  /** The image that was copied. */
  public get attrSourceImageId(): string {
    return this.attribute(ImageCopyData.SourceImageId);
  }

  /** The region of the image that was copied. */
  public get attrSourceRegionId(): string {
    return this.attribute(ImageCopyData.SourceRegionId);
  }

  /** The copy's name as ECS reports it. */
  public get attrImageName(): string {
    return this.attribute(ImageCopyData.ImageName);
  }

  /** The accounts the copy is shared with, comma-separated ('' when none). */
  public get attrSharedWithAccounts(): string {
    return this.attribute(ImageCopyData.SharedWithAccounts);
  }

  /** The copy's image family ('' when none). */
  public get attrImageFamily(): string {
    return this.attribute(ImageCopyData.ImageFamily);
  }

  /** The previous copies kept by `keepPreviousVersions` (deprecated), comma-separated, newest first ('' when none). */
  public get attrPreviousImageIds(): string {
    return this.attribute(ImageCopyData.PreviousImageIds);
  }

  /**
   * The attributes' tokens, made when first read (a token records where it was made, which costs more than the
   * rest of a copy's synthesis when most attributes are never read).
   */
  private readonly attributes = new Map<string, string>();

  /**
   * @param scope scope in which this resource is defined
   * @param id scoped id of the resource; also the custom resource's logical id
   * @param props resource properties
   */
  constructor(scope: ros.Construct, id: string, props: ImageCopyProps) {
    // Validated before the construct joins the tree, so a rejected copy leaves nothing behind.
    validateProps(`ImageCopy ${childPath(scope, id)}`, props);
    super(scope, id);
    this.props = props;
    this.destinationRegionId = props.destinationRegionId ?? this.stack.region;

    const timeouts = computeTimeouts(props.timeouts?.create, props.timeouts?.delete);
    this.provider = ImageCopyProvider.getOrCreate(this);
    watchTemplateSize(this.stack);
    // The core's RosResource (ALIYUN::ROS::CustomResource) rather than @alicloud/ros-cdk-ros's L1: the same template,
    // without loading that package on every synth.
    this.customResource = new ros.RosResource(this, id, {
      type: 'ALIYUN::ROS::CustomResource',
      properties: {
        ServiceToken: this.provider.serviceToken,
        Timeout: timeouts.timeoutSeconds,
        Parameters: withoutAbsent({
          [ImageCopyParameter.SourceImageId]: props.sourceImageId,
          [ImageCopyParameter.SourceRegionId]: props.sourceRegionId,
          // The stack's region as a token (ALIYUN::Region) need not be written: the handler copies into the
          // region each request names, which is the stack's.
          [ImageCopyParameter.DestinationRegionId]: ros.Token.isUnresolved(this.destinationRegionId)
            ? props.destinationRegionId
            : this.destinationRegionId,
          [ImageCopyParameter.ImageName]: props.imageName,
          [ImageCopyParameter.Description]: props.description,
          [ImageCopyParameter.Encrypted]: props.encrypted,
          [ImageCopyParameter.KmsKeyId]: props.kmsKeyId,
          [ImageCopyParameter.Tags]:
            props.tags === undefined || ros.Token.isUnresolved(props.tags) ? props.tags : { ...props.tags },
          [ImageCopyParameter.ResourceGroupId]: props.resourceGroupId,
          [ImageCopyParameter.Force]: props.force,
          [ImageCopyParameter.ExistingImageId]: props.existingImageId,
          [ImageCopyParameter.SharedWithAccounts]:
            props.sharedWithAccounts === undefined || ros.Token.isUnresolved(props.sharedWithAccounts)
              ? props.sharedWithAccounts
              : [...props.sharedWithAccounts],
          [ImageCopyParameter.ImageFamily]: props.imageFamily,
          [ImageCopyParameter.CopySourceTags]: props.copySourceTags,
          [ImageCopyParameter.KeepPreviousVersions]: props.keepPreviousVersions,
          // The handler's defaults need not be written (a smaller template per copy).
          [ImageCopyParameter.CreateTimeoutSeconds]: unlessDefault(
            timeouts.createTimeoutSeconds,
            DEFAULT_CREATE_TIMEOUT_MINUTES * 60,
          ),
          [ImageCopyParameter.DeleteTimeoutSeconds]: unlessDefault(
            timeouts.deleteTimeoutSeconds,
            DEFAULT_DELETE_TIMEOUT_MINUTES * 60,
          ),
        }),
      },
    });
    this.resource = this.customResource;
    // No DependsOn needed: the ServiceToken is a Fn::GetAtt of the function, whose Role is a Fn::GetAtt of the
    // role, so ROS creates both before the copy and deletes the copy (whose Delete needs them) first.
  }

  /** The token of a `Data` key of the custom resource, the same one each time it is asked for. */
  private attribute(key: string): string {
    let token = this.attributes.get(key);
    if (token === undefined) {
      token = ros.Token.asString(this.customResource.getAtt(key));
      this.attributes.set(key, token);
    }
    return token;
  }
}

/**
 * Input that breaks a rule of ImageCopy; `messages` name each property, its value and the rule. Thrown while
 * the construct is built, so `synth` fails before a template is written.
 */
export class ImageCopyValidationError extends Error {
  /** One message per broken rule, e.g. `imageName "1abc" is invalid: must start with a letter ...`. */
  public readonly messages: string[];

  /**
   * @param subject what was being built, e.g. `ImageCopy MyStack/Golden`
   * @param messages the broken rules
   */
  constructor(subject: string, messages: string[]) {
    super(`${subject}: ${messages.length === 1 ? messages[0] : `\n  - ${messages.join('\n  - ')}`}`);
    this.name = 'ImageCopyValidationError';
    this.messages = messages;
  }
}

/** An image referenced by id ({@link ImageCopy.fromImageId}): nothing is created, `ref` is the id itself. */
class ImportedImageCopy extends ros.Resource implements IImageCopy {
  public readonly attrImageId: string;
  public readonly attrRegionId: string;

  constructor(scope: ros.Construct, id: string, imageId: string) {
    super(scope, id);
    this.attrImageId = imageId;
    this.attrRegionId = this.stack.region;
  }

  public get ref(): string {
    return this.attrImageId;
  }
}

/** The path a construct `id` under `scope` will have, for messages written before it exists. */
function childPath(scope: ros.Construct, id: string): string {
  return scope.node.path ? `${scope.node.path}/${id}` : id;
}

/**
 * Validates props with the rules of `lib/validation.ts`, skipping values that are unresolved tokens (the
 * handler checks them at deploy time). Throws {@link ImageCopyValidationError} listing every broken rule.
 */
function validateProps(subject: string, props: ImageCopyProps): void {
  const names = IMAGE_COPY_PROPERTY_NAMES.construct;
  const messages: string[] = [];
  const concrete = <T>(value: T): T | undefined => (ros.Token.isUnresolved(value) ? undefined : value);

  const timeouts = props.timeouts ?? {};
  for (const [value, property] of [
    [timeouts.create, names.createTimeoutMinutes],
    [timeouts.delete, names.deleteTimeoutMinutes],
  ] as const) {
    if (value !== undefined && ros.Token.isUnresolved(value)) {
      messages.push(
        `${property} must be a number known at synth time (1 to ${MAX_TIMEOUT_MINUTES} minutes): it sets the ` +
          "custom resource's Timeout",
      );
    }
  }

  const input: ImageCopyInput = {
    sourceImageId: concrete(props.sourceImageId),
    sourceRegionId: concrete(props.sourceRegionId),
    destinationRegionId: concrete(props.destinationRegionId),
    imageName: concrete(props.imageName),
    description: concrete(props.description),
    encrypted: concrete(props.encrypted),
    kmsKeyId: concrete(props.kmsKeyId),
    tags: concreteTags(props.tags),
    force: concrete(props.force),
    resourceGroupId: concrete(props.resourceGroupId),
    existingImageId: concrete(props.existingImageId),
    createTimeoutMinutes: concrete(timeouts.create),
    deleteTimeoutMinutes: concrete(timeouts.delete),
    sharedWithAccounts: concreteAccounts(props.sharedWithAccounts),
    imageFamily: concrete(props.imageFamily),
    copySourceTags: concrete(props.copySourceTags),
    keepPreviousVersions: concrete(props.keepPreviousVersions),
  };
  // A token is a value: it satisfies "required". An encrypted flag that is a token may well be true, so a
  // concrete kmsKeyId is not held against it (the handler checks the pair at deploy time).
  const tokenRequired = new Set<string>();
  if (props.sourceImageId !== undefined && input.sourceImageId === undefined) {
    tokenRequired.add(requiredMessage(names.sourceImageId));
  }
  if (props.sourceRegionId !== undefined && input.sourceRegionId === undefined) {
    tokenRequired.add(requiredMessage(names.sourceRegionId));
  }
  if (props.tags !== undefined && !ros.Token.isUnresolved(props.tags)) {
    // A template map key must be a string at synth time; ROS CDK fails to resolve a reference there.
    for (const key of Object.keys(props.tags).filter((k) => ros.Token.isUnresolved(k))) {
      messages.push(
        `${names.tags} key ${key} is invalid: a tag key must be known at synth time (a template map key ` +
          'cannot be a reference); pass the whole tags map as a token instead, e.g. a Json parameter',
      );
    }
  }
  const checked: ImageCopyInput =
    props.encrypted !== undefined && input.encrypted === undefined ? { ...input, encrypted: true } : input;
  // Whether the copy is encrypted with the service key is unknown while the flag or the key is a token: the handler
  // applies the sharing rule at deploy time, with the same words.
  if (
    (props.encrypted !== undefined && input.encrypted === undefined) ||
    (props.kmsKeyId !== undefined && input.kmsKeyId === undefined)
  ) {
    tokenRequired.add(serviceKeyShareMessage(names.sharedWithAccounts, names.encrypted, names.kmsKeyId));
  }
  messages.push(...validateImageCopyProperties(checked, 'construct').filter((m) => !tokenRequired.has(m)));
  if (messages.length > 0) {
    throw new ImageCopyValidationError(subject, messages);
  }
}

/**
 * Tags with token values replaced by a value that passes every rule, so the count still counts them while their
 * unknown values are left to the handler. Token keys are reported on their own (see validateProps) and left out.
 * A tags map that is itself a token is skipped.
 */
function concreteTags(tags: { [key: string]: string } | undefined): { [key: string]: string } | undefined {
  if (tags === undefined || ros.Token.isUnresolved(tags)) {
    return undefined;
  }
  if (typeof tags !== 'object' || tags === null || Array.isArray(tags)) {
    // Not a map (a JavaScript caller or a cast): left as it is for validation to refuse, naming the value.
    return tags;
  }
  const result: { [key: string]: string } = {};
  Object.entries(tags).forEach(([key, value], index) => {
    const concreteKey = ros.Token.isUnresolved(key) ? `token-key-${index}` : key;
    result[concreteKey] = ros.Token.isUnresolved(value) ? '' : value;
  });
  return result;
}

/**
 * Accounts with token elements replaced by distinct placeholders that pass the rules, so the count still counts them
 * while their values are left to the handler. A list that is itself a token is skipped.
 */
function concreteAccounts(accounts: string[] | undefined): unknown {
  if (accounts === undefined || ros.Token.isUnresolved(accounts) || !Array.isArray(accounts)) {
    return accounts === undefined || ros.Token.isUnresolved(accounts) ? undefined : accounts;
  }
  return accounts.map((account, index) =>
    ros.Token.isUnresolved(account) ? `${'9'.repeat(16)}${index}` : account,
  );
}

/** `value`, or undefined (left out of the template) when it is the handler's default. */
function unlessDefault(value: number, defaultValue: number): number | undefined {
  return value === defaultValue ? undefined : value;
}

/** The parameters with absent optional values left out, so the template carries only what was set. */
function withoutAbsent(parameters: { [key: string]: unknown }): { [key: string]: unknown } {
  return Object.fromEntries(
    Object.entries(parameters).filter(([, value]) => value !== undefined && value !== null),
  );
}
