// `nanochat chat-eval` with models whose answers are known by construction:
// - a GPT that always prefers <|assistant_end|>, and among the answer letters always 'A': letter
//   accuracy must equal the share of gold 'A' answers, and every generative task scores 0;
// - a scripted engine model that always answers "#### 0": SpellingBee accuracy must equal the share
//   of questions whose count is 0.
// Also: ChatCORE arithmetic, task-list parsing, CSV/JSON/report outputs, determinism of sampling,
// and the error for a missing checkpoint.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chatCore, evaluateGenerative, evaluateHumanEvalTask, generateCompletions, parseTaskList, resultsCsv, type ChatTaskResult } from '../../src/eval/chat-eval.js';
import { Engine, type EngineModel } from '../../src/engine/engine.js';
import type { KVCache } from '../../src/model/gpt.js';
import { chatEvalTask } from '../../src/tasks/registry.js';
import { shuffledIndices, shuffledSubset } from '../../src/tasks/subset.js';
import type { EvalTask } from '../../src/tasks/task.js';
import { evaluateCategorical } from '../../src/eval/categorical.js';
import { loadHumanEval, referenceAnswer } from '../../src/eval/humaneval.js';
import { tinyGpt } from '../engine/helpers.js';
import { needsMirror, MIRROR } from './mirror.js';
import { byteBpe } from '../helpers/byte-bpe.js';
import { constantModel, freshBaseDir, saveModel } from './tiny-chat-model.js';

const cli = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'main.js');
const nanochat = (base: string, ...args: string[]) =>
  spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env: { ...process.env, NANOCHAT_BASE_DIR: base } });

test('task list: default all six, | or , separated, case-insensitive, unknown names are clear errors', () => {
  assert.deepEqual(parseTaskList(undefined), ['ARC-Easy', 'ARC-Challenge', 'MMLU', 'GSM8K', 'SpellingBee', 'HumanEval']);
  assert.deepEqual(parseTaskList('gsm8k|ARC-Easy,humaneval'), ['GSM8K', 'ARC-Easy', 'HumanEval']);
  assert.throws(() => parseTaskList('ARC-Easy|TriviaQA'), /unknown task 'TriviaQA'/);
});

test('ChatCORE is the mean centered accuracy (baseline 0.25 for letter tasks, 0 otherwise)', () => {
  const r = (task: ChatTaskResult['task'], accuracy: number, baseline: number): ChatTaskResult => ({
    task, correct: 0, total: 0, accuracy, baseline, centered: (accuracy - baseline) / (1 - baseline), seconds: 0,
  });
  const results = [r('ARC-Easy', 0.4, 0.25), r('MMLU', 0.25, 0.25), r('GSM8K', 0.1, 0)];
  // (0.4-0.25)/0.75 = 0.2; 0; 0.1 -> mean 0.1
  assert.ok(Math.abs(chatCore(results) - 0.1) < 1e-12);
  assert.ok(Number.isNaN(chatCore([])));
  const csv = resultsCsv(results).trim().split('\n');
  assert.equal(csv[0], 'task,correct,total,accuracy,baseline,centered,seconds,too_long');
  assert.match(csv[4], /^ChatCORE,,3,,,0\.100000,/);
});

/** Always answers "#### 0" and then ends its turn (the step count restarts at each prompt). */
class ZeroAnswerModel implements EngineModel {
  readonly config: { vocabSize: number; sequenceLen: number };
  readonly vocabPadded: number;
  private step = 0;
  constructor(private readonly script: number[], vocabSize: number) {
    this.config = { vocabSize, sequenceLen: 4096 };
    this.vocabPadded = Math.ceil(vocabSize / 64) * 64;
  }
  newCache(batch: number, maxLen: number): KVCache {
    return { k: [], v: [], batch, maxLen, pos: 0 };
  }
  releaseCache(): void {}
  async forwardCached(ids: Int32Array, B: number, T: number, cache: KVCache): Promise<Float32Array> {
    if (cache.pos === 0 && T > 1) this.step = 0; // a new prompt
    cache.pos += T;
    const out = new Float32Array(B * this.vocabPadded);
    const want = this.script[Math.min(this.step++, this.script.length - 1)];
    for (let b = 0; b < B; b++) out[b * this.vocabPadded + want] = 30;
    return out;
  }
}

