/**
 * The ECS actions LocalCloud implements, with the request fields, rules and error codes of
 * `reference/ecs-image-api.md`. Every action calls `ctx.authorize('ecs:<Action>', <ARNs>)` once its ARN-forming
 * parameters are present and before it reads or changes anything.
 *
 * Where the reference leaves a choice, LocalCloud:
 * - answers `InvalidImageId.NotFound` (404) for DeleteImage of an unknown image (the docs also say "ignored");
 * - answers `SourceRegion.NotFound` (400) for a CopyImage whose `RegionId` is unknown (CopyImage's own table),
 *   `InvalidRegionId.NotFound` (404) for the other actions;
 * - deletes and cancels at once (no intermediate status; the image is simply gone);
 * - lets the source of a running copy be deleted (the copy still finishes);
 * - names a copy without `DestinationImageName` after its source (so a same-region copy needs a name) and gives
 *   it the source's description;
 * - replays a CopyImage `ClientToken` for at most 24 hours: same parameters → the same `ImageId`, different ones →
 *   `IdempotentParameterMismatch` (the idempotence appendix,
 *   https://www.alibabacloud.com/help/en/ecs/developer-reference/how-to-ensure-idempotence). How long is not
 *   documented: under the `clientTokenReplay` variant `while-image-exists` (the default) only while the copy it made
 *   exists (once it is deleted the token is forgotten and a new copy is made), under `forever` even after the copy
 *   was deleted;
 * - refuses a CopyImage of a source that has a copy in progress (Creating or Waiting) with
 *   `OperationDenied.ImageCopyConflict` (400, documented in the CopyImage reference,
 *   https://www.alibabacloud.com/help/en/ecs/developer-reference/api-ecs-2014-05-26-copyimage); whether the rule spans
 *   destination regions is not documented: the `copyConflict` variant refuses a copy into any region
 *   (`any-destination`, the default), only into the region of the running copy (`same-destination`), or never
 *   (`none`). A ClientToken replay of the running copy itself is answered before the rule, so it is no conflict;
 * - hides a new copy from DescribeImages (by id, tag, name or any other filter) and ListTagResources for
 *   `copyVisibilityDelayMs` after CopyImage under the `copyVisibility` variant `delayed` (the default; how soon a copy
 *   appears is not documented). What the actions by id (CancelCopyImage, DeleteImage, ModifyImageAttribute, the tag
 *   and resource group actions, CopyImage of it) do with it is not documented either: under the `hiddenCopyActions`
 *   variant `not-found` (the default) they answer that it does not exist (`InvalidImageId.NotFound`, or
 *   `InvalidResourceId.NotFound` for the tag and resource group actions), under `work` they treat it as the existing
 *   image it is. Either way it holds its name, a place in the quota and in the copy queue, counts as a running copy of
 *   its source, and a ClientToken replay answers with it;
 * - uses `NumberExceed.Tags` (400) for more than 20 tags in one request and `QuotaExceed.Tags` (403) when a
 *   resource would end up with more than 20;
 * - ListTagResources lists nothing (no error) for unknown resource ids, and returns every tag of a matching image;
 * - accepts any `rg-<alnum>` resource group id (`InvalidResourceGroup.NotFound` otherwise);
 * - ignores DescribeImages filters it does not model (InstanceType, ActionType, ShowExpired, Usable...);
 * - acts for the caller's account (the one whose credentials signed the request): names, quotas, tags and every
 *   action by id concern its own images; an image another account shared with it is listed (`ImageOwnerAlias=others`)
 *   and may be copied within its region, and is "not found" to every other action; ModifyImageSharePermission shares
 *   only with the cloud's accounts; the copy queue and the concurrent-copy rule span accounts (the stricter reading);
 * - plays the sharing and status readings docs/real-cloud.md lists as variants (`shareAccountsOverTen`,
 *   `sharedImageDelete`, `sharedImageTags`, `repeatedImageStatus`).
 */
import { ApiError, invalidParameter, missingParameter } from '../errors';
import type { RequestContext } from '../service';
import type { CloudVariants } from '../variants';
import { IMAGE_STATUSES, type ImageCatalog, type ImageStatus, type StoredImage } from './images';
import {
  MAX_RESOURCE_IDS,
  MAX_TAGS,
  Params,
  checkDescription,
  checkImageFamily,
  checkImageName,
  checkTags,
  dryRunPassed,
  type TagParam,
} from './params';
import { ECS_REGIONS, findRegion, regionEndpoint } from './regions';

/** The readings of undocumented ECS behaviours that LocalCloud's ECS plays (see `lib/local/variants.ts`). */
export type EcsVariants = Pick<
  CloudVariants,
  | 'copyConflict'
  | 'copyVisibility'
  | 'copyVisibilityDelayMs'
  | 'clientTokenReplay'
  | 'hiddenCopyActions'
  | 'shareAccountsOverTen'
  | 'sharedImageDelete'
  | 'sharedImageTags'
  | 'repeatedImageStatus'
  | 'copyQueue'
>;

/** What an action needs besides its parameters. */
export interface ActionEnv {
  readonly catalog: ImageCatalog;
  readonly variants: EcsVariants;
  /** The caller's account: the account whose credentials signed the request. */
  readonly accountId: string;
  /** Whether an account id is one of the cloud's accounts. */
  isAccount(accountId: string): boolean;
  readonly ctx: RequestContext;
  readonly now: () => number;
  /** How long a copy of an image of this size takes. */
  copyDurationMs(sizeGiB: number): number;
  /** Progress and remaining seconds as DescribeImages reports them (with the configured noise). */
  reportedProgress(image: StoredImage, at: number): { progress: number; remainTimeSeconds: number };
}

