// CORE: from one task item to token rows, scoring spans, and a verdict.
//
// This mirrors nanochat's core_eval.py so that numbers are comparable:
// - few-shot examples: `random.Random(1234 + index).sample(other indices, k)` (bit-exact, see py-random.ts);
// - prompts are what its Jinja templates render: every few-shot example is
//   `{example}{delimiter}{gold answer}` followed by a blank line, then the query;
// - every row starts with <|bos|>; rows longer than the context are cropped on the left;
// - multiple choice / schema: the option with the lowest mean loss over its span wins;
//   language modelling: correct iff the greedy (argmax) prediction reproduces every span token.
//
// Position convention shared with the model evaluator: for a row `r`, `losses[r][t]` is the
// cross-entropy of predicting `rows[r][t + 1]` from `rows[r][0..t]` and `argmax[r][t]` is the most
// likely next token at position t. A span [start, end) is therefore scored at positions start-1 .. end-2.

import type { TextTokenizer } from '../tokenizer/types.js';
import { PyRandom } from './py-random.js';

export type CoreTaskType = 'multiple_choice' | 'schema' | 'language_modeling';

export interface McItem {
  query: string;
  choices: string[];
  gold: number;
}
export interface SchemaItem {
  context_options: string[];
  continuation: string;
  gold: number;
}
export interface LmItem {
  context: string;
  continuation: string;
}
export type CoreItem = McItem | SchemaItem | LmItem;

/** What prompt construction needs to know about a task (a loaded CoreTask satisfies it). */
export interface CorePromptTask {
  taskType: CoreTaskType;
  numFewshot: number;
  /** text between the context and the answer; core.yaml's continuation_delimiter, default ' ' */
  delimiter: string;
  /** the task's items, in evaluation order (few-shot examples are drawn from these) */
  items: readonly CoreItem[];
}

export interface PreparedExample {
  taskType: CoreTaskType;
  /** token rows, one per option (MC: per choice, schema: per context, LM: a single row); unpadded */
  rows: number[][];
  /** per row, the half-open token range [start, end) that is scored */
  spans: [number, number][];
  /** index of the correct row (MC/schema); null for language modelling */
  gold: number | null;
  /** how many tokens were cropped from the left of each row (0 when it fit) */
  cropped: number[];
}

/** Per-row outputs of the model on the rows of one example (see the position convention above). */
export interface RowScores {
  losses: ArrayLike<number>[];
  argmax: ArrayLike<number>[];
}

export interface ExampleVerdict {
  correct: boolean;
  /** chosen row (MC/schema); for LM 0 when reproduced, -1 when not */
  pred: number;
  /** mean span loss per row (MC/schema only) */
  meanLosses?: number[];
}

// Python's str.isspace() set (what str.strip() and Jinja's `trim` remove); JS trim() differs slightly
// (it strips U+FEFF and keeps U+001C..U+001F and U+0085), which would change some prompts.
const PY_WS = '\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const PY_STRIP = new RegExp(`^[${PY_WS}]+|[${PY_WS}]+$`, 'g');

/** Python's `str.strip()` with no arguments. */
export function pyStrip(s: string): string {
  return s.replace(PY_STRIP, '');
}

/**
 * Indices of the few-shot examples for item `index` of a task with `n` items: exactly
 * `random.Random(1234 + index).sample([i for i in range(n) if i != index], k)`.
 * k is capped at n - 1 (the reference would raise there, e.g. with a tiny --max-per-task).
 */
export function fewshotIndices(n: number, index: number, k: number): number[] {
  const take = Math.min(k, n - 1);
  if (take <= 0) return [];
  // The population is [0, n) without `index`: position j holds j, or j + 1 from `index` on.
  return new PyRandom(1234 + index).sampleIndices(n - 1, take).map((j) => (j < index ? j : j + 1));
}

/**
 * The prompt strings of item `index`: MC one per choice, schema one per context option,
 * LM two: [prompt without the continuation (stripped), prompt with it].
 */
export function renderPrompts(task: CorePromptTask, index: number): string[] {
  const item = task.items[index];
  const shots = fewshotIndices(task.items.length, index, task.numFewshot).map((i) => task.items[i]);
  const d = task.delimiter;
  switch (task.taskType) {
    case 'multiple_choice': {
      const it = item as McItem;
      const prefix = shots.map((e) => { const x = e as McItem; return `${x.query}${d}${x.choices[x.gold]}\n\n`; }).join('');
      return it.choices.map((choice) => `${prefix}${it.query}${d}${choice}`);
    }
    case 'schema': {
      const it = item as SchemaItem;
      const prefix = shots.map((e) => { const x = e as SchemaItem; return `${x.context_options[x.gold]}${d}${x.continuation}\n\n`; }).join('');
      return it.context_options.map((ctx) => `${prefix}${ctx}${d}${it.continuation}`);
    }
    case 'language_modeling': {
      const it = item as LmItem;
      const prefix = shots.map((e) => { const x = e as LmItem; return `${pyStrip(x.context)}${d}${x.continuation}\n\n`; }).join('');
      const without = `${prefix}${pyStrip(it.context)}${d}`;
      // The reference strips the prompt without the continuation so that trailing whitespace (e.g. the
      // delimiter's space) is not split off from the continuation's first token.
      return [pyStrip(without), without + it.continuation];
    }
  }
}

