/** The figures a benchmark run produces, and how they are written to `bench/results/latest.{json,md}`. */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { round } from './stats';

/** One row of the results table. */
export interface Figure {
  /** Which benchmark (1-6 of issue 7) it belongs to, e.g. `synth`. */
  readonly bench: string;
  /** What is measured, e.g. `synth time, N = 100`. */
  readonly figure: string;
  readonly unit: string;
  /** Our measurement (a median when repeated). */
  readonly ours: number;
  /** The baseline's measurement in the same run, when the figure has one. */
  readonly baseline?: number;
  /** What the baseline is, e.g. `ecs.CopyImage (native)`. */
  readonly baselineName?: string;
  /** ours / baseline. */
  readonly ratio?: number;
  /** The target, in words (e.g. `ratio ≤ 1.3`). */
  readonly target?: string;
  /** Whether the target is met; undefined when the figure has no target. */
  readonly met?: boolean;
  /** Every sample behind a median. */
  readonly samples?: { readonly ours: readonly number[]; readonly baseline?: readonly number[] };
  readonly note?: string;
}

export interface BenchRun {
  readonly startedAt: string;
  readonly totalSeconds: number;
  readonly machine: {
    readonly cpus: number;
    readonly cpuModel: string;
    readonly node: string;
    readonly platform: string;
  };
  readonly options: Record<string, unknown>;
  /** Seconds each benchmark took. */
  readonly durations: Record<string, number>;
  readonly figures: readonly Figure[];
  /** Benchmarks that threw, with the error. */
  readonly errors: Record<string, string>;
}

/** A figure with its ratio computed from ours and the baseline. */
export function compared(figure: Omit<Figure, 'ratio'>): Figure {
  const ratio =
    figure.baseline !== undefined && figure.baseline !== 0
      ? round(figure.ours / figure.baseline, 3)
      : undefined;
  return { ...figure, ...(ratio !== undefined && { ratio }) };
}

export function machine(): BenchRun['machine'] {
  return {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
  };
}

function cell(value: number | undefined, unit = ''): string {
  if (value === undefined || Number.isNaN(value)) {
    return '—';
  }
  const text = Math.abs(value) >= 100 ? String(Math.round(value)) : String(round(value, 2));
  return unit ? `${text} ${unit}` : text;
}

/** The results as a Markdown table, with the run's context above it. */
export function toMarkdown(run: BenchRun): string {
  const lines = [
    `# Benchmark results`,
    '',
    `Run ${run.startedAt} on ${run.machine.cpus} × ${run.machine.cpuModel}, Node ${run.machine.node}, ` +
      `${run.machine.platform}; total ${round(run.totalSeconds, 1)} s. Produced by \`npm run bench\`; ` +
      `medians of repeated runs, the baseline measured in the same run.`,
    '',
    '| # | Figure | Ours | Baseline (same run) | Ratio | Target | Met? |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const f of run.figures) {
    const baseline =
      f.baseline === undefined
        ? '—'
        : `${cell(f.baseline, f.unit)}${f.baselineName ? ` (${f.baselineName})` : ''}`;
    const met = f.met === undefined ? '—' : f.met ? 'yes' : '**no**';
    lines.push(
      `| ${f.bench} | ${f.figure} | ${cell(f.ours, f.unit)} | ${baseline} | ${cell(f.ratio)} | ${f.target ?? '—'} | ${met} |`,
    );
  }
  const notes = run.figures.filter((f) => f.note);
  if (notes.length > 0) {
    lines.push('', '## Notes', '');
    for (const f of notes) {
      lines.push(`- **${f.bench} · ${f.figure}:** ${f.note}`);
    }
  }
  const errors = Object.entries(run.errors);
  if (errors.length > 0) {
    lines.push('', '## Errors', '');
    for (const [bench, error] of errors) {
      lines.push(`- **${bench}:** ${error}`);
    }
  }
  lines.push(
    '',
    `Time per benchmark: ${Object.entries(run.durations)
      .map(([b, s]) => `${b} ${round(s, 1)} s`)
      .join(', ')}.`,
    '',
  );
  return lines.join('\n');
}

export function writeResults(run: BenchRun, dir: string): { json: string; md: string } {
  fs.mkdirSync(dir, { recursive: true });
  const json = path.join(dir, 'latest.json');
  const md = path.join(dir, 'latest.md');
  fs.writeFileSync(json, `${JSON.stringify(run, null, 2)}\n`);
  fs.writeFileSync(md, toMarkdown(run));
  return { json, md };
}
