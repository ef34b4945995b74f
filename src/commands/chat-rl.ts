// `nanochat chat-rl`: reinforcement learning on GSM8K, the reference's simplified GRPO,
// which is really REINFORCE with a per-question baseline:
//
//   for each of 16 training questions per step: sample 16 answers (temperature 1.0, top-k 50, up to
//   256 tokens, calculator tool live); reward 1 if the `#### N` answer is right, else 0;
//   advantage = reward - mean reward of that question's samples (no std division, no KL, no reference
//   model, no ratio clipping);
//   loss = -sum(logprob(token) * advantage) / number of sampled tokens, over the sampled tokens only
//   (prompt tokens and tool outputs forced by the calculator are excluded).
//
// Learning rates are 5% of pretraining's, decaying linearly to 0. Logged every step: mean reward,
// mean sequence length, and the mean -log p of the sampled tokens (a Monte Carlo estimate of the
// policy's entropy: when it falls fast, the policy is collapsing). pass@1..k on GSM8K test at evals.

import { join } from 'node:path';
import { parse, num, out, emitJson, every, numIterations, trainerPeriod, type FlagSpec } from '../cli/flags.js';
import { KEEP_LAST_FLAG, parseKeepLast } from '../cli/train-flags.js';
import { DTYPE_FLAG, applyDtype } from '../cli/dtype.js';
import { UserError } from '../common/errors.js';
import { Optimizer, constantMuonMomentum } from '../train/optimizer.js';
import { checkpointDir, type CheckpointMeta } from '../checkpoint/checkpoint.js';
import { resumeRun } from '../checkpoint/resume.js';
import { train } from '../train/trainer.js';
import { type Batch } from '../data/batch.js';
import { machinePeakFlops } from '../tensor/peak.js';
import { matmulPrecision } from '../tensor/precision.js';
import { tokenizerIdentity } from '../checkpoint/tokenizer-identity.js';
import { markdownTable } from '../report/markdown-table.js';
import { writeReportSection } from '../report/section.js';
import { loadSource, scaledLrs } from '../train/source.js';
import { SOURCE_FLAGS, parseSource } from '../cli/model-flags.js';
import { GSM8K } from '../tasks/gsm8k.js';
import type { EvalTask } from '../tasks/task.js';
import { shuffledIndices, shuffledSubset } from '../tasks/subset.js';
import type { Conversation } from '../chat/conversation.js';
import { renderForCompletion } from '../chat/render.js';
import { Engine } from '../engine/engine.js';
import type { TextTokenizer } from '../tokenizer/types.js';

const FLAGS: FlagSpec = {
  ...SOURCE_FLAGS,
  // no defaults on these two, so that giving both with different values can be refused
  'num-iterations': { type: 'string', help: 'optimizer steps (-1, 0 or not given: one pass over GSM8K train)' },
  'num-steps': { type: 'string', help: 'another name for --num-iterations' },
  'examples-per-step': { type: 'string', default: '16', help: 'questions per step' },
  'num-samples': { type: 'string', default: '16', help: 'sampled answers per question' },
  'max-new-tokens': { type: 'string', default: '256', help: 'longest sampled answer' },
  temperature: { type: 'string', default: '1.0', help: 'sampling temperature' },
  'top-k': { type: 'string', default: '50', help: 'sample among the k most likely tokens' },
  'init-lr-frac': { type: 'string', default: '0.05', help: 'learning rates as a fraction of pretraining\'s' },
  'eval-every': { type: 'string', default: '60', help: 'steps between pass@k evaluations on GSM8K test (0: only at start and end; -1: never)' },
  'eval-examples': { type: 'string', default: '400', help: 'GSM8K test questions per evaluation' },
  'eval-k': { type: 'string', default: '8', help: 'samples per eval question: reports pass@1..k' },
  'save-every': { type: 'string', default: '60', help: 'steps between checkpoints (0 or -1: only the final one)' },
  ...KEEP_LAST_FLAG,
  ...DTYPE_FLAG,
  seed: { type: 'string', default: '42', help: 'seed of the question order and the sampling' },
};

export interface Rollout {
  /** rows: prompt + sampled answer; targets -1 except sampled answer tokens */
  batch: Batch;
  rewards: number[];
  /** reward minus the question's mean reward, per sample (they sum to zero) */
  advantages: number[];
  meanLength: number;
  sampledTokens: number;
}

/**
 * Sample answers to one question and build its weighted micro-batch: weight = advantage / (sampled
 * tokens of this question) / questionsPerStep, so the step's summed gradient is the mean over questions
 * of -sum(logprob * advantage) / tokens.
 */
