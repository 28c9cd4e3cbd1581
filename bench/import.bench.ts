/**
 * The cost of importing the construct library: a fresh `node` that requires the package's root entry (as built by
 * `npm run build`, compiled here into a directory of its own) against one that requires `@alicloud/ros-cdk-core`
 * alone, which every app loads anyway. The difference is what the constructs add to each synth; the target is at
 * most 30 ms. Also counts the modules each loads, and checks that the root entry loads neither the ROS SDK nor
 * LocalCloud (the deploy library and the emulator live behind their own subpaths).
 */
import { execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { packageRoot } from '../lib/package-root';
import { compared, type Figure } from './report';
import { alternate, median, round } from './stats';

export interface ImportBenchOptions {
  readonly repetitions: number;
}

const ADDED_TARGET_MS = 30;

interface ImportSample {
  /** `require` of the entry inside the child, ms. */
  readonly requireMs: number;
  /** Modules in the child's require cache afterwards. */
  readonly modules: number;
  /** Whether the ROS SDK or LocalCloud was loaded. */
  readonly heavy: readonly string[];
}

const CHILD = `
const started = process.hrtime.bigint();
require(process.argv[1]);
const requireMs = Number(process.hrtime.bigint() - started) / 1e6;
const files = Object.keys(require.cache);
const heavy = files.filter((f) => /ros20190910|openapi-core|[\\\\/]lib[\\\\/]local[\\\\/]|[\\\\/]lib[\\\\/]deploy[\\\\/]/.test(f));
process.stdout.write(JSON.stringify({ requireMs, modules: files.length, heavy }));
`;

function requireInChild(entry: string): Promise<ImportSample> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', CHILD, entry], {
      cwd: packageRoot(),
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0
        ? resolve(JSON.parse(out) as ImportSample)
        : reject(new Error(`require(${entry}) exited ${code}`)),
    );
  });
}

/**
 * Compiles `lib/` as `npm run build` does, into a directory inside this package's node_modules (so the compiled
 * code resolves the framework packages as an app's would); returns the root entry's path.
 */
function compileLibrary(): string {
  const outDir = path.join(packageRoot(), 'node_modules', '.cache', 'ros-cdk-image-copy', 'import-bench');
  fs.rmSync(outDir, { recursive: true, force: true });
  execFileSync(
    process.execPath,
    [
      path.join(packageRoot(), 'node_modules', 'typescript', 'bin', 'tsc'),
      '-p',
      path.join(packageRoot(), 'tsconfig.build.json'),
      '--outDir',
      outDir,
      '--declaration',
      'false',
    ],
    { stdio: 'inherit' },
  );
  return path.join(outDir, 'lib', 'index.js');
}

export async function importBench(options: ImportBenchOptions): Promise<Figure[]> {
  const entry = compileLibrary();
  const core = require.resolve('@alicloud/ros-cdk-core', { paths: [packageRoot()] });
  // One of each first: the file system cache warms up for both.
  await requireInChild(entry);
  await requireInChild(core);
  const samples = await alternate(
    options.repetitions,
    () => requireInChild(entry),
    () => requireInChild(core),
  );
  const ours = median(samples.ours.map((s) => s.requireMs));
  const baseline = median(samples.baseline.map((s) => s.requireMs));
  const added = round(ours - baseline, 1);
  const heavy = [...new Set(samples.ours.flatMap((s) => s.heavy))];
  fs.rmSync(path.dirname(path.dirname(entry)), { recursive: true, force: true });
  return [
    compared({
      bench: 'import',
      figure: 'require of the construct entry (root) vs @alicloud/ros-cdk-core alone',
      unit: 'ms',
      ours: round(ours, 1),
      baseline: round(baseline, 1),
      baselineName: '@alicloud/ros-cdk-core alone',
      target: `adds ≤ ${ADDED_TARGET_MS} ms`,
      met: added <= ADDED_TARGET_MS && heavy.length === 0,
      samples: {
        ours: samples.ours.map((s) => round(s.requireMs, 1)),
        baseline: samples.baseline.map((s) => round(s.requireMs, 1)),
      },
      note:
        `the constructs add ${added} ms; modules loaded ${samples.ours[0].modules} vs ` +
        `${samples.baseline[0].modules}` +
        (heavy.length > 0
          ? `; the root entry loaded ${heavy.join(', ')}`
          : '; no ROS SDK, deploy or LocalCloud module'),
    }),
  ];
}