export type EcsAction = (env: ActionEnv, params: Params) => Record<string, unknown>;

/** At most this many custom images per region (copies in progress included): `QuotaExceed.Image`. */
export const MAX_IMAGES_PER_REGION = 100;
/** Rows per ListTagResources page. */
export const TAG_RESOURCES_PAGE_SIZE = 50;

const imageArn = (env: ActionEnv, regionId: string, imageId: string): string =>
  `acs:ecs:${regionId}:${env.accountId}:image/${imageId}`;

function checkRegion(regionId: string): void {
  if (!findRegion(regionId)) {
    throw new ApiError(
      'InvalidRegionId.NotFound',
      `The specified RegionId "${regionId}" does not exist.`,
      404,
    );
  }
}

function imageNotFound(imageId: string): ApiError {
  return new ApiError('InvalidImageId.NotFound', `The specified ImageId "${imageId}" does not exist.`, 404);
}

/** An image of the caller's in a region: an image shared with the caller is not found (it cannot change it). */
function findImage(env: ActionEnv, regionId: string, imageId: string): StoredImage {
  const image = env.catalog.find(regionId, imageId);
  if (!image || image.ownerId !== env.accountId || isHiddenFromActions(env, image)) {
    throw imageNotFound(imageId);
  }
  return image;
}

/** An image the caller may use (copy): its own, or one shared with it. */
function findUsableImage(env: ActionEnv, regionId: string, imageId: string): StoredImage {
  const image = env.catalog.find(regionId, imageId);
  if (image && image.ownerId !== env.accountId && env.catalog.isSharedWith(image, env.accountId)) {
    return image;
  }
  return findImage(env, regionId, imageId);
}

/** Whether an action by id answers "not found" for this image: a copy not listed yet, under `hiddenCopyActions`. */
function isHiddenFromActions(env: ActionEnv, image: StoredImage): boolean {
  return (
    env.variants.hiddenCopyActions === 'not-found' &&
    !env.catalog.isListed(image, env.catalog.advance(image.regionId))
  );
}

function nameTaken(env: ActionEnv, regionId: string, name: string, except?: string): boolean {
  return env.catalog
    .ownedInRegion(regionId, env.accountId)
    .some((i) => i.imageName === name && i.imageId !== except);
}

function duplicatedName(name: string, regionId: string): ApiError {
  return new ApiError(
    'InvalidImageName.Duplicated',
    `The specified image name "${name}" is already in use in the target region ${regionId}.`,
    400,
  );
}

// ---------------------------------------------------------------------------------------------------------------
// DescribeRegions

const ACCEPT_LANGUAGES = ['zh-CN', 'en-US', 'ja'];
const REGION_RESOURCE_TYPES = ['instance', 'disk', 'reservedinstance', 'scu'];

const describeRegions: EcsAction = (env, p) => {
  env.ctx.authorize('ecs:DescribeRegions', ['*']);
  const language = p.optional('AcceptLanguage') ?? 'zh-CN';
  if (!ACCEPT_LANGUAGES.includes(language)) {
    throw new ApiError(
      'InvalidAcceptLanguage.NotFound',
      `The specified AcceptLanguage "${language}" is not supported.`,
      404,
    );
  }
  const resourceType = p.optional('ResourceType');
  if (resourceType !== undefined && !REGION_RESOURCE_TYPES.includes(resourceType)) {
    throw new ApiError(
      'InvalidResourceType.NotFound',
      `The specified ResourceType "${resourceType}" is not valid.`,
      404,
    );
  }
  return {
    Regions: {
      Region: ECS_REGIONS.map((r) => ({
        RegionId: r.regionId,
        LocalName: language === 'zh-CN' ? r.localName : r.localNameEn,
        RegionEndpoint: regionEndpoint(r.regionId),
        Status: 'available',
      })),
    },
  };
};

// ---------------------------------------------------------------------------------------------------------------
// DescribeImages

const OWNER_ALIASES = ['system', 'self', 'others', 'marketplace'];
const OS_TYPES = ['linux', 'windows'];
const ARCHITECTURES = ['i386', 'x86_64', 'arm64'];
const USAGES = ['instance', 'none'];

function parseStatusFilter(p: Params): ReadonlySet<ImageStatus> {
  const raw = p.optional('Status') ?? 'Available';
  const values = raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (values.includes('ALL')) {
    if (values.length > 1) {
      throw invalidParameter('Status', raw, 'ALL cannot be used together with other values');
    }
    return new Set(IMAGE_STATUSES);
  }
  for (const value of values) {
    if (!IMAGE_STATUSES.includes(value as ImageStatus)) {
      throw invalidParameter('Status', raw, `valid values are ${IMAGE_STATUSES.join(', ')} and ALL`);
    }
  }
  return new Set(values as ImageStatus[]);
}

function oneOf(
  p: Params,
  name: string,
  allowed: readonly string[],
  code: string,
  status = 404,
): string | undefined {
  const value = p.optional(name);
  if (value !== undefined && !allowed.includes(value)) {
    throw new ApiError(
      code,
      `The specified ${name} "${value}" is not valid; valid values: ${allowed.join(', ')}.`,
      status,
    );
  }
  return value;
}

