// The pre-split patterns: text is cut into chunks and BPE never merges across a chunk boundary.
//
// The reference pattern (nanochat's: the GPT-4 pattern with digits in groups of 1-2) is written
// for Rust's fancy-regex with possessive quantifiers (`?+`, `++`). JavaScript regexes have neither
// possessive quantifiers nor atomic groups, so we build an equivalent JS regex, and here is why it
// splits identically:
//
// 1. `[^\r\n\p{L}\p{N}]?+\p{L}+`: possessive `?+` only differs from `?` when, after taking the
//    optional char, `\p{L}+` fails and the engine retries *without* it. Then `\p{L}+` must match at
//    the optional char's own position, but that char is by construction not a letter: it fails too.
//    So `?` and `?+` accept the same strings at the same positions.
// 2. ` ?[^\s\p{L}\p{N}]++[\r\n]*`: the tail `[\r\n]*` can never fail, so nothing after `++` can force
//    a backtrack into it: `+` and `++` give the same (greedy, maximal) match. Dropping the optional
//    space would make `[^\s...]` start on that space, which is whitespace: no alternative match either.
// 3. `\s+(?!\S)` keeps its meaning in JS (plain backtracking + negative lookahead): on "   x" it
//    matches "  " and leaves " x" for the letter alternative, exactly like the reference.
// 4. `\s` differs between engines: Rust's `\s` is Unicode White_Space (includes U+0085 NEL,
//    excludes U+FEFF BOM); JS's `\s` is the opposite on both. We spell the class out explicitly.
// 5. `(?i:...)` inline case-insensitivity does not exist in Node 20: the contractions are expanded by
//    hand with Unicode simple case folding, which also folds `s` with U+017F LATIN SMALL LETTER LONG S.
// 6. Lone surrogates cannot be UTF-8 encoded; like tiktoken (TextEncoder), we replace them with
//    U+FFFD before splitting (see `wellFormed`).
//
// `\s*[\r\n]` (ours) and `\s*[\r\n]+` (cl100k) also match the same text: both end right after the
// last line break of the whitespace run, because `\s*` is greedy and gives back only what it must.

import { Scanner } from './scanner.js';

/** Unicode White_Space, i.e. Rust regex `\s` (25 code points), as the body of a character class. */
const WS = '\\t-\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';

export type PatternName = 'gpt4-digits2' | 'cl100k' | 'gpt2';

/** The reference spellings (stored in saved tokenizers so other tools can reproduce the split). */
export const REFERENCE_PATTERNS: Record<PatternName, string> = {
  'gpt4-digits2': "'(?i:[sdmt]|ll|ve|re)|[^\\r\\n\\p{L}\\p{N}]?+\\p{L}+|\\p{N}{1,2}| ?[^\\s\\p{L}\\p{N}]++[\\r\\n]*|\\s*[\\r\\n]|\\s+(?!\\S)|\\s+",
  cl100k: "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
  gpt2: "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+",
};

/** Name of a reference pattern string, or undefined when we have no equivalent JS splitter for it. */
export function patternNameOf(reference: string): PatternName | undefined {
  return (Object.keys(REFERENCE_PATTERNS) as PatternName[]).find((k) => REFERENCE_PATTERNS[k] === reference);
}

/** The GPT-4 family pattern with digit groups of 1..maxDigits (2 for ours, 3 for cl100k). */
function gpt4Regex(maxDigits: number): RegExp {
  const s = `[${WS}]`;
  const notS = `[^${WS}]`;
  const contraction = "'(?:[sdmtSDMT\\u017f]|[lL][lL]|[vV][eE]|[rR][eE])";
  const src = [
    contraction,
    '[^\\r\\n\\p{L}\\p{N}]?\\p{L}+',
    `\\p{N}{1,${maxDigits}}`,
    ` ?[^${WS}\\p{L}\\p{N}]+[\\r\\n]*`,
    `${s}*[\\r\\n]`,
    `${s}+(?!${notS})`,
    `${s}+`,
  ].join('|');
  return new RegExp(src, 'gu');
}

/** GPT-2's pattern (case-sensitive contractions, optional leading space on words/numbers/punctuation). */
function gpt2Regex(): RegExp {
  const s = `[${WS}]`;
  const notS = `[^${WS}]`;
  const src = `'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^${WS}\\p{L}\\p{N}]+|${s}+(?!${notS})|${s}+`;
  return new RegExp(src, 'gu');
}

function regexFor(name: PatternName): RegExp {
  return name === 'gpt2' ? gpt2Regex() : gpt4Regex(name === 'cl100k' ? 3 : 2);
}

type WellFormedString = string & { isWellFormed(): boolean; toWellFormed(): string };

/** Replace lone surrogates with U+FFFD (what UTF-8 encoding does anyway); a no-op for normal text. */
export function wellFormed(text: string): string {
  const t = text as WellFormedString;
  return t.isWellFormed() ? text : t.toWellFormed();
}

/**
 * Cuts text into chunks. Every code point belongs to exactly one chunk (the last alternative `\s+`
 * and the letter/number/other alternatives cover everything), so the chunks concatenate to the text.
 * Runs the hand-written scanner (scanner.ts); `regexSplit` is the regex it is tested against.
 */
export class Splitter {
  private readonly scanner: Scanner;
  constructor(readonly name: PatternName) {
    this.scanner = new Scanner(name === 'cl100k' ? 3 : 2, name === 'gpt2');
  }

  /** Call `fn` for each chunk, in order (no array allocated). */
  forEach(text: string, fn: (chunk: string) => void): void {
    const s = wellFormed(text);
    const n = s.length;
    const sc = this.scanner;
    for (let i = 0; i < n; ) {
      const j = sc.next(s, i);
      fn(s.slice(i, j));
      i = j;
    }
  }

  split(text: string): string[] {
    const out: string[] = [];
    this.forEach(text, (c) => out.push(c));
    return out;
  }
}

/** The chunks by the JS regex of the pattern (the reference the scanner is tested against). */
export function regexSplit(name: PatternName, text: string): string[] {
  return wellFormed(text).match(regexFor(name)) ?? [];
}

const LETTER = /\p{L}/u;
const SPACE = new RegExp(`[${WS}]`, 'u');

/**
 * Positions where a long text can be cut and each part split on its own with the same chunks as the
 * whole (used to encode one big text on several threads). A cut before a letter that follows a
 * single "\n" that follows a non-space char is safe for all three patterns: no alternative can match
 * across "\n" + letter, the "\n" is a chunk of its own or ends the chunk before it under both
 * `\s*[\r\n]` and `\s+(?!\S)` / `\s+`, and the letter starts a fresh match (the patterns never look
 * behind). Returns up to `parts - 1` cut offsets, near equal spacing.
 */
export function safeCuts(text: string, parts: number): number[] {
  const cuts: number[] = [];
  const step = Math.floor(text.length / parts);
  for (let k = 1; k < parts; k++) {
    let i = Math.max(k * step, (cuts[cuts.length - 1] ?? 0) + 1);
    for (; i < text.length; i++) {
      if (text.charCodeAt(i - 1) !== 10) continue;
      const before = text[i - 2];
      if (before === undefined || SPACE.test(before)) continue;
      if (LETTER.test(String.fromCodePoint(text.codePointAt(i)!))) break;
    }
    if (i >= text.length) break;
    cuts.push(i);
  }
  return cuts;
}
