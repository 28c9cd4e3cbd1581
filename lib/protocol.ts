/**
 * Names shared by the ImageCopy construct (synth time) and its handler (runs in Function Compute).
 *
 * This module is the single place where the custom resource's contract is spelled: parameter keys, `Data` keys,
 * the ownership tag, the ClientToken and the continuation marker. It must import nothing from the ROS CDK, because
 * the handler bundle includes it; node's `crypto` is fine there.
 */
import { createHash } from 'crypto';

/**
 * Keys of the custom resource's `Parameters` (they reach the handler as `ResourceProperties`).
 *
 * How values travel: ROS delivers `Parameters` as a JSON map whose values may be objects, so `Tags` is a JSON
 * object `{ "<key>": "<value>" }`. ROS may stringify scalars on the way, so a boolean (`Encrypted`, `Force`) may
 * arrive as `true`/`false` or as the strings `"true"`/`"false"`, and a number (`CreateTimeoutSeconds`,
 * `DeleteTimeoutSeconds`) as a number or a numeric string. Read them with {@link parseBooleanParameter},
 * {@link parseNumberParameter} and {@link parseTagsParameter}.
 */
export const ImageCopyParameter = {
  /** The ECS custom image to copy (`m-...`), in `SourceRegionId`. Required. Change → replacement. */
  SourceImageId: 'SourceImageId',
  /** The region the source image lives in. Required. Change → replacement. */
  SourceRegionId: 'SourceRegionId',
  /** The region to copy into; the handler defaults to the event's `RegionId`. Change → replacement. */
  DestinationRegionId: 'DestinationRegionId',
  /** Name of the copy (`DestinationImageName`). Changes in place. */
  ImageName: 'ImageName',
  /** Description of the copy (`DestinationDescription`). Changes in place; ECS cannot clear it. */
  Description: 'Description',
  /** Whether the copy is encrypted (boolean or "true"/"false"). Change → replacement. */
  Encrypted: 'Encrypted',
  /** KMS key for an encrypted copy; only valid with `Encrypted` true. Change → replacement. */
  KmsKeyId: 'KmsKeyId',
  /** User tags as a JSON object `{key: value}`, at most {@link MAX_USER_TAGS}. Changes in place. */
  Tags: 'Tags',
  /** `DeleteImage` `Force` on delete (boolean or "true"/"false"). Changes in place. */
  Force: 'Force',
  /** Resource group of the copy (`rg-...`). Changes in place. */
  ResourceGroupId: 'ResourceGroupId',
  /** An image already in the destination region to adopt as this resource's copy instead of copying (import). */
  ExistingImageId: 'ExistingImageId',
  /** Bound on the whole create (or replacement copy), in seconds (number or numeric string). */
  CreateTimeoutSeconds: 'CreateTimeoutSeconds',
  /** Bound on the whole delete, in seconds (number or numeric string). */
  DeleteTimeoutSeconds: 'DeleteTimeoutSeconds',
  /**
   * Set by `ImageReplication` on each of its copies: the other destination regions of the replication (a list, or
   * its JSON text). When ECS refuses a copy of the source because it is being copied, the handler may copy from a
   * finished copy of the same source in one of these regions instead (a fan-out tree). Changes need no call.
   */
  ReplicaRegionIds: 'ReplicaRegionIds',
  /**
   * Alibaba Cloud account ids (digits) the copy is shared with (`ModifyImageSharePermission`): a list, or its JSON
   * text, or comma-separated; at most {@link MAX_SHARED_ACCOUNTS_PER_IMAGE}. Changes in place (added accounts shared,
   * removed ones unshared); every account is unshared before the copy is deleted or kept as a previous version.
   */
  SharedWithAccounts: 'SharedWithAccounts',
  /** Image family of the copy (`ModifyImageAttribute` `ImageFamily`). Changes in place; ECS cannot clear it. */
  ImageFamily: 'ImageFamily',
  /**
   * Whether the source image's tags are put on the copy (boolean or "true"/"false"), the user's tags winning, within
   * {@link MAX_TAGS_PER_IMAGE} counting the reserved tags. Changes in place.
   */
  CopySourceTags: 'CopySourceTags',
  /**
   * How many previous copies a replacement keeps (number or numeric string, 0 to {@link MAX_KEEP_PREVIOUS_VERSIONS}):
   * unshared, renamed ({@link previousVersionName}) and deprecated rather than deleted; the oldest beyond the count
   * are deleted, and all of them with the resource. Changes in place: a lowered count deletes the oldest kept copies
   * beyond it at once; a raised one takes effect at the next replacement.
   */
  KeepPreviousVersions: 'KeepPreviousVersions',
} as const;

