import * as fs from 'fs';
import * as path from 'path';
import { parseArgs } from 'util';
import { stringify as toYaml } from 'yaml';
import {
  AssemblyStack,
  CloudAssembly,
  type DeployEvent,
  DeployError,
  deployStack,
  destroyStack,
  diffStack,
  formatDiff,
  readAssembly,
  runInOrder,
  stackEvents,
  stackOutputs,
  type StackOperation,
  StackOperationResult,
  synthesize,
} from '../deploy';
import { BarDisplay, EventsDisplay, formatResults, Output, ProgressDisplay } from './ros-deploy-progress';
import { cloudTarget, LocalCloudError, localTarget, regionResolver, Target } from './ros-deploy-target';
import { MAX_TEMPLATE_BODY_BYTES, submittedTemplateBytes, templateSizeWarning } from '../template-size';
import { ConfigurationError, quote, UsageError } from './usage';

const HELP = `Usage: ros-deploy <command> [STACKS..] [options]

Commands:
  synth [STACKS..]      Synthesize the app of cdk.json into cdk.out (one stack named: print its template)
  list                  List the app's stacks
  deploy [STACKS..]     Create or update stacks (all by default, with the stacks they depend on) and follow
                        them to the end
  destroy [STACKS..]    Delete stacks (with the stacks that depend on them, first; a name the app does not
                        have is found in ROS); asks first unless --force
  diff [STACKS..]       Compare the app's templates with the deployed stacks
  events STACK          Show a stack's latest events
  outputs STACK         Show a stack's outputs

Options:
  --region REGION       Region of the stacks the app does not pin (env.region) (else ALIBABA_CLOUD_REGION_ID,
                        else the profile's); repeat as --region STACK:REGION to send a stack elsewhere
  --profile NAME        aliyun CLI profile to take credentials (and region) from
  --local               Use LocalCloud: the one ros-local serves here, else an embedded one (state in .ros-local/)
  --parameters S:K=V    Template parameter K of stack S (repeatable; S: may be omitted with a single stack)
  --tags K=V            Stack tag (repeatable)
  --outputs-file FILE   deploy: write the outputs as JSON {stack: {key: value}}
  --no-rollback         deploy: keep what was created when an operation fails
  --timeout MINUTES     deploy: ROS timeout of each create or update (10-1440; default: the longest chain of
                        the template's custom resource timeouts plus 10 minutes, at least 60)
  --concurrency N       deploy/destroy: stacks in parallel, dependencies respected (default 1)
  -e, --exclusively     deploy/diff: not the stacks the named ones depend on; destroy: not the stacks that
                        depend on them (by default they are included, as cdk does)
  --progress bar|events How to show progress (default: bar on a terminal; events when not a TTY or CI=true)
  --force               destroy: do not ask for confirmation
  --fail                diff: exit 1 when there are differences
  --limit N             events: how many (default 50)
  --json                Machine-readable output on stdout (progress goes to stderr)
  --app CMD             The command that runs the app (default: "app" of cdk.json)
  -c, --context K=V     Context value for the app, over cdk.json "context" (repeatable)
  -o, --output DIR      Cloud assembly directory (default: cdk.out)
  -h, --help            Show this help

Exit codes: 0 success (including no changes to a healthy stack), 1 a stack operation failed or a stack is not
healthy, 2 usage or configuration error.
`;

/** Where the CLI reads and writes; `process` by default. */
export interface CliIo {
  readonly stdout: Output;
  readonly stderr: Output;
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  /** Asks a yes/no question on the terminal; absent when there is none. */
  readonly confirm?: (question: string) => Promise<boolean>;
  /** Aborted on Ctrl-C: stop following (the ROS operation goes on). */
  readonly signal?: AbortSignal;
}

