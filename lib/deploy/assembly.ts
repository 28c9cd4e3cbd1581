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
  /** Names of the stacks this one depends on (deploy them first, destroy them last). */
  readonly dependencies: string[];
  /** Logical id → construct path (e.g. `Role` → `MyStack/Role`), from the manifest metadata. */
  readonly constructPaths: Record<string, string>;
}

export interface CloudAssembly {
  readonly directory: string;
  readonly stacks: AssemblyStack[];
}

interface Manifest {
  artifacts?: Record<
    string,
    {
      type?: string;
      properties?: { templateFile?: string; stackName?: string };
      dependencies?: string[];
      metadata?: Record<string, { type?: string; data?: unknown }[]>;
    }
  >;
}

const STACK_ARTIFACT = 'aliyun:ros:stack';
const LOGICAL_ID_METADATA = 'aliyun:ros:logicalId';

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
    for (const [constructPath, entries] of Object.entries(artifact.metadata ?? {})) {
      for (const entry of entries) {
        if (entry.type === LOGICAL_ID_METADATA && typeof entry.data === 'string') {
          constructPaths[entry.data] = constructPath.replace(/^\//, '');
        }
      }
    }
    return {
      stackName: stackNameOf(id),
      artifactId: id,
      templateFile: path.join(directory, artifact.properties?.templateFile ?? `${id}.template.json`),
      dependencies: (artifact.dependencies ?? []).filter((d) => stackIds.includes(d)).map(stackNameOf),
      constructPaths,
    };
  });
  return { directory, stacks };
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

/** Runs a CDK app to synthesize its cloud assembly; `SynthFailed` when it fails (see `onOutput`). */
export async function synthesize(options: SynthOptions): Promise<CloudAssembly> {
  fs.mkdirSync(options.outdir, { recursive: true });
  const output: string[] = [];
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(options.app, {
      shell: true,
      cwd: options.cwd,
      env: {
        ...(options.env ?? process.env),
        CDK_OUTDIR: options.outdir,
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
  if (code !== 0) {
    const tail = options.onOutput ? '' : output.join('').trim().split('\n').slice(-20).join('\n');
    throw new DeployError(
      'SynthFailed',
      `The app \`${options.app}\` failed (exit code ${code}).${tail ? `\n${tail}` : ''}`,
    );
  }
  return readAssembly(options.outdir);
}