/** One of the custom resource's parameter keys. */
export type ImageCopyParameterKey = (typeof ImageCopyParameter)[keyof typeof ImageCopyParameter];

/** `ResourceProperties` as they arrive in the handler, before any coercion (see {@link ImageCopyParameter}). */
export type ImageCopyResourceProperties = Partial<Record<ImageCopyParameterKey, unknown>>;

/** Keys of the `Data` the handler answers with; each is readable with `Fn::GetAtt` (`attrImageId` etc.). */
export const ImageCopyData = {
  /**
   * The current image's id (`m-...`). Not the physical resource id (that is {@link physicalIdFor}, the same for the
   * life of the resource): a replacement changes this value, never the physical id.
   */
  ImageId: 'ImageId',
  /** The region the copy lives in (the destination region). */
  RegionId: 'RegionId',
  /** The image that was copied. */
  SourceImageId: 'SourceImageId',
  /** The region the source image lives in. */
  SourceRegionId: 'SourceRegionId',
  /** The copy's name as ECS reports it. */
  ImageName: 'ImageName',
  /** The accounts the copy is shared with, comma-separated, in the order given ('' when none). */
  SharedWithAccounts: 'SharedWithAccounts',
  /** The copy's image family ('' when none). */
  ImageFamily: 'ImageFamily',
  /** The previous copies kept (deprecated) by `KeepPreviousVersions`, comma-separated, newest first ('' when none). */
  PreviousImageIds: 'PreviousImageIds',
} as const;

/** One of the `Data` keys. */
export type ImageCopyDataKey = (typeof ImageCopyData)[keyof typeof ImageCopyData];

/** The `Data` map of a successful response. */
export type ImageCopyOutputs = Record<ImageCopyDataKey, string>;

/**
 * Tag key the handler puts on every copy it starts, so it can find its own copies again (adopt on a retried
 * Create, find the resource's current copy on Update, remove exactly the resource's copies on Delete). Reserved:
 * users may not set it.
 *
 * Its value (see {@link ownershipTagValue}) names the owner (the stack and logical id), the *instance* of the
 * resource the copy belongs to (the hash in its physical id, see {@link physicalIdFor}), the request that started the
 * copy, and whether ROS accepted the answer that made the copy the resource's image:
 *
 * - `<owner>#<instance>.<request>`: unconfirmed (started, or answered but not yet known to be accepted);
 * - `<owner>#<instance>:<request>`: confirmed (ROS accepted, with a 2xx, the SUCCESS answer that named it);
 * - `<owner>#<request>`: written by the previous version of the handler (legacy), whose owner was shortened at 115
 *   characters rather than 102 (see {@link legacyOwnershipOwner}).
 */
export const OWNERSHIP_TAG_KEY = 'ros-cdk-image-copy:owner';

/** ECS allows at most this many tags per image (ecs-image-api.md §2.6). */
export const MAX_TAGS_PER_IMAGE = 20;

/** Tags a user may set: one of the {@link MAX_TAGS_PER_IMAGE} is the ownership tag. */
export const MAX_USER_TAGS = MAX_TAGS_PER_IMAGE - 1;

/**
 * Tag key the handler puts on each copy of an `ImageReplication` (a copy with `ReplicaRegionIds`): which source the
 * copy is a complete copy of, once Available, so another copy of the replication may be copied from it. Reserved.
 */
export const SOURCE_TAG_KEY = 'ros-cdk-image-copy:source';

/** Tags a user may set on the copies of an `ImageReplication`: the source tag takes one more. */
export const MAX_REPLICA_USER_TAGS = MAX_USER_TAGS - 1;

/** The tag keys ros-cdk-image-copy writes itself; users may not set them. */
export const RESERVED_TAG_KEYS: readonly string[] = [OWNERSHIP_TAG_KEY, SOURCE_TAG_KEY];

/**
 * Value of the {@link SOURCE_TAG_KEY} tag: `<sourceRegionId>/<sourceImageId>`, and `/encrypted` for an encrypted
 * copy (a copy is only made from a peer of the same encryption).
 */
export function sourceTagValue(sourceRegionId: string, sourceImageId: string, encrypted: boolean): string {
  return `${sourceRegionId}/${sourceImageId}${encrypted ? '/encrypted' : ''}`;
}

