/**
 * Input rules for ImageCopy, shared by the construct (at synth time) and the handler (at run time, for values
 * that were unresolved tokens at synth). Imports nothing from the ROS CDK: tokens are the construct's concern and
 * never reach these functions.
 *
 * Every validator returns a list of messages, empty when the value is valid; at most one message per property
 * (the first rule it breaks), except tags, which get one per offending key or value. The caller passes the
 * property name so the construct can say `imageName` and the handler `ImageName`. A message names the property,
 * the value (JSON-quoted, truncated when long) and the rule:
 * `imageName "1abc" is invalid: must start with a letter or a Chinese character`.
 *
 * Rules follow ecs-image-api.md §2.1 (CopyImage), §2.5 (ModifyImageAttribute) and §2.6 (tags); sharing follows
 * ModifyImageSharePermission (https://www.alibabacloud.com/help/en/ecs/developer-reference/api-ecs-2014-05-26-modifyimagesharepermission)
 * and the image family ModifyImageAttribute's `ImageFamily`
 * (https://www.alibabacloud.com/help/en/ecs/developer-reference/api-ecs-2014-05-26-modifyimageattribute).
 */
import {
  ImageCopyParameter,
  type ImageCopyResourceProperties,
  MAX_KEEP_PREVIOUS_VERSIONS,
  MAX_SHARED_ACCOUNTS_PER_IMAGE,
  MAX_TAG_LENGTH,
  MAX_TAGS_PER_IMAGE,
  MAX_TIMEOUT_MINUTES,
  MAX_TIMEOUT_SECONDS,
  MAX_REPLICA_USER_TAGS,
  MAX_USER_TAGS,
  OWNERSHIP_TAG_KEY,
  parseBooleanParameter,
  parseNumberParameter,
  parseRegionListParameter,
  parseStringListParameter,
  parseTagsParameter,
  RESERVED_TAG_KEYS,
  SOURCE_TAG_KEY,
} from './protocol';

/** Longest string value (in characters) quoted whole in a message. */
const MESSAGE_VALUE_MAX_CHARACTERS = 64;

/** Image name length bounds (characters). */
export const IMAGE_NAME_MIN_LENGTH = 2;
export const IMAGE_NAME_MAX_LENGTH = 128;

/** Description length bounds (characters). */
export const DESCRIPTION_MIN_LENGTH = 2;
export const DESCRIPTION_MAX_LENGTH = 256;

/** Longest region, image and resource group id accepted. */
export const MAX_ID_LENGTH = 64;

/** Shortest timeout in seconds (the custom resource `Timeout` is 1–43200 s). */
export const MIN_TIMEOUT_SECONDS = 1;

const HAN = '\\p{Script=Han}';
const IMAGE_NAME_FIRST_CHARACTER = new RegExp(`^[A-Za-z${HAN}]`, 'u');
const IMAGE_NAME_CHARACTER = new RegExp(`[A-Za-z0-9${HAN}.:_-]`, 'u');
const RESERVED_NAME_PREFIX = /^(aliyun|acs:)/i;
const ACS_PREFIX = /^acs:/i;
const CONTAINS_URL_SCHEME = /https?:\/\//i;
const STARTS_WITH_URL_SCHEME = /^https?:\/\//i;
const REGION_ID = /^[a-z][a-z0-9]*(-[a-z0-9]+)+$/;
const IMAGE_ID = /^m-[a-z0-9]+$/;
const RESOURCE_GROUP_ID = /^rg-[a-z0-9]+$/;

/** Length in characters (code points), so a Chinese character or an emoji counts once. */
function characterCount(text: string): number {
  return [...text].length;
}

/** Whether a value was left out: `undefined` or `null` (an empty string is a value, and is checked). */
export function isAbsent(value: unknown): value is undefined | null {
  return value === undefined || value === null;
}

/** Shortens a long string for a message: the first characters and `…`, at most `maxCharacters` in all. */
export function truncateForMessage(
  text: string,
  maxCharacters: number = MESSAGE_VALUE_MAX_CHARACTERS,
): string {
  const characters = [...text];
  if (characters.length <= maxCharacters) {
    return text;
  }
  return `${characters.slice(0, Math.max(0, maxCharacters - 1)).join('')}…`;
}

