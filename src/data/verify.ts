// Is a data set on disk, and are its bytes right? Two levels:
//  - quick: every file exists with its registry size (what stages check before they start);
//  - full: sizes and sha256 (what `nanochat data download` checks before it skips a file, and
//    `nanochat data list --verify`).
// Errors name the file and the command that fixes it.

import { createHash } from 'node:crypto';
import { closeSync, createReadStream, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { UserError } from '../common/errors.js';
import { dataDir } from '../common/paths.js';
import { DATASETS, findDataset, type DataFile, type DataSet } from './registry.js';

export type FileStatus = 'ok' | 'missing' | 'size' | 'checksum';

export interface SetReport {
  name: string;
  /** complete: every file ok; missing: none present; partial: some present, or some wrong. */
  state: 'complete' | 'missing' | 'partial';
  dir: string;
  bytesExpected: number;
  bytesPresent: number;
  files: { path: string; status: FileStatus }[];
}

export const fixCommand = (name: string): string => `nanochat data download --only ${name}`;

/** sha256 (hex) of a file, streamed. */
export async function hashFile(file: string, gunzip = false): Promise<string> {
  const h = createHash('sha256');
  const src = createReadStream(file);
  if (gunzip) await pipeline(src, createGunzip(), async function* (chunks) { for await (const c of chunks) h.update(c as Buffer); });
  else for await (const c of src) h.update(c as Buffer);
  return h.digest('hex');
}

function sizeOf(file: string): number | undefined {
  try {
    const st = statSync(file);
    return st.isFile() ? st.size : undefined;
  } catch {
    return undefined;
  }
}

/** A gzip file's trailer holds the uncompressed size (mod 2^32) in its last 4 bytes. */
function gzipStoredSize(file: string, size: number): number | undefined {
  if (size < 18) return undefined;
  const fd = openSync(file, 'r');
  try {
    const b = Buffer.alloc(4);
    readSync(fd, b, 0, 4, size - 4);
    return b.readUInt32LE(0);
  } finally {
    closeSync(fd);
  }
}

/**
 * Quick check of one file: present with the registry size. A .gz we rebuilt ourselves (our own
 * compression, see checksums.ts) may differ in size: then its trailer must give the content size.
 */
function quickCheckFile(abs: string, f: DataFile): FileStatus {
  const size = sizeOf(abs);
  if (size === undefined) return 'missing';
  if (size === f.size) return 'ok';
  if (f.content && gzipStoredSize(abs, size) === f.content.size % 2 ** 32) return 'ok';
  return 'size';
}

/**
 * Full check of one file: size and sha256 equal to the registry's, or, for a .gz with recorded
 * content, its uncompressed bytes equal to the registry's content (our own re-compression).
 */
export async function verifyFile(abs: string, f: DataFile): Promise<FileStatus> {
  const size = sizeOf(abs);
  if (size === undefined) return 'missing';
  if (size === f.size && (await hashFile(abs)) === f.sha256) return 'ok';
  if (f.content) {
    try {
      if ((await hashFile(abs, true)) === f.content.sha256) return 'ok';
    } catch {
      return 'checksum'; // not even valid gzip
    }
  }
  return size === f.size || f.content ? 'checksum' : 'size';
}

/** The state of a set under `root` (default $NANOCHAT_BASE_DIR/data); `full` hashes every file. */
export async function checkDataset(set: DataSet, opts: { root?: string; full?: boolean } = {}): Promise<SetReport> {
  const dir = join(opts.root ?? dataDir(), set.name);
  const files: SetReport['files'] = [];
  let bytesPresent = 0, bytesExpected = 0;
  for (const f of set.files) {
    const abs = join(dir, f.path);
    const status = opts.full ? await verifyFile(abs, f) : quickCheckFile(abs, f);
    files.push({ path: f.path, status });
    bytesExpected += f.size;
    bytesPresent += sizeOf(abs) ?? 0;
  }
  const ok = files.filter((f) => f.status === 'ok').length;
  const state = ok === files.length ? 'complete' : files.every((f) => f.status === 'missing') ? 'missing' : 'partial';
  return { name: set.name, state, dir, bytesExpected, bytesPresent, files };
}

function lookup(name: string): DataSet {
  const set = findDataset(name);
  if (!set) throw new UserError(`unknown data set '${name}'. Data sets: ${DATASETS.map((d) => d.name).join(', ')}`);
  return set;
}

function problem(set: DataSet, dir: string, path: string, status: FileStatus): UserError {
  const what = status === 'missing' ? 'is missing' : status === 'size' ? 'has the wrong size (partial or corrupt)' : 'fails its sha256 check (corrupt)';
  return new UserError(`data set '${set.name}': ${join(dir, path)} ${what}. Run \`${fixCommand(set.name)}\` to fix it.`);
}

/**
 * Full verification of a set (sizes and sha256 of every file, or of `paths` only). Returns the
 * set's folder; throws a UserError naming the first bad file and the command that fixes it.
 */
export async function verifyDataset(name: string, paths?: string[]): Promise<string> {
  const set = lookup(name);
  const dir = join(dataDir(), name);
  for (const f of selectFiles(set, paths)) {
    const status = await verifyFile(join(dir, f.path), f);
    if (status !== 'ok') throw problem(set, dir, f.path, status);
  }
  return dir;
}

/**
 * What a stage calls before it reads a set: the set's folder if every file (or every one of
 * `paths`, e.g. only the CORE tasks a run needs) is present with the right size; otherwise a
 * UserError telling to run `nanochat data download --only NAME`. Cheap: no hashing.
 */
export function requireDataset(name: string, paths?: string[]): string {
  const set = lookup(name);
  const dir = join(dataDir(), name);
  for (const f of selectFiles(set, paths)) {
    const status = quickCheckFile(join(dir, f.path), f);
    if (status !== 'ok') throw problem(set, dir, f.path, status);
  }
  return dir;
}

function selectFiles(set: DataSet, paths?: string[]): DataFile[] {
  if (!paths) return set.files;
  return paths.map((p) => {
    const f = set.files.find((x) => x.path === p);
    if (!f) throw new UserError(`data set '${set.name}' has no file '${p}'`);
    return f;
  });
}