test('generative scoring: a model that always answers "#### 0" gets exactly the zero-count SpellingBee questions', { skip: needsMirror('english_words') }, async () => {
  const tok = byteBpe();
  const script = [...tok.encode('#### 0'), tok.specialId('<|assistant_end|>')];
  const engine = new Engine(new ZeroAnswerModel(script, tok.vocabSize), tok);
  const task = chatEvalTask('SpellingBee', MIRROR!);
  const n = 64;
  // --max-problems scores the seeded sample of the task (tasks/subset.ts)
  const sample = shuffledSubset(task, n);
  const zeros = Array.from({ length: n }, (_, i) => sample.get(i).meta?.answer).filter((a) => a === '0').length;
  assert.ok(zeros > 0 && zeros < n, `the slice should mix zero and non-zero counts (${zeros}/${n})`);
  const r = await evaluateGenerative(engine, tok, task, { maxProblems: n, numSamples: 2 });
  assert.deepEqual(r, { correct: zeros, total: n, tooLong: 0 });
});

test('HumanEval: a model that writes one problem\'s reference solution passes that problem only (sandboxed runs)', { skip: needsMirror('humaneval') }, async () => {
  const tok = byteBpe();
  // the first problem of the seeded sample that --max-problems 3 scores
  const first = loadHumanEval(MIRROR!)[shuffledIndices(164, 3)[0]];
  const script = [...tok.encode(referenceAnswer(first)), tok.specialId('<|assistant_end|>')];
  const engine = new Engine(new ZeroAnswerModel(script, tok.vocabSize), tok);
  const r = await evaluateHumanEvalTask(engine, tok, { dataDir: MIRROR!, maxProblems: 3, maxNewTokens: 2048, numSamples: 2 });
  assert.deepEqual(r, { correct: 1, total: 3, tooLong: 0 });
});

test('letter scoring does not depend on the batching (right padding never changes a prompt\'s last logits)', { skip: needsMirror('arc') }, async () => {
  const tok = byteBpe();
  const model = tinyGpt(tok.vocabSize, { sequenceLen: 512, nLayer: 2 }); // (seed 1: its choices vary with the question)
  const task = chatEvalTask('ARC-Challenge', MIRROR!);
  // the same task, recording the letter chosen for each question
  const recording = (sink: string[]): EvalTask => ({
    name: task.name, evalType: task.evalType, size: () => task.size(), get: (i) => task.get(i), reward: () => 0,
    evaluate: (conv, letter) => (sink.push(letter), task.evaluate(conv, letter)),
  });
  const a: string[] = [], b: string[] = [];
  const one = await evaluateCategorical(model, tok, recording(a), { maxProblems: 12, batchSize: 1 });
  const many = await evaluateCategorical(model, tok, recording(b), { maxProblems: 12, batchSize: 5 });
  assert.deepEqual(many, one);
  assert.deepEqual(b, a);
  assert.equal(a.length, 12);
  assert.ok(new Set(a).size > 1, `a random model should not pick one letter everywhere: ${a.join('')}`);
});

test('sampling is deterministic for a fixed seed and changes with the seed', async () => {
  const tok = byteBpe();
  const engine = new Engine(tinyGpt(tok.vocabSize, { sequenceLen: 128 }), tok);
  const convs = [{ messages: [{ role: 'user' as const, content: 'Hi there' }] }, { messages: [{ role: 'user' as const, content: 'Count to 3' }] }];
  const opts = { numSamples: 3, maxNewTokens: 12, temperature: 1, topK: 50, seed: 7 };
  const a = (await generateCompletions(engine, tok, convs, opts)).completions;
  const b = (await generateCompletions(engine, tok, convs, opts)).completions;
  const c = (await generateCompletions(engine, tok, convs, { ...opts, seed: 8 })).completions;
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  // a prompt longer than the context is not generated for (and is counted wrong by the callers)
  const long = (await generateCompletions(engine, tok, [{ messages: [{ role: 'user', content: 'x'.repeat(200) }] }], opts)).completions;
  assert.deepEqual(long, [null]);
});