/**
 * A value as it appears in a message: JSON, with a long string truncated and its full length added,
 * e.g. `"aaaa…" (300 characters)`.
 */
export function formatValueForMessage(value: unknown): string {
  if (typeof value === 'string') {
    const count = characterCount(value);
    const quoted = JSON.stringify(truncateForMessage(value));
    return count > MESSAGE_VALUE_MAX_CHARACTERS ? `${quoted} (${count} characters)` : quoted;
  }
  if (typeof value === 'number' || typeof value === 'bigint') {
    return String(value);
  } // NaN, not JSON's null
  let shown: string;
  try {
    shown = JSON.stringify(value) ?? String(value);
  } catch {
    // Too deep or circular for JSON (and for String() of nested arrays): say what it is instead.
    shown = Array.isArray(value) ? `(an array of ${value.length} items)` : `(${describeKind(value)})`;
  }
  return truncateForMessage(shown, MESSAGE_VALUE_MAX_CHARACTERS + 16);
}

function describeKind(value: unknown): string {
  if (value === null) {
    return 'null';
  }
  if (typeof value === 'object') {
    return `an object with ${Object.keys(value).length} keys`;
  }
  return `a ${typeof value}`;
}

/** `<property> <value> is invalid: <rule>`. */
export function invalidMessage(property: string, value: unknown, rule: string): string {
  return `${property} ${formatValueForMessage(value)} is invalid: ${rule}`;
}

/** `<property> is required`. */
export function requiredMessage(property: string): string {
  return `${property} is required`;
}

function lengthRule(min: number, max: number, count: number): string {
  return `must be ${min} to ${max} characters long (it has ${count})`;
}

/** Image name: 2–128 characters; starts with a letter or Chinese character; not `aliyun`/`acs:`; no URL; `.:_-`. */
export function validateImageName(value: unknown, property: string): string[] {
  return validateNameLike(value, property);
}

/**
 * Image family: the same rules as an image name (ModifyImageAttribute documents both alike): 2–128 characters;
 * starts with a letter or Chinese character; not `aliyun`/`acs:`; no URL; letters, digits, `.:_-`.
 */
export function validateImageFamily(value: unknown, property: string): string[] {
  return validateNameLike(value, property);
}

function validateNameLike(value: unknown, property: string): string[] {
  if (isAbsent(value)) {
    return [];
  }
  if (typeof value !== 'string') {
    return [invalidMessage(property, value, 'must be a string')];
  }
  const count = characterCount(value);
  if (count < IMAGE_NAME_MIN_LENGTH || count > IMAGE_NAME_MAX_LENGTH) {
    return [invalidMessage(property, value, lengthRule(IMAGE_NAME_MIN_LENGTH, IMAGE_NAME_MAX_LENGTH, count))];
  }
  if (!IMAGE_NAME_FIRST_CHARACTER.test(value)) {
    return [invalidMessage(property, value, 'must start with a letter or a Chinese character')];
  }
  if (RESERVED_NAME_PREFIX.test(value)) {
    return [invalidMessage(property, value, 'must not start with "aliyun" or "acs:"')];
  }
  if (CONTAINS_URL_SCHEME.test(value)) {
    return [invalidMessage(property, value, 'must not contain "http://" or "https://"')];
  }
  const unexpected = [...value].find((character) => !IMAGE_NAME_CHARACTER.test(character));
  if (unexpected !== undefined) {
    return [
      invalidMessage(
        property,
        value,
        `may contain only letters, digits, Chinese characters, ".", ":", "_" and "-" (found ${JSON.stringify(unexpected)})`,
      ),
    ];
  }
  return [];
}

