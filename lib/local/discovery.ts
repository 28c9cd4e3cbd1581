/**
 * How a running `ros-local` is found: it advertises its endpoint, pid, account and state file in
 * `<dir>/server.json`, which `ros-deploy --local` reads (and `ros-local status`), ignoring a file whose process is
 * gone.
 */
import * as fs from 'fs';
import * as path from 'path';

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

function readServerInfo(dir: string): ServerInfo | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, SERVER_FILE_NAME), 'utf8')) as ServerInfo;
  } catch {
    return undefined;
  }
}
