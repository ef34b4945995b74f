// Chat evaluation, the library behind `nanochat chat-eval`: how good is a chat model?
//
//   ARC-Easy, ARC-Challenge, MMLU  letter logits at the answer position (categorical.ts), no sampling
//   GSM8K, SpellingBee             generate with the engine (calculator tool included), read `#### N`
//   HumanEval                      generate, then run the code against the tests in the sandbox
//   ChatCORE                       mean centered accuracy over the tasks run: (acc - b) / (1 - b),
//                                  b = 0.25 for the four-letter tasks and 0 for the generative ones
//
// A problem counts as solved when any of its -n samples is right (pass@n, as the reference).
// A problem limit scores a seeded sample of each task (tasks/subset.ts): the files are sorted, MMLU by
// subject, so their first N problems would be one subject. Deterministic for a fixed seed: greedy by
// default, and with sampling every problem uses the same seeded per-row generators.

import { UserError } from '../common/errors.js';
import { Progress } from '../common/progress.js';
import { renderForCompletion } from '../chat/render.js';
import type { Conversation } from '../chat/conversation.js';
import { markdownTable } from '../report/markdown-table.js';
import { Engine } from '../engine/engine.js';
import type { GPT } from '../model/gpt.js';
import { CHAT_EVAL_TASKS, chatEvalTask } from '../tasks/registry.js';
import type { EvalTask } from '../tasks/task.js';
import { shuffledIndices, shuffledSubset } from '../tasks/subset.js';
import type { TextTokenizer } from '../tokenizer/types.js';
import { evaluateCategorical } from './categorical.js';
import { evaluateHumanEval, humanEvalConversation, loadHumanEval } from './humaneval.js';
import { runPython } from './sandbox.js';

export const ALL_CHAT_TASKS = [...CHAT_EVAL_TASKS, 'HumanEval'] as const;
export type ChatTaskName = (typeof ALL_CHAT_TASKS)[number];

/** Chance accuracy per task: a uniform guess among four letters, and nothing for free-form answers. */
const CHAT_BASELINES: Record<ChatTaskName, number> = {
  'ARC-Easy': 0.25, 'ARC-Challenge': 0.25, MMLU: 0.25, GSM8K: 0, SpellingBee: 0, HumanEval: 0,
};

export interface ChatTaskResult {
  task: ChatTaskName;
  correct: number;
  total: number;
  accuracy: number;
  baseline: number;
  /** (accuracy - baseline) / (1 - baseline) */
  centered: number;
  seconds: number;
  /** generative tasks: problems whose prompt left no room to generate in the model's context (counted wrong) */
  tooLong?: number;
}

export interface GenerationOptions {
  maxProblems?: number;
  numSamples?: number;
  maxNewTokens?: number;
  temperature?: number;
  topK?: number;
  seed?: number;
  onProgress?: (done: number, total: number) => void;
}

export const centered = (accuracy: number, baseline: number): number => (accuracy - baseline) / (1 - baseline);

/** ChatCORE: mean centered accuracy over the tasks given (NaN for none). */
export function chatCore(results: readonly Pick<ChatTaskResult, 'centered'>[]): number {
  return results.length ? results.reduce((s, r) => s + r.centered, 0) / results.length : NaN;
}

/** Parse -a: names separated by '|' or ',', matched case-insensitively; default every task. */
export function parseTaskList(spec: string | undefined): ChatTaskName[] {
  if (spec === undefined || spec.trim() === '' || spec.trim().toLowerCase() === 'all') return [...ALL_CHAT_TASKS];
  const names: ChatTaskName[] = [];
  for (const raw of spec.split(/[|,]/).map((s) => s.trim()).filter(Boolean)) {
    const name = ALL_CHAT_TASKS.find((t) => t.toLowerCase() === raw.toLowerCase());
    if (!name) throw new UserError(`unknown task '${raw}' for -a: choose from ${ALL_CHAT_TASKS.join(', ')} (separate several with '|' or ',')`);
    if (!names.includes(name)) names.push(name);
  }
  return names;
}