/**
 * ECS shares an image with at most 10 accounts per `ModifyImageSharePermission` call (`AddAccount.N`,
 * `RemoveAccount.N`; more are ignored), and with at most 50 accounts in all
 * (https://www.alibabacloud.com/help/en/ecs/developer-reference/api-ecs-2014-05-26-modifyimagesharepermission).
 */
export const MAX_SHARE_ACCOUNTS_PER_CALL = 10;

/** See {@link MAX_SHARE_ACCOUNTS_PER_CALL}. */
export const MAX_SHARED_ACCOUNTS_PER_IMAGE = 50;

/**
 * Most previous versions one copy keeps: each kept version is a custom image counted against the region's image
 * quota, and the ids of all of them travel in `Data.PreviousImageIds` within the 4096-byte response.
 */
export const MAX_KEEP_PREVIOUS_VERSIONS = 10;

/** Longest image name (characters), as ModifyImageAttribute and CopyImage document it. */
const MAX_IMAGE_NAME_CHARACTERS = 128;

/**
 * The name a copy kept as a previous version takes, freeing its own for the new copy: `<name>-previous-<imageId>`
 * (image ids are unique, so the name is too), the name shortened to keep within ECS's 128 characters. Only
 * characters ECS allows in a name are added.
 */
export function previousVersionName(imageName: string, imageId: string): string {
  const suffix = `-previous-${imageId}`;
  if (imageName.endsWith(suffix)) {
    return imageName;
  }
  const room = MAX_IMAGE_NAME_CHARACTERS - suffix.length;
  return `${[...imageName].slice(0, Math.max(0, room)).join('')}${suffix}`;
}

/**
 * Reads a list-of-strings parameter (`ReplicaRegionIds`, `SharedWithAccounts`): a list of strings, or its JSON
 * text, or a comma-separated string (should ROS have flattened it). Undefined when absent or not a list of strings.
 */
export function parseStringListParameter(value: unknown): string[] | undefined {
  return parseRegionListParameter(value);
}

/**
 * Reads the `ReplicaRegionIds` parameter: a list of strings, or its JSON text, or a comma-separated string (should ROS
 * have flattened it). Undefined when absent or not a list of strings; validation reports the latter.
 */
export function parseRegionListParameter(value: unknown): string[] | undefined {
  let candidate = value;
  if (typeof candidate === 'string') {
    const text = candidate.trim();
    if (text.startsWith('[')) {
      try {
        candidate = JSON.parse(text);
      } catch {
        return undefined;
      }
    } else {
      candidate = text === '' ? [] : text.split(',').map((part) => part.trim());
    }
  }
  if (!Array.isArray(candidate) || !candidate.every((item) => typeof item === 'string')) {
    return undefined;
  }
  return [...(candidate as string[])];
}

/** ECS limit on the length of a tag key and of a tag value. */
export const MAX_TAG_LENGTH = 128;

/** Hex digits of a hash (of a request id, or of a physical id) in the ownership tag value and the physical id. */
const HASH_LENGTH = 12;

/** Hex digits of the digest in a shortened owner. */
const OWNER_DIGEST_LENGTH = 32;

/** Separates the owner from the hashes in the ownership tag value; never part of an owner. */
const OWNERSHIP_SEPARATOR = '#';

/** Between the instance and the request hash: a copy not (yet) confirmed as the resource's image... */
const UNCONFIRMED_MARK = '.';

/** ...and one that ROS accepted as the resource's image. */
const CONFIRMED_MARK = ':';

/**
 * ...and one that was the resource's image and is kept as a previous version (`KeepPreviousVersions`): never the
 * current image again, removed with its instance, and never by a Delete that does not name the instance.
 */
const RETIRED_MARK = '!';

/** Separates the readable prefix from the digest in a shortened owner; never part of a plain owner. */
const SHORTENED_OWNER_MARKER = '~';

/** Longest owner that leaves room for `#<instance>.<request>` within {@link MAX_TAG_LENGTH}: 102. */
const MAX_OWNER_LENGTH = MAX_TAG_LENGTH - OWNERSHIP_SEPARATOR.length - 2 * HASH_LENGTH - 1;

/** The previous version's bound, which left room for `#<request>` only: 115. */
const LEGACY_MAX_OWNER_LENGTH = MAX_TAG_LENGTH - OWNERSHIP_SEPARATOR.length - HASH_LENGTH;

