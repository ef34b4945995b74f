// The small conversions from an upstream file's form to ours (the reference layout). Each takes
// the whole upstream file (all are a few MB at most) and returns the bytes we store; the result is
// then verified against the registry's checksum like any download.

import { gzipSync } from 'node:zlib';
import { readZipEntry } from './zip.js';

export type Conversion =
  /** A JSON array of records -> one record per line. */
  | { kind: 'json-array-to-jsonl' }
  /** jsonl -> jsonl without some top-level fields. */
  | { kind: 'jsonl-drop-fields'; fields: string[] }
  /** One entry of a zip archive, gzipped (verified by its uncompressed content). */
  | { kind: 'zip-entry-gzip'; entry: string }
  /** csv whose first column names the row: set `column` of the named rows to new values. */
  | { kind: 'csv-set-column'; column: string; values: Record<string, string> };

export function convert(input: Buffer, c: Conversion): Buffer {
  switch (c.kind) {
    case 'json-array-to-jsonl': {
      const rows: unknown = JSON.parse(input.toString('utf8'));
      if (!Array.isArray(rows)) throw new Error('expected a JSON array of records');
      return Buffer.from(rows.map((r) => pyJson(r) + '\n').join(''), 'utf8');
    }
    case 'jsonl-drop-fields': {
      const lines = input.toString('utf8').split('\n').filter((l) => l.trim() !== '');
      return Buffer.from(lines.map((l) => {
        const rec = JSON.parse(l) as Record<string, unknown>;
        for (const f of c.fields) delete rec[f];
        return pyJson(rec) + '\n';
      }).join(''), 'utf8');
    }
    case 'zip-entry-gzip':
      return gzipSync(readZipEntry(input, c.entry), { level: 9 });
    case 'csv-set-column':
      return Buffer.from(setCsvColumn(input.toString('utf8'), c.column, c.values), 'utf8');
  }
}

/**
 * JSON the way Python's `json.dumps(x, ensure_ascii=False)` writes it (how the reference jsonl files
 * were written): ", " between items, ": " after keys, non-ASCII characters as they are. Strings and
 * the escapes of control characters are the same as JSON.stringify's. (Python writes floats with a
 * fractional part, e.g. 1.0; our data has no such numbers.)
 */
export function pyJson(v: unknown): string {
  if (Array.isArray(v)) return '[' + v.map(pyJson).join(', ') + ']';
  if (v !== null && typeof v === 'object') {
    return '{' + Object.entries(v as Record<string, unknown>).map(([k, x]) => `${JSON.stringify(k)}: ${pyJson(x)}`).join(', ') + '}';
  }
  return JSON.stringify(v);
}

/**
 * Set one column of the named rows. Splitting a line on every comma and joining it back is lossless
 * even when a later field is a quoted string with commas, so only rows whose fields up to `column`
 * are unquoted may be edited (checked: an edit that would land inside quotes is an error).
 */
function setCsvColumn(csv: string, column: string, values: Record<string, string>): string {
  const lines = csv.split('\n');
  const col = lines[0].replace(/\r$/, '').split(',').indexOf(column);
  if (col < 0) throw new Error(`csv has no column '${column}'`);
  const pending = new Set(Object.keys(values));
  for (let i = 1; i < lines.length; i++) {
    const fields = lines[i].split(',');
    const key = fields[0];
    if (!pending.has(key)) continue;
    if (fields.slice(0, col + 1).some((f) => f.includes('"'))) throw new Error(`csv row '${key}': quoted field before column '${column}'`);
    fields[col] = values[key];
    lines[i] = fields.join(',');
    pending.delete(key);
  }
  if (pending.size) throw new Error(`csv has no rows named ${[...pending].join(', ')}`);
  return lines.join('\n');
}
