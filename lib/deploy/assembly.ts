/**
 * The cloud assembly a CDK app writes (`cdk.out`): reading its manifest (stacks, templates, dependencies, construct
 * paths, tags, pinned regions, warnings), and running the app so that each run reads only what it wrote.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { DeployError } from './errors';

/** A stack of a synthesized cloud assembly (`cdk.out`). */
export interface AssemblyStack {
  /** The stack name in ROS (the manifest's `stackName` property, else its artifact id). */
  readonly stackName: string;
  /** The artifact id in the manifest (the stack name unless `ros-cdk:enableStackNameDuplicates` is on). */
  readonly artifactId?: string;
  readonly templateFile: string;
  /**
   * The template as the app wrote it, read right after the app ran ({@link synthesize}); absent when the assembly
   * was only read from a directory ({@link readAssembly}), where `templateFile` is read when needed.
   */
  readonly template?: string;
  /** Names of the stacks this one depends on (deploy them first, destroy them last). */
  readonly dependencies: string[];
  /** Logical id → construct path (e.g. `Role` → `MyStack/Role`), from the manifest metadata. */
  readonly constructPaths: Record<string, string>;
  /** The stack's tags, as the app set them (the stack's `tags` prop): ROS tags of the stack. */
  readonly tags?: Record<string, string>;
  /**
   * The region the app pinned the stack to (its `env.region`), when it did: read from the stack's asset manifest,
   * where the ROS CDK records it.
   */
  readonly regionId?: string;
  /** Warnings the app's constructs recorded on the stack (`node.addWarning`). */
  readonly warnings?: string[];
}

export interface CloudAssembly {
  readonly directory: string;
  readonly stacks: AssemblyStack[];
}

interface Artifact {
  type?: string;
  properties?: {
    templateFile?: string;
    stackName?: string;
    tags?: Record<string, unknown>;
    file?: string;
  };
  dependencies?: string[];
  metadata?: Record<string, { type?: string; data?: unknown }[]>;
}

interface Manifest {
  artifacts?: Record<string, Artifact>;
}

const STACK_ARTIFACT = 'aliyun:ros:stack';
const ASSET_MANIFEST_ARTIFACT = 'cdk:asset-manifest';
const LOGICAL_ID_METADATA = 'aliyun:ros:logicalId';
const WARNING_METADATA = 'aliyun:ros:warning';

/** Reads `manifest.json` of a cloud assembly directory. */
export function readAssembly(directory: string): CloudAssembly {
  const file = path.join(directory, 'manifest.json');
  let manifest: Manifest;
  try {
    manifest = JSON.parse(fs.readFileSync(file, 'utf8')) as Manifest;
  } catch (err) {
    throw new DeployError(
      'InvalidTemplate',
      `Cannot read the cloud assembly ${file}: ${(err as Error).message}`,
    );
  }
  const artifacts = manifest.artifacts ?? {};
  const stackIds = Object.keys(artifacts).filter((id) => artifacts[id].type === STACK_ARTIFACT);
  const stackNameOf = (id: string) => artifacts[id].properties?.stackName ?? id;
  const stacks = stackIds.map((id) => {
    const artifact = artifacts[id];
    const constructPaths: Record<string, string> = {};
    const warnings: string[] = [];
    for (const [constructPath, entries] of Object.entries(artifact.metadata ?? {})) {
      for (const entry of entries) {
        if (entry.type === LOGICAL_ID_METADATA && typeof entry.data === 'string') {
          constructPaths[entry.data] = constructPath.replace(/^\//, '');
        } else if (entry.type === WARNING_METADATA && typeof entry.data === 'string') {
          warnings.push(`${constructPath.replace(/^\//, '')}: ${entry.data}`);
        }
      }
    }
    const tags = stringRecord(artifact.properties?.tags);
    const regionId = pinnedRegion(directory, artifacts, artifact.dependencies ?? []);
    return {
      stackName: stackNameOf(id),
      artifactId: id,
      templateFile: path.join(directory, artifact.properties?.templateFile ?? `${id}.template.json`),
      dependencies: (artifact.dependencies ?? []).filter((d) => stackIds.includes(d)).map(stackNameOf),
      constructPaths,
      ...(tags && { tags }),
      ...(regionId && { regionId }),
      ...(warnings.length > 0 && { warnings }),
    };
  });
  return { directory, stacks };
}

/** The string values of a manifest property (stack tags), or undefined when there are none. */
function stringRecord(value: unknown): Record<string, string> | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return undefined;
  }
  const entries = Object.entries(value).filter((e): e is [string, string] => typeof e[1] === 'string');
  return entries.length > 0 ? Object.fromEntries(entries) : undefined;
}

