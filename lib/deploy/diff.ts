/**
 * What a deploy would change: the app's template compared with the deployed one (GetTemplate), section by section
 * and entry by entry, NoEcho parameter defaults masked, and rendered as text.
 */
import { isDeepStrictEqual } from 'util';
import { connect, ConnectionOptions } from './connection';
import { resolveTemplate, StackSource } from './operations';
import { StackApi } from './stack-api';
import { parseTemplateBody } from './template-body';

export { parseTemplateBody };

/** One difference between the deployed template and the local one. */
export interface TemplateChange {
  /** `Resources`, `Outputs`, `Parameters`, `Conditions`, ... */
  readonly section: string;
  /** The logical id (or key) within the section. */
  readonly id: string;
  readonly kind: 'added' | 'removed' | 'modified';
  /** For resources: the type (the new one when it changes). */
  readonly resourceType?: string;
  /** For a modified entry: the paths that changed (`Properties.RoleName`), with old and new values. */
  readonly details: PropertyChange[];
  readonly constructPath?: string;
}

export interface PropertyChange {
  readonly path: string;
  readonly before?: unknown;
  readonly after?: unknown;
}

export interface DiffResult {
  readonly stackName: string;
  readonly regionId: string;
  /** Whether the stack exists in the region (when not, everything is `added`). */
  readonly exists: boolean;
  readonly stackId?: string;
  readonly changes: TemplateChange[];
  readonly hasChanges: boolean;
}

export type DiffStackOptions = ConnectionOptions & StackSource;

const SECTION_ORDER = ['Parameters', 'Mappings', 'Conditions', 'Rules', 'Resources', 'Outputs'];
const MASK = '******';

/** Compares the local template with the deployed stack's (GetTemplate); a missing stack diffs against nothing. */
export async function diffStack(options: DiffStackOptions): Promise<DiffResult> {
  const local = resolveTemplate(options);
  const api = new StackApi(await connect(options));
  const existing = await api.findByName(options.stackName);
  const deployed = existing ? parseTemplateBody(await api.templateBody(existing.stackId)) : {};
  const changes = diffTemplates(
    deployed,
    local.parsed ?? parseTemplateBody(local.body),
    local.constructPaths,
  );
  return {
    stackName: options.stackName,
    regionId: api.regionId,
    exists: existing !== undefined,
    ...(existing && { stackId: existing.stackId }),
    changes,
    hasChanges: changes.length > 0,
  };
}

/** Section-by-section, entry-by-entry differences between two templates (NoEcho parameter defaults masked). */
export function diffTemplates(
  before: Record<string, unknown>,
  after: unknown,
  constructPaths: Record<string, string> = {},
): TemplateChange[] {
  const next = (after ?? {}) as Record<string, unknown>;
  const sections = [...new Set([...Object.keys(before), ...Object.keys(next)])].sort(
    (a, b) => rank(a) - rank(b) || a.localeCompare(b),
  );
  const changes: TemplateChange[] = [];
  for (const section of sections) {
    const keyed = SECTION_ORDER.includes(section);
    const old = keyed ? (before[section] ?? {}) : before[section];
    const now = keyed ? (next[section] ?? {}) : next[section];
    if (isDeepStrictEqual(old, now)) {
      continue;
    }
    if (!keyed || !isMap(old) || !isMap(now)) {
      changes.push({
        section,
        id: section,
        kind: old === undefined ? 'added' : now === undefined ? 'removed' : 'modified',
        details: old !== undefined && now !== undefined ? [{ path: section, before: old, after: now }] : [],
      });
      continue;
    }
    for (const id of [...new Set([...Object.keys(old), ...Object.keys(now)])].sort()) {
      const a = maskNoEcho(section, old[id]);
      const b = maskNoEcho(section, now[id]);
      if (isDeepStrictEqual(a, b)) {
        continue;
      }
      const resourceType = section === 'Resources' ? ((b ?? a) as { Type?: string })?.Type : undefined;
      const constructPath = section === 'Resources' || section === 'Outputs' ? constructPaths[id] : undefined;
      changes.push({
        section,
        id,
        kind: a === undefined ? 'added' : b === undefined ? 'removed' : 'modified',
        ...(resourceType && { resourceType }),
        ...(constructPath && { constructPath }),
        details: a !== undefined && b !== undefined ? leafChanges(a, b, '') : [],
      });
    }
  }
  return changes;
}

/** Renders changes as text, one `[+]`/`[-]`/`[~]` line per entry and `└─` lines for what changed inside. */
export function formatDiff(result: DiffResult): string {
  const lines = [`Stack ${result.stackName}${result.exists ? '' : ' (not deployed yet)'}`];
  if (!result.hasChanges) {
    return `${lines[0]}\nThere were no differences\n`;
  }
  let section = '';
  for (const change of result.changes) {
    if (change.section !== section) {
      section = change.section;
      lines.push(section);
    }
    const sign = change.kind === 'added' ? '[+]' : change.kind === 'removed' ? '[-]' : '[~]';
    const type = change.resourceType ? `${change.resourceType} ` : '';
    const where = change.constructPath ? ` (${change.constructPath})` : '';
    lines.push(`${sign} ${type}${change.id}${where}`);
    for (const d of change.details) {
      lines.push(`    └─ ${d.path}: ${show(d.before)} → ${show(d.after)}`);
    }
  }
  return lines.join('\n') + '\n';
}

function leafChanges(a: unknown, b: unknown, path: string): PropertyChange[] {
  if (isDeepStrictEqual(a, b)) {
    return [];
  }
  if (isMap(a) && isMap(b)) {
    return [...new Set([...Object.keys(a), ...Object.keys(b)])]
      .sort()
      .flatMap((k) => leafChanges(a[k], b[k], path ? `${path}.${k}` : k));
  }
  return [
    { path: path || '(value)', ...(a !== undefined && { before: a }), ...(b !== undefined && { after: b }) },
  ];
}

function maskNoEcho(section: string, entry: unknown): unknown {
  if (section !== 'Parameters' || !isMap(entry) || !(entry.NoEcho === true || entry.NoEcho === 'true')) {
    return entry;
  }
  return 'Default' in entry ? { ...entry, Default: MASK } : entry;
}

function show(value: unknown): string {
  if (value === undefined) {
    return '(none)';
  }
  const text = JSON.stringify(value);
  return text.length > 100 ? `${text.slice(0, 97)}...` : text;
}

function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function rank(section: string): number {
  const i = SECTION_ORDER.indexOf(section);
  return i === -1 ? -1 : i;
}
