// Running CORE with a GPT: the model side of core-tasks.ts's `scoreRows` contract,
// the loop over tasks, and the outputs (table, CSV, report markdown).
//
// core-tasks.ts builds the token rows of every example and decides right/wrong; this file only turns
// rows into per-position losses and greedy predictions. One forward pass gives both: the losses come
// from the model's own cross-entropy (so they match training and bpb to the bit), the argmax from the
// logits of the same pass, over the real vocabulary only (the head is padded to a multiple of 64).

import type { GPT } from '../model/gpt.js';
import type { TextTokenizer } from '../tokenizer/types.js';
import { arena, noGrad } from '../tensor/tensor.js';
import { markdownTable } from '../report/markdown-table.js';
import { bucketLength } from './buckets.js';
import { coreScore, evaluateCoreTask, loadCoreTasks, type CoreScore, type CoreTask, type CoreTaskResult, type ScoreOutput, type ScoreRows } from './core-tasks.js';

/**
 * scoreRows for a GPT: rows are right-padded with <|bos|> into batches of at most `maxRowsPerForward`
 * rows (bounds the B x T x vocab logits in memory), T rounded up to a multiple of 32. Targets past a row's end are -1 (ignored), so
 * padding contributes nothing; the model is causal, so padding after a row never changes its outputs.
 */
export function gptScorer(model: GPT, padId: number, maxRowsPerForward = 8): ScoreRows {
  const V = model.config.vocabSize;
  const Vp = model.vocabPadded;
  return async (rows: number[][]): Promise<ScoreOutput> => {
    const losses: Float32Array[] = [];
    const argmax: Int32Array[] = [];
    for (let s = 0; s < rows.length; s += maxRowsPerForward) {
      const chunk = rows.slice(s, s + maxRowsPerForward);
      // lengths rounded up to a multiple of 32 so batches share arena buffers (see buckets.ts)
      const B = chunk.length, T = bucketLength(Math.max(...chunk.map((r) => r.length)));
      const ids = new Int32Array(B * T).fill(padId);
      chunk.forEach((r, b) => ids.set(r, b * T));
      const targets = new Int32Array(B * T).fill(-1);
      chunk.forEach((r, b) => {
        for (let t = 0; t + 1 < r.length; t++) targets[b * T + t] = r[t + 1];
      });
      const { logits, loss } = noGrad(() => model.forward(ids, B, T, targets, 'none'));
      // views: no copy of the B*T*Vp logits on the CPU backends (valid until the reset below); a device reads back
      const [l, lg] = await Promise.all([loss!.view(), logits.view()]);
      chunk.forEach((r, b) => {
        const n = r.length;
        losses.push(l.slice(b * T, b * T + n));
        const am = new Int32Array(n);
        for (let t = 0; t < n; t++) {
          const off = (b * T + t) * Vp;
          let best = 0;
          for (let j = 1; j < V; j++) if (lg[off + j] > lg[off + best]) best = j;
          am[t] = best;
        }
        argmax.push(am);
      });
      arena.reset();
    }
    return { losses, argmax };
  };
}

export interface CoreRunOptions {
  /** folder holding core/ (default: $NANOCHAT_BASE_DIR/data) */
  dataDir?: string;
  /** first N items per task after the seeded shuffle; <= 0 means all */
  maxPerTask?: number;
  /** only these task labels (default: all of core.yaml) */
  labels?: string[];
  /** rows per forward pass */
  batchRows?: number;
  /** one line per finished task */
  log?: (line: string) => void;
  /** progress within the current task */
  onProgress?: (task: CoreTask, done: number, total: number) => void;
}

export interface CoreRun {
  results: CoreTaskResult[];
  score: CoreScore;
  /** task type and few-shot count per label, for the tables */
  info: Record<string, { taskType: string; numFewshot: number; totalItems: number }>;
  seconds: number;
}

/** Evaluate every available CORE task with the model and compute the score (absent tasks are named in score.missing). */
export async function runCore(model: GPT, tok: TextTokenizer, opts: CoreRunOptions = {}): Promise<CoreRun> {
  const t0 = performance.now();
  const { tasks, missing } = loadCoreTasks({ dataDir: opts.dataDir, maxPerTask: opts.maxPerTask, labels: opts.labels });
  const batchRows = opts.batchRows ?? 8;
  const scorer = gptScorer(model, tok.bosId(), batchRows);
  const results: CoreTaskResult[] = [];
  const info: CoreRun['info'] = {};
  for (const task of tasks) {
    info[task.label] = { taskType: task.taskType, numFewshot: task.numFewshot, totalItems: task.totalItems };
    opts.onProgress?.(task, 0, task.items.length); // lets a progress bar start its clock here
    const r = await evaluateCoreTask(task, tok, scorer, {
      maxSeqLen: model.config.sequenceLen,
      rowsPerCall: batchRows,
      onProgress: (done, total) => opts.onProgress?.(task, done, total),
    });
    results.push(r);
    opts.log?.(`CORE ${r.label.padEnd(34)} accuracy ${r.accuracy.toFixed(4)} | centered ${r.centered.toFixed(4)} | ${r.correct}/${r.total} | ${r.seconds.toFixed(1)}s`);
  }
  return { results, score: coreScore(results, missing), info, seconds: (performance.now() - t0) / 1000 };
}

/** How many tasks the score was taken over, and which were absent. */
export function coreScoreLine(score: CoreScore): string {
  const total = score.numTasks + score.missing.length;
  const over = `over ${score.numTasks} of ${total} tasks`;
  return `CORE ${Number.isFinite(score.core) ? score.core.toFixed(4) : 'n/a'} (${over}${score.missing.length ? `; missing: ${score.missing.join(', ')}` : ''})`;
}

const csvField = (s: string | number): string => {
  const t = String(s);
  return /[",\n]/.test(t) ? `"${t.replace(/"/g, '""')}"` : t;
};

/** One row per task, then the CORE row (its accuracy column empty: CORE is a mean of centered accuracies). */
export function coreCsv(run: CoreRun): string {
  const lines = ['task,type,fewshot,correct,total,accuracy,random_baseline,centered,seconds'];
  for (const r of run.results) {
    const i = run.info[r.label];
    lines.push([r.label, i?.taskType ?? '', i?.numFewshot ?? '', r.correct, r.total, r.accuracy.toFixed(6), r.randomBaseline.toFixed(4), r.centered.toFixed(6), r.seconds.toFixed(2)].map(csvField).join(','));
  }
  lines.push(['CORE', `mean of ${run.score.numTasks} tasks`, '', '', '', '', '', Number.isFinite(run.score.core) ? run.score.core.toFixed(6) : 'nan', run.seconds.toFixed(2)].map(csvField).join(','));
  return lines.join('\n') + '\n';
}

/** The per-task table for the terminal and the report (markdown; reads fine as plain text). */
export function coreTable(run: CoreRun): string[] {
  return markdownTable(['task', 'type', 'shots', 'correct/total', 'accuracy', 'baseline', 'centered'], [
    ...run.results.map((r) => {
      const i = run.info[r.label];
      return [
        r.label, i?.taskType ?? '', i?.numFewshot ?? '', `${r.correct}/${r.total}`, r.accuracy.toFixed(4),
        r.randomBaseline.toFixed(4), r.centered.toFixed(4),
      ];
    }),
    ['**CORE**', '', '', '', '', '', `**${Number.isFinite(run.score.core) ? run.score.core.toFixed(4) : 'n/a'}**`],
  ]).split('\n');
}