/** `Filter.N.Key` = `CreationStartTime` / `CreationEndTime`, `Filter.N.Value` = `yyyy-MM-ddTHH:mmZ`. */
function parseCreationFilter(p: Params): { from: number; to: number } {
  let from = Number.NEGATIVE_INFINITY;
  let to = Number.POSITIVE_INFINITY;
  for (const field of p.groups('Filter')) {
    const key = field('Key') ?? '';
    const value = field('Value') ?? '';
    if (key !== 'CreationStartTime' && key !== 'CreationEndTime') {
      throw new ApiError(
        'InvalidFilterKey.NotFound',
        `The specified Filter.N.Key "${key}" is not supported.`,
        404,
      );
    }
    const time = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?Z$/.test(value) ? Date.parse(value) : NaN;
    if (Number.isNaN(time)) {
      throw invalidParameter('Filter.N.Value', value, 'format yyyy-MM-ddTHH:mmZ');
    }
    if (key === 'CreationStartTime') {
      from = time;
    } else {
      to = time;
    }
  }
  return { from, to };
}

function hasAllTags(image: StoredImage, filters: readonly TagParam[]): boolean {
  return filters.every((f) => image.tags.some(([k, v]) => k === f.key && (!f.hasValue || v === f.value)));
}

function imageBody(env: ActionEnv, image: StoredImage, at: number): Record<string, unknown> {
  const status = env.catalog.statusOf(image, at);
  const { progress, remainTimeSeconds } = env.reportedProgress(image, at);
  const own = image.ownerId === env.accountId;
  const ownerId = Number(image.ownerId);
  const tagsShown = own || env.variants.sharedImageTags === 'shown';
  return {
    ImageId: image.imageId,
    ImageName: image.imageName,
    Description: image.description,
    Status: status,
    Progress: `${progress}%`,
    IsCopied: image.copy !== undefined,
    ImageOwnerAlias: own ? 'self' : 'others',
    ImageOwnerId: Number.isSafeInteger(ownerId) ? ownerId : 0,
    CreationTime: new Date(image.createdAt).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    Size: image.sizeGiB,
    Usage: image.inUse ? 'instance' : 'none',
    ResourceGroupId: image.resourceGroupId,
    OSType: 'linux',
    OSName: image.osName,
    OSNameEn: image.osNameEn,
    Platform: image.platform,
    Architecture: 'x86_64',
    ImageFamily: image.imageFamily,
    ImageVersion: '',
    IsSelfShared: own && env.catalog.sharesOf(image).length > 0 ? 'True' : 'False',
    IsSubscribed: false,
    IsSupportCloudinit: true,
    IsSupportIoOptimized: true,
    IsPublic: false,
    Usable: status === 'Available',
    ProductCode: '',
    BootMode: image.bootMode,
    LoginAsNonRootSupported: false,
    LicenseType: 'Auto',
    SupplierName: '',
    DiskDeviceMappings: {
      DiskDeviceMapping: [
        {
          Device: '/dev/xvda',
          Type: 'system',
          SnapshotId: image.snapshotId,
          Size: String(image.sizeGiB),
          Format: '',
          ImportOSSBucket: '',
          ImportOSSObject: '',
          Progress: `${progress}%`,
          RemainTime: remainTimeSeconds,
          Encrypted: image.encrypted,
        },
      ],
    },
    Tags: { Tag: tagsShown ? image.tags.map(([TagKey, TagValue]) => ({ TagKey, TagValue })) : [] },
    Features: { NvmeSupport: 'supported', ImdsSupport: 'v2' },
  };
}

const describeImages: EcsAction = (env, p) => {
  const regionId = p.required('RegionId');
  env.ctx.authorize('ecs:DescribeImages', [imageArn(env, regionId, '*')]);
  checkRegion(regionId);
  const statuses = parseStatusFilter(p);
  const ids = p
    .optional('ImageId')
    ?.split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const name = p.optional('ImageName')?.toLowerCase();
  const alias = oneOf(p, 'ImageOwnerAlias', OWNER_ALIASES, 'InvalidImageOwnerAlias.ValueNotSupported', 400);
  const ownerId = p.optional('ImageOwnerId');
  const tags = p.tags(
    () => new ApiError('InvalidTag.Mismatch', 'The specified Tag.N.Key and Tag.N.Value do not match.', 400),
  );
  if (tags.length > MAX_TAGS) {
    throw new ApiError(
      'InvalidTagCount',
      `The maximum number of Tag.N is ${MAX_TAGS}, got ${tags.length}.`,
      400,
    );
  }
  const osType = oneOf(p, 'OSType', OS_TYPES, 'InvalidOSType');
  const architecture = oneOf(p, 'Architecture', ARCHITECTURES, 'InvalidArchitecture');
  const usage = oneOf(p, 'Usage', USAGES, 'InvalidUsage');
  const isPublic = p.bool('IsPublic');
  const resourceGroupId = p.optional('ResourceGroupId');
  const family = p.optional('ImageFamily');
  const snapshotId = p.optional('SnapshotId');
  const created = parseCreationFilter(p);
  const pageNumber = p.int('PageNumber', 1, 1, Number.MAX_SAFE_INTEGER);
  const pageSize = p.int('PageSize', 10, 1, 100);
  if (p.bool('DryRun')) {
    throw dryRunPassed();
  }

  const at = env.catalog.advance(regionId);
  // LocalCloud holds custom images only: the caller's (`self`) and those shared with it (`others`); ImageOwnerAlias
  // system and marketplace, and IsPublic, find nothing.
  const visible = (image: StoredImage): boolean => {
    const own = image.ownerId === env.accountId;
    const shared = !own && env.catalog.isSharedWith(image, env.accountId);
    return (
      (alias === undefined ? own || shared : alias === 'self' ? own : alias === 'others' && shared) &&
      (!ownerId || image.ownerId === ownerId)
    );
  };
  const matches = !isPublic
    ? env.catalog
        .inRegion(regionId)
        .filter(visible)
        .filter((image) => env.catalog.isListed(image, at))
        .filter((image) => statuses.has(env.catalog.statusOf(image, at)))
        .filter((image) => !ids || ids.includes(image.imageId))
        .filter((image) => name === undefined || image.imageName.toLowerCase().includes(name))
        .filter((image) => hasAllTags(image, tags))
        .filter(() => osType === undefined || osType === 'linux')
        .filter(() => architecture === undefined || architecture === 'x86_64')
        .filter((image) => usage === undefined || usage === (image.inUse ? 'instance' : 'none'))
        .filter((image) => resourceGroupId === undefined || image.resourceGroupId === resourceGroupId)
        .filter((image) => family === undefined || image.imageFamily === family)
        .filter((image) => snapshotId === undefined || image.snapshotId === snapshotId)
        .filter((image) => image.createdAt >= created.from && image.createdAt <= created.to)
        .reverse() // newest first, as ECS lists them
    : [];
  const page = matches.slice((pageNumber - 1) * pageSize, pageNumber * pageSize);
  return {
    RegionId: regionId,
    TotalCount: matches.length,
    PageNumber: pageNumber,
    PageSize: pageSize,
    Images: { Image: page.map((image) => imageBody(env, image, at)) },
  };
};

