// A hand-written scanner for the split patterns: the same chunks as the regexes in pattern.ts (tested
// chunk for chunk against them, and id for id against tiktoken), about twice as fast, because it
// allocates nothing per chunk but the chunk itself and classifies chars with one table lookup.
//
// Each function returns where the chunk starting at `i` ends, trying the pattern's alternatives in
// order, exactly as a backtracking engine does; comments name the alternative.

/** Character classes. WS = White_Space other than \r \n; NL = \r or \n; O = everything else. */
const O = 0, L = 1, N = 2, WS = 3, NL = 4, HIGH = 5;

let BMP: Uint8Array | undefined;
const astral = new Map<number, number>();
const LETTER = /\p{L}/u;
const NUMBER = /\p{N}/u;
const WHITE = /[\t-\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/u;

function classify(cp: number): number {
  const s = String.fromCodePoint(cp);
  if (cp === 10 || cp === 13) return NL;
  if (WHITE.test(s)) return WS;
  if (LETTER.test(s)) return L;
  if (NUMBER.test(s)) return N;
  return O;
}

/** The class of every UTF-16 code unit, built once (65,536 regex tests, ~20 ms). */
function table(): Uint8Array {
  if (BMP) return BMP;
  const t = new Uint8Array(65536);
  for (let c = 0; c < 65536; c++) t[c] = c >= 0xd800 && c <= 0xdfff ? O : classify(c);
  for (let c = 0xd800; c <= 0xdbff; c++) t[c] = HIGH; // a pair's class depends on the code point
  BMP = t;
  return t;
}

export class Scanner {
  private readonly t = table();
  /** width (1 or 2 code units) of the code point classified by the last `cls` call */
  private w = 1;

  constructor(private readonly maxDigits: number, private readonly gpt2: boolean) {}

  /** Class of the code point at i (sets this.w). Lone surrogates are O, like the U+FFFD they become. */
  private cls(s: string, i: number): number {
    const c = s.charCodeAt(i);
    const k = this.t[c];
    this.w = 1;
    if (k !== HIGH) return k;
    const lo = s.charCodeAt(i + 1);
    if (!(lo >= 0xdc00 && lo <= 0xdfff)) return O;
    this.w = 2;
    const cp = ((c - 0xd800) << 10) + (lo - 0xdc00) + 0x10000;
    let a = astral.get(cp);
    if (a === undefined) astral.set(cp, (a = classify(cp)));
    return a;
  }

  /** End of the run of code points of class k starting at i (at most `max` of them). */
  private run(s: string, i: number, n: number, k: number, max = Infinity): number {
    let count = 0;
    while (i < n && count < max && this.cls(s, i) === k) {
      i += this.w;
      count++;
    }
    return i;
  }

  /** End of the whitespace run (WS or NL; all BMP) starting at i. */
  private spaces(s: string, i: number, n: number): number {
    const t = this.t;
    while (i < n) {
      const k = t[s.charCodeAt(i)];
      if (k !== WS && k !== NL) break;
      i++;
    }
    return i;
  }

  /** Where the chunk that starts at i ends (i < s.length). */
  next(s: string, i: number): number {
    return this.gpt2 ? this.nextGpt2(s, i) : this.nextGpt4(s, i);
  }

  // '(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}+|\p{N}{1,D}| ?[^\s\p{L}\p{N}]++[\r\n]*|\s*[\r\n]|\s+(?!\S)|\s+
  private nextGpt4(s: string, i: number): number {
    const n = s.length;
    const ch = s.charCodeAt(i);
    if (ch === 39 && i + 1 < n) {
      // '(?i:[sdmt]|ll|ve|re), with Unicode simple case folding (s also folds with U+017F)
      const c1 = s.charCodeAt(i + 1) | 0x20;
      if (c1 === 0x73 || c1 === 0x64 || c1 === 0x6d || c1 === 0x74 || s.charCodeAt(i + 1) === 0x17f) return i + 2;
      if (i + 2 < n) {
        const c2 = s.charCodeAt(i + 2) | 0x20;
        if ((c1 === 0x6c && c2 === 0x6c) || (c1 === 0x76 && c2 === 0x65) || (c1 === 0x72 && c2 === 0x65)) return i + 3;
      }
    }
    const k0 = this.cls(s, i);
    const w0 = this.w;
    // [^\r\n\p{L}\p{N}]?\p{L}+
    if (k0 === L) return this.run(s, i, n, L);
    if ((k0 === O || k0 === WS) && i + w0 < n && this.cls(s, i + w0) === L) return this.run(s, i + w0, n, L);
    // \p{N}{1,D}
    if (k0 === N) return this.run(s, i, n, N, this.maxDigits);
    // ' ?[^\s\p{L}\p{N}]+[\r\n]*'
    let j = i;
    if (ch === 32 && i + 1 < n && this.cls(s, i + 1) === O) j = i + 1;
    if (j > i || k0 === O) {
      j = this.run(s, j, n, O);
      while (j < n && (s.charCodeAt(j) === 10 || s.charCodeAt(j) === 13)) j++;
      return j;
    }
    // whitespace from here on: \s*[\r\n] ends after the run's last line break
    const r = this.spaces(s, i, n);
    for (let k = r - 1; k >= i; k--) {
      const c = s.charCodeAt(k);
      if (c === 10 || c === 13) return k + 1;
    }
    // \s+(?!\S): the whole run at the end of text, else all but its last char; \s+ for a single char
    if (r === n) return r;
    return r - i >= 2 ? r - 1 : r;
  }

  // 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
  private nextGpt2(s: string, i: number): number {
    const n = s.length;
    const ch = s.charCodeAt(i);
    if (ch === 39 && i + 1 < n) {
      const c1 = s.charCodeAt(i + 1);
      if (c1 === 0x73 || c1 === 0x74 || c1 === 0x6d || c1 === 0x64) return i + 2;
      if (i + 2 < n) {
        const c2 = s.charCodeAt(i + 2);
        if ((c1 === 0x72 && c2 === 0x65) || (c1 === 0x76 && c2 === 0x65) || (c1 === 0x6c && c2 === 0x6c)) return i + 3;
      }
    }
    // ' ?' then letters, numbers or others (the three classes are disjoint, so order does not matter)
    if (ch === 32 && i + 1 < n) {
      const k1 = this.cls(s, i + 1);
      if (k1 === L || k1 === N || k1 === O) return this.run(s, i + 1, n, k1);
    }
    const k0 = this.cls(s, i);
    if (k0 === L || k0 === N || k0 === O) return this.run(s, i, n, k0);
    const r = this.spaces(s, i, n);
    if (r === n) return r;
    return r - i >= 2 ? r - 1 : r;
  }
}
