/**
 * One LocalCloud per state file at a time. A LocalCloud keeps its state in memory and writes all of it on every
 * change, so two processes on one file would each overwrite the other's writes (two deploys at once each "succeed"
 * and the file ends with one of them). The first to start holds `<state file>.lock`; another is refused with the
 * holder named (`ros-deploy --local` waits for it, `ros-local` says so and exits).
 *
 * The lock file is created whole and atomically (written aside, then hard-linked into place, which fails when it
 * exists). A lock whose process is gone (killed with SIGKILL, say) is stale and taken over: its pid no longer runs,
 * or, on Linux, runs a process started at another time (a reused pid). Taking over is guarded by a second,
 * short-lived file, so that two processes never both remove a stale lock and both take it.
 */
import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

/** Who holds a state file, as its lock file says. */
export interface LockHolder {
  readonly pid: number;
  readonly hostname: string;
  /** What holds it, for messages: `ros-local`, `ros-deploy --local`, `LocalCloud`. */
  readonly purpose: string;
  /** ISO 8601. */
  readonly since: string;
  /** Linux: the process's start time (/proc/<pid>/stat), which tells a reused pid from the holder. */
  readonly processStart?: string;
  /** Unique to one acquisition. */
  readonly token: string;
}

/** The state file is held by another live LocalCloud. */
export class StateLockedError extends Error {
  constructor(
    readonly stateFile: string,
    readonly holder: LockHolder,
  ) {
    const where = holder.hostname === os.hostname() ? '' : ` on ${holder.hostname}`;
    super(
      `the state file ${stateFile} is in use by ${holder.purpose} (pid ${holder.pid}${where}, since ${holder.since}): ` +
        'one LocalCloud at a time may use a state file',
    );
    this.name = 'StateLockedError';
  }
}

/** Locks held by this process, released if it exits without releasing them. */
const held = new Set<StateLock>();
let exitHookInstalled = false;

export class StateLock {
  /** The lock file of a state file. */
  static fileOf(stateFile: string): string {
    return `${stateFile}.lock`;
  }

  /**
   * Takes the state file for this process, or throws {@link StateLockedError} naming the live holder. A stale lock
   * (its process is gone) is taken over.
   */
  static acquire(stateFile: string, purpose: string): StateLock {
    const file = StateLock.fileOf(stateFile);
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    const mine: LockHolder = {
      pid: process.pid,
      hostname: os.hostname(),
      purpose,
      since: new Date().toISOString(),
      ...(processStart(process.pid) && { processStart: processStart(process.pid) }),
      token: randomBytes(8).toString('hex'),
    };
    for (let attempt = 0; ; attempt++) {
      if (createExclusively(file, JSON.stringify(mine))) {
        const lock = new StateLock(file, mine.token);
        held.add(lock);
        installExitHook();
        return lock;
      }
      const holder = readHolder(file);
      if (holder && isAlive(holder)) {
        throw new StateLockedError(stateFile, holder);
      }
      // Stale (or unreadable): remove it if it is still that one, and retry.
      if (!removeIfStill(file, holder)) {
        pause(10);
      }
      if (attempt >= 20) {
        throw new StateLockedError(stateFile, holder ?? { ...mine, purpose: 'another process', pid: 0 });
      }
    }
  }

  /** The live holder of a state file, if any. */
  static holder(stateFile: string): LockHolder | undefined {
    const holder = readHolder(StateLock.fileOf(stateFile));
    return holder && isAlive(holder) ? holder : undefined;
  }

  private released = false;

  private constructor(
    readonly file: string,
    /** The acquisition's token, as in the lock file. */
    readonly token: string,
  ) {}

  /** Lets the state file go (only if the lock file is still this one). Idempotent. */
  release(): void {
    if (this.released) {
      return;
    }
    this.released = true;
    held.delete(this);
    if (readHolder(this.file)?.token === this.token) {
      fs.rmSync(this.file, { force: true });
    }
  }
}

function installExitHook(): void {
  if (exitHookInstalled) {
    return;
  }
  exitHookInstalled = true;
  process.on('exit', () => held.forEach((lock) => lock.release()));
}

/** Creates `file` with `content`, whole, unless it exists: written aside, then hard-linked into place. */
function createExclusively(file: string, content: string): boolean {
  const aside = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  fs.writeFileSync(aside, content, { mode: 0o600 });
  try {
    fs.linkSync(aside, file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      return false;
    }
    throw err;
  } finally {
    fs.rmSync(aside, { force: true });
  }
}

function readHolder(file: string): LockHolder | undefined {
  try {
    const holder = JSON.parse(fs.readFileSync(file, 'utf8')) as LockHolder;
    return typeof holder.pid === 'number' && typeof holder.token === 'string' ? holder : undefined;
  } catch {
    return undefined;
  }
}

/** Whether the holder's process still runs (one on another host is taken to: it cannot be checked from here). */
function isAlive(holder: LockHolder): boolean {
  if (holder.hostname !== os.hostname()) {
    return true;
  }
  if (holder.pid === process.pid) {
    return [...held].some((lock) => lock.token === holder.token);
  }
  try {
    process.kill(holder.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') {
      return false;
    }
  }
  const started = processStart(holder.pid);
  return holder.processStart === undefined || started === undefined || started === holder.processStart;
}

/** Linux: field 22 of /proc/<pid>/stat (start time after boot); undefined elsewhere or when unreadable. */
function processStart(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces and parentheses) start with field 3.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/**
 * Removes a stale lock file if it is still the one read (`stale`, or an unreadable one), under a short-lived guard
 * file so that two processes never remove one another's fresh lock. A guard left by a killed process is removed
 * after a few seconds.
 */
function removeIfStill(file: string, stale: LockHolder | undefined): boolean {
  const guard = `${file}.takeover`;
  if (!createExclusively(guard, String(process.pid))) {
    try {
      if (Date.now() - fs.statSync(guard).mtimeMs > 5000) {
        fs.rmSync(guard, { force: true });
      }
    } catch {
      // gone meanwhile
    }
    return false;
  }
  try {
    const current = readHolder(file);
    const unchanged = stale ? current?.token === stale.token : current === undefined;
    if (unchanged) {
      fs.rmSync(file, { force: true });
    }
    return true;
  } finally {
    fs.rmSync(guard, { force: true });
  }
}

/** Waits `ms` without returning to the event loop (acquiring is synchronous, and this wait rare and short). */
function pause(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
