// Shared by the tokenizer tests: the tiktoken peers, adversarial text and samples of every data set.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { get_encoding, Tiktoken } from 'tiktoken';
import { loadPublicVocab } from '../../src/tokenizer/public-vocabs.js';
import { BpeTokenizer } from '../../src/tokenizer/bpe.js';
import { REFERENCE_PATTERNS } from '../../src/tokenizer/pattern.js';
import { ranksText } from '../../src/tokenizer/io.js';

/** A pair of encoders that must agree: ours and tiktoken (the WASM build of the Rust original). */
export interface Peer {
  name: string;
  ours: BpeTokenizer;
  theirs: { encode_ordinary(text: string): Uint32Array };
}

let peers: Peer[] | undefined;

/**
 * gpt2 and cl100k_base as published, and our split pattern (the reference's possessive spelling,
 * run by tiktoken's fancy-regex) over the cl100k ranks: that proves our JS splitter for it.
 */
export function allPeers(): Peer[] {
  if (peers) return peers;
  const cl = loadPublicVocab('cl100k_base');
  peers = [
    { name: 'gpt2', ours: loadPublicVocab('gpt2'), theirs: get_encoding('gpt2') },
    { name: 'cl100k_base', ours: cl, theirs: get_encoding('cl100k_base') },
    {
      name: 'ours-pattern(cl100k ranks)',
      ours: new BpeTokenizer({ name: 'digits2', tokens: cl.tokens, pattern: 'gpt4-digits2', specials: {} }),
      theirs: new Tiktoken(ranksText(cl), {}, REFERENCE_PATTERNS['gpt4-digits2']),
    },
  ];
  return peers;
}

/**
 * Peers whose ids reveal the chunk boundaries themselves: the vocabulary is the 256 bytes plus every
 * 2-byte pair, so inside a chunk bytes pair up from its start and a boundary shows as a restart.
 * (The published vocabularies cannot tell e.g. whether "'ſ" is a contraction chunk; this can.)
 */
export function boundaryPeers(): Peer[] {
  const tokens: Uint8Array[] = [];
  for (let b = 0; b < 256; b++) tokens.push(Uint8Array.of(b));
  for (let a = 0; a < 256; a++) for (let b = 0; b < 256; b++) tokens.push(Uint8Array.of(a, b));
  const ranks = tokens.map((t, i) => `${Buffer.from(t).toString('base64')} ${i}`).join('\n');
  return (['gpt4-digits2', 'cl100k', 'gpt2'] as const).map((pattern) => ({
    name: `pairs-vocab(${pattern})`,
    ours: new BpeTokenizer({ name: 'pairs', tokens, pattern, specials: {} }),
    theirs: new Tiktoken(ranks, {}, REFERENCE_PATTERNS[pattern]),
  }));
}

/** Hand-written edge cases: every place where the patterns' alternatives compete. */
export const ADVERSARIAL: string[] = [
  '',
  ' ',
  'Hello world',
  "It's 'S 'LL 'Ll 'lL I'M you'RE they've he'd she'D 'T 'ſ 'ſa don't DON'T ''s '",
  'a\r\nb\r\n\r\nc\n\n\nd\r\r\re \n \n x\n\t\nx',
  'trailing spaces    ',
  '    leading spaces',
  'two  spaces   three    four\u00a0\u00a0nbsp\u3000ideo',
  'tabs\t\tand\t newline \t\n  \n',
  'digits 1 12 123 1234 12345 123456 1234567 3.14159 1,000,000 -42 +7 0x1F 1e10',
  'other digits ١٢٣٤٥ ०१२३ ½ ¾ Ⅻ ² 𝟙𝟚𝟛 ①②',
  'emoji 😀😃😄 👍🏽 👨‍👩‍👧‍👦 🇫🇷🇩🇪 ❤️ a😀b',
  'combining e\u0301 a\u0308\u0301 n\u0303 \u0301x Z\u0335\u0321a\u0337',
  'CJK 日本語のテキストです。中文文本。한국어 텍스트입니다.',
  'RTL العربية עברית mixed with English.',
  'Cyrillic Привет, мир! Greek Γειά σου κόσμε.',
  'punct !!! ??? ... --- *** ### @@@ ``` ~~~ ((( ))) [[[ ]]] {{{ }}} <<< >>>',
  ' !x  !x\n!x\n !\n\n ...\r\n',
  'code: def f(x):\n    return x**2  # comment\n\tif (a && b) { c++; }\n',
  'url https://example.com/a_b-c?d=e&f=g#h email a.b@c.de',
  'NEL\u0085x \u0085\u0085 y\u2028z\u2029w BOM\ufeffq \ufeff \u200b zero\u200bwidth \u200d',
  'lone surrogates \ud800 a\udc00b \udbff\udfff ok \ud83d',
  'control \u0000\u0001\u0007\u001b[31m x \u007f',
  "mixed'case'S'LL'VE'RE'M'D's'll're'T",
  '   \n   \n',
  '\n',
  '\r\n',
  ' \r\n ',
  'a' + ' '.repeat(50) + 'b' + '\n'.repeat(20) + 'c',
  'x'.repeat(300),
  '😀'.repeat(40),
];