// ---------------------------------------------------------------------------------------------------------------
// CopyImage

function copyFingerprint(p: Params): string {
  const entries = Object.entries(p.raw)
    .filter(([key]) => key !== 'ClientToken')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify(entries);
}

const copyImage: EcsAction = (env, p) => {
  const regionId = p.required('RegionId');
  const sourceImageId = p.required('ImageId');
  const destinationRegionId = p.optional('DestinationRegionId') ?? regionId;
  env.ctx.authorize('ecs:CopyImage', [
    imageArn(env, regionId, sourceImageId),
    imageArn(env, destinationRegionId, '*'),
  ]);
  if (!findRegion(regionId)) {
    throw new ApiError(
      'SourceRegion.NotFound',
      `The specified source region "${regionId}" does not exist.`,
      400,
    );
  }
  if (!findRegion(destinationRegionId)) {
    throw new ApiError(
      'DestinationRegion.NotFound',
      `The specified DestinationRegionId "${destinationRegionId}" does not exist.`,
      400,
    );
  }
  const name = p.optional('DestinationImageName');
  if (name !== undefined) {
    checkImageName(name, 'DestinationImageName');
  }
  const description = p.optional('DestinationDescription');
  if (description !== undefined) {
    checkDescription(description, 'DestinationDescription');
  }
  const encrypted = p.bool('Encrypted');
  const kmsKeyId = p.optional('KMSKeyId');
  if (kmsKeyId !== undefined && !encrypted) {
    throw new ApiError(
      'InvalidParameter.EncryptedIllegal',
      'The parameter KMSKeyId is only valid when Encrypted is true.',
      400,
    );
  }
  const resourceGroupId = p.optional('ResourceGroupId');
  if (resourceGroupId !== undefined) {
    checkResourceGroupId(resourceGroupId);
  }
  const tags = p.tags(
    () => new ApiError('InvalidTagKey.Malformed', 'Tag.N.Key must be given with Tag.N.Value.'),
  );
  checkTags(tags);
  const clientToken = p.optional('ClientToken');
  if (clientToken !== undefined && (clientToken.length > 64 || !/^[\x20-\x7e]+$/.test(clientToken))) {
    throw invalidParameter('ClientToken', clientToken, 'at most 64 ASCII characters');
  }
  const dryRun = p.bool('DryRun');

  const fingerprint = copyFingerprint(p);
  const replayed =
    clientToken !== undefined
      ? env.catalog.replayCopyToken(clientToken, fingerprint, env.variants.clientTokenReplay)
      : undefined;
  if (replayed !== undefined) {
    if (dryRun) {
      throw dryRunPassed();
    }
    return { ImageId: replayed };
  }

  const at = env.catalog.advance(regionId);
  const source = findUsableImage(env, regionId, sourceImageId);
  if (source.ownerId !== env.accountId && destinationRegionId !== regionId) {
    throw new ApiError(
      'OperationDenied.SameRegionOnly',
      `The image ${sourceImageId} is shared with you by another account: it can be copied only within its region ` +
        `${regionId}, not to ${destinationRegionId}.`,
      403,
    );
  }
  if (env.catalog.statusOf(source, at) !== 'Available') {
    throw new ApiError('IncorrectImageStatus', 'The image not available.', 400);
  }
  if (env.variants.copyConflict !== 'none') {
    const running = env.catalog
      .runningCopiesOf(regionId, sourceImageId)
      .filter(
        (copy) => env.variants.copyConflict === 'any-destination' || copy.regionId === destinationRegionId,
      );
    if (running.length > 0) {
      throw new ApiError(
        'OperationDenied.ImageCopyConflict',
        'The same image cannot be copied concurrently. Please wait until the last copy is completed.',
        400,
      );
    }
  }
  const destinationImages = env.catalog.ownedInRegion(destinationRegionId, env.accountId);
  if (destinationImages.length >= MAX_IMAGES_PER_REGION) {
    throw new ApiError(
      'QuotaExceed.Image',
      `The number of images exceeds the limit (${MAX_IMAGES_PER_REGION}).`,
      403,
    );
  }
  const imageName = name ?? source.imageName;
  if (nameTaken(env, destinationRegionId, imageName)) {
    throw duplicatedName(imageName, destinationRegionId);
  }
  if (dryRun) {
    throw dryRunPassed();
  }

  const copy = env.catalog.add({
    regionId: destinationRegionId,
    ownerId: env.accountId,
    imageName,
    description: description ?? source.description,
    sizeGiB: source.sizeGiB,
    status: 'Available',
    tags: tags.map((t) => [t.key, t.value] as const),
    resourceGroupId: resourceGroupId ?? '',
    encrypted: encrypted || source.encrypted,
    ...(kmsKeyId !== undefined ? { kmsKeyId } : {}),
    platform: { platform: source.platform, osName: source.osName, osNameEn: source.osNameEn },
    copy: {
      sourceImageId,
      sourceRegionId: regionId,
      requestedAt: at,
      durationMs: Math.max(0, env.copyDurationMs(source.sizeGiB)),
      cancelSupported: true,
    },
    ...(env.variants.copyVisibility === 'delayed' && env.variants.copyVisibilityDelayMs > 0
      ? { visibleAt: env.now() + env.variants.copyVisibilityDelayMs }
      : {}),
  });
  if (clientToken !== undefined) {
    env.catalog.rememberCopyToken(clientToken, fingerprint, copy.imageId);
  }
  return { ImageId: copy.imageId };
};