/** Description: 2–256 characters, not starting with `http://` or `https://`. */
export function validateDescription(value: unknown, property: string): string[] {
  if (isAbsent(value)) {
    return [];
  }
  if (typeof value !== 'string') {
    return [invalidMessage(property, value, 'must be a string')];
  }
  const count = characterCount(value);
  if (count < DESCRIPTION_MIN_LENGTH || count > DESCRIPTION_MAX_LENGTH) {
    return [
      invalidMessage(property, value, lengthRule(DESCRIPTION_MIN_LENGTH, DESCRIPTION_MAX_LENGTH, count)),
    ];
  }
  if (STARTS_WITH_URL_SCHEME.test(value)) {
    return [invalidMessage(property, value, 'must not start with "http://" or "https://"')];
  }
  return [];
}

/**
 * One tag key: non-empty, at most 128 characters, not `aliyun`/`acs:` (any case), no `http(s)://`, and not
 * one of {@link RESERVED_TAG_KEYS}. `property` names the tags property, e.g. `tags` → `tags key "acs:x" is invalid: …`.
 */
export function validateTagKey(key: string, property: string): string[] {
  const subject = `${property} key`;
  const count = characterCount(key);
  if (count === 0) {
    return [invalidMessage(subject, key, 'must not be empty')];
  }
  if (count > MAX_TAG_LENGTH) {
    return [
      invalidMessage(subject, key, `must be at most ${MAX_TAG_LENGTH} characters long (it has ${count})`),
    ];
  }
  if (RESERVED_TAG_KEYS.includes(key)) {
    return [invalidMessage(subject, key, 'it is reserved by ros-cdk-image-copy')];
  }
  if (RESERVED_NAME_PREFIX.test(key)) {
    return [invalidMessage(subject, key, 'must not start with "aliyun" or "acs:"')];
  }
  if (CONTAINS_URL_SCHEME.test(key)) {
    return [invalidMessage(subject, key, 'must not contain "http://" or "https://"')];
  }
  return [];
}

/**
 * One tag value: a string, possibly empty, at most 128 characters, not `acs:` (any case), no `http(s)://`.
 * `property` names the value, e.g. `tags["env"]`.
 */
export function validateTagValue(value: unknown, property: string): string[] {
  if (typeof value !== 'string') {
    return [invalidMessage(property, value, 'must be a string')];
  }
  const count = characterCount(value);
  if (count > MAX_TAG_LENGTH) {
    return [
      invalidMessage(property, value, `must be at most ${MAX_TAG_LENGTH} characters long (it has ${count})`),
    ];
  }
  if (ACS_PREFIX.test(value)) {
    return [invalidMessage(property, value, 'must not start with "acs:"')];
  }
  if (CONTAINS_URL_SCHEME.test(value)) {
    return [invalidMessage(property, value, 'must not contain "http://" or "https://"')];
  }
  return [];
}

/**
 * User tags: an object `{key: value}` (or its JSON string, as the handler may receive it) with at most
 * {@link MAX_USER_TAGS} entries ({@link MAX_REPLICA_USER_TAGS} for a copy of an `ImageReplication`, `replica`), every
 * key and value valid.
 */
export function validateTags(value: unknown, property: string, replica = false): string[] {
  if (isAbsent(value)) {
    return [];
  }
  const tags = parseTagsParameter(value);
  if (tags === undefined) {
    return [invalidMessage(property, value, 'must be an object mapping tag keys to string values')];
  }
  const messages: string[] = [];
  const keys = Object.keys(tags);
  const max = replica ? MAX_REPLICA_USER_TAGS : MAX_USER_TAGS;
  if (keys.length > max) {
    const reserved = replica ? `"${OWNERSHIP_TAG_KEY}" and "${SOURCE_TAG_KEY}"` : `"${OWNERSHIP_TAG_KEY}"`;
    messages.push(
      `${property} (${keys.length} tags) is invalid: at most ${max} tags are allowed ` +
        `(ECS allows ${MAX_TAGS_PER_IMAGE} per image and ros-cdk-image-copy reserves ${reserved}${
          replica ? ' on the copies of an ImageReplication' : ''
        })`,
    );
  }
  for (const key of keys) {
    messages.push(...validateTagKey(key, property));
    messages.push(...validateTagValue(tags[key], `${property}[${JSON.stringify(key)}]`));
  }
  return messages;
}