/** Characters a plain owner may contain; anything else (or a risky shape) makes the owner shortened. */
const PLAIN_OWNER = /^[A-Za-z0-9._:/-]+$/;

const HASH = `[0-9a-f]{${HASH_LENGTH}}`;
const CURRENT_SUFFIX = new RegExp(
  `^(${HASH})([${UNCONFIRMED_MARK}${CONFIRMED_MARK}${RETIRED_MARK}])(${HASH})$`,
);
const LEGACY_SUFFIX = new RegExp(`^(${HASH})$`);

function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

function shortenedOwner(stackId: string, logicalResourceId: string, maxLength: number): string {
  const owner = `${stackId}/${logicalResourceId}`;
  const safe =
    owner.length <= maxLength && PLAIN_OWNER.test(owner) && !/^acs:/i.test(owner) && !owner.includes('://');
  if (safe) {
    return owner;
  }
  const digest = sha256Hex(owner).slice(0, OWNER_DIGEST_LENGTH);
  // Keep a readable start (usually the stack id) without ':' so it can never spell "acs:" or "http://".
  const readable = owner
    .replace(/[^A-Za-z0-9._/-]/g, '_')
    .slice(0, maxLength - SHORTENED_OWNER_MARKER.length - OWNER_DIGEST_LENGTH);
  return `${readable}${SHORTENED_OWNER_MARKER}${digest}`;
}

/**
 * The owner part of the ownership tag value: `<StackId>/<LogicalResourceId>` as is when it fits (102 characters)
 * and is safe in a tag value; otherwise a readable prefix, `~`, and a sha256 digest of the whole, at most 102
 * characters. Deterministic, so every invocation for the same resource computes the same owner.
 */
export function ownershipOwner(stackId: string, logicalResourceId: string): string {
  return shortenedOwner(stackId, logicalResourceId, MAX_OWNER_LENGTH);
}

/**
 * The owner as the previous version of the handler wrote it (shortened only past 115 characters): how copies it made
 * are recognised. Equal to {@link ownershipOwner} for every owner of 102 characters or less.
 */
export function legacyOwnershipOwner(stackId: string, logicalResourceId: string): string {
  return shortenedOwner(stackId, logicalResourceId, LEGACY_MAX_OWNER_LENGTH);
}

/** A short hash (12 hex digits) of a ROS RequestId (or of a physical id), as the ownership tag and physical id hold it. */
export function ownershipRequestHash(requestId: string): string {
  return sha256Hex(requestId).slice(0, HASH_LENGTH);
}

/** Prefix of the physical id of every resource instance this library creates. */
export const PHYSICAL_ID_PREFIX = 'image-copy-';

/** Prefix of the physical id the previous version answered a Create that failed before a copy existed with. */
export const LEGACY_PLACEHOLDER_PREFIX = 'image-copy-failed-';

/**
 * The physical id of the resource instance a Create request makes: `image-copy-<h>`, `h` the
 * {@link ownershipRequestHash} of the Create's RequestId. The Create answers with it (SUCCESS or FAILED), Update and
 * Delete copy it from the request, so it never changes for the life of the resource; the current image id travels in
 * `Data` (see {@link ImageCopyData}).
 */
export function physicalIdFor(createRequestId: string): string {
  return `${PHYSICAL_ID_PREFIX}${ownershipRequestHash(createRequestId)}`;
}

/** What a physical id says about the resource instance it names. */
export type PhysicalIdReading =
  /** `image-copy-<h>` (or the previous version's placeholder `image-copy-failed-<h>`): instance `h`. */
  | { readonly kind: 'instance'; readonly instance: string }
  /**
   * An image id (`m-...`): a resource created by the previous version, whose physical id was its image; copies made
   * for it from now on carry the instance {@link ownershipRequestHash} of that id.
   */
  | { readonly kind: 'legacy-image'; readonly instance: string; readonly imageId: string }
  /**
   * Anything else (empty, the logical id, `<LogicalId>-never-created`): what ROS may send in the Delete after a
   * failed or unanswered Create. Copies an Update made for it carry the instance {@link ownershipRequestHash} of it.
   */
  | { readonly kind: 'foreign'; readonly instance?: string };

const INSTANCE_ID = new RegExp(`^(?:${PHYSICAL_ID_PREFIX}|${LEGACY_PLACEHOLDER_PREFIX})(${HASH})$`);

