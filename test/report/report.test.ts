import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildReport, recordMetrics, recordTime } from '../../src/report/report.js';

test('the report assembles sections in pipeline order with environment, code size and the summary table', () => {
  const base = mkdtempSync(join(tmpdir(), 'nanochat-report-'));
  process.env.NANOCHAT_BASE_DIR = base;
  const dir = join(base, 'report');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'chat-sft.md'), '## Chat SFT\n\nsteps: 10\n');
  writeFileSync(join(dir, 'base-model-training.md'), `## Base model training\n\n| setting | value |\n|---|---|\n| depth | 4 |\n\n![loss](${join(base, 'base_checkpoints', 'd4', 'loss.svg')})\n\n\`\`\`\n<script>alert(1)</script>\n\`\`\`\n`);
  recordMetrics('BASE', { CORE: 0.1234, 'val bpb': 1.5 });
  recordMetrics('SFT', { 'ARC-Easy': 0.39, ChatCORE: 0.09 });
  recordTime('base-train', 3600 + 61);
  recordTime('chat-sft', 30);
  const r = buildReport();
  const md = readFileSync(r.md, 'utf8');
  assert.ok(md.indexOf('## Base model training') < md.indexOf('## Chat SFT'), 'base training comes before SFT');
  for (const s of ['## Environment', 'git commit:', 'Node.js', '## Code size', '| Metric | BASE | MID | SFT | RL |', '| CORE | 0.1234 | - | - | - |', '| ARC-Easy | - | - | 0.3900 | - |', 'Total wall clock time: 1h01m31s']) {
    assert.ok(md.includes(s), `report.md lacks '${s}'`);
  }
  assert.ok(md.includes('](../base_checkpoints/d4/loss.svg)'), 'image paths are relative to the report folder');
  const html = readFileSync(r.html, 'utf8');
  assert.match(html, /<table>[\s\S]*<th>Metric<\/th>/);
  assert.ok(!html.includes('<script>alert'), 'text from sections is escaped in the HTML');
  assert.ok(html.includes('&lt;script&gt;alert(1)&lt;/script&gt;'));
});
