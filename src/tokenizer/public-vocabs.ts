// GPT-2 and GPT-4 (cl100k_base) vocabularies, read at run time from the rank files that the `tiktoken`
// npm package ships (node_modules/tiktoken/encoders/NAME.json), so our encoder runs the real ones.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { BpeTokenizer } from './bpe.js';
import type { PatternName } from './pattern.js';
import { UserError } from '../common/errors.js';

export type PublicVocab = 'gpt2' | 'cl100k_base';
export const PUBLIC_VOCABS: readonly PublicVocab[] = ['gpt2', 'cl100k_base'];

const PATTERN: Record<PublicVocab, PatternName> = { gpt2: 'gpt2', cl100k_base: 'cl100k' };

/**
 * The package's format: one space-separated line; "!" followed by a number sets the rank of the
 * next token, then each base64 token takes the next rank (cl100k: "! 0" then 100,256 tokens).
 */
function parsePackedRanks(packed: string): Uint8Array[] {
  const tokens: Uint8Array[] = [];
  const parts = packed.split(' ');
  let rank = 0;
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i];
    if (p === '!') {
      rank = Number(parts[++i]);
      continue;
    }
    if (p === '') continue;
    tokens[rank++] = Buffer.from(p, 'base64');
  }
  return tokens;
}

export function loadPublicVocab(name: PublicVocab): BpeTokenizer {
  const require = createRequire(import.meta.url);
  let file: string;
  try {
    file = require.resolve(`tiktoken/encoders/${name}.json`);
  } catch {
    throw new UserError(`the ${name} vocabulary comes from the 'tiktoken' npm package, which is not installed: run \`npm install\``);
  }
  const data = JSON.parse(readFileSync(file, 'utf8')) as { bpe_ranks: string; special_tokens: Record<string, number> };
  return new BpeTokenizer({ name, tokens: parsePackedRanks(data.bpe_ranks), pattern: PATTERN[name], specials: data.special_tokens });
}