function validateIdShape(value: unknown, property: string, pattern: RegExp, shape: string): string[] {
  if (isAbsent(value)) {
    return [];
  }
  if (typeof value !== 'string') {
    return [invalidMessage(property, value, 'must be a string')];
  }
  if (value.length > MAX_ID_LENGTH || !pattern.test(value)) {
    return [invalidMessage(property, value, `${shape}, at most ${MAX_ID_LENGTH} characters`)];
  }
  return [];
}

/** Region id such as `cn-hangzhou`, `ap-southeast-1`, `cn-hangzhou-finance`. */
export function validateRegionId(value: unknown, property: string): string[] {
  return validateIdShape(
    value,
    property,
    REGION_ID,
    'must be a region id like "cn-hangzhou": lowercase letters and digits in two or more parts joined by "-"',
  );
}

/** ECS custom image id: `m-` then lowercase letters and digits. */
export function validateImageId(value: unknown, property: string): string[] {
  return validateIdShape(
    value,
    property,
    IMAGE_ID,
    'must be an ECS image id like "m-bp1example": "m-" followed by lowercase letters and digits',
  );
}

/** Resource group id: `rg-` then lowercase letters and digits. */
export function validateResourceGroupId(value: unknown, property: string): string[] {
  return validateIdShape(
    value,
    property,
    RESOURCE_GROUP_ID,
    'must be a resource group id like "rg-acfmexample": "rg-" followed by lowercase letters and digits',
  );
}

/** A boolean, or the string "true"/"false" as ROS may deliver it. */
export function validateBoolean(value: unknown, property: string): string[] {
  if (isAbsent(value) || parseBooleanParameter(value) !== undefined) {
    return [];
  }
  return [invalidMessage(property, value, 'must be true or false')];
}

/**
 * KMS key id: a non-empty string, and only together with encryption (ECS answers
 * `InvalidParameter.EncryptedIllegal` otherwise): `kmsKeyId "k" requires encrypted: true`.
 */
export function validateKmsKey(
  encrypted: unknown,
  kmsKeyId: unknown,
  encryptedProperty: string,
  kmsKeyIdProperty: string,
): string[] {
  if (isAbsent(kmsKeyId)) {
    return [];
  }
  if (typeof kmsKeyId !== 'string' || kmsKeyId.trim() === '') {
    return [invalidMessage(kmsKeyIdProperty, kmsKeyId, 'must be a non-empty string')];
  }
  if (parseBooleanParameter(encrypted) !== true) {
    return [`${kmsKeyIdProperty} ${formatValueForMessage(kmsKeyId)} requires ${encryptedProperty}: true`];
  }
  return [];
}

/** Alibaba Cloud account id: digits only (ModifyImageSharePermission documents no length; ids are numeric). */
const ACCOUNT_ID = /^[0-9]+$/;

/**
 * Accounts to share with: a list of account ids (or its JSON text, or comma-separated, as the handler may receive
 * it), each digits only and at most {@link MAX_ID_LENGTH} long, none twice, at most
 * {@link MAX_SHARED_ACCOUNTS_PER_IMAGE} (ECS's limit per image).
 */
export function validateAccountIds(value: unknown, property: string): string[] {
  if (isAbsent(value)) {
    return [];
  }
  const accounts = parseStringListParameter(value);
  if (accounts === undefined) {
    return [
      invalidMessage(property, value, 'must be a list of Alibaba Cloud account ids (strings of digits)'),
    ];
  }
  const messages: string[] = [];
  if (accounts.length > MAX_SHARED_ACCOUNTS_PER_IMAGE) {
    messages.push(
      `${property} (${accounts.length} accounts) is invalid: ECS shares an image with at most ` +
        `${MAX_SHARED_ACCOUNTS_PER_IMAGE} accounts`,
    );
  }
  const seen = new Set<string>();
  accounts.forEach((account, index) => {
    const element = `${property}[${index}]`;
    if (account.length > MAX_ID_LENGTH || !ACCOUNT_ID.test(account)) {
      messages.push(
        invalidMessage(
          element,
          account,
          `must be an Alibaba Cloud account id like "1234567890123456": digits only, at most ${MAX_ID_LENGTH}`,
        ),
      );
      return;
    }
    if (seen.has(account)) {
      messages.push(invalidMessage(element, account, 'repeats an account: each account is shared with once'));
    }
    seen.add(account);
  });
  return messages;
}

