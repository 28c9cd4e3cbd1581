/**
 * Which changes of a deploy need a person's approval before they are made (`--require-approval` of ros-deploy):
 * none (`never`); those that broaden permissions (a RAM resource that grants, trusts or attaches more) or replace or
 * delete an image copy (`broadening`); or every change (`any-change`).
 */
import type { DiffResult } from './diff';

export type ApprovalLevel = 'never' | 'broadening' | 'any-change';

export const APPROVAL_LEVELS: readonly ApprovalLevel[] = ['never', 'broadening', 'any-change'];

/** One change that needs approval, and why. */
export interface ApprovalItem {
  readonly stackName: string;
  /** The logical id (or key) of the entry changed. */
  readonly id: string;
  readonly constructPath?: string;
  readonly why: string;
}

/** The most lines of a security change an item lists. */
const SHOWN = 5;

/** The changes of `diffs` that need approval at `level`. */
export function changesNeedingApproval(diffs: readonly DiffResult[], level: ApprovalLevel): ApprovalItem[] {
  if (level === 'never') {
    return [];
  }
  const items: ApprovalItem[] = [];
  for (const diff of diffs) {
    for (const change of diff.changes) {
      const item = (why: string) =>
        items.push({
          stackName: diff.stackName,
          id: change.id,
          ...(change.constructPath && { constructPath: change.constructPath }),
          why,
        });
      const reasons: string[] = [];
      if (change.security?.broadening) {
        const added = change.security.added;
        const more = added.length > SHOWN ? `, and ${added.length - SHOWN} more` : '';
        reasons.push(`broadens permissions: ${added.slice(0, SHOWN).join('; ')}${more}`);
      }
      if (change.imageCopy && change.action === 'replace') {
        reasons.push(`replaces the image copy (${change.replacement?.reason})`);
      }
      if (change.imageCopy && change.action === 'remove') {
        reasons.push('deletes the image copy');
      }
      if (reasons.length > 0) {
        item(reasons.join('; '));
      } else if (level === 'any-change') {
        item(describe(change.action ?? change.kind, change.resourceType ?? singular(change.section)));
      }
    }
  }
  return items;
}

function describe(action: string, what: string): string {
  const verbs: Record<string, string> = {
    add: 'adds',
    added: 'adds',
    modify: 'modifies',
    modified: 'modifies',
    replace: 'replaces',
    remove: 'removes',
    removed: 'removes',
  };
  return `${verbs[action] ?? action} ${what}`;
}

/** `Parameters` → `parameter`, for a line about one entry of a template section. */
function singular(section: string): string {
  const known: Record<string, string> = {
    Parameters: 'parameter',
    Outputs: 'output',
    Conditions: 'condition',
    Mappings: 'mapping',
    Rules: 'rule',
  };
  return known[section] ?? section;
}
