/** Builds the handler bundles the benchmarks use, into a temporary directory (never into dist/, which others rebuild). */
import { buildSync } from 'esbuild';
import * as fs from 'fs';
import * as path from 'path';
import { bundleHandler, HANDLER_BUILD_OPTIONS } from '../scripts/bundle-handler';
import { packageRoot } from '../lib/package-root';
import { writeZip } from '../lib/zip';

export interface HandlerBundle {
  /** The directory holding `index.js` (what FC runs) and `handler.zip`. */
  readonly dir: string;
  readonly jsFile: string;
  readonly zipFile: string;
  readonly zipBytes: number;
  readonly jsBytes: number;
}

/** Our handler, built exactly as `npm run build` builds it (scripts/bundle-handler.ts). */
export function buildOurHandler(root: string): HandlerBundle {
  const dir = path.join(root, 'ours');
  const { zipFile, zipBytes, jsBytes } = bundleHandler(dir);
  return { dir, jsFile: path.join(dir, 'index.js'), zipFile, zipBytes, jsBytes };
}

/**
 * The baseline: the handler with the full ECS SDK client (bench/full-sdk-handler.ts), bundled the way an author
 * without a size budget would — esbuild, Node 20, CommonJS, minified, every dependency included as it is.
 */
export function buildFullSdkHandler(root: string): HandlerBundle {
  const dir = path.join(root, 'full-sdk');
  fs.mkdirSync(dir, { recursive: true });
  const result = buildSync({
    // The same settings as ours, without the stubs of what JSON RPC calls never reach.
    ...HANDLER_BUILD_OPTIONS,
    entryPoints: [path.join(packageRoot(), 'bench', 'full-sdk-handler.ts')],
  });
  const code = Buffer.from(result.outputFiles[0].contents);
  const jsFile = path.join(dir, 'index.js');
  fs.writeFileSync(jsFile, code);
  const zip = writeZip([{ name: 'index.js', data: code }]);
  const zipFile = path.join(dir, 'handler.zip');
  fs.writeFileSync(zipFile, zip);
  return { dir, jsFile, zipFile, zipBytes: zip.length, jsBytes: code.length };
}