/** Deterministic pseudo-random strings over the characters that trip pre-tokenizers. */
export function fuzzStrings(count: number, seed = 12345): string[] {
  const alphabet = [
    ' ', ' ', ' ', '\n', '\n', '\r', '\t', '\u000b', '\u0085', '\u00a0', '\u3000', '\ufeff', '\u200d',
    "'", "'", 's', 'S', 't', 'l', 'L', 'v', 'e', 'E', 'r', 'm', 'd', 'D', 'ſ', 'a', 'x', 'Z',
    '0', '1', '2', '9', '٣', '½', '𝟙',
    '.', ',', '!', '?', '-', '_', '(', ')', '"', '#', '$', '%', '/', '\\',
    'é', 'e\u0301', '\u0301', 'ß', 'д', 'Ω', 'ع', 'ש', '日', '本', '한', '국', 'ア',
    '😀', '👍🏽', '👨‍👩‍👧', '🇫🇷', '\ud800', '\udc00',
  ];
  let s = seed >>> 0;
  const rand = (n: number): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s % n;
  };
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const len = 1 + rand(30);
    let t = '';
    for (let k = 0; k < len; k++) t += alphabet[rand(alphabet.length)];
    out.push(t);
  }
  return out;
}

/** All string values of a JSON value, depth first. */
function strings(v: unknown, out: string[]): void {
  if (typeof v === 'string') out.push(v);
  else if (Array.isArray(v)) for (const x of v) strings(x, out);
  else if (v && typeof v === 'object') for (const x of Object.values(v)) strings(x, out);
}

/**
 * About `chars` characters of text from every file of the data mirror (jsonl: the string fields of
 * the first records; other text files: their beginning). undefined when NANOCHAT_DATA_MIRROR is unset.
 */
export function dataSamples(chars = 30_000): { file: string; text: string }[] | undefined {
  const mirror = process.env.NANOCHAT_DATA_MIRROR;
  if (!mirror) return undefined;
  const root = resolve(mirror);
  const files: string[] = [];
  const walk = (d: string): void => {
    for (const n of readdirSync(d).sort()) {
      const f = join(d, n);
      if (statSync(f).isDirectory()) walk(f);
      else if (/\.(jsonl|json|csv|txt|md|yaml)(\.gz)?$/.test(n)) files.push(f);
    }
  };
  walk(root);
  return files.map((f) => {
    let buf = readFileSync(f);
    if (f.endsWith('.gz')) buf = gunzipSync(buf);
    const raw = buf.subarray(0, chars * 8).toString('utf8');
    let text = '';
    if (/\.jsonl(\.gz)?$/.test(f)) {
      const parts: string[] = [];
      for (const line of raw.split('\n').slice(0, -1)) {
        try {
          strings(JSON.parse(line), parts);
        } catch {
          parts.push(line);
        }
        if (parts.reduce((a, p) => a + p.length, 0) > chars) break;
      }
      text = parts.join('\n');
    } else text = raw;
    return { file: f.slice(root.length + 1), text: text.slice(0, chars) };
  });
}
