import { buildSync, type BuildOptions } from 'esbuild';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { handlerZipPath, packageRoot } from '../lib/package-root';
import { writeZip } from '../lib/zip';

/** Where the build puts the handler: `index.js` (readable) and `handler.zip` (what the construct inlines). */
export const HANDLER_DIST = path.dirname(handlerZipPath());

/** How the handler is bundled: one minified CommonJS file for Node.js 20, kept in memory. */
export const HANDLER_BUILD_OPTIONS = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  minify: true,
  legalComments: 'none',
  write: false,
  logLevel: 'silent',
} as const satisfies BuildOptions;

/**
 * Packages the SDK core requires at load time but the handler never reaches: `@darabonba/typescript` pulls in
 * moment (`$dara.Date`), lodash (`$dara.merge`), xml2js (`$dara.XML`, XML bodies) and ws with the proxy agents
 * (websocket APIs). The handler makes JSON RPC/ROA calls only, so each is replaced by a stub that throws if it is
 * ever used — which keeps the zip within its budget (a third of the size) without forking the SDK.
 */
export const UNREACHED_PACKAGES = [
  'lodash',
  'moment',
  'xml2js',
  'ws',
  'https-proxy-agent',
  'http-proxy-agent',
  'socks-proxy-agent',
] as const;

/** Throws on any use (call, `new`, property read) while letting `require` and the interop helpers succeed. */
const stubSource = (name: string): string => `
const fail = () => { throw new Error(${JSON.stringify(`${name} is not bundled into the ImageCopy handler`)}); };
const stub = new Proxy(function unbundled() {}, {
  get(target, property) {
    if (property === '__esModule') return false;
    if (property === 'default') return stub;
    if (typeof property === 'symbol' || property in target) return target[property];
    return fail;
  },
  apply: fail,
  construct: fail,
});
module.exports = stub;
`;

/** Writes a file atomically (temp file + rename), so a concurrent reader never sees half of it. */
function writeAtomically(file: string, data: Buffer): void {
  const temporary = `${file}.${process.pid}.${Date.now()}.tmp`;
  fs.writeFileSync(temporary, data);
  fs.renameSync(temporary, file);
}

/** Bundles the handler source into one minified CommonJS file for Node.js 20. */
export function bundleHandlerCode(): Buffer {
  // esbuild's synchronous API takes no plugins: the stubs are files, substituted with `alias`.
  const stubDir = fs.mkdtempSync(path.join(os.tmpdir(), 'image-copy-handler-stubs-'));
  try {
    const alias: Record<string, string> = {};
    for (const name of UNREACHED_PACKAGES) {
      const file = path.join(stubDir, `${name}.js`);
      fs.writeFileSync(file, stubSource(name));
      alias[name] = file;
    }
    const result = buildSync({
      ...HANDLER_BUILD_OPTIONS,
      entryPoints: [path.join(packageRoot(), 'lib', 'handler', 'index.ts')],
      alias,
    });
    return Buffer.from(result.outputFiles[0].contents);
  } finally {
    fs.rmSync(stubDir, { recursive: true, force: true });
  }
}

/**
 * Bundles `lib/handler/index.ts` with esbuild (Node.js 20, CommonJS, minified) into one `index.js` and zips it
 * with `index.js` at the root, as Function Compute expects for the handler `index.handler`.
 */
export function bundleHandler(outDir: string = HANDLER_DIST): {
  zipFile: string;
  zipBytes: number;
  jsBytes: number;
} {
  const code = bundleHandlerCode();
  fs.mkdirSync(outDir, { recursive: true });
  writeAtomically(path.join(outDir, 'index.js'), code);
  const zip = writeZip([{ name: 'index.js', data: code }]);
  const zipFile = path.join(outDir, path.basename(handlerZipPath()));
  writeAtomically(zipFile, zip);
  return { zipFile, zipBytes: zip.length, jsBytes: code.length };
}

if (require.main === module) {
  const { zipFile, zipBytes, jsBytes } = bundleHandler();
  console.log(
    `handler bundled: ${path.relative(process.cwd(), zipFile)} (${zipBytes} bytes zipped, ${jsBytes} bytes of code)`,
  );
}
