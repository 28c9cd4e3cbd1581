/**
 * What a `Custom::ImageDistribution` request must do, decided without calling anything: its settings read from the
 * properties (every rule the construct checks, again, since tokens were only resolved at deploy time), the
 * (account, region) pairs wanted, the stack group operations that turn the instances there are into those wanted
 * (grouped by region set, one operation at a time), the instance template with its placeholders filled, and the
 * answer's `Data` within ROS's 4096-byte response.
 */
import { createHash } from 'crypto';
import {
  DISTRIBUTION_MAPPING_KEY,
  DISTRIBUTION_MAPPING_NAME,
  distributionImageIdKey,
  HANDLER_CODE_PLACEHOLDER,
  ImageDistributionData,
  ImageDistributionParameter,
  MAX_DISTRIBUTION_REGIONS,
  MAX_SHARED_ACCOUNTS_PER_IMAGE,
  parseNumberParameter,
  parseStringListParameter,
  parseTagsParameter,
  STACK_GROUP_NAME_PATTERN,
} from '../protocol';
import { invalidMessage, requiredMessage, validateImageId, validateRegionId } from '../validation';
import { ImageCopyError } from './errors';

/** A `Custom::ImageDistribution`'s properties, read and checked. */
export interface DistributionSettings {
  readonly stackGroupName: string;
  /** The instance template as the construct wrote it (placeholders unfilled). */
  readonly templateBody: string;
  /** The owner's replica of the source in each target region. */
  readonly replicaImageIds: Readonly<Record<string, string>>;
  /** Self-managed: the target accounts. */
  readonly accountIds?: readonly string[];
  /** Service-managed: the Resource Directory folders whose members are the targets. */
  readonly folderIds?: readonly string[];
  readonly regionIds: readonly string[];
  readonly regionsByAccount: Readonly<Record<string, readonly string[]>>;
  /** `OperationPreferences` as ROS spells them, or undefined for ROS's defaults. */
  readonly operationPreferences?: Readonly<Record<string, unknown>>;
  readonly administrationRoleName?: string;
  readonly executionRoleName?: string;
  readonly createTimeoutSeconds: number;
  readonly deleteTimeoutSeconds: number;
}

const ACCOUNT_ID = /^[0-9]{16}$/;
const FOLDER_ID = /^fd-[A-Za-z0-9]+$/;
const DEFAULT_TIMEOUT_SECONDS = 3600;

function invalid(messages: string[]): ImageCopyError {
  return new ImageCopyError(
    'InvalidProperties',
    `The ImageDistribution's properties are invalid: ${messages.join('; ')}.`,
  );
}

/** A map parameter: an object, or its JSON text. */
function parseMap(value: unknown): Record<string, unknown> | undefined {
  return parseTagsParameter(value);
}

