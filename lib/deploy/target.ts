/**
 * Where stacks go: the real cloud (the default credential chain or an aliyun CLI profile, at the public endpoints
 * or those the environment names) or LocalCloud (the one `ros-local` serves for the project, else an embedded one).
 * A target gives the connection options for each region, and says where it is in one line without any key.
 */
import * as os from 'os';
import * as path from 'path';
import type { Clock } from '../clock';
import type { LockHolder } from '../local/state-lock';
import type { ConnectionOptions } from './connection';
import { DeployError, quote } from './errors';
import { missingProfile } from './profile';
import type { RetryOptions } from './retry';

/** Where the stacks go. */
export interface Target {
  /** Connection options for a stack in `regionId`. */
  connection(regionId: string): ConnectionOptions;
  /** A line saying where, for the user (never any key). */
  readonly description: string;
  readonly local: boolean;
  /** A LocalCloud that lives only as long as this process. */
  readonly embedded: boolean;
  /** The region of a stack nothing else gives one to (LocalCloud's default). */
  readonly defaultRegionId?: string;
  /** Time between polls while following (LocalCloud answers at once). Undefined: the operation's default. */
  readonly pollIntervalMs?: number;
  /** Ends the target (stops an embedded LocalCloud). */
  close(): Promise<void>;
}

/** LocalCloud's default region when no region is given. */
export const LOCAL_DEFAULT_REGION = 'cn-hangzhou';

/** Backoff against LocalCloud: its faults are injected, not load, so there is no point in waiting long. */
const LOCAL_RETRY: RetryOptions = { baseDelayMs: 100, maxDelayMs: 2000 };

/** How often a deploy to LocalCloud polls: its operations take milliseconds. */
const LOCAL_POLL_INTERVAL_MS = 250;

export interface CloudTargetOptions {
  /** An aliyun CLI profile to take credentials (and a region) from, instead of the default chain. */
  readonly profile?: string;
  /**
   * Where `ALIBABA_CLOUD_ROS_ENDPOINT` and `ALIBABA_CLOUD_ECS_ENDPOINT` (host[:port]) and
   * `ALIBABA_CLOUD_ENDPOINT_PROTOCOL` (http|https) are read: they override the public endpoints, e.g. for a VPC
   * endpoint or a LocalCloud started elsewhere. @default process.env
   */
  readonly env?: NodeJS.ProcessEnv;
  readonly clock?: Clock;
}

/**
 * The real cloud. Throws `InvalidEnvironment` for an endpoint protocol other than http or https, and
 * `MissingCredentials` for a profile that does not exist.
 */
export function cloudTarget(options: CloudTargetOptions = {}): Target {
  const env = options.env ?? process.env;
  const { profile } = options;
  const endpoint = env.ALIBABA_CLOUD_ROS_ENDPOINT || undefined;
  const ecsEndpoint = env.ALIBABA_CLOUD_ECS_ENDPOINT || undefined;
  const protocol = env.ALIBABA_CLOUD_ENDPOINT_PROTOCOL;
  if (protocol !== undefined && protocol !== 'http' && protocol !== 'https') {
    throw new DeployError(
      'InvalidEnvironment',
      `ALIBABA_CLOUD_ENDPOINT_PROTOCOL ${quote(protocol)} is invalid: expected http or https`,
    );
  }
  if (profile !== undefined) {
    const problem = missingProfile(profile, env.HOME || os.homedir());
    if (problem) {
      throw new DeployError('MissingCredentials', problem);
    }
  }
  const where = endpoint ? ` at ${endpoint}` : '';
  return {
    local: false,
    embedded: false,
    description: `Alibaba Cloud${where}${profile ? ` (profile ${profile})` : ''}`,
    connection: (regionId) => ({
      regionId,
      ...(profile && { profile }),
      ...(endpoint && { endpoint }),
      ...(ecsEndpoint && { ecsEndpoint }),
      ...(protocol && { protocol }),
      ...(options.clock && { clock: options.clock }),
    }),
    close: async () => undefined,
  };
}

export interface LocalTargetOptions {
  /** The project directory; LocalCloud's state is in its `.ros-local/`. */
  readonly directory: string;
  /** Who holds the state file while an embedded LocalCloud runs, as others are told. @default 'ros-cdk-image-copy deploy' */
  readonly purpose?: string;
  /** Told once when another process's embedded LocalCloud holds the state file and this waits for it. */
  readonly onWait?: (holder: LockHolder, stateFile: string) => void;
  /** Stops waiting for the state file (`Aborted`). */
  readonly signal?: AbortSignal;
  /**
   * The environment whose `ROS_LOCAL_VARIANTS`, `ROS_LOCAL_ACCOUNTS`, `ROS_LOCAL_FOLDERS` and
   * `ROS_LOCAL_STACK_GROUP_ROLES` an embedded LocalCloud plays. @default process.env
   */
  readonly env?: NodeJS.ProcessEnv;
  readonly clock?: Clock;
}

/**
 * LocalCloud for a project: the one a running `ros-local` serves for its directory, else an embedded one keeping
 * its state in `.ros-local/state.json`, so separate runs see the same cloud (see `connectLocalCloud` of
 * `ros-cdk-image-copy/local`). Throws `LocalCloudUnavailable` when an embedded one cannot start, `Aborted` when
 * `signal` stops the wait for the state file. LocalCloud is loaded only here, when used.
 */
export async function localTarget(options: LocalTargetOptions): Promise<Target> {
  const {
    accountsFromEnvironment,
    connectLocalCloud,
    DEFAULT_LOCAL_DIR,
    resourceDirectoryFromEnvironment,
    stackGroupRolesFromEnvironment,
    STATE_FILE_NAME,
  } = await import('../local/connect');
  const { variantsFromEnvironment } = await import('../local/variants');
  const relative = (file: string) => path.relative(options.directory, file) || file;
  let cloud;
  try {
    cloud = await connectLocalCloud(options.directory, {
      purpose: options.purpose ?? 'ros-cdk-image-copy deploy',
      variants: variantsFromEnvironment(options.env ?? process.env),
      accounts: accountsFromEnvironment(options.env ?? process.env),
      resourceDirectory: resourceDirectoryFromEnvironment(options.env ?? process.env),
      stackGroupRoles: stackGroupRolesFromEnvironment(options.env ?? process.env),
      onWait: options.onWait,
      signal: options.signal,
      clock: options.clock,
    });
  } catch (err) {
    if (options.signal?.aborted) {
      const stateFile = path.join(options.directory, DEFAULT_LOCAL_DIR, STATE_FILE_NAME);
      throw new DeployError('Aborted', `Stopped while waiting for ${relative(stateFile)}.`);
    }
    const message = (err as Error).message;
    throw new DeployError(
      'LocalCloudUnavailable',
      (err as Error).name === 'ServedStateError' ? message : `cannot start LocalCloud: ${message}`,
    );
  }
  const served = cloud.servedBy;
  return {
    local: true,
    embedded: served.kind === 'embedded',
    defaultRegionId: LOCAL_DEFAULT_REGION,
    pollIntervalMs: LOCAL_POLL_INTERVAL_MS,
    description:
      served.kind === 'embedded'
        ? `embedded LocalCloud (state in ${relative(cloud.stateFile)})`
        : `LocalCloud served by ros-local at ${cloud.endpoint} (pid ${served.pid})`,
    connection: (regionId) => ({
      regionId,
      endpoint: cloud.endpoint,
      protocol: 'http',
      credentials: cloud.credentials,
      retry: LOCAL_RETRY,
      ...(options.clock && { clock: options.clock }),
    }),
    close: () => cloud.stop(),
  };
}