/** Whether a list-of-accounts value names at least one account. */
function namesAccounts(value: unknown): boolean {
  return !isAbsent(value) && (parseStringListParameter(value)?.length ?? 0) > 0;
}

/**
 * The rule that ECS cannot share an image encrypted with its service key: `<sharedWithAccounts> cannot be shared
 * ...`. The same words at synth time and, for a value that was a token, at deploy time.
 */
export function serviceKeyShareMessage(
  sharedProperty: string,
  encryptedProperty: string,
  kmsKeyIdProperty: string,
): string {
  return (
    `${sharedProperty} requires ${kmsKeyIdProperty} when ${encryptedProperty} is true: ECS cannot share an image ` +
    `encrypted with its service key, a customer KMS key is required (set ${kmsKeyIdProperty}, or leave the copy ` +
    `unencrypted)`
  );
}

/** Sharing an encrypted copy: only with a customer KMS key ({@link serviceKeyShareMessage}). */
export function validateShareEncryption(
  encrypted: unknown,
  kmsKeyId: unknown,
  sharedWithAccounts: unknown,
  names: { readonly encrypted: string; readonly kmsKeyId: string; readonly sharedWithAccounts: string },
): string[] {
  if (parseBooleanParameter(encrypted) === true && isAbsent(kmsKeyId) && namesAccounts(sharedWithAccounts)) {
    return [serviceKeyShareMessage(names.sharedWithAccounts, names.encrypted, names.kmsKeyId)];
  }
  return [];
}

/** How many previous versions to keep: a whole number from 0 to {@link MAX_KEEP_PREVIOUS_VERSIONS}. */
export function validateKeepPreviousVersions(value: unknown, property: string): string[] {
  if (isAbsent(value)) {
    return [];
  }
  const count = parseNumberParameter(value);
  if (count === undefined || !Number.isInteger(count) || count < 0 || count > MAX_KEEP_PREVIOUS_VERSIONS) {
    return [
      invalidMessage(
        property,
        value,
        `must be a whole number from 0 to ${MAX_KEEP_PREVIOUS_VERSIONS} (each kept version is an image in the ` +
          `region's quota)`,
      ),
    ];
  }
  return [];
}

/** A create/delete timeout in minutes (construct side): a finite number, more than 0 and at most 720. */
export function validateTimeoutMinutes(value: unknown, property: string): string[] {
  if (isAbsent(value)) {
    return [];
  }
  const minutes = parseNumberParameter(value);
  if (minutes === undefined || minutes <= 0 || minutes > MAX_TIMEOUT_MINUTES) {
    return [
      invalidMessage(
        property,
        value,
        `must be a number of minutes more than 0 and at most ${MAX_TIMEOUT_MINUTES}`,
      ),
    ];
  }
  return [];
}

/** A create/delete timeout in seconds (template side): a finite number from 1 to 43200 (720 minutes). */
export function validateTimeoutSeconds(value: unknown, property: string): string[] {
  if (isAbsent(value)) {
    return [];
  }
  const seconds = parseNumberParameter(value);
  if (seconds === undefined || seconds < MIN_TIMEOUT_SECONDS || seconds > MAX_TIMEOUT_SECONDS) {
    return [
      invalidMessage(
        property,
        value,
        `must be a number of seconds from ${MIN_TIMEOUT_SECONDS} to ${MAX_TIMEOUT_SECONDS} (${MAX_TIMEOUT_MINUTES} minutes)`,
      ),
    ];
  }
  return [];
}

/**
 * Everything ImageCopy takes, by meaning. Values are `unknown` because the handler reads them from an event
 * (booleans and numbers possibly as strings, tags possibly as a JSON string). The construct passes minutes, the
 * handler seconds.
 */
