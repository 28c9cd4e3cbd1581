/**
 * The stack timeout a deploy asks ROS for. ROS's `TimeoutInMinutes` defaults to 60 on CreateStack and UpdateStack
 * (10 to 1440; ros20190910 `CreateStackRequest`/`UpdateStackRequest`), while one custom resource may wait up to its
 * own `Timeout` (1 to 43,200 s, default 60; ROS `ALIYUN::ROS::CustomResource`), so a stack of long image copies
 * fails on the stack's timeout, with a misleading reason, unless the deploy asks for more.
 *
 * The bound: custom resources that depend on each other (DependsOn, Ref, Fn::GetAtt, Fn::Sub) run one after
 * another and the others in parallel, so the operation needs at most the longest path through the dependency graph,
 * each custom resource weighing its `Timeout` (every other resource type, such as a RAM role or an FC function,
 * takes seconds); an update also deletes the custom resources it removes, after the rest. Then a margin for those
 * other resources and ROS's own scheduling, rounded up to whole minutes, at least ROS's default of 60.
 */
import { DeployError } from './errors';

/** ROS's default and longest stack timeouts, minutes. */
export const DEFAULT_STACK_TIMEOUT_MINUTES = 60;
export const MAX_STACK_TIMEOUT_MINUTES = 1440;
/** Added to the longest chain of custom resources: the other resources and ROS's scheduling between them. */
export const STACK_TIMEOUT_MARGIN_MINUTES = 10;
/** A custom resource's `Timeout` when the template gives none, and the most it may be (seconds). */
export const DEFAULT_CUSTOM_RESOURCE_TIMEOUT_SECONDS = 60;
export const MAX_CUSTOM_RESOURCE_TIMEOUT_SECONDS = 43_200;

/** A custom resource on the longest chain, with the time it may take. */
export interface TimedResource {
  readonly logicalId: string;
  readonly type: string;
  readonly timeoutSeconds: number;
}

/** What the deploy asks ROS for, and why. */
export interface StackTimeout {
  /** `TimeoutInMinutes` to send. */
  readonly minutes: number;
  /** The longest chain of custom resources, in the order they run, and their total. */
  readonly chain: readonly TimedResource[];
  readonly chainSeconds: number;
}

type Template = Record<string, unknown>;
type Resource = { Type?: unknown; Properties?: Record<string, unknown>; DependsOn?: unknown };

export const isCustomResource = (type: unknown): boolean =>
  type === 'ALIYUN::ROS::CustomResource' || (typeof type === 'string' && type.startsWith('Custom::'));

/**
 * The timeout a stack operation on `template` needs (see the module comment), with `parameters` to read a `Timeout`
 * given as a `Ref` to a parameter. `removedBy` is the deployed template an update replaces: the custom resources it
 * no longer has are deleted after the rest, so their longest chain adds up. Refuses (`InvalidTemplate`) a template
 * whose own chain cannot fit in ROS's longest timeout, naming the resources and what to do.
 */
export function requiredStackTimeout(
  stackName: string,
  template: Record<string, unknown>,
  parameters: Record<string, string> = {},
  removedBy?: Record<string, unknown>,
): StackTimeout {
  const own = longestChain(template, parameters);
  const ownMinutes = Math.ceil(own.seconds / 60) + STACK_TIMEOUT_MARGIN_MINUTES;
  if (ownMinutes > MAX_STACK_TIMEOUT_MINUTES) {
    const chain = own.chain
      .map((r) => `${r.logicalId} (${r.type}, Timeout ${r.timeoutSeconds} s)`)
      .join(' → ');
    throw new DeployError(
      'InvalidTemplate',
      `Stack ${stackName} cannot finish within ROS's longest stack timeout (${MAX_STACK_TIMEOUT_MINUTES} minutes): ` +
        `its custom resources that depend on each other may take ${Math.ceil(own.seconds / 60)} minutes one after ` +
        `another: ${chain}, plus ${STACK_TIMEOUT_MARGIN_MINUTES} minutes for the rest. Lower their timeouts (the ` +
        '`timeouts` of the ImageCopy constructs), or split the chain across stacks.',
    );
  }
  let seconds = own.seconds;
  if (removedBy) {
    const current = new Set(Object.keys(resourcesOf(template)));
    const removed = Object.fromEntries(
      Object.entries(resourcesOf(removedBy)).filter(([id]) => !current.has(id)),
    );
    seconds += longestChain({ ...removedBy, Resources: removed }, parameters).seconds;
  }
  const minutes = Math.min(
    MAX_STACK_TIMEOUT_MINUTES,
    Math.max(DEFAULT_STACK_TIMEOUT_MINUTES, Math.ceil(seconds / 60) + STACK_TIMEOUT_MARGIN_MINUTES),
  );
  return { minutes, chain: own.chain, chainSeconds: own.seconds };
}

