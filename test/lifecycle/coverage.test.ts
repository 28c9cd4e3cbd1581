/**
 * The lifecycle matrix covers every variant: one pass file per pass, and the passes together play every value of
 * every variant LocalCloud offers (a variant added to `lib/local/variants.ts` with more values than there are passes
 * needs a new `pass-<k>.test.ts`).
 */
import * as fs from 'fs';
import * as path from 'path';
import { VARIANT_NAMES, VARIANT_VALUES } from '../../lib/local/variants';
import { PASS_COUNT, passVariants } from './matrix';

describe('the lifecycle matrix', () => {
  it('has a test file for each pass, each running its own pass', () => {
    const files = fs.readdirSync(__dirname).filter((file) => /^pass-\d+\.test\.ts$/.test(file));
    expect(files.sort()).toEqual(
      Array.from({ length: PASS_COUNT }, (_, i) => `pass-${i + 1}.test.ts`).sort(),
    );
    for (let pass = 1; pass <= PASS_COUNT; pass++) {
      const text = fs.readFileSync(path.join(__dirname, `pass-${pass}.test.ts`), 'utf8');
      expect(text).toMatch(new RegExp(`lifecyclePass\\(${pass}, '(embedded|served)'\\)`));
    }
  });

  it('plays every value of every variant in some pass', () => {
    const passes = Array.from({ length: PASS_COUNT }, (_, i) => passVariants(i + 1));
    for (const name of VARIANT_NAMES) {
      expect([...new Set(passes.map((variants) => variants[name]))].sort()).toEqual(
        [...VARIANT_VALUES[name]].sort(),
      );
    }
  });

  it('plays the strictest reading of every variant together in the first pass', () => {
    expect(passVariants(1)).toEqual(
      Object.fromEntries(VARIANT_NAMES.map((name) => [name, VARIANT_VALUES[name][0]])),
    );
  });
});
