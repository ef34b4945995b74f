// The report card: every stage writes a markdown section into $NANOCHAT_BASE_DIR/report/
// and its headline numbers into report/summary.json; `nanochat report` assembles report.md (and
// report.html) from them: environment, code size, the sections in pipeline order, and the summary
// table `Metric | BASE | MID | SFT | RL` with the total wall-clock time.

import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { reportDir } from '../common/paths.js';
import { getBackend } from '../tensor/backends.js';
import { markdownToHtml } from './markdown.js';
import { markdownTable } from './markdown-table.js';

export type Column = 'BASE' | 'MID' | 'SFT' | 'RL';
const COLUMNS: Column[] = ['BASE', 'MID', 'SFT', 'RL'];

/** Sections in pipeline order (file names the stages write); anything else found is appended after. */
const SECTION_ORDER = [
  'speedrun-plan.md', 'tokenizer-training.md', 'tokenizer-evaluation.md', 'base-model-training.md', 'base-model-evaluation.md',
  'midtraining.md', 'chat-evaluation-mid.md', 'chat-sft.md', 'chat-evaluation-sft.md', 'chat-rl.md', 'chat-evaluation-rl.md',
];

/** Rows of the summary table, in order; metrics not measured show as '-'. */
const SUMMARY_ROWS = ['val bpb', 'CORE', 'ARC-Easy', 'ARC-Challenge', 'MMLU', 'GSM8K', 'HumanEval', 'SpellingBee', 'ChatCORE'];

interface Summary {
  metrics: Partial<Record<Column, Record<string, number>>>;
  /** wall-clock seconds per stage, summed for the total */
  seconds: Record<string, number>;
  startedAt?: string;
}

const summaryPath = () => join(reportDir(), 'summary.json');

function readSummary(): Summary {
  try {
    return JSON.parse(readFileSync(summaryPath(), 'utf8')) as Summary;
  } catch {
    return { metrics: {}, seconds: {} };
  }
}

/** Record headline numbers of a stage for the summary table (merged with what is there). */
export function recordMetrics(column: Column, metrics: Record<string, number>): void {
  const s = readSummary();
  s.metrics[column] = { ...(s.metrics[column] ?? {}), ...metrics };
  mkdirSync(reportDir(), { recursive: true });
  writeFileSync(summaryPath(), JSON.stringify(s, null, 2));
}

/** Record how long a stage took (wall clock), for the total. */
export function recordTime(stage: string, seconds: number): void {
  const s = readSummary();
  s.seconds[stage] = seconds;
  s.startedAt ??= new Date(Date.now() - seconds * 1000).toISOString();
  mkdirSync(reportDir(), { recursive: true });
  writeFileSync(summaryPath(), JSON.stringify(s, null, 2));
}

/** Start a fresh report (the speedrun does this at its very beginning). */
export function resetReport(): void {
  mkdirSync(reportDir(), { recursive: true });
  for (const f of readdirSync(reportDir())) if (f.endsWith('.md') || f === 'summary.json') writeFileSync(join(reportDir(), f), '');
  writeFileSync(summaryPath(), JSON.stringify({ metrics: {}, seconds: {}, startedAt: new Date().toISOString() }, null, 2));
}

const packageRoot = () => join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

function sh(cmd: string, args: string[], cwd: string): string {
  try {
    return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return '';
  }
}

function environment(): string[] {
  const root = packageRoot();
  const commit = sh('git', ['rev-parse', '--short', 'HEAD'], root) || 'unknown';
  const dirty = sh('git', ['status', '--porcelain'], root) ? ' (uncommitted changes)' : '';
  const gpu = spawnSync('nvidia-smi', ['--query-gpu=name,memory.total', '--format=csv,noheader'], { encoding: 'utf8' });
  const be = getBackend();
  return [
    '## Environment', '',
    `- git commit: ${commit}${dirty}`,
    `- CPU: ${cpus()[0]?.model ?? 'unknown'}, ${cpus().length} cores`,
    `- memory: ${(totalmem() / 2 ** 30).toFixed(1)} GiB`,
    `- GPU: ${gpu.status === 0 && gpu.stdout.trim() ? gpu.stdout.trim() : 'none'}`,
    `- Node.js ${process.version}, ${process.platform}/${process.arch}`,
    `- backend: ${be.name} (${be.threads} threads)`,
    '',
  ];
}

