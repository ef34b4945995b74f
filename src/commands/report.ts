// The report card: every stage writes a markdown section into $NANOCHAT_BASE_DIR/report/
// and its headline numbers into report/summary.json; `nanochat report` assembles report.md (and
// report.html) from them: environment, code size, the sections in pipeline order, and the summary
// table `Metric | BASE | MID | SFT | RL` with the total wall-clock time.

import { parse, out, emitJson } from '../cli/flags.js';
import { buildReport } from '../report/report.js';

export async function run(argv: string[]): Promise<number> {
  const p = parse('report', 'Assemble report.md (and report.html) from the sections each stage wrote.', {}, argv);
  const r = buildReport();
  out(p)(`report: ${r.md} (${r.sections.length} sections), ${r.html}`);
  emitJson(p, r);
  return 0;
}
