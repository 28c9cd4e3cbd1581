/**
 * `ros-local`: parses the command line, starts LocalCloud (`lib/local`) and advertises it for the directory until
 * stopped, or says whether one serves it; prints what happened and maps LocalCloud's errors to exit code 2.
 */
import * as fs from 'fs';
import * as path from 'path';
import { parseArgs } from 'util';
import {
  DEFAULT_LOCAL_DIR,
  findRunningServer,
  removeServerInfo,
  STATE_FILE_NAME,
  writeServerInfo,
} from '../local/discovery';
import { readAccounts, type AccountKey } from '../local/accounts';
import { FaultPlan, FaultPlanError } from '../local/faults';
import { LocalCloud, MAX_ACCOUNTS } from '../local/local-cloud';
import { parseFolderAssignments, ResourceDirectoryError, type ResourceDirectoryOptions } from '../local/rd';
import { StateStore } from '../local/state';
import { StateLockedError } from '../local/state-lock';
import { StateFileError } from '../local/state-schema';
import { parseVariantAssignments, VariantError, VARIANT_VALUES, type CloudVariants } from '../local/variants';
import type { CliIo } from './io';
import { ConfigurationError, packageVersion, UsageError } from './usage';

const HELP = `Usage: ros-local <command> [options]

Commands:
  start     Serve LocalCloud (ECS, ROS, FC, RAM) on 127.0.0.1 until Ctrl-C / SIGTERM
  status    Say whether a LocalCloud is serving this directory's state
  accounts  List the accounts of this directory's state, the first (the administrator) first:
            "INDEX ID" lines; with --ids their ids comma-separated, with --members all but the first
            (e.g. -c targetAccountIds=$(npx ros-local accounts --members --ids))

Options:
  --port N               TCP port on 127.0.0.1 (default: any free port)
  --state FILE           State file (default: ${DEFAULT_LOCAL_DIR}/${STATE_FILE_NAME}); separate runs see one cloud
  --accounts N           How many accounts the cloud has (default 1; a state file keeps every account it had),
                         each with its own root key, id, RAM, images and stacks: all are printed
  --folder NAME=I,J,...  Enable a Resource Directory managed by the first account (account 0) with a folder NAME
                         holding the accounts of those indexes (repeatable; the others are in the Root folder;
                         a state file keeps the directory and its ids)
  --stack-group-roles    Create the RAM roles of self-managed stack groups, as the ROS guide says:
                         AliyunROSStackGroupAdministrationRole in account 0, AliyunROSStackGroupExecutionRole
                         (trusting account 0) in every account
  --copy-duration-ms N   How long every image copy takes (default: proportional to the image size)
  --faults FILE          Inject faults from a JSON fault plan, e.g.
                           {"seed": 7, "rules": [{"kind": "throttle", "product": "ecs", "probability": 0.2}]}
                         kinds: throttle, error500, error503, reset, latency (per product/action),
                         responseUrlFailure, killInvocation, duplicateDelivery, copyFails, cancelNotSupported
                         (see docs/local-cloud.md)
  --variant NAME=VALUE   Play one reading of a behaviour the documentation leaves open (repeatable; the
                         default is the strictest reading of each; see docs/real-cloud.md):
${Object.entries(VARIANT_VALUES)
  .map(([name, values]) => `                           ${name}: ${values.join(' | ')}`)
  .join('\n')}
                           copyVisibilityDelayMs: N (with copyVisibility=delayed)
  -h, --help             Show this help
  --version              Show the version of ros-local (the ros-cdk-image-copy package)
`;

