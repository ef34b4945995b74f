// A stage's report section: a markdown file in $NANOCHAT_BASE_DIR/report/ that `nanochat report`
// assembles into report.md. Written to a temp file and renamed.

import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { reportDir } from '../data/paths.js';

export function markdownTable(header: string[], rows: (string | number)[][]): string {
  const line = (cells: (string | number)[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

export function writeReportSection(file: string, markdown: string): string {
  const dir = reportDir();
  mkdirSync(dir, { recursive: true });
  const path = join(dir, file);
  writeFileSync(`${path}.tmp-${process.pid}`, markdown.endsWith('\n') ? markdown : markdown + '\n');
  renameSync(`${path}.tmp-${process.pid}`, path);
  return path;
}
