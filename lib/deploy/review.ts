/**
 * What a change to a resource means, for a person reviewing a deploy: whether the resource is added, modified in
 * place, replaced or removed, and what a RAM change grants or trusts that it did not before (or no longer does).
 *
 * Replacement is decided, in this order:
 * - for an ImageCopy, from its update table (`UPDATE_BEHAVIOUR` of `lib/handler/analyze-update.ts`): a change of the
 *   source image, source region, destination region, encryption or KMS key makes a new copy and deletes the old one;
 * - for a change of type, always;
 * - for the properties ROS documents as not editable ("Editable: No" in its resource reference; see
 *   {@link NOT_EDITABLE}): ROS cannot update them in place, so it replaces the resource when the update allows
 *   replacement (UpdateStack `ReplacementOption=Enabled`: "Replacement update deletes the resource and then recreates
 *   it", ros20190910 UpdateStackRequest) and otherwise fails the update;
 * - anything else is modified in place.
 * ROS itself reports changes only through change sets, which this review does not read.
 */
import { UPDATE_BEHAVIOUR } from '../handler/analyze-update';
import { ImageCopyParameter, type ImageCopyParameterKey } from '../protocol';

/** What a deploy does to a resource. */
export type ResourceAction = 'add' | 'modify' | 'replace' | 'remove';

/** Why a resource is replaced. */
export interface Replacement {
  /** The property paths whose change forces it (`Parameters.SourceImageId`, `RoleName`), or `Type`. */
  readonly properties: string[];
  /** Where the rule comes from. */
  readonly basis: 'image-copy-update-table' | 'type-change' | 'ros-documentation';
  readonly reason: string;
}

/** What a RAM resource grants, trusts or attaches after the change that it did not before, and the reverse. */
export interface SecurityChange {
  /** e.g. `Allow ecs:CopyImage on *`, `trust Service fc.aliyuncs.com`, `attach System policy AliyunECSFullAccess`. */
  readonly added: string[];
  readonly removed: string[];
  /** Whether it grants, trusts or attaches more than before (an Allow, a principal or an attachment added, a Deny removed). */
  readonly broadening: boolean;
}

/** The review of one resource's change. */
export interface ResourceReview {
  readonly action: ResourceAction;
  readonly replacement?: Replacement;
  /** Present for every change to a RAM resource (`ALIYUN::RAM::*`): security-relevant. */
  readonly security?: SecurityChange;
  /** Whether the resource is an ImageCopy (a custom resource with ImageCopy's parameters). */
  readonly imageCopy: boolean;
}

/** A template resource, as far as a review reads it. */
export interface TemplateResource {
  readonly Type?: string;
  readonly Properties?: Record<string, unknown>;
}

/**
 * The properties ROS documents as not editable, by resource type, with the page that says so. Only types this
 * project's constructs and examples use are listed; the others are reviewed as modified in place.
 */
export const NOT_EDITABLE: Readonly<
  Record<string, { readonly properties: readonly string[]; readonly source: string }>
> = {
  'ALIYUN::RAM::Role': {
    properties: ['RoleName', 'Description', 'IgnoreExisting'],
    source: 'https://www.alibabacloud.com/help/en/ros/developer-reference/aliyun-ram-role',
  },
  'ALIYUN::ROS::CustomResource': {
    properties: ['ServiceToken'],
    source: 'https://help.aliyun.com/document_detail/145579.html',
  },
  'ALIYUN::ECS::CopyImage': {
    properties: [
      'ImageId',
      'DestinationRegionId',
      'SourceRegionId',
      'DestinationImageName',
      'DestinationDescription',
      'Encrypted',
      'KMSKeyId',
      'Tag',
      'AllowCopyInSameRegion',
    ],
    source: 'https://help.aliyun.com/en/ros/developer-reference/aliyun-ecs-copyimage',
  },
};

const isCustomResource = (type: unknown) =>
  type === 'ALIYUN::ROS::CustomResource' || (typeof type === 'string' && type.startsWith('Custom::'));

/** Whether a template resource is an ImageCopy: a custom resource that carries ImageCopy's source image parameter. */
export function isImageCopyResource(resource: TemplateResource | undefined): boolean {
  const parameters = resource?.Properties?.Parameters;
  return (
    isCustomResource(resource?.Type) &&
    typeof parameters === 'object' &&
    parameters !== null &&
    ImageCopyParameter.SourceImageId in parameters
  );
}

/** Reviews the change of one resource from `before` (undefined: added) to `after` (undefined: removed). */
export function reviewResource(
  before: TemplateResource | undefined,
  after: TemplateResource | undefined,
): ResourceReview {
  const imageCopy = isImageCopyResource(after ?? before);
  const security = securityChange(before, after);
  const base = { imageCopy, ...(security && { security }) };
  if (!before) {
    return { action: 'add', ...base };
  }
  if (!after) {
    return { action: 'remove', ...base };
  }
  const replacement = replacementOf(before, after);
  return replacement ? { action: 'replace', replacement, ...base } : { action: 'modify', ...base };
}

