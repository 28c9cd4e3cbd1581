/**
 * The resource dependency graph of a ROS template: which resources reference which (`Ref`, `Fn::GetAtt`,
 * `Fn::Sub`, `DependsOn`), reference checks, cycle detection and the order of creation and deletion.
 * A graph maps each resource to the resources it depends on, in template order.
 */
import type { Template } from './template-schema';
import {
  TemplateError,
  UNSUPPORTED_FUNCTIONS,
  functionKey,
  isKnownFunction,
  isObject,
  isPseudoParameter,
  locatedError,
  subVariables,
} from './intrinsics';

/** Resource → the resources it depends on. */
export type DependencyGraph = Map<string, Set<string>>;

/** A name a value refers to. `attribute` is set for `Fn::GetAtt` and for `${Res.Attr}` in `Fn::Sub`. */
export interface Reference {
  readonly kind: 'Ref' | 'Fn::GetAtt' | 'Fn::Sub';
  readonly target: string;
  readonly attribute?: string;
}

/** Calls `visit` for every intrinsic function in `value`, outermost first, then walks into its argument. */
export function walkFunctions(value: unknown, visit: (fn: string, arg: unknown) => void): void {
  if (Array.isArray(value)) {
    for (const item of value) {
      walkFunctions(item, visit);
    }
  } else if (isObject(value)) {
    const fn = functionKey(value);
    if (fn === undefined) {
      for (const item of Object.values(value)) {
        walkFunctions(item, visit);
      }
    } else {
      visit(fn, value[fn]);
      walkFunctions(value[fn], visit);
    }
  }
}

/**
 * The names `value` refers to, with literal arguments only (a name computed by another function cannot be known
 * before resolution). Both branches of `Fn::If` count: the graph is conservative.
 */
export function findReferences(value: unknown): Reference[] {
  const references: Reference[] = [];
  walkFunctions(value, (fn, arg) => {
    if (fn === 'Ref' && typeof arg === 'string') {
      references.push({ kind: 'Ref', target: arg });
    } else if (fn === 'Fn::GetAtt') {
      const target = getAttLiteral(arg);
      if (target) {
        references.push({ kind: 'Fn::GetAtt', ...target });
      }
    } else if (fn === 'Fn::Sub') {
      const [text, variables] = Array.isArray(arg) ? [arg[0], arg[1]] : [arg, undefined];
      if (typeof text !== 'string') {
        return;
      }
      for (const name of subVariables(text)) {
        if (isObject(variables) && Object.prototype.hasOwnProperty.call(variables, name)) {
          continue;
        }
        const dot = name.indexOf('.');
        references.push(
          dot > 0
            ? { kind: 'Fn::Sub', target: name.slice(0, dot), attribute: name.slice(dot + 1) }
            : { kind: 'Fn::Sub', target: name },
        );
      }
    }
  });
  return references;
}

/**
 * Checks every function name and every literal reference in the template's resources, outputs, conditions and
 * rules: unknown functions, references to names that do not exist, `Fn::GetAtt` on non-resources, conditions
 * that do not exist, mappings that do not exist, and conditions or rules that reference resources.
 */
export function validateReferences(template: Template): void {
  const names = {
    parameters: new Set(Object.keys(template.Parameters)),
    resources: new Set(Object.keys(template.Resources)),
    conditions: new Set(Object.keys(template.Conditions)),
    mappings: new Set(Object.keys(template.Mappings)),
  };
  for (const [id, resource] of Object.entries(template.Resources)) {
    checkValue(`Resource ${id}`, resource.Properties, true, names);
  }
  for (const [key, output] of Object.entries(template.Outputs)) {
    checkValue(`Output ${key}`, output.Value, true, names);
  }
  for (const [name, condition] of Object.entries(template.Conditions)) {
    checkValue(`Condition ${name}`, condition, false, names);
  }
  for (const [name, rule] of Object.entries(template.Rules)) {
    checkValue(`Rule ${name}`, rule, false, names);
  }
}

interface TemplateNames {
  readonly parameters: ReadonlySet<string>;
  readonly resources: ReadonlySet<string>;
  readonly conditions: ReadonlySet<string>;
  readonly mappings: ReadonlySet<string>;
}