/** Reads and checks the properties; throws `InvalidProperties` naming every broken rule. */
export function readDistributionSettings(
  properties: Readonly<Record<string, unknown>>,
): DistributionSettings {
  const p = properties;
  const P = ImageDistributionParameter;
  const messages: string[] = [];
  const stackGroupName = p[P.StackGroupName];
  if (typeof stackGroupName !== 'string' || !STACK_GROUP_NAME_PATTERN.test(stackGroupName)) {
    messages.push(
      invalidMessage(
        P.StackGroupName,
        stackGroupName,
        'must be 1 to 255 letters, digits, "-" and "_", starting with a letter or a digit',
      ),
    );
  }
  const templateBody = p[P.TemplateBody];
  if (typeof templateBody !== 'string' || templateBody === '') {
    messages.push(requiredMessage(P.TemplateBody));
  }
  const replicas = parseMap(p[P.ReplicaImageIds]);
  if (replicas === undefined) {
    messages.push(requiredMessage(P.ReplicaImageIds));
  } else {
    for (const [region, imageId] of Object.entries(replicas)) {
      messages.push(...validateImageId(imageId, `${P.ReplicaImageIds}[${JSON.stringify(region)}]`));
    }
  }
  const accountIds =
    p[P.TargetAccountIds] === undefined ? undefined : parseStringListParameter(p[P.TargetAccountIds]);
  const folderIds =
    p[P.TargetFolderIds] === undefined ? undefined : parseStringListParameter(p[P.TargetFolderIds]);
  if ((accountIds === undefined) === (folderIds === undefined)) {
    messages.push(`exactly one of ${P.TargetAccountIds} and ${P.TargetFolderIds} is required`);
  }
  if (p[P.TargetAccountIds] !== undefined && accountIds === undefined) {
    messages.push(invalidMessage(P.TargetAccountIds, p[P.TargetAccountIds], 'must be a list of account ids'));
  }
  accountIds?.forEach((account, index) => {
    if (!ACCOUNT_ID.test(account)) {
      messages.push(
        invalidMessage(
          `${P.TargetAccountIds}[${index}]`,
          account,
          'must be an Alibaba Cloud account id of 16 digits',
        ),
      );
    }
  });
  if (accountIds !== undefined && new Set(accountIds).size > MAX_SHARED_ACCOUNTS_PER_IMAGE) {
    messages.push(
      `${P.TargetAccountIds} (${accountIds.length} accounts) is invalid: ECS shares an image with at most ` +
        `${MAX_SHARED_ACCOUNTS_PER_IMAGE} accounts`,
    );
  }
  folderIds?.forEach((folder, index) => {
    if (!FOLDER_ID.test(folder)) {
      messages.push(
        invalidMessage(`${P.TargetFolderIds}[${index}]`, folder, 'must be a folder id like "fd-abc123"'),
      );
    }
  });
  const regionIds = parseStringListParameter(p[P.TargetRegionIds]);
  if (regionIds === undefined || regionIds.length === 0) {
    messages.push(invalidMessage(P.TargetRegionIds, p[P.TargetRegionIds], 'must name at least one region'));
  } else {
    regionIds.forEach((region, index) =>
      messages.push(...validateRegionId(region, `${P.TargetRegionIds}[${index}]`)),
    );
  }
  const regionsByAccount: Record<string, string[]> = {};
  const byAccount = p[P.RegionsByAccount] === undefined ? {} : parseMap(p[P.RegionsByAccount]);
  if (byAccount === undefined) {
    messages.push(
      invalidMessage(P.RegionsByAccount, p[P.RegionsByAccount], 'must be a map of account to regions'),
    );
  } else {
    for (const [account, value] of Object.entries(byAccount)) {
      const regions = parseStringListParameter(value);
      if (accountIds !== undefined && !accountIds.includes(account)) {
        messages.push(
          invalidMessage(`${P.RegionsByAccount} key`, account, `must be one of the ${P.TargetAccountIds}`),
        );
      }
      if (regions === undefined || regions.length === 0) {
        messages.push(
          invalidMessage(`${P.RegionsByAccount}[${JSON.stringify(account)}]`, value, 'must name regions'),
        );
      } else {
        regionsByAccount[account] = regions;
      }
    }
  }
  const allRegions = new Set([...(regionIds ?? []), ...Object.values(regionsByAccount).flat()]);
  if (allRegions.size > MAX_DISTRIBUTION_REGIONS) {
    messages.push(
      `the target regions (${allRegions.size}) are too many: at most ${MAX_DISTRIBUTION_REGIONS}`,
    );
  }
  for (const region of allRegions) {
    if (replicas !== undefined && replicas[region] === undefined) {
      messages.push(`${P.ReplicaImageIds} names no replica in the target region ${JSON.stringify(region)}`);
    }
  }
  const preferences =
    p[P.OperationPreferences] === undefined ? undefined : parseMap(p[P.OperationPreferences]);
  if (p[P.OperationPreferences] !== undefined && preferences === undefined) {
    messages.push(invalidMessage(P.OperationPreferences, p[P.OperationPreferences], 'must be a map'));
  }
  if (messages.length > 0) {
    throw invalid(messages);
  }
  const seconds = (key: string): number => {
    const value = parseNumberParameter(p[key]);
    return value !== undefined && value > 0 ? value : DEFAULT_TIMEOUT_SECONDS;
  };
  const text = (key: string): string | undefined =>
    typeof p[key] === 'string' && p[key] !== '' ? (p[key] as string) : undefined;
  return {
    stackGroupName: stackGroupName as string,
    templateBody: templateBody as string,
    replicaImageIds: replicas as Record<string, string>,
    ...(accountIds !== undefined ? { accountIds: [...new Set(accountIds)] } : {}),
    ...(folderIds !== undefined ? { folderIds: [...new Set(folderIds)] } : {}),
    regionIds: [...new Set(regionIds)],
    regionsByAccount,
    ...(preferences !== undefined ? { operationPreferences: numericPreferences(preferences) } : {}),
    administrationRoleName: text(P.AdministrationRoleName),
    executionRoleName: text(P.ExecutionRoleName),
    createTimeoutSeconds: seconds(P.CreateTimeoutSeconds),
    deleteTimeoutSeconds: seconds(P.DeleteTimeoutSeconds),
  };
}