function replacementOf(before: TemplateResource, after: TemplateResource): Replacement | undefined {
  if (before.Type !== after.Type) {
    return {
      properties: ['Type'],
      basis: 'type-change',
      reason: `the type changes from ${before.Type} to ${after.Type}`,
    };
  }
  const changed = (key: string, a = before.Properties, b = after.Properties) =>
    JSON.stringify(a?.[key]) !== JSON.stringify(b?.[key]);
  if (isImageCopyResource(after) && isImageCopyResource(before)) {
    const parameters = (r: TemplateResource) => r.Properties?.Parameters as Record<string, unknown>;
    const forcing = (Object.keys(UPDATE_BEHAVIOUR) as ImageCopyParameterKey[]).filter(
      (key) => UPDATE_BEHAVIOUR[key] === 'replace' && changed(key, parameters(before), parameters(after)),
    );
    if (forcing.length > 0) {
      return {
        properties: forcing.map((key) => `Parameters.${key}`),
        basis: 'image-copy-update-table',
        reason: `${forcing.join(', ')} ${forcing.length > 1 ? 'change' : 'changes'}: a new copy is made, then the old one is deleted`,
      };
    }
  }
  const rule =
    NOT_EDITABLE[isCustomResource(after.Type) ? 'ALIYUN::ROS::CustomResource' : (after.Type ?? '')];
  const fixed = rule?.properties.filter((key) => changed(key)) ?? [];
  if (fixed.length > 0) {
    return {
      properties: fixed,
      basis: 'ros-documentation',
      reason:
        `ROS documents ${fixed.join(', ')} as not editable: the update replaces the resource where replacement is ` +
        'allowed (ReplacementOption), and fails where it is not',
    };
  }
  return undefined;
}

/** What a RAM resource grants, trusts and attaches, as comparable lines. */
function grantsOf(resource: TemplateResource | undefined): Set<string> {
  const lines = new Set<string>();
  const p = resource?.Properties ?? {};
  const documents = [
    ...asList(p.Policies).map((policy) => (policy as { PolicyDocument?: unknown })?.PolicyDocument),
    p.PolicyDocument,
  ];
  for (const document of documents) {
    for (const statement of asList((document as { Statement?: unknown })?.Statement)) {
      const s = statement as Record<string, unknown>;
      const condition = s.Condition !== undefined ? ` if ${show(s.Condition)}` : '';
      for (const action of asList(s.Action)) {
        for (const resourceArn of asList(s.Resource ?? '*')) {
          lines.add(`${s.Effect ?? 'Allow'} ${show(action)} on ${show(resourceArn)}${condition}`);
        }
      }
    }
  }
  for (const statement of asList((p.AssumeRolePolicyDocument as { Statement?: unknown })?.Statement)) {
    const s = statement as Record<string, unknown>;
    const principal = (s.Principal ?? {}) as Record<string, unknown>;
    for (const [kind, values] of Object.entries(principal)) {
      for (const value of asList(values)) {
        lines.add(`${s.Effect === 'Deny' ? 'Deny' : 'Allow'} trust ${kind} ${show(value)}`);
      }
    }
  }
  const attachments = (p.PolicyAttachments ?? {}) as Record<string, unknown>;
  for (const [kind, names] of Object.entries(attachments)) {
    for (const name of asList(names)) {
      lines.add(`Allow attach ${kind} policy ${show(name)}`);
    }
  }
  if (/^ALIYUN::RAM::AttachPolicyTo/.test(resource?.Type ?? '')) {
    const target = p.RoleName ?? p.UserName ?? p.GroupName;
    lines.add(
      `Allow attach ${show(p.PolicyType ?? 'Custom')} policy ${show(p.PolicyName)} to ${show(target)}`,
    );
  }
  for (const kind of ['Roles', 'Users', 'Groups']) {
    for (const name of asList(p[kind])) {
      lines.add(`Allow attach to ${kind.slice(0, -1).toLowerCase()} ${show(name)}`);
    }
  }
  return lines;
}

/** The security change of a RAM resource (undefined for other types). */
function securityChange(
  before: TemplateResource | undefined,
  after: TemplateResource | undefined,
): SecurityChange | undefined {
  if (
    ![before?.Type, after?.Type].some((type) => typeof type === 'string' && type.startsWith('ALIYUN::RAM::'))
  ) {
    return undefined;
  }
  const old = grantsOf(before);
  const now = grantsOf(after);
  const added = [...now].filter((line) => !old.has(line));
  const removed = [...old].filter((line) => !now.has(line));
  const broadening =
    added.some((line) => line.startsWith('Allow ')) || removed.some((line) => line.startsWith('Deny '));
  const strip = (line: string) => line.replace(/^Allow (trust |attach )/, '$1');
  return { added: added.map(strip), removed: removed.map(strip), broadening };
}

function asList(value: unknown): unknown[] {
  if (value === undefined || value === null) {
    return [];
  }
  return Array.isArray(value) ? value : [value];
}

function show(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}
