// A throwaway $NANOCHAT_BASE_DIR with a byte-level tokenizer (256 bytes + the 9 specials, saved in
// the real on-disk format) and tiny random checkpoints, so the chat CLI and the server run for real
// in well under a second per start.

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BpeTokenizer } from '../../src/tokenizer/bpe.js';
import { saveTokenizer } from '../../src/tokenizer/io.js';
import { checkpointDir, saveCheckpoint, type Stage } from '../../src/checkpoint/checkpoint.js';
import { tokenizerIdentity } from '../../src/checkpoint/tokenizer-identity.js';
import { byteBpe } from '../helpers/byte-bpe.js';
import { tinyGpt } from '../engine/helpers.js';

export interface Fixture {
  baseDir: string;
  tok: BpeTokenizer;
  cleanup(): void;
}

/** Make a base dir with the tokenizer and one tiny checkpoint per stage given (tag d1, step 1). */
export async function makeFixture(stages: Stage[] = ['sft'], opts: { sequenceLen?: number; seed?: number } = {}): Promise<Fixture> {
  const baseDir = mkdtempSync(join(tmpdir(), 'nanochat-serve-'));
  const prev = process.env.NANOCHAT_BASE_DIR;
  process.env.NANOCHAT_BASE_DIR = baseDir;
  const tok = byteBpe();
  saveTokenizer(tok, join(baseDir, 'tokenizer'));
  for (const stage of stages) {
    const model = tinyGpt(tok.vocabSize, { seed: opts.seed ?? 11, sequenceLen: opts.sequenceLen ?? 1024 });
    await saveCheckpoint(checkpointDir(stage, 'd1'), model, { format: 1, stage, step: 1, modelConfig: model.config, tokenizer: tokenizerIdentity(tok), args: {} });
  }
  return {
    baseDir, tok,
    cleanup: () => {
      if (prev === undefined) delete process.env.NANOCHAT_BASE_DIR;
      else process.env.NANOCHAT_BASE_DIR = prev;
      rmSync(baseDir, { recursive: true, force: true });
    },
  };
}

export interface ServeProcess {
  /** the --json line's fields */
  url: string;
  model: string;
  /** its stderr so far */
  log(): string;
  /** SIGTERM, then its exit code */
  stop(): Promise<number | null>;
}

/** `nanochat serve --port 0 --json ...args` on `baseDir` as a process; resolves once it listens. */
export async function spawnServe(baseDir: string, args: string[]): Promise<ServeProcess> {
  const main = fileURLToPath(new URL('../../src/main.js', import.meta.url));
  const child = spawn(process.execPath, [main, 'serve', '--port', '0', '--json', ...args], {
    env: { ...process.env, NANOCHAT_BASE_DIR: baseDir }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr.on('data', (d) => { err += d; });
  const line = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      if (out.includes('\n')) resolve(out.split('\n')[0]);
    });
    child.on('exit', (c) => reject(new Error(`serve ${args.join(' ')} exited ${c}: ${err}`)));
  });
  const { url, model } = JSON.parse(line) as { url: string; model: string };
  return {
    url, model, log: () => err,
    stop: () => {
      child.kill('SIGTERM');
      return new Promise((resolve) => child.on('exit', (c) => resolve(c)));
    },
  };
}