/** Reads a physical id (see {@link PhysicalIdReading}). */
export function readPhysicalId(physicalId: string | undefined): PhysicalIdReading {
  const id = physicalId ?? '';
  const instance = INSTANCE_ID.exec(id)?.[1];
  if (instance !== undefined) {
    return { kind: 'instance', instance };
  }
  if (/^m-[A-Za-z0-9]+$/.test(id)) {
    return { kind: 'legacy-image', instance: ownershipRequestHash(id), imageId: id };
  }
  return id === '' ? { kind: 'foreign' } : { kind: 'foreign', instance: ownershipRequestHash(id) };
}

/** Options of {@link ownershipTagValue}. */
export interface OwnershipTagOptions {
  /**
   * The resource instance the copy belongs to (the hash in its physical id).
   * @default the hash of `requestId`: a copy a Create started
   */
  readonly instance?: string;
  /** Whether ROS accepted the answer that made the copy the resource's image. @default false */
  readonly confirmed?: boolean;
}

/**
 * Value of the {@link OWNERSHIP_TAG_KEY} tag for a copy that request `requestId` started for one instance of one
 * resource: `<owner>#<instance>.<request hash>`, or `<owner>#<instance>:<request hash>` once confirmed; at most 128
 * characters.
 */
export function ownershipTagValue(
  stackId: string,
  logicalResourceId: string,
  requestId: string,
  options: OwnershipTagOptions = {},
): string {
  const request = ownershipRequestHash(requestId);
  const mark = options.confirmed ? CONFIRMED_MARK : UNCONFIRMED_MARK;
  return `${ownershipOwner(stackId, logicalResourceId)}${OWNERSHIP_SEPARATOR}${options.instance ?? request}${mark}${request}`;
}

/** The previous version's value for a copy request `requestId` started: `<owner>#<request hash>`. */
export function legacyOwnershipTagValue(
  stackId: string,
  logicalResourceId: string,
  requestId: string,
): string {
  return `${legacyOwnershipOwner(stackId, logicalResourceId)}${OWNERSHIP_SEPARATOR}${ownershipRequestHash(requestId)}`;
}

/**
 * Prefix shared by the ownership tag values of every copy of one resource written by this version, whatever
 * instance or request: `<owner>#`.
 */
export function ownerPrefix(stackId: string, logicalResourceId: string): string {
  return `${ownershipOwner(stackId, logicalResourceId)}${OWNERSHIP_SEPARATOR}`;
}

/** The parts of an ownership tag value. */
export interface OwnershipTag {
  /** {@link ownershipOwner} (or, legacy, {@link legacyOwnershipOwner}) of the resource that started the copy. */
  readonly owner: string;
  /** The resource instance the copy belongs to; undefined for a legacy value. */
  readonly instance?: string;
  /** {@link ownershipRequestHash} of the request that started the copy. */
  readonly request: string;
  /**
   * Whether ROS accepted the answer that made the copy the resource's image (never, for a legacy value); a retired
   * copy was, so it counts as confirmed.
   */
  readonly confirmed: boolean;
  /** Kept as a previous version (`KeepPreviousVersions`): `<owner>#<instance>!<request>`. */
  readonly retired: boolean;
  /** Written by the previous version: `<owner>#<request>`. */
  readonly legacy: boolean;
}

/** Splits an ownership tag value into its parts; undefined when it is not one this library wrote. */
export function parseOwnershipTag(value: string): OwnershipTag | undefined {
  const separator = value.lastIndexOf(OWNERSHIP_SEPARATOR);
  if (separator <= 0) {
    return undefined;
  }
  const owner = value.slice(0, separator);
  const suffix = value.slice(separator + 1);
  if (owner.includes(OWNERSHIP_SEPARATOR)) {
    return undefined;
  }
  const current = CURRENT_SUFFIX.exec(suffix);
  if (current) {
    return {
      owner,
      instance: current[1],
      request: current[3],
      confirmed: current[2] === CONFIRMED_MARK || current[2] === RETIRED_MARK,
      retired: current[2] === RETIRED_MARK,
      legacy: false,
    };
  }
  if (LEGACY_SUFFIX.test(suffix)) {
    return { owner, request: suffix, confirmed: false, retired: false, legacy: true };
  }
  return undefined;
}

/** The same value, confirmed (`.` → `:`); undefined for a value that is not an unconfirmed one of this version. */
export function confirmedOwnershipValue(value: string): string | undefined {
  const tag = parseOwnershipTag(value);
  if (!tag || tag.legacy || tag.confirmed) {
    return undefined;
  }
  return `${tag.owner}${OWNERSHIP_SEPARATOR}${tag.instance}${CONFIRMED_MARK}${tag.request}`;
}

