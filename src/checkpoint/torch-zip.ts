// The zip container of a PyTorch .pt file (torch.save since PyTorch 1.6): entries `<archive>/data.pkl`,
// `<archive>/data/<key>` (raw little-endian storages), `<archive>/version`, ..., stored uncompressed (method 0).
// A released checkpoint is several GB (nanochat's d32: 7.25 GB), past zip's 32-bit sizes and offsets, so sizes
// and offsets come from the ZIP64 records when the classic fields hold 0xffffffff, and entries are read with
// positioned reads of just their bytes, never the whole file. src/data/zip.ts reads small archives whole, in
// memory, with deflate; this one reads huge stored archives by offset, and also writes them.
// Layout (PKWARE APPNOTE 6.3): [local header, data]* central directory, [zip64 end record, zip64 locator],
// end-of-central-directory record.

import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import * as zlib from 'node:zlib';
import { UserError } from '../common/errors.js';

const LOCAL_SIG = 0x04034b50;
const CENTRAL_SIG = 0x02014b50;
const EOCD_SIG = 0x06054b50;
const ZIP64_EOCD_SIG = 0x06064b50;
const ZIP64_LOCATOR_SIG = 0x07064b50;
const ZIP64_EXTRA = 0x0001;
/** torch aligns each entry's data to 64 bytes with a padding extra field ("FB") in its local header */
const ALIGN = 64;
const PAD_EXTRA = 0x4246;
const MAX32 = 0xffffffff;

export interface ZipEntry {
  name: string;
  method: number;
  size: number;
  compressedSize: number;
  localOffset: number;
}

/** A zip archive on disk, read by positioned reads. Close it when done. */
export class ZipReader {
  readonly entries = new Map<string, ZipEntry>();
  private readonly fd: number;
  private readonly fileSize: number;

