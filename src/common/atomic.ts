// Crash-safe file writes: write to a temp file in the same folder, then rename it over the final name.
// rename() within one file system is atomic, so the final name only ever holds a complete file, even
// if the process is killed mid-write. One convention for every writer (downloads, checkpoints,
// tokenizer files, reports):
// - the temp file is `<name>.tmp-<pid>`, the pid of the process writing it;
// - that writer counts as alive while its process exists: process.kill(pid, 0) succeeds, or fails with
//   EPERM (the process exists but belongs to another user). This process always counts as alive;
// - removeDeadTempFiles(dir) deletes the temp files of dead writers (no process will finish them) and
//   leaves those of live ones, which may be a concurrent run writing the same folder.

import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';

const TEMP_NAME = /\.tmp-(\d+)$/;

/** The temp name this process writes `file` under. */
export const tempName = (file: string): string => `${file}.tmp-${process.pid}`;

function writerAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Delete the temp files in `dir` whose writer is no longer running. */
export function removeDeadTempFiles(dir: string): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return; // no folder, no leftovers
  }
  for (const n of names) {
    const m = TEMP_NAME.exec(n);
    if (m && !writerAlive(Number(m[1]))) rmSync(join(dir, n), { force: true });
  }
}

/**
 * Create `file` atomically, first clearing dead writers' temp files from its folder: `fill(tmp)` writes
 * the temp file (it may be called again on retry; it must truncate), `check(tmp)` throws if the bytes
 * are wrong. On any failure the temp file is removed and nothing appears under the final name.
 */
export async function writeAtomically(
  file: string, fill: (tmp: string) => Promise<void>, check: (tmp: string) => Promise<void>,
): Promise<void> {
  mkdirSync(dirname(file), { recursive: true });
  removeDeadTempFiles(dirname(file));
  const tmp = tempName(file);
  try {
    await fill(tmp);
    await check(tmp);
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/**
 * Write `parts` to `path` atomically: to the temp file, fsync, then rename over the final name, so a
 * crash at any moment leaves either the old file or the complete new one. On failure the temp file is
 * removed.
 */
export function writeFileAtomic(path: string, parts: (Uint8Array | string)[]): void {
  const tmp = tempName(path);
  try {
    const fd = openSync(tmp, 'w');
    try {
      for (const p of parts) writeSync(fd, typeof p === 'string' ? Buffer.from(p, 'utf8') : p);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}
