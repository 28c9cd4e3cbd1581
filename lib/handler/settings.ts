/**
 * The custom resource's `ResourceProperties`, checked with the rules shared with the construct and read into
 * typed settings with their defaults. Booleans and numbers may arrive as strings; `Tags` as an object or its
 * JSON string; `DestinationRegionId` defaults to the event's region.
 */
import {
  DEFAULT_CREATE_TIMEOUT_MINUTES,
  DEFAULT_DELETE_TIMEOUT_MINUTES,
  ImageCopyParameter,
  type ImageCopyResourceProperties,
  parseBooleanParameter,
  parseNumberParameter,
  parseRegionListParameter,
  parseStringListParameter,
  parseTagsParameter,
} from '../protocol';
import { imageCopyInputFromParameters, validateImageCopyProperties } from '../validation';
import { ImageCopyError } from './errors';

/** What one ImageCopy wants, with defaults applied. */
export interface ImageCopySettings {
  readonly sourceImageId: string;
  readonly sourceRegionId: string;
  readonly destinationRegionId: string;
  readonly imageName?: string;
  readonly description?: string;
  readonly encrypted: boolean;
  readonly kmsKeyId?: string;
  /** User tags (the ownership tag is not among them). */
  readonly tags: Readonly<Record<string, string>>;
  readonly force: boolean;
  readonly resourceGroupId?: string;
  readonly existingImageId?: string;
  readonly createTimeoutSeconds: number;
  readonly deleteTimeoutSeconds: number;
  /**
   * The other destination regions of the `ImageReplication` this copy belongs to (none for a lone copy): where a
   * finished copy of the same source may be copied from when the source itself is busy.
   */
  readonly replicaRegionIds: readonly string[];
  /**
   * The accounts the copy is shared with, in the order given; undefined when the resource does not manage sharing
   * (then no sharing call is made at all).
   */
  readonly sharedWithAccounts?: readonly string[];
  readonly imageFamily?: string;
  /** Put the source image's tags on the copy (the user's tags win). @default false */
  readonly copySourceTags?: boolean;
  /** How many previous copies a replacement keeps (deprecated) instead of deleting them. @default 0 */
  readonly keepPreviousVersions?: number;
}

const DEFAULT_CREATE_TIMEOUT_SECONDS = DEFAULT_CREATE_TIMEOUT_MINUTES * 60;
const DEFAULT_DELETE_TIMEOUT_SECONDS = DEFAULT_DELETE_TIMEOUT_MINUTES * 60;

function optionalText(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function positiveNumber(value: unknown, fallback: number): number {
  const number = parseNumberParameter(value);
  return number !== undefined && number > 0 ? number : fallback;
}

function stringTags(value: unknown): Record<string, string> {
  const tags = parseTagsParameter(value) ?? {};
  return Object.fromEntries(
    Object.entries(tags)
      .filter(([, tagValue]) => tagValue !== undefined && tagValue !== null)
      .map(([key, tagValue]) => [key, String(tagValue)]),
  );
}

/** Reads settings without judging them: what is unreadable falls back to its default (or is left empty). */
export function readSettingsLeniently(
  properties: ImageCopyResourceProperties,
  eventRegionId: string,
): ImageCopySettings {
  const p = properties;
  return {
    sourceImageId: optionalText(p[ImageCopyParameter.SourceImageId]) ?? '',
    sourceRegionId: optionalText(p[ImageCopyParameter.SourceRegionId]) ?? '',
    destinationRegionId: optionalText(p[ImageCopyParameter.DestinationRegionId]) ?? eventRegionId,
    imageName: optionalText(p[ImageCopyParameter.ImageName]),
    description: optionalText(p[ImageCopyParameter.Description]),
    encrypted: parseBooleanParameter(p[ImageCopyParameter.Encrypted]) ?? false,
    kmsKeyId: optionalText(p[ImageCopyParameter.KmsKeyId]),
    tags: stringTags(p[ImageCopyParameter.Tags]),
    force: parseBooleanParameter(p[ImageCopyParameter.Force]) ?? false,
    resourceGroupId: optionalText(p[ImageCopyParameter.ResourceGroupId]),
    existingImageId: optionalText(p[ImageCopyParameter.ExistingImageId]),
    createTimeoutSeconds: positiveNumber(
      p[ImageCopyParameter.CreateTimeoutSeconds],
      DEFAULT_CREATE_TIMEOUT_SECONDS,
    ),
    deleteTimeoutSeconds: positiveNumber(
      p[ImageCopyParameter.DeleteTimeoutSeconds],
      DEFAULT_DELETE_TIMEOUT_SECONDS,
    ),
    replicaRegionIds: parseRegionListParameter(p[ImageCopyParameter.ReplicaRegionIds]) ?? [],
    sharedWithAccounts: parseStringListParameter(p[ImageCopyParameter.SharedWithAccounts]),
    imageFamily: optionalText(p[ImageCopyParameter.ImageFamily]),
    copySourceTags: parseBooleanParameter(p[ImageCopyParameter.CopySourceTags]) ?? false,
    keepPreviousVersions: Math.max(
      0,
      Math.floor(parseNumberParameter(p[ImageCopyParameter.KeepPreviousVersions]) ?? 0),
    ),
  };
}

/**
 * Validates with the shared rules and reads settings; throws {@link ImageCopyError} `InvalidProperties` whose
 * message lists every problem, each naming the property, the value and the rule.
 */
export function readSettings(
  properties: ImageCopyResourceProperties,
  eventRegionId: string,
): ImageCopySettings {
  const messages = validateImageCopyProperties(imageCopyInputFromParameters(properties), 'template');
  if (messages.length > 0) {
    throw new ImageCopyError('InvalidProperties', `Invalid ImageCopy properties: ${messages.join('; ')}`);
  }
  return readSettingsLeniently(properties, eventRegionId);
}