function checkValue(owner: string, value: unknown, allowResources: boolean, names: TemplateNames): void {
  const fail = (message: string): never => {
    throw locatedError(`${owner} ${message}`);
  };
  const checkName = (name: string): void => {
    if (name === 'ALIYUN::Index') {
      fail('references ALIYUN::Index, which needs Count; LocalCloud does not support Count');
    }
    if (isPseudoParameter(name) || names.parameters.has(name)) {
      return;
    }
    if (names.resources.has(name)) {
      if (!allowResources) {
        fail(`references resource ${name}; only parameters and pseudo parameters can be used here`);
      }
      return;
    }
    fail(
      `references ${name}, which is not a ${allowResources ? 'resource, parameter' : 'parameter'} or pseudo parameter`,
    );
  };
  const checkResource = (name: string, how: string): void => {
    if (!allowResources) {
      fail(`uses ${how}; only parameters and pseudo parameters can be used here`);
    }
    if (!names.resources.has(name)) {
      fail(`uses ${how} on ${name}, which is not a resource`);
    }
  };
  const checkCondition = (item: unknown): void => {
    const name = isObject(item) && typeof item.Condition === 'string' ? item.Condition : item;
    if (typeof name !== 'string' || /^(true|false)$/i.test(name)) {
      return;
    }
    if (!names.conditions.has(name)) {
      fail(`uses condition ${name}, which is not defined in Conditions`);
    }
  };
  try {
    walkFunctions(value, (fn, arg) => {
      if (!isKnownFunction(fn)) {
        const reason = UNSUPPORTED_FUNCTIONS[fn];
        fail(
          reason
            ? `uses ${fn}, which LocalCloud does not implement (${reason})`
            : `uses unknown function ${fn}`,
        );
      }
      if (fn === 'Ref' && typeof arg === 'string') {
        checkName(arg);
      }
      if (fn === 'Fn::GetAtt') {
        const target = getAttLiteral(arg);
        if (target) {
          checkResource(target.target, 'Fn::GetAtt');
        }
      }
      if (fn === 'Fn::Sub') {
        for (const reference of findReferences({ [fn]: arg })) {
          if (reference.attribute === undefined) {
            checkName(reference.target);
          } else {
            checkResource(reference.target, `\${${reference.target}.${reference.attribute}} in Fn::Sub`);
          }
        }
      }
      if (fn === 'Fn::If' && Array.isArray(arg)) {
        checkCondition(arg[0]);
      }
      if (fn === 'Fn::And' || fn === 'Fn::Or' || fn === 'Fn::Not') {
        for (const item of Array.isArray(arg) ? arg : [arg]) {
          checkCondition(item);
        }
      }
      if (
        fn === 'Fn::FindInMap' &&
        Array.isArray(arg) &&
        typeof arg[0] === 'string' &&
        !names.mappings.has(arg[0])
      ) {
        fail(`uses Fn::FindInMap on mapping ${arg[0]}, which is not defined in Mappings`);
      }
    });
  } catch (error) {
    if (error instanceof TemplateError && !error.message.startsWith(owner)) {
      throw locatedError(`${owner}: ${error.message}`, error.code);
    }
    throw error;
  }
}

function getAttLiteral(arg: unknown): { target: string; attribute: string } | undefined {
  if (typeof arg === 'string') {
    const dot = arg.indexOf('.');
    return dot > 0 ? { target: arg.slice(0, dot), attribute: arg.slice(dot + 1) } : undefined;
  }
  if (Array.isArray(arg) && typeof arg[0] === 'string') {
    return { target: arg[0], attribute: typeof arg[1] === 'string' ? arg[1] : '' };
  }
  return undefined;
}

/**
 * The dependency graph of the active resources, from `Ref`, `Fn::GetAtt` and `Fn::Sub` in their properties
 * (both branches of `Fn::If`) and from `DependsOn`. References to resources whose condition is false are left out
 * (an `Fn::If` branch that is not taken may name them); references to names that do not exist throw.
 */
