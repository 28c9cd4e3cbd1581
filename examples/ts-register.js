'use strict';
/**
 * Lets `node` run the TypeScript examples without a build step or a global install: `.ts` files are transpiled
 * on require with esbuild (already a dev dependency of this repository), types are not checked (`npm run
 * typecheck` does that). In your own app, use the TypeScript runner you prefer (`ts-node`, `tsx`) instead.
 *
 *   node --require ./examples/ts-register.js examples/single-copy/app.ts
 */
const fs = require('fs');
const { transformSync } = require('esbuild');

require.extensions['.ts'] = function compileTypeScript(module, filename) {
  const { code } = transformSync(fs.readFileSync(filename, 'utf8'), {
    loader: 'ts',
    format: 'cjs',
    target: 'node20',
    sourcefile: filename,
    sourcemap: 'inline',
  });
  module._compile(code, filename);
};