/**
 * The region of a stack whose app set `env.region`: the ROS CDK writes it nowhere in the stack artifact, but into
 * the destinations of the stack's asset manifest (`"region": "cn-beijing"`; a stack without one gets
 * `${ALIYUN::Region}` in the bucket name and no region). One concrete region, or undefined.
 */
function pinnedRegion(
  directory: string,
  artifacts: Record<string, Artifact>,
  dependencies: string[],
): string | undefined {
  const regions = new Set<string>();
  for (const id of dependencies) {
    const artifact = artifacts[id];
    if (artifact?.type !== ASSET_MANIFEST_ARTIFACT || !artifact.properties?.file) {
      continue;
    }
    let assets: Record<string, Record<string, { destinations?: Record<string, { region?: unknown }> }>>;
    try {
      assets = JSON.parse(fs.readFileSync(path.join(directory, artifact.properties.file), 'utf8'));
    } catch {
      continue; // no asset manifest: nothing pinned that we can see
    }
    for (const kind of ['files', 'dockerImages']) {
      for (const asset of Object.values(assets[kind] ?? {})) {
        for (const destination of Object.values(asset.destinations ?? {})) {
          const region = destination.region;
          if (typeof region === 'string' && /^[a-z]{2,}(-[a-z0-9]+)+$/.test(region)) {
            regions.add(region);
          }
        }
      }
    }
  }
  return regions.size === 1 ? [...regions][0] : undefined;
}

/**
 * Logical id → construct path of a stack in the cloud assembly at `directory`; {} when the assembly cannot be read
 * or does not have the stack (paths only make messages clearer).
 */
export function constructPathsOf(directory: string, stackName: string): Record<string, string> {
  try {
    return readAssembly(directory).stacks.find((s) => s.stackName === stackName)?.constructPaths ?? {};
  } catch {
    return {};
  }
}

/** A stack of an assembly by name; `InvalidTemplate` naming the stacks there are when it is missing. */
export function assemblyStack(assembly: CloudAssembly, stackName: string): AssemblyStack {
  const stack =
    assembly.stacks.find((s) => s.stackName === stackName) ??
    assembly.stacks.find((s) => s.artifactId === stackName);
  if (!stack) {
    const names = assembly.stacks.map((s) => s.stackName).join(', ') || 'none';
    throw new DeployError(
      'InvalidTemplate',
      `No stack named ${stackName} in ${assembly.directory} (stacks: ${names}).`,
    );
  }
  return stack;
}

export interface SynthOptions {
  /** The command that runs the app (`cdk.json` "app"), run through the shell. */
  readonly app: string;
  /** Where to run it. */
  readonly cwd: string;
  /** The cloud assembly directory the app writes (`CDK_OUTDIR`). */
  readonly outdir: string;
  /** Context values (`CDK_CONTEXT_JSON`), e.g. `cdk.json` "context". */
  readonly context?: Record<string, unknown>;
  readonly env?: NodeJS.ProcessEnv;
  /**
   * Receives the app's own output (stdout and stderr) as it comes. When given, a `SynthFailed` error does not repeat
   * that output (the caller has shown it); without it, the error's message ends with the output's last 20 lines.
   */
  readonly onOutput?: (chunk: string) => void;
}

/**
 * Runs a CDK app to synthesize its cloud assembly; `SynthFailed` when it fails (see `onOutput`) or writes no
 * assembly.
 *
 * The app writes into a fresh directory of its own (`CDK_OUTDIR`), so a run reads only what this run of the app
 * wrote: an app that never calls `app.synth()` is an error, never the previous run's `cdk.out`, and two runs at once
 * do not read each other's files. The templates are read right away (`template` of each stack), then the directory
 * replaces `outdir`, where the user (and `readAssembly`) find it.
 */
