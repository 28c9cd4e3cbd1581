/**
 * What an Update does, decided from one table. Each property either forces a replacement (a new copy, then the
 * old one is removed) or changes in place through one ECS call, or needs no call at all. The table is the
 * documentation: read it to know what an Update of a property costs.
 */
import { ImageCopyParameter, type ImageCopyParameterKey } from '../protocol';
import type { ImageCopySettings } from './settings';

/** How a change of one property is applied. */
export type UpdateBehaviour =
  /** A new copy is made, waited for, and the old copy removed; the physical id changes. */
  | 'replace'
  /** `ModifyImageAttribute` (name, description). ECS cannot clear them: a removed value is left as it is. */
  | 'modify-attribute'
  /** `TagResources` for added or changed keys, `UntagResources` for removed keys; never the ownership tag. */
  | 'retag'
  /** `JoinResourceGroup`. A removed value leaves the image where it is. */
  | 'join-resource-group'
  /** `ModifyImageSharePermission`: added accounts shared, removed ones unshared, 10 per call (distribution.ts). */
  | 'share'
  /**
   * `DeleteImage` of the kept previous versions beyond a lowered count (previous-versions.ts); a raised count needs no
   * call until the next replacement keeps one more.
   */
  | 'prune'
  /**
  /** Read by the handler only (delete force, timeouts, replica regions) or only on Create (adoption): no call. */
  | 'no-call';

/** The decision table. */
export const UPDATE_BEHAVIOUR: Readonly<Record<ImageCopyParameterKey, UpdateBehaviour>> = {
  [ImageCopyParameter.SourceImageId]: 'replace',
  [ImageCopyParameter.SourceRegionId]: 'replace',
  [ImageCopyParameter.DestinationRegionId]: 'replace',
  [ImageCopyParameter.Encrypted]: 'replace',
  [ImageCopyParameter.KmsKeyId]: 'replace',
  [ImageCopyParameter.ImageName]: 'modify-attribute',
  [ImageCopyParameter.Description]: 'modify-attribute',
  [ImageCopyParameter.Tags]: 'retag',
  [ImageCopyParameter.ResourceGroupId]: 'join-resource-group',
  [ImageCopyParameter.Force]: 'no-call',
  [ImageCopyParameter.ExistingImageId]: 'no-call',
  [ImageCopyParameter.CreateTimeoutSeconds]: 'no-call',
  [ImageCopyParameter.DeleteTimeoutSeconds]: 'no-call',
  [ImageCopyParameter.ReplicaRegionIds]: 'no-call',
  [ImageCopyParameter.SharedWithAccounts]: 'share',
  // ModifyImageAttribute ImageFamily; ECS cannot clear a family: a removed value is left as it is.
  [ImageCopyParameter.ImageFamily]: 'modify-attribute',
  // The source's tags added (or, turned off, removed) with the user's tags winning.
  [ImageCopyParameter.CopySourceTags]: 'retag',
  [ImageCopyParameter.KeepPreviousVersions]: 'prune',
};

/** Each parameter's value in the settings, normalised, for comparison. */
const SETTING_OF: Readonly<Record<ImageCopyParameterKey, (settings: ImageCopySettings) => unknown>> = {
  [ImageCopyParameter.SourceImageId]: (s) => s.sourceImageId,
  [ImageCopyParameter.SourceRegionId]: (s) => s.sourceRegionId,
  [ImageCopyParameter.DestinationRegionId]: (s) => s.destinationRegionId,
  [ImageCopyParameter.Encrypted]: (s) => s.encrypted,
  // A KMS key only matters for an encrypted copy.
  [ImageCopyParameter.KmsKeyId]: (s) => (s.encrypted ? s.kmsKeyId : undefined),
  [ImageCopyParameter.ImageName]: (s) => s.imageName,
  [ImageCopyParameter.Description]: (s) => s.description,
  [ImageCopyParameter.Tags]: (s) => sortedEntries(s.tags),
  [ImageCopyParameter.ResourceGroupId]: (s) => s.resourceGroupId,
  [ImageCopyParameter.Force]: (s) => s.force,
  [ImageCopyParameter.ExistingImageId]: (s) => s.existingImageId,
  [ImageCopyParameter.CreateTimeoutSeconds]: (s) => s.createTimeoutSeconds,
  [ImageCopyParameter.DeleteTimeoutSeconds]: (s) => s.deleteTimeoutSeconds,
  [ImageCopyParameter.ReplicaRegionIds]: (s) => [...s.replicaRegionIds].sort(),
  // The order of the accounts does not matter; no list and an empty one both share with nobody.
  [ImageCopyParameter.SharedWithAccounts]: (s) => [...(s.sharedWithAccounts ?? [])].sort(),
  [ImageCopyParameter.ImageFamily]: (s) => s.imageFamily,
  [ImageCopyParameter.CopySourceTags]: (s) => s.copySourceTags ?? false,
  [ImageCopyParameter.KeepPreviousVersions]: (s) => s.keepPreviousVersions ?? 0,
};

