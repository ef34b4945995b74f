// `nanochat chat-eval`: how good is a chat model?
//
//   ARC-Easy, ARC-Challenge, MMLU  letter logits at the answer position (categorical.ts), no sampling
//   GSM8K, SpellingBee             generate with the engine (calculator tool included), read `#### N`
//   HumanEval                      generate, then run the code against the tests in the sandbox
//   ChatCORE                       mean centered accuracy over the tasks run: (acc - b) / (1 - b),
//                                  b = 0.25 for the four-letter tasks and 0 for the generative ones
//
// A problem counts as solved when any of its -n samples is right (pass@n, as the reference).
// --max-problems N scores a sample of N problems per task, drawn with the fixed seed 42 (tasks/subset.ts).
// Everything is deterministic for a fixed --seed: greedy by default (-t 0), and with sampling every
// problem uses the same seeded per-row generators. Outputs: a table, a CSV per run in
// $NANOCHAT_BASE_DIR/chat_eval/, the report section chat-evaluation-<source>.md, the summary
// metrics of the source's column, and with --json one JSON line.

import { mkdirSync } from 'node:fs';
import { writeFileAtomic } from '../common/atomic.js';
import { writeReportSection } from '../report/section.js';
import { join } from 'node:path';
import { parse, num, str, out, emitJson, type FlagSpec } from '../cli/flags.js';
import { modelFlags, modelChoice } from '../cli/model-flags.js';
import { WEIGHTS_DTYPE_FLAG, weightsDtype } from '../cli/dtype.js';
import { loadModelAndTokenizer, sourceStage } from '../checkpoint/load.js';
import { UserError } from '../common/errors.js';
import { baseDir } from '../common/paths.js';
import { Engine } from '../engine/engine.js';
import { recordMetrics, type Column } from '../report/report.js';
import { chatSamples, samplesMarkdown, SAMPLE_PROMPTS } from '../eval/chat-samples.js';
import { ALL_CHAT_TASKS, chatCore, parseTaskList, runChatEval, resultsTable, resultsCsv } from '../eval/chat-eval.js';

const FLAGS: FlagSpec = {
  ...modelFlags(undefined, 'mid, sft or rl'),
  ...WEIGHTS_DTYPE_FLAG,
  task: { type: 'string', short: 'a', help: `tasks, separated by '|' or ',' (default: all of ${ALL_CHAT_TASKS.join(', ')})` },
  'max-problems': { type: 'string', help: 'evaluate N problems of each task, drawn with the fixed seed 42 (the same N every run)' },
  'num-samples': { type: 'string', short: 'n', default: '1', help: 'samples per generative problem (solved if any is right)' },
  temperature: { type: 'string', short: 't', default: '0', help: 'sampling temperature for the generative tasks (0: greedy)' },
  'top-k': { type: 'string', short: 'k', default: '50', help: 'sample among the k most likely tokens (0: all)' },
  'max-new-tokens': { type: 'string', default: '512', help: 'longest generated answer' },
  'batch-size': { type: 'string', default: '8', help: 'questions per forward pass for the letter tasks' },
  seed: { type: 'string', default: '42', help: 'sampling seed' },
  'data-dir': { type: 'string', help: 'folder holding the task data sets (default: $NANOCHAT_BASE_DIR/data)' },
  samples: { type: 'string', default: String(SAMPLE_PROMPTS.length), help: `sample conversations for the report: the first N of ${SAMPLE_PROMPTS.length} fixed prompts, answered greedily (0: none)` },
};

export async function run(argv: string[]): Promise<number> {
  const p = parse('chat-eval', 'Evaluate a chat checkpoint: ARC, MMLU, GSM8K, SpellingBee, HumanEval and ChatCORE.', FLAGS, argv);
  const log = out(p);
  const source = str(p, 'source');
  if (source === undefined) throw new UserError('give the checkpoint source with -i mid, -i sft or -i rl');
  const stage = sourceStage(source);
  if (stage === 'base') throw new UserError('chat-eval evaluates chat models (-i mid, sft or rl); for a base model run `nanochat base-eval`');
  const tasks = parseTaskList(str(p, 'task'));
  const sampleCount = num(p, 'samples', { min: 0, max: SAMPLE_PROMPTS.length });
  const opts = {
    tasks,
    maxProblems: p.values['max-problems'] !== undefined ? num(p, 'max-problems', { min: 1 }) : undefined,
    numSamples: num(p, 'num-samples', { min: 1 }),
    temperature: num(p, 'temperature', { min: 0, allowFloat: true }),
    topK: num(p, 'top-k', { min: 0 }) || undefined,
    maxNewTokens: num(p, 'max-new-tokens', { min: 1 }),
    batchSize: num(p, 'batch-size', { min: 1 }),
    seed: num(p, 'seed'),
    dataDir: str(p, 'data-dir'),
    log,
  };
  const { model, tok, tag, step } = loadModelAndTokenizer({ ...modelChoice(p), dtype: weightsDtype(p) });
  log(`chat-eval ${stage}/${tag} step ${step}: ${tasks.join(', ')}`);

  const results = await runChatEval(model, tok, opts);
  const table = resultsTable(results);
  for (const line of table) log(line);
  const cc = chatCore(results);
  log(`ChatCORE: ${Number.isFinite(cc) ? cc.toFixed(4) : 'n/a'} (mean centered accuracy over ${results.length} of ${ALL_CHAT_TASKS.length} tasks)`);
  const samples = await chatSamples(new Engine(model, tok), sampleCount, opts.maxNewTokens);
  for (const s of samples) log(`\nUser: ${s.prompt}\nAssistant: ${s.answer}`);

  const dir = join(baseDir(), 'chat_eval');
  mkdirSync(dir, { recursive: true });
  const csvPath = join(dir, `${stage}_${tag}_step${String(step).padStart(6, '0')}.csv`);
  writeFileAtomic(csvPath, [resultsCsv(results)]);
  log(`results: ${csvPath}`);

  const column = stage.toUpperCase() as Column;
  const metrics: Record<string, number> = Object.fromEntries(results.map((r) => [r.task, r.accuracy]));
  // the summary table's ChatCORE means all six tasks, as the reference's; a partial run keeps it in its own section only
  if (Number.isFinite(cc) && results.length === ALL_CHAT_TASKS.length) metrics.ChatCORE = cc;
  recordMetrics(column, metrics);
  const settings = `max problems per task: ${opts.maxProblems ?? 'all'}; samples: ${opts.numSamples}; temperature: ${opts.temperature}; top-k: ${opts.topK ?? 'all'}; max new tokens: ${opts.maxNewTokens}; seed: ${opts.seed}`;
  writeReportSection(`chat-evaluation-${stage}.md`, [
    `## Chat evaluation ${stage}`, '', `checkpoint: ${stage}/${tag} step ${step}`, '', settings, '',
    ...table, '',
    `ChatCORE is the mean centered accuracy over the ${results.length} task${results.length === 1 ? '' : 's'} above (baseline 0.25 for ARC and MMLU, 0 for the rest).`, '',
    ...(samples.length ? ['### Sample conversations (greedy)', '', ...samplesMarkdown(samples)] : []),
  ].join('\n'));

  emitJson(p, {
    source: stage, tag, step,
    chatcore: Number.isFinite(cc) ? cc : null,
    chatcore_tasks: results.length,
    results,
    samples,
    csv: csvPath,
    settings: { maxProblems: opts.maxProblems ?? null, numSamples: opts.numSamples, temperature: opts.temperature, topK: opts.topK ?? null, maxNewTokens: opts.maxNewTokens, seed: opts.seed },
  });
  return 0;
}