/**
 * The same value, retired (kept as a previous version: `!` between the instance and the request); undefined for a
 * value that is not one of this version.
 */
export function retiredOwnershipValue(value: string): string | undefined {
  const tag = parseOwnershipTag(value);
  if (!tag || tag.legacy) {
    return undefined;
  }
  return `${tag.owner}${OWNERSHIP_SEPARATOR}${tag.instance}${RETIRED_MARK}${tag.request}`;
}

/** The parts of an ownership tag value when it marks a copy of this resource (any instance, request or version). */
export function ownershipOf(
  value: string,
  stackId: string,
  logicalResourceId: string,
): OwnershipTag | undefined {
  const tag = parseOwnershipTag(value);
  if (!tag) {
    return undefined;
  }
  const owner = tag.legacy
    ? legacyOwnershipOwner(stackId, logicalResourceId)
    : ownershipOwner(stackId, logicalResourceId);
  return tag.owner === owner ? tag : undefined;
}

/** Whether an ownership tag value marks a copy of this resource (started by any request, written by any version). */
export function isOwnedBy(value: string, stackId: string, logicalResourceId: string): boolean {
  return ownershipOf(value, stackId, logicalResourceId) !== undefined;
}

/** Whether an ownership tag value marks a copy that this very request started (confirmed or not, any version). */
export function isStartedByRequest(
  value: string,
  stackId: string,
  logicalResourceId: string,
  requestId: string,
): boolean {
  return ownershipOf(value, stackId, logicalResourceId)?.request === ownershipRequestHash(requestId);
}

/** ECS limit on `ClientToken` length (ASCII characters). */
export const CLIENT_TOKEN_MAX_LENGTH = 64;

/**
 * `ClientToken` for `CopyImage`: a sha256 hex digest (64 ASCII characters) of StackId, LogicalResourceId and
 * RequestId, so a repeated or continued delivery of the same request is idempotent while a later request (e.g. a
 * replacement on Update) gets a copy of its own.
 */
export function clientTokenFor(stackId: string, logicalResourceId: string, requestId: string): string {
  return sha256Hex(JSON.stringify(['ros-cdk-image-copy', stackId, logicalResourceId, requestId])).slice(
    0,
    CLIENT_TOKEN_MAX_LENGTH,
  );
}

/**
 * Field the handler adds to the original event when it re-invokes itself before its deadline; an event carrying
 * it is a continuation of work already started, not a new delivery from ROS.
 */
export const CONTINUATION_KEY = 'ImageCopyContinuation';

/** Default bound on a create, as in Terraform's `alicloud_image_copy`. */
export const DEFAULT_CREATE_TIMEOUT_MINUTES = 10;

/** Default bound on a delete, as in Terraform's `alicloud_image_copy`. */
export const DEFAULT_DELETE_TIMEOUT_MINUTES = 10;

/** Longest create/delete timeout: the custom resource `Timeout` allows at most 43200 s (12 h). */
export const MAX_TIMEOUT_MINUTES = 720;

/** {@link MAX_TIMEOUT_MINUTES} in seconds, the unit of `CreateTimeoutSeconds`/`DeleteTimeoutSeconds`. */
export const MAX_TIMEOUT_SECONDS = MAX_TIMEOUT_MINUTES * 60;

/**
 * Time the handler keeps for itself after its own create/delete deadline: to cancel a late copy, answer ROS
 * (with retries) and absorb the delay of asynchronous re-invocations. ROS waits this much longer than the
 * handler works, so the handler, not ROS, decides how a timeout ends and can say why.
 */
export const RESPONSE_MARGIN_SECONDS = 300;

/** The custom resource's `Timeout` may not exceed 12 hours (ros-custom-resource.md §1). */
export const MAX_CUSTOM_RESOURCE_TIMEOUT_SECONDS = MAX_TIMEOUT_SECONDS;

/**
 * The custom resource's `Timeout` for these create and delete bounds (seconds): create + delete +
 * {@link RESPONSE_MARGIN_SECONDS}, at most 43200 s. The construct writes it into the template; the handler computes
 * it back from `CreateTimeoutSeconds`/`DeleteTimeoutSeconds` to know how long ROS may still wait for an answer.
 */