export async function rollout(
  engine: Engine, tok: TextTokenizer, task: EvalTask, conv: Conversation,
  opts: { numSamples: number; maxNewTokens: number; temperature: number; topK: number; seed: number; questionsPerStep: number },
): Promise<Rollout> {
  const prompt = renderForCompletion(tok, conv);
  const maxTokens = Math.min(opts.maxNewTokens, engine.room(prompt.length));
  if (maxTokens < 1) throw new UserError(`a GSM8K prompt of ${prompt.length} tokens leaves no room in the model's context`);
  const res = await engine.generateBatch(prompt, { numSamples: opts.numSamples, maxTokens, temperature: opts.temperature, topK: opts.topK, seed: opts.seed });
  const rewards = res.generated.map((g) => task.reward(conv, tok.decode(g)));
  const mean = rewards.reduce((a, b) => a + b, 0) / rewards.length;
  const advantages = rewards.map((r) => r - mean);
  const longest = Math.max(...res.generated.map((g) => prompt.length + g.length)) - 1;
  const T = Math.max(1, Math.ceil(longest / 64) * 64);
  const B = opts.numSamples;
  const inputs = new Int32Array(B * T), targets = new Int32Array(B * T).fill(-1), weights = new Float32Array(B * T);
  let sampled = 0;
  for (let r = 0; r < B; r++) for (const m of res.masks[r]) sampled += m;
  for (let r = 0; r < B; r++) {
    const seq = [...prompt, ...res.generated[r]];
    for (let t = 0; t < seq.length - 1; t++) {
      inputs[r * T + t] = seq[t];
      const g = t + 1 - prompt.length; // index of target token t+1 within the answer
      if (g >= 0 && res.masks[r][g] === 1) {
        targets[r * T + t] = seq[t + 1];
        weights[r * T + t] = advantages[r] / Math.max(sampled, 1) / opts.questionsPerStep;
      }
    }
  }
  const meanLength = res.generated.reduce((a, g) => a + g.length, 0) / B;
  return { batch: { inputs, targets, weights, B, T }, rewards, advantages, meanLength, sampledTokens: sampled };
}

/**
 * pass@1..k on n questions sampled with seed 42 (tasks/subset.ts): fraction with at least one correct answer
 * among the first j samples.
 */
export async function passAtK(
  engine: Engine, tok: TextTokenizer, task: EvalTask, n: number, k: number,
  opts: { maxNewTokens: number; temperature: number; topK: number; seed: number },
): Promise<number[]> {
  const hits = new Array<number>(k).fill(0);
  const sample = shuffledSubset(task, n);
  const total = sample.size();
  for (let i = 0; i < total; i++) {
    const conv = sample.get(i);
    const prompt = renderForCompletion(tok, conv);
    const room = engine.room(prompt.length);
    if (room < 1) continue;
    const res = await engine.generateBatch(prompt, { numSamples: k, maxTokens: Math.min(opts.maxNewTokens, room), temperature: opts.temperature, topK: opts.topK, seed: opts.seed + i });
    let any = false;
    res.generated.forEach((g, j) => {
      any ||= task.evaluate(conv, tok.decode(g));
      if (any) hits[j]++;
    });
  }
  return hits.map((h) => (total ? h / total : 0));
}

