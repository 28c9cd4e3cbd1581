import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { missingProfile, type ConnectionOptions } from '../deploy/connection';
import { DeployError } from '../deploy/errors';
import { sleep } from '../deploy/retry';
import { DEFAULT_LOCAL_DIR, findRunningServer, ServerInfo, STATE_FILE_NAME } from '../local/discovery';
import { LocalCloud } from '../local/local-cloud';
import { Ram } from '../local/ram';
import { StateStore } from '../local/state';
import { StateLockedError } from '../local/state-lock';
import { variantsFromEnvironment } from '../local/variants';
import type { Output } from './ros-deploy-progress';
import { ConfigurationError, quote, UsageError } from './usage';

/** Backoff against LocalCloud: its faults are injected, not load, so there is no point in waiting long. */
const LOCAL_RETRY = { baseDelayMs: 100, maxDelayMs: 2000 };

/** LocalCloud's default region when `--local` is given no region. */
export const LOCAL_DEFAULT_REGION = 'cn-hangzhou';

/** Where the stacks go: the real cloud (default credential chain) or a LocalCloud. */
export interface Target {
  /** Connection options for a stack in `regionId`. */
  connection(regionId: string): ConnectionOptions;
  /** A line saying where, for the user (never any key). */
  readonly description: string;
  readonly local: boolean;
  /** A LocalCloud that lives only as long as this process. */
  readonly embedded?: boolean;
  close(): Promise<void>;
}

/** LocalCloud could not be started or reached (e.g. an unreadable state file): a configuration error. */
export class LocalCloudError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LocalCloudError';
  }
}

/** How often a run waiting for the state file looks again. */
const STATE_WAIT_POLL_MS = 200;

/**
 * `--local`: the LocalCloud a running `ros-local` serves for this directory (its `.ros-local/server.json`), else
 * an embedded one keeping its state in `.ros-local/state.json`, so separate runs see the same cloud. One LocalCloud
 * at a time may use the state file: while another run's embedded LocalCloud holds it, this run says so on
 * `progress` and waits for it (Ctrl-C, `signal`, stops waiting); a `ros-local` starting meanwhile is used.
 */
export async function localTarget(
  cwd: string,
  options: { progress?: Output; signal?: AbortSignal } = {},
): Promise<Target> {
  const dir = path.join(cwd, DEFAULT_LOCAL_DIR);
  const stateFile = path.join(dir, STATE_FILE_NAME);
  let told = false;
  for (;;) {
    const running = findRunningServer(dir);
    if (running) return servedTarget(running);
    try {
      return embeddedTarget(
        cwd,
        stateFile,
        await LocalCloud.start({
          stateFile,
          variants: variantsFromEnvironment(),
          lockPurpose: `ros-deploy --local (${path.relative(cwd, stateFile)})`,
        }),
      );
    } catch (err) {
      if (!(err instanceof StateLockedError)) {
        throw new LocalCloudError(`cannot start LocalCloud: ${(err as Error).message}`);
      }
      // A ros-local holding it advertises itself in server.json in a moment: then it is used.
      if (!told && !err.holder.purpose.startsWith('ros-local')) {
        options.progress?.write(
          `ros-deploy: waiting for ${err.holder.purpose} (pid ${err.holder.pid}, since ${err.holder.since}) to ` +
            `finish: one LocalCloud at a time may use ${path.relative(cwd, stateFile)}\n`,
        );
        told = true;
      }
      await sleep(STATE_WAIT_POLL_MS, options.signal).catch(() => {
        throw new DeployError('Aborted', `Stopped while waiting for ${path.relative(cwd, stateFile)}.`);
      });
    }
  }
}

function servedTarget(running: ServerInfo): Target {
  let credentials;
  try {
    credentials = new Ram(new StateStore(running.stateFile)).rootCredentials;
  } catch (err) {
    throw new LocalCloudError(`cannot read the state of the running ros-local: ${(err as Error).message}`);
  }
  return {
    local: true,
    description: `LocalCloud served by ros-local at ${running.endpoint} (pid ${running.pid})`,
    connection: (regionId) => ({
      regionId,
      endpoint: running.endpoint,
      protocol: 'http',
      credentials,
      retry: LOCAL_RETRY,
    }),
    close: async () => undefined,
  };
}

function embeddedTarget(cwd: string, stateFile: string, cloud: LocalCloud): Target {
  return {
    local: true,
    embedded: true,
    description: `embedded LocalCloud (state in ${path.relative(cwd, stateFile)})`,
    connection: (regionId) => ({
      regionId,
      endpoint: cloud.endpoint,
      protocol: 'http',
      credentials: cloud.credentials,
      retry: LOCAL_RETRY,
    }),
    close: () => cloud.stop(),
  };
}

