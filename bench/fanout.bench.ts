/**
 * Benchmark 5, fan-out: `ImageReplication` to 10 regions deployed with `deployStack` on LocalCloud, its wall time
 * divided by that of the same stack replicating to one region, alternating, each in a fresh LocalCloud whose copies
 * all take the same time. Under each reading of concurrent copies of one source (`copyConflict`, undocumented):
 * `none` (the copies run in parallel: ideal 1.0) and `any-destination` (ECS refuses a copy of a source that is being
 * copied anywhere: the copies run one after the other, N times one copy, unless members copy from one another's
 * finished copies). Also the peak ECS call rate of the 10-region deploy under `none`: the most calls in any one-second
 * window, from the handler (its role) and in all (with the deploy helper's progress reads).
 */
import { ImageReplication } from '../lib';
import { deployStack } from '../lib/deploy';
import { ECS_REGION_IDS } from '../lib/local/ecs';
import * as ros from '@alicloud/ros-cdk-core';
import type { CloudVariants } from '../lib/local/variants';
import { connectionTo, measureDeploy, synthTemplate } from './deploy.bench';
import { compared, type Figure } from './report';
import { alternate, median, peakPerWindow, round } from './stats';

export interface FanoutOptions {
  readonly regions: number;
  readonly repetitions: number;
  readonly copyDurationMs: number;
  /** The readings of `copyConflict` to measure under, each with its own pair of deploys. Default: none only. */
  readonly conflicts?: ReadonlyArray<CloudVariants['copyConflict']>;
}

const SOURCE_REGION = 'cn-hangzhou';
const RATIO_TARGET = 1.2;
/** deployStack's follow interval here, so that following adds little to either wall time. */
const POLL_INTERVAL_MS = 250;

function replicationTemplate(regions: readonly string[]): string {
  return synthTemplate((app) => {
    const stack = new ros.Stack(app, 'FanoutStack', { env: { region: SOURCE_REGION } });
    new ImageReplication(stack, 'Golden', {
      sourceImageId: 'm-bp1seedgoldenimage01',
      sourceRegionId: SOURCE_REGION,
      destinationRegionIds: [...regions],
      imageName: 'golden-published',
    });
    return stack;
  });
}

export async function fanoutBench(options: FanoutOptions): Promise<Figure[]> {
  const figures: Figure[] = [];
  for (const copyConflict of options.conflicts ?? ['none']) {
    figures.push(...(await fanoutUnder(options, copyConflict)));
  }
  return figures;
}

/** Targets of the 10-vs-1 ratio: parallel copies under `none`; a fan-out tree's log2(N+1) rounds otherwise. */
function ratioTarget(copyConflict: CloudVariants['copyConflict'], regions: number): number {
  return copyConflict === 'none' ? RATIO_TARGET : Math.ceil(Math.log2(regions + 1));
}

async function fanoutUnder(
  options: FanoutOptions,
  copyConflict: CloudVariants['copyConflict'],
): Promise<Figure[]> {
  const many = ECS_REGION_IDS.filter((r) => r !== SOURCE_REGION).slice(0, options.regions);
  const one = many.slice(0, 1);
  const templates = { many: replicationTemplate(many), one: replicationTemplate(one) };
  let count = 0;
  const run = (regions: readonly string[], template: string) => () =>
    measureDeploy(
      { copyDurationMs: options.copyDurationMs, variants: { copyConflict } },
      regions,
      async (cloud) => {
        const result = await deployStack({
          ...connectionTo(cloud),
          stackName: `fanout-${count++}`,
          template,
          pollIntervalMs: POLL_INTERVAL_MS,
        });
        const ecs = cloud.calls.filter((c) => c.product === 'ecs');
        peaks.push({
          handler: peakPerWindow(ecs.filter((c) => c.principal === 'role').map((c) => c.time)),
          all: peakPerWindow(ecs.map((c) => c.time)),
          regions: regions.length,
        });
        return result.status;
      },
    );
  const peaks: Array<{ handler: number; all: number; regions: number }> = [];
  const samples = await alternate(options.repetitions, run(many, templates.many), run(one, templates.one));
  const wall = {
    ours: samples.ours.map((r) => round(r.wallMs / 1000, 2)),
    baseline: samples.baseline.map((r) => round(r.wallMs / 1000, 2)),
  };
  const ratio = median(wall.ours) / median(wall.baseline);
  const target = ratioTarget(copyConflict, many.length);
  const manyPeaks = peaks.filter((p) => p.regions === many.length);
  const figures: Figure[] = [
    compared({
      bench: '5 fan-out',
      figure:
        copyConflict === 'none'
          ? `ImageReplication wall time, ${many.length} regions vs 1`
          : `ImageReplication wall time, ${many.length} regions vs 1, copyConflict ${copyConflict}`,
      unit: 's',
      ours: median(wall.ours),
      baseline: median(wall.baseline),
      baselineName: '1 region',
      target: `ratio ≤ ${target}`,
      met: ratio <= target,
      samples: wall,
      note:
        `copyConflict ${copyConflict}. Each copy takes ${options.copyDurationMs / 1000} s; deployStack follows every ` +
        `${POLL_INTERVAL_MS} ms so that following adds little to either side. Copies span ` +
        `${median(samples.ours.map((r) => round(r.copyMs / 1000, 2)))} s (${many.length} regions) vs ` +
        `${median(samples.baseline.map((r) => round(r.copyMs / 1000, 2)))} s (1 region).`,
    }),
  ];
  if (copyConflict === 'none') {
    figures.push({
      bench: '5 fan-out',
      figure: `peak ECS call rate, ${many.length} regions (handler / all)`,
      unit: 'calls/s',
      ours: median(manyPeaks.map((p) => p.handler)),
      note:
        `Most ECS calls in any 1 s window: ${median(manyPeaks.map((p) => p.handler))} from the handler, ` +
        `${median(manyPeaks.map((p) => p.all))} including deployStack's progress reads (one region: ` +
        `${median(peaks.filter((p) => p.regions === 1).map((p) => p.all))}).`,
    });
  }
  return figures;
}
