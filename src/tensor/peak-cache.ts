// The best float32 peak ever measured on this machine, kept in $NANOCHAT_BASE_DIR/peak-flops.json
// (default ~/.cache/nanochat) so that one busy moment at start-up cannot lower the MFU denominator: a
// run reuses the best figure and writes its own only when it is higher. One entry per CPU model, widest
// ISA and thread count, e.g. "AMD EPYC | family 26 model 2 | avx512 | 2 threads":
//   { "version": 1, "entries": { "<key>": { "gflops": 448.1, "date": "2026-12-01", "how": "..." } } }
// A file that does not parse, or an entry that is not a positive number, is ignored with a warning.

import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '../common/atomic.js';
import { baseDir } from '../common/paths.js';
import type { CpuInfo } from './cpu.js';

export interface PeakEntry { gflops: number; date: string; how: string }

export const peakCachePath = (): string => join(baseDir(), 'peak-flops.json');

export function peakCacheKey(cpu: CpuInfo, isa: string, threads: number): string {
  return `${cpu.model} | family ${cpu.family} model ${cpu.modelNumber} | ${isa} | ${threads} threads`;
}

const warned = new Set<string>();
// once per message and process: the file is read before and again while raising it
const warnStderr = (msg: string): void => {
  if (!warned.has(msg)) process.stderr.write(`nanochat: ${msg}\n`);
  warned.add(msg);
};

/** Every valid entry of the cache file; a missing file is empty, a corrupt one is empty with a warning. */
export function readPeakCache(file: string, warn = warnStderr): Record<string, PeakEntry> {
  let text: string;
  try { text = readFileSync(file, 'utf8'); } catch { return {}; }
  let doc: unknown;
  try { doc = JSON.parse(text); } catch (e) {
    warn(`ignoring the peak cache ${file}: not JSON (${(e as Error).message})`);
    return {};
  }
  const entries = (doc as { entries?: unknown } | null)?.entries;
  if (typeof entries !== 'object' || entries === null || Array.isArray(entries)) {
    warn(`ignoring the peak cache ${file}: no "entries" object`);
    return {};
  }
  const out: Record<string, PeakEntry> = {};
  for (const [k, v] of Object.entries(entries as Record<string, unknown>)) {
    const e = v as Partial<PeakEntry> | null;
    if (e && typeof e.gflops === 'number' && Number.isFinite(e.gflops) && e.gflops > 0) {
      out[k] = { gflops: e.gflops, date: String(e.date ?? '?'), how: String(e.how ?? '') };
    } else warn(`ignoring the peak cache entry "${k}" in ${file}: gflops is not a positive number`);
  }
  return out;
}

/**
 * Offer a newly measured figure: the file keeps the higher of it and what it had, and this returns that
 * entry (the stored one when it was higher). Writes are atomic; a write that fails (read-only home)
 * only loses the caching.
 */
export function raisePeakCache(file: string, key: string, offer: PeakEntry, warn = warnStderr): PeakEntry {
  const entries = readPeakCache(file, warn);
  const had = entries[key];
  if (had && had.gflops >= offer.gflops) return had;
  entries[key] = offer;
  try {
    mkdirSync(dirname(file), { recursive: true });
    writeFileAtomic(file, [JSON.stringify({ version: 1, entries }, null, 2) + '\n']);
  } catch (e) {
    warn(`cannot write the peak cache ${file}: ${(e as Error).message}`);
  }
  return offer;
}
