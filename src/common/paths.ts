// Where a run keeps its files: everything lives under $NANOCHAT_BASE_DIR (default ~/.cache/nanochat).

import { homedir } from 'node:os';
import { join } from 'node:path';

export function baseDir(): string {
  return process.env.NANOCHAT_BASE_DIR || join(homedir(), '.cache', 'nanochat');
}

export const dataDir = (): string => join(baseDir(), 'data');
export const tokenizerDir = (): string => join(baseDir(), 'tokenizer');
export const reportDir = (): string => join(baseDir(), 'report');
