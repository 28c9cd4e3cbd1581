/**
 * Finds import cycles between the TypeScript modules of a folder (default `lib/`), type-only imports included: a
 * cycle of types still couples the modules and makes the order they load in matter to anyone who turns one into a
 * value import. Prints each cycle as `a.ts -> b.ts -> a.ts` and exits 1 when there is one, 0 otherwise.
 *
 *   node --require ./examples/ts-register.js scripts/import-cycles.ts [folder ...]
 *
 * Every `import ... from`, `export ... from`, `import x = require(...)` and dynamic `import()` / `require()` of a
 * relative path counts; imports that leave the folders given (packages, other folders) do not.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as ts from 'typescript';

/** Relative module specifiers a file imports (statically or dynamically). */
export function importsOf(source: string): string[] {
  return ts
    .preProcessFile(source, true, true)
    .importedFiles.map((f) => f.fileName)
    .filter((name) => name.startsWith('.'));
}

/** The `.ts` file a relative specifier names, or undefined when it is not a TypeScript source. */
export function resolveImport(from: string, specifier: string): string | undefined {
  const base = path.resolve(path.dirname(from), specifier);
  for (const candidate of [base, `${base}.ts`, path.join(base, 'index.ts')]) {
    if (candidate.endsWith('.ts') && fs.existsSync(candidate) && fs.statSync(candidate).isFile()) {
      return candidate;
    }
  }
  return undefined;
}

function sourcesUnder(folder: string): string[] {
  return fs
    .readdirSync(folder, { withFileTypes: true })
    .flatMap((entry) => {
      const full = path.join(folder, entry.name);
      if (entry.isDirectory()) {
        return sourcesUnder(full);
      }
      return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [full] : [];
    })
    .sort();
}

/** The import graph of the files under `folders`: file → the files (under `folders` too) it imports. */
export function importGraph(folders: readonly string[]): Map<string, string[]> {
  const files = folders.flatMap((folder) => sourcesUnder(path.resolve(folder)));
  const known = new Set(files);
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const targets = importsOf(fs.readFileSync(file, 'utf8'))
      .map((specifier) => resolveImport(file, specifier))
      .filter((target): target is string => target !== undefined && known.has(target));
    graph.set(file, [...new Set(targets)].sort());
  }
  return graph;
}

/**
 * The strongly connected components with more than one module (or a module importing itself), each as one cycle
 * through all of its modules where one exists, else the shortest cycles that cover it. Tarjan's algorithm.
 */
export function cyclesOf(graph: Map<string, string[]>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const visit = (node: string): void => {
    index.set(node, counter);
    low.set(node, counter);
    counter++;
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node)!, index.get(next)!));
      }
    }
    if (low.get(node) === index.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      const selfImport = (graph.get(node) ?? []).includes(node);
      if (component.length > 1 || selfImport) {
        components.push(component.sort());
      }
    }
  };
  for (const node of graph.keys()) {
    if (!index.has(node)) {
      visit(node);
    }
  }
  return components.flatMap((component) => shortestCycles(graph, component));
}

/** For each module of a component, the shortest cycle through it; each distinct cycle once. */
function shortestCycles(graph: Map<string, string[]>, component: string[]): string[][] {
  const members = new Set(component);
  const seen = new Set<string>();
  const cycles: string[][] = [];
  for (const start of component) {
    const previous = new Map<string, string>();
    const queue = [start];
    let found: string[] | undefined;
    while (queue.length > 0 && !found) {
      const node = queue.shift()!;
      for (const next of graph.get(node) ?? []) {
        if (!members.has(next)) {
          continue;
        }
        if (next === start) {
          const cycle = [node];
          while (cycle[0] !== start) {
            cycle.unshift(previous.get(cycle[0])!);
          }
          found = cycle;
          break;
        }
        if (!previous.has(next)) {
          previous.set(next, node);
          queue.push(next);
        }
      }
    }
    if (!found) {
      continue;
    }
    // The same cycle starts at each of its modules: name it by its smallest rotation.
    const first = found.indexOf([...found].sort()[0]);
    const canonical = [...found.slice(first), ...found.slice(0, first)];
    const key = canonical.join('\n');
    if (!seen.has(key)) {
      seen.add(key);
      cycles.push(canonical);
    }
  }
  return cycles;
}

function main(args: readonly string[]): number {
  const folders = args.length > 0 ? args : ['lib'];
  const missing = folders.filter((folder) => !fs.existsSync(folder) || !fs.statSync(folder).isDirectory());
  if (missing.length > 0) {
    process.stderr.write(`import-cycles: not a folder: ${missing.join(', ')}\n`);
    return 2;
  }
  const cycles = cyclesOf(importGraph(folders));
  const relative = (file: string) => path.relative(process.cwd(), file);
  for (const cycle of cycles) {
    process.stdout.write(`${[...cycle, cycle[0]].map(relative).join(' -> ')}\n`);
  }
  const where = folders.join(', ');
  process.stdout.write(
    cycles.length === 0
      ? `No import cycle under ${where}.\n`
      : `${cycles.length} import cycle${cycles.length === 1 ? '' : 's'} under ${where}.\n`,
  );
  return cycles.length === 0 ? 0 : 1;
}

if (require.main === module) {
  process.exitCode = main(process.argv.slice(2));
}