const OPTIONS = {
  region: { type: 'string', multiple: true },
  profile: { type: 'string' },
  local: { type: 'boolean' },
  parameters: { type: 'string', multiple: true },
  tags: { type: 'string', multiple: true },
  'outputs-file': { type: 'string' },
  'no-rollback': { type: 'boolean' },
  timeout: { type: 'string' },
  concurrency: { type: 'string' },
  progress: { type: 'string' },
  force: { type: 'boolean' },
  fail: { type: 'boolean' },
  limit: { type: 'string' },
  json: { type: 'boolean' },
  app: { type: 'string' },
  context: { type: 'string', short: 'c', multiple: true },
  output: { type: 'string', short: 'o' },
  exclusively: { type: 'boolean', short: 'e' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Flags = ReturnType<typeof parse>['values'];
const parse = (argv: string[]) =>
  parseArgs({ args: argv, allowPositionals: true, options: OPTIONS, strict: true });

const COMMANDS = ['synth', 'list', 'ls', 'deploy', 'destroy', 'diff', 'events', 'outputs'] as const;

/** `ros-deploy`: resolves with the exit code (0 ok, 1 a stack operation failed, 2 usage or configuration error). */
export async function main(argv: string[], io: CliIo): Promise<number> {
  let parsed;
  try {
    parsed = parse(argv);
  } catch (err) {
    return usage(
      io,
      (err as Error).message
        .replace(/\. To specify a positional argument.*$/s, '')
        .replace(/'([^']{65,})'/g, (_m, value: string) => quote(value)),
    );
  }
  const { values: flags, positionals } = parsed;
  if (flags.help) {
    io.stdout.write(HELP);
    return 0;
  }
  const [command, ...stacks] = positionals;
  let target: Target | undefined;
  let cli: Cli | undefined;
  try {
    if (!command) throw new UsageError('no command given');
    if (!(COMMANDS as readonly string[]).includes(command))
      throw new UsageError(`unknown command ${quote(command)}`);
    checkFlags(flags);
    stacks.forEach(checkStackName);
    cli = new Cli(io, flags);
    if (command === 'synth') return await cli.synth(stacks);
    if (command === 'list' || command === 'ls') return await cli.list();
    if ((command === 'events' || command === 'outputs') && stacks.length !== 1) {
      throw new UsageError(`${command} takes exactly one STACK`);
    }
    target = flags.local
      ? await localTarget(io.cwd, { progress: cli.progressOut, signal: io.signal })
      : cloudTarget(flags.profile, io.env);
    cli.progressOut.write(`ros-deploy: using ${target.description}\n`);
    if (command === 'deploy') return await cli.deploy(stacks, target);
    if (command === 'destroy') return await cli.destroy(stacks, target);
    if (command === 'diff') return await cli.diff(stacks, target);
    if (command === 'events') return await cli.events(stacks[0], target);
    return await cli.outputs(stacks[0], target);
  } catch (err) {
    if (err instanceof UsageError) return usage(io, err.message);
    if (err instanceof ConfigurationError || err instanceof LocalCloudError) {
      io.stderr.write(`ros-deploy: ${err.message}\n`);
      return 2;
    }
    if (err instanceof DeployError) {
      const stopped =
        err.code === 'Aborted' && target && cli ? stoppedMessage(cli.inProgress, target) : undefined;
      io.stderr.write(`ros-deploy: ${stopped ?? err.message}\n`);
      if (flags.json)
        io.stdout.write(
          JSON.stringify({ success: false, error: { code: err.code, message: err.message } }) + '\n',
        );
      return err.isConfigurationError ? 2 : 1;
    }
    // Not expected: say what happened in one line, without a stack trace (ROS_DEPLOY_DEBUG=1 shows it).
    const detail = io.env.ROS_DEPLOY_DEBUG && err instanceof Error ? `\n${err.stack}` : '';
    io.stderr.write(
      `ros-deploy: unexpected error: ${err instanceof Error ? err.message : String(err)}${detail}\n`,
    );
    return 1;
  } finally {
    await target?.close();
  }
}

/** A stack operation ros-deploy submitted and was following. */
interface InProgress {
  readonly operation: StackOperation;
  readonly regionId: string;
}

/**
 * What Ctrl-C leaves behind and what to do about it. In the real cloud (and a LocalCloud that ros-local serves) the
 * operations go on in ROS; the LocalCloud ros-deploy embeds stops with it, so they end as failed when it next starts,
 * while what their resources started (an image copy) goes on in it. Either way a destroy deletes the stack and what it
 * made.
 */
function stoppedMessage(inProgress: ReadonlyMap<string, InProgress>, target: Target): string {
  const local = target.local ? ' --local' : '';
  const operations = [...inProgress].map(([name, { operation, regionId }]) => ({
    name,
    operation,
    regionId,
  }));
  if (operations.length === 0) {
    return target.embedded ? 'Stopped: the embedded LocalCloud stops with ros-deploy.' : 'Stopped.';
  }
  const listed = operations.map((o) => `the ${o.operation} of ${o.name} (${o.regionId})`).join(', ');
  const destroy = (name: string) => `\`ros-deploy destroy ${name}${local}\``;
  const advice = operations
    .map(({ name, operation }) =>
      operation === 'create'
        ? `run ${destroy(name)} to delete ${name} and what it made, then deploy again`
        : operation === 'update'
          ? `deploy again to finish updating ${name}, or run ${destroy(name)} to delete it and what it made`
          : `run ${destroy(name)} again to finish deleting ${name}`,
    )
    .join('; ');
  if (target.embedded) {
    return (
      `Stopped: the embedded LocalCloud stops with ros-deploy, so ${listed} ends as failed (marked so when ` +
      `LocalCloud next starts); what its resources had started goes on in LocalCloud (an image copy runs to its ` +
      `end). To clean up, ${advice}.`
    );
  }
  return (
    `Stopped following: ${listed} goes on in ROS. Follow it with \`ros-deploy events ${operations[0].name}${local}\`; ` +
    `once it has ended, if it failed, ${advice}.`
  );
}

function usage(io: CliIo, message: string): number {
  io.stderr.write(`ros-deploy: ${message}\n\n${HELP}`);
  return 2;
}

class Cli {
  /** Human progress: stdout, or stderr when stdout carries JSON. */
  readonly progressOut: Output;
  /** The stack operations submitted to ROS and not yet followed to their end: what Ctrl-C leaves running. */
  readonly inProgress = new Map<string, InProgress>();

  constructor(
    private readonly io: CliIo,
    private readonly flags: Flags,
  ) {
    this.progressOut = flags.json ? io.stderr : io.stdout;
  }

  async synth(names: string[]): Promise<number> {
    const assembly = await this.synthesize();
    const stacks = select(assembly, names);
    if (names.length === 1) {
      const template = JSON.parse(
        stacks[0].template ?? fs.readFileSync(stacks[0].templateFile, 'utf8'),
      ) as unknown;
      this.io.stdout.write(this.flags.json ? JSON.stringify(template, null, 2) + '\n' : toYaml(template));
      return 0;
    }
    if (this.flags.json) {
      this.io.stdout.write(
        JSON.stringify(
          { stacks: stacks.map((s) => ({ stackName: s.stackName, templateFile: s.templateFile })) },
          null,
          2,
        ) + '\n',
      );
    } else {
      const dir = path.relative(this.io.cwd, assembly.directory) || '.';
      this.io.stdout.write(
        `Synthesized ${stacks.length} stack(s) to ${dir}: ${stacks.map((s) => s.stackName).join(', ')}\n`,
      );
    }
    return 0;
  }

  async list(): Promise<number> {
    const assembly = await this.synthesize();
    if (this.flags.json) {
      const list = assembly.stacks.map((s) => ({ stackName: s.stackName, dependencies: s.dependencies }));
      this.io.stdout.write(JSON.stringify(list, null, 2) + '\n');
    } else {
      for (const s of assembly.stacks) {
        this.io.stdout.write(
          `${s.stackName}${s.dependencies.length > 0 ? ` (after ${s.dependencies.join(', ')})` : ''}\n`,
        );
      }
    }
    return 0;
  }

  async deploy(names: string[], target: Target): Promise<number> {
    const options = this.deployOptions();
    const assembly = await this.synthesize();
    const stacks = this.withRelated(assembly, names, 'dependencies');
    const parameters = parseParameters(this.flags.parameters ?? [], stacks);
    const region = this.regions(target);
    const regions = new Map(stacks.map((s) => [s.stackName, region(s.stackName, s.regionId)]));
    const display = this.display();
    const results = await runInOrder(stacks, {
      concurrency: options.concurrency,
      order: 'dependencies-first',
      skipped: skippedResult(regions),
      work: (stack) =>
        this.followed(
          stack.stackName,
          deployStack({
            ...target.connection(regions.get(stack.stackName)!),
            ...source(stack, assembly),
            parameters: parameters.get(stack.stackName),
            // The app's stack tags, --tags over them.
            tags: { ...stack.tags, ...options.tags },
            disableRollback: this.flags['no-rollback'] ?? false,
            ...(options.timeout !== undefined && { timeoutInMinutes: options.timeout }),
            onEvent: this.tracking(display, regions),
            signal: this.io.signal,
            pollIntervalMs: target.local ? 250 : undefined,
          }),
        ),
    }).finally(() => display.stop());
    if (this.flags['outputs-file']) this.writeOutputs(this.flags['outputs-file'], results);
    return this.report(results, 'deploy');
  }

  async destroy(names: string[], target: Target): Promise<number> {
    const concurrency = integer('--concurrency', this.flags.concurrency, 1, 32) ?? 1;
    const assembly = this.hasApp() ? await this.synthesize() : undefined;
    const stacks: AssemblyStack[] = assembly
      ? this.withRelated(assembly, names, 'dependents', { outsideApp: true })
      : names.length > 0
        ? names.map(stackByName)
        : fail(
            new ConfigurationError(
              'destroy: name the STACKS to destroy (there is no cdk.json app to list them)',
            ),
          );
    const region = this.regions(target);
    const regions = new Map(stacks.map((s) => [s.stackName, region(s.stackName, s.regionId)]));
    if (!this.flags.force) {
      if (!this.io.confirm) {
        throw new ConfigurationError(
          `destroy: pass --force to delete ${stacks.map((s) => s.stackName).join(', ')} without a terminal to confirm on`,
        );
      }
      const list = stacks.map((s) => `${s.stackName} (${regions.get(s.stackName)})`).join(', ');
      if (!(await this.io.confirm(`Delete ${list} and all their resources? (y/N) `))) {
        this.io.stderr.write('ros-deploy: nothing destroyed.\n');
        return 1;
      }
    }
    const display = this.display();
    const results = await runInOrder(stacks, {
      concurrency,
      order: 'dependents-first',
      skipped: skippedResult(regions),
      work: (stack) =>
        this.followed(
          stack.stackName,
          destroyStack({
            ...target.connection(regions.get(stack.stackName)!),
            stackName: stack.stackName,
            constructPaths: stack.constructPaths,
            onEvent: this.tracking(display, regions),
            signal: this.io.signal,
            pollIntervalMs: target.local ? 250 : undefined,
          }),
        ),
    }).finally(() => display.stop());
    return this.report(results, 'destroy');
  }

  async diff(names: string[], target: Target): Promise<number> {
    const assembly = await this.synthesize();
    const region = this.regions(target);
    const results = [];
    for (const stack of this.withRelated(assembly, names, 'dependencies')) {
      results.push(
        await diffStack({
          ...target.connection(region(stack.stackName, stack.regionId)),
          ...source(stack, assembly),
        }),
      );
    }
    if (this.flags.json) this.io.stdout.write(JSON.stringify({ stacks: results }, null, 2) + '\n');
    else this.io.stdout.write(results.map(formatDiff).join('\n'));
    return this.flags.fail && results.some((r) => r.hasChanges) ? 1 : 0;
  }

  async events(stackName: string, target: Target): Promise<number> {
    const limit = integer('--limit', this.flags.limit, 1, 1000) ?? 50;
    const region = this.regions(target)(stackName);
    const paths = this.constructPathsIfCached(stackName);
    const result = await stackEvents({ ...target.connection(region), stackName, limit });
    if (this.flags.json) {
      this.io.stdout.write(JSON.stringify(result, null, 2) + '\n');
      return 0;
    }
    this.io.stdout.write(`${stackName} (${region}) ${result.status}\n`);
    for (const e of result.events) {
      const where = paths[e.logicalResourceId]
        ? `${paths[e.logicalResourceId]} (${e.logicalResourceId})`
        : e.logicalResourceId;
      const reason = e.statusReason && e.statusReason !== 'state changed' ? ` ${e.statusReason}` : '';
      this.io.stdout.write(
        `${e.createTime} | ${e.status.padEnd(27)} | ${e.resourceType} | ${where}${reason}\n`,
      );
    }
    return 0;
  }

  async outputs(stackName: string, target: Target): Promise<number> {
    const region = this.regions(target)(stackName);
    const result = await stackOutputs({ ...target.connection(region), stackName });
    if (this.flags.json) {
      this.io.stdout.write(JSON.stringify({ [stackName]: outputMap(result.outputs) }, null, 2) + '\n');
      return 0;
    }
    for (const o of result.outputs) {
      this.io.stdout.write(`${o.key} = ${typeof o.value === 'string' ? o.value : JSON.stringify(o.value)}\n`);
    }
    if (result.outputs.length === 0) this.io.stdout.write(`${stackName} has no outputs\n`);
    return 0;
  }

  // -------------------------------------------------------------------------------------------------------------

  /** Passes events on to the display, noting each operation submitted to ROS (see {@link inProgress}). */
  private tracking(display: ProgressDisplay, regions: ReadonlyMap<string, string>) {
    return (event: DeployEvent): void => {
      if (event.type === 'started') {
        this.inProgress.set(event.stackName, {
          operation: event.operation,
          regionId: regions.get(event.stackName) ?? '',
        });
      }
      display.onEvent(event);
    };
  }

  /** The operation was followed to its end (whatever the end): it no longer runs. */
  private async followed(stackName: string, operation: Promise<StackOperationResult>) {
    const result = await operation;
    this.inProgress.delete(stackName);
    return result;
  }

  private deployOptions() {
    return {
      concurrency: integer('--concurrency', this.flags.concurrency, 1, 32) ?? 1,
      timeout: integer('--timeout', this.flags.timeout, 10, 1440),
      tags: Object.fromEntries((this.flags.tags ?? []).map((t) => keyValue('--tags', t))),
    };
  }

  /**
   * The stacks named and, as `cdk` does, the stacks they need: for deploy and diff their dependencies, for destroy
   * the stacks that depend on them (destroyed first). `-e/--exclusively` takes the named stacks alone.
   */
  private withRelated(
    assembly: CloudAssembly,
    names: string[],
    related: 'dependencies' | 'dependents',
    options: { outsideApp?: boolean } = {},
  ): AssemblyStack[] {
    const named = select(assembly, names, options);
    if (this.flags.exclusively || names.length === 0) return named;
    const picked = new Set(named.map((s) => s.stackName));
    for (let grew = true; grew;) {
      grew = false;
      for (const stack of assembly.stacks) {
        if (picked.has(stack.stackName)) continue;
        const needed =
          related === 'dependencies'
            ? assembly.stacks.some((s) => picked.has(s.stackName) && s.dependencies.includes(stack.stackName))
            : stack.dependencies.some((d) => picked.has(d));
        if (needed) {
          picked.add(stack.stackName);
          grew = true;
        }
      }
    }
    const added = assembly.stacks.filter((s) => picked.has(s.stackName) && !named.includes(s));
    if (added.length > 0) {
      this.progressOut.write(
        `ros-deploy: including ${related === 'dependencies' ? 'the stacks they depend on' : 'the stacks that depend on them'}: ` +
          `${added.map((s) => s.stackName).join(', ')} (-e, --exclusively for the named stacks only)\n`,
      );
    }
    // Stacks outside the app (destroy by name) keep their place after the app's.
    return [
      ...assembly.stacks.filter((s) => picked.has(s.stackName)),
      ...named.filter((s) => !assembly.stacks.includes(s)),
    ];
  }

  private regions(target: Target) {
    return regionResolver(this.flags.region ?? [], this.io.env, this.flags.profile, target.local);
  }

  private display(): ProgressDisplay {
    const mode = this.flags.progress;
    const ci = this.io.env.CI !== undefined && this.io.env.CI !== 'false' && this.io.env.CI !== '0';
    const tty = this.progressOut.isTTY === true;
    const heartbeatSeconds = Number(this.io.env.ROS_DEPLOY_HEARTBEAT_SECONDS ?? 30);
    const heartbeatMs =
      Number.isFinite(heartbeatSeconds) && heartbeatSeconds > 0
        ? Math.min(30, heartbeatSeconds) * 1000
        : 30_000;
    return (mode ?? (tty && !ci ? 'bar' : 'events')) === 'bar' && tty
      ? new BarDisplay(this.progressOut)
      : new EventsDisplay(this.progressOut, heartbeatMs);
  }

  private report(results: StackOperationResult[], verb: 'deploy' | 'destroy'): number {
    const success = results.every((r) => r.success);
    if (this.flags.json) {
      const stacks = results.map(({ outputs, ...r }) => ({ ...r, outputs: outputMap(outputs) }));
      this.io.stdout.write(JSON.stringify({ success, stacks }, null, 2) + '\n');
    }
    this.progressOut.write(formatResults(results, verb));
    return success ? 0 : 1;
  }

  private writeOutputs(file: string, results: StackOperationResult[]): void {
    const target = path.resolve(this.io.cwd, file);
    const existing = readJson(target);
    for (const r of results) if (r.success) existing[r.stackName] = outputMap(r.outputs);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, JSON.stringify(existing, null, 2) + '\n');
    this.progressOut.write(`Outputs written to ${path.relative(this.io.cwd, target) || target}\n`);
  }

  private hasApp(): boolean {
    return this.flags.app !== undefined || fs.existsSync(path.join(this.io.cwd, 'cdk.json'));
  }

  private outdir(): string {
    return path.resolve(this.io.cwd, this.flags.output ?? 'cdk.out');
  }

  private constructPathsIfCached(stackName: string): Record<string, string> {
    try {
      return readAssembly(this.outdir()).stacks.find((s) => s.stackName === stackName)?.constructPaths ?? {};
    } catch {
      return {};
    }
  }

  private async synthesize(): Promise<CloudAssembly> {
    const cdkJson = readJson(path.join(this.io.cwd, 'cdk.json'), true);
    const app = this.flags.app ?? (typeof cdkJson.app === 'string' ? cdkJson.app : undefined);
    if (!app)
      throw new ConfigurationError(
        `no app to run: cdk.json with an "app" command not found in ${this.io.cwd} (or pass --app)`,
      );
    const contextFile = readJson(path.join(this.io.cwd, 'cdk.context.json'));
    const context = {
      ...contextFile,
      ...((cdkJson.context as Record<string, unknown>) ?? {}),
      ...Object.fromEntries((this.flags.context ?? []).map((c) => keyValue('--context', c))),
    };
    const assembly = await synthesize({
      app,
      cwd: this.io.cwd,
      outdir: this.outdir(),
      context,
      env: this.io.env,
      onOutput: (chunk) => this.io.stderr.write(chunk),
    });
    for (const warning of assemblyWarnings(assembly))
      this.io.stderr.write(`ros-deploy: warning: ${warning}\n`);
    return assembly;
  }
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
    if (stack.template === undefined) continue;
    const bytes = submittedTemplateBytes(stack.template);
    const sizeWarning = templateSizeWarning(stack.stackName, bytes);
    if (bytes > MAX_TEMPLATE_BODY_BYTES && !recorded.some((w) => w.endsWith(sizeWarning))) {
      warnings.push(sizeWarning);
    }
  }
  return warnings;
}

