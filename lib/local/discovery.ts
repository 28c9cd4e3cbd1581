/**
 * How a running `ros-local` is found: it advertises itself in `<dir>/server.json` (endpoint, pid, state file) while
 * it serves, and a client finds it there, with the credentials its state holds.
 */
import * as fs from 'fs';
import * as path from 'path';
import { readAccounts, type AccountKey } from './accounts';
import type { AccessKey } from './ram';
import { StateStore } from './state';

/** Where `ros-local` and `ros-deploy --local` keep LocalCloud's state by default (relative to the project). */
export const DEFAULT_LOCAL_DIR = '.ros-local';
export const STATE_FILE_NAME = 'state.json';
export const SERVER_FILE_NAME = 'server.json';

/** What a running `ros-local` advertises in `<dir>/server.json`. */
export interface ServerInfo {
  readonly endpoint: string;
  readonly pid: number;
  readonly accountId: string;
  readonly stateFile: string;
  readonly startedAt: string;
}

export function writeServerInfo(dir: string, info: ServerInfo): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  fs.writeFileSync(path.join(dir, SERVER_FILE_NAME), JSON.stringify(info, null, 2) + '\n', { mode: 0o600 });
}

export function removeServerInfo(dir: string, pid: number): void {
  const file = path.join(dir, SERVER_FILE_NAME);
  if (readServerInfo(dir)?.pid === pid) {
    fs.rmSync(file, { force: true });
  }
}

/** The `ros-local` serving `dir`'s state, if one is running (its process is alive). */
export function findRunningServer(dir: string): ServerInfo | undefined {
  const info = readServerInfo(dir);
  if (!info) {
    return undefined;
  }
  try {
    process.kill(info.pid, 0);
    return info;
  } catch {
    return undefined;
  }
}

/** A running `ros-local` and the root credentials of the cloud it serves. */
export interface RunningLocalCloud extends ServerInfo {
  readonly credentials: AccessKey;
  /** Every account of the cloud, the first one first (its credentials are `credentials`). */
  readonly accounts: readonly AccountKey[];
}

/**
 * The LocalCloud a running `ros-local` serves for `dir` (its `server.json`), with the root credentials read from
 * its state file; undefined when none runs. Throws when the state file cannot be read.
 */
export function findRunningLocalCloud(dir: string): RunningLocalCloud | undefined {
  const running = findRunningServer(dir);
  if (!running) {
    return undefined;
  }
  const accounts = readAccounts(new StateStore(running.stateFile));
  return { ...running, credentials: accounts[0].credentials, accounts };
}

function readServerInfo(dir: string): ServerInfo | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, SERVER_FILE_NAME), 'utf8')) as ServerInfo;
  } catch {
    return undefined;
  }
}