function sortedEntries(tags: Readonly<Record<string, string>>): [string, string][] {
  return Object.entries(tags).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** The difference between two tag sets, as the calls that apply it. */
export interface TagChanges {
  /** Keys to add or overwrite (`TagResources` overwrites an existing key's value). */
  readonly set: Readonly<Record<string, string>>;
  /** Keys to remove (`UntagResources`). */
  readonly remove: readonly string[];
}

/** Only what differs: added or changed keys are set, removed keys are removed; unchanged keys are left alone. */
export function diffTags(
  oldTags: Readonly<Record<string, string>>,
  newTags: Readonly<Record<string, string>>,
): TagChanges {
  const set = Object.fromEntries(Object.entries(newTags).filter(([key, value]) => oldTags[key] !== value));
  const remove = Object.keys(oldTags).filter((key) => !(key in newTags));
  return { set, remove };
}

/** What an Update must do. */
export interface UpdatePlan {
  /** The changed properties, each with how it is applied. */
  readonly changes: ReadonlyArray<{
    readonly property: ImageCopyParameterKey;
    readonly behaviour: UpdateBehaviour;
  }>;
  /** The properties whose change forces a replacement (empty for an in-place update). */
  readonly replacedBy: readonly ImageCopyParameterKey[];
  readonly replacement: boolean;
  /** In place only: the new name, when it changed to a value. */
  readonly imageName?: string;
  /** In place only: the new description, when it changed to a value. */
  readonly description?: string;
  /** In place only: the description was removed, which ECS cannot do; it is left as it is. */
  readonly descriptionRemoved: boolean;
  readonly tags: TagChanges;
  /** In place only: the resource group to join, when it changed to a value. */
  readonly resourceGroupId?: string;
}

/** Decides, from {@link UPDATE_BEHAVIOUR}, what an Update from `old` to `next` does. */
export function analyzeUpdate(old: ImageCopySettings, next: ImageCopySettings): UpdatePlan {
  const changes = (Object.keys(UPDATE_BEHAVIOUR) as ImageCopyParameterKey[])
    .filter(
      (property) => JSON.stringify(SETTING_OF[property](old)) !== JSON.stringify(SETTING_OF[property](next)),
    )
    .map((property) => ({ property, behaviour: UPDATE_BEHAVIOUR[property] }));
  const replacedBy = changes.filter((c) => c.behaviour === 'replace').map((c) => c.property);
  const changed = (property: ImageCopyParameterKey): boolean => changes.some((c) => c.property === property);
  return {
    changes,
    replacedBy,
    replacement: replacedBy.length > 0,
    imageName: changed(ImageCopyParameter.ImageName) ? next.imageName : undefined,
    description: changed(ImageCopyParameter.Description) ? next.description : undefined,
    descriptionRemoved: changed(ImageCopyParameter.Description) && next.description === undefined,
    tags: diffTags(old.tags, next.tags),
    resourceGroupId: changed(ImageCopyParameter.ResourceGroupId) ? next.resourceGroupId : undefined,
  };
}