/**
 * The stacks named (exactly, or with `*` wildcards), in assembly order; all of them when none is named. With
 * `outsideApp` (destroy), a name without wildcards that no stack of the app has is a stack to find by name in ROS.
 */
function select(
  assembly: CloudAssembly,
  names: string[],
  options: { outsideApp?: boolean } = {},
): AssemblyStack[] {
  if (assembly.stacks.length === 0 && !(options.outsideApp && names.length > 0)) {
    throw new ConfigurationError(`the app has no stacks (${assembly.directory})`);
  }
  if (names.length === 0) return assembly.stacks;
  const available = assembly.stacks.map((s) => s.stackName).join(', ') || 'none';
  const picked = new Set<AssemblyStack>();
  const outside: AssemblyStack[] = [];
  for (const name of names) {
    const pattern = new RegExp(`^${name.split('*').map(escapeRegExp).join('.*')}$`);
    const matches = assembly.stacks.filter(
      (s) => pattern.test(s.stackName) || (s.artifactId !== undefined && pattern.test(s.artifactId)),
    );
    if (matches.length === 0 && options.outsideApp && !name.includes('*')) outside.push(stackByName(name));
    else if (matches.length === 0) {
      throw new ConfigurationError(`no stack matches "${name}" (stacks: ${available})`);
    }
    matches.forEach((m) => picked.add(m));
  }
  return [...assembly.stacks.filter((s) => picked.has(s)), ...outside];
}