test('chat-eval end to end: letter accuracy = share of gold A, generative tasks 0, ChatCORE, CSV, JSON, report', { skip: needsMirror('arc') || needsMirror('gsm8k') || needsMirror('humaneval') }, async () => {
  const { base, tok } = freshBaseDir('nanochat-chat-eval-');
  await saveModel('sft', constantModel(tok, { [tok.encode('A')[0]]: 1, [tok.specialId('<|assistant_end|>')]: 2 }), tok);
  const N = 24;
  const t0 = performance.now();
  const r = nanochat(base, 'chat-eval', '-i', 'sft', '-a', 'ARC-Easy|ARC-Challenge|GSM8K|SpellingBee|HumanEval', '--max-problems', String(N), '--data-dir', MIRROR!, '--json');
  const seconds = (performance.now() - t0) / 1000;
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout.trim().split('\n').pop()!);
  assert.equal(j.source, 'sft');
  assert.equal(j.step, 10);
  const byTask = Object.fromEntries(j.results.map((x: ChatTaskResult) => [x.task, x]));
  for (const name of ['ARC-Easy', 'ARC-Challenge'] as const) {
    const task = shuffledSubset(chatEvalTask(name, MIRROR!), N);
    const goldA = Array.from({ length: N }, (_, i) => task.get(i).meta?.answer).filter((a) => a === 'A').length;
    assert.ok(goldA > 0 && goldA < N);
    assert.equal(byTask[name].correct, goldA, `${name}: always answering A is right exactly ${goldA} times`);
    assert.equal(byTask[name].total, N);
    assert.equal(byTask[name].baseline, 0.25);
  }
  for (const name of ['GSM8K', 'SpellingBee', 'HumanEval']) {
    assert.equal(byTask[name].correct, 0, `${name}: an empty answer is never right`);
    assert.equal(byTask[name].baseline, 0);
  }
  assert.equal(byTask.HumanEval.total, N);
  const expected = j.results.reduce((s: number, x: ChatTaskResult) => s + (x.accuracy - x.baseline) / (1 - x.baseline), 0) / 5;
  assert.ok(Math.abs(j.chatcore - expected) < 1e-12);
  assert.equal(j.chatcore_tasks, 5);
  assert.match(r.stderr, /\| ARC-Easy \| \d+\/24 \|/);
  assert.match(r.stderr, /ChatCORE: -?\d\.\d{4} \(mean centered accuracy over 5 of 6 tasks\)/);

  // CSV per run, report section, summary metrics in the SFT column
  assert.ok(existsSync(j.csv) && j.csv.endsWith(join('chat_eval', 'sft_d1_step000010.csv')));
  const csv = readFileSync(j.csv, 'utf8').trim().split('\n');
  assert.equal(csv.length, 7);
  assert.ok(csv[6].startsWith('ChatCORE,'));
  const section = readFileSync(join(base, 'report', 'chat-evaluation-sft.md'), 'utf8');
  assert.match(section, /## Chat evaluation sft/);
  assert.match(section, /\| GSM8K \| 0\/24 \|/);
  // the sample conversations: this model ends its turn at once, so every answer is empty
  assert.equal(j.samples.length, 5);
  for (const s of j.samples) assert.deepEqual([s.answer, s.finish], ['', 'stop']);
  assert.match(section, /### Sample conversations \(greedy\)\n\n```\nUser:\n {2}Hi! Who are you\?\nAssistant:\n {2}\n```/);
  const summary = JSON.parse(readFileSync(join(base, 'report', 'summary.json'), 'utf8'));
  assert.equal(summary.metrics.SFT['ARC-Easy'], byTask['ARC-Easy'].accuracy);
  // 5 of the 6 tasks ran: the summary table's ChatCORE (all six tasks) stays empty; the run's own section has it
  assert.equal(summary.metrics.SFT.ChatCORE, undefined);
  console.log(`# chat-eval on 5 tasks x ${N} problems: ${seconds.toFixed(1)} s`);
});

test('chat-eval: a missing checkpoint or source is a clear error naming the command to run', () => {
  const { base } = freshBaseDir('nanochat-chat-eval-');
  const r = nanochat(base, 'chat-eval', '-i', 'rl');
  assert.equal(r.status, 1);
  assert.match(r.stderr, /no rl checkpoint .*run `nanochat chat-rl` first/);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
  const none = nanochat(base, 'chat-eval');
  assert.equal(none.status, 1);
  assert.match(none.stderr, /-i mid, -i sft or -i rl/);
  const badTask = nanochat(base, 'chat-eval', '-i', 'sft', '-a', 'Jeopardy');
  assert.equal(badTask.status, 1);
  assert.match(badTask.stderr, /unknown task 'Jeopardy'/);
});