export function customResourceTimeoutSeconds(
  createTimeoutSeconds: number,
  deleteTimeoutSeconds: number,
): number {
  return Math.min(
    MAX_CUSTOM_RESOURCE_TIMEOUT_SECONDS,
    createTimeoutSeconds + deleteTimeoutSeconds + RESPONSE_MARGIN_SECONDS,
  );
}

/** ROS rejects a custom-resource response body larger than this (ros-custom-resource.md §3). */
export const RESPONSE_BODY_LIMIT_BYTES = 4096;

/**
 * Every image status; `DescribeImages` must be called with an explicit `Status` (joined by commas) because its
 * default (`Available`) hides copies in progress.
 */
export const ALL_IMAGE_STATUSES = [
  'Creating',
  'Waiting',
  'Available',
  'UnAvailable',
  'CreateFailed',
  'Deprecated',
] as const;

/** An ECS image status. */
export type ImageStatus = (typeof ALL_IMAGE_STATUSES)[number];

/** Statuses of a copy still in progress: keep waiting (and cancel, not delete, to remove it). */
export const PENDING_STATUSES: readonly ImageStatus[] = ['Creating', 'Waiting'];

/** Statuses of a copy that will never become available: fail the create. */
export const FAILED_STATUSES: readonly ImageStatus[] = ['CreateFailed', 'UnAvailable'];

/**
 * Reads a boolean parameter that may arrive as a boolean or as "true"/"false" (any case, surrounding spaces
 * ignored). Undefined when absent (undefined/null) or not a recognisable boolean; validation reports the latter.
 */
export function parseBooleanParameter(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') {
    return value;
  }
  if (typeof value === 'string') {
    const text = value.trim().toLowerCase();
    if (text === 'true') {
      return true;
    }
    if (text === 'false') {
      return false;
    }
  }
  return undefined;
}

/**
 * Reads a number parameter that may arrive as a number or a numeric string (e.g. "600", "1.5"). Undefined when
 * absent (undefined/null) or not a finite decimal number; validation reports the latter.
 */
export function parseNumberParameter(value: unknown): number | undefined {
  if (typeof value === 'number') {
    return Number.isFinite(value) ? value : undefined;
  }
  if (typeof value === 'string' && /^\s*[-+]?(\d+(\.\d*)?|\.\d+)\s*$/.test(value)) {
    return Number(value);
  }
  return undefined;
}

/**
 * Reads the `Tags` parameter: a JSON object `{key: value}`, or the same object as a JSON string should ROS have
 * stringified it. Undefined when absent or not an object. Values are passed through unchecked; validate them.
 */
export function parseTagsParameter(value: unknown): Record<string, unknown> | undefined {
  let candidate = value;
  if (typeof candidate === 'string') {
    try {
      candidate = JSON.parse(candidate);
    } catch {
      return undefined;
    }
  }
  if (typeof candidate !== 'object' || candidate === null || Array.isArray(candidate)) {
    return undefined;
  }
  return { ...(candidate as Record<string, unknown>) };
}

/**
 * Resource type of the custom resource an `ImageDistribution` synthesizes (`Custom::<Name>` is a ROS custom resource
 * served by its `ServiceToken`, https://www.alibabacloud.com/help/en/ros/developer-reference/aliyun-ros-customresource).
 * The handler dispatches on the event's `ResourceType`: this one is a stack group, every other an `ImageCopy`.
 */
export const IMAGE_DISTRIBUTION_RESOURCE_TYPE = 'Custom::ImageDistribution';

/**
 * Keys of the `Parameters` of `Custom::ImageDistribution`. Lists travel as JSON lists (or their JSON text), maps as
 * JSON objects (or their JSON text), numbers as numbers or numeric strings, as for {@link ImageCopyParameter}.
 */
