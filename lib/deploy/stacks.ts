/**
 * Operations on several stacks of an app: each stack's region, then deploys (dependencies first, directly or
 * through change sets) and destroys (dependents first) run in order with at most `concurrency` at a time, a stack
 * whose prerequisite failed being skipped with a result that says so; and diffs, one stack after another.
 */
import type { AssemblyStack } from './assembly';
import { type ChangeSet, createChangeSet } from './change-sets';
import type { ConnectionOptions } from './connection';
import { diffStack, type DiffResult } from './diff';
import type { Wording } from './errors';
import type { DeployEvent } from './follow';
import { deployStack, destroyStack, type StackOperationResult } from './operations';
import { runInOrder } from './order';
import type { RegionResolver } from './region';

/** Where each stack goes: its connection for a region, and how often to poll while following. */
export interface StacksTarget {
  connection(regionId: string): ConnectionOptions;
  readonly pollIntervalMs?: number;
}

/** What {@link deployStacks}, {@link destroyStacks} and the change-set functions share. */
export interface StacksOptions {
  /** The stacks, in the app's order (see `selectStacks`). */
  readonly stacks: readonly AssemblyStack[];
  /** The region of each stack by name (see {@link stackRegions}). */
  readonly regions: ReadonlyMap<string, string>;
  readonly target: StacksTarget;
  /** A cloud assembly directory to read templates from when a stack does not carry its own. */
  readonly assemblyDir?: string;
  /** How many stacks at a time, dependencies respected. @default 1 */
  readonly concurrency?: number;
  readonly onEvent?: (event: DeployEvent) => void;
  readonly signal?: AbortSignal;
  readonly wording?: Wording;
}

export interface DeployStacksOptions extends StacksOptions {
  /** Template parameter values by stack name. Never logged or returned. */
  readonly parameters?: ReadonlyMap<string, Record<string, string>>;
  /** Stack tags over the app's own tags of each stack. */
  readonly tags?: Record<string, string>;
  /** Keep what was created when an operation fails. @default false */
  readonly disableRollback?: boolean;
  /** ROS's timeout of each create or update, minutes. @default what each template needs (see `deployStack`) */
  readonly timeoutInMinutes?: number;
}

/** The region of each stack by name, from a resolver (see `regionResolver`) and the app's pinned regions. */
export function stackRegions(stacks: readonly AssemblyStack[], resolve: RegionResolver): Map<string, string> {
  return new Map(stacks.map((s) => [s.stackName, resolve(s.stackName, s.regionId)]));
}

/** Deploys the stacks, dependencies first; results in the order they are known. */
export function deployStacks(options: DeployStacksOptions): Promise<StackOperationResult[]> {
  return runInOrder(options.stacks, {
    concurrency: options.concurrency ?? 1,
    order: 'dependencies-first',
    skipped: skippedResult(options.regions),
    work: (stack) =>
      deployStack({
        ...operationOptions(stack, options),
        ...templateSource(stack, options.assemblyDir),
        parameters: options.parameters?.get(stack.stackName),
        // The app's stack tags, the caller's over them.
        tags: { ...stack.tags, ...options.tags },
        disableRollback: options.disableRollback ?? false,
        ...(options.timeoutInMinutes !== undefined && { timeoutInMinutes: options.timeoutInMinutes }),
      }),
  });
}

/**
 * Creates a change set for each stack, one after another, with what {@link deployStacks} would send; executing them
 * ({@link executeChangeSets}) deploys the stacks. When one cannot be made, those already made are discarded.
 */
export async function createChangeSets(
  options: DeployStacksOptions & { readonly changeSetName?: string; readonly review?: boolean },
): Promise<ChangeSet[]> {
  const made: ChangeSet[] = [];
  try {
    for (const stack of options.stacks) {
      made.push(
        await createChangeSet({
          ...operationOptions(stack, options),
          ...templateSource(stack, options.assemblyDir),
          parameters: options.parameters?.get(stack.stackName),
          tags: { ...stack.tags, ...options.tags },
          disableRollback: options.disableRollback ?? false,
          ...(options.timeoutInMinutes !== undefined && { timeoutInMinutes: options.timeoutInMinutes }),
          ...(options.changeSetName && { changeSetName: options.changeSetName }),
          review: options.review ?? false,
        }),
      );
    }
  } catch (err) {
    await discardChangeSets(made);
    throw err;
  }
  return made;
}

/** Executes the change sets in the stacks' dependency order (see {@link deployStacks}). */
export function executeChangeSets(
  changeSets: readonly ChangeSet[],
  options: Pick<StacksOptions, 'stacks' | 'regions' | 'concurrency'>,
): Promise<StackOperationResult[]> {
  const byStack = new Map(changeSets.map((c) => [c.stackName, c]));
  return runInOrder(options.stacks, {
    concurrency: options.concurrency ?? 1,
    order: 'dependencies-first',
    skipped: skippedResult(options.regions),
    work: (stack) => byStack.get(stack.stackName)!.execute(),
  });
}

/** Discards change sets (best effort: one that cannot be deleted is left for the console). */
export async function discardChangeSets(changeSets: readonly ChangeSet[]): Promise<void> {
  for (const changeSet of changeSets) {
    await changeSet.discard().catch(() => undefined);
  }
}

/** Destroys the stacks, dependents first; results in the order they are known. */
export function destroyStacks(options: StacksOptions): Promise<StackOperationResult[]> {
  return runInOrder(options.stacks, {
    concurrency: options.concurrency ?? 1,
    order: 'dependents-first',
    skipped: skippedResult(options.regions),
    work: (stack) =>
      destroyStack({
        ...operationOptions(stack, options),
        constructPaths: stack.constructPaths,
      }),
  });
}

/** Compares each stack's template with the deployed one, one stack after another. */
export async function diffStacks(
  options: Pick<StacksOptions, 'stacks' | 'regions' | 'target' | 'assemblyDir'>,
): Promise<DiffResult[]> {
  const results: DiffResult[] = [];
  for (const stack of options.stacks) {
    results.push(
      await diffStack({
        ...options.target.connection(options.regions.get(stack.stackName)!),
        ...templateSource(stack, options.assemblyDir),
      }),
    );
  }
  return results;
}

function operationOptions(stack: AssemblyStack, options: StacksOptions) {
  return {
    ...options.target.connection(options.regions.get(stack.stackName)!),
    stackName: stack.stackName,
    onEvent: options.onEvent,
    signal: options.signal,
    pollIntervalMs: options.target.pollIntervalMs,
    wording: options.wording,
  };
}

/** Where a stack's template comes from: what this run's app wrote, as read right after it ran. */
function templateSource(stack: AssemblyStack, assemblyDir: string | undefined) {
  return {
    stackName: stack.stackName,
    constructPaths: stack.constructPaths,
    ...(stack.template !== undefined ? { template: stack.template } : { assemblyDir }),
  };
}

/** The result of a stack not attempted because a stack it waits for failed. */
const skippedResult =
  (regions: ReadonlyMap<string, string>) =>
  (stack: AssemblyStack, prerequisite: string): StackOperationResult => ({
    stackName: stack.stackName,
    regionId: regions.get(stack.stackName) ?? '',
    operation: 'none',
    status: 'SKIPPED',
    statusReason: `not attempted because ${prerequisite} failed`,
    success: false,
    noChanges: false,
    outputs: [],
    failedResources: [],
  });
