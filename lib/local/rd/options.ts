/** The Resource Directory's folders as `ros-local start --folder` and `ROS_LOCAL_FOLDERS` give them. */
import type { ResourceDirectoryOptions } from './directory';

/**
 * `NAME=1,2,3` assignments (account indexes, 0 the management account; `NAME=` for an empty folder) as the
 * `resourceDirectory` option; throws an `Error` naming an assignment that is not one, or a folder given twice.
 */
export function parseFolderAssignments(assignments: readonly string[]): ResourceDirectoryOptions {
  const folders: Record<string, number[]> = {};
  for (const assignment of assignments.map((a) => a.trim()).filter((a) => a !== '')) {
    const match = /^([^=\s]+)=([\d,\s]*)$/.exec(assignment);
    if (!match) {
      throw new Error(
        `folder "${assignment}" is invalid: expected NAME=INDEX,INDEX,... (account indexes, 0 the management ` +
          `account), e.g. prod=1,2`,
      );
    }
    const [, name, list] = match;
    if (name in folders) {
      throw new Error(`folder ${name} is given twice`);
    }
    folders[name] = list
      .split(',')
      .map((index) => index.trim())
      .filter((index) => index !== '')
      .map(Number);
  }
  return { folders };
}
