// `nanochat report`: assemble report.md and report.html from the sections every stage wrote into
// $NANOCHAT_BASE_DIR/report/ (src/report/report.ts: environment, code size, the sections in pipeline order,
// the summary table and the total wall-clock time).

import { parse, out, emitJson } from '../cli/flags.js';
import { buildReport } from '../report/report.js';

export async function run(argv: string[]): Promise<number> {
  const p = parse('report', 'Assemble report.md (and report.html) from the sections each stage wrote.', {}, argv);
  const r = buildReport();
  out(p)(`report: ${r.md} (${r.sections.length} sections), ${r.html}`);
  emitJson(p, r);
  return 0;
}