/** Number of leading (or trailing) positions on which all sequences agree (core_eval.find_common_length). */
export function commonLength(seqs: readonly number[][], direction: 'left' | 'right'): number {
  const minLen = Math.min(...seqs.map((s) => s.length));
  for (let i = 0; i < minLen; i++) {
    const at = (s: number[]) => (direction === 'left' ? s[i] : s[s.length - 1 - i]);
    const t = at(seqs[0]);
    if (!seqs.every((s) => at(s) === t)) return i;
  }
  return minLen;
}

/**
 * Tokenize item `index` of a task into rows (each starting with <|bos|>) and scoring spans,
 * cropping rows longer than maxSeqLen on the left and shifting their spans accordingly.
 */
export function prepareExample(tok: TextTokenizer, task: CorePromptTask, index: number, maxSeqLen = Infinity): PreparedExample {
  const prompts = renderPrompts(task, index);
  const bos = tok.bosId();
  const tokens = prompts.map((p) => [bos, ...tok.encode(p)]);
  let rows: number[][];
  let spans: [number, number][];
  let gold: number | null;
  switch (task.taskType) {
    case 'multiple_choice': {
      // Same context, different continuations: the span is what follows the common prefix.
      const start = commonLength(tokens, 'left');
      rows = tokens;
      spans = tokens.map((t) => [start, t.length]);
      gold = (task.items[index] as McItem).gold;
      break;
    }
    case 'schema': {
      // Different contexts, same continuation: the span is the common suffix.
      const suffix = commonLength(tokens, 'right');
      rows = tokens;
      spans = tokens.map((t) => [t.length - suffix, t.length]);
      gold = (task.items[index] as SchemaItem).gold;
      break;
    }
    case 'language_modeling': {
      // Only the row with the continuation is run; its span is what lies beyond the prompt without it.
      // The reference asserts that the shorter prompt's tokens are a prefix of the longer one's; if a
      // tokenizer ever breaks that, scoring everything after the common prefix is the graceful reading.
      const [without, withCont] = tokens;
      const start = commonLength([without, withCont], 'left');
      rows = [withCont];
      spans = [[Math.min(start, withCont.length), withCont.length]];
      gold = null;
      break;
    }
  }
  const cropped = rows.map(() => 0);
  if (Number.isFinite(maxSeqLen)) {
    if (!Number.isInteger(maxSeqLen) || maxSeqLen < 2) throw new RangeError(`maxSeqLen must be an integer >= 2, got ${maxSeqLen}`);
    rows = rows.map((row, r) => {
      if (row.length <= maxSeqLen) return row;
      const crop = row.length - maxSeqLen;
      cropped[r] = crop;
      // Keep the last maxSeqLen tokens. A span token at position 0 would have no predecessor to be
      // predicted from, so a span never starts before 1 (only possible with an absurdly long answer).
      spans[r] = [Math.max(1, spans[r][0] - crop), spans[r][1] - crop];
      return row.slice(crop);
    });
  }
  return { taskType: task.taskType, rows, spans, gold, cropped };
}

/** Verdict for one prepared example given the model's per-position losses and argmax on its rows. */
export function scoreExample(ex: PreparedExample, out: RowScores): ExampleVerdict {
  if (out.losses.length < ex.rows.length || out.argmax.length < ex.rows.length) {
    throw new Error(`scoreRows returned ${out.losses.length} loss rows / ${out.argmax.length} argmax rows for ${ex.rows.length} rows`);
  }
  if (ex.taskType === 'language_modeling') {
    const [start, end] = ex.spans[0];
    const row = ex.rows[0];
    const pred = out.argmax[0];
    let ok = end > start;
    for (let t = start; t < end && ok; t++) ok = pred[t - 1] === row[t];
    return { correct: ok, pred: ok ? 0 : -1 };
  }
  const meanLosses = ex.rows.map((_, r) => meanSpanLoss(out.losses[r], ex.spans[r]));
  // Lowest mean loss wins; ties go to the first (Python's list.index(min(...))). An empty span (an
  // option that is a token-prefix of another) or a NaN loss can never win.
  let pred = 0;
  for (let r = 1; r < meanLosses.length; r++) if (meanLosses[r] < meanLosses[pred]) pred = r;
  return { correct: pred === ex.gold, pred, meanLosses };
}

function meanSpanLoss(losses: ArrayLike<number>, [start, end]: [number, number]): number {
  if (end <= start) return Infinity;
  let sum = 0;
  for (let t = start - 1; t < end - 1; t++) sum += losses[t];
  const mean = sum / (end - start);
  return Number.isNaN(mean) ? Infinity : mean;
}