/**
 * The real cloud: credentials from the default chain, or from `--profile`. `ALIBABA_CLOUD_ROS_ENDPOINT` and
 * `ALIBABA_CLOUD_ECS_ENDPOINT` (host[:port]) with `ALIBABA_CLOUD_ENDPOINT_PROTOCOL` (http|https) override the public
 * endpoints, e.g. for a VPC endpoint or a LocalCloud started elsewhere.
 */
export function cloudTarget(profile: string | undefined, env: NodeJS.ProcessEnv): Target {
  const endpoint = env.ALIBABA_CLOUD_ROS_ENDPOINT || undefined;
  const ecsEndpoint = env.ALIBABA_CLOUD_ECS_ENDPOINT || undefined;
  const protocol = env.ALIBABA_CLOUD_ENDPOINT_PROTOCOL;
  if (protocol !== undefined && protocol !== 'http' && protocol !== 'https') {
    throw new ConfigurationError(
      `ALIBABA_CLOUD_ENDPOINT_PROTOCOL ${quote(protocol)} is invalid: expected http or https`,
    );
  }
  if (profile !== undefined) {
    const problem = missingProfile(profile, env.HOME || os.homedir());
    if (problem) throw new ConfigurationError(problem);
  }
  const where = endpoint ? ` at ${endpoint}` : '';
  return {
    local: false,
    description: `Alibaba Cloud${where}${profile ? ` (profile ${profile})` : ''}`,
    connection: (regionId) => ({
      regionId,
      ...(profile && { profile }),
      ...(endpoint && { endpoint }),
      ...(ecsEndpoint && { ecsEndpoint }),
      ...(protocol && { protocol }),
    }),
    close: async () => undefined,
  };
}

/**
 * Region of each stack: `--region STACK:REGION`, else the region the app pinned the stack to (its `env.region`),
 * else `--region REGION`, else `ALIBABA_CLOUD_REGION_ID`, else the aliyun CLI profile's `region_id`, else (with
 * `--local`) cn-hangzhou. A `--region STACK:REGION` that contradicts the app's pinned region is refused: the template
 * was made for that region.
 */
export function regionResolver(
  flags: string[],
  env: NodeJS.ProcessEnv,
  profile: string | undefined,
  local: boolean,
): (stackName: string, pinned?: string) => string {
  const perStack = new Map<string, string>();
  let general: string | undefined;
  for (const flag of flags) {
    const colon = flag.indexOf(':');
    if (colon > 0) perStack.set(flag.slice(0, colon), checkRegion(flag.slice(colon + 1), flag));
    else general = checkRegion(flag, flag);
  }
  const fallback =
    general ??
    env.ALIBABA_CLOUD_REGION_ID ??
    profileRegion(env, profile) ??
    (local ? LOCAL_DEFAULT_REGION : undefined);
  return (stackName, pinned) => {
    const explicit = perStack.get(stackName);
    if (explicit && pinned && explicit !== pinned) {
      throw new ConfigurationError(
        `--region ${stackName}:${explicit} contradicts the app, which pins ${stackName} to ${pinned} (its env.region) ` +
          `and made its template for that region: drop the flag, or change the stack's env in the app`,
      );
    }
    const region = explicit ?? pinned ?? fallback;
    if (!region) {
      throw new ConfigurationError(
        `no region for stack ${stackName}: pass --region REGION (or --region ${stackName}:REGION), ` +
          'or set ALIBABA_CLOUD_REGION_ID, or a region_id in your aliyun CLI profile',
      );
    }
    return region;
  };
}

function checkRegion(region: string, flag: string): string {
  if (!/^[a-z]{2,}(-[a-z0-9]+)+$/.test(region)) {
    throw new UsageError(
      `--region ${quote(flag)} is invalid: expected a region id such as cn-hangzhou, or STACK:REGION`,
    );
  }
  return region;
}

function profileRegion(env: NodeJS.ProcessEnv, profile: string | undefined): string | undefined {
  try {
    const home = env.HOME ?? os.homedir();
    const config = JSON.parse(fs.readFileSync(path.join(home, '.aliyun', 'config.json'), 'utf8')) as {
      current?: string;
      profiles?: { name?: string; region_id?: string }[];
    };
    const name = profile ?? env.ALIBABA_CLOUD_PROFILE ?? config.current;
    const region = config.profiles?.find((p) => p.name === name)?.region_id;
    return region || undefined;
  } catch {
    return undefined;
  }
}
