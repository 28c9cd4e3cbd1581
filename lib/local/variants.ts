/**
 * Behaviours of the real cloud that no document settles, each offered by LocalCloud in every plausible reading.
 *
 * The product must be correct under every reading; LocalCloud picks the strictest by default and tests select the
 * others (`LocalCloud.start({ variants: { copyConflict: 'none' } })`, `ros-local start --variant copyConflict=none`,
 * or `ROS_LOCAL_VARIANTS=copyConflict=none,...` for the LocalCloud that `ros-deploy --local` embeds). Each variant's
 * source and the tests that cover it are listed in docs/real-cloud.md.
 */

/** Every variant, with its values; the first value of each list is the default (the strictest reading). */
export const VARIANT_VALUES = {
  /**
   * ECS CopyImage of an image that is already being copied (`OperationDenied.ImageCopyConflict`, documented; whether
   * it spans destination regions is not): refused for a copy into any region, refused only for a copy into the
   * same destination region, or never refused.
   */
  copyConflict: ['any-destination', 'same-destination', 'none'],
  /**
   * How soon a new copy appears in DescribeImages (by id and by tag): after `copyVisibilityDelayMs` (the strictest
   * reading, as Terraform's 60 s first wait suggests), or at once.
   */
  copyVisibility: ['delayed', 'immediate'],
  /**
   * What the actions by id (CancelCopyImage, DeleteImage, ModifyImageAttribute, TagResources, UntagResources,
   * JoinResourceGroup, CopyImage of it) do with a copy DescribeImages does not list yet (undocumented): answer that it
   * does not exist (the strictest: a client cannot act on a copy before it is listed, and must not take the answer for
   * "gone"), or treat it as the image it is.
   */
  hiddenCopyActions: ['not-found', 'work'],
  /**
   * What ROS does with a PhysicalResourceId that an Update answer changed (undocumented; the response page says the
   * id must be copied from the request): refuse the answer (the update fails), keep the old id, or replace as
   * CloudFormation does (the new id is kept and the old id gets a Delete after the stack update).
   */
  physicalIdChange: ['refuse', 'keep', 'replace'],
  /**
   * The PhysicalResourceId in the Delete that follows a failed or unanswered Create (undocumented): the resource's
   * logical id, none (the field is absent), or the id the FAILED answer carried (a ROS placeholder when there was
   * no answer).
   */
  deleteAfterFailedCreate: ['logical-id', 'empty', 'answered'],
  /**
   * The order of a replacement ROS performs itself (UpdateStack `ReplacementOption: Enabled`, e.g. a changed
   * `ServiceToken`): the documents disagree. The UpdateStack reference says replacement "deletes the resource and then
   * recreates it"; the change-set reference says ROS replaces "by creating new resources and deleting the original
   * ones". Create the new resource first and delete the old one after the stack update succeeded (as
   * CloudFormation), or delete the old one first.
   */
  replacementOrder: ['create-first', 'delete-first'],
  /** The unit of `x-acs-retry-after` on throttling (undocumented): seconds or milliseconds. */
  retryAfterUnit: ['s', 'ms'],
  /**
   * Function Compute's retries of a failed asynchronous invocation (documented: up to 3 by default; undocumented:
   * whether a retry keeps the request id): retried with a new request id, retried with the same one, not retried.
   */
  fcAsyncRetry: ['new-request-id', 'same-request-id', 'none'],
  /** How ROS invokes a custom resource's function (undocumented): asynchronously or synchronously. */
  customResourceInvocation: ['async', 'sync'],
  /** The order of ListStackEvents (undocumented): newest first or oldest first. */
  stackEventsOrder: ['newest-first', 'oldest-first'],
  /**
   * How long ECS replays a CopyImage ClientToken (documented as idempotent, for an unstated time): only while the
   * copy it made still exists, or for ever.
   */
  clientTokenReplay: ['while-image-exists', 'forever'],
  /**
   * Whether `ALIYUN::ECS::LaunchTemplate` needs its ImageId to exist and be Available in the template's region: the
   * ECS CreateLaunchTemplate reference says ECS verifies parameter values only when instances are created; whether
   * ROS's resource checks the image first is undocumented. Checked (the strictest), or not.
   */
  launchTemplateImage: ['available', 'unchecked'],
  /**
   * A CreateChangeSet that changes nothing (the same template, parameters and tags as the stack's; UpdateStack answers
   * `NotSupported` for it): the change set is made and ends CREATE_FAILED with a reason (CloudFormation's behaviour),
   * or CreateChangeSet answers `NotSupported` as UpdateStack does. Undocumented for ROS.
   */
  changeSetWithoutChanges: ['failed', 'refused'],
  /**
   * The other change sets of a stack once one is executed: deleted (the ROS DeleteChangeSet reference: "After a
   * change set is executed, other change sets associated with the same stack as this change set are deleted"), or
   * kept with ExecutionStatus OBSOLETE (a value the ListChangeSets reference lists without saying when it is used).
   */
  executedChangeSetSiblings: ['deleted', 'obsolete'],
  /**
   * A ModifyImageSharePermission with more than 10 `AddAccount.N` / `RemoveAccount.N` (at most 10 a call,
   * documented): the ModifyImageSharePermission reference's older text says "the parameter will be ignored" (none of
   * them is processed), its newer text and the SDK that "the system processes only the first 10 account IDs".
   */
  shareAccountsOverTen: ['ignored', 'first-ten'],
  /**
   * DeleteImage of an image shared with other accounts: `ImageUseShared` (documented) whatever `Force` says (`Force`
   * is documented for images used by instances only), or `Force=true` deletes it and its shares. Undocumented which.
   */
  sharedImageDelete: ['refused', 'force-deletes'],
  /**
   * The tags of an image shared with the caller, in the caller's DescribeImages: tags are the owner's resources, and
   * whether a sharee sees them is undocumented. Hidden (the strictest), or shown.
   */
  sharedImageTags: ['hidden', 'shown'],
  /**
   * ModifyImageAttribute `Status` set to the status the image already has: the reference's codes
   * (`ImageStatus.NotAvailable` for Deprecated, `ImageStatus.NotDeprecated` for Available) read as refusing it (the
   * strictest), or it is accepted and changes nothing. Undocumented which.
   */
  repeatedImageStatus: ['refused', 'accepted'],
  /**
   * Whom ECS's "up to five concurrent image copy tasks" per region binds (the CopyImage reference says "a region"; the
   * ECS limits page defines a quota as per account and region but does not list this one): every account's copies
   * into a region share one queue of five (the strictest), or each account has five of its own in each region.
   */
  copyQueue: ['shared', 'per-account'],
  /**
   * How many account ids one stack group call takes (AccountIds, DeploymentTargets.AccountIds): the documents
   * disagree. The older CreateStackInstances reference says at most 20, the Resource Directory member lists at most
   * 30, the current `@alicloud/ros20190910` models at most 50. The strictest, 20, by default.
   */
  stackGroupAccountsPerCall: ['20', '30', '50'],
} as const;