  constructor(readonly path: string) {
    try {
      this.fd = openSync(path, 'r');
    } catch (e) {
      throw new UserError(`cannot open ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    try {
      this.fileSize = fstatSync(this.fd).size;
      this.readCentralDirectory();
    } catch (e) {
      closeSync(this.fd);
      throw e;
    }
  }

  close(): void {
    closeSync(this.fd);
  }

  private corrupt(why: string): UserError {
    return new UserError(`${this.path} is not a complete zip archive (${why}): the file is truncated or corrupt; ` +
      'copy or download it again');
  }

  /** `length` bytes at `offset` of the file, all of them or a UserError. */
  readAt(offset: number, length: number): Buffer {
    // checked before allocating: a hostile length field must not become a huge allocation or a RangeError
    if (!(offset >= 0 && length >= 0 && offset + length <= this.fileSize)) {
      throw this.corrupt(`bytes ${offset}..${offset + length} lie past its end (${this.fileSize} bytes)`);
    }
    const out = Buffer.allocUnsafe(length);
    this.readInto(out, offset);
    return out;
  }

  /** Fill `target` with the bytes at `offset` of the file. */
  private readInto(target: Uint8Array, offset: number): void {
    const length = target.length;
    if (offset < 0 || offset + length > this.fileSize) {
      throw this.corrupt(`bytes ${offset}..${offset + length} lie past its end (${this.fileSize} bytes)`);
    }
    // readSync may return fewer bytes than asked (and at most 2 GB at a time)
    for (let done = 0; done < length;) {
      const n = readSync(this.fd, target, done, Math.min(length - done, 1 << 30), offset + done);
      if (n <= 0) throw this.corrupt(`reading ${length} bytes at ${offset} stopped after ${done}`);
      done += n;
    }
  }

  private readCentralDirectory(): void {
    // the end record is 22 bytes plus a comment of up to 65,535 bytes: search backwards for it
    const tailLen = Math.min(this.fileSize, 22 + 0xffff);
    const tailStart = this.fileSize - tailLen;
    const tail = this.readAt(tailStart, tailLen);
    let eocd = -1;
    for (let i = tail.length - 22; i >= 0; i--) {
      if (tail.readUInt32LE(i) === EOCD_SIG) { eocd = i; break; }
    }
    if (eocd < 0) throw this.corrupt('no end-of-central-directory record');
    let count = tail.readUInt16LE(eocd + 10);
    let dirSize = tail.readUInt32LE(eocd + 12);
    let dirOffset = tail.readUInt32LE(eocd + 16);
    const locator = eocd - 20;
    if (locator >= 0 && tail.readUInt32LE(locator) === ZIP64_LOCATOR_SIG) {
      const at = Number(tail.readBigUInt64LE(locator + 8));
      const rec = this.readAt(at, 56);
      if (rec.readUInt32LE(0) !== ZIP64_EOCD_SIG) throw this.corrupt('the ZIP64 locator points at no ZIP64 end record');
      count = Number(rec.readBigUInt64LE(32));
      dirSize = Number(rec.readBigUInt64LE(40));
      dirOffset = Number(rec.readBigUInt64LE(48));
    } else if (count === 0xffff || dirSize === MAX32 || dirOffset === MAX32) {
      throw this.corrupt('ZIP64 sizes are announced but there is no ZIP64 locator');
    }
    const dir = this.readAt(dirOffset, dirSize);
    let p = 0;
    for (let k = 0; k < count; k++) {
      if (p + 46 > dir.length || dir.readUInt32LE(p) !== CENTRAL_SIG) throw this.corrupt(`entry ${k} is damaged`);
      if (dir.readUInt16LE(p + 8) & 1) throw new UserError(`${this.path}: entry ${k} is encrypted; no PyTorch file is`);
      const nameLen = dir.readUInt16LE(p + 28), extraLen = dir.readUInt16LE(p + 30);
      const commentLen = dir.readUInt16LE(p + 32);
      if (p + 46 + nameLen + extraLen + commentLen > dir.length) throw this.corrupt(`entry ${k} runs past the directory`);
      const e: ZipEntry = {
        name: dir.toString('utf8', p + 46, p + 46 + nameLen),
        method: dir.readUInt16LE(p + 10),
        compressedSize: dir.readUInt32LE(p + 20),
        size: dir.readUInt32LE(p + 24),
        localOffset: dir.readUInt32LE(p + 42),
      };
      // the ZIP64 extra field holds, in this order, only the fields whose classic value is 0xffffffff
      const extraEnd = p + 46 + nameLen + extraLen;
      for (let x = p + 46 + nameLen; x + 4 <= extraEnd;) {
        const id = dir.readUInt16LE(x), len = dir.readUInt16LE(x + 2);
        if (x + 4 + len > extraEnd) throw this.corrupt(`an extra field of '${e.name}' runs past its entry`);
        if (id === ZIP64_EXTRA) {
          let q = x + 4;
          const next = (): number => {
            if (q + 8 > x + 4 + len) throw this.corrupt(`the ZIP64 field of '${e.name}' is too short`);
            const v = Number(dir.readBigUInt64LE(q));
            q += 8;
            return v;
          };
          if (e.size === MAX32) e.size = next();
          if (e.compressedSize === MAX32) e.compressedSize = next();
          if (e.localOffset === MAX32) e.localOffset = next();
        }
        x += 4 + len;
      }
      this.entries.set(e.name, e);
      p += 46 + nameLen + extraLen + commentLen;
    }
  }

  /** Where an entry's bytes start: after its local header, whose name and extra lengths are its own. */
  dataOffset(e: ZipEntry): number {
    const h = this.readAt(e.localOffset, 30);
    if (h.readUInt32LE(0) !== LOCAL_SIG) throw this.corrupt(`the local header of '${e.name}' is missing`);
    const start = e.localOffset + 30 + h.readUInt16LE(26) + h.readUInt16LE(28);
    if (start + e.compressedSize > this.fileSize) {
      throw this.corrupt(`'${e.name}' (${e.compressedSize} bytes at ${start}) runs past the end (${this.fileSize} bytes)`);
    }
    return start;
  }

  entry(name: string): ZipEntry {
    const e = this.entries.get(name);
    if (!e) throw new UserError(`${this.path} has no entry '${name}': it is not a PyTorch checkpoint, or it is damaged`);
    if (e.method !== 0) {
      throw new UserError(`${this.path}: '${name}' is compressed (method ${e.method}); torch.save stores every entry as is`);
    }
    if (e.size !== e.compressedSize) throw this.corrupt(`the stored entry '${name}' has two sizes (${e.size}, ${e.compressedSize})`);
    return e;
  }

  /** Bytes [offset, offset + length) of a stored entry (default: all of it). */
  read(name: string, offset = 0, length?: number): Buffer {
    const e = this.entry(name), n = length ?? e.size - offset;
    if (!(offset >= 0 && n >= 0 && offset + n <= e.size && e.size <= this.fileSize)) {
      throw this.corrupt(`'${name}' claims ${e.size} bytes in a file of ${this.fileSize}`);
    }
    const out = Buffer.allocUnsafe(n);
    this.readEntryInto(name, offset, out);
    return out;
  }

  /** Fill `target` with the bytes of a stored entry from `offset` on (straight into the caller's memory). */
  readEntryInto(name: string, offset: number, target: Uint8Array): void {
    const e = this.entry(name);
    if (offset < 0 || offset + target.length > e.size) {
      throw this.corrupt(`bytes ${offset}..${offset + target.length} of '${name}' lie past its ${e.size} bytes`);
    }
    this.readInto(target, this.dataOffset(e) + offset);
  }
}

// --- writing ---

const crcTable = (() => {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  return t;
})();

/** CRC-32 (the zip one), continued from `crc`: node's zlib.crc32 where it has one (Node 20.15+), else a table. */
function crc32(data: Uint8Array, crc = 0): number {
  const native = (zlib as { crc32?: (d: Uint8Array, v?: number) => number }).crc32;
  if (native) return native(data, crc);
  let c = ~crc;
  for (let i = 0; i < data.length; i++) c = crcTable[(c ^ data[i]) & 255] ^ (c >>> 8);
  return ~c >>> 0;
}

export interface ZipInput {
  name: string;
  /** the entry's bytes, in order (kept by reference: nothing is copied) */
  parts: Uint8Array[];
}

/**
 * A stored (uncompressed) zip archive as a list of byte parts to write in order, with each entry's data aligned
 * to 64 bytes as torch's writer does. ZIP64 records are written where a size or offset needs them, or for every
 * entry with `zip64: true` (how the tests check them without writing 4 GB).
 */
export function zipParts(inputs: ZipInput[], opts: { zip64?: boolean } = {}): Uint8Array[] {
  const out: Uint8Array[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  const push = (b: Uint8Array) => { out.push(b); offset += b.length; };
  for (const input of inputs) {
    const name = Buffer.from(input.name, 'utf8');
    const size = input.parts.reduce((n, b) => n + b.length, 0);
    let crc = 0;
    for (const b of input.parts) crc = crc32(b, crc);
    const localOffset = offset;
    const big = opts.zip64 || size >= MAX32 || localOffset >= MAX32;
    const localZip64 = big ? zip64Extra([size, size]) : Buffer.alloc(0);
    // pad the extra field so the data starts on a 64-byte boundary (an extra field has a 4-byte header)
    const pad = (ALIGN - ((offset + 30 + name.length + localZip64.length + 4) % ALIGN)) % ALIGN;
    const padExtra = Buffer.alloc(4 + pad);
    padExtra.writeUInt16LE(PAD_EXTRA, 0);
    padExtra.writeUInt16LE(pad, 2);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(LOCAL_SIG, 0);
    local.writeUInt16LE(big ? 45 : 20, 4); // version needed: 4.5 for ZIP64, else 2.0
    local.writeUInt16LE(0, 6); // flags
    local.writeUInt16LE(0, 8); // stored
    local.writeUInt16LE(0, 10); // time 00:00
    local.writeUInt16LE(0x21, 12); // date 1980-01-01
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(big ? MAX32 : size, 18);
    local.writeUInt32LE(big ? MAX32 : size, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(localZip64.length + padExtra.length, 28);
    push(local); push(name); push(localZip64); push(padExtra);
    for (const b of input.parts) push(b);

    const fields = big ? [size, size, localOffset] : [];
    const extra = big ? zip64Extra(fields) : Buffer.alloc(0);
    const c = Buffer.alloc(46);
    c.writeUInt32LE(CENTRAL_SIG, 0);
    c.writeUInt16LE(big ? 45 : 20, 4); // version made by
    c.writeUInt16LE(big ? 45 : 20, 6); // version needed
    c.writeUInt16LE(0, 8);
    c.writeUInt16LE(0, 10);
    c.writeUInt16LE(0, 12);
    c.writeUInt16LE(0x21, 14);
    c.writeUInt32LE(crc, 16);
    c.writeUInt32LE(big ? MAX32 : size, 20);
    c.writeUInt32LE(big ? MAX32 : size, 24);
    c.writeUInt16LE(name.length, 28);
    c.writeUInt16LE(extra.length, 30);
    c.writeUInt16LE(0, 32); // comment
    c.writeUInt16LE(0, 34); // disk
    c.writeUInt16LE(0, 36); // internal attributes
    c.writeUInt32LE(0, 38); // external attributes
    c.writeUInt32LE(big ? MAX32 : localOffset, 42);
    central.push(c, name, extra);
  }
  const dirOffset = offset;
  for (const b of central) push(b);
  const dirSize = offset - dirOffset;
  const count = inputs.length;
  const zip64 = opts.zip64 || count >= 0xffff || dirSize >= MAX32 || dirOffset >= MAX32;
  if (zip64) {
    const rec = Buffer.alloc(56);
    rec.writeUInt32LE(ZIP64_EOCD_SIG, 0);
    rec.writeBigUInt64LE(44n, 4); // size of the rest of the record
    rec.writeUInt16LE(45, 12);
    rec.writeUInt16LE(45, 14);
    rec.writeUInt32LE(0, 16); // this disk
    rec.writeUInt32LE(0, 20); // disk of the directory
    rec.writeBigUInt64LE(BigInt(count), 24);
    rec.writeBigUInt64LE(BigInt(count), 32);
    rec.writeBigUInt64LE(BigInt(dirSize), 40);
    rec.writeBigUInt64LE(BigInt(dirOffset), 48);
    const recOffset = offset;
    push(rec);
    const loc = Buffer.alloc(20);
    loc.writeUInt32LE(ZIP64_LOCATOR_SIG, 0);
    loc.writeUInt32LE(0, 4);
    loc.writeBigUInt64LE(BigInt(recOffset), 8);
    loc.writeUInt32LE(1, 16); // total disks
    push(loc);
  }
  const end = Buffer.alloc(22);
  end.writeUInt32LE(EOCD_SIG, 0);
  end.writeUInt16LE(zip64 ? 0xffff : count, 8);
  end.writeUInt16LE(zip64 ? 0xffff : count, 10);
  end.writeUInt32LE(zip64 ? MAX32 : dirSize, 12);
  end.writeUInt32LE(zip64 ? MAX32 : dirOffset, 16);
  push(end);
  return out;
}

function zip64Extra(values: number[]): Buffer {
  const b = Buffer.alloc(4 + 8 * values.length);
  b.writeUInt16LE(ZIP64_EXTRA, 0);
  b.writeUInt16LE(8 * values.length, 2);
  values.forEach((v, i) => b.writeBigUInt64LE(BigInt(v), 4 + 8 * i));
  return b;
}
