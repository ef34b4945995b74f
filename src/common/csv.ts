// A CSV parser (RFC 4180) for the MMLU files and CORE's random baselines (eval_meta_data.csv): fields
// separated by commas, optionally quoted with double quotes; inside quotes, commas and newlines are data
// and "" is one quote character. Records end at LF or CRLF outside quotes. A final empty line does not
// make an empty record. Malformed input (an unclosed quote, text after a closing quote, a record with
// more or fewer fields than the header) throws a CsvError naming the line or record.

export class CsvError extends Error {}

export function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let i = 0;
  let line = 1; // for error messages
  const n = text.length;
  if (text.charCodeAt(0) === 0xfeff) i = 1; // byte-order mark

  const endField = () => {
    record.push(field);
    field = '';
  };
  const endRecord = () => {
    endField();
    records.push(record);
    record = [];
  };

  while (i < n) {
    const c = text[i];
    if (c === '"' && field === '') {
      // quoted field: read to the closing quote
      const startLine = line;
      i++;
      // copy whole runs between quotes at once (slices, not one character at a time: MMLU is 6 MB)
      for (;;) {
        const q = text.indexOf('"', i);
        if (q === -1) throw new CsvError(`unterminated quoted field starting on line ${startLine}`);
        const chunk = text.slice(i, q);
        field += chunk;
        for (let k = chunk.indexOf('\n'); k !== -1; k = chunk.indexOf('\n', k + 1)) line++;
        if (text[q + 1] === '"') {
          field += '"';
          i = q + 2;
          continue;
        }
        i = q + 1;
        break;
      }
      // after the closing quote only a separator or a line end may follow
      const next = text[i];
      if (next !== undefined && next !== ',' && next !== '\n' && next !== '\r') {
        throw new CsvError(`unexpected character ${JSON.stringify(next)} after a quoted field on line ${line}`);
      }
      if (next === undefined) {
        endRecord();
        break;
      }
      continue;
    }
    if (c === ',') {
      endField();
      i++;
    } else if (c === '\n' || (c === '\r' && text[i + 1] === '\n')) {
      endRecord();
      i += c === '\r' ? 2 : 1;
      line++;
      if (i >= n) return records;
    } else {
      // an unquoted run up to the next separator or line end
      let j = i + 1;
      while (j < n && text[j] !== ',' && text[j] !== '\n' && !(text[j] === '\r' && text[j + 1] === '\n')) j++;
      field += text.slice(i, j);
      i = j;
    }
  }
  if (field !== '' || record.length > 0) endRecord();
  return records;
}

/** Parse CSV with a header line into objects keyed by the header's column names. */
export function parseCsvWithHeader(text: string): Record<string, string>[] {
  const [header, ...rows] = parseCsv(text);
  if (!header) return [];
  return rows.map((row, r) => {
    if (row.length !== header.length) {
      throw new CsvError(`record ${r + 1} has ${row.length} fields, the header has ${header.length}`);
    }
    return Object.fromEntries(header.map((h, k) => [h, row[k]]));
  });
}
