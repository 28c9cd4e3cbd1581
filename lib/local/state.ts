/**
 * LocalCloud's state: one JSON document of named sections, one per service, in memory and, with a state file,
 * written on every change and read on start. The first account's sections are at the top; each further account's
 * are under `accounts.<index>`.
 */
import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { ACCOUNTS_SECTION, pruneState, StateFileError, validateState } from './state-schema';

/** The state file holds the root access key and every role's secret: its owner alone may read it. */
const FILE_MODE = 0o600;
const DIRECTORY_MODE = 0o700;

/**
 * LocalCloud's state: named JSON sections (one per service), kept in memory and, with a file, written on every
 * change and read on start, so separate processes (one at a time: see `StateLock`) see the same cloud.
 *
 * A file is checked when it is read (`StateFileError`, naming the field, and the file left as it is), pruned of what
 * ROS would have forgotten (see `pruneState`), and written with mode 0600 in a directory created 0700; an existing
 * file readable by others is made 0600.
 */
export class StateStore {
  private readonly sections: Record<string, unknown>;
  private closed = false;
  /** For an account's store: the store of the whole state, which it lives in and persists through. */
  private readonly root?: StateStore;

  constructor(
    readonly file?: string,
    scope?: { readonly root: StateStore; readonly sections: Record<string, unknown> },
  ) {
    this.sections = scope ? scope.sections : file && fs.existsSync(file) ? StateStore.read(file) : {};
    this.root = scope?.root;
  }

  /**
   * The state of the account at `index` (1 for the second account; the first account's sections are this store's
   * own, as in a state file of one account): named sections like this store's, kept in its `accounts` section and
   * written with it.
   */
  account(index: number): StateStore {
    if (this.root) {
      return this.root.account(index);
    }
    if (index === 0) {
      return this;
    }
    const accounts = this.section<Record<string, Record<string, unknown>>>(ACCOUNTS_SECTION, () => ({}));
    const sections = (accounts[String(index)] ??= {});
    return new StateStore(this.file, { root: this, sections });
  }

  /** How many accounts the state holds (at least one). */
  accountCount(): number {
    const accounts = this.root ? undefined : (this.sections[ACCOUNTS_SECTION] as object | undefined);
    return 1 + Object.keys(accounts ?? {}).length;
  }

  /** The live section `name`, created by `init` when the state has none. Mutate it, then call `changed()`. */
  section<T extends object>(name: string, init: () => T): T {
    if (!(name in this.sections)) {
      this.sections[name] = init();
    }
    return this.sections[name] as T;
  }

  /**
   * Persists the state (when backed by a file): written to a temporary file of mode 0600, then renamed over the old
   * one, so a reader never sees half a file and the secrets are never readable by others.
   */
  changed(): void {
    if (this.root) {
      this.root.changed();
      return;
    }
    if (!this.file || this.closed) {
      return;
    }
    fs.mkdirSync(path.dirname(this.file), { recursive: true, mode: DIRECTORY_MODE });
    const tmp = `${this.file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      fs.writeFileSync(tmp, JSON.stringify(this.sections), { mode: FILE_MODE, flag: 'wx' });
      fs.renameSync(tmp, this.file);
    } catch (err) {
      fs.rmSync(tmp, { force: true });
      throw err;
    }
  }

  /**
   * Stops writing: what changes after this stays in memory. A LocalCloud that stopped lets go of its state file,
   * which another process may then hold: a late write (an operation still winding down) must not overwrite its.
   */
  close(): void {
    if (this.root) {
      this.root.close();
      return;
    }
    this.closed = true;
  }

  private static read(file: string): Record<string, unknown> {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (err) {
      throw new StateFileError(file, `it cannot be read (${(err as NodeJS.ErrnoException).code ?? err})`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text) as unknown;
    } catch (err) {
      throw new StateFileError(file, `it is not JSON (${(err as Error).message})`);
    }
    const sections = validateState(file, parsed);
    pruneState(sections);
    restrictMode(file);
    return sections;
  }
}

/** Makes a state file written by an older version (mode 0644) readable by its owner alone. */
function restrictMode(file: string): void {
  try {
    if ((fs.statSync(file).mode & 0o077) !== 0) {
      fs.chmodSync(file, FILE_MODE);
    }
  } catch {
    // Not ours to change (another user's file): reading it is all that is asked here.
  }
}