// ---------------------------------------------------------------------------------------------------------------
// CancelCopyImage, DeleteImage, ModifyImageAttribute

const cancelCopyImage: EcsAction = (env, p) => {
  const regionId = p.required('RegionId');
  const imageId = p.required('ImageId');
  env.ctx.authorize('ecs:CancelCopyImage', [imageArn(env, regionId, imageId)]);
  checkRegion(regionId);
  const at = env.catalog.advance(regionId);
  const image = findImage(env, regionId, imageId);
  if (!image.copy) {
    throw new ApiError('ImageCreatedNotFromCopy', `The image ${imageId} was not created by CopyImage.`, 400);
  }
  const status = env.catalog.statusOf(image, at);
  if (status === 'CreateFailed') {
    throw new ApiError('IncorrectImageStatus', 'The Image copy has been failed.', 400);
  }
  if (status !== 'Creating' && status !== 'Waiting') {
    throw new ApiError('IncorrectImageStatus', 'The image copy has completed.', 400);
  }
  if (!image.copy.cancelSupported) {
    throw new ApiError('CancelNotSupported', 'The specified image coping can not be cancelled.', 400);
  }
  env.catalog.remove(image);
  return {};
};

const deleteImage: EcsAction = (env, p) => {
  const regionId = p.required('RegionId');
  const imageId = p.required('ImageId');
  env.ctx.authorize('ecs:DeleteImage', [imageArn(env, regionId, imageId)]);
  checkRegion(regionId);
  const force = p.bool('Force');
  const dryRun = p.bool('DryRun');
  const at = env.catalog.advance(regionId);
  const image = findImage(env, regionId, imageId);
  const status = env.catalog.statusOf(image, at);
  if (image.copy && (status === 'Creating' || status === 'Waiting')) {
    throw new ApiError('OperationDenied.ImageCopying', 'The Image is coping.', 403);
  }
  if (status === 'Creating' || status === 'Waiting') {
    throw new ApiError('ImageIsCreating', 'The specified image is being created.', 403);
  }
  if (env.catalog.sharesOf(image).length > 0 && (!force || env.variants.sharedImageDelete === 'refused')) {
    throw new ApiError(
      'ImageUseShared',
      'The specified image has been shared to others. You can use the DescribeImageSharePermission API to query ' +
        'the users who have been shared.',
      403,
    );
  }
  if (image.inUse && !force) {
    throw new ApiError(
      'ImageUsingByInstance',
      'The specified image is being used by instances; use Force=true to delete it anyway.',
      403,
    );
  }
  if (dryRun) {
    throw dryRunPassed();
  }
  env.catalog.remove(image);
  return {};
};

const BOOT_MODES = ['BIOS', 'UEFI', 'UEFI-Preferred'];

/**
 * ModifyImageAttribute `Status`, with the codes of its reference: an image being created (a copy in progress)
 * `InvalidStatus.ImageIsCreating`; `Deprecated` needs an Available image (`ImageStatus.NotAvailable`) that is shared
 * with no account (`ImageUseShared`: "please remove shared accounts first"); `Available` needs a Deprecated one
 * (`ImageStatus.NotDeprecated`). Setting the status an image already has is refused or accepted as the
 * `repeatedImageStatus` variant says.
 */
function checkStatusChange(
  env: ActionEnv,
  image: StoredImage,
  status: ImageStatus,
  newStatus: 'Available' | 'Deprecated',
): void {
  if (status === 'Creating' || status === 'Waiting') {
    throw new ApiError(
      'InvalidStatus.ImageIsCreating',
      'The operation cannot be performed because the image is creating. Please wait until the creation is ' +
        'complete and try again.',
      403,
    );
  }
  if (status === newStatus && env.variants.repeatedImageStatus === 'accepted') {
    return;
  }
  if (newStatus === 'Deprecated' && status !== 'Available') {
    throw new ApiError(
      'ImageStatus.NotAvailable',
      `The specified image status is not available: ${image.imageId} is ${status}.`,
      403,
    );
  }
  if (newStatus === 'Available' && status !== 'Deprecated') {
    throw new ApiError(
      'ImageStatus.NotDeprecated',
      `The specified image status is not deprecated: ${image.imageId} is ${status}.`,
      403,
    );
  }
  if (newStatus === 'Deprecated' && env.catalog.sharesOf(image).length > 0) {
    throw new ApiError(
      'ImageUseShared',
      `The specified image has been shared to others, please remove shared accounts first (${image.imageId} is ` +
        `shared with ${env.catalog.sharesOf(image).length} account(s)).`,
      403,
    );
  }
}

