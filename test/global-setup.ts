import * as fs from 'fs';
import * as path from 'path';
import { cliPath } from './cli-paths';
import { bundleCliForTests } from '../scripts/bundle-cli';
import { bundleHandler } from '../scripts/bundle-handler';

/**
 * Builds what tests run as separate processes from the current sources: the handler zip and the CLIs, so
 * `npm test` needs no prior build. A handler that does not bundle stops the run. A CLI that does not bundle is
 * reported and its stale bundle removed, so the CLI tests fail saying so while every other test still runs.
 */
export default function globalSetup(): void {
  bundleHandler();
  try {
    bundleCliForTests();
  } catch (error) {
    for (const name of ['ros-local', 'ros-deploy'] as const) {
      fs.rmSync(cliPath(name), { force: true });
    }
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(
      `\nglobal setup: the CLIs could not be bundled (their tests will fail): ${message}\n` +
        `  (looked in ${path.dirname(cliPath('ros-local'))})\n`,
    );
  }
}
