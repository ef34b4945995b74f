// A deliberately small YAML reader: enough for core.yaml (and similar config files) without a dependency.
//
// Supported: comments, block mappings (`key: value`), block sequences (`- item`, including a bare `-`
// followed by an indented mapping, and `- key: value` starting a mapping inline), flow sequences of
// scalars (`[0, 1]`), and scalars: double-quoted (with escapes), single-quoted, plain (null, booleans,
// integers, floats, otherwise a string). Anything else (anchors, multi-line scalars, flow mappings,
// tabs for indentation) is rejected with the line number instead of being misread.

export type YamlValue = null | boolean | number | string | YamlValue[] | { [key: string]: YamlValue };

interface Line {
  indent: number;
  text: string; // without indentation and trailing comment
  no: number; // 1-based line number, for messages
}

export function parseYaml(source: string): YamlValue {
  const lines: Line[] = [];
  source.split(/\r?\n/).forEach((raw, i) => {
    const lead = /^[ \t]*/.exec(raw)![0];
    if (lead.includes('\t') && raw.trim() !== '') throw new Error(`yaml line ${i + 1}: tabs are not allowed for indentation`);
    const text = stripComment(raw.slice(lead.length)).trimEnd();
    if (text === '' || text === '---') return;
    lines.push({ indent: lead.length, text, no: i + 1 });
  });
  if (lines.length === 0) return null;
  const state = { pos: 0 };
  const value = parseBlock(lines, state, lines[0].indent);
  if (state.pos < lines.length) throw new Error(`yaml line ${lines[state.pos].no}: unexpected '${lines[state.pos].text}' (indentation or structure)`);
  return value;
}

/** Remove a `# comment` that is not inside quotes. */
function stripComment(s: string): string {
  let quote: string | null = null;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (quote) {
      if (c === '\\' && quote === '"') i++;
      else if (c === quote) quote = null;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '#' && (i === 0 || s[i - 1] === ' ')) return s.slice(0, i);
  }
  return s;
}

function parseBlock(lines: Line[], state: { pos: number }, indent: number): YamlValue {
  const first = lines[state.pos];
  return first.text === '-' || first.text.startsWith('- ') ? parseSequence(lines, state, indent) : parseMapping(lines, state, indent);
}

function parseSequence(lines: Line[], state: { pos: number }, indent: number): YamlValue[] {
  const out: YamlValue[] = [];
  while (state.pos < lines.length && lines[state.pos].indent === indent) {
    const line = lines[state.pos];
    if (!(line.text === '-' || line.text.startsWith('- '))) break; // e.g. the next key of a mapping that holds this sequence
    const rest = line.text.slice(1).trimStart();
    if (rest === '') {
      // `-` alone: the item is the more-indented block below (or null if there is none).
      state.pos++;
      if (state.pos < lines.length && lines[state.pos].indent > indent) out.push(parseBlock(lines, state, lines[state.pos].indent));
      else out.push(null);
    } else if (isMappingEntry(rest)) {
      // `- key: value`: a mapping whose first key sits after the dash; treat it as indented there.
      const inner = indent + (line.text.length - rest.length);
      lines[state.pos] = { indent: inner, text: rest, no: line.no };
      out.push(parseMapping(lines, state, inner));
    } else {
      state.pos++;
      out.push(parseScalarOrFlow(rest, line.no));
    }
  }
  return out;
}

function parseMapping(lines: Line[], state: { pos: number }, indent: number): { [key: string]: YamlValue } {
  const out: { [key: string]: YamlValue } = {};
  while (state.pos < lines.length && lines[state.pos].indent === indent) {
    const line = lines[state.pos];
    const m = /^("(?:[^"\\]|\\.)*"|'[^']*'|[^:'"][^:]*?)\s*:(?:\s+(.*))?$/.exec(line.text);
    if (!m) throw new Error(`yaml line ${line.no}: expected 'key: value', got '${line.text}'`);
    const key = String(parseScalarOrFlow(m[1], line.no));
    if (Object.prototype.hasOwnProperty.call(out, key)) throw new Error(`yaml line ${line.no}: duplicate key '${key}'`);
    state.pos++;
    if (m[2] !== undefined && m[2] !== '') {
      out[key] = parseScalarOrFlow(m[2], line.no);
    } else if (state.pos < lines.length && lines[state.pos].indent > indent) {
      out[key] = parseBlock(lines, state, lines[state.pos].indent);
    } else if (state.pos < lines.length && lines[state.pos].indent === indent && lines[state.pos].text.startsWith('-')) {
      // YAML allows a sequence under a key at the key's own indentation.
      out[key] = parseSequence(lines, state, indent);
    } else {
      out[key] = null;
    }
  }
  return out;
}

