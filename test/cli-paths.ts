import * as path from 'path';
import { packageRoot } from '../lib/package-root';

/** The CLIs bundled from source by the global setup, to run as a user would (a child process). */
export const cliPath = (name: 'ros-local' | 'ros-deploy'): string =>
  path.join(packageRoot(), 'node_modules', '.cache', 'ros-cdk-image-copy', 'cli', `${name}.js`);
