/**
 * Benchmark 1, synth: wall time and template bytes for N ImageCopy in one stack against the same N of the ROS
 * CDK's native `ecs.CopyImage` (`ALIYUN::ECS::CopyImage`), alternating in one process. Also the provider's fixed
 * cost and the bytes per copy (least squares over the N measured), and the N = 250 template against ROS's
 * 524,288-byte limit.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as ros from '@alicloud/ros-cdk-core';
import * as ecs from '@alicloud/ros-cdk-ecs';
import { ImageCopy } from '../lib';
import { MAX_TEMPLATE_BYTES } from '../lib/deploy';
import { compared, type Figure } from './report';
import { alternate, median, nowMs, round } from './stats';

export interface SynthOptions {
  readonly sizes: readonly number[];
  readonly repetitions: number;
}

interface Sample {
  readonly ms: number;
  /** The template file as synthesized (what a deploy tool reads and sends). */
  readonly bytes: number;
  /** The same template as compact JSON. */
  readonly compactBytes: number;
}

type Kind = 'ours' | 'native';

/** Builds a stack of `n` copies of one kind and synthesizes it; returns the wall time and the template's bytes. */
function synthOnce(kind: Kind, n: number, outRoot: string): Sample {
  const start = nowMs();
  const app = new ros.App({ outdir: fs.mkdtempSync(path.join(outRoot, `${kind}-${n}-`)) });
  const stack = new ros.Stack(app, 'BenchStack', { env: { region: 'cn-shanghai' } });
  for (let i = 0; i < n; i++) {
    if (kind === 'ours') {
      new ImageCopy(stack, `Copy${i}`, {
        sourceImageId: 'm-bp1seedgoldenimage01',
        sourceRegionId: 'cn-hangzhou',
        destinationRegionId: 'cn-shanghai',
        imageName: `golden-copy-${i}`,
      });
    } else {
      new ecs.CopyImage(stack, `Copy${i}`, {
        imageId: 'm-bp1seedgoldenimage01',
        sourceRegionId: 'cn-hangzhou',
        destinationRegionId: 'cn-shanghai',
        destinationImageName: `golden-copy-${i}`,
      });
    }
  }
  const assembly = app.synth();
  const ms = nowMs() - start;
  const artifact = assembly.getStackByName(stack.stackName);
  const text = fs.readFileSync(path.join(assembly.directory, artifact.templateFile), 'utf8');
  fs.rmSync(assembly.directory, { recursive: true, force: true });
  return {
    ms,
    bytes: Buffer.byteLength(text),
    compactBytes: Buffer.byteLength(JSON.stringify(JSON.parse(text))),
  };
}

/** Slope and intercept of the least-squares line through (x, y). */
function fitLine(points: ReadonlyArray<readonly [number, number]>): { slope: number; intercept: number } {
  const n = points.length;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  const sxy = points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0);
  const sxx = points.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  const slope = sxx === 0 ? 0 : sxy / sxx;
  return { slope, intercept: my - slope * mx };
}

