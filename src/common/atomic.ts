// Crash-safe file creation: write to a temp file in the same folder, check it, then rename it over
// the final name. rename() within one file system is atomic, so the final name only ever holds a
// complete, verified file, even if the process is killed mid-download. The temp name carries the
// writer's pid, so a later run can tell a dead writer's leftovers from a live concurrent one.

import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

const PARTIAL = '.partial-';

export const partialName = (file: string): string => `${file}${PARTIAL}${process.pid}`;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'; // exists, but not ours
  }
}

/** Delete temp files of `file` left by writers that are no longer running. */
export function removeStalePartials(file: string): void {
  const dir = dirname(file), prefix = basename(file) + PARTIAL;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const n of names) {
    if (!n.startsWith(prefix)) continue;
    const pid = Number(n.slice(prefix.length));
    if (!Number.isInteger(pid) || pid === process.pid || !alive(pid)) rmSync(join(dir, n), { force: true });
  }
}

/**
 * Create `file` atomically: `fill(tmp)` writes the temp file (it may be called again on retry; it
 * must truncate), `check(tmp)` throws if the bytes are wrong. On any failure the temp file is
 * removed and nothing appears under the final name.
 */
export async function writeAtomically(file: string, fill: (tmp: string) => Promise<void>, check: (tmp: string) => Promise<void>): Promise<void> {
  mkdirSync(dirname(file), { recursive: true });
  removeStalePartials(file);
  const tmp = partialName(file);
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
 * Write a file atomically: to `<path>.tmp-<pid>`, fsync, then rename over the final name, so a crash at
 * any moment leaves either the old file or the complete new one.
 */
export function writeFileAtomic(path: string, parts: (Uint8Array | string)[]): void {
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w');
  try {
    for (const p of parts) writeSync(fd, typeof p === 'string' ? Buffer.from(p, 'utf8') : p);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}