/** A stack known only by its name (destroy of a stack that is not, or no longer, in the app). */
const stackByName = (stackName: string): AssemblyStack => ({
  stackName,
  templateFile: '',
  dependencies: [],
  constructPaths: {},
});

/** Where a stack's template comes from: what this run's app wrote, as read right after it ran. */
function source(stack: AssemblyStack, assembly: CloudAssembly) {
  return {
    stackName: stack.stackName,
    constructPaths: stack.constructPaths,
    ...(stack.template !== undefined ? { template: stack.template } : { assemblyDir: assembly.directory }),
  };
}

/** The result of a stack not attempted because a stack it waits for failed. */
const skippedResult =
  (regions: Map<string, string>) =>
  (stack: AssemblyStack, prerequisite: string): StackOperationResult => ({
    stackName: stack.stackName,
    regionId: regions.get(stack.stackName) ?? '',
    operation: 'none',
    status: 'SKIPPED',
    statusReason: `not attempted because ${prerequisite} failed`,
    success: false,
    noChanges: false,
    outputs: [],
    failedResources: [],
  });

/** `--parameters STACK:KEY=VALUE` (or `KEY=VALUE` when one stack is deployed) per stack. */
function parseParameters(flags: string[], stacks: AssemblyStack[]): Map<string, Record<string, string>> {
  const out = new Map<string, Record<string, string>>();
  for (const flag of flags) {
    const eq = flag.indexOf('=');
    const head = eq > 0 ? flag.slice(0, eq) : '';
    const colon = head.indexOf(':');
    let stackName: string;
    if (colon > 0) stackName = head.slice(0, colon);
    else if (stacks.length === 1) stackName = stacks[0].stackName;
    else
      throw new UsageError(
        `--parameters ${maskValue(flag)} is invalid: expected STACK:KEY=VALUE when deploying several stacks`,
      );
    const key = head.slice(colon + 1);
    if (eq <= 0 || !key)
      throw new UsageError(`--parameters ${maskValue(flag)} is invalid: expected STACK:KEY=VALUE`);
    if (!stacks.some((s) => s.stackName === stackName)) {
      throw new UsageError(`--parameters names stack ${quote(stackName)}, which is not being deployed`);
    }
    out.set(stackName, { ...out.get(stackName), [key]: flag.slice(eq + 1) });
  }
  return out;
}