/** `ros-local`: returns the process exit code (0 ok, 2 usage error); `start` resolves only when stopped. */
export async function main(argv: string[], io: CliIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        port: { type: 'string' },
        state: { type: 'string' },
        'copy-duration-ms': { type: 'string' },
        accounts: { type: 'string' },
        folder: { type: 'string', multiple: true },
        'stack-group-roles': { type: 'boolean' },
        members: { type: 'boolean' },
        ids: { type: 'boolean' },
        faults: { type: 'string' },
        variant: { type: 'string', multiple: true },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean' },
      },
    });
  } catch (err) {
    return usage(io, (err as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.stdout.write(HELP);
    return 0;
  }
  if (values.version) {
    io.stdout.write(`${packageVersion()}\n`);
    return 0;
  }
  const command = positionals[0] ?? 'start';
  const stateFile = path.resolve(io.cwd, values.state ?? path.join(DEFAULT_LOCAL_DIR, STATE_FILE_NAME));
  const dir = path.dirname(stateFile);
  try {
    if (command === 'status') {
      return status(io, dir);
    }
    if (command === 'accounts' && positionals.length === 1) {
      return accounts(io, stateFile, { members: values.members ?? false, ids: values.ids ?? false });
    }
    if (command !== 'start' || positionals.length > 1) {
      throw new UsageError(`unknown command "${positionals.join(' ')}"`);
    }
    return await start(io, dir, stateFile, {
      port: integerOption('--port', values.port, 0, 65535),
      copyDurationMs: integerOption('--copy-duration-ms', values['copy-duration-ms'], 1, 24 * 3600 * 1000),
      accounts: integerOption('--accounts', values.accounts, 1, MAX_ACCOUNTS),
      resourceDirectory: values.folder === undefined ? undefined : readFolders(values.folder),
      stackGroupRoles: values['stack-group-roles'] ?? false,
      faults: values.faults === undefined ? undefined : readFaultPlan(values.faults, io.cwd),
      variants: readVariants(values.variant ?? []),
    });
  } catch (err) {
    if (err instanceof UsageError) {
      return usage(io, err.message);
    }
    if (err instanceof ConfigurationError) {
      io.stderr.write(`ros-local: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
}

function status(io: CliIo, dir: string): number {
  const running = findRunningServer(dir);
  io.stdout.write(
    running
      ? `LocalCloud is serving ${running.stateFile} at ${running.endpoint} (pid ${running.pid}, since ${running.startedAt})\n`
      : `No LocalCloud is serving ${dir}\n`,
  );
  return 0;
}

/**
 * The accounts a state file holds, read without changing it (a LocalCloud may be serving it): what an app needs to
 * name the accounts it deploys to (their ids are made when the cloud first starts with them).
 */
function accounts(io: CliIo, stateFile: string, options: { members: boolean; ids: boolean }): number {
  if (!fs.existsSync(stateFile)) {
    throw new ConfigurationError(
      `no LocalCloud state at ${stateFile}: start one first (ros-local start --accounts N, or ros-deploy --local)`,
    );
  }
  let all: AccountKey[];
  try {
    all = readAccounts(new StateStore(stateFile));
  } catch (err) {
    throw new ConfigurationError(`cannot read ${stateFile}: ${(err as Error).message}`);
  }
  const listed = options.members ? all.slice(1) : all;
  const first = options.members ? 1 : 0;
  io.stdout.write(
    options.ids
      ? `${listed.map((a) => a.accountId).join(',')}\n`
      : listed.map((a, i) => `${i + first} ${a.accountId}\n`).join(''),
  );
  return 0;
}

/** Serves LocalCloud on the state file, advertised in `dir`, until `io.signal` aborts. */
async function start(
  io: CliIo,
  dir: string,
  stateFile: string,
  options: {
    port?: number;
    copyDurationMs?: number;
    accounts?: number;
    resourceDirectory?: ResourceDirectoryOptions;
    stackGroupRoles?: boolean;
    faults?: FaultPlan;
    variants?: Partial<CloudVariants>;
  },
): Promise<number> {
  const running = findRunningServer(dir);
  if (running) {
    throw new ConfigurationError(
      `a LocalCloud already serves ${running.stateFile} at ${running.endpoint} (pid ${running.pid})`,
    );
  }
  let cloud: LocalCloud;
  try {
    cloud = await LocalCloud.start({
      port: options.port,
      stateFile,
      copyDurationMs: options.copyDurationMs,
      accounts: options.accounts,
      resourceDirectory: options.resourceDirectory,
      stackGroupRoles: options.stackGroupRoles,
      faults: options.faults,
      variants: options.variants,
      lockPurpose: 'ros-local',
    });
  } catch (err) {
    throw startFailure(err, stateFile, options.port) ?? err;
  }
  writeServerInfo(dir, {
    endpoint: cloud.endpoint,
    pid: process.pid,
    accountId: cloud.accountId,
    stateFile,
    startedAt: new Date().toISOString(),
  });
  const { accessKeyId, accessKeySecret } = cloud.credentials;
  io.stdout.write(
    [
      `LocalCloud serving on http://${cloud.endpoint} (state: ${path.relative(io.cwd, stateFile) || stateFile})`,
      `  account id          ${cloud.accountId}`,
      `  access key id       ${accessKeyId}`,
      `  access key secret   ${accessKeySecret}`,
      ...cloud.accounts
        .slice(1)
        .flatMap((account) => [
          `  account ${account.index + 1}: id ${account.accountId}, access key id ${account.credentials.accessKeyId}, ` +
            `secret ${account.credentials.accessKeySecret}`,
        ]),
      ...(cloud.resourceDirectory
        ? [
            `  resource directory  ${cloud.resourceDirectory.resourceDirectoryId}: ` +
              cloud.resourceDirectory
                .folders()
                .map(
                  (f) =>
                    `${f.folderName} ${f.folderId} (${cloud.resourceDirectory!.accountsOf(f.folderId).length} accounts)`,
                )
                .join(', '),
          ]
        : []),
      ``,
      `SDK clients: new $OpenApiUtil.Config({ accessKeyId, accessKeySecret, regionId, endpoint: '${cloud.endpoint}', protocol: 'http' })`,
      `ros-deploy --local uses this LocalCloud while it runs. Stop with Ctrl-C.`,
      ...(options.faults
        ? [`Injecting faults: ${options.faults.rules.length} rule(s), seed ${options.faults.seed}.`]
        : []),
      ``,
    ].join('\n'),
  );
  await new Promise<void>((resolve) => {
    if (!io.signal || io.signal.aborted) {
      resolve();
      return;
    }
    io.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  removeServerInfo(dir, process.pid);
  await cloud.stop();
  if (options.faults) {
    io.stdout.write(`Faults injected: ${formatStats(cloud.faults.stats())}\n`);
  }
  io.stdout.write('LocalCloud stopped.\n');
  return 0;
}

/** A reason LocalCloud could not start that is the user's to fix (exit 2, no stack trace), or undefined. */
function startFailure(
  err: unknown,
  stateFile: string,
  port: number | undefined,
): ConfigurationError | undefined {
  if (err instanceof StateFileError) {
    return new ConfigurationError(err.message);
  }
  if (err instanceof ResourceDirectoryError) {
    return new ConfigurationError(`--folder: ${err.message}`);
  }
  if (err instanceof StateLockedError) {
    return new ConfigurationError(
      `${err.message}. Start ros-local once it has finished (ros-deploy --local then uses this one), or pass ` +
        'another --state',
    );
  }
  const { code, syscall } = err as NodeJS.ErrnoException;
  if (syscall === 'listen' && code === 'EADDRINUSE') {
    return new ConfigurationError(
      `port ${port} on 127.0.0.1 is in use: choose another --port, or leave it out for any free port`,
    );
  }
  if (syscall === 'listen' && (code === 'EACCES' || code === 'EPERM')) {
    return new ConfigurationError(`port ${port} on 127.0.0.1 needs privileges this process does not have`);
  }
  if (
    code &&
    ['EACCES', 'EPERM', 'EROFS', 'ENOENT', 'ENOTDIR', 'EISDIR', 'ENOSPC', 'EEXIST'].includes(code)
  ) {
    return new ConfigurationError(
      `cannot write the state file ${stateFile} (${code}): choose a --state FILE in a directory you can write to`,
    );
  }
  return undefined;
}

function integerOption(
  flag: string,
  value: string | undefined,
  min: number,
  max: number,
): number | undefined {
  if (value === undefined) {
    return undefined;
  }
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new UsageError(`${flag} "${value}" is invalid: expected an integer from ${min} to ${max}`);
  }
  return n;
}

/** Reads and checks a fault plan file; every problem is a usage error naming the file. */
function readFaultPlan(file: string, cwd: string): FaultPlan {
  let text: string;
  try {
    text = fs.readFileSync(path.resolve(cwd, file), 'utf8');
  } catch (err) {
    throw new UsageError(
      `--faults ${file}: cannot read the file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
    );
  }
  try {
    return FaultPlan.parse(text);
  } catch (err) {
    if (err instanceof FaultPlanError) {
      throw new UsageError(`--faults ${file}: ${err.message}`);
    }
    throw err;
  }
}

function readVariants(assignments: readonly string[]): Partial<CloudVariants> {
  try {
    return parseVariantAssignments(assignments);
  } catch (err) {
    if (err instanceof VariantError) {
      throw new UsageError(`--variant: ${err.message}`);
    }
    throw err;
  }
}

function readFolders(assignments: readonly string[]): ResourceDirectoryOptions {
  try {
    return parseFolderAssignments(assignments);
  } catch (err) {
    throw new UsageError(`--folder: ${(err as Error).message}`);
  }
}

function formatStats(stats: Record<string, number>): string {
  const injected = Object.entries(stats).filter(([, n]) => n > 0);
  return injected.length === 0 ? 'none' : injected.map(([kind, n]) => `${kind} ${n}`).join(', ');
}

function usage(io: CliIo, message: string): number {
  io.stderr.write(`ros-local: ${message}\n\n${HELP}`);
  return 2;
}
