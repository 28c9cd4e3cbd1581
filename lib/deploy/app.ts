/**
 * A CDK app as a project holds it: the command that runs it (`app` of `cdk.json`), its context (`cdk.context.json`,
 * then `cdk.json`'s `context`, then the caller's values), and what running it gives: the cloud assembly, with the
 * warnings its constructs recorded and, for a template over ROS's size limit that says nothing about it, that warning.
 */
import * as fs from 'fs';
import * as path from 'path';
import { MAX_TEMPLATE_BODY_BYTES, submittedTemplateBytes, templateSizeWarning } from '../template-size';
import { type CloudAssembly, synthesize } from './assembly';
import { DeployError } from './errors';

export interface AppOptions {
  /** The project directory: where `cdk.json` and `cdk.context.json` are read and the app runs. */
  readonly directory: string;
  /** The command that runs the app. @default `app` of cdk.json */
  readonly app?: string;
  /** Context values, over those of `cdk.json` and `cdk.context.json`. */
  readonly context?: Readonly<Record<string, string>>;
  /** The cloud assembly directory, relative to `directory`. @default cdk.out */
  readonly outdir?: string;
  /** The app's environment. @default process.env */
  readonly env?: NodeJS.ProcessEnv;
  /** Receives the app's own output as it comes (see `SynthOptions.onOutput`). */
  readonly onOutput?: (chunk: string) => void;
}

/** What running an app gave. */
export interface SynthesizedApp {
  readonly assembly: CloudAssembly;
  /** The warnings of its stacks: those the constructs recorded, and a template over ROS's size limit. */
  readonly warnings: string[];
}

/** The cloud assembly directory of an app. */
export function assemblyDirectory(options: Pick<AppOptions, 'directory' | 'outdir'>): string {
  return path.resolve(options.directory, options.outdir ?? 'cdk.out');
}

/** Whether there is an app to run: a command given, or a `cdk.json` in the directory. */
export function hasApp(options: Pick<AppOptions, 'directory' | 'app'>): boolean {
  return options.app !== undefined || fs.existsSync(path.join(options.directory, 'cdk.json'));
}

/**
 * Runs the app (see `synthesize`) with its context, and collects the warnings. Throws `InvalidApp` when there is no
 * app to run or `cdk.json` is not a JSON object, `SynthFailed` when the app fails.
 */
export async function synthesizeApp(options: AppOptions): Promise<SynthesizedApp> {
  const cdkJson = readJsonObject(path.join(options.directory, 'cdk.json'), true);
  const app = options.app ?? (typeof cdkJson.app === 'string' ? cdkJson.app : undefined);
  if (!app) {
    throw new DeployError(
      'InvalidApp',
      (w) =>
        `no app to run: cdk.json with an "app" command not found in ${options.directory} (or pass ${w.option('app')})`,
    );
  }
  const context = {
    ...readJsonObject(path.join(options.directory, 'cdk.context.json')),
    ...((cdkJson.context as Record<string, unknown>) ?? {}),
    ...options.context,
  };
  const assembly = await synthesize({
    app,
    cwd: options.directory,
    outdir: assemblyDirectory(options),
    context,
    env: options.env,
    onOutput: options.onOutput,
  });
  return { assembly, warnings: assemblyWarnings(assembly) };
}

/**
 * The warnings the app's constructs recorded, and, for a stack whose template is over ROS's limit and says nothing
 * about it, that warning: ROS would refuse the template only at deploy.
 */
function assemblyWarnings(assembly: CloudAssembly): string[] {
  const warnings: string[] = [];
  for (const stack of assembly.stacks) {
    const recorded = stack.warnings ?? [];
    warnings.push(...recorded);
    if (stack.template === undefined) {
      continue;
    }
    const bytes = submittedTemplateBytes(stack.template);
    const sizeWarning = templateSizeWarning(stack.stackName, bytes);
    if (bytes > MAX_TEMPLATE_BODY_BYTES && !recorded.some((w) => w.endsWith(sizeWarning))) {
      warnings.push(sizeWarning);
    }
  }
  return warnings;
}

/**
 * A JSON object file, or {} when there is none. When `strict`, a file that exists but is not a JSON object is an
 * `InvalidApp` error; otherwise it counts as none.
 */
function readJsonObject(file: string, strict = false): Record<string, unknown> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return {};
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    if (!strict) {
      return {};
    }
    throw new DeployError(
      'InvalidApp',
      `${path.basename(file)} is not valid JSON: ${(error as Error).message}`,
    );
  }
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    return value as Record<string, unknown>;
  }
  if (strict) {
    throw new DeployError(
      'InvalidApp',
      `${path.basename(file)} must hold a JSON object, like {"app": "node app.js"}`,
    );
  }
  return {};
}