function resourcesOf(template: Template): Record<string, Resource> {
  const resources = template.Resources;
  return typeof resources === 'object' && resources !== null ? (resources as Record<string, Resource>) : {};
}

/** The longest path through the dependency graph, custom resources weighing their `Timeout`. */
function longestChain(template: Template, parameters: Record<string, string>) {
  const resources = resourcesOf(template);
  const ids = new Set(Object.keys(resources));
  const memo = new Map<string, { seconds: number; chain: TimedResource[] }>();
  const visiting = new Set<string>();
  const visit = (id: string): { seconds: number; chain: TimedResource[] } => {
    const known = memo.get(id);
    if (known) {
      return known;
    }
    if (visiting.has(id)) {
      return { seconds: 0, chain: [] };
    } // a cycle: ROS refuses the template anyway
    visiting.add(id);
    const resource = resources[id] ?? {};
    let before = { seconds: 0, chain: [] as TimedResource[] };
    for (const dependency of dependenciesOf(resource, ids)) {
      const path = visit(dependency);
      if (path.seconds > before.seconds) {
        before = path;
      }
    }
    visiting.delete(id);
    const own = isCustomResource(resource.Type)
      ? timeoutSeconds(resource.Properties?.Timeout, template, parameters)
      : 0;
    const result =
      own > 0
        ? {
            seconds: before.seconds + own,
            chain: [...before.chain, { logicalId: id, type: String(resource.Type), timeoutSeconds: own }],
          }
        : before;
    memo.set(id, result);
    return result;
  };
  let longest = { seconds: 0, chain: [] as TimedResource[] };
  for (const id of ids) {
    const path = visit(id);
    if (path.seconds > longest.seconds) {
      longest = path;
    }
  }
  return longest;
}

/** The resources `resource` waits for: DependsOn, and those its properties refer to. */
function dependenciesOf(resource: Resource, ids: Set<string>): Set<string> {
  const found = new Set<string>();
  const dependsOn = resource.DependsOn;
  for (const id of Array.isArray(dependsOn) ? dependsOn : [dependsOn]) {
    if (typeof id === 'string' && ids.has(id)) {
      found.add(id);
    }
  }
  const walk = (value: unknown): void => {
    if (Array.isArray(value)) {
      return value.forEach(walk);
    }
    if (typeof value !== 'object' || value === null) {
      return;
    }
    for (const [key, inner] of Object.entries(value)) {
      if (key === 'Ref' && typeof inner === 'string' && ids.has(inner)) {
        found.add(inner);
      } else if (key === 'Fn::GetAtt') {
        const target = Array.isArray(inner)
          ? inner[0]
          : typeof inner === 'string'
            ? inner.split('.')[0]
            : undefined;
        if (typeof target === 'string' && ids.has(target)) {
          found.add(target);
        }
      } else if (key === 'Fn::Sub') {
        const text = Array.isArray(inner) ? inner[0] : inner;
        for (const match of typeof text === 'string' ? text.matchAll(/\$\{([^}.!]+)[^}]*\}/g) : []) {
          if (ids.has(match[1])) {
            found.add(match[1]);
          }
        }
      }
      walk(inner);
    }
  };
  walk(resource.Properties);
  return found;
}

/**
 * A custom resource's `Timeout` in seconds: a number (or numeric string), a `Ref` to a parameter (its value, else
 * its default), otherwise the largest number the expression could choose (e.g. in `Fn::If`), and when there is none
 * the longest ROS allows: a bound must not be too short.
 */
function timeoutSeconds(value: unknown, template: Template, parameters: Record<string, string>): number {
  if (value === undefined || value === null) {
    return DEFAULT_CUSTOM_RESOURCE_TIMEOUT_SECONDS;
  }
  const numeric = (v: unknown) =>
    typeof v === 'number' || (typeof v === 'string' && v.trim() !== '') ? Number(v) : NaN;
  const clamp = (n: number) => Math.min(MAX_CUSTOM_RESOURCE_TIMEOUT_SECONDS, Math.max(1, Math.ceil(n)));
  if (Number.isFinite(numeric(value))) {
    return clamp(numeric(value));
  }
  const ref = (value as { Ref?: unknown }).Ref;
  if (typeof ref === 'string') {
    const declared = (template.Parameters as Record<string, { Default?: unknown }> | undefined)?.[ref];
    const given = numeric(parameters[ref] ?? declared?.Default);
    if (Number.isFinite(given)) {
      return clamp(given);
    }
  }
  const leaves: number[] = [];
  const collect = (v: unknown): void => {
    if (Number.isFinite(numeric(v))) {
      leaves.push(numeric(v));
    } else if (Array.isArray(v)) {
      v.forEach(collect);
    } else if (typeof v === 'object' && v !== null) {
      Object.values(v).forEach(collect);
    }
  };
  collect(value);
  return leaves.length > 0 ? clamp(Math.max(...leaves)) : MAX_CUSTOM_RESOURCE_TIMEOUT_SECONDS;
}
