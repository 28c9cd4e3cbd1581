import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { cyclesOf, importGraph, importsOf } from '../scripts/import-cycles';

/** scripts/import-cycles.ts: the import graph of a folder and the cycles in it. */

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'import-cycles-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Writes `files` (name → source) under the temporary folder. */
function write(files: Record<string, string>): void {
  for (const [name, source] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), source);
  }
}

const named = (cycles: string[][]) => cycles.map((cycle) => cycle.map((file) => path.relative(dir, file)));

describe('import-cycles', () => {
  it('reads value, type-only, re-export, require and dynamic imports of relative paths, not packages', () => {
    const source = [
      "import { a } from './a';",
      "import type { B } from '../b';",
      "export { c } from './c';",
      "export type { D } from './d';",
      "import e = require('./e');",
      "const f = require('./f');",
      "const g = import('./g');",
      "import * as fs from 'fs';",
      "import { Ros } from '@alicloud/ros20190910';",
    ].join('\n');
    expect(importsOf(source).sort()).toEqual(['../b', './a', './c', './d', './e', './f', './g']);
  });

  it('finds a cycle of type-only imports, through a folder index too', () => {
    write({
      'graph.ts': "import type { Template } from './template';\nexport const g = 1;",
      'template.ts': "import { g } from './graph';\nexport interface Template { g: typeof g }",
      'ros/index.ts': "export { api } from './api';",
      'ros/api.ts': "import { engine } from '../engine';\nexport const api = engine;",
      'engine.ts': "import { api } from './ros';\nexport const engine = 1;\nexport const x = api;",
    });
    expect(named(cyclesOf(importGraph([dir])))).toEqual([
      ['engine.ts', 'ros/index.ts', 'ros/api.ts'],
      ['graph.ts', 'template.ts'],
    ]);
  });

  it('finds none where imports only go one way, and counts a module that imports itself', () => {
    write({
      'a.ts': "import { b } from './b';\nexport const a = b;",
      'b.ts': "import { c } from './c';\nexport const b = c;",
      'c.ts': 'export const c = 1;',
    });
    expect(cyclesOf(importGraph([dir]))).toEqual([]);
    write({ 'self.ts': "import { s } from './self';\nexport const s = 1;\nexport const t = s;" });
    expect(named(cyclesOf(importGraph([dir])))).toEqual([['self.ts']]);
  });

  it('reports each cycle of a tangle once, every module in at least one', () => {
    write({
      'a.ts': "import './b';\nimport './c';",
      'b.ts': "import './a';",
      'c.ts': "import './a';",
    });
    expect(named(cyclesOf(importGraph([dir])))).toEqual([
      ['a.ts', 'b.ts'],
      ['a.ts', 'c.ts'],
    ]);
  });
});