export async function synthesize(options: SynthOptions): Promise<CloudAssembly> {
  const outdir = path.resolve(options.cwd, options.outdir);
  refuseToReplace(outdir);
  fs.mkdirSync(path.dirname(outdir), { recursive: true });
  const runDir = fs.mkdtempSync(path.join(path.dirname(outdir), `.${path.basename(outdir)}.run-`));
  try {
    const assembly = await runApp(options, runDir);
    publish(runDir, outdir);
    return {
      directory: outdir,
      stacks: assembly.stacks.map((s) => ({
        ...s,
        templateFile: path.join(outdir, path.relative(runDir, s.templateFile)),
      })),
    };
  } finally {
    fs.rmSync(runDir, { recursive: true, force: true });
  }
}

async function runApp(options: SynthOptions, runDir: string): Promise<CloudAssembly> {
  const output: string[] = [];
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(options.app, {
      shell: true,
      cwd: options.cwd,
      env: {
        ...(options.env ?? process.env),
        CDK_OUTDIR: runDir,
        ...(options.context && { CDK_CONTEXT_JSON: JSON.stringify(options.context) }),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const collect = (chunk: Buffer) => {
      output.push(chunk.toString());
      options.onOutput?.(chunk.toString());
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('error', reject);
    child.on('close', resolve);
  });
  const tail = () => (options.onOutput ? '' : output.join('').trim().split('\n').slice(-20).join('\n'));
  if (code !== 0) {
    const shown = tail();
    throw new DeployError(
      'SynthFailed',
      `The app \`${options.app}\` failed (exit code ${code}).${shown ? `\n${shown}` : ''}`,
    );
  }
  if (!fs.existsSync(path.join(runDir, 'manifest.json'))) {
    throw new DeployError(
      'SynthFailed',
      `The app \`${options.app}\` exited without writing a cloud assembly (no manifest.json in CDK_OUTDIR): ` +
        'does it call app.synth(), leaving the output directory to CDK_OUTDIR?',
    );
  }
  const assembly = readAssembly(runDir);
  return {
    directory: runDir,
    stacks: assembly.stacks.map((stack) => {
      try {
        return { ...stack, template: fs.readFileSync(stack.templateFile, 'utf8') };
      } catch (err) {
        throw new DeployError(
          'SynthFailed',
          `The app \`${options.app}\` wrote a cloud assembly without the template of ${stack.stackName} ` +
            `(${path.basename(stack.templateFile)}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}).`,
        );
      }
    }),
  };
}

/** `outdir` must be a cloud assembly (or nothing, or empty) to be replaced: never a directory of other files. */
function refuseToReplace(outdir: string): void {
  let entries: string[];
  try {
    entries = fs.readdirSync(outdir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      return;
    }
    throw new DeployError(
      'SynthFailed',
      `Cannot use ${outdir} as the cloud assembly directory: ${(err as Error).message}`,
    );
  }
  if (entries.length > 0 && !entries.includes('manifest.json')) {
    throw new DeployError(
      'SynthFailed',
      (w) =>
        `${outdir} holds files but no manifest.json, so it is not a cloud assembly that synthesizing may replace: ` +
        `choose another output directory (${w.option('outdir')}) or remove it.`,
    );
  }
}

/**
 * Puts the run's directory in place of `outdir`: the old one is moved aside, then removed. Another run doing the
 * same at once only decides which of the two complete assemblies stays; each run has read its own already.
 */
function publish(runDir: string, outdir: string): void {
  for (let attempt = 0; ; attempt++) {
    const aside = `${runDir}.old`;
    try {
      fs.renameSync(outdir, aside);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw err;
      }
    }
    try {
      fs.renameSync(runDir, outdir);
      fs.rmSync(aside, { recursive: true, force: true });
      return;
    } catch (err) {
      fs.rmSync(aside, { recursive: true, force: true });
      const code = (err as NodeJS.ErrnoException).code;
      // Another run put its assembly there in between: replace it in turn.
      if ((code !== 'ENOTEMPTY' && code !== 'EEXIST') || attempt >= 10) {
        throw err;
      }
    }
  }
}
