/**
 * Running work over stacks in dependency order: dependencies first (deploy) or dependents first (destroy), at most
 * `concurrency` at a time, a stack whose prerequisite failed skipped.
 */
/** Something that runs after others: a stack and the names of the stacks it depends on. */
export interface Ordered {
  readonly stackName: string;
  readonly dependencies: readonly string[];
}

export interface RunInOrderOptions<S extends Ordered, R extends { success: boolean }> {
  /** How many at a time. */
  readonly concurrency: number;
  /** Deploy dependencies first; destroy dependents first. */
  readonly order: 'dependencies-first' | 'dependents-first';
  readonly work: (stack: S) => Promise<R>;
  /** The result of a stack not attempted because `prerequisite` failed (or was skipped itself). */
  readonly skipped: (stack: S, prerequisite: string) => R;
}

/**
 * Runs `work` for each stack with at most `concurrency` at a time, a stack starting once those it depends on (or,
 * for destroy, those that depend on it) among `stacks` are done. When one of them failed it is skipped. Results
 * come in the order they are known. A thrown error stops new work; it is rethrown once the running work is over.
 */
export async function runInOrder<S extends Ordered, R extends { success: boolean }>(
  stacks: readonly S[],
  options: RunInOrderOptions<S, R>,
): Promise<R[]> {
  const names = new Set(stacks.map((s) => s.stackName));
  const before = new Map<string, string[]>(
    stacks.map((s) => [
      s.stackName,
      options.order === 'dependencies-first'
        ? s.dependencies.filter((d) => names.has(d))
        : stacks.filter((o) => o.dependencies.includes(s.stackName)).map((o) => o.stackName),
    ]),
  );
  const results = new Map<string, R>();
  const running = new Map<string, Promise<void>>();
  let failure: { error: unknown } | undefined;
  for (;;) {
    let skippedAny = false;
    for (const stack of stacks) {
      const name = stack.stackName;
      if (results.has(name) || running.has(name) || running.size >= options.concurrency || failure) {
        continue;
      }
      const prerequisites = before.get(name)!;
      const failed = prerequisites.find((p) => results.has(p) && !results.get(p)!.success);
      if (failed) {
        results.set(name, options.skipped(stack, failed));
        skippedAny = true;
      } else if (prerequisites.every((p) => results.has(p))) {
        const done = options.work(stack).then(
          (result) => void results.set(name, result),
          (error: unknown) => void (failure ??= { error }),
        );
        running.set(
          name,
          done.finally(() => running.delete(name)),
        );
      }
    }
    if (running.size > 0) {
      await Promise.race(running.values());
    } else if (!skippedAny) {
      break;
    }
  }
  if (failure) {
    throw failure.error;
  }
  return [...results.values()];
}
