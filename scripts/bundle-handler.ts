import { buildSync } from 'esbuild';
import * as fs from 'fs';
import * as path from 'path';
import { handlerZipPath, packageRoot } from '../lib/package-root';
import { writeZip } from '../lib/zip';

/** Where the build puts the handler: `index.js` (readable) and `handler.zip` (what the construct inlines). */
export const HANDLER_DIST = path.dirname(handlerZipPath());

/**
 * Bundles `lib/handler/index.ts` with esbuild (Node.js 20, CommonJS, minified) into one `index.js` and zips it
 * with `index.js` at the root, as Function Compute expects for the handler `index.handler`.
 */
export function bundleHandler(outDir: string = HANDLER_DIST): { zipFile: string; zipBytes: number; jsBytes: number } {
  const result = buildSync({
    entryPoints: [path.join(packageRoot(), 'lib', 'handler', 'index.ts')],
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    minify: true,
    legalComments: 'none',
    write: false,
    logLevel: 'silent',
  });
  const code = Buffer.from(result.outputFiles[0].contents);
  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(path.join(outDir, 'index.js'), code);
  const zip = writeZip([{ name: 'index.js', data: code }]);
  const zipFile = path.join(outDir, path.basename(handlerZipPath()));
  fs.writeFileSync(zipFile, zip);
  return { zipFile, zipBytes: zip.length, jsBytes: code.length };
}

if (require.main === module) {
  const { zipFile, zipBytes, jsBytes } = bundleHandler();
  console.log(`handler bundled: ${path.relative(process.cwd(), zipFile)} (${zipBytes} bytes zipped, ${jsBytes} bytes of code)`);
}
