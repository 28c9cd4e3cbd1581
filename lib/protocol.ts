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
} as const;

/** One of the custom resource's parameter keys. */
export type ImageCopyParameterKey = (typeof ImageCopyParameter)[keyof typeof ImageCopyParameter];

/** `ResourceProperties` as they arrive in the handler, before any coercion (see {@link ImageCopyParameter}). */
export type ImageCopyResourceProperties = Partial<Record<ImageCopyParameterKey, unknown>>;

/** Keys of the `Data` the handler answers with; each is readable with `Fn::GetAtt` (`attrImageId` etc.). */
export const ImageCopyData = {
  /** The copied image's id; also the physical resource id. */
  ImageId: 'ImageId',
  /** The region the copy lives in (the destination region). */
  RegionId: 'RegionId',
  /** The image that was copied. */
  SourceImageId: 'SourceImageId',
  /** The region the source image lives in. */
  SourceRegionId: 'SourceRegionId',
  /** The copy's name as ECS reports it. */
  ImageName: 'ImageName',
} as const;

/** One of the `Data` keys. */
export type ImageCopyDataKey = (typeof ImageCopyData)[keyof typeof ImageCopyData];

/** The `Data` map of a successful response. */
export type ImageCopyOutputs = Record<ImageCopyDataKey, string>;

/**
 * Tag key the handler puts on every copy it starts, so it can find its own copies again (adopt on a retried
 * Create, sweep leftovers on Delete). Reserved: users may not set it.
 */
export const OWNERSHIP_TAG_KEY = 'ros-cdk-image-copy:owner';

/** ECS allows at most this many tags per image (ecs-image-api.md §2.6). */
export const MAX_TAGS_PER_IMAGE = 20;

/** Tags a user may set: one of the {@link MAX_TAGS_PER_IMAGE} is the ownership tag. */
export const MAX_USER_TAGS = MAX_TAGS_PER_IMAGE - 1;

/** ECS limit on the length of a tag key and of a tag value. */
export const MAX_TAG_LENGTH = 128;

/** Hex digits of the RequestId hash inside the ownership tag value. */
const REQUEST_HASH_LENGTH = 12;

/** Hex digits of the digest in a shortened owner. */
const OWNER_DIGEST_LENGTH = 32;

/** Separates the owner from the request hash in the ownership tag value; never part of an owner. */
const OWNERSHIP_SEPARATOR = '#';

/** Separates the readable prefix from the digest in a shortened owner; never part of a plain owner. */
const SHORTENED_OWNER_MARKER = '~';

/** Longest owner that still leaves room for `#<request hash>` within {@link MAX_TAG_LENGTH}. */
const MAX_OWNER_LENGTH = MAX_TAG_LENGTH - OWNERSHIP_SEPARATOR.length - REQUEST_HASH_LENGTH;

/** Characters a plain owner may contain; anything else (or a risky shape) makes the owner shortened. */
const PLAIN_OWNER = /^[A-Za-z0-9._:/-]+$/;

function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/**
 * The owner part of the ownership tag value: `<StackId>/<LogicalResourceId>` as is when it fits and is safe in a
 * tag value; otherwise a readable prefix, `~`, and a sha256 digest of the whole, at most 115 characters.
 * Deterministic, so every invocation for the same resource computes the same owner.
 */
export function ownershipOwner(stackId: string, logicalResourceId: string): string {
  const owner = `${stackId}/${logicalResourceId}`;
  const safe =
    owner.length <= MAX_OWNER_LENGTH &&
    PLAIN_OWNER.test(owner) &&
    !/^acs:/i.test(owner) &&
    !owner.includes('://');
  if (safe) {
    return owner;
  }
  const digest = sha256Hex(owner).slice(0, OWNER_DIGEST_LENGTH);
  // Keep a readable start (usually the stack id) without ':' so it can never spell "acs:" or "http://".
  const readable = owner
    .replace(/[^A-Za-z0-9._/-]/g, '_')
    .slice(0, MAX_OWNER_LENGTH - SHORTENED_OWNER_MARKER.length - OWNER_DIGEST_LENGTH);
  return `${readable}${SHORTENED_OWNER_MARKER}${digest}`;
}

/** A short hash (12 hex digits) of a ROS RequestId, recognising the request that started a copy. */
export function ownershipRequestHash(requestId: string): string {
  return sha256Hex(requestId).slice(0, REQUEST_HASH_LENGTH);
}

/**
 * Value of the {@link OWNERSHIP_TAG_KEY} tag for a copy started by one request of one resource:
 * `<owner>#<request hash>` (see {@link ownershipOwner}, {@link ownershipRequestHash}); at most 128 characters.
 */
export function ownershipTagValue(stackId: string, logicalResourceId: string, requestId: string): string {
  return `${ownershipOwner(stackId, logicalResourceId)}${OWNERSHIP_SEPARATOR}${ownershipRequestHash(requestId)}`;
}

/**
 * Prefix shared by the ownership tag values of every copy of one resource, whatever request started it:
 * `<owner>#`. A value starting with it belongs to this resource.
 */
export function ownerPrefix(stackId: string, logicalResourceId: string): string {
  return `${ownershipOwner(stackId, logicalResourceId)}${OWNERSHIP_SEPARATOR}`;
}

/** The parts of an ownership tag value. */
export interface OwnershipTag {
  /** {@link ownershipOwner} of the resource that started the copy. */
  readonly owner: string;
  /** {@link ownershipRequestHash} of the request that started the copy. */
  readonly request: string;
}

/** Splits an ownership tag value into owner and request hash; undefined when it is not one this library wrote. */
export function parseOwnershipTag(value: string): OwnershipTag | undefined {
  const separator = value.lastIndexOf(OWNERSHIP_SEPARATOR);
  if (separator <= 0) {
    return undefined;
  }
  const owner = value.slice(0, separator);
  const request = value.slice(separator + 1);
  if (
    owner.includes(OWNERSHIP_SEPARATOR) ||
    !new RegExp(`^[0-9a-f]{${REQUEST_HASH_LENGTH}}$`).test(request)
  ) {
    return undefined;
  }
  return { owner, request };
}

/** Whether an ownership tag value marks a copy of this resource (started by any request). */
export function isOwnedBy(value: string, stackId: string, logicalResourceId: string): boolean {
  return parseOwnershipTag(value)?.owner === ownershipOwner(stackId, logicalResourceId);
}

/** Whether an ownership tag value marks the copy that this very request started. */
export function isStartedByRequest(
  value: string,
  stackId: string,
  logicalResourceId: string,
  requestId: string,
): boolean {
  return value === ownershipTagValue(stackId, logicalResourceId, requestId);
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