export function dependencies(template: Template, activeResourceIds: Iterable<string>): DependencyGraph {
  const active = new Set(activeResourceIds);
  const graph: DependencyGraph = new Map();
  for (const [id, resource] of Object.entries(template.Resources)) {
    if (!active.has(id)) {
      continue;
    }
    const deps = new Set<string>();
    for (const reference of findReferences(resource.Properties)) {
      const { target } = reference;
      const isResource = Object.prototype.hasOwnProperty.call(template.Resources, target);
      const wantsResource = reference.kind === 'Fn::GetAtt' || reference.attribute !== undefined;
      if (!isResource) {
        if (!wantsResource && (isPseudoParameter(target) || hasParameter(template, target))) {
          continue;
        }
        throw locatedError(
          wantsResource
            ? `Resource ${id} uses ${reference.kind} on ${target}, which is not a resource`
            : `Resource ${id} references ${target}, which is not a resource, parameter or pseudo parameter`,
        );
      }
      if (active.has(target)) {
        deps.add(target);
      }
    }
    for (const target of resource.DependsOn) {
      if (!Object.prototype.hasOwnProperty.call(template.Resources, target)) {
        throw locatedError(`Resource ${id} depends on ${target}, which is not a resource`);
      }
      if (active.has(target)) {
        deps.add(target);
      }
    }
    graph.set(id, deps);
  }
  return graph;
}

function hasParameter(template: Template, name: string): boolean {
  return Object.prototype.hasOwnProperty.call(template.Parameters, name);
}

/** Throws when a resource depends on one outside the graph, or when the graph has a cycle (naming it). */
export function checkGraph(graph: DependencyGraph): void {
  for (const [id, deps] of graph) {
    for (const dep of deps) {
      if (!graph.has(dep)) {
        throw locatedError(`Resource ${id} depends on ${dep}, which is not in the stack`);
      }
    }
  }
  const cycle = findCycle(graph);
  if (cycle) {
    throw locatedError(`Circular dependency between resources: ${cycle.join(' -> ')}`);
  }
}

function findCycle(graph: DependencyGraph): string[] | undefined {
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (id: string): string[] | undefined => {
    state.set(id, 'visiting');
    stack.push(id);
    for (const dep of graph.get(id) ?? []) {
      if (state.get(dep) === 'visiting') {
        return [...stack.slice(stack.indexOf(dep)), dep];
      }
      if (!state.has(dep)) {
        const cycle = visit(dep);
        if (cycle) {
          return cycle;
        }
      }
    }
    stack.pop();
    state.set(id, 'done');
    return undefined;
  };
  for (const id of graph.keys()) {
    if (!state.has(id)) {
      const cycle = visit(id);
      if (cycle) {
        return cycle;
      }
    }
  }
  return undefined;
}

/**
 * The resources in creation order, grouped in layers: each layer depends only on earlier layers, so the
 * resources of one layer can be created in parallel. Deleting goes through the layers backwards.
 */
export function topologicalLayers(graph: DependencyGraph): string[][] {
  checkGraph(graph);
  const layers: string[][] = [];
  const placed = new Set<string>();
  while (placed.size < graph.size) {
    const layer = readyToCreate(graph, placed, new Set());
    layers.push(layer);
    for (const id of layer) {
      placed.add(id);
    }
  }
  return layers;
}

/** Resources that can start now: not done or in progress, and everything they depend on is done. */
export function readyToCreate(
  graph: DependencyGraph,
  done: ReadonlySet<string>,
  inProgress: ReadonlySet<string>,
): string[] {
  return [...graph.keys()].filter(
    (id) => !done.has(id) && !inProgress.has(id) && [...(graph.get(id) ?? [])].every((dep) => done.has(dep)),
  );
}

/** Resource → the resources that depend on it directly. */
export function reverseGraph(graph: DependencyGraph): DependencyGraph {
  const reverse: DependencyGraph = new Map([...graph.keys()].map((id) => [id, new Set<string>()]));
  for (const [id, deps] of graph) {
    for (const dep of deps) {
      reverse.get(dep)?.add(id);
    }
  }
  return reverse;
}
