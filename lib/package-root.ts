/**
 * Where this package is installed: its root directory (from the sources or from `dist/`), and the bundled handler zip
 * the provider inlines into templates.
 */
import * as fs from 'fs';
import * as path from 'path';

let cached: string | undefined;

/** The directory of this package's package.json, found from here whether running from `lib/` or `dist/lib/`. */
export function packageRoot(): string {
  if (cached) {
    return cached;
  }
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const manifest = path.join(dir, 'package.json');
    if (
      fs.existsSync(manifest) &&
      JSON.parse(fs.readFileSync(manifest, 'utf8')).name === 'ros-cdk-image-copy'
    ) {
      return (cached = dir);
    }
    if (path.dirname(dir) === dir) {
      throw new Error(`Cannot find the ros-cdk-image-copy package above ${__dirname}`);
    }
  }
}

/** The bundled handler zip that `npm run build` writes and the provider inlines. */
export const handlerZipPath = (): string => path.join(packageRoot(), 'dist', 'handler', 'handler.zip');
