/**
 * `ros-deploy`: parses the command line, calls the deploy library (`lib/deploy`) and prints what it returns. Every
 * decision about apps, stacks, regions, credentials and LocalCloud is the library's; this file maps flags to its
 * options and its results (and errors, in the CLI's words) to text, JSON and exit codes.
 */
import * as fs from 'fs';
import * as path from 'path';
import { parseArgs } from 'util';
import { stringify as toYaml } from 'yaml';
import {
  APPROVAL_LEVELS,
  type ApprovalItem,
  type ApprovalLevel,
  assemblyDirectory,
  type ChangeSet,
  changesNeedingApproval,
  createChangeSets,
  type DeployEvent,
  discardChangeSets,
  executeChangeSets,
  formatChangeSet,
  type AssemblyStack,
  cloudTarget,
  DeployError,
  deployStacks,
  destroyStacks,
  diffStacks,
  formatDiff,
  hasApp,
  imageIdsOf,
  initApp,
  localTarget,
  regionResolver,
  selectStacks,
  type Selection,
  stackEvents,
  stackOutputs,
  type StackOperation,
  type StackOperationResult,
  type StackGroupReport,
  stackRegions,
  synthesizeApp,
  type SynthesizedApp,
  type Target,
} from '../deploy';
import type { CliIo, Output } from './io';
import {
  BarDisplay,
  EventsDisplay,
  formatResults,
  groupImageLines,
  type ProgressDisplay,
} from './ros-deploy-progress';
import { CLI_WORDING, ConfigurationError, packageVersion, quote, UsageError } from './usage';

