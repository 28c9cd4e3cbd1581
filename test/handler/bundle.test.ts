import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { handlerZipPath } from '../../lib/package-root';
import { readZip } from '../../lib/zip';
import { UNREACHED_PACKAGES } from '../../scripts/bundle-handler';

/** The zip the global setup bundled from the sources, as the provider inlines it. */
describe('the handler bundle', () => {
  const zip = fs.readFileSync(handlerZipPath());
  const entries = readZip(zip);

  it('is one index.js at the root of a zip within the 120 KB budget', () => {
    expect(entries.map((entry) => entry.name)).toEqual(['index.js']);
    expect(zip.length).toBeLessThanOrEqual(120 * 1024);
  });

  it('exports index.handler, taking (event, context) and answering JSON text, and loads without the CDK', async () => {
    const code = entries[0].data.toString('utf8');
    expect(code).not.toMatch(/@alicloud\/ros-cdk|require\("constructs"\)/);
    for (const name of UNREACHED_PACKAGES) {
      expect(code).toContain(`${name} is not bundled into the ImageCopy handler`);
    }
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'handler-bundle-'));
    try {
      fs.writeFileSync(path.join(dir, 'index.js'), entries[0].data);
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const loaded = require(path.join(dir, 'index.js')) as { handler?: unknown };
      expect(typeof loaded.handler).toBe('function');
      expect((loaded.handler as (...args: unknown[]) => unknown).length).toBe(2);
      const summary = await (loaded.handler as (e: unknown, c: unknown) => Promise<unknown>)(
        Buffer.from('[]'),
        {
          logger: { info: () => undefined, error: () => undefined },
        },
      );
      expect(JSON.parse(summary as string)).toEqual({ outcome: 'refused' });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