export interface ImageCopyInput {
  readonly sourceImageId?: unknown;
  readonly sourceRegionId?: unknown;
  readonly destinationRegionId?: unknown;
  readonly imageName?: unknown;
  readonly description?: unknown;
  readonly encrypted?: unknown;
  readonly kmsKeyId?: unknown;
  readonly tags?: unknown;
  readonly force?: unknown;
  readonly resourceGroupId?: unknown;
  readonly existingImageId?: unknown;
  readonly createTimeoutMinutes?: unknown;
  readonly deleteTimeoutMinutes?: unknown;
  readonly createTimeoutSeconds?: unknown;
  readonly deleteTimeoutSeconds?: unknown;
  /** The other regions of the `ImageReplication` this copy belongs to. */
  readonly replicaRegionIds?: unknown;
  readonly sharedWithAccounts?: unknown;
  readonly imageFamily?: unknown;
  readonly copySourceTags?: unknown;
  readonly keepPreviousVersions?: unknown;
}

/** Whose names a message uses: the construct's props (`imageName`) or the template's parameters (`ImageName`). */
export type PropertyNaming = 'construct' | 'template';

/** The name each input goes by in each naming. */
export const IMAGE_COPY_PROPERTY_NAMES: Record<PropertyNaming, Record<keyof ImageCopyInput, string>> = {
  construct: {
    sourceImageId: 'sourceImageId',
    sourceRegionId: 'sourceRegionId',
    destinationRegionId: 'destinationRegionId',
    imageName: 'imageName',
    description: 'description',
    encrypted: 'encrypted',
    kmsKeyId: 'kmsKeyId',
    tags: 'tags',
    force: 'force',
    resourceGroupId: 'resourceGroupId',
    existingImageId: 'existingImageId',
    createTimeoutMinutes: 'timeouts.create',
    deleteTimeoutMinutes: 'timeouts.delete',
    createTimeoutSeconds: 'timeouts.create',
    deleteTimeoutSeconds: 'timeouts.delete',
    replicaRegionIds: 'destinationRegionIds',
    sharedWithAccounts: 'sharedWithAccounts',
    imageFamily: 'imageFamily',
    copySourceTags: 'copySourceTags',
    keepPreviousVersions: 'keepPreviousVersions',
  },
  template: {
    sourceImageId: ImageCopyParameter.SourceImageId,
    sourceRegionId: ImageCopyParameter.SourceRegionId,
    destinationRegionId: ImageCopyParameter.DestinationRegionId,
    imageName: ImageCopyParameter.ImageName,
    description: ImageCopyParameter.Description,
    encrypted: ImageCopyParameter.Encrypted,
    kmsKeyId: ImageCopyParameter.KmsKeyId,
    tags: ImageCopyParameter.Tags,
    force: ImageCopyParameter.Force,
    resourceGroupId: ImageCopyParameter.ResourceGroupId,
    existingImageId: ImageCopyParameter.ExistingImageId,
    // The template carries seconds only; these two names exist for completeness.
    createTimeoutMinutes: 'CreateTimeoutMinutes',
    deleteTimeoutMinutes: 'DeleteTimeoutMinutes',
    createTimeoutSeconds: ImageCopyParameter.CreateTimeoutSeconds,
    deleteTimeoutSeconds: ImageCopyParameter.DeleteTimeoutSeconds,
    replicaRegionIds: ImageCopyParameter.ReplicaRegionIds,
    sharedWithAccounts: ImageCopyParameter.SharedWithAccounts,
    imageFamily: ImageCopyParameter.ImageFamily,
    copySourceTags: ImageCopyParameter.CopySourceTags,
    keepPreviousVersions: ImageCopyParameter.KeepPreviousVersions,
  },
};

/**
 * All messages for one ImageCopy input, in property order; empty when valid. `sourceImageId` and
 * `sourceRegionId` are required; everything else is optional.
 */