const HELP = `Usage: ros-deploy <command> [STACKS..] [options]

Commands:
  init [DIR]            Write a new TypeScript app with an ImageCopy into DIR (default: here; it must be empty
                        unless --force)
  synth [STACKS..]      Synthesize the app of cdk.json into cdk.out (one stack named: print its template)
  list                  List the app's stacks
  deploy [STACKS..]     Create or update stacks (all by default, with the stacks they depend on) and follow
                        them to the end
  destroy [STACKS..]    Delete stacks (with the stacks that depend on them, first; a name the app does not
                        have is found in ROS); asks first unless --force
  diff [STACKS..]       Compare the app's templates with the deployed stacks: each resource added, modified in
                        place, replaced (and why) or removed; RAM changes marked [security]
  events STACK          Show a stack's latest events
  outputs STACK         Show a stack's outputs, and the image id per account and region of each stack group
                        it manages

Options:
  --region REGION       Region of the stacks the app does not pin (env.region) (else ALIBABA_CLOUD_REGION_ID,
                        else the profile's); repeat as --region STACK:REGION to send a stack elsewhere
  --profile NAME        aliyun CLI profile to take credentials (and region) from
  --local               Use LocalCloud: the one ros-local serves here, else an embedded one (state in .ros-local/)
  --parameters S:K=V    Template parameter K of stack S (repeatable; S: may be omitted with a single stack)
  --tags K=V            Stack tag (repeatable)
  --outputs-file FILE   deploy: write the outputs as JSON {stack: {key: value}}
  --no-rollback         deploy: keep what was created when an operation fails
  --method direct|change-set|prepare-change-set
                        deploy: call UpdateStack/CreateStack (direct, the default), or create a change set per
                        stack, show ROS's list of changes and execute it after approval (change-set), or stop
                        once it is created, for review in the ROS console (prepare-change-set)
  --change-set          diff: show ROS's view, from a change set created and deleted right away
  --require-approval never|broadening|any-change
                        deploy: ask before changes that broaden permissions (RAM actions, resources,
                        principals) or replace or delete an image copy (broadening, the default), before any
                        change, or never; without a terminal (or with CI=true) such a deploy fails (exit 2)
                        unless never. Deploys to LocalCloud (--local) never ask
  --timeout MINUTES     deploy: ROS timeout of each create or update (10-1440; default: the longest chain of
                        the template's custom resource timeouts plus 10 minutes, at least 60)
  --concurrency N       deploy/destroy: stacks in parallel, dependencies respected (default 1)
  -e, --exclusively     deploy/diff: not the stacks the named ones depend on; destroy: not the stacks that
                        depend on them (by default they are included, as cdk does)
  --progress bar|events How to show progress (default: bar on a terminal; events when not a TTY or CI=true)
  --force               destroy: do not ask for confirmation; init: write into a directory that is not empty
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

export type { CliIo };

const OPTIONS = {
  region: { type: 'string', multiple: true },
  profile: { type: 'string' },
  local: { type: 'boolean' },
  parameters: { type: 'string', multiple: true },
  tags: { type: 'string', multiple: true },
  'outputs-file': { type: 'string' },
  'no-rollback': { type: 'boolean' },
  'require-approval': { type: 'string' },
  method: { type: 'string' },
  'change-set': { type: 'boolean' },
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
  version: { type: 'boolean' },
} as const;

type Flags = ReturnType<typeof parse>['values'];
const parse = (argv: string[]) =>
  parseArgs({ args: argv, allowPositionals: true, options: OPTIONS, strict: true });

const COMMANDS = ['init', 'synth', 'list', 'ls', 'deploy', 'destroy', 'diff', 'events', 'outputs'] as const;

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
  if (flags.version) {
    io.stdout.write(`${packageVersion()}\n`);
    return 0;
  }
  const [command, ...stacks] = positionals;
  let target: Target | undefined;
  let cli: Cli | undefined;
  try {
    if (!command) {
      throw new UsageError('no command given');
    }
    if (!(COMMANDS as readonly string[]).includes(command)) {
      throw new UsageError(`unknown command ${quote(command)}`);
    }
    checkFlags(flags);
    cli = new Cli(io, flags);
    if (command === 'init') {
      return cli.init(stacks);
    }
    stacks.forEach(checkStackName);
    if (command === 'synth') {
      return await cli.synth(stacks);
    }
    if (command === 'list' || command === 'ls') {
      return await cli.list();
    }
    if ((command === 'events' || command === 'outputs') && stacks.length !== 1) {
      throw new UsageError(`${command} takes exactly one STACK`);
    }
    target = await cli.target();
    cli.progressOut.write(`ros-deploy: using ${target.description}\n`);
    switch (command) {
      case 'deploy':
        return await cli.deploy(stacks, target);
      case 'destroy':
        return await cli.destroy(stacks, target);
      case 'diff':
        return await cli.diff(stacks, target);
      case 'events':
        return await cli.events(stacks[0], target);
      default:
        return await cli.outputs(stacks[0], target);
    }
  } catch (err) {
    return failure(io, flags, err, target, cli?.inProgress);
  } finally {
    await target?.close();
  }
}

/** Prints an error the way its kind asks, and gives the exit code. */
function failure(
  io: CliIo,
  flags: Flags,
  err: unknown,
  target: Target | undefined,
  inProgress: ReadonlyMap<string, InProgress> = new Map(),
): number {
  if (err instanceof UsageError) {
    return usage(io, err.message);
  }
  if (err instanceof ConfigurationError) {
    io.stderr.write(`ros-deploy: ${err.message}\n`);
    return 2;
  }
  if (err instanceof DeployError) {
    const message = err.describe(CLI_WORDING);
    const stopped = err.code === 'Aborted' && target ? stoppedMessage(inProgress, target) : undefined;
    io.stderr.write(`ros-deploy: ${stopped ?? message}\n`);
    if (flags.json) {
      io.stdout.write(JSON.stringify({ success: false, error: { code: err.code, message } }) + '\n');
    }
    return err.isConfigurationError ? 2 : 1;
  }
  // Not expected: say what happened in one line, without a stack trace (ROS_DEPLOY_DEBUG=1 shows it).
  const detail = io.env.ROS_DEPLOY_DEBUG && err instanceof Error ? `\n${err.stack}` : '';
  io.stderr.write(
    `ros-deploy: unexpected error: ${err instanceof Error ? err.message : String(err)}${detail}\n`,
  );
  return 1;
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

  /** `--local`: LocalCloud; otherwise the real cloud. */
  target(): Promise<Target> {
    if (!this.flags.local) {
      return Promise.resolve(
        cloudTarget({ profile: this.flags.profile, env: this.io.env, clock: this.io.clock }),
      );
    }
    return localTarget({
      directory: this.io.cwd,
      purpose: `ros-deploy --local (${path.join('.ros-local', 'state.json')})`,
      env: this.io.env,
      signal: this.io.signal,
      clock: this.io.clock,
      onWait: (holder, stateFile) => {
        const file = path.relative(this.io.cwd, stateFile);
        this.progressOut.write(
          `ros-deploy: waiting for ${holder.purpose} (pid ${holder.pid}, since ${holder.since}) to finish: one ` +
            `LocalCloud at a time may use ${file}\n`,
        );
      },
    });
  }

  init(args: string[]): number {
    if (args.length > 1) {
      throw new UsageError('init takes at most one DIR');
    }
    const result = initApp({ directory: path.resolve(this.io.cwd, args[0] ?? '.'), force: this.flags.force });
    const where = path.relative(this.io.cwd, result.directory) || '.';
    if (this.flags.json) {
      this.io.stdout.write(JSON.stringify(result, null, 2) + '\n');
      return 0;
    }
    this.io.stdout.write(
      [
        `Wrote a TypeScript app with the stack ${result.stackName} into ${where}:`,
        ...result.files.map((file) => `  ${file}`),
        '',
        'Next:',
        ...(where === '.' ? [] : [`  cd ${where}`]),
        '  npm install',
        '  npm test',
        '  npx ros-deploy deploy --local',
        '',
      ].join('\n'),
    );
    return 0;
  }

  async synth(names: string[]): Promise<number> {
    const { assembly } = await this.synthesize();
    const { stacks } = selectStacks(assembly, { names });
    if (names.length === 1) {
      const template = JSON.parse(
        stacks[0].template ?? fs.readFileSync(stacks[0].templateFile, 'utf8'),
      ) as unknown;
      this.io.stdout.write(this.flags.json ? JSON.stringify(template, null, 2) + '\n' : toYaml(template));
      return 0;
    }
    if (this.flags.json) {
      const list = stacks.map((s) => ({ stackName: s.stackName, templateFile: s.templateFile }));
      this.io.stdout.write(JSON.stringify({ stacks: list }, null, 2) + '\n');
    } else {
      const dir = path.relative(this.io.cwd, assembly.directory) || '.';
      this.io.stdout.write(
        `Synthesized ${stacks.length} stack(s) to ${dir}: ${stacks.map((s) => s.stackName).join(', ')}\n`,
      );
    }
    return 0;
  }

  async list(): Promise<number> {
    const { assembly } = await this.synthesize();
    if (this.flags.json) {
      const list = assembly.stacks.map((s) => ({ stackName: s.stackName, dependencies: s.dependencies }));
      this.io.stdout.write(JSON.stringify(list, null, 2) + '\n');
      return 0;
    }
    for (const s of assembly.stacks) {
      const after = s.dependencies.length > 0 ? ` (after ${s.dependencies.join(', ')})` : '';
      this.io.stdout.write(`${s.stackName}${after}\n`);
    }
    return 0;
  }

  async deploy(names: string[], target: Target): Promise<number> {
    const { assembly } = await this.synthesize();
    const stacks = this.select(assembly, names, 'dependencies');
    const regions = this.regions(stacks, target);
    const display = this.display();
    const options = {
      stacks,
      regions,
      target,
      assemblyDir: assembly.directory,
      concurrency: integer('--concurrency', this.flags.concurrency, 1, 32),
      parameters: parseParameters(this.flags.parameters ?? [], stacks),
      tags: Object.fromEntries((this.flags.tags ?? []).map((t) => keyValue('--tags', t))),
      disableRollback: this.flags['no-rollback'] ?? false,
      timeoutInMinutes: integer('--timeout', this.flags.timeout, 10, 1440),
      onEvent: this.tracking(display, regions),
      signal: this.io.signal,
      wording: CLI_WORDING,
    };
    let results: StackOperationResult[];
    try {
      const method = this.flags.method ?? 'direct';
      // Compared with the stacks as deployed, before a change set makes a stack to review.
      const needApproval = await this.approvalItems(stacks, regions, target, assembly.directory);
      if (method === 'direct') {
        if (!(await this.approved(needApproval))) {
          this.io.stderr.write('ros-deploy: nothing deployed.\n');
          return 1;
        }
        results = await deployStacks(options);
      } else {
        const changeSets = await createChangeSets(options);
        this.progressOut.write(changeSets.map(formatChangeSet).join('\n'));
        if (method === 'prepare-change-set') {
          return this.prepared(changeSets);
        }
        const approved = await this.approved(needApproval).catch(async (err: unknown) => {
          await discardChangeSets(changeSets);
          throw err;
        });
        if (!approved) {
          await discardChangeSets(changeSets);
          this.io.stderr.write('ros-deploy: nothing deployed; the change sets were deleted.\n');
          return 1;
        }
        results = await executeChangeSets(changeSets, options);
      }
    } finally {
      display.stop();
    }
    if (this.flags['outputs-file']) {
      this.writeOutputs(this.flags['outputs-file'], results);
    }
    return this.report(results, 'deploy');
  }

  /** `--method prepare-change-set`: the change sets made, left for review. */
  private prepared(changeSets: ChangeSet[]): number {
    if (this.flags.json) {
      const list = changeSets.map(({ execute: _e, discard: _d, ...c }) => c);
      this.io.stdout.write(JSON.stringify({ success: true, changeSets: list }, null, 2) + '\n');
    }
    for (const c of changeSets) {
      this.progressOut.write(
        c.noChanges
          ? `Stack ${c.stackName} (${c.regionId}): no changes, no change set left\n`
          : `Prepared change set ${c.changeSetName} (${c.changeSetId}) of stack ${c.stackName} (${c.regionId}): ` +
              'review and execute it in the ROS console, or delete it there\n',
      );
    }
    return 0;
  }

  /**
   * The changes that need approval under `--require-approval` (see `changesNeedingApproval`), compared with the
   * deployed stacks; none on LocalCloud, which never asks.
   */
  private async approvalItems(
    stacks: AssemblyStack[],
    regions: Map<string, string>,
    target: Target,
    assemblyDir: string,
  ): Promise<ApprovalItem[]> {
    const level = this.approvalLevel();
    if (target.local || level === 'never') {
      return [];
    }
    const diffs = await diffStacks({ stacks, regions, target, assemblyDir });
    return changesNeedingApproval(diffs, level);
  }

  /**
   * Whether the deploy may go ahead: the changes that need approval are listed and asked about on the terminal.
   * Without one (or in CI) they are a configuration error naming them.
   */
  private async approved(items: ApprovalItem[]): Promise<boolean> {
    if (items.length === 0) {
      return true;
    }
    const level = this.approvalLevel();
    const list = items
      .map((i) => `  ${i.stackName}: ${i.constructPath ? `${i.constructPath} (${i.id})` : i.id}: ${i.why}\n`)
      .join('');
    if (!this.io.confirm || isCi(this.io.env)) {
      throw new ConfigurationError(
        `deploy: these changes need approval (--require-approval ${level}), and there is no terminal to ask on` +
          `${isCi(this.io.env) ? ' (CI)' : ''}:\n${list}Deploy on a terminal to approve them, or pass ` +
          '--require-approval never',
      );
    }
    this.progressOut.write(`These changes need approval (--require-approval ${level}):\n${list}`);
    return this.io.confirm('Deploy these changes? (y/N) ');
  }

  private approvalLevel(): ApprovalLevel {
    return (this.flags['require-approval'] ?? 'broadening') as ApprovalLevel;
  }

  async destroy(names: string[], target: Target): Promise<number> {
    const app = { directory: this.io.cwd, app: this.flags.app };
    const assembly = hasApp(app) ? (await this.synthesize()).assembly : undefined;
    const stacks = this.select(assembly, names, 'dependents');
    const regions = this.regions(stacks, target);
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
    const results = await destroyStacks({
      stacks,
      regions,
      target,
      concurrency: integer('--concurrency', this.flags.concurrency, 1, 32),
      onEvent: this.tracking(display, regions),
      signal: this.io.signal,
      wording: CLI_WORDING,
    }).finally(() => display.stop());
    return this.report(results, 'destroy');
  }

  async diff(names: string[], target: Target): Promise<number> {
    const { assembly } = await this.synthesize();
    const stacks = this.select(assembly, names, 'dependencies');
    const regions = this.regions(stacks, target);
    if (this.flags['change-set']) {
      return this.changeSetDiff(stacks, regions, target, assembly.directory);
    }
    const results = await diffStacks({ stacks, regions, target, assemblyDir: assembly.directory });
    if (this.flags.json) {
      this.io.stdout.write(JSON.stringify({ stacks: results }, null, 2) + '\n');
    } else {
      this.io.stdout.write(results.map(formatDiff).join('\n'));
    }
    return this.flags.fail && results.some((r) => r.hasChanges) ? 1 : 0;
  }

  /** `diff --change-set`: ROS's view, from a change set made for each stack and deleted right after. */
  private async changeSetDiff(
    stacks: AssemblyStack[],
    regions: Map<string, string>,
    target: Target,
    assemblyDir: string,
  ): Promise<number> {
    const changeSets = await createChangeSets({
      stacks,
      regions,
      target,
      assemblyDir,
      signal: this.io.signal,
      wording: CLI_WORDING,
      review: true,
    });
    try {
      if (this.flags.json) {
        const list = changeSets.map(({ execute: _e, discard: _d, ...c }) => c);
        this.io.stdout.write(JSON.stringify({ changeSets: list }, null, 2) + '\n');
      } else {
        this.io.stdout.write(changeSets.map(formatChangeSet).join('\n'));
      }
    } finally {
      await discardChangeSets(changeSets);
    }
    return this.flags.fail && changeSets.some((c) => !c.noChanges) ? 1 : 0;
  }

  async events(stackName: string, target: Target): Promise<number> {
    const region = this.regionResolver(target)(stackName);
    const result = await stackEvents({
      ...target.connection(region),
      stackName,
      limit: integer('--limit', this.flags.limit, 1, 1000) ?? 50,
      assemblyDir: this.assemblyDir(),
    });
    if (this.flags.json) {
      const events = result.events.map(({ constructPath: _path, ...e }) => e);
      this.io.stdout.write(JSON.stringify({ ...result, events }, null, 2) + '\n');
      return 0;
    }
    this.io.stdout.write(`${stackName} (${region}) ${result.status}\n`);
    for (const e of result.events) {
      const where = e.constructPath ? `${e.constructPath} (${e.logicalResourceId})` : e.logicalResourceId;
      const reason = e.statusReason && e.statusReason !== 'state changed' ? ` ${e.statusReason}` : '';
      this.io.stdout.write(
        `${e.createTime} | ${e.status.padEnd(27)} | ${e.resourceType} | ${where}${reason}\n`,
      );
    }
    return 0;
  }

  async outputs(stackName: string, target: Target): Promise<number> {
    const region = this.regionResolver(target)(stackName);
    const result = await stackOutputs({ ...target.connection(region), stackName });
    if (result.stackGroupsUnavailable) {
      this.io.stderr.write(`ros-deploy: ${result.stackGroupsUnavailable}\n`);
    }
    if (this.flags.json) {
      const json = {
        [stackName]: outputMap(result.outputs),
        ...(result.stackGroups && { stackGroups: result.stackGroups.map(groupJson) }),
      };
      this.io.stdout.write(JSON.stringify(json, null, 2) + '\n');
      return 0;
    }
    for (const o of result.outputs) {
      this.io.stdout.write(`${o.key} = ${typeof o.value === 'string' ? o.value : JSON.stringify(o.value)}\n`);
    }
    if (result.outputs.length === 0) {
      this.io.stdout.write(`${stackName} has no outputs\n`);
    }
    for (const group of result.stackGroups ?? []) {
      const lines = groupImageLines(stackName, group);
      this.io.stdout.write(
        lines.length > 0
          ? lines.join('\n') + '\n'
          : `Stack group ${group.stackGroupName} (${group.regionId}): ` +
              `${group.exists ? 'no stack instance has an image' : 'does not exist'}\n`,
      );
      for (const f of group.failures) {
        this.io.stdout.write(`  not CURRENT: ${f.accountId} ${f.regionId} ${f.status}: ${f.statusReason}\n`);
      }
    }
    return 0;
  }

  // -------------------------------------------------------------------------------------------------------------

  /** The stacks named and those they need (see `selectStacks`), saying which came along. */
  private select(
    assembly: SynthesizedApp['assembly'] | undefined,
    names: string[],
    include: 'dependencies' | 'dependents',
  ): AssemblyStack[] {
    const selection = selectStacks(assembly, {
      names,
      include,
      exclusively: this.flags.exclusively ?? false,
      outsideApp: include === 'dependents',
    });
    return this.selected(selection, include);
  }

  /** The selected stacks, saying which came along because the named ones need them. */
  private selected(selection: Selection, include: 'dependencies' | 'dependents'): AssemblyStack[] {
    if (selection.included.length > 0) {
      const related =
        include === 'dependencies' ? 'the stacks they depend on' : 'the stacks that depend on them';
      this.progressOut.write(
        `ros-deploy: including ${related}: ${selection.included.map((s) => s.stackName).join(', ')} ` +
          '(-e, --exclusively for the named stacks only)\n',
      );
    }
    return selection.stacks;
  }

  private regionResolver(target: Target) {
    const perStack: Record<string, string> = {};
    let general: string | undefined;
    for (const flag of this.flags.region ?? []) {
      const colon = flag.indexOf(':');
      if (colon > 0) {
        perStack[flag.slice(0, colon)] = flag.slice(colon + 1);
      } else {
        general = flag;
      }
    }
    return regionResolver({
      regionId: general,
      stackRegions: perStack,
      env: this.io.env,
      profile: this.flags.profile,
      defaultRegionId: target.defaultRegionId,
    });
  }

  private regions(stacks: AssemblyStack[], target: Target): Map<string, string> {
    return stackRegions(stacks, this.regionResolver(target));
  }

  private display(): ProgressDisplay {
    const mode = this.flags.progress;
    const ci = isCi(this.io.env);
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

  /**
   * Passes events on to the display, noting each operation submitted to ROS until it is followed to its end (see
   * {@link inProgress}).
   */
  private tracking(display: ProgressDisplay, regions: ReadonlyMap<string, string>) {
    return (event: DeployEvent): void => {
      if (event.type === 'started') {
        this.inProgress.set(event.stackName, {
          operation: event.operation,
          regionId: regions.get(event.stackName) ?? '',
        });
      } else if (event.type === 'poll' && !event.status.endsWith('_IN_PROGRESS')) {
        this.inProgress.delete(event.stackName);
      }
      display.onEvent(event);
    };
  }

  private report(results: StackOperationResult[], verb: 'deploy' | 'destroy'): number {
    const success = results.every((r) => r.success);
    if (this.flags.json) {
      const stacks = results.map(({ outputs, stackGroups, ...r }) => ({
        ...r,
        outputs: outputMap(outputs),
        ...(stackGroups && { stackGroups: stackGroups.map(groupJson) }),
      }));
      this.io.stdout.write(JSON.stringify({ success, stacks }, null, 2) + '\n');
    }
    this.progressOut.write(formatResults(results, verb));
    return success ? 0 : 1;
  }

  private writeOutputs(file: string, results: StackOperationResult[]): void {
    const target = path.resolve(this.io.cwd, file);
    const existing = readJsonFile(target);
    for (const r of results) {
      if (r.success) {
        existing[r.stackName] = outputMap(r.outputs);
      }
    }
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, JSON.stringify(existing, null, 2) + '\n');
    this.progressOut.write(`Outputs written to ${path.relative(this.io.cwd, target) || target}\n`);
  }

  private assemblyDir(): string {
    return assemblyDirectory({ directory: this.io.cwd, outdir: this.flags.output });
  }

  private async synthesize(): Promise<SynthesizedApp> {
    const synthesized = await synthesizeApp({
      directory: this.io.cwd,
      app: this.flags.app,
      context: Object.fromEntries((this.flags.context ?? []).map((c) => keyValue('--context', c))),
      outdir: this.flags.output,
      env: this.io.env,
      onOutput: (chunk) => this.io.stderr.write(chunk),
    });
    for (const warning of synthesized.warnings) {
      this.io.stderr.write(`ros-deploy: warning: ${warning}\n`);
    }
    return synthesized;
  }
}

/** `--parameters STACK:KEY=VALUE` (or `KEY=VALUE` when one stack is deployed) per stack. */
function parseParameters(flags: string[], stacks: AssemblyStack[]): Map<string, Record<string, string>> {
  const out = new Map<string, Record<string, string>>();
  for (const flag of flags) {
    const eq = flag.indexOf('=');
    const head = eq > 0 ? flag.slice(0, eq) : '';
    const colon = head.indexOf(':');
    let stackName: string;
    if (colon > 0) {
      stackName = head.slice(0, colon);
    } else if (stacks.length === 1) {
      stackName = stacks[0].stackName;
    } else {
      throw new UsageError(
        `--parameters ${maskValue(flag)} is invalid: expected STACK:KEY=VALUE when deploying several stacks`,
      );
    }
    const key = head.slice(colon + 1);
    if (eq <= 0 || !key) {
      throw new UsageError(`--parameters ${maskValue(flag)} is invalid: expected STACK:KEY=VALUE`);
    }
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
  (flags.region ?? []).forEach(checkRegion);
  if (flags.progress !== undefined && flags.progress !== 'bar' && flags.progress !== 'events') {
    throw new UsageError(`--progress ${quote(flags.progress)} is invalid: expected bar or events`);
  }
  if (flags.method !== undefined && !METHODS.includes(flags.method)) {
    throw new UsageError(`--method ${quote(flags.method)} is invalid: expected ${METHODS.join(', ')}`);
  }
  const approval = flags['require-approval'];
  if (approval !== undefined && !(APPROVAL_LEVELS as readonly string[]).includes(approval)) {
    throw new UsageError(
      `--require-approval ${quote(approval)} is invalid: expected ${APPROVAL_LEVELS.join(', ')}`,
    );
  }
}

const METHODS = ['direct', 'change-set', 'prepare-change-set'];

/** Whether the environment says it is CI (`CI` set, and not `false` or `0`). */
function isCi(env: NodeJS.ProcessEnv): boolean {
  return env.CI !== undefined && env.CI !== 'false' && env.CI !== '0';
}

/** `--region REGION` or `--region STACK:REGION`. */
function checkRegion(flag: string): void {
  const region = flag.slice(flag.indexOf(':') + 1);
  if (!/^[a-z]{2,}(-[a-z0-9]+)+$/.test(region)) {
    throw new UsageError(
      `--region ${quote(flag)} is invalid: expected a region id such as cn-hangzhou, or STACK:REGION`,
    );
  }
}

function keyValue(flag: string, value: string): [string, string] {
  const eq = value.indexOf('=');
  if (eq <= 0) {
    throw new UsageError(`${flag} ${quote(value)} is invalid: expected KEY=VALUE`);
  }
  return [value.slice(0, eq), value.slice(eq + 1)];
}

function integer(flag: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) {
    return undefined;
  }
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new UsageError(`${flag} ${quote(value)} is invalid: expected an integer from ${min} to ${max}`);
  }
  return n;
}

/** A stack group in --json: as the library reports it, with `imageIds` as `{ "<account>": { "<region>": id } }`. */
function groupJson(group: StackGroupReport) {
  return { ...group, imageIds: imageIdsOf(group) };
}

function outputMap(outputs: { key: string; value: unknown }[]): Record<string, unknown> {
  return Object.fromEntries(outputs.map((o) => [o.key, o.value]));
}

/** The JSON object in `file` (the outputs file), or {} when there is none or it is not one. */
function readJsonFile(file: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(fs.readFileSync(file, 'utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : {};
  } catch {
    return {};
  }
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
