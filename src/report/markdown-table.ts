// A markdown table: a header row, a `| --- |` separator and one row per entry, cells joined by ` | `.
// Cells are written as given (a `|` inside one would split it); numbers are formatted by the caller.

export function markdownTable(header: string[], rows: (string | number)[][]): string {
  const line = (cells: (string | number)[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}
