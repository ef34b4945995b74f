// A minimal zip reader: the bytes of one named entry of an in-memory archive. Enough for
// upstream archives such as dwyl's words_alpha.zip (one deflated text file); no zip64, no
// encryption, no multi-disk archives -- each is a clear error rather than wrong output.
// Layout (PKWARE APPNOTE): [local header + data]* central directory, end-of-central-directory.

import { inflateRawSync } from 'node:zlib';

const EOCD_SIG = 0x06054b50; // end of central directory record
const CDIR_SIG = 0x02014b50; // central directory file header
const LOCAL_SIG = 0x04034b50; // local file header

/** Names of the archive's entries, in directory order. */
export function zipEntryNames(zip: Uint8Array): string[] {
  return centralDirectory(zip).map((e) => e.name);
}

/** The uncompressed bytes of the entry called `name` (stored or deflated). */
export function readZipEntry(zip: Uint8Array, name: string): Buffer {
  const buf = Buffer.from(zip.buffer, zip.byteOffset, zip.byteLength);
  const entry = centralDirectory(zip).find((e) => e.name === name);
  if (!entry) throw new Error(`zip: no entry '${name}' (entries: ${zipEntryNames(zip).join(', ') || 'none'})`);
  const at = entry.localOffset;
  if (at + 30 > buf.length || buf.readUInt32LE(at) !== LOCAL_SIG) throw new Error(`zip: bad local header for '${name}'`);
  // The local header repeats name and extra field, with its own lengths (the extra field may differ
  // from the central directory's), so the data starts after *these* lengths.
  const dataStart = at + 30 + buf.readUInt16LE(at + 26) + buf.readUInt16LE(at + 28);
  const data = buf.subarray(dataStart, dataStart + entry.compressedSize);
  if (data.length !== entry.compressedSize) throw new Error(`zip: entry '${name}' is truncated`);
  let out: Buffer;
  if (entry.method === 0) out = Buffer.from(data);
  else if (entry.method === 8) out = inflateRawSync(data);
  else throw new Error(`zip: entry '${name}' uses compression method ${entry.method} (only stored and deflate are supported)`);
  if (out.length !== entry.size) throw new Error(`zip: entry '${name}' inflated to ${out.length} bytes, expected ${entry.size}`);
  return out;
}

interface Entry {
  name: string;
  method: number;
  compressedSize: number;
  size: number;
  localOffset: number;
}

function centralDirectory(zip: Uint8Array): Entry[] {
  const buf = Buffer.from(zip.buffer, zip.byteOffset, zip.byteLength);
  // The EOCD record is 22 bytes plus a comment of up to 65,535 bytes: search backwards for it.
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 0xffff); i--) {
    if (buf.readUInt32LE(i) === EOCD_SIG) { eocd = i; break; }
  }
  if (eocd < 0) throw new Error('zip: not a zip archive (no end-of-central-directory record)');
  const count = buf.readUInt16LE(eocd + 10);
  const dirOffset = buf.readUInt32LE(eocd + 16);
  if (count === 0xffff || dirOffset === 0xffffffff) throw new Error('zip: zip64 archives are not supported');
  const entries: Entry[] = [];
  let p = dirOffset;
  for (let k = 0; k < count; k++) {
    if (p + 46 > buf.length || buf.readUInt32LE(p) !== CDIR_SIG) throw new Error('zip: corrupt central directory');
    const flags = buf.readUInt16LE(p + 8);
    if (flags & 1) throw new Error('zip: encrypted entries are not supported');
    const nameLen = buf.readUInt16LE(p + 28), extraLen = buf.readUInt16LE(p + 30), commentLen = buf.readUInt16LE(p + 32);
    entries.push({
      name: buf.toString('utf8', p + 46, p + 46 + nameLen),
      method: buf.readUInt16LE(p + 10),
      compressedSize: buf.readUInt32LE(p + 20),
      size: buf.readUInt32LE(p + 24),
      localOffset: buf.readUInt32LE(p + 42),
    });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}