export const ImageDistributionParameter = {
  /** The stack group's name (ROS: up to 255 letters, digits, `-` and `_`, starting with a letter or digit). */
  StackGroupName: 'StackGroupName',
  /**
   * The instance template (JSON text): one `ImageCopy` per instance, its source picked with `Fn::FindInMap` from the
   * `Mappings` section {@link DISTRIBUTION_MAPPING_NAME}, which the handler fills from {@link ReplicaImageIds}, and its
   * provider's `Code.ZipFile` the placeholder {@link HANDLER_CODE_PLACEHOLDER}, which the handler fills with its own
   * code.
   */
  TemplateBody: 'TemplateBody',
  /** The owner's replicas of the source, shared with the target accounts: `{ "<regionId>": "m-..." }`. */
  ReplicaImageIds: 'ReplicaImageIds',
  /** Target account ids (self-managed permissions); exclusive with {@link TargetFolderIds}. */
  TargetAccountIds: 'TargetAccountIds',
  /** Target Resource Directory folder ids `fd-...` (service-managed permissions); their member accounts are targets. */
  TargetFolderIds: 'TargetFolderIds',
  /** The regions every target account gets a copy in. */
  TargetRegionIds: 'TargetRegionIds',
  /** Per-account override of {@link TargetRegionIds}: `{ "<accountId>": ["<regionId>", ...] }`. */
  RegionsByAccount: 'RegionsByAccount',
  /** ROS `OperationPreferences` as the API spells them (`MaxConcurrentCount`, `FailureToleranceCount`, ...). */
  OperationPreferences: 'OperationPreferences',
  /** Self-managed: the owner account's administration role. */
  AdministrationRoleName: 'AdministrationRoleName',
  /** Self-managed: the role each target account's ROS assumes. */
  ExecutionRoleName: 'ExecutionRoleName',
  /** Bound on a create or an update (all operations of it), seconds. */
  CreateTimeoutSeconds: 'CreateTimeoutSeconds',
  /** Bound on a delete, seconds. */
  DeleteTimeoutSeconds: 'DeleteTimeoutSeconds',
} as const;

/** One of the `Custom::ImageDistribution` parameter keys. */
export type ImageDistributionParameterKey =
  (typeof ImageDistributionParameter)[keyof typeof ImageDistributionParameter];

/** Keys of the `Data` a `Custom::ImageDistribution` answers with. */
export const ImageDistributionData = {
  /** The stack group's name. */
  StackGroupName: 'StackGroupName',
  /** `{ "<accountId>": { "<regionId>": "m-..." } }` (JSON text), as many pairs as fit the 4096-byte response. */
  ImageIds: 'ImageIds',
  /** How many (account, region) pairs {@link ImageIds} leaves out to fit the response ('0' when none). */
  ImageIdsLeftOut: 'ImageIdsLeftOut',
  /**
   * The (account, region) pairs that failed within the operation preferences' failure tolerance, with ROS's
   * reason: `[{ "AccountId", "RegionId", "Reason" }]` (JSON text, '[]' when none).
   */
  FailedTargets: 'FailedTargets',
} as const;

/** The `Data` key of one pair's image id, `ImageId.<accountId>.<regionId>`, present while the response has room. */
export function distributionImageIdKey(accountId: string, regionId: string): string {
  return `ImageId.${accountId}.${regionId}`;
}

/** The `Mappings` section of the instance template that holds the replica ids, by region, under {@link DISTRIBUTION_MAPPING_KEY}. */
export const DISTRIBUTION_MAPPING_NAME = 'ReplicaImageIds';

/** The key of a region's replica id in {@link DISTRIBUTION_MAPPING_NAME}. */
export const DISTRIBUTION_MAPPING_KEY = 'ImageId';

/** Outputs of every instance stack. */
export const DistributionInstanceOutput = {
  ImageId: 'ImageId',
  ImageName: 'ImageName',
  RegionId: 'RegionId',
} as const;

/**
 * What the instance template's provider function has as `Code.ZipFile` at synth time: the handler replaces it with
 * its own code, zipped (base64), so every instance runs the handler version of the owner's provider, and the
 * custom resource's properties stay small (FC's asynchronous invocation payload is at most 128 KB).
 */
export const HANDLER_CODE_PLACEHOLDER = 'ros-cdk-image-copy:handler-code';

/**
 * Prefix of the stack group `Description` that marks a group this library made, followed by the owner and the
 * instance (`<owner>#<instance>`, see {@link ownershipOwner} and {@link physicalIdFor}): a retried Create adopts its own
 * group and refuses anyone else's.
 */
export const STACK_GROUP_OWNER_PREFIX = 'Managed by ros-cdk-image-copy ImageDistribution ';

/** ROS's rule for a stack group name (CreateStackGroup). */
export const STACK_GROUP_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,254}$/;

/** ROS takes at most 20 regions in one CreateStackInstances (RegionIds). */
export const MAX_DISTRIBUTION_REGIONS = 20;

/** The default self-managed administration role (ROS: "Grant permissions to self-managed stack groups"). */
export const DEFAULT_ADMINISTRATION_ROLE_NAME = 'AliyunROSStackGroupAdministrationRole';

/** The default self-managed execution role. */
export const DEFAULT_EXECUTION_ROLE_NAME = 'AliyunROSStackGroupExecutionRole';
