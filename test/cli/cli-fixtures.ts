import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { CliIo } from '../../lib/cli/io';
import { cliPath } from '../cli-paths';
import { appEnv } from './ros-deploy-app';

/** A CliIo that collects what a CLI writes, for running `main` in process. */
export function captureIo(cwd: string, overrides: Partial<CliIo> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = {
    stdout: { write: (s: string) => out.push(s) },
    stderr: { write: (s: string) => err.push(s) },
    env: { ...appEnv(), ALIBABA_CLOUD_ECS_METADATA_DISABLED: 'true' },
    cwd,
    ...overrides,
  };
  return { io, out: () => out.join(''), err: () => err.join(''), errLines: err };
}

/** The environment of a user with no Alibaba Cloud credentials anywhere (and no ECS metadata service). */
export function cleanEnv(home: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('ALIBABA_CLOUD_') && k !== 'CI') {
      env[k] = v;
    }
  }
  return { ...env, HOME: home, ALIBABA_CLOUD_ECS_METADATA_DISABLED: 'true', ...appEnv(), ...extra };
}

export interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a bundled CLI as a user would: a child process with real arguments. */
export function startCli(
  name: 'ros-deploy' | 'ros-local',
  dir: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): { child: ChildProcess; done: Promise<Run>; stdout: () => string } {
  const child = spawn(process.execPath, [cliPath(name), ...args], {
    cwd: dir,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const done = new Promise<Run>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  return { child, done, stdout: () => stdout };
}

/** Polls `probe` until it gives a value (no timing assertion: the test's own timeout bounds it). */
export async function waitFor<T>(probe: () => T | undefined | false): Promise<T> {
  for (;;) {
    const value = probe();
    if (value) {
      return value;
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A fresh temporary directory, removed by `cleanup`. */
export function tempDirs() {
  const made: string[] = [];
  return {
    make(prefix: string): string {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
      made.push(dir);
      return dir;
    },
    cleanup(): void {
      for (const dir of made.splice(0)) {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