const modifyImageAttribute: EcsAction = (env, p) => {
  const regionId = p.required('RegionId');
  const imageId = p.required('ImageId');
  env.ctx.authorize('ecs:ModifyImageAttribute', [imageArn(env, regionId, imageId)]);
  checkRegion(regionId);
  const name = p.optional('ImageName');
  if (name !== undefined) {
    checkImageName(name, 'ImageName');
  }
  const description = p.optional('Description');
  if (description !== undefined) {
    checkDescription(description, 'Description');
  }
  const statusParam = p.optional('Status');
  if (statusParam !== undefined && statusParam !== 'Available' && statusParam !== 'Deprecated') {
    throw invalidParameter('Status', statusParam, 'valid values are Available and Deprecated');
  }
  const newStatus = statusParam as 'Available' | 'Deprecated' | undefined;
  const bootMode = oneOf(p, 'BootMode', BOOT_MODES, 'InvalidParameter', 400);
  const family = p.optional('ImageFamily');
  if (family !== undefined) {
    checkImageFamily(family, 'ImageFamily');
  }
  const dryRun = p.bool('DryRun');
  const at = env.catalog.advance(regionId);
  const image = findImage(env, regionId, imageId);
  if (name !== undefined && nameTaken(env, regionId, name, imageId)) {
    throw duplicatedName(name, regionId);
  }
  const status = env.catalog.statusOf(image, at);
  if (newStatus !== undefined) {
    checkStatusChange(env, image, status, newStatus);
  }
  if (dryRun) {
    throw dryRunPassed();
  }
  if (name !== undefined) {
    image.imageName = name;
  }
  if (description !== undefined) {
    image.description = description;
  }
  if (newStatus !== undefined) {
    image.status = newStatus;
  }
  if (bootMode !== undefined) {
    image.bootMode = bootMode;
  }
  if (family !== undefined) {
    image.imageFamily = family;
  }
  env.catalog.changed();
  return {};
};

// ---------------------------------------------------------------------------------------------------------------
// DescribeImageFromFamily

const describeImageFromFamily: EcsAction = (env, p) => {
  const regionId = p.required('RegionId');
  const family = p.required('ImageFamily');
  env.ctx.authorize('ecs:DescribeImageFromFamily', ['*']);
  checkRegion(regionId);
  checkImageFamily(family, 'ImageFamily');
  const at = env.catalog.advance(regionId);
  // The caller's own custom images only: "Public images, Alibaba Cloud Marketplace images, community images, or
  // shared images are not queried" (the reference, 2024); the newest Available one; none is an empty answer.
  const latest = env.catalog
    .ownedInRegion(regionId, env.accountId)
    .filter((image) => image.imageFamily === family)
    .filter((image) => env.catalog.isListed(image, at))
    .filter((image) => env.catalog.statusOf(image, at) === 'Available')
    .pop();
  return { Image: latest ? imageBody(env, latest, at) : {} };
};

// ---------------------------------------------------------------------------------------------------------------
// ModifyImageSharePermission, DescribeImageSharePermission

/** At most this many accounts in one call's `AddAccount.N` / `RemoveAccount.N`. */
export const MAX_SHARE_ACCOUNTS_PER_CALL = 10;
/** At most this many accounts an image is shared with. */
export const MAX_SHARE_ACCOUNTS_PER_IMAGE = 50;

/** `AddAccount.N` or `RemoveAccount.N`, over ten read as the `shareAccountsOverTen` variant says. */
function shareAccounts(env: ActionEnv, p: Params, name: 'AddAccount' | 'RemoveAccount'): string[] {
  const accounts = [...new Set(p.list(name))];
  if (accounts.length <= MAX_SHARE_ACCOUNTS_PER_CALL) {
    return accounts;
  }
  return env.variants.shareAccountsOverTen === 'first-ten'
    ? accounts.slice(0, MAX_SHARE_ACCOUNTS_PER_CALL)
    : [];
}

function checkShareAccount(env: ActionEnv, accountId: string, name: string): void {
  if (accountId === env.accountId) {
    throw new ApiError('InvalidAccount.Forbbiden', 'The specified Account does not yourself.', 404);
  }
  if (!/^\d+$/.test(accountId) || !env.isAccount(accountId)) {
    throw new ApiError(
      'InvalidAccount.NotFound',
      `The specified account ${accountId} in parameter "${name}.n" does not exist.`,
      404,
    );
  }
}

const modifyImageSharePermission: EcsAction = (env, p) => {
  const regionId = p.required('RegionId');
  const imageId = p.required('ImageId');
  env.ctx.authorize('ecs:ModifyImageSharePermission', [imageArn(env, regionId, imageId)]);
  checkRegion(regionId);
  if (p.optional('LaunchPermission') !== undefined) {
    throw new ApiError(
      'ForbiddenParameter.LaunchPermission',
      'The specified parameter "LaunchPermission" is forbidden for current account.',
      400,
    );
  }
  if (p.bool('IsPublic')) {
    throw new ApiError(
      'PublicImageAgreement.NotSigned',
      'The current account has not signed "Community Image Terms of Service" (LocalCloud publishes no community images).',
      403,
    );
  }
  const add = shareAccounts(env, p, 'AddAccount');
  const remove = shareAccounts(env, p, 'RemoveAccount');
  add.forEach((accountId) => checkShareAccount(env, accountId, 'AddAccount'));
  remove.forEach((accountId) => checkShareAccount(env, accountId, 'RemoveAccount'));
  const dryRun = p.bool('DryRun');
  const at = env.catalog.advance(regionId);
  const image = findImage(env, regionId, imageId);
  if (add.length > 0) {
    const status = env.catalog.statusOf(image, at);
    if (status === 'Deprecated') {
      throw new ApiError(
        'OperationDenied.InvalidImageStatus',
        'The specified image cannot be shared when it is deprecated.',
        403,
      );
    }
    if (status !== 'Available') {
      throw new ApiError(
        'IncorrectImageStatus',
        `The image is not available (its status is ${status}).`,
        400,
      );
    }
    if (image.encrypted && image.kmsKeyId === undefined) {
      throw new ApiError(
        'InvalidOperation.ServiceKeyEncryptedImageUnsupported',
        'The specified service key encrypted image is not supported for this operation. Please switch to a CMK ' +
          '(Customer Master Key) encrypted image and retry.',
        403,
      );
    }
    const after = new Set(env.catalog.sharesOf(image).map((share) => share.accountId));
    remove.forEach((accountId) => after.delete(accountId));
    add.forEach((accountId) => after.add(accountId));
    if (after.size > MAX_SHARE_ACCOUNTS_PER_IMAGE) {
      throw new ApiError(
        'QuotaExceed.ShareImageUser',
        `The shared Image user Quota exceeds: an image can be shared with at most ${MAX_SHARE_ACCOUNTS_PER_IMAGE} ` +
          `accounts, and this would share ${imageId} with ${after.size}.`,
        403,
      );
    }
  }
  if (dryRun) {
    throw dryRunPassed();
  }
  env.catalog.changeShares(image, add, remove);
  return {};
};

