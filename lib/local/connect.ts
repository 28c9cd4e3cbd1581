/**
 * Reaching the LocalCloud of a project directory, as `ros-deploy --local` does: the one a running `ros-local`
 * serves for it (advertised in `server.json`), else one embedded in this process on the same state file, so that
 * separate runs see the same cloud. One LocalCloud at a time may use a state file: while another process's embedded
 * LocalCloud holds it, this waits for it (a `ros-local` that starts meanwhile is used).
 */
import { type Clock, systemClock } from '../clock';
import { DEFAULT_LOCAL_DIR, findRunningLocalCloud, STATE_FILE_NAME } from './discovery';
import { LocalCloud, MAX_ACCOUNTS } from './local-cloud';
import type { AccountKey } from './accounts';
import type { AccessKey } from './ram';
import { parseFolderAssignments, type ResourceDirectoryOptions } from './rd';
import { type LockHolder, StateLockedError } from './state-lock';
import type { CloudVariants } from './variants';
import * as path from 'path';

export { DEFAULT_LOCAL_DIR, STATE_FILE_NAME };

/** A LocalCloud to call: where, as whom, and who serves it. */
export interface LocalCloudConnection {
  readonly endpoint: string;
  /** The root access key of the cloud's first account. */
  readonly credentials: AccessKey;
  /** Every account of the cloud (id and root key), the first one first. */
  readonly accounts: readonly AccountKey[];
  readonly stateFile: string;
  /** `ros-local` (with its pid), or this process, in which case {@link stop} stops it. */
  readonly servedBy: { readonly kind: 'ros-local'; readonly pid: number } | { readonly kind: 'embedded' };
  /** Stops an embedded LocalCloud; nothing for a served one. */
  stop(): Promise<void>;
}

export interface ConnectLocalCloudOptions {
  /** The directory of the state file and of `server.json`. @default `.ros-local` */
  readonly stateDirectory?: string;
  /** Who holds the state file while embedded, as others are told (e.g. `ros-deploy --local`). */
  readonly purpose?: string;
  /** The readings of open behaviours an embedded LocalCloud plays. */
  readonly variants?: Partial<CloudVariants>;
  /** How many accounts an embedded LocalCloud has (`ROS_LOCAL_ACCOUNTS`, see `accountsFromEnvironment`). @default 1 */
  readonly accounts?: number;
  /** An embedded LocalCloud's Resource Directory (`ROS_LOCAL_FOLDERS`, see `resourceDirectoryFromEnvironment`). */
  readonly resourceDirectory?: ResourceDirectoryOptions;
  /** Whether an embedded LocalCloud creates the stack-group roles (`ROS_LOCAL_STACK_GROUP_ROLES`). @default false */
  readonly stackGroupRoles?: boolean;
  /** Told once when another process holds the state file and this waits for it. */
  readonly onWait?: (holder: LockHolder, stateFile: string) => void;
  /** Stops waiting (the promise rejects with the signal's reason). */
  readonly signal?: AbortSignal;
  /** How long to wait between two looks at the state file. @default 200 ms */
  readonly pollIntervalMs?: number;
  readonly clock?: Clock;
}

/**
 * The LocalCloud for `projectDirectory` (see the module comment). Throws the start's error when an embedded one
 * cannot start (e.g. `StateFileError` for an unreadable state file), or the signal's reason when aborted.
 */
export async function connectLocalCloud(
  projectDirectory: string,
  options: ConnectLocalCloudOptions = {},
): Promise<LocalCloudConnection> {
  const dir = path.resolve(projectDirectory, options.stateDirectory ?? DEFAULT_LOCAL_DIR);
  const stateFile = path.join(dir, STATE_FILE_NAME);
  const clock = options.clock ?? systemClock;
  let told = false;
  for (;;) {
    const running = servedLocalCloud(dir);
    if (running) {
      return {
        endpoint: running.endpoint,
        credentials: running.credentials,
        accounts: running.accounts,
        stateFile: running.stateFile,
        servedBy: { kind: 'ros-local', pid: running.pid },
        stop: async () => undefined,
      };
    }
    try {
      const cloud = await LocalCloud.start({
        stateFile,
        variants: options.variants,
        ...(options.accounts !== undefined ? { accounts: options.accounts } : {}),
        ...(options.resourceDirectory !== undefined ? { resourceDirectory: options.resourceDirectory } : {}),
        ...(options.stackGroupRoles ? { stackGroupRoles: true } : {}),
        lockPurpose: options.purpose ?? 'LocalCloud',
      });
      return {
        endpoint: cloud.endpoint,
        credentials: cloud.credentials,
        accounts: cloud.accounts.map((a) => ({ accountId: a.accountId, credentials: a.credentials })),
        stateFile,
        servedBy: { kind: 'embedded' },
        stop: () => cloud.stop(),
      };
    } catch (err) {
      if (!(err instanceof StateLockedError)) {
        throw err;
      }
      // A ros-local holding it advertises itself in server.json in a moment: then it is used.
      if (!told && !err.holder.purpose.startsWith('ros-local')) {
        options.onWait?.(err.holder, stateFile);
        told = true;
      }
      await clock.sleep(options.pollIntervalMs ?? 200, options.signal);
      if (options.signal?.aborted) {
        throw options.signal.reason;
      }
    }
  }
}