export function validateImageCopyProperties(input: ImageCopyInput, naming: PropertyNaming): string[] {
  const name = IMAGE_COPY_PROPERTY_NAMES[naming];
  const messages: string[] = [];
  for (const required of ['sourceImageId', 'sourceRegionId'] as const) {
    if (isAbsent(input[required])) {
      messages.push(requiredMessage(name[required]));
    }
  }
  messages.push(
    ...validateImageId(input.sourceImageId, name.sourceImageId),
    ...validateRegionId(input.sourceRegionId, name.sourceRegionId),
    ...validateRegionId(input.destinationRegionId, name.destinationRegionId),
    ...validateImageName(input.imageName, name.imageName),
    ...validateDescription(input.description, name.description),
    ...validateBoolean(input.encrypted, name.encrypted),
    ...validateKmsKey(input.encrypted, input.kmsKeyId, name.encrypted, name.kmsKeyId),
    ...validateTags(input.tags, name.tags, !isAbsent(input.replicaRegionIds)),
    ...validateRegionList(input.replicaRegionIds, name.replicaRegionIds),
    ...validateBoolean(input.force, name.force),
    ...validateResourceGroupId(input.resourceGroupId, name.resourceGroupId),
    ...validateImageId(input.existingImageId, name.existingImageId),
    ...validateTimeoutMinutes(input.createTimeoutMinutes, name.createTimeoutMinutes),
    ...validateTimeoutMinutes(input.deleteTimeoutMinutes, name.deleteTimeoutMinutes),
    ...validateTimeoutSeconds(input.createTimeoutSeconds, name.createTimeoutSeconds),
    ...validateTimeoutSeconds(input.deleteTimeoutSeconds, name.deleteTimeoutSeconds),
    ...validateAccountIds(input.sharedWithAccounts, name.sharedWithAccounts),
    ...validateShareEncryption(input.encrypted, input.kmsKeyId, input.sharedWithAccounts, name),
    ...validateImageFamily(input.imageFamily, name.imageFamily),
    ...validateBoolean(input.copySourceTags, name.copySourceTags),
    ...validateKeepPreviousVersions(input.keepPreviousVersions, name.keepPreviousVersions),
  );
  return messages;
}

/** The handler's view: an {@link ImageCopyInput} read from `ResourceProperties` by parameter key. */
export function imageCopyInputFromParameters(properties: ImageCopyResourceProperties): ImageCopyInput {
  return {
    sourceImageId: properties[ImageCopyParameter.SourceImageId],
    sourceRegionId: properties[ImageCopyParameter.SourceRegionId],
    destinationRegionId: properties[ImageCopyParameter.DestinationRegionId],
    imageName: properties[ImageCopyParameter.ImageName],
    description: properties[ImageCopyParameter.Description],
    encrypted: properties[ImageCopyParameter.Encrypted],
    kmsKeyId: properties[ImageCopyParameter.KmsKeyId],
    tags: properties[ImageCopyParameter.Tags],
    force: properties[ImageCopyParameter.Force],
    resourceGroupId: properties[ImageCopyParameter.ResourceGroupId],
    existingImageId: properties[ImageCopyParameter.ExistingImageId],
    createTimeoutSeconds: properties[ImageCopyParameter.CreateTimeoutSeconds],
    deleteTimeoutSeconds: properties[ImageCopyParameter.DeleteTimeoutSeconds],
    replicaRegionIds: properties[ImageCopyParameter.ReplicaRegionIds],
    sharedWithAccounts: properties[ImageCopyParameter.SharedWithAccounts],
    imageFamily: properties[ImageCopyParameter.ImageFamily],
    copySourceTags: properties[ImageCopyParameter.CopySourceTags],
    keepPreviousVersions: properties[ImageCopyParameter.KeepPreviousVersions],
  };
}

/** A list of region ids (or its JSON text, or comma-separated), each valid; absent is fine. */
function validateRegionList(value: unknown, property: string): string[] {
  if (isAbsent(value)) {
    return [];
  }
  const regions = parseRegionListParameter(value);
  if (regions === undefined) {
    return [invalidMessage(property, value, 'must be a list of region ids')];
  }
  return regions.flatMap((region, index) => validateRegionId(region, `${property}[${index}]`));
}