/** ROS may deliver the preferences' numbers as strings; the API takes numbers. */
function numericPreferences(preferences: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(preferences).map(([key, value]) => [
      key,
      key === 'RegionConcurrencyType' ? value : (parseNumberParameter(value) ?? value),
    ]),
  );
}

/** One stack instance: an account and a region. */
export interface Pair {
  readonly accountId: string;
  readonly regionId: string;
}

/** `<account>/<region>`. */
export function pairKey(pair: Pair): string {
  return `${pair.accountId}/${pair.regionId}`;
}

/** The pairs wanted: each account with its regions (`regionsByAccount`, else the target regions). */
export function wantedPairs(accountIds: readonly string[], settings: DistributionSettings): Pair[] {
  return accountIds.flatMap((accountId) =>
    (settings.regionsByAccount[accountId] ?? settings.regionIds).map((regionId) => ({ accountId, regionId })),
  );
}

/** The pairs of `pairs` not in `minus`. */
export function pairsWithout(pairs: readonly Pair[], minus: readonly Pair[]): Pair[] {
  const excluded = new Set(minus.map(pairKey));
  return pairs.filter((pair) => !excluded.has(pairKey(pair)));
}

/** ROS takes at most 20 accounts in one UpdateStackGroup (AccountIds); the same bound is kept for every operation. */
export const MAX_ACCOUNTS_PER_OPERATION = 20;

/** The accounts and regions of one stack group operation. */
export interface OperationTargets {
  readonly accountIds: readonly string[];
  readonly regionIds: readonly string[];
}

/**
 * Pairs as operations: accounts with the same region set together (an operation covers every account × every
 * region), at most {@link MAX_ACCOUNTS_PER_OPERATION} accounts each, in the order the accounts come.
 */
export function operationTargets(pairs: readonly Pair[]): OperationTargets[] {
  const regionsOf = new Map<string, string[]>();
  for (const { accountId, regionId } of pairs) {
    const regions = regionsOf.get(accountId) ?? [];
    if (!regions.includes(regionId)) {
      regions.push(regionId);
    }
    regionsOf.set(accountId, regions);
  }
  const byRegionSet = new Map<string, { regionIds: string[]; accountIds: string[] }>();
  for (const [accountId, regions] of regionsOf) {
    const key = JSON.stringify([...regions].sort());
    const group = byRegionSet.get(key) ?? { regionIds: [...regions].sort(), accountIds: [] };
    group.accountIds.push(accountId);
    byRegionSet.set(key, group);
  }
  const targets: OperationTargets[] = [];
  for (const { regionIds, accountIds } of byRegionSet.values()) {
    for (let i = 0; i < accountIds.length; i += MAX_ACCOUNTS_PER_OPERATION) {
      targets.push({ accountIds: accountIds.slice(i, i + MAX_ACCOUNTS_PER_OPERATION), regionIds });
    }
  }
  return targets;
}

/**
 * The instance template the stack group runs: the replicas in its `Mappings` ({@link DISTRIBUTION_MAPPING_NAME}) and
 * the handler's own code (base64 zip) as its provider's `Code.ZipFile`.
 */
