// The safe calculator behind the python tool.
//
// The model writes an expression between <|python_start|> and <|python_end|>; the engine asks this
// module for the answer and forces `<|output_start|>answer<|output_end|>` into the stream. The
// reference nanochat filtered the characters of the expression and then ran Python's eval() on it;
// we never evaluate code: this is a small recursive-descent parser for exactly the language the
// training data uses, evaluated on our own values.
//
// Accepted language (Python syntax, Python semantics):
//   expr    := term (('+' | '-') term)*
//   term    := unary (('*' | '/') unary)*
//   unary   := ('-' | '+') unary | primary
//   primary := NUMBER | '(' expr ')' | STRING '.count(' STRING ')'
//   NUMBER  := ASCII digits with an optional fraction ("12", "0.25", "3.", ".5")
//   STRING  := '...' or "..." with the escapes \\ \' \" \n \t
// Everything else is refused with a reason: names, calls other than .count, `**` (one short input
// can ask for a number with millions of digits), `//`, `%`, exponent literals, non-ASCII digits.
//
// Values follow Python: integers are exact (BigInt) and stay integers under + - *; `/` always
// gives a float (Python 3 true division); mixing an integer with a float gives a float.
//
// Output format (a deliberate, documented difference from the reference): the reference printed
// `str(result)`, so `48/2` answered "24.0" although GSM8K's annotations (what the model is trained
// on: `<<48/2=24>>`) write "24". We print integral floats below 1e16 without the ".0", so tool
// answers at inference look like the training data; other floats print as Python's repr would
// ("0.2", "0.30000000000000004", "1e-05", "1e+16"). Integers print in full.
//
// Limits: at most MAX_INPUT_CHARS characters, MAX_DEPTH nested parentheses/unary signs, and
// MAX_STEPS evaluation steps; these bound the time taken (linear in the input) so no timer is needed.
// Commas outside string literals are removed first, as the reference did, so "1,000*3" works.

export type CalcResult = { ok: true; value: string } | { ok: false; error: string };

export const MAX_INPUT_CHARS = 200;
const MAX_DEPTH = 32;
const MAX_STEPS = 2000;

/** A Python value the calculator can hold: exact integer, float, or string (only as .count's subject). */
type Value = { kind: 'int'; v: bigint } | { kind: 'float'; v: number } | { kind: 'str'; v: string };

class CalcError extends Error {}

/** Evaluate one tool expression; never throws. */
export function calculate(expression: string): CalcResult {
  try {
    if (typeof expression !== 'string') throw new CalcError('expression must be a string');
    if (expression.length > MAX_INPUT_CHARS) {
      throw new CalcError(`expression too long (${expression.length} characters, limit ${MAX_INPUT_CHARS})`);
    }
    const parser = new Parser(stripCommas(expression));
    const value = parser.parseAll();
    if (value.kind === 'str') throw new CalcError('the result must be a number, not a string');
    return { ok: true, value: formatValue(value) };
  } catch (e) {
    if (e instanceof CalcError) return { ok: false, error: e.message };
    // A RangeError from BigInt would be a bug in the limits above; still never crash the engine.
    return { ok: false, error: `internal error: ${(e as Error).message}` };
  }
}

/** Remove thousands separators (any comma outside quotes); quotes are left for the parser to check. */
function stripCommas(s: string): string {
  let out = '';
  let quote: string | null = null;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (quote) {
      out += c;
      if (c === '\\' && i + 1 < s.length) out += s[++i];
      else if (c === quote) quote = null;
    } else if (c === "'" || c === '"') {
      quote = c;
      out += c;
    } else if (c !== ',') {
      out += c;
    }
  }
  return out;
}

class Parser {
  private pos = 0;
  private depth = 0;
  private steps = 0;

  constructor(private readonly src: string) {}

  parseAll(): Value {
    this.skipSpaces();
    if (this.pos >= this.src.length) throw new CalcError('empty expression');
    const v = this.expr();
    this.skipSpaces();
    if (this.pos < this.src.length) throw this.unexpected();
    return v;
  }

  private step(): void {
    if (++this.steps > MAX_STEPS) throw new CalcError(`expression too complex (more than ${MAX_STEPS} steps)`);
  }

