// `nanochat tok-eval`: compression (UTF-8 bytes per token, higher is better) of our tokenizer vs
// GPT-2 and GPT-4 (cl100k_base) on sample texts and on train/val pretraining text, as the reference's
// two comparison tables. Relative diff % = (theirs - ours) / theirs * 100: positive means we use
// fewer tokens. Writes report/tokenizer-evaluation.md.

import { join } from 'node:path';
import { parse, num, str, out, emitJson } from '../cli/flags.js';
import { dataDir } from '../common/paths.js';
import { listShards, splitShards, readDocSet, shardName, type DocSet } from '../data/shards.js';
import { loadTokenizer } from '../tokenizer/io.js';
import type { BpeTokenizer } from '../tokenizer/bpe.js';
import { EVAL_SAMPLES } from '../tokenizer/eval-samples.js';
import { DEFAULT_DATA_SET } from '../data/shards.js';
import { markdownTable } from '../report/markdown-table.js';
import { writeReportSection } from '../report/section.js';

const FLAGS = {
  tokenizer: { type: 'string', help: 'our tokenizer folder (default $NANOCHAT_BASE_DIR/tokenizer)' },
  'data-dir': { type: 'string', help: `pretraining shards for the train/val rows (default $NANOCHAT_BASE_DIR/data/${DEFAULT_DATA_SET})` },
  'eval-chars': { type: 'string', default: '1000000', help: 'characters of train and of val text to measure (first documents of each split)' },
} as const;

interface Row {
  name: string;
  bytes: number;
  tokens: Record<'ours' | 'gpt2' | 'gpt4', number>;
}

async function firstChars(set: DocSet, chars: number): Promise<string> {
  const docs: string[] = [];
  let n = 0;
  for await (const d of readDocSet(set)) {
    docs.push(d);
    n += d.length;
    if (n >= chars) break;
  }
  return docs.join('\n').slice(0, chars);
}

function table(rows: Row[], base: 'gpt2' | 'gpt4', label: string): { header: string[]; body: (string | number)[][] } {
  const header = ['Text Type', 'Bytes', `${label} Tokens`, `${label} Ratio`, 'Ours Tokens', 'Ours Ratio', 'Relative Diff %'];
  const body = rows.map((r) => {
    const theirs = r.tokens[base], ours = r.tokens.ours;
    const diff = ((theirs - ours) / theirs) * 100;
    return [r.name, r.bytes, theirs, (r.bytes / theirs).toFixed(2), ours, (r.bytes / ours).toFixed(2), `${diff >= 0 ? '+' : ''}${diff.toFixed(1)}%`];
  });
  return { header, body };
}

function plain(header: string[], body: (string | number)[][]): string {
  const w = header.map((h, i) => Math.max(h.length, ...body.map((r) => String(r[i]).length)));
  const line = (cells: (string | number)[]) => cells.map((c, i) => (i === 0 ? String(c).padEnd(w[i]) : String(c).padStart(w[i]))).join('  ');
  return [line(header), w.map((n) => '-'.repeat(n)).join('  '), ...body.map(line)].join('\n');
}

export async function run(argv: string[]): Promise<number> {
  const p = parse('tok-eval', 'Compare our tokenizer\'s compression (bytes per token) with GPT-2 and GPT-4.', FLAGS, argv);
  const log = out(p);
  const tokenizers: Record<'ours' | 'gpt2' | 'gpt4', BpeTokenizer> = {
    ours: loadTokenizer(str(p, 'tokenizer')),
    gpt2: loadTokenizer('gpt2'),
    gpt4: loadTokenizer('cl100k_base'),
  };
  const texts: [string, string][] = Object.entries(EVAL_SAMPLES);
  const dir = str(p, 'data-dir') ?? join(dataDir(), DEFAULT_DATA_SET);
  const split = splitShards(listShards(dir));
  const chars = num(p, 'eval-chars', { min: 1 });
  texts.push(['train', await firstChars(split.train, chars)]);
  texts.push(['val', await firstChars(split.val, chars)]);
  if (split.outOfDomain) texts.push([`val (${shardName(split.outOfDomain.files[0])})`, await firstChars(split.outOfDomain, chars)]);

  const rows: Row[] = texts.map(([name, text]) => ({
    name,
    bytes: Buffer.byteLength(text),
    tokens: {
      ours: tokenizers.ours.encode(text).length,
      gpt2: tokenizers.gpt2.encode(text).length,
      gpt4: tokenizers.gpt4.encode(text).length,
    },
  }));
  const vsGpt2 = table(rows, 'gpt2', 'GPT-2');
  const vsGpt4 = table(rows, 'gpt4', 'GPT-4');
  log(`ours: vocab ${tokenizers.ours.vocabSize}; GPT-2: ${tokenizers.gpt2.vocabSize}; GPT-4: ${tokenizers.gpt4.vocabSize}; train/val: first ${chars.toLocaleString('en-US')} characters of ${dir}`);
  log('\nComparison with GPT-2:\n' + plain(vsGpt2.header, vsGpt2.body));
  log('\nComparison with GPT-4:\n' + plain(vsGpt4.header, vsGpt4.body));

  const section = [
    '## Tokenizer evaluation',
    '',
    `timestamp: ${new Date().toISOString()}`,
    '',
    `Bytes per token (ratio, higher is better). Ours: vocab ${tokenizers.ours.vocabSize}. Train/val: the first ${chars} characters of each split of ${dir}.`,
    '',
    '### Comparison with GPT-2',
    '',
    markdownTable(vsGpt2.header, vsGpt2.body),
    '',
    '### Comparison with GPT-4',
    '',
    markdownTable(vsGpt4.header, vsGpt4.body),
  ].join('\n');
  const reportPath = writeReportSection('tokenizer-evaluation.md', section);
  log(`\nreport section: ${reportPath}`);
  emitJson(p, {
    vocabSize: tokenizers.ours.vocabSize,
    rows: rows.map((r) => ({
      ...r,
      bytesPerToken: { ours: r.bytes / r.tokens.ours, gpt2: r.bytes / r.tokens.gpt2, gpt4: r.bytes / r.tokens.gpt4 },
      relativeDiffPct: { gpt2: ((r.tokens.gpt2 - r.tokens.ours) / r.tokens.gpt2) * 100, gpt4: ((r.tokens.gpt4 - r.tokens.ours) / r.tokens.gpt4) * 100 },
    })),
    report: reportPath,
  });
  return 0;
}
