import { readZip, writeZip } from '../lib/zip';

describe('zip archives', () => {
  const entries = [
    { name: 'index.js', data: Buffer.from('exports.handler = async () => "ok";\n'.repeat(50)) },
    { name: 'lib/util.js', data: Buffer.from('module.exports = 42;') },
  ];

  it('round-trips entries', () => {
    expect(readZip(writeZip(entries))).toEqual(entries);
  });

  it('writes the same bytes for the same entries, so templates only change when code does', () => {
    expect(writeZip(entries).equals(writeZip(entries))).toBe(true);
  });

  it('compresses', () => {
    expect(writeZip(entries).length).toBeLessThan(entries[0].data.length / 4);
  });

  it('refuses damaged archives with a clear error', () => {
    expect(() => readZip(Buffer.from('not a zip'))).toThrow(
      'Not a valid zip archive: no end of central directory record',
    );
    const zip = writeZip(entries);
    zip[40] ^= 0xff; // inside the first entry's compressed data
    expect(() => readZip(zip)).toThrow(/Not a valid zip archive|invalid/);
  });
});
