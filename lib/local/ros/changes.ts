/**
 * What a change set says a stack operation will do, in ROS's change-set data structures (Change, ResourceChange,
 * ResourceChangeDetail, ResourceTargetDefinition: https://www.alibabacloud.com/help/en/ros/user-guide/data-structures):
 * each resource added, modified (in place or replaced) or removed, and for a modification each property that changes,
 * why (a direct edit, a parameter, another resource's id or attribute) and whether it forces a replacement.
 */
import { isDeepStrictEqual } from 'util';
import type { ResourceState, StackState } from './engine';
import { requiresReplacement, ResourceError, ResourceHandler } from './resources';
import {
  createResolveContext,
  findReferences,
  Reference,
  resolveValue,
  StackPlan,
  Template,
  topologicalLayers,
} from './template';

export type ChangeAction = 'Add' | 'Modify' | 'Remove';
/** What triggers an update: `Properties`, `Metadata` or `DeletionPolicy` (ROS ResourceTargetDefinition). */
export type ChangeAttribute = 'Properties' | 'Metadata' | 'DeletionPolicy';
export type RequiresRecreation = 'Never' | 'Conditionally' | 'Always';
export type ChangeSource =
  'ResourceReference' | 'ParameterReference' | 'ResourceAttribute' | 'DirectModification';
/** `True`: replaced; `False`: updated in place; `Conditional`: replaced if a value known only at update time changes. */
export type Replacement = 'True' | 'False' | 'Conditional';

export interface ResourceTargetDefinition {
  readonly Attribute: ChangeAttribute;
  /** The property's name when `Attribute` is `Properties`, else null. */
  readonly Name: string | null;
  readonly RequiresRecreation: RequiresRecreation;
}

export interface ResourceChangeDetail {
  readonly ChangeSource: ChangeSource;
  /** The parameter, the resource, or `resource.attribute` the change comes from; absent for a direct edit. */
  readonly CausingEntity?: string;
  /** `Static`: ROS knows the new value now; `Dynamic`: it depends on a `Ref`/`Fn::GetAtt` resolved at update time. */
  readonly Evaluation: 'Static' | 'Dynamic';
  readonly Target: ResourceTargetDefinition;
}

export interface ResourceChange {
  readonly Action: ChangeAction;
  readonly LogicalResourceId: string;
  /** Absent for `Add` (nothing exists yet). */
  readonly PhysicalResourceId?: string;
  readonly ResourceType: string;
  /** For `Modify` only. */
  readonly Replacement?: Replacement;
  readonly Scope: ChangeAttribute[];
  readonly Details: ResourceChangeDetail[];
}

export interface Change {
  readonly Type: 'Resource';
  readonly ResourceChange: ResourceChange;
}

/** The stack as it is and as the change set would make it. */
export interface ChangeInputs {
  readonly stack: StackState;
  /** The stack's template and plan now; undefined for a CREATE change set (there is nothing yet). */
  readonly current?: { readonly template: Template; readonly plan: StackPlan };
  readonly template: Template;
  readonly plan: StackPlan;
  /** The handler of a type, or undefined when LocalCloud does not implement it. */
  readonly handler: (type: string) => ResourceHandler | undefined;
}

/** A value that depends on a resource that will be added, replaced or modified: known only during the update. */
class NotYetKnown extends Error {
  constructor(readonly reference: Reference) {
    super(`${reference.target} is not known before the update`);
  }
}

/** How a resource is affected, for the resources that reference it. */
type Mark = 'added' | 'replaced' | 'modified';

/**
 * The changes of a change set, in template order (removals last). Throws `ResourceError` for a resource type
 * LocalCloud does not implement (it cannot say what a change of it does), and template errors as they come.
 */
export function describeChanges(inputs: ChangeInputs): Change[] {
  const { stack, current, template, plan } = inputs;
  for (const id of plan.resources) {
    const type = template.Resources[id].Type;
    if (!inputs.handler(type)) {
      throw new ResourceError(`Resource type ${type} is not supported by LocalCloud`);
    }
  }
  const marks = new Map<string, Mark>();
  const changes = new Map<string, ResourceChange>();
  for (const id of topologicalLayers(plan.graph).flat()) {
    const change = describeResource(inputs, id, marks);
    if (change) {
      changes.set(id, change);
    }
  }
  const ordered = plan.resources.filter((id) => changes.has(id)).map((id) => changes.get(id)!);
  if (current) {
    for (const record of Object.values(stack.resources)) {
      if (plan.resources.includes(record.logicalId)) {
        continue;
      }
      ordered.push({
        Action: 'Remove',
        LogicalResourceId: record.logicalId,
        ...(record.physicalId !== undefined && { PhysicalResourceId: record.physicalId }),
        ResourceType: record.type,
        Scope: [],
        Details: [],
      });
    }
  }
  return ordered.map((ResourceChange) => ({ Type: 'Resource', ResourceChange }));
}

