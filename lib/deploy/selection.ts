/**
 * Which stacks of an app a command works on: the ones named (exactly, or with `*` wildcards), all of them when none
 * is, and, as `cdk` does, the stacks they need: for deploy and diff the stacks they depend on, for destroy the
 * stacks that depend on them. A destroy may also name stacks the app does not have (any more): they are found in
 * ROS by name.
 */
import type { AssemblyStack, CloudAssembly } from './assembly';
import { DeployError, quote } from './errors';

export interface SelectOptions {
  /** Stack names or artifact ids, exactly or with `*` wildcards; none means all the app's stacks. */
  readonly names?: readonly string[];
  /** Which related stacks come along: `dependencies` (deploy, diff) or `dependents` (destroy). */
  readonly include?: 'dependencies' | 'dependents';
  /** Only the named stacks, none that they need. */
  readonly exclusively?: boolean;
  /** A name without wildcards that the app does not have is a stack to find in ROS by name (destroy). */
  readonly outsideApp?: boolean;
}

export interface Selection {
  /** The stacks in the app's order (those outside the app last). */
  readonly stacks: AssemblyStack[];
  /** The stacks that came along because the named ones need them. */
  readonly included: AssemblyStack[];
}

/**
 * The stacks to work on (see the module comment). `assembly` is undefined when there is no app: then only named
 * stacks outside it can be selected. Throws `NoSuchStack` when a name matches nothing or there is nothing to select.
 */
export function selectStacks(assembly: CloudAssembly | undefined, options: SelectOptions = {}): Selection {
  const names = options.names ?? [];
  if (!assembly) {
    if (!options.outsideApp || names.length === 0) {
      throw new DeployError(
        'NoSuchStack',
        (w) => `name the ${w.option('stackNames')} to destroy (there is no cdk.json app to list them)`,
      );
    }
    return { stacks: names.map(stackByName), included: [] };
  }
  const named = namedStacks(assembly, names, options.outsideApp ?? false);
  if (options.exclusively || names.length === 0 || !options.include) {
    return { stacks: named, included: [] };
  }
  const picked = new Set(named.map((s) => s.stackName));
  for (let grew = true; grew;) {
    grew = false;
    for (const stack of assembly.stacks) {
      if (picked.has(stack.stackName)) {
        continue;
      }
      const needed =
        options.include === 'dependencies'
          ? assembly.stacks.some((s) => picked.has(s.stackName) && s.dependencies.includes(stack.stackName))
          : stack.dependencies.some((d) => picked.has(d));
      if (needed) {
        picked.add(stack.stackName);
        grew = true;
      }
    }
  }
  return {
    // Stacks outside the app (destroy by name) keep their place after the app's.
    stacks: [
      ...assembly.stacks.filter((s) => picked.has(s.stackName)),
      ...named.filter((s) => !assembly.stacks.includes(s)),
    ],
    included: assembly.stacks.filter((s) => picked.has(s.stackName) && !named.includes(s)),
  };
}

/** A stack known only by its name (destroy of a stack that is not, or no longer, in the app). */
export function stackByName(stackName: string): AssemblyStack {
  return { stackName, templateFile: '', dependencies: [], constructPaths: {} };
}

/** The stacks named, in assembly order; all of them when none is named. */
function namedStacks(
  assembly: CloudAssembly,
  names: readonly string[],
  outsideApp: boolean,
): AssemblyStack[] {
  if (assembly.stacks.length === 0 && !(outsideApp && names.length > 0)) {
    throw new DeployError('NoSuchStack', `the app has no stacks (${assembly.directory})`);
  }
  if (names.length === 0) {
    return assembly.stacks;
  }
  const available = assembly.stacks.map((s) => s.stackName).join(', ') || 'none';
  const picked = new Set<AssemblyStack>();
  const outside: AssemblyStack[] = [];
  for (const name of names) {
    const pattern = new RegExp(`^${name.split('*').map(escapeRegExp).join('.*')}$`);
    const matches = assembly.stacks.filter(
      (s) => pattern.test(s.stackName) || (s.artifactId !== undefined && pattern.test(s.artifactId)),
    );
    if (matches.length === 0 && outsideApp && !name.includes('*')) {
      outside.push(stackByName(name));
    } else if (matches.length === 0) {
      throw new DeployError('NoSuchStack', `no stack matches ${quote(name)} (stacks: ${available})`);
    }
    matches.forEach((m) => picked.add(m));
  }
  return [...assembly.stacks.filter((s) => picked.has(s)), ...outside];
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
