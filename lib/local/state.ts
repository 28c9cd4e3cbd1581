import * as fs from 'fs';
import * as path from 'path';

/**
 * LocalCloud's state: named JSON sections (one per service), kept in memory and, with a file, written on every
 * change and read on start, so separate processes (one at a time) see the same cloud.
 */
export class StateStore {
  private readonly sections: Record<string, unknown>;

  constructor(readonly file?: string) {
    this.sections = file && fs.existsSync(file) ? StateStore.read(file) : {};
  }

  /** The live section `name`, created by `init` when the state has none. Mutate it, then call `changed()`. */
  section<T extends object>(name: string, init: () => T): T {
    if (!(name in this.sections)) this.sections[name] = init();
    return this.sections[name] as T;
  }

  /** Persists the state (when backed by a file): written to a temporary file, then renamed over the old one. */
  changed(): void {
    if (!this.file) return;
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(this.sections));
    fs.renameSync(tmp, this.file);
  }

  private static read(file: string): Record<string, unknown> {
    const text = fs.readFileSync(file, 'utf8');
    try {
      const parsed = JSON.parse(text) as unknown;
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed))
        return parsed as Record<string, unknown>;
    } catch {
      // fall through to the error below
    }
    throw new Error(
      `LocalCloud state file ${file} is not a JSON object; delete it to start from a fresh cloud.`,
    );
  }
}