const describeImageSharePermission: EcsAction = (env, p) => {
  const regionId = p.required('RegionId');
  const imageId = p.required('ImageId');
  env.ctx.authorize('ecs:DescribeImageSharePermission', [imageArn(env, regionId, imageId)]);
  checkRegion(regionId);
  const pageNumber = p.int('PageNumber', 1, 1, Number.MAX_SAFE_INTEGER);
  const pageSize = p.int('PageSize', 10, 1, 100);
  env.catalog.advance(regionId);
  const image = findImage(env, regionId, imageId);
  const shares = env.catalog.sharesOf(image);
  return {
    RegionId: regionId,
    ImageId: imageId,
    TotalCount: shares.length,
    PageNumber: pageNumber,
    PageSize: pageSize,
    ShareGroups: { ShareGroup: [] },
    Accounts: {
      Account: shares
        .slice((pageNumber - 1) * pageSize, pageNumber * pageSize)
        // `yyyy-MM-ddThh:mmZ`, as the reference gives SharedTime.
        .map((share) => ({
          AliyunId: share.accountId,
          SharedTime: `${new Date(share.sharedAt).toISOString().slice(0, 16)}Z`,
        })),
    },
  };
};

// ---------------------------------------------------------------------------------------------------------------
// Tags and resource groups

function checkResourceType(p: Params): void {
  const type = p.optional('ResourceType');
  if (type === undefined) {
    throw new ApiError(
      'MissingParameter.ResourceType',
      'The input parameter "ResourceType" that is mandatory for processing this request is not supplied.',
      404,
    );
  }
  if (type.toLowerCase() !== 'image') {
    throw new ApiError(
      'InvalidResourceType.NotFound',
      `The specified ResourceType "${type}" is not found; LocalCloud's ECS supports only "image".`,
      404,
    );
  }
}

function checkResourceGroupId(resourceGroupId: string): void {
  if (!/^rg-[a-z0-9]+$/i.test(resourceGroupId)) {
    throw new ApiError(
      'InvalidResourceGroup.NotFound',
      `The specified ResourceGroupId "${resourceGroupId}" does not exist.`,
      404,
    );
  }
}

function resourceIds(p: Params, required: boolean): string[] {
  const ids = [...new Set(p.list('ResourceId'))];
  if (required && ids.length === 0) {
    throw missingParameter('ResourceId.N');
  }
  if (ids.length > MAX_RESOURCE_IDS) {
    throw new ApiError(
      'NumberExceed.ResourceIds',
      `The maximum number of ResourceId.N is exceeded. Valid : ${MAX_RESOURCE_IDS}, got ${ids.length}.`,
      400,
    );
  }
  return ids;
}

function taggedImages(env: ActionEnv, regionId: string, ids: readonly string[]): StoredImage[] {
  return ids.map((id) => {
    const image = env.catalog.find(regionId, id);
    if (!image || image.ownerId !== env.accountId || isHiddenFromActions(env, image)) {
      throw new ApiError('InvalidResourceId.NotFound', `The specified ResourceId "${id}" is not found.`, 404);
    }
    return image;
  });
}

const tagResources: EcsAction = (env, p) => {
  const regionId = p.required('RegionId');
  checkResourceType(p);
  const ids = resourceIds(p, true);
  env.ctx.authorize(
    'ecs:TagResources',
    ids.map((id) => imageArn(env, regionId, id)),
  );
  checkRegion(regionId);
  const tags = p.tags(
    () => new ApiError('InvalidTagKey.Malformed', 'Tag.N.Key must be given with Tag.N.Value.'),
  );
  if (tags.length === 0) {
    throw new ApiError(
      'MissingParameter.Tags',
      'The input parameter "Tag.N" that is mandatory for processing this request is not supplied.',
      404,
    );
  }
  checkTags(tags);
  const images = taggedImages(env, regionId, ids);
  for (const image of images) {
    const keys = new Set([...image.tags.map(([k]) => k), ...tags.map((t) => t.key)]);
    if (keys.size > MAX_TAGS) {
      throw new ApiError(
        'QuotaExceed.Tags',
        `The number of tags on resource ${image.imageId} would exceed the limit (${MAX_TAGS}).`,
        403,
      );
    }
  }
  for (const image of images) {
    for (const tag of tags) {
      const existing = image.tags.find(([k]) => k === tag.key);
      if (existing) {
        existing[1] = tag.value;
      } else {
        image.tags.push([tag.key, tag.value]);
      }
    }
  }
  env.catalog.changed();
  return {};
};