function isMappingEntry(s: string): boolean {
  return /^("(?:[^"\\]|\\.)*"|'[^']*'|[^:'"\[{][^:]*?)\s*:(\s|$)/.test(s);
}

function parseScalarOrFlow(s: string, no: number): YamlValue {
  s = s.trim();
  if (s.startsWith('[')) {
    if (!s.endsWith(']')) throw new Error(`yaml line ${no}: unterminated flow sequence`);
    const body = s.slice(1, -1).trim();
    if (body === '') return [];
    return splitFlow(body, no).map((item) => parseScalar(item.trim(), no));
  }
  if (s.startsWith('{') || s.startsWith('&') || s.startsWith('*') || s.startsWith('|') || s.startsWith('>')) {
    throw new Error(`yaml line ${no}: unsupported YAML construct '${s}'`);
  }
  return parseScalar(s, no);
}

/** Split a flow sequence body on commas outside quotes. */
function splitFlow(body: string, no: number): string[] {
  const parts: string[] = [];
  let quote: string | null = null;
  let start = 0;
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (quote) {
      if (c === '\\' && quote === '"') i++;
      else if (c === quote) quote = null;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '[' || c === '{') throw new Error(`yaml line ${no}: nested flow collections are not supported`);
    else if (c === ',') {
      parts.push(body.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(body.slice(start));
  return parts;
}

function parseScalar(s: string, no: number): YamlValue {
  if (s.startsWith('"')) {
    if (s.length < 2 || !s.endsWith('"')) throw new Error(`yaml line ${no}: unterminated double-quoted string`);
    return unescapeDouble(s.slice(1, -1), no);
  }
  if (s.startsWith("'")) {
    if (s.length < 2 || !s.endsWith("'")) throw new Error(`yaml line ${no}: unterminated single-quoted string`);
    return s.slice(1, -1).replace(/''/g, "'");
  }
  if (s === '' || s === '~' || s === 'null' || s === 'Null' || s === 'NULL') return null;
  if (/^(true|True|TRUE)$/.test(s)) return true;
  if (/^(false|False|FALSE)$/.test(s)) return false;
  if (/^[-+]?\d+$/.test(s)) return Number(s);
  if (/^[-+]?(\d+\.\d*|\.\d+|\d+)([eE][-+]?\d+)?$/.test(s)) return Number(s);
  return s;
}

const SIMPLE_ESCAPES: Record<string, string> = {
  '0': '\0', a: '\x07', b: '\b', t: '\t', '\t': '\t', n: '\n', v: '\v', f: '\f', r: '\r', e: '\x1b',
  ' ': ' ', '"': '"', '/': '/', '\\': '\\', N: '\x85', _: '\xa0', L: '\u2028', P: '\u2029',
};

function unescapeDouble(body: string, no: number): string {
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c !== '\\') {
      out += c;
      continue;
    }
    const e = body[++i];
    if (e === undefined) throw new Error(`yaml line ${no}: dangling backslash`);
    if (e in SIMPLE_ESCAPES) out += SIMPLE_ESCAPES[e];
    else if (e === 'x' || e === 'u' || e === 'U') {
      const len = e === 'x' ? 2 : e === 'u' ? 4 : 8;
      const hex = body.slice(i + 1, i + 1 + len);
      if (!new RegExp(`^[0-9a-fA-F]{${len}}$`).test(hex)) throw new Error(`yaml line ${no}: bad \\${e} escape`);
      out += String.fromCodePoint(parseInt(hex, 16));
      i += len;
    } else throw new Error(`yaml line ${no}: unknown escape \\${e}`);
  }
  return out;
}