export function fillTemplate(
  templateBody: string,
  replicaImageIds: Readonly<Record<string, string>>,
  handlerZipBase64: string,
): string {
  let template: Record<string, unknown>;
  try {
    template = JSON.parse(templateBody) as Record<string, unknown>;
  } catch {
    throw invalid([`${ImageDistributionParameter.TemplateBody} is not JSON`]);
  }
  const mapping = Object.fromEntries(
    Object.entries(replicaImageIds).map(([region, imageId]) => [
      region,
      { [DISTRIBUTION_MAPPING_KEY]: imageId },
    ]),
  );
  template.Mappings = { ...(template.Mappings as object | undefined), [DISTRIBUTION_MAPPING_NAME]: mapping };
  const text = JSON.stringify(template);
  return text.split(JSON.stringify(HANDLER_CODE_PLACEHOLDER)).join(JSON.stringify(handlerZipBase64));
}

/** A digest of what the stack group runs: the instances must be updated when it changes. */
export function templateDigest(settings: DistributionSettings): string {
  return createHash('sha256')
    .update(
      JSON.stringify([
        settings.templateBody,
        settings.replicaImageIds,
        settings.administrationRoleName ?? '',
        settings.executionRoleName ?? '',
      ]),
      'utf8',
    )
    .digest('hex');
}

/** A pair that failed within the failure tolerance, and why (ROS's reason). */
export interface FailedTarget {
  readonly AccountId: string;
  readonly RegionId: string;
  readonly Reason: string;
}

/** A pair and the id of its copy. */
export interface PairImage extends Pair {
  readonly imageId: string;
}

/** Bytes of `Data` kept for the image ids: the rest of the 4096-byte response holds the envelope and ids. */
export const DATA_BUDGET_BYTES = 3_000;

/**
 * The answer's `Data`: the stack group name, the failed targets, `ImageIds` with as many pairs as fit (the rest
 * counted in `ImageIdsLeftOut`), and one `ImageId.<account>.<region>` key per pair while room remains.
 */
export function distributionData(
  stackGroupName: string,
  images: readonly PairImage[],
  failed: readonly FailedTarget[],
  budget: number = DATA_BUDGET_BYTES,
): Record<string, string> {
  const bytes = (data: Record<string, string>) => Buffer.byteLength(JSON.stringify(data), 'utf8');
  let failedTargets = failed.map((f) => ({ ...f, Reason: f.Reason.slice(0, 300) }));
  const data: Record<string, string> = {
    [ImageDistributionData.StackGroupName]: stackGroupName,
    [ImageDistributionData.FailedTargets]: JSON.stringify(failedTargets),
    [ImageDistributionData.ImageIds]: '{}',
    [ImageDistributionData.ImageIdsLeftOut]: '0',
  };
  while (bytes(data) > budget / 2 && failedTargets.length > 0) {
    failedTargets = failedTargets.map((f) => ({
      ...f,
      Reason: f.Reason.slice(0, Math.floor(f.Reason.length / 2)),
    }));
    data[ImageDistributionData.FailedTargets] = JSON.stringify(failedTargets);
    if (failedTargets.every((f) => f.Reason.length === 0)) {
      break;
    }
  }
  const imageIds: Record<string, Record<string, string>> = {};
  let included = 0;
  for (const image of images) {
    (imageIds[image.accountId] ??= {})[image.regionId] = image.imageId;
    const candidate = { ...data, [ImageDistributionData.ImageIds]: JSON.stringify(imageIds) };
    if (bytes(candidate) > budget) {
      delete imageIds[image.accountId][image.regionId];
      if (Object.keys(imageIds[image.accountId]).length === 0) {
        delete imageIds[image.accountId];
      }
      break;
    }
    data[ImageDistributionData.ImageIds] = candidate[ImageDistributionData.ImageIds];
    included++;
  }
  data[ImageDistributionData.ImageIdsLeftOut] = String(images.length - included);
  for (const image of images) {
    const key = distributionImageIdKey(image.accountId, image.regionId);
    const candidate = { ...data, [key]: image.imageId };
    if (bytes(candidate) > budget) {
      break;
    }
    data[key] = image.imageId;
  }
  return data;
}