/**
 * Sample completions (decoded text) for each conversation's final assistant turn; null where the
 * prompt leaves no room in the model's context. Generation never crosses the context.
 */
export async function generateCompletions(
  engine: Engine, tok: TextTokenizer, convs: Conversation[], opts: GenerationOptions,
): Promise<{ completions: (string[] | null)[] }> {
  const completions: (string[] | null)[] = [];
  opts.onProgress?.(0, convs.length);
  for (const [i, conv] of convs.entries()) {
    const prompt = renderForCompletion(tok, conv);
    if (engine.room(prompt.length) === 0) {
      completions.push(null); // no room to answer: counted as wrong, and reported
    } else {
      const r = await engine.generateBatch(prompt, {
        numSamples: opts.numSamples ?? 1,
        maxTokens: opts.maxNewTokens ?? 512,
        temperature: opts.temperature ?? 0,
        topK: opts.topK,
        seed: opts.seed ?? 42,
      });
      // the text as the reference decodes it: tool calls and forced outputs included
      completions.push(r.generated.map((ids) => tok.decode(ids)));
    }
    opts.onProgress?.(i + 1, convs.length);
  }
  return { completions };
}

/** GSM8K / SpellingBee: generate and let the task judge the `#### N` answer. */
export async function evaluateGenerative(
  engine: Engine, tok: TextTokenizer, task: EvalTask, opts: GenerationOptions = {},
): Promise<{ correct: number; total: number; tooLong: number }> {
  const sample = shuffledSubset(task, opts.maxProblems);
  const total = sample.size();
  const convs = Array.from({ length: total }, (_, i) => sample.get(i));
  const { completions } = await generateCompletions(engine, tok, convs, opts);
  let correct = 0, tooLong = 0;
  completions.forEach((samples, i) => {
    if (samples === null) tooLong++;
    else if (samples.some((c) => task.evaluate(convs[i], c))) correct++;
  });
  return { correct, total, tooLong };
}

/**
 * HumanEval: generate every completion first, then run them in the sandbox, at most `concurrency`
 * at a time. Generation keeps this thread busy (on the CPU backends its awaits never reach the event
 * loop's timers) and would stall the loop that times the sandboxed programs, so the two phases never
 * overlap (a timeout then always means the program was slow).
 */
export async function evaluateHumanEvalTask(
  engine: Engine,
  tok: TextTokenizer,
  opts: GenerationOptions & { dataDir?: string; concurrency?: number; onRunProgress?: (done: number, total: number) => void },
): Promise<{ correct: number; total: number; tooLong: number }> {
  const all = loadHumanEval(opts.dataDir);
  // shuffled like every task (all 164 problems are scored by default, so the order alone changes nothing)
  const problems = shuffledIndices(all.length, opts.maxProblems).map((i) => all[i]);
  // a sandbox that cannot run Python should fail now, not after the whole generation phase
  const probe = await runPython('print("ok")');
  if (!probe.ok) throw new UserError(`the HumanEval sandbox cannot run Python (exit ${probe.exitCode ?? probe.signal}): ${probe.stderr.trim().slice(0, 500)}`);
  const convs: Conversation[] = problems.map((p) => ({ messages: humanEvalConversation(p) }));
  const { completions } = await generateCompletions(engine, tok, convs, opts);
  const jobs: { problem: number; code: string }[] = [];
  completions.forEach((samples, i) => samples?.forEach((code) => jobs.push({ problem: i, code })));
  const passed = new Array<boolean>(problems.length).fill(false);
  let next = 0, done = 0;
  opts.onRunProgress?.(0, jobs.length);
  const worker = async () => {
    while (next < jobs.length) {
      const job = jobs[next++];
      if (passed[job.problem]) {
        opts.onRunProgress?.(++done, jobs.length); // another sample already passed: the verdict cannot change
        continue;
      }
      const r = await evaluateHumanEval(problems[job.problem], job.code);
      if (r.passed) passed[job.problem] = true;
      opts.onRunProgress?.(++done, jobs.length);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, opts.concurrency ?? 2) }, worker));
  return { correct: passed.filter(Boolean).length, total: problems.length, tooLong: completions.filter((c) => c === null).length };
}