export async function synthBench(options: SynthOptions): Promise<Figure[]> {
  const outRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-synth-'));
  try {
    // Warm both code paths (module loading, JIT) before anything is timed.
    synthOnce('ours', 10, outRoot);
    synthOnce('native', 10, outRoot);
    const figures: Figure[] = [];
    const bytes: Record<Kind, Array<[number, number]>> = { ours: [], native: [] };
    const compactBytes: Record<Kind, Array<[number, number]>> = { ours: [], native: [] };
    const times: Record<Kind, Array<[number, number]>> = { ours: [], native: [] };
    const emptyBytes = synthOnce('native', 0, outRoot).bytes;
    for (const n of options.sizes) {
      const samples = await alternate(
        options.repetitions,
        async () => synthOnce('ours', n, outRoot),
        async () => synthOnce('native', n, outRoot),
      );
      const ours = median(samples.ours.map((s) => s.ms));
      const native = median(samples.baseline.map((s) => s.ms));
      const atTarget = n === 100;
      const ratio = ours / native;
      figures.push(
        compared({
          bench: '1 synth',
          figure: `synth time, N = ${n}`,
          unit: 'ms',
          ours: round(ours, 1),
          baseline: round(native, 1),
          baselineName: 'ecs.CopyImage',
          ...(atTarget && { target: 'ratio ≤ 1.3', met: ratio <= 1.3 }),
          samples: {
            ours: samples.ours.map((s) => round(s.ms, 1)),
            baseline: samples.baseline.map((s) => round(s.ms, 1)),
          },
        }),
      );
      const ourBytes = samples.ours[0].bytes;
      const nativeBytes = samples.baseline[0].bytes;
      bytes.ours.push([n, ourBytes]);
      bytes.native.push([n, nativeBytes]);
      compactBytes.ours.push([n, samples.ours[0].compactBytes]);
      compactBytes.native.push([n, samples.baseline[0].compactBytes]);
      times.ours.push([n, ours]);
      times.native.push([n, native]);
      figures.push(
        compared({
          bench: '1 synth',
          figure: `template bytes, N = ${n}`,
          unit: 'B',
          ours: ourBytes,
          baseline: nativeBytes,
          baselineName: 'ecs.CopyImage',
          ...(n === 250 && {
            target: `< ${MAX_TEMPLATE_BYTES} B (ROS limit)`,
            met: ourBytes < MAX_TEMPLATE_BYTES,
            note: `${round((100 * ourBytes) / MAX_TEMPLATE_BYTES, 1)}% of ROS's TemplateBody limit.`,
          }),
        }),
      );
    }
    const ours = fitLine(bytes.ours);
    const native = fitLine(bytes.native);
    const oursCompact = fitLine(compactBytes.ours);
    const nativeCompact = fitLine(compactBytes.native);
    const oursTime = fitLine(times.ours);
    const nativeTime = fitLine(times.native);
    figures.push(
      compared({
        bench: '1 synth',
        figure: 'bytes per copy',
        unit: 'B',
        ours: round(ours.slope, 1),
        baseline: round(native.slope, 1),
        baselineName: 'ecs.CopyImage',
        target: 'ratio ≤ 1.5',
        met: ours.slope / native.slope <= 1.5,
        note:
          `Least-squares slope of template bytes over N = ${options.sizes.join(', ')}, the file as synthesized ` +
          `(pretty-printed). As compact JSON: ${round(oursCompact.slope, 1)} B vs ${round(nativeCompact.slope, 1)} B ` +
          `(ratio ${round(oursCompact.slope / nativeCompact.slope, 2)}), which is what ROS receives from ros-deploy ` +
          '(deployStack submits JSON without indentation) and what counts against its 524,288-byte limit.',
      }),
      compared({
        bench: '1 synth',
        figure: 'synth time per copy',
        unit: 'ms',
        ours: round(oursTime.slope, 3),
        baseline: round(nativeTime.slope, 3),
        baselineName: 'ecs.CopyImage',
        note: 'Least-squares slope of the median synth time over N.',
      }),
      {
        bench: '1 synth',
        figure: 'provider fixed cost (synth time)',
        unit: 'ms',
        ours: round(oursTime.intercept - nativeTime.intercept, 1),
        note: 'Intercept of our time-over-N line minus the native one: building the provider and inlining the handler zip.',
      },
      {
        bench: '1 synth',
        figure: 'provider fixed cost (template bytes)',
        unit: 'B',
        ours: Math.round(ours.intercept - native.intercept),
        note:
          `Intercept of our bytes-over-N line minus the native one's (a stack of 0 native copies is ${emptyBytes} B): ` +
          'the RAM role, its policy and the FC function with the handler zip inlined as base64.',
      },
    );
    return figures;
  } finally {
    fs.rmSync(outRoot, { recursive: true, force: true });
  }
}
