/**
 * Benchmark 4, deploy: `deployStack` of the single-copy example on LocalCloud against a replay of the official
 * CLI's follow loop (bench/ros-cli-follow.ts), alternating, each in a fresh LocalCloud. Overhead = the wall time of
 * the deploy minus the copy's own duration (LocalCloud's record of it); ROS calls are counted by LocalCloud.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as ros from '@alicloud/ros-cdk-core';
import { deployStack, type DeployStackOptions } from '../lib/deploy';
import { LocalCloud } from '../lib/local';
import type { EcsState } from '../lib/local/ecs/images';
import type { CloudVariants } from '../lib/local/variants';
import { SINGLE_COPY_DEFAULTS, SingleCopyStack } from '../examples/single-copy/stack';
import { compared, type Figure } from './report';
import { alternate, median, nowMs, round } from './stats';
import { cliDeploy } from './ros-cli-follow';

export interface DeployOptions {
  readonly repetitions: number;
  /**
   * Runs of each side with a longer copy (ms), ours and the CLI's at the same time (each in its own LocalCloud):
   * how the two follow loops compare when the copy, not the set-up, is most of the deploy.
   */
  readonly longCopy?: { readonly copyDurationMs: number; readonly repetitions: number };
  /** Copy duration in LocalCloud, ms; undefined: LocalCloud's default for the example's 40 GiB image (6 s). */
  readonly copyDurationMs?: number;
}

const STACK_REGION = 'cn-hangzhou';
const OVERHEAD_TARGET_MS = 2000;

interface DeployRun {
  readonly overheadMs: number;
  readonly wallMs: number;
  readonly copyMs: number;
  readonly rosCalls: number;
  readonly ecsCalls: number;
  /** Where the overhead goes: start → first CopyImage (stack set-up, function start). */
  readonly setupMs: number;
  /** Last copy Available → last custom-resource response posted (the handler noticing). */
  readonly handlerMs: number;
  /** Last response posted → the deploy returned (ROS finishing the stack, the follow loop noticing). */
  readonly followMs: number;
}