const untagResources: EcsAction = (env, p) => {
  const regionId = p.required('RegionId');
  checkResourceType(p);
  const ids = resourceIds(p, true);
  env.ctx.authorize(
    'ecs:UntagResources',
    ids.map((id) => imageArn(env, regionId, id)),
  );
  checkRegion(regionId);
  const keys = p.list('TagKey');
  if (keys.length > MAX_TAGS) {
    throw new ApiError(
      'NumberExceed.Tags',
      `The maximum number of TagKey.N is exceeded. Valid : ${MAX_TAGS}, got ${keys.length}.`,
      400,
    );
  }
  const all = p.bool('All');
  const images = taggedImages(env, regionId, ids);
  for (const image of images) {
    if (keys.length > 0) {
      image.tags = image.tags.filter(([k]) => !keys.includes(k));
    } else if (all) {
      image.tags = [];
    }
  }
  env.catalog.changed();
  return {};
};

/** `*` matches any run of characters (`env*`, `*env*`); otherwise an exact match. */
const wildcard = (pattern: string): RegExp =>
  new RegExp(
    `^${pattern
      .split('*')
      .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  );

interface TagFilter {
  readonly key: string;
  readonly values: string[];
}

function matchesTagFilter(image: StoredImage, filter: TagFilter): boolean {
  if (filter.values.length === 0) {
    const key = wildcard(filter.key);
    return image.tags.some(([k]) => key.test(k));
  }
  const values = filter.values.map(wildcard);
  return image.tags.some(([k, v]) => k === filter.key && values.some((value) => value.test(v)));
}

function parseNextToken(token: string | undefined): number {
  if (token === undefined) {
    return 0;
  }
  const match = /^offset:(\d+)$/.exec(Buffer.from(token, 'base64url').toString('utf8'));
  if (!match) {
    throw invalidParameter('NextToken', token, 'use the NextToken of the previous response');
  }
  return Number(match[1]);
}

const listTagResources: EcsAction = (env, p) => {
  const regionId = p.required('RegionId');
  checkResourceType(p);
  env.ctx.authorize('ecs:ListTagResources', [imageArn(env, regionId, '*')]);
  checkRegion(regionId);
  const ids = resourceIds(p, false);
  const tags = p.tags(
    () => new ApiError('InvalidParameter.TagValue', 'Tag.N.Value was given without Tag.N.Key.', 400),
  );
  if (tags.length > MAX_TAGS) {
    throw new ApiError(
      'NumberExceed.Tags',
      `The maximum number of Tag.N is exceeded. Valid : ${MAX_TAGS}, got ${tags.length}.`,
      400,
    );
  }
  const filters: TagFilter[] = p.groups('TagFilter').map((field, i) => {
    const key = field('TagKey');
    if (key === undefined || key === '') {
      throw missingParameter(`TagFilter.${i + 1}.TagKey`);
    }
    const values = new Params(
      Object.fromEntries(
        Object.entries(p.raw)
          .filter(([k]) => k.startsWith(`TagFilter.${i + 1}.TagValues.`))
          .map(([k, v]) => [k.slice(`TagFilter.${i + 1}.`.length), v]),
      ),
    ).list('TagValues');
    return { key, values };
  });
  if (ids.length === 0 && tags.length === 0 && filters.length === 0) {
    throw new ApiError(
      'MissingParameter',
      'At least one of the parameters "ResourceId.N", "Tag.N" and "TagFilter.N" must be specified.',
      400,
    );
  }
  const offset = parseNextToken(p.optional('NextToken'));

  const at = env.catalog.advance(regionId);
  const rows = env.catalog
    .ownedInRegion(regionId, env.accountId)
    .filter((image) => env.catalog.isListed(image, at))
    .filter((image) => ids.length === 0 || ids.includes(image.imageId))
    .filter((image) => hasAllTags(image, tags))
    .filter((image) => filters.every((filter) => matchesTagFilter(image, filter)))
    .flatMap((image) =>
      image.tags.map(([TagKey, TagValue]) => ({
        ResourceId: image.imageId,
        ResourceType: 'image',
        TagKey,
        TagValue,
      })),
    );
  const end = offset + TAG_RESOURCES_PAGE_SIZE;
  return {
    NextToken: end < rows.length ? Buffer.from(`offset:${end}`).toString('base64url') : '',
    TagResources: { TagResource: rows.slice(offset, end) },
  };
};

const joinResourceGroup: EcsAction = (env, p) => {
  const regionId = p.required('RegionId');
  checkResourceType(p);
  const imageId = p.required('ResourceId');
  const resourceGroupId = p.required('ResourceGroupId');
  env.ctx.authorize('ecs:JoinResourceGroup', [imageArn(env, regionId, imageId)]);
  checkRegion(regionId);
  checkResourceGroupId(resourceGroupId);
  const [image] = taggedImages(env, regionId, [imageId]);
  image.resourceGroupId = resourceGroupId;
  env.catalog.changed();
  return {};
};

/** The ECS actions LocalCloud implements, by name. */
export const ECS_ACTIONS: Readonly<Record<string, EcsAction>> = {
  DescribeRegions: describeRegions,
  DescribeImages: describeImages,
  CopyImage: copyImage,
  CancelCopyImage: cancelCopyImage,
  DeleteImage: deleteImage,
  ModifyImageAttribute: modifyImageAttribute,
  DescribeImageFromFamily: describeImageFromFamily,
  ModifyImageSharePermission: modifyImageSharePermission,
  DescribeImageSharePermission: describeImageSharePermission,
  TagResources: tagResources,
  UntagResources: untagResources,
  ListTagResources: listTagResources,
  JoinResourceGroup: joinResourceGroup,
};