/** A progress callback whose bar starts at the first call (done = 0, made when the work starts, so the rate is right). */
function progressBar(label: string, unit: string): (done: number, total: number) => void {
  let bar: Progress | undefined;
  return (done, total) => {
    bar ??= new Progress(label, total, unit);
    if (done > 0) bar.update(done);
  };
}

export interface ChatEvalOptions extends GenerationOptions {
  tasks: ChatTaskName[];
  batchSize?: number;
  dataDir?: string;
  log?: (line: string) => void;
}

/** Run the chosen tasks on one model; results in the order given. */
export async function runChatEval(model: GPT, tok: TextTokenizer, opts: ChatEvalOptions): Promise<ChatTaskResult[]> {
  const engine = new Engine(model, tok);
  const results: ChatTaskResult[] = [];
  for (const name of opts.tasks) {
    const t0 = performance.now();
    let r: { correct: number; total: number; tooLong?: number };
    if (name === 'HumanEval') {
      r = await evaluateHumanEvalTask(engine, tok, {
        ...opts,
        onProgress: progressBar('HumanEval generate', ' problems'),
        onRunProgress: progressBar('HumanEval run', ' programs'),
      });
    } else {
      const task = chatEvalTask(name, opts.dataDir);
      const progress = progressBar(name, ' problems');
      if (task.evalType === 'categorical') {
        r = await evaluateCategorical(model, tok, task,
          { maxProblems: opts.maxProblems, batchSize: opts.batchSize, onProgress: progress });
      } else {
        r = await evaluateGenerative(engine, tok, task, { ...opts, onProgress: progress });
      }
    }
    const accuracy = r.total ? r.correct / r.total : 0;
    const baseline = CHAT_BASELINES[name];
    const res: ChatTaskResult = {
      task: name, correct: r.correct, total: r.total, accuracy, baseline, centered: centered(accuracy, baseline),
      seconds: (performance.now() - t0) / 1000, ...(r.tooLong !== undefined ? { tooLong: r.tooLong } : {}),
    };
    results.push(res);
    const note = res.tooLong ? ` (${res.tooLong} prompts too long for the context, counted wrong)` : '';
    opts.log?.(`${name}: ${res.correct}/${res.total} = ${(100 * accuracy).toFixed(2)}%${note}`);
  }
  return results;
}

export function resultsTable(results: readonly ChatTaskResult[]): string[] {
  const cc = chatCore(results);
  const tasks = `${results.length} task${results.length === 1 ? '' : 's'}`;
  return markdownTable(['task', 'correct/total', 'accuracy', 'baseline', 'centered', 'seconds'], [
    ...results.map((r) => [
      r.task, `${r.correct}/${r.total}`, r.accuracy.toFixed(4), r.baseline.toFixed(2), r.centered.toFixed(4),
      r.seconds.toFixed(1),
    ]),
    [`**ChatCORE** (${tasks})`, '', '', '', `**${Number.isFinite(cc) ? cc.toFixed(4) : 'n/a'}**`, ''],
  ]).split('\n');
}

export function resultsCsv(results: readonly ChatTaskResult[]): string {
  const lines = ['task,correct,total,accuracy,baseline,centered,seconds,too_long'];
  for (const r of results) lines.push([r.task, r.correct, r.total, r.accuracy.toFixed(6), r.baseline, r.centered.toFixed(6), r.seconds.toFixed(2), r.tooLong ?? ''].join(','));
  const cc = chatCore(results);
  lines.push(['ChatCORE', '', results.length, '', '', Number.isFinite(cc) ? cc.toFixed(6) : 'nan', results.reduce((s, r) => s + r.seconds, 0).toFixed(2), ''].join(','));
  return lines.join('\n') + '\n';
}