/** The example's template as `npm run synth` writes it. */
export function synthTemplate(build: (app: ros.App) => ros.Stack): string {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-deploy-synth-'));
  try {
    const app = new ros.App({ outdir });
    const stack = build(app);
    const assembly = app.synth();
    return fs.readFileSync(
      path.join(assembly.directory, assembly.getStackByName(stack.stackName).templateFile),
      'utf8',
    );
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}

/** The copies a deploy ran: when the first started and when the last became Available (ms since the epoch). */
export function copySpan(cloud: LocalCloud, regions: readonly string[]): { start: number; end: number } {
  for (const region of regions) {
    cloud.ecs.listImages(region);
  } // replays each region's queue
  const state = cloud.state.section<EcsState>('ecs', () => {
    throw new Error('LocalCloud has no ECS state');
  });
  const copies = Object.values(state.images).flatMap((image) => (image.copy ? [image.copy] : []));
  if (copies.length === 0) {
    throw new Error('the deploy made no copy');
  }
  const start = Math.min(...copies.map((c) => c.startedAt ?? c.requestedAt));
  const end = Math.max(...copies.map((c) => (c.startedAt ?? c.requestedAt) + c.durationMs));
  return { start, end };
}

/** Runs `deploy` in a fresh LocalCloud and measures it. */
export async function measureDeploy(
  cloudOptions: { copyDurationMs?: number; variants?: Partial<CloudVariants> },
  regions: readonly string[],
  deploy: (cloud: LocalCloud) => Promise<string>,
): Promise<DeployRun & { cloud: LocalCloud; startedAt: number }> {
  const cloud = await LocalCloud.start({ port: 0, ...cloudOptions });
  try {
    const startedAt = Date.now();
    const start = nowMs();
    const status = await deploy(cloud);
    const wallMs = nowMs() - start;
    const endedAt = Date.now();
    if (status !== 'CREATE_COMPLETE') {
      throw new Error(`the deploy ended ${status}`);
    }
    const span = copySpan(cloud, regions);
    const copyMs = span.end - span.start;
    const mine = cloud.calls.filter((c) => c.time >= startedAt);
    const calls = mine.filter((c) => c.principal === 'root');
    const firstCopy = Math.min(...mine.filter((c) => c.action === 'CopyImage').map((c) => c.time));
    const lastAnswer = Math.max(...mine.filter((c) => c.product === 'ros-callback').map((c) => c.time));
    return {
      cloud,
      startedAt,
      wallMs,
      copyMs,
      overheadMs: wallMs - copyMs,
      setupMs: firstCopy - startedAt,
      handlerMs: lastAnswer - span.end,
      followMs: endedAt - lastAnswer,
      rosCalls: calls.filter((c) => c.product === 'ros').length,
      ecsCalls: calls.filter((c) => c.product === 'ecs').length,
    };
  } finally {
    await cloud.ros.settled();
    await cloud.fc.settled();
    await cloud.stop();
  }
}

export function connectionTo(
  cloud: LocalCloud,
): Pick<DeployStackOptions, 'regionId' | 'endpoint' | 'protocol' | 'credentials'> {
  return {
    regionId: STACK_REGION,
    endpoint: cloud.endpoint,
    protocol: 'http',
    credentials: cloud.credentials,
  };
}

export async function deployBench(options: DeployOptions): Promise<Figure[]> {
  const template = synthTemplate(
    (app) => new SingleCopyStack(app, 'ImageCopyExample', { ...SINGLE_COPY_DEFAULTS }),
  );
  const regions = [SINGLE_COPY_DEFAULTS.destinationRegionId];
  const cloudOptions = options.copyDurationMs !== undefined ? { copyDurationMs: options.copyDurationMs } : {};
  let round_ = 0;
  const ours =
    (pollIntervalMs?: number, options_ = cloudOptions) =>
    () =>
      measureDeploy(options_, regions, async (cloud) => {
        const result = await deployStack({
          ...connectionTo(cloud),
          stackName: `image-copy-example-${round_++}`,
          template,
          ...(pollIntervalMs !== undefined && { pollIntervalMs }),
        });
        return result.status;
      });
  const cli =
    (options_ = cloudOptions) =>
    () =>
      measureDeploy(options_, regions, async (cloud) => {
        const result = await cliDeploy(cloud, STACK_REGION, `image-copy-example-${round_++}`, template);
        return result.status;
      });
  const main = await alternate(options.repetitions, ours(), cli());
  // ros-deploy --local follows every 250 ms (lib/cli/ros-deploy.ts); measured too, against the same kind of run.
  const local = await alternate(Math.max(1, Math.ceil(options.repetitions / 2)), ours(250), cli());
  const long = options.longCopy;
  const longRuns = long
    ? await Promise.all(
        Array.from({ length: long.repetitions }, () => [
          ours(undefined, { copyDurationMs: long.copyDurationMs })(),
          cli({ copyDurationMs: long.copyDurationMs })(),
        ]).flat(),
      )
    : [];
  const longSides = {
    ours: longRuns.filter((_, i) => i % 2 === 0),
    baseline: longRuns.filter((_, i) => i % 2 === 1),
  };
  const seconds = (runs: readonly DeployRun[], key: keyof DeployRun) =>
    runs.map((r) => round(r[key] / 1000, 2));
  const count = (runs: readonly DeployRun[], key: keyof DeployRun) => runs.map((r) => r[key]);
  const copyS = median(seconds([...main.ours, ...main.baseline], 'copyMs'));
  const longFigures: Figure[] = long
    ? [
        compared({
          bench: '4 deploy',
          figure: `deploy overhead, deployStack defaults, ${long.copyDurationMs / 1000} s copy`,
          unit: 's',
          ours: median(seconds(longSides.ours, 'overheadMs')),
          baseline: median(seconds(longSides.baseline, 'overheadMs')),
          baselineName: 'CLI follow loop',
          samples: {
            ours: seconds(longSides.ours, 'overheadMs'),
            baseline: seconds(longSides.baseline, 'overheadMs'),
          },
          note: `Both sides ran at the same time, each in its own LocalCloud. ${breakdown(longSides.ours)} ${breakdown(longSides.baseline, 'CLI')}`,
        }),
        compared({
          bench: '4 deploy',
          figure: `ROS API calls per deploy, deployStack defaults, ${long.copyDurationMs / 1000} s copy`,
          unit: '',
          ours: median(count(longSides.ours, 'rosCalls')),
          baseline: median(count(longSides.baseline, 'rosCalls')),
          baselineName: 'CLI follow loop',
          samples: {
            ours: count(longSides.ours, 'rosCalls'),
            baseline: count(longSides.baseline, 'rosCalls'),
          },
        }),
      ]
    : [];
  return [
    compared({
      bench: '4 deploy',
      figure: 'deploy overhead (wall − copy), deployStack defaults',
      unit: 's',
      ours: median(seconds(main.ours, 'overheadMs')),
      baseline: median(seconds(main.baseline, 'overheadMs')),
      baselineName: 'CLI follow loop',
      target: `≤ ${OVERHEAD_TARGET_MS / 1000} s`,
      met: median(count(main.ours, 'overheadMs')) <= OVERHEAD_TARGET_MS,
      samples: { ours: seconds(main.ours, 'overheadMs'), baseline: seconds(main.baseline, 'overheadMs') },
      note:
        `The copy takes ${copyS} s; deploy wall time ${median(seconds(main.ours, 'wallMs'))} s vs ` +
        `${median(seconds(main.baseline, 'wallMs'))} s. ${breakdown(main.ours)} ${breakdown(main.baseline, 'CLI')} ` +
        "deployStack's default follow polls ListStackEvents after 1 s, then every tenth of the time run so far " +
        "(at most 2 s), and calls GetStack when the stack's own events show it ended.",
    }),
    compared({
      bench: '4 deploy',
      figure: 'ROS API calls per deploy, deployStack defaults',
      unit: '',
      ours: median(count(main.ours, 'rosCalls')),
      baseline: median(count(main.baseline, 'rosCalls')),
      baselineName: 'CLI follow loop',
      target: 'fewer than the baseline',
      met: median(count(main.ours, 'rosCalls')) < median(count(main.baseline, 'rosCalls')),
      samples: { ours: count(main.ours, 'rosCalls'), baseline: count(main.baseline, 'rosCalls') },
      note: `deployStack also read the copy's progress from ECS: ${median(count(main.ours, 'ecsCalls'))} ECS calls.`,
    }),
    compared({
      bench: '4 deploy',
      figure: 'deploy overhead, polling every 250 ms (ros-deploy --local)',
      unit: 's',
      ours: median(seconds(local.ours, 'overheadMs')),
      baseline: median(seconds(local.baseline, 'overheadMs')),
      baselineName: 'CLI follow loop',
      samples: { ours: seconds(local.ours, 'overheadMs'), baseline: seconds(local.baseline, 'overheadMs') },
      note: breakdown(local.ours),
    }),
    compared({
      bench: '4 deploy',
      figure: 'ROS API calls per deploy, polling every 250 ms (ros-deploy --local)',
      unit: '',
      ours: median(count(local.ours, 'rosCalls')),
      baseline: median(count(local.baseline, 'rosCalls')),
      baselineName: 'CLI follow loop',
      samples: { ours: count(local.ours, 'rosCalls'), baseline: count(local.baseline, 'rosCalls') },
    }),
    ...longFigures,
  ];
}

/** Where the overhead of some runs goes, in words (medians). */
function breakdown(runs: readonly DeployRun[], who = 'Ours'): string {
  const s = (key: keyof DeployRun) => round(median(runs.map((r) => r[key])) / 1000, 2);
  return (
    `${who}: set-up to the first CopyImage ${s('setupMs')} s, copy Available to the handler's response ` +
    `${s('handlerMs')} s, response to the deploy returning ${s('followMs')} s.`
  );
}
