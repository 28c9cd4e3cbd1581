/**
 * What a deploy would change: the app's template compared with the deployed one (GetTemplate), section by section
 * and entry by entry, NoEcho parameter defaults masked, and rendered as text.
 */
import { isDeepStrictEqual } from 'util';
import { connect, ConnectionOptions } from './connection';
import { resolveTemplate, StackSource } from './operations';
import { reviewResource, type Replacement, type ResourceAction, type SecurityChange } from './review';
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
  /** For resources: added, modified in place, replaced or removed (see `review.ts`). */
  readonly action?: ResourceAction;
  /** For a replaced resource: what forces it. */
  readonly replacement?: Replacement;
  /** For a RAM resource: security-relevant, with what it grants or trusts more or less. */
  readonly security?: SecurityChange;
  /** Whether the resource is an ImageCopy. */
  readonly imageCopy?: boolean;
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
  /** How many resources are added, modified in place, replaced and removed; how many RAM changes, broadening or not. */
  readonly summary: DiffSummary;
}

export interface DiffSummary extends Record<ResourceAction, number> {
  readonly securityRelevant: number;
  readonly broadening: boolean;
}

export type DiffStackOptions = ConnectionOptions & StackSource;

const SECTION_ORDER = ['Parameters', 'Mappings', 'Conditions', 'Rules', 'Resources', 'Outputs'];
const MASK = '******';

/** Compares the local template with the deployed stack's (GetTemplate); a missing stack diffs against nothing. */
export async function diffStack(options: DiffStackOptions): Promise<DiffResult> {
  const local = resolveTemplate(options);
  const api = new StackApi(await connect(options));
  const found = await api.findByName(options.stackName);
  // A stack a CREATE change set made for review has no resources yet: nothing is deployed.
  const existing = found?.status === 'REVIEW_IN_PROGRESS' ? undefined : found;
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
    summary: summarize(changes),
  };
}

/** The counts of a diff (see {@link DiffSummary}). */
export function summarize(changes: readonly TemplateChange[]): DiffSummary {
  const security = changes.filter((c) => c.security);
  return {
    ...countActions(changes),
    securityRelevant: security.length,
    broadening: security.some((c) => c.security?.broadening),
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
      const review =
        section === 'Resources'
          ? reviewResource(a as Record<string, unknown> | undefined, b as Record<string, unknown> | undefined)
          : undefined;
      changes.push({
        section,
        id,
        kind: a === undefined ? 'added' : b === undefined ? 'removed' : 'modified',
        ...(resourceType && { resourceType }),
        ...(constructPath && { constructPath }),
        details: a !== undefined && b !== undefined ? leafChanges(a, b, '') : [],
        ...review,
      });
    }
  }
  return changes;
}

const SIGNS: Record<ResourceAction, string> = { add: '[+]', modify: '[~]', replace: '[-/+]', remove: '[-]' };

/**
 * Renders changes as text: one line per entry (`[+]` added, `[~]` modified in place, `[-/+]` replaced, with why,
 * `[-]` removed), `└─` lines for what changed inside, `[security]` lines for what a RAM change grants or trusts more
 * or less, and a count of the resource changes.
 */
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
    const sign = change.action
      ? SIGNS[change.action]
      : change.kind === 'added'
        ? '[+]'
        : change.kind === 'removed'
          ? '[-]'
          : '[~]';
    const type = change.resourceType ? `${change.resourceType} ` : '';
    const where = change.constructPath ? ` (${change.constructPath})` : '';
    const replaced = change.replacement ? ` replaced: ${change.replacement.reason}` : '';
    lines.push(`${sign} ${type}${change.id}${where}${replaced}`);
    for (const d of change.details) {
      lines.push(`    └─ ${d.path}: ${show(d.before)} → ${show(d.after)}`);
    }
    if (change.security) {
      const { added, removed, broadening } = change.security;
      const effect = broadening
        ? 'broadens permissions'
        : removed.length > 0
          ? 'narrows permissions'
          : 'RAM change';
      lines.push(`    [security] ${effect}`);
      lines.push(...added.map((line) => `    [security] + ${line}`));
      lines.push(...removed.map((line) => `    [security] - ${line}`));
    }
  }
  const counts = summarize(result.changes);
  lines.push(
    `${counts.add} to add, ${counts.modify} to modify in place, ${counts.replace} to replace, ${counts.remove} to ` +
      `remove; ${counts.securityRelevant} security-relevant` +
      (counts.broadening ? ' (broadening permissions)' : ''),
  );
  return lines.join('\n') + '\n';
}

/** How many resources each action touches. */
function countActions(changes: readonly TemplateChange[]): Record<ResourceAction, number> {
  const counts: Record<ResourceAction, number> = { add: 0, modify: 0, replace: 0, remove: 0 };
  for (const change of changes) {
    if (change.action) {
      counts[change.action]++;
    }
  }
  return counts;
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
