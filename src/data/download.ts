// `nanochat data download`: fill $NANOCHAT_BASE_DIR/data with the registry's data sets.
//
// Source of each file, in order of preference:
//   1. NANOCHAT_DATA_MIRROR = a folder  -> copied from <mirror>/<set>/<path>
//   2. NANOCHAT_DATA_MIRROR = http(s):// -> GET <mirror>/<set>/<path>
//   3. otherwise the file's public upstream (registry.ts), converted where needed (convert.ts).
// Every file is written to a temp file, verified (size and sha256), then renamed into place;
// files already complete are skipped; HTTP retries with backoff. Failures of single files do not
// stop the others: the result lists them, and the CLI turns them into one clear error.
// NANOCHAT_UPSTREAM_OVERRIDE=<base URL> fetches upstream URLs https://HOST/PATH from <base>/HOST/PATH
// instead (tests serve upstream-shaped fixtures that way; also useful behind a caching proxy).

import { copyFileSync, existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { convert } from './convert.js';
import { writeAtomically } from '../common/atomic.js';
import { DEFAULT_RETRY, describeError, httpToBuffer, httpToFile, withRetry, type RetryOptions } from './fetch.js';
import { dataDir } from '../common/paths.js';
import { DATASETS, type DataFile, type DataSet } from './registry.js';
import { hashFile, verifyFile } from './verify.js';

export interface DownloadOptions {
  /** The registry (tests pass fixture sets). */
  sets?: readonly DataSet[];
  /** Names of the sets to fetch (default: all). */
  only?: string[];
  /** Destination data folder (default: $NANOCHAT_BASE_DIR/data). */
  root?: string;
  /** Folder or URL laid out like the data folder (default: $NANOCHAT_DATA_MIRROR). */
  mirror?: string;
  /** Base URL standing in for upstream hosts (default: $NANOCHAT_UPSTREAM_OVERRIDE). */
  upstreamOverride?: string;
  retry?: Partial<RetryOptions>;
  /** Parallel transfers (default 4). */
  concurrency?: number;
  /** Human messages (retries, failures). */
  log?: (s: string) => void;
  /** Bytes transferred so far and bytes to transfer in all. */
  onProgress?: (done: number, total: number) => void;
}

export type FileOutcome =
  | { path: string; result: 'skipped' | 'downloaded'; bytes: number }
  | { path: string; result: 'failed'; error: string }
  | { path: string; result: 'unavailable'; reason: string };

export interface SetOutcome {
  name: string;
  dir: string;
  complete: boolean;
  files: FileOutcome[];
}

export interface DownloadResult {
  source: string;
  sets: SetOutcome[];
  bytesDownloaded: number;
  seconds: number;
}

/** Where one file's bytes come from. */
type Source =
  | { kind: 'copy'; from: string }
  | { kind: 'http'; url: string; convert?: Parameters<typeof convert>[1] }
  | { kind: 'unavailable'; reason: string };

function describeSource(mirror: string | undefined): string {
  if (!mirror) return 'upstream';
  return isUrl(mirror) ? `mirror ${mirror}` : `mirror folder ${mirror}`;
}

const isUrl = (s: string): boolean => /^https?:\/\//i.test(s);

/** `https://host/path` -> `<override>/host/path`. */
export function overrideUrl(url: string, override: string | undefined): string {
  if (!override) return url;
  return override.replace(/\/+$/, '') + '/' + url.replace(/^https?:\/\//i, '');
}

function sourceOf(set: DataSet, f: DataFile, mirror: string | undefined, override: string | undefined): Source {
  if (mirror) {
    if (isUrl(mirror)) return { kind: 'http', url: `${mirror.replace(/\/+$/, '')}/${set.name}/${f.path.split('/').map(encodeURIComponent).join('/')}` };
    return { kind: 'copy', from: join(mirror, set.name, ...f.path.split('/')) };
  }
  const up = set.upstream(f.path);
  if ('unavailable' in up) return { kind: 'unavailable', reason: up.unavailable };
  return { kind: 'http', url: overrideUrl(up.url, override), ...(up.convert ? { convert: up.convert } : {}) };
}

export async function downloadSets(opts: DownloadOptions = {}): Promise<DownloadResult> {
  const t0 = performance.now();
  const all = opts.sets ?? DATASETS;
  const root = opts.root ?? dataDir();
  const mirror = opts.mirror ?? (process.env.NANOCHAT_DATA_MIRROR || undefined);
  const override = opts.upstreamOverride ?? (process.env.NANOCHAT_UPSTREAM_OVERRIDE || undefined);
  const retry: RetryOptions = { ...DEFAULT_RETRY, ...opts.retry };
  const log = opts.log ?? (() => {});
  const only = opts.only?.length ? opts.only : all.map((s) => s.name);
  const unknown = only.filter((n) => !all.some((s) => s.name === n));
  if (unknown.length) throw new Error(`unknown data set(s): ${unknown.join(', ')}. Data sets: ${all.map((s) => s.name).join(', ')}`);
  const sets = all.filter((s) => only.includes(s.name));

  // First pass: what is already complete (verified by sha256) is skipped and not counted in the total.
  interface Job { set: DataSet; file: DataFile; dest: string; source: Source; outcome?: FileOutcome }
  const jobs: Job[] = [];
  for (const set of sets) for (const file of set.files) {
    jobs.push({ set, file, dest: join(root, set.name, ...file.path.split('/')), source: sourceOf(set, file, mirror, override) });
  }
  for (const j of jobs) {
    if ((await verifyFile(j.dest, j.file)) === 'ok') j.outcome = { path: j.file.path, result: 'skipped', bytes: j.file.size };
    else if (j.source.kind === 'unavailable') j.outcome = { path: j.file.path, result: 'unavailable', reason: j.source.reason };
  }
  const todo = jobs.filter((j) => !j.outcome);
  const total = todo.reduce((s, j) => s + j.file.size, 0);
  let done = 0;
  opts.onProgress?.(0, total);

  const fetchOne = async (j: Job): Promise<void> => {
    let counted = 0; // bytes of this file counted in `done`, un-counted when an attempt restarts
    const onBytes = (n: number) => { counted += n; done += n; opts.onProgress?.(done, total); };
    const restart = () => { done -= counted; counted = 0; };
    const where = `${j.set.name}/${j.file.path}`;
    const src = j.source;
    try {
      await writeAtomically(j.dest, async (tmp) => {
        if (src.kind === 'copy') {
          if (!existsSync(src.from)) throw new Error(`the mirror has no ${src.from}`);
          copyFileSync(src.from, tmp);
          onBytes(j.file.size);
        } else if (src.kind === 'http' && !src.convert) {
          await withRetry(async () => { restart(); await httpToFile(src.url, tmp, onBytes, retry.idleTimeoutMs); }, retry,
            (e, n, ms) => log(`${where}: ${describeError(e)}; retry ${n} of ${retry.attempts - 1} in ${(ms / 1000).toFixed(1)}s`));
        } else if (src.kind === 'http' && src.convert) {
          const raw = await withRetry(async () => { restart(); return httpToBuffer(src.url, onBytes, retry.idleTimeoutMs); }, retry,
            (e, n, ms) => log(`${where}: ${describeError(e)}; retry ${n} of ${retry.attempts - 1} in ${(ms / 1000).toFixed(1)}s`));
          let converted: Buffer;
          try {
            converted = convert(raw, src.convert);
          } catch (e) {
            throw new Error(`cannot convert ${src.url} (${src.convert.kind}): ${(e as Error).message}`);
          }
          await writeFile(tmp, converted);
          // Progress counts the registry size: the upstream form may be larger or smaller.
          restart(); onBytes(j.file.size);
        }
      }, async (tmp) => {
        const status = await verifyFile(tmp, j.file);
        if (status === 'ok') return;
        const from = src.kind === 'copy' ? src.from : src.kind === 'http' ? src.url : '?';
        throw new Error(`${from} does not match the registry (${status === 'size' ? 'wrong size' : `sha256 ${await hashFile(tmp)}, expected ${j.file.sha256}`}): the source is corrupt or has changed`);
      });
      j.outcome = { path: j.file.path, result: 'downloaded', bytes: j.file.size };
    } catch (e) {
      restart();
      j.outcome = { path: j.file.path, result: 'failed', error: describeError(e) };
      log(`${where}: FAILED: ${describeError(e)}`);
    }
  };

  // A small pool: a few transfers in flight hide per-request latency (MMLU is 114 small files).
  const queue = [...todo];
  const workers = Array.from({ length: Math.max(1, Math.min(opts.concurrency ?? 4, queue.length)) }, async () => {
    for (let j = queue.shift(); j; j = queue.shift()) await fetchOne(j);
  });
  await Promise.all(workers);

  const outcomes: SetOutcome[] = sets.map((set) => {
    const files = jobs.filter((j) => j.set === set).map((j) => j.outcome!);
    return { name: set.name, dir: join(root, set.name), complete: files.every((f) => f.result === 'skipped' || f.result === 'downloaded'), files };
  });
  const bytesDownloaded = outcomes.flatMap((s) => s.files).reduce((s, f) => s + (f.result === 'downloaded' ? f.bytes : 0), 0);
  return { source: describeSource(mirror), sets: outcomes, bytesDownloaded, seconds: (performance.now() - t0) / 1000 };
}
