// A stage's report section: a markdown file in $NANOCHAT_BASE_DIR/report/ that `nanochat report`
// assembles into report.md, written atomically (temp file, then rename).

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { reportDir } from '../common/paths.js';
import { writeFileAtomic } from '../common/atomic.js';

/** Write report/<file>; returns its path. */
export function writeReportSection(file: string, markdown: string): string {
  const dir = reportDir();
  mkdirSync(dir, { recursive: true });
  const path = join(dir, file);
  writeFileAtomic(path, [markdown.endsWith('\n') ? markdown : markdown + '\n']);
  return path;
}