function describeResource(
  inputs: ChangeInputs,
  id: string,
  marks: Map<string, Mark>,
): ResourceChange | undefined {
  const { stack, current, template } = inputs;
  const definition = template.Resources[id];
  const existing: ResourceState | undefined = current ? stack.resources[id] : undefined;
  if (!existing?.physicalId) {
    marks.set(id, 'added');
    return {
      Action: 'Add',
      LogicalResourceId: id,
      ResourceType: definition.Type,
      Scope: [],
      Details: [],
    };
  }
  const modify = (replacement: Replacement, details: ResourceChangeDetail[]): ResourceChange => ({
    Action: 'Modify',
    LogicalResourceId: id,
    PhysicalResourceId: existing.physicalId,
    ResourceType: definition.Type,
    Replacement: replacement,
    Scope: [...new Set(details.map((d) => d.Target.Attribute))],
    Details: details,
  });
  if (definition.Type !== existing.type) {
    // Another type is another resource: ROS creates it anew.
    marks.set(id, 'replaced');
    return modify('True', []);
  }
  const handler = inputs.handler(definition.Type)!;
  const details = [...propertyDetails(inputs, id, existing, handler, marks), ...attributeDetails(inputs, id)];
  if (details.length === 0) {
    return undefined;
  }
  const replacement = replacementOf(details);
  marks.set(id, replacement === 'False' ? 'modified' : 'replaced');
  return modify(replacement, details);
}

/** One detail per property whose value changes, or may change once the resources it references are updated. */
function propertyDetails(
  inputs: ChangeInputs,
  id: string,
  existing: ResourceState,
  handler: ResourceHandler,
  marks: Map<string, Mark>,
): ResourceChangeDetail[] {
  const { stack, current, template, plan } = inputs;
  const raw = template.Resources[id].Properties;
  const oldRaw = current!.template.Resources[id]?.Properties ?? {};
  const applied = existing.properties ?? {};
  const ctx = createResolveContext({
    template,
    parameters: plan.parameters,
    conditions: plan.conditions,
    ref: (target) => {
      if (marks.get(target) === 'added' || marks.get(target) === 'replaced') {
        throw new NotYetKnown({ kind: 'Ref', target });
      }
      return stack.resources[target]?.physicalId;
    },
    getAtt: (target, attribute) => {
      if (marks.has(target)) {
        throw new NotYetKnown({ kind: 'Fn::GetAtt', target, attribute });
      }
      return stack.resources[target]?.attributes?.[attribute];
    },
  });
  const details: ResourceChangeDetail[] = [];
  for (const name of new Set([...Object.keys(raw), ...Object.keys(applied)])) {
    const target: ResourceTargetDefinition = {
      Attribute: 'Properties',
      Name: name,
      RequiresRecreation: requiresReplacement(handler, name) ? 'Always' : 'Never',
    };
    let value: unknown;
    try {
      value = name in raw ? resolveValue(raw[name], ctx, `Resource ${id} Properties ${name}`) : undefined;
    } catch (error) {
      if (!(error instanceof NotYetKnown)) {
        throw error;
      }
      const { kind, target: entity, attribute } = error.reference;
      details.push({
        ChangeSource: kind === 'Ref' ? 'ResourceReference' : 'ResourceAttribute',
        CausingEntity: attribute === undefined ? entity : `${entity}.${attribute}`,
        Evaluation: 'Dynamic',
        Target: target,
      });
      continue;
    }
    if (isDeepStrictEqual(value, applied[name])) {
      continue;
    }
    const parameter = isDeepStrictEqual(raw[name], oldRaw[name])
      ? changedParameter(raw[name], inputs)
      : undefined;
    details.push({
      ChangeSource: parameter ? 'ParameterReference' : 'DirectModification',
      ...(parameter && { CausingEntity: parameter }),
      Evaluation: 'Static',
      Target: target,
    });
  }
  return details;
}

/** `Metadata` and `DeletionPolicy` edits: they change no property, so they never replace. */
function attributeDetails(inputs: ChangeInputs, id: string): ResourceChangeDetail[] {
  const now = inputs.template.Resources[id];
  const before = inputs.current!.template.Resources[id];
  const details: ResourceChangeDetail[] = [];
  for (const attribute of ['Metadata', 'DeletionPolicy'] as const) {
    if (isDeepStrictEqual(now[attribute], before?.[attribute])) {
      continue;
    }
    details.push({
      ChangeSource: 'DirectModification',
      Evaluation: 'Static',
      Target: { Attribute: attribute, Name: null, RequiresRecreation: 'Never' },
    });
  }
  return details;
}

/** The first template parameter `value` refers to whose value the change set changes. */
function changedParameter(value: unknown, inputs: ChangeInputs): string | undefined {
  const before = inputs.current!.plan.parameters.strings;
  const after = inputs.plan.parameters.strings;
  return findReferences(value)
    .map((reference) => reference.target)
    .find((name) => name in after && before[name] !== after[name]);
}

/**
 * ROS's rule: `Always` with a `Static` evaluation → `True`; `Always` with a `Dynamic` one (or `Conditionally`) →
 * `Conditional`; otherwise `False`. The strongest detail decides.
 */
function replacementOf(details: ResourceChangeDetail[]): Replacement {
  const recreating = details.filter((d) => d.Target.RequiresRecreation !== 'Never');
  if (recreating.some((d) => d.Target.RequiresRecreation === 'Always' && d.Evaluation === 'Static')) {
    return 'True';
  }
  return recreating.length > 0 ? 'Conditional' : 'False';
}
