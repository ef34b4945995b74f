// `nanochat data <verb>`:
//   download [--only NAME ...]   fetch (or copy from NANOCHAT_DATA_MIRROR) the data sets, verified
//   list [--verify]              every set with its state (complete / missing / partial) and sizes
//   checksums FOLDER             print the checksum table (src/data/checksums.ts) of a reference copy

import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { emitJson, out, parse } from '../cli/flags.js';
import { UserError } from '../common/errors.js';
import { Progress } from '../common/progress.js';
import { downloadSets, type DownloadResult } from '../data/download.js';
import { MIRROR_HINT, DATASETS } from '../data/registry.js';
import { checkDataset, fixCommand } from '../data/verify.js';
import { dataDir } from '../common/paths.js';

const VERBS = 'download, list, checksums';

export async function run(argv: string[]): Promise<number> {
  const [verb, ...rest] = argv;
  switch (verb) {
    case 'download': return download(rest);
    case 'list': return list(rest);
    case 'checksums': return checksums(rest);
    case undefined: case '--help': case '-h':
      process.stdout.write(`Usage: nanochat data <download|list|checksums> [flags]\n\n` +
        `  download [--only NAME ...]  fetch data sets into ${dataDir()} (from NANOCHAT_DATA_MIRROR when set, else upstream)\n` +
        `  list [--verify]             show every set: complete / missing / partial, sizes\n` +
        `  checksums FOLDER            print the size and sha256 table of a data folder (for src/data/checksums.ts)\n\n` +
        `Data sets: ${DATASETS.map((d) => d.name).join(', ')}\n`);
      return verb === undefined ? 2 : 0;
    default:
      throw new UserError(`nanochat data: unknown verb '${verb}'. Verbs: ${VERBS}`, 2);
  }
}

const mb = (b: number): string => `${(b / 1e6).toFixed(1)} MB`;

async function download(argv: string[]): Promise<number> {
  const p = parse('data download', 'Fetch data sets into $NANOCHAT_BASE_DIR/data: copied from NANOCHAT_DATA_MIRROR (folder or http(s) URL) when set, else from each set\'s public upstream. Verified by sha256; complete files are skipped.', {
    only: { type: 'string', multiple: true, help: `a data set to fetch (repeatable; default: all). One of: ${DATASETS.map((d) => d.name).join(', ')}` },
  }, argv);
  const say = out(p);
  const only = (p.values.only as string[] | undefined) ?? [];
  for (const n of only) if (!DATASETS.some((d) => d.name === n)) throw new UserError(`unknown data set '${n}'. Data sets: ${DATASETS.map((d) => d.name).join(', ')}`);
  let bar: Progress | undefined;
  const result = await downloadSets({
    only,
    log: (s) => process.stderr.write(s + '\n'),
    onProgress: (done, total) => {
      if (total === 0) return;
      bar ??= new Progress('download', total, 'B');
      bar.update(done);
    },
  });
  bar?.done(`${mb(result.bytesDownloaded)} fetched`);
  say(`source: ${result.source}; data folder: ${dataDir()}`);
  for (const s of result.sets) {
    const count = (r: string) => s.files.filter((f) => f.result === r).length;
    say(`${s.name.padEnd(22)} ${s.complete ? 'complete' : 'INCOMPLETE'}  (${s.files.length} files: ${count('downloaded')} fetched, ${count('skipped')} already complete${count('failed') ? `, ${count('failed')} failed` : ''}${count('unavailable') ? `, ${count('unavailable')} without upstream` : ''})`);
  }
  emitJson(p, summarize(result));
  const problem = failureMessage(result);
  if (problem) throw new UserError(problem);
  return 0;
}

function summarize(r: DownloadResult): unknown {
  return {
    source: r.source,
    dataDir: dataDir(),
    seconds: Number(r.seconds.toFixed(2)),
    bytesDownloaded: r.bytesDownloaded,
    sets: r.sets.map((s) => ({
      name: s.name,
      complete: s.complete,
      downloaded: s.files.filter((f) => f.result === 'downloaded').length,
      skipped: s.files.filter((f) => f.result === 'skipped').length,
      failed: s.files.flatMap((f) => (f.result === 'failed' ? [{ path: f.path, error: f.error }] : [])),
      unavailable: s.files.flatMap((f) => (f.result === 'unavailable' ? [{ path: f.path, reason: f.reason }] : [])),
    })),
  };
}

