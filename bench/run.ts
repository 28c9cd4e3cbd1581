/**
 * `npm run bench`: runs the benchmarks one after the other and writes bench/results/latest.json and
 * latest.md. Nothing here calls the real Alibaba Cloud: everything runs against LocalCloud on 127.0.0.1.
 *
 *   npm run bench                      # the full run (about 6-8 minutes on 2 cores)
 *   npm run bench -- --quick           # small sizes, few repetitions, short copies (a smoke test, ~1 minute)
 *   npm run bench -- --only synth,handler
 *   npm run bench -- --out /tmp/bench  # write the results elsewhere (the default is bench/results)
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { HANDLER_ZIP_ENVIRONMENT_VARIABLE } from '../lib/provider';
import { packageRoot } from '../lib/package-root';
import { buildFullSdkHandler, buildOurHandler } from './bundles';
import { machine, writeResults, type BenchRun, type Figure } from './report';
import { round } from './stats';
import { deployBench } from './deploy.bench';
import { fanoutBench } from './fanout.bench';
import { handlerBench } from './handler.bench';
import { importBench } from './import.bench';
import { organizationBench } from './organization.bench';
import { scaleBench } from './scale.bench';
import { synthBench } from './synth.bench';
import { waitingBench } from './waiting.bench';

interface Args {
  readonly quick: boolean;
  readonly only?: ReadonlySet<string>;
  readonly out: string;
}

function parseArgs(argv: readonly string[]): Args {
  let quick = false;
  let only: Set<string> | undefined;
  let out = path.join(packageRoot(), 'bench', 'results');
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--quick') {
      quick = true;
    } else if (arg === '--only') {
      only = new Set(argv[++i].split(','));
    } else if (arg === '--out') {
      out = path.resolve(argv[++i]);
    } else {
      throw new Error(`Unknown argument ${arg}; see bench/run.ts for the options`);
    }
  }
  return { quick, ...(only && { only }), out };
}

export const BENCHMARKS = [
  'synth',
  'import',
  'handler',
  'waiting',
  'deploy',
  'fanout',
  'scale',
  'organization',
] as const;

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const startedAt = new Date();
  const started = Date.now();
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'image-copy-bench-'));
  const figures: Figure[] = [];
  const durations: Record<string, number> = {};
  const errors: Record<string, string> = {};
  try {
    // Our bundle, built as `npm run build` builds it, in a directory of our own; the provider inlines it.
    const ours = buildOurHandler(work);
    const fullSdk = buildFullSdkHandler(work);
    process.env[HANDLER_ZIP_ENVIRONMENT_VARIABLE] = ours.zipFile;
    const runs: Record<(typeof BENCHMARKS)[number], () => Promise<Figure[]>> = {
      synth: () =>
        synthBench(
          args.quick ? { sizes: [1, 10, 100], repetitions: 3 } : { sizes: [1, 10, 100, 250], repetitions: 7 },
        ),
      import: () => importBench({ repetitions: args.quick ? 5 : 21 }),
      handler: () => handlerBench({ ours, fullSdk, repetitions: args.quick ? 5 : 21 }),
      waiting: () =>
        waitingBench(
          args.quick
            ? { ours, durationsSeconds: [5], repetitions: 1, staggerMs: 300 }
            : { ours, durationsSeconds: [5, 30, 120], repetitions: 5, staggerMs: 300 },
        ),
      deploy: () =>
        deployBench(
          args.quick
            ? { repetitions: 1 }
            : { repetitions: 5, longCopy: { copyDurationMs: 30_000, repetitions: 2 } },
        ),
      fanout: () =>
        fanoutBench(
          args.quick
            ? { regions: 3, repetitions: 1, copyDurationMs: 5000, conflicts: ['none', 'any-destination'] }
            : {
                regions: 10,
                repetitions: 3,
                copyDurationMs: 10_000,
                conflicts: ['none', 'any-destination'],
              },
        ),
      scale: () =>
        scaleBench({
          perRegion: args.quick ? [8, 6, 2] : [8, 8, 7, 6, 5, 4, 4, 3, 3, 2],
          copyDurationMs: 4000,
          load: { concurrency: 16, durationMs: args.quick ? 2000 : 5000, repetitions: args.quick ? 1 : 3 },
        }),
      organization: () =>
        organizationBench(
          args.quick
            ? { accounts: 3, regions: 2, repetitions: 1, copyDurationMs: 5000, strict: false }
            : { accounts: 10, regions: 3, repetitions: 3, copyDurationMs: 20_000, strict: true },
        ),
    };
    for (const name of BENCHMARKS) {
      if (args.only && !args.only.has(name)) {
        continue;
      }
      const benchStarted = Date.now();
      process.stderr.write(`bench ${name}...\n`);
      try {
        const produced = await runs[name]();
        figures.push(...produced);
        for (const f of produced) {
          process.stderr.write(
            `  ${f.figure}: ${f.ours} ${f.unit}${f.baseline !== undefined ? ` vs ${f.baseline} ${f.unit}` : ''}` +
              `${f.met === undefined ? '' : f.met ? ' (met)' : ' (MISSED)'}\n`,
          );
        }
      } catch (error) {
        errors[name] = error instanceof Error ? (error.stack ?? error.message) : String(error);
        process.stderr.write(`  failed: ${errors[name]}\n`);
      }
      durations[name] = round((Date.now() - benchStarted) / 1000, 1);
      process.stderr.write(`  (${durations[name]} s)\n`);
    }
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
  const run: BenchRun = {
    startedAt: startedAt.toISOString(),
    totalSeconds: round((Date.now() - started) / 1000, 1),
    machine: machine(),
    options: { quick: args.quick, only: args.only ? [...args.only] : 'all' },
    durations,
    figures,
    errors,
  };
  const written = writeResults(run, args.out);
  process.stderr.write(`wrote ${written.json} and ${written.md} (${run.totalSeconds} s)\n`);
  if (Object.keys(errors).length > 0) {
    process.exitCode = 1;
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
