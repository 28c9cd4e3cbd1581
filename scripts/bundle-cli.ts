import { buildSync } from 'esbuild';
import * as fs from 'fs';
import * as path from 'path';
import { packageRoot } from '../lib/package-root';

/**
 * Bundles the CLI entry points from source for tests that run them as child processes, so `npm test` needs no
 * prior build. Packages stay external: the output lives under the project's node_modules/.cache and resolves them
 * from there.
 */
export function bundleCliForTests(): Record<'ros-local' | 'ros-deploy', string> {
  const root = packageRoot();
  const outDir = path.join(root, 'node_modules', '.cache', 'ros-cdk-image-copy', 'cli');
  fs.mkdirSync(outDir, { recursive: true });
  const entries = {
    'ros-local': 'lib/cli/ros-local-main.ts',
    'ros-deploy': 'lib/cli/ros-deploy-main.ts',
  } as const;
  const outputs = {} as Record<keyof typeof entries, string>;
  for (const [name, entry] of Object.entries(entries) as [keyof typeof entries, string][]) {
    const source = path.join(root, entry);
    const outfile = path.join(outDir, `${name}.js`);
    outputs[name] = outfile;
    buildSync({
      entryPoints: [source],
      outfile,
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      packages: 'external',
      sourcemap: 'inline',
      logLevel: 'silent',
    });
  }
  return outputs;
}