/** A `--parameters` flag for a message, its value hidden: parameter values may be secrets. */
const maskValue = (flag: string) =>
  flag.indexOf('=') > 0 ? `"${flag.slice(0, flag.indexOf('='))}=…"` : '(value not shown: it may be a secret)';

/** Checks the flags whose values have a fixed form before anything runs. */
function checkFlags(flags: Flags): void {
  integer('--concurrency', flags.concurrency, 1, 32);
  integer('--timeout', flags.timeout, 10, 1440);
  integer('--limit', flags.limit, 1, 1000);
  (flags.tags ?? []).forEach((t) => keyValue('--tags', t));
  (flags.context ?? []).forEach((c) => keyValue('--context', c));
  if (flags.progress !== undefined && flags.progress !== 'bar' && flags.progress !== 'events') {
    throw new UsageError(`--progress ${quote(flags.progress)} is invalid: expected bar or events`);
  }
}

function keyValue(flag: string, value: string): [string, string] {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new UsageError(`${flag} ${quote(value)} is invalid: expected KEY=VALUE`);
  return [value.slice(0, eq), value.slice(eq + 1)];
}

function integer(flag: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new UsageError(`${flag} ${quote(value)} is invalid: expected an integer from ${min} to ${max}`);
  }
  return n;
}

