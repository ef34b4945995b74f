// A checkpoint save that runs out of disk: told apart from other write failures, and turned into one
// line that says which file, how much it needed and how much was free, instead of a stack trace.

import { statfsSync } from 'node:fs';

/** ENOSPC (the file system is full) or EDQUOT (the user's quota is). */
export function isDiskFull(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT';
}

/** Bytes an unprivileged writer may still use in `dir`'s file system (undefined when it cannot be asked). */
export function freeBytes(dir: string): number | undefined {
  try {
    const s = statfsSync(dir);
    return s.bavail * s.bsize;
  } catch {
    return undefined;
  }
}

/** 1536 -> "1.50 KiB": binary units as df -h counts, three digits, so close sizes (needed, free) stay apart. */
export function formatBytes(n: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let k = 0;
  while (n >= 1024 && k < units.length - 1) { n /= 1024; k++; }
  return k === 0 ? `${n} bytes` : `${n.toFixed(n >= 100 ? 0 : n >= 10 ? 1 : 2)} ${units[k]}`;
}

export interface DiskFullReport {
  step: number;
  /** the file whose write failed, and its size */
  file: string;
  fileBytes: number;
  /** all files of the checkpoint */
  checkpointBytes: number;
  dir: string;
  /** the newest complete checkpoint left in dir, if any */
  previousStep?: number;
}

/**
 * The one-line message of a save that found the disk full. Free space is measured once this save's files
 * are removed (at the moment of failure it is about 0): what the user has against what the checkpoint needs.
 */
export function diskFullMessage(r: DiskFullReport): string {
  const bytesFree = freeBytes(r.dir);
  const free = bytesFree === undefined ? 'an unknown amount' : formatBytes(bytesFree);
  const previous = r.previousStep === undefined
    ? 'there is no earlier checkpoint in this folder'
    : `the previous checkpoint (step ${r.previousStep}) is intact`;
  return `cannot save checkpoint step ${r.step}: the disk is full. Writing ${r.file} (${formatBytes(r.fileBytes)}) failed; ` +
    `the whole checkpoint needs ${formatBytes(r.checkpointBytes)} and ${r.dir} has ${free} free. ` +
    `Nothing of step ${r.step} was kept and ${previous}; free some space (or keep fewer checkpoints with --keep-last N) ` +
    'and continue with --resume-from-step latest.';
}
