// Reading the data sets the chat tasks are built from, with a clear fix when a file is missing.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { UserError } from '../common/errors.js';
import { dataDir } from '../common/paths.js';

/** The folder holding the data sets (`nanochat data download` fills it). */
export const defaultDataDir = (): string => dataDir();

/** Absolute path of `relPath` inside data set `set`, or a UserError saying how to get it. */
export function dataFile(dir: string, set: string, relPath: string): string {
  const path = join(dir, set, relPath);
  if (!existsSync(path)) {
    throw new UserError(`missing data file ${path}: run \`nanochat data download --only ${set}\` (data directory: ${dir})`);
  }
  return path;
}

/** Text of a data file; .gz files are decompressed. */
export function readDataText(dir: string, set: string, relPath: string): string {
  const path = dataFile(dir, set, relPath);
  const raw = readFileSync(path);
  return (path.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8');
}

/** The rows of a .jsonl data file, parsed; a malformed line is reported with its number. */
export function readJsonl<T = unknown>(dir: string, set: string, relPath: string): T[] {
  const text = readDataText(dir, set, relPath);
  const rows: T[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    try {
      rows.push(JSON.parse(line) as T);
    } catch (e) {
      throw new UserError(`${join(dir, set, relPath)} line ${i + 1} is not valid JSON (${(e as Error).message}); re-download with \`nanochat data download --only ${set}\``);
    }
  });
  return rows;
}
