// Saving and loading a tokenizer folder ($NANOCHAT_BASE_DIR/tokenizer by default):
//   tokenizer.tiktoken  tiktoken-style ranks: "<base64 token bytes> <rank>" per line (ids 0 .. V-10)
//   token_bytes.json    UTF-8 byte length of every id 0 .. V-1 (0 for special tokens), for bits per byte
//   tokenizer.json      pattern (reference spelling), special tokens with ids, vocab size, sha256 of the
//                       two files above, training stats. Written last: its presence marks a complete save.
// Each file is written to a temp name and renamed, so a crash never leaves a half-written file.

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { writeFileAtomic } from '../common/atomic.js';
import { join } from 'node:path';
import { BpeTokenizer } from './bpe.js';
import { REFERENCE_PATTERNS, patternNameOf } from './pattern.js';
import { loadPublicVocab, PUBLIC_VOCABS, type PublicVocab } from './public-vocabs.js';
import { tokenizerDir } from '../common/paths.js';
import { UserError } from '../common/errors.js';

export const RANKS_FILE = 'tokenizer.tiktoken';
export const TOKEN_BYTES_FILE = 'token_bytes.json';
export const META_FILE = 'tokenizer.json';

export interface TokenizerMeta {
  format: 'nanochat-ts-bpe';
  version: 1;
  name: string;
  vocabSize: number;
  pattern: string;
  specialTokens: Record<string, number>;
  sha256: { [RANKS_FILE]: string; [TOKEN_BYTES_FILE]: string };
  /** anything the trainer wants to remember (settings, stats) */
  training?: Record<string, unknown>;
}

const atomicWrite = (file: string, data: string): void => writeFileAtomic(file, [data]);

const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

/** The ranks file text: one "<base64> <rank>" line per token, in rank order. Same tokenizer, same bytes. */
export function ranksText(tok: BpeTokenizer): string {
  const lines: string[] = [];
  for (const [bytes, rank] of tok.ranks()) lines.push(`${Buffer.from(bytes).toString('base64')} ${rank}`);
  return lines.join('\n') + '\n';
}

export function saveTokenizer(tok: BpeTokenizer, dir = tokenizerDir(), training?: Record<string, unknown>): string {
  mkdirSync(dir, { recursive: true });
  const ranks = ranksText(tok);
  const tokenBytes = JSON.stringify([...tok.tokenBytes()]) + '\n';
  atomicWrite(join(dir, RANKS_FILE), ranks);
  atomicWrite(join(dir, TOKEN_BYTES_FILE), tokenBytes);
  const meta: TokenizerMeta = {
    format: 'nanochat-ts-bpe',
    version: 1,
    name: tok.name,
    vocabSize: tok.vocabSize,
    pattern: REFERENCE_PATTERNS[tok.pattern],
    specialTokens: Object.fromEntries(tok.specials),
    sha256: { [RANKS_FILE]: sha256(ranks), [TOKEN_BYTES_FILE]: sha256(tokenBytes) },
    ...(training ? { training } : {}),
  };
  atomicWrite(join(dir, META_FILE), JSON.stringify(meta, null, 2) + '\n');
  return dir;
}

/** Parse a tiktoken ranks file ("<base64> <rank>" lines). */
function parseRanks(text: string, where: string): Uint8Array[] {
  const tokens: Uint8Array[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line === '') continue;
    const sp = line.indexOf(' ');
    const rank = Number(line.slice(sp + 1));
    const b64 = line.slice(0, sp);
    if (sp <= 0 || !Number.isInteger(rank) || rank < 0 || !/^[A-Za-z0-9+/]+=*$/.test(b64)) throw corrupt(where, `line ${i + 1} is not "<base64> <rank>"`);
    tokens[rank] = Buffer.from(b64, 'base64');
  }
  return tokens;
}

function corrupt(dir: string, why: string): UserError {
  return new UserError(`the tokenizer in ${dir} is corrupt (${why}): run \`nanochat tok-train\` to train it again`);
}

/**
 * Load a tokenizer: ours from a folder (default $NANOCHAT_BASE_DIR/tokenizer), or 'gpt2' /
 * 'cl100k_base' from the tiktoken package's rank files. Missing or corrupt files are UserErrors that
 * name the fix.
 */
export function loadTokenizer(dirOrName?: string): BpeTokenizer {
  if (dirOrName && (PUBLIC_VOCABS as readonly string[]).includes(dirOrName)) return loadPublicVocab(dirOrName as PublicVocab);
  const dir = dirOrName ?? tokenizerDir();
  const metaPath = join(dir, META_FILE);
  if (!existsSync(metaPath)) throw new UserError(`no tokenizer in ${dir} (${META_FILE} is missing): run \`nanochat tok-train\` first`);
  let meta: TokenizerMeta;
  let ranks: string;
  try {
    meta = JSON.parse(readFileSync(metaPath, 'utf8')) as TokenizerMeta;
  } catch {
    throw corrupt(dir, `${META_FILE} is not valid JSON`);
  }
  if (meta.format !== 'nanochat-ts-bpe' || typeof meta.pattern !== 'string' || !meta.specialTokens || !meta.sha256) throw corrupt(dir, `${META_FILE} is not a nanochat-ts tokenizer description`);
  try {
    ranks = readFileSync(join(dir, RANKS_FILE), 'utf8');
  } catch {
    throw corrupt(dir, `${RANKS_FILE} is missing`);
  }
  if (sha256(ranks) !== meta.sha256[RANKS_FILE]) throw corrupt(dir, `${RANKS_FILE} does not match its checksum`);
  const pattern = patternNameOf(meta.pattern);
  if (!pattern) throw corrupt(dir, `unknown split pattern ${JSON.stringify(meta.pattern)}`);
  const tokens = parseRanks(ranks, dir);
  const hasByte = new Uint8Array(256);
  for (const t of tokens) if (t && t.length === 1) hasByte[t[0]] = 1;
  const missing = hasByte.indexOf(0);
  if (missing >= 0) throw corrupt(dir, `byte ${missing} has no token`);
  const tok = new BpeTokenizer({ name: meta.name ?? 'nanochat', tokens, pattern, specials: meta.specialTokens });
  if (tok.vocabSize !== meta.vocabSize) throw corrupt(dir, `vocab size ${tok.vocabSize} differs from the recorded ${meta.vocabSize}`);
  return tok;
}