/** Files, lines and characters of the project's source (TypeScript, C, page assets). */
function codeSize(): string[] {
  const root = packageRoot();
  let files = 0, lines = 0, chars = 0;
  const walk = (d: string) => {
    if (!existsSync(d)) return;
    for (const n of readdirSync(d)) {
      const f = join(d, n);
      if (statSync(f).isDirectory()) walk(f);
      else if (/\.(ts|c|h|cc|html|css|js|py)$/.test(n) && !n.endsWith('.d.ts')) {
        const text = readFileSync(f, 'utf8');
        files++;
        lines += text.split('\n').length;
        chars += text.length;
      }
    }
  };
  for (const d of ['src', 'native', 'test', 'bench']) walk(join(root, d));
  return ['## Code size', '', `${files} files, ${lines.toLocaleString('en-US')} lines, ${chars.toLocaleString('en-US')} characters (src, native, test, bench)`, ''];
}

function summaryTable(s: Summary): string[] {
  const fmt = (v: number | undefined) => (v === undefined ? '-' : Math.abs(v) < 10 ? v.toFixed(4) : v.toFixed(1));
  const rows = SUMMARY_ROWS.filter((r) => COLUMNS.some((c) => s.metrics[c]?.[r] !== undefined));
  const total = Object.values(s.seconds).reduce((a, b) => a + b, 0);
  const h = Math.floor(total / 3600), m = Math.floor((total % 3600) / 60), sec = Math.round(total % 60);
  return [
    '## Summary', '',
    markdownTable(['Metric', ...COLUMNS], rows.map((r) => [r, ...COLUMNS.map((c) => fmt(s.metrics[c]?.[r]))])), '',
    `Total wall clock time: ${h}h${String(m).padStart(2, '0')}m${String(sec).padStart(2, '0')}s`,
    ...Object.entries(s.seconds).map(([k, v]) => `- ${k}: ${v.toFixed(1)} s`), '',
  ];
}

/** Assemble report.md and report.html; returns their paths. */
export function buildReport(): { md: string; html: string; sections: string[] } {
  const dir = reportDir();
  mkdirSync(dir, { recursive: true });
  const present = readdirSync(dir).filter((f) => f.endsWith('.md') && f !== 'report.md' && readFileSync(join(dir, f), 'utf8').trim());
  const ordered = [...SECTION_ORDER.filter((f) => present.includes(f)), ...present.filter((f) => !SECTION_ORDER.includes(f)).sort()];
  const s = readSummary();
  const parts = [
    '# nanochat-ts training report', '', `Generated ${new Date().toISOString()}${s.startedAt ? `; run started ${s.startedAt}` : ''}.`, '',
    ...environment(), ...codeSize(),
    ...ordered.map((f) => readFileSync(join(dir, f), 'utf8').trim() + '\n'),
    ...summaryTable(s),
  ];
  // images referenced by absolute path become relative, so the report folder can be moved with its run
  const md = parts.join('\n').replace(/!\[([^\]]*)\]\((\/[^)]+)\)/g, (_, alt: string, p: string) => `![${alt}](${relative(dir, p)})`);
  const mdPath = join(dir, 'report.md'), htmlPath = join(dir, 'report.html');
  writeFileSync(mdPath, md);
  writeFileSync(htmlPath, markdownToHtml(md, 'nanochat-ts report'));
  return { md: mdPath, html: htmlPath, sections: ordered };
}