export async function run(argv: string[]): Promise<number> {
  const p = parse('chat-rl', 'Reinforcement learning on GSM8K (simplified GRPO / REINFORCE), from an SFT checkpoint.', FLAGS, argv);
  const log = out(p);
  const src = parseSource(p, 'sft');
  // the periodic flags and the horizon are checked before anything loads
  const stepsArg = numIterations(p, 'num-steps');
  const evalEvery = every(p, 'eval-every'), saveEvery = every(p, 'save-every');
  const keepLast = parseKeepLast(p);
  log(applyDtype(p)); // loads the backend: after the flag checks
  const t0 = performance.now();
  const { loaded, tok, srcArgs } = loadSource(src);
  const model = loaded.model, config = model.config;
  const perStep = num(p, 'examples-per-step', { min: 1 }), numSamples = num(p, 'num-samples', { min: 2 });
  const sampling = { maxNewTokens: num(p, 'max-new-tokens', { min: 1 }), temperature: num(p, 'temperature', { min: 0, allowFloat: true }), topK: num(p, 'top-k', { min: 1 }) };
  const seed = num(p, 'seed');
  const frac = num(p, 'init-lr-frac', { min: 0, allowFloat: true });
  const lrs = scaledLrs(srcArgs, frac);

  const trainTask = new GSM8K({ split: 'train' }), testTask = new GSM8K({ split: 'test' });
  const questions = src.maxConversations ? Math.min(src.maxConversations, trainTask.size()) : trainTask.size();
  // a fixed shuffled order of the training questions (with --max-conversations, a sample of all of them);
  // step s takes the next perStep of it
  const order = shuffledIndices(trainTask.size(), questions, seed);
  const iterations = stepsArg > 0 ? stepsArg : Math.max(1, Math.floor(questions / perStep));
  log(`RL on GSM8K: ${iterations} steps x ${perStep} questions x ${numSamples} samples (max ${sampling.maxNewTokens} tokens, T=${sampling.temperature}, top-k ${sampling.topK}); lr ${frac} x pretraining`);

  const dir = checkpointDir('rl', loaded.tag);
  const opt = new Optimizer(constantMuonMomentum(model.paramGroups(lrs)));
  const tokId = tokenizerIdentity(tok);
  let startStep = 0;
  if (src.resume !== undefined) {
    startStep = resumeRun(dir, src.resume, model, opt, { config, tokenizerHash: tokId.hash }).startStep;
    log(`resuming ${dir} from step ${startStep}`);
  }
  const engine = new Engine(model, tok);
  let cursor = startStep * perStep;
  let stepRewards: number[] = [], stepLengths: number[] = [], stepNll = { sum: 0, n: 0 };
  const evalK = num(p, 'eval-k', { min: 1 }), evalExamples = num(p, 'eval-examples', { min: 1 });
  const res = await train({
    model, optimizer: opt, dir, numIterations: iterations, gradAccum: perStep, B: numSamples, T: config.sequenceLen, startStep,
    nextBatch: async () => {
      if (stepRewards.length >= perStep * numSamples) { stepRewards = []; stepLengths = []; stepNll = { sum: 0, n: 0 }; }
      const qi = order[cursor % order.length];
      const r = await rollout(engine, tok, trainTask, trainTask.get(qi), { ...sampling, numSamples, seed: seed * 1_000_003 + cursor, questionsPerStep: perStep });
      cursor++;
      stepRewards.push(...r.rewards);
      stepLengths.push(r.meanLength);
      return r.batch;
    },
    loaderState: () => ({ cursor }),
    lrMultiplier: (s) => 1 - s / iterations,
    evalEvery: trainerPeriod(evalEvery, iterations),
    evaluate: async () => {
      const pk = await passAtK(engine, tok, testTask, evalExamples, evalK, { ...sampling, seed: 777 });
      return Object.fromEntries(pk.map((v, j) => [`pass@${j + 1}`, v]));
    },
    sampleEvery: 0,
    saveEvery: trainerPeriod(saveEvery, 0),
    keepLast,
    meta: (step): CheckpointMeta => ({
      format: 1, stage: 'rl', step, modelConfig: config, tokenizer: tokId,
      args: { ...srcArgs, source: `${src.source}/${loaded.tag}@${loaded.step}`, examplesPerStep: perStep, numSamples, initLrFrac: frac, ...sampling, seed },
    }),
    peakFlops: machinePeakFlops(matmulPrecision()).flops,
    log,
    onTokenLosses: (batch, nll) => {
      for (let i = 0; i < nll.length; i++) if (batch.targets[i] !== -1) { stepNll.sum += nll[i]; stepNll.n++; }
    },
    stepStats: () => {
      const reward = stepRewards.reduce((a, b) => a + b, 0) / Math.max(stepRewards.length, 1);
      const length = stepLengths.reduce((a, b) => a + b, 0) / Math.max(stepLengths.length, 1);
      return { reward, seq_len: length, entropy: stepNll.n ? stepNll.sum / stepNll.n : 0 };
    },
  });
  const first = res.evals[0] ?? {}, last = res.evals[res.evals.length - 1] ?? {};
  const summary = { tag: loaded.tag, dir, iterations, seconds: (performance.now() - t0) / 1000, firstPass1: first['pass@1'], finalPass1: last['pass@1'], final: last };
  writeReportSection('chat-rl.md', [
    '## Chat RL', '', markdownTable(['setting', 'value'], [
      ['source', `${src.source}/${loaded.tag} step ${loaded.step}`],
      ['steps', `${iterations} x ${perStep} questions x ${numSamples} samples`],
      ['sampling', `temperature ${sampling.temperature}, top-k ${sampling.topK}, max ${sampling.maxNewTokens} tokens`],
      ['learning rates', `${frac} x pretraining`], ['time', `${summary.seconds.toFixed(1)} s`],
    ]), '',
    markdownTable(['eval', ...Array.from({ length: evalK }, (_, j) => `pass@${j + 1}`)],
      res.evals.map((e) => [`step ${e.step}`, ...Array.from({ length: evalK }, (_, j) => (e[`pass@${j + 1}`] ?? 0).toFixed(4))])), '',
    `![RL curves](${join(dir, 'loss.svg')})`, '',
  ].join('\n'));
  emitJson(p, summary);
  return 0;
}