/** One message for everything that went wrong, naming files and the command that fixes them. */
function failureMessage(r: DownloadResult): string | undefined {
  const lines: string[] = [];
  for (const s of r.sets) {
    const failed = s.files.filter((f) => f.result === 'failed');
    const unavailable = s.files.filter((f) => f.result === 'unavailable');
    for (const f of failed.slice(0, 5)) if (f.result === 'failed') lines.push(`  ${s.name}/${f.path}: ${f.error}`);
    if (failed.length > 5) lines.push(`  ... and ${failed.length - 5} more files of ${s.name}`);
    if (failed.length) lines.push(`  -> run \`${fixCommand(s.name)}\` again to retry`);
    if (unavailable.length) {
      for (const f of unavailable.slice(0, 5)) if (f.result === 'unavailable') lines.push(`  ${s.name}/${f.path}: no upstream we can fetch (${f.reason})`);
      if (unavailable.length > 5) lines.push(`  ... and ${unavailable.length - 5} more files of ${s.name} (same reason)`);
      lines.push(`  -> ${MIRROR_HINT}, then run \`${fixCommand(s.name)}\``);
    }
  }
  return lines.length ? `some data files could not be fetched (from ${r.source}):\n${lines.join('\n')}` : undefined;
}

async function list(argv: string[]): Promise<number> {
  const p = parse('data list', 'Show every data set with its state (complete / missing / partial) and sizes.', {
    verify: { type: 'boolean', default: false, help: 'check sha256 of every file (default: presence and size only)' },
  }, argv);
  const say = out(p);
  const reports = [];
  say(`data folder: ${dataDir()}${process.env.NANOCHAT_DATA_MIRROR ? `  (mirror: ${process.env.NANOCHAT_DATA_MIRROR})` : ''}`);
  for (const set of DATASETS) {
    const r = await checkDataset(set, { full: Boolean(p.values.verify) });
    reports.push(r);
    const bad = r.files.filter((f) => f.status !== 'ok');
    say(`${set.name.padEnd(22)} ${r.state.padEnd(9)} ${mb(r.bytesPresent).padStart(9)} of ${mb(r.bytesExpected).padStart(9)}  ${String(r.files.length).padStart(3)} files  ${set.summary}`);
    if (r.state === 'partial') {
      for (const f of bad.slice(0, 3)) say(`${''.padEnd(24)}${f.status}: ${f.path}`);
      if (bad.length > 3) say(`${''.padEnd(24)}... ${bad.length - 3} more`);
    }
  }
  if (reports.some((r) => r.state !== 'complete')) say(`fix: nanochat data download [--only NAME]`);
  emitJson(p, { dataDir: dataDir(), sets: reports.map((r) => ({ name: r.name, state: r.state, bytesPresent: r.bytesPresent, bytesExpected: r.bytesExpected, files: r.files.length, bad: r.files.filter((f) => f.status !== 'ok') })) });
  return 0;
}

/** The table of checksums.ts for a data folder: every file below a set folder. */
async function checksums(argv: string[]): Promise<number> {
  const p = parse('data checksums', 'Print the size/sha256 table (src/data/checksums.ts entries) of a data folder laid out like $NANOCHAT_BASE_DIR/data.', {}, argv, true);
  const root = p.positionals[0];
  if (!root) throw new UserError('usage: nanochat data checksums FOLDER');
  const files: string[] = [];
  const walk = (d: string) => {
    for (const n of readdirSync(d).sort()) {
      const f = join(d, n);
      if (statSync(f).isDirectory()) walk(f);
      else if (relative(root, f).includes(sep)) files.push(f); // top-level files (README) belong to no set
    }
  };
  walk(root);
  const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
  for (const f of files) {
    const b = readFileSync(f);
    const gz = f.endsWith('.gz') ? gunzipSync(b) : undefined;
    process.stdout.write(`  '${relative(root, f).split(sep).join('/')}': [${b.length}, '${sha(b)}'${gz ? `, ${gz.length}, '${sha(gz)}'` : ''}],\n`);
  }
  return 0;
}