  private enter(): void {
    if (++this.depth > MAX_DEPTH) throw new CalcError(`expression nested too deeply (limit ${MAX_DEPTH})`);
  }

  private skipSpaces(): void {
    while (this.pos < this.src.length && (this.src[this.pos] === ' ' || this.src[this.pos] === '\t')) this.pos++;
  }

  private peek(): string {
    this.skipSpaces();
    return this.src[this.pos] ?? '';
  }

  private unexpected(): CalcError {
    const c = this.src[this.pos];
    if (c === undefined) return new CalcError('unexpected end of expression');
    if (c === '*' && this.src[this.pos + 1] === '*') return new CalcError('the exponent operator ** is not allowed');
    if (c === '/' && this.src[this.pos + 1] === '/') return new CalcError('floor division // is not supported');
    if (/[A-Za-z_]/.test(c)) return new CalcError(`names are not allowed (found '${this.src.slice(this.pos).match(/^[A-Za-z_]\w*/)?.[0]}')`);
    const shown = JSON.stringify(String.fromCodePoint(this.src.codePointAt(this.pos)!));
    return new CalcError(`unexpected character ${shown} at position ${this.pos}`);
  }

  private expr(): Value {
    let left = this.term();
    for (;;) {
      const c = this.peek();
      if (c !== '+' && c !== '-') return left;
      this.pos++;
      const right = this.term();
      this.step();
      left = c === '+' ? add(left, right) : sub(left, right);
    }
  }

  private term(): Value {
    let left = this.unary();
    for (;;) {
      const c = this.peek();
      if (c !== '*' && c !== '/') return left;
      const next = this.src[this.pos + 1];
      if (next === c) throw this.unexpected(); // ** or //
      this.pos++;
      const right = this.unary();
      this.step();
      left = c === '*' ? mul(left, right) : div(left, right);
    }
  }

  private unary(): Value {
    const c = this.peek();
    if (c === '-' || c === '+') {
      this.pos++;
      this.enter();
      const v = this.unary();
      this.depth--;
      this.step();
      return c === '-' ? neg(v) : pos(v);
    }
    return this.primary();
  }

  private primary(): Value {
    this.step();
    const c = this.peek();
    if (c === '(') {
      this.pos++;
      this.enter();
      const v = this.expr();
      this.depth--;
      if (this.peek() !== ')') throw this.src[this.pos] === undefined ? new CalcError("missing ')'") : this.unexpected();
      this.pos++;
      return v;
    }
    if ((c >= '0' && c <= '9') || c === '.') return this.number();
    if (c === "'" || c === '"') return this.countCall();
    throw this.unexpected();
  }

  private number(): Value {
    const m = /^(\d*)(\.(\d*))?/.exec(this.src.slice(this.pos))!;
    const [text, intPart, frac] = m;
    if (intPart === '' && (frac === undefined || m[3] === '')) throw this.unexpected(); // a lone "."
    this.pos += text.length;
    const after = this.src[this.pos];
    if (after !== undefined && /[A-Za-z_0-9]/.test(after)) {
      throw new CalcError(`malformed number '${text}${after}' (exponents, underscores and suffixes are not supported)`);
    }
    if (frac !== undefined) return { kind: 'float', v: Number(text) };
    // Python 3 rejects leading zeros in integers ("012"), except for zero itself ("00").
    if (intPart.length > 1 && intPart[0] === '0' && /[1-9]/.test(intPart)) {
      throw new CalcError(`leading zeros in integer '${intPart}' are not allowed`);
    }
    return { kind: 'int', v: BigInt(intPart) };
  }

  private string(): string {
    const quote = this.src[this.pos++];
    let s = '';
    for (;;) {
      const c = this.src[this.pos++];
      if (c === undefined) throw new CalcError('unterminated string literal');
      if (c === quote) return s;
      if (c === '\\') {
        const e = this.src[this.pos++];
        const escapes: Record<string, string> = { '\\': '\\', "'": "'", '"': '"', n: '\n', t: '\t' };
        if (e === undefined || !(e in escapes)) throw new CalcError(`unsupported escape '\\${e ?? ''}' in string`);
        s += escapes[e];
      } else {
        s += c;
      }
    }
  }

