/**
 * A minimal zip writer (deflated entries, deterministic) and reader (stored and deflated entries) on node:zlib alone:
 * the handler bundle is written as the zip Function Compute takes, and LocalCloud's FC reads the code it is given.
 */
import * as zlib from 'zlib';

/** One file in a zip archive. */
export interface ZipEntry {
  readonly name: string;
  readonly data: Buffer;
}

const DOS_EPOCH = { time: 0, date: ((2020 - 1980) << 9) | (1 << 5) | 1 }; // fixed 2020-01-01 00:00: reproducible bytes

/**
 * Writes a zip archive (deflated entries, no extras). Deterministic: the same entries always give the same bytes,
 * so the inlined handler code does not change the template unless the code changed.
 */
export function writeZip(entries: readonly ZipEntry[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const name = Buffer.from(entry.name, 'utf8');
    const compressed = zlib.deflateRawSync(entry.data, { level: 9 });
    const crc = zlib.crc32(entry.data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4); // version needed
    local.writeUInt16LE(0x0800, 6); // UTF-8 names
    local.writeUInt16LE(8, 8); // deflate
    local.writeUInt16LE(DOS_EPOCH.time, 10);
    local.writeUInt16LE(DOS_EPOCH.date, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(compressed.length, 18);
    local.writeUInt32LE(entry.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(0x031e, 4); // made by: Unix, 3.0
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt16LE(8, 10);
    central.writeUInt16LE(DOS_EPOCH.time, 12);
    central.writeUInt16LE(DOS_EPOCH.date, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(compressed.length, 20);
    central.writeUInt32LE(entry.data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE((0o100644 << 16) >>> 0, 38); // regular file, rw-r--r--
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, compressed);
    centrals.push(central, name);
    offset += local.length + name.length + compressed.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

/** Reads a zip archive (stored or deflated entries); throws a `ZipError` naming what is wrong. */
export function readZip(archive: Buffer): ZipEntry[] {
  const endOffset = archive.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (endOffset < 0 || endOffset + 22 > archive.length) {
    throw new ZipError('no end of central directory record');
  }
  const count = archive.readUInt16LE(endOffset + 10);
  let pointer = archive.readUInt32LE(endOffset + 16);
  const entries: ZipEntry[] = [];
  for (let i = 0; i < count; i++) {
    if (pointer + 46 > archive.length || archive.readUInt32LE(pointer) !== 0x02014b50) {
      throw new ZipError(`central directory entry ${i} is damaged`);
    }
    const method = archive.readUInt16LE(pointer + 10);
    const crc = archive.readUInt32LE(pointer + 16);
    const compressedSize = archive.readUInt32LE(pointer + 20);
    const nameLength = archive.readUInt16LE(pointer + 28);
    const extraLength = archive.readUInt16LE(pointer + 30);
    const commentLength = archive.readUInt16LE(pointer + 32);
    const localOffset = archive.readUInt32LE(pointer + 42);
    const name = archive.toString('utf8', pointer + 46, pointer + 46 + nameLength);
    pointer += 46 + nameLength + extraLength + commentLength;
    if (localOffset + 30 > archive.length || archive.readUInt32LE(localOffset) !== 0x04034b50) {
      throw new ZipError(`local header of ${name} is damaged`);
    }
    const dataStart =
      localOffset + 30 + archive.readUInt16LE(localOffset + 26) + archive.readUInt16LE(localOffset + 28);
    const raw = archive.subarray(dataStart, dataStart + compressedSize);
    if (name.endsWith('/')) {
      continue;
    }
    let data: Buffer;
    if (method === 0) {
      data = Buffer.from(raw);
    } else if (method === 8) {
      data = zlib.inflateRawSync(raw);
    } else {
      throw new ZipError(`${name} uses compression method ${method}; only stored and deflate are supported`);
    }
    if (zlib.crc32(data) !== crc) {
      throw new ZipError(`${name} fails its CRC check`);
    }
    entries.push({ name, data });
  }
  return entries;
}

export class ZipError extends Error {
  constructor(why: string) {
    super(`Not a valid zip archive: ${why}`);
    this.name = 'ZipError';
  }
}