function outputMap(outputs: { key: string; value: unknown }[]): Record<string, unknown> {
  return Object.fromEntries(outputs.map((o) => [o.key, o.value]));
}

/** A JSON object file, or {} when there is none; a file that exists but is broken is a usage error when `strict`. */
function readJson(file: string, strict = false): Record<string, unknown> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return {};
  }
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === 'object' && value !== null && !Array.isArray(value))
      return value as Record<string, unknown>;
    if (strict)
      throw new ConfigurationError(
        `${path.basename(file)} must hold a JSON object, like {"app": "node app.js"}`,
      );
  } catch (error) {
    if (!strict) return {};
    if (error instanceof ConfigurationError) throw error;
    throw new ConfigurationError(`${path.basename(file)} is not valid JSON: ${(error as Error).message}`);
  }
  return {};
}

/** ROS's rule for a stack name (CreateStack): 255 letters, digits, `_` or `-`, starting with a letter or digit. */
const STACK_NAME = /^[A-Za-z0-9*][A-Za-z0-9_*-]{0,254}$/;

/** Refuses a stack name (or `*` pattern) ROS could not have, without echoing an absurd one whole. */
function checkStackName(name: string): void {
  if (!STACK_NAME.test(name)) {
    throw new UsageError(
      `stack name ${quote(name)} is invalid: expected up to 255 letters, digits, _ or - (and * as a wildcard), ` +
        'starting with a letter or digit',
    );
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function fail(err: Error): never {
  throw err;
}