  /** STRING '.count(' STRING ')': Python's str.count, non-overlapping occurrences of a substring. */
  private countCall(): Value {
    const subject = this.string();
    this.skipSpaces();
    if (!this.src.startsWith('.count', this.pos)) {
      if (this.src[this.pos] === '.') throw new CalcError("the only string method allowed is .count('x')");
      return { kind: 'str', v: subject };
    }
    this.pos += '.count'.length;
    if (this.peek() !== '(') throw this.unexpected();
    this.pos++;
    const c = this.peek();
    if (c !== "'" && c !== '"') throw new CalcError(".count() takes one string literal, e.g. 'strawberry'.count('r')");
    const needle = this.string();
    if (this.peek() !== ')') throw new CalcError(".count() takes exactly one string argument");
    this.pos++;
    return { kind: 'int', v: BigInt(countOccurrences(subject, needle)) };
  }
}

/** Python's str.count: non-overlapping matches scanning left to right; '' matches len+1 times. */
function countOccurrences(haystack: string, needle: string): number {
  const chars = Array.from(haystack); // Python counts code points, not UTF-16 units
  if (needle === '') return chars.length + 1;
  let n = 0;
  for (let i = haystack.indexOf(needle); i !== -1; i = haystack.indexOf(needle, i + needle.length)) n++;
  return n;
}

function numeric(v: Value, op: string): asserts v is Exclude<Value, { kind: 'str' }> {
  if (v.kind === 'str') throw new CalcError(`a string cannot be used with '${op}'`);
}

const toFloat = (v: Exclude<Value, { kind: 'str' }>): number => (v.kind === 'int' ? Number(v.v) : v.v);

function finite(x: number): Value {
  if (!Number.isFinite(x)) throw new CalcError('numerical result out of range');
  return { kind: 'float', v: x };
}

function add(a: Value, b: Value): Value {
  numeric(a, '+');
  numeric(b, '+');
  return a.kind === 'int' && b.kind === 'int' ? { kind: 'int', v: a.v + b.v } : finite(toFloat(a) + toFloat(b));
}

function sub(a: Value, b: Value): Value {
  numeric(a, '-');
  numeric(b, '-');
  return a.kind === 'int' && b.kind === 'int' ? { kind: 'int', v: a.v - b.v } : finite(toFloat(a) - toFloat(b));
}

function mul(a: Value, b: Value): Value {
  numeric(a, '*');
  numeric(b, '*');
  return a.kind === 'int' && b.kind === 'int' ? { kind: 'int', v: a.v * b.v } : finite(toFloat(a) * toFloat(b));
}

function div(a: Value, b: Value): Value {
  numeric(a, '/');
  numeric(b, '/');
  if ((b.kind === 'int' && b.v === 0n) || (b.kind === 'float' && b.v === 0)) throw new CalcError('division by zero');
  return finite(toFloat(a) / toFloat(b));
}

function neg(a: Value): Value {
  numeric(a, '-');
  return a.kind === 'int' ? { kind: 'int', v: -a.v } : { kind: 'float', v: -a.v };
}

function pos(a: Value): Value {
  numeric(a, '+');
  return a;
}

function formatValue(v: Exclude<Value, { kind: 'str' }>): string {
  if (v.kind === 'int') return v.v.toString();
  const x = v.v;
  if (Number.isInteger(x) && Math.abs(x) < 1e16) return (x === 0 ? 0 : x).toFixed(0); // see header: no ".0"
  return pythonFloatRepr(x);
}

/**
 * Python's repr() of a float: the shortest digits that round-trip (the same digits JavaScript
 * picks), written in positional notation when the decimal exponent is in [-4, 16), else as
 * d.ddde+XX with at least two exponent digits.
 */
export function pythonFloatRepr(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const sign = x < 0 ? '-' : '';
  const [mantissa, expText] = Math.abs(x).toExponential().split('e');
  const digits = mantissa.replace('.', '');
  const exp = Number(expText);
  if (exp >= -5 + 1 && exp < 16) {
    if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
    const intPart = digits.slice(0, exp + 1).padEnd(exp + 1, '0');
    const frac = digits.slice(exp + 1);
    return `${sign}${intPart}.${frac === '' ? '0' : frac}`;
  }
  const mant = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
  const e = Math.abs(exp).toString().padStart(2, '0');
  return `${sign}${mant}e${exp < 0 ? '-' : '+'}${e}`;
}