/** The state of a running `ros-local` could not be read. */
export class ServedStateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ServedStateError';
  }
}

function servedLocalCloud(dir: string) {
  try {
    return findRunningLocalCloud(dir);
  } catch (err) {
    throw new ServedStateError(`cannot read the state of the running ros-local: ${(err as Error).message}`);
  }
}

/** Environment variable read by the LocalCloud that `ros-deploy --local` embeds: how many accounts it has. */
export const ACCOUNTS_ENVIRONMENT_VARIABLE = 'ROS_LOCAL_ACCOUNTS';

/** The number of accounts `ROS_LOCAL_ACCOUNTS` asks for (undefined when unset); throws naming a value that is not one. */
export function accountsFromEnvironment(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const text = env[ACCOUNTS_ENVIRONMENT_VARIABLE];
  if (text === undefined || text.trim() === '') {
    return undefined;
  }
  const count = /^\d+$/.test(text.trim()) ? Number(text.trim()) : NaN;
  if (!Number.isInteger(count) || count < 1 || count > MAX_ACCOUNTS) {
    throw new Error(
      `${ACCOUNTS_ENVIRONMENT_VARIABLE}=${text}: the number of accounts must be a whole number from 1 to ${MAX_ACCOUNTS}`,
    );
  }
  return count;
}

/**
 * Environment variable read by the LocalCloud that `ros-deploy --local` embeds: its Resource Directory's folders,
 * `NAME=INDEX,INDEX;NAME=INDEX` (account indexes, 0 the management account), as `ros-local start --folder` takes them.
 */
export const FOLDERS_ENVIRONMENT_VARIABLE = 'ROS_LOCAL_FOLDERS';

/** The Resource Directory `ROS_LOCAL_FOLDERS` asks for (undefined when unset); throws naming a value that is not one. */
export function resourceDirectoryFromEnvironment(
  env: NodeJS.ProcessEnv = process.env,
): ResourceDirectoryOptions | undefined {
  const text = env[FOLDERS_ENVIRONMENT_VARIABLE];
  if (text === undefined || text.trim() === '') {
    return undefined;
  }
  try {
    return parseFolderAssignments(text.split(';'));
  } catch (err) {
    throw new Error(`${FOLDERS_ENVIRONMENT_VARIABLE}=${text}: ${(err as Error).message}`, { cause: err });
  }
}

/** Environment variable read by the LocalCloud that `ros-deploy --local` embeds: `1` or `true` creates the stack-group roles. */
export const STACK_GROUP_ROLES_ENVIRONMENT_VARIABLE = 'ROS_LOCAL_STACK_GROUP_ROLES';

/** Whether `ROS_LOCAL_STACK_GROUP_ROLES` asks for the stack-group roles; throws naming a value that is not a boolean. */
export function stackGroupRolesFromEnvironment(env: NodeJS.ProcessEnv = process.env): boolean {
  const text = env[STACK_GROUP_ROLES_ENVIRONMENT_VARIABLE]?.trim().toLowerCase();
  if (text === undefined || text === '' || text === '0' || text === 'false') {
    return false;
  }
  if (text === '1' || text === 'true') {
    return true;
  }
  throw new Error(
    `${STACK_GROUP_ROLES_ENVIRONMENT_VARIABLE}=${env[STACK_GROUP_ROLES_ENVIRONMENT_VARIABLE]}: expected 1, true, 0 or false`,
  );
}