export type VariantName = keyof typeof VARIANT_VALUES;

/** The readings LocalCloud plays, one value per variant. */
export type CloudVariants = { readonly [K in VariantName]: (typeof VARIANT_VALUES)[K][number] } & {
  /** With `copyVisibility: 'delayed'`: how long a new copy stays absent from DescribeImages, ms. */
  readonly copyVisibilityDelayMs: number;
};

/** Default of {@link CloudVariants.copyVisibilityDelayMs}. */
export const DEFAULT_COPY_VISIBILITY_DELAY_MS = 1500;

export const VARIANT_NAMES = Object.keys(VARIANT_VALUES) as VariantName[];

/** The strictest reading of every variant. */
export const DEFAULT_VARIANTS: CloudVariants = {
  ...(Object.fromEntries(VARIANT_NAMES.map((name) => [name, VARIANT_VALUES[name][0]])) as {
    [K in VariantName]: (typeof VARIANT_VALUES)[K][number];
  }),
  copyVisibilityDelayMs: DEFAULT_COPY_VISIBILITY_DELAY_MS,
};

/** A variant name or value that does not exist; the message names it and lists what does. */
export class VariantError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'VariantError';
  }
}

/** Fills in defaults and checks every given value. */
export function resolveVariants(given: Partial<CloudVariants> = {}): CloudVariants {
  const resolved: Record<string, unknown> = { ...DEFAULT_VARIANTS };
  for (const [name, value] of Object.entries(given)) {
    if (value === undefined) {
      continue;
    }
    if (name === 'copyVisibilityDelayMs') {
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 3_600_000) {
        throw new VariantError(
          `variant copyVisibilityDelayMs ${JSON.stringify(value)} is invalid: expected an integer from 0 to 3600000 (ms)`,
        );
      }
      resolved[name] = value;
      continue;
    }
    if (!(VARIANT_NAMES as string[]).includes(name)) {
      throw new VariantError(
        `unknown variant "${name}": expected one of ${[...VARIANT_NAMES, 'copyVisibilityDelayMs'].join(', ')}`,
      );
    }
    const allowed = VARIANT_VALUES[name as VariantName] as readonly string[];
    if (typeof value !== 'string' || !allowed.includes(value)) {
      throw new VariantError(
        `variant ${name} ${JSON.stringify(value)} is invalid: expected one of ${allowed.join(', ')}`,
      );
    }
    resolved[name] = value;
  }
  return resolved as CloudVariants;
}

/** Parses `name=value` assignments (from `--variant` flags or `ROS_LOCAL_VARIANTS`, comma-separated). */
export function parseVariantAssignments(assignments: readonly string[]): Partial<CloudVariants> {
  const given: Record<string, unknown> = {};
  for (const assignment of assignments.flatMap((a) => a.split(',')).map((a) => a.trim())) {
    if (assignment === '') {
      continue;
    }
    const eq = assignment.indexOf('=');
    if (eq <= 0) {
      throw new VariantError(
        `variant "${assignment}" is invalid: expected NAME=VALUE, e.g. copyConflict=none`,
      );
    }
    const name = assignment.slice(0, eq).trim();
    const value = assignment.slice(eq + 1).trim();
    given[name] = name === 'copyVisibilityDelayMs' && /^\d+$/.test(value) ? Number(value) : value;
  }
  resolveVariants(given as Partial<CloudVariants>);
  return given as Partial<CloudVariants>;
}

/** Environment variable read by the LocalCloud that `ros-deploy --local` embeds: `name=value,name=value`. */
export const VARIANTS_ENVIRONMENT_VARIABLE = 'ROS_LOCAL_VARIANTS';

/** The variants that `ROS_LOCAL_VARIANTS` asks for (none when unset). */
export function variantsFromEnvironment(env: NodeJS.ProcessEnv = process.env): Partial<CloudVariants> {
  const text = env[VARIANTS_ENVIRONMENT_VARIABLE];
  return text ? parseVariantAssignments([text]) : {};
}
