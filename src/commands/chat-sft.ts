// `nanochat chat-sft`: supervised finetuning into an assistant.
//
// From the mid checkpoint (or --source base): each conversation of the SFT mixture is its own padded
// row with the loss mask applied (only assistant tokens are targets), 32 conversations per optimizer
// step, one epoch, learning rates 2% of pretraining's decaying linearly to 0. During training:
// validation loss on held-out conversations and quick MMLU / ARC-Easy letter accuracy.

import { join } from 'node:path';
import { parse, num, out, emitJson, every, numIterations, trainerPeriod, NEVER, type FlagSpec, type Parsed } from '../cli/flags.js';
import { gradClipFlag, KEEP_LAST_FLAG, parseGradClip, parseKeepLast } from '../cli/train-flags.js';
import { DTYPE_FLAG, applyDtype } from '../cli/dtype.js';
import { UserError } from '../common/errors.js';
import { Optimizer, constantMuonMomentum } from '../train/optimizer.js';
import { checkpointDir, type CheckpointMeta } from '../checkpoint/checkpoint.js';
import { resumeRun } from '../checkpoint/resume.js';
import { train } from '../train/trainer.js';
import { sftBatch } from '../train/chat-data.js';
import { machinePeakFlops } from '../tensor/peak.js';
import { matmulPrecision } from '../tensor/precision.js';
import { tokenizerIdentity } from '../checkpoint/tokenizer-identity.js';
import { sftMixture, sftValTask } from '../tasks/mixtures.js';
import { chatEvalTask } from '../tasks/registry.js';
import { evaluateCategorical } from '../eval/categorical.js';
import { markdownTable } from '../report/markdown-table.js';
import { writeReportSection } from '../report/section.js';
import { firstN, loadSource, scaledLrs } from '../train/source.js';
import { SOURCE_FLAGS, parseSource } from '../cli/model-flags.js';
import { perTokenLoss } from '../eval/bpb.js';
import type { GPT } from '../model/gpt.js';
import type { TextTokenizer } from '../tokenizer/types.js';
import type { Task } from '../tasks/task.js';

const FLAGS: FlagSpec = {
  ...SOURCE_FLAGS,
  'device-batch-size': { type: 'string', default: '4', help: 'conversations per forward/backward pass' },
  'examples-per-step': { type: 'string', default: '32', help: 'conversations per optimizer step' },
  'num-epochs': { type: 'string', default: '1', help: 'passes over the SFT mixture' },
  'num-iterations': { type: 'string', default: '-1', help: 'optimizer steps (-1 or 0: from --num-epochs)' },
  'init-lr-frac': { type: 'string', default: '0.02', help: 'learning rates as a fraction of pretraining\'s' },
  'eval-every': { type: 'string', default: '100', help: 'steps between validation loss evaluations (0: only at start and end; -1: never)' },
  'eval-conversations': { type: 'string', default: '200', help: 'held-out conversations for the validation loss' },
  'eval-metrics-every': { type: 'string', default: '200', help: 'steps between quick MMLU / ARC-Easy accuracy (0: only at the end; -1: never)' },
  'eval-metrics-max-problems': { type: 'string', default: '256', help: 'questions per quick accuracy (a sample drawn with seed 42)' },
  'save-every': { type: 'string', default: '0', help: 'steps between checkpoints (0 or -1: only the final one)' },
  ...KEEP_LAST_FLAG,
  // the reference's SFT does not clip (its pretraining clips at 1.0)
  ...gradClipFlag('0'),
  ...DTYPE_FLAG,
};

/** Mean masked cross-entropy over conversations, batched like training. */
async function conversationLoss(model: GPT, tok: TextTokenizer, task: Task, n: number, B: number): Promise<number> {
  let sum = 0, count = 0;
  const total = Math.min(n, task.size());
  for (let s = 0; s < total; s += B) {
    const convs = Array.from({ length: Math.min(B, total - s) }, (_, i) => task.get(s + i));
    const b = sftBatch(tok, convs, model.config.sequenceLen);
    const losses = await perTokenLoss(model, b.inputs, b.targets, b.B!, b.T!);
    for (let i = 0; i < b.targets.length; i++) if (b.targets[i] !== -1) { sum += losses[i]; count++; }
  }
  return count ? sum / count : NaN;
}

export async function run(argv: string[]): Promise<number> {
  const p: Parsed = parse('chat-sft', 'Supervised finetuning on the SFT mixture, from a mid (or base) checkpoint.', FLAGS, argv);
  const log = out(p);
  const src = parseSource(p, 'mid');
  // the periodic flags and the horizon are checked before anything loads
  const iterArg = numIterations(p), evalEvery = every(p, 'eval-every'), saveEvery = every(p, 'save-every');
  const metricsEvery = every(p, 'eval-metrics-every');
  const gradClip = parseGradClip(p), keepLast = parseKeepLast(p);
  log(applyDtype(p)); // loads the backend: after the flag checks
  const t0 = performance.now();
  const { loaded, tok, srcArgs } = loadSource(src);
  const model = loaded.model, config = model.config;
  const B = num(p, 'device-batch-size', { min: 1 }), perStep = num(p, 'examples-per-step', { min: 1 });
  if (perStep % B !== 0) throw new UserError(`--examples-per-step ${perStep} must be a multiple of --device-batch-size ${B}: try --examples-per-step ${Math.max(B, Math.round(perStep / B) * B)}`);
  const gradAccum = perStep / B;
  const frac = num(p, 'init-lr-frac', { min: 0, allowFloat: true });
  const lrs = scaledLrs(srcArgs, frac);

  const mixture = firstN(sftMixture(), src.maxConversations);
  const epochs = num(p, 'num-epochs', { min: 1 });
  const iterations = iterArg > 0 ? iterArg : Math.floor((mixture.size() * epochs) / perStep);
  if (iterations < 1) throw new UserError(`the SFT mixture has ${mixture.size()} conversations, fewer than one step of ${perStep}: lower --examples-per-step`);
  log(`SFT: ${mixture.size()} conversations, ${iterations} steps of ${perStep} (${gradAccum} passes of ${B}), lr fraction ${frac} of pretraining`);

  const dir = checkpointDir('sft', loaded.tag);
  const opt = new Optimizer(constantMuonMomentum(model.paramGroups(lrs)));
  const tokId = tokenizerIdentity(tok);
  let startStep = 0, cursor = 0;
  if (src.resume !== undefined) {
    const r = resumeRun(dir, src.resume, model, opt, { config, tokenizerHash: tokId.hash });
    startStep = r.startStep;
    cursor = (r.meta.loaderState as { cursor: number }).cursor;
    log(`resuming ${dir} from step ${startStep}`);
  }
  const valTask = sftValTask();
  const evalConvs = num(p, 'eval-conversations', { min: 1 });
  const maxProblems = num(p, 'eval-metrics-max-problems', { min: 1 });
  const res = await train({
    model, optimizer: opt, dir, numIterations: iterations, gradAccum, gradClip, B, T: config.sequenceLen, startStep,
    nextBatch: async () => {
      const convs = Array.from({ length: B }, (_, i) => mixture.get((cursor + i) % mixture.size()));
      cursor += B;
      return sftBatch(tok, convs, config.sequenceLen);
    },
    loaderState: () => ({ cursor }),
    lrMultiplier: (s) => 1 - s / iterations,
    evalEvery: trainerPeriod(evalEvery, iterations),
    evaluate: async (step) => {
      const m: Record<string, number> = { val_loss: await conversationLoss(model, tok, valTask, evalConvs, B) };
      if (metricsEvery !== NEVER && (step === iterations || (metricsEvery > 0 && step % metricsEvery === 0))) {
        // evaluateCategorical samples maxProblems questions of the whole task with seed 42 (tasks/subset.ts)
        m.mmlu_acc = (await evaluateCategorical(model, tok, chatEvalTask('MMLU'), { maxProblems })).accuracy;
        m.arc_easy_acc = (await evaluateCategorical(model, tok, chatEvalTask('ARC-Easy'), { maxProblems })).accuracy;
      }
      return m;
    },
    sampleEvery: 0,
    saveEvery: trainerPeriod(saveEvery, 0),
    keepLast,
    meta: (step): CheckpointMeta => ({
      format: 1, stage: 'sft', step, modelConfig: config, tokenizer: tokId,
      args: { ...srcArgs, source: `${src.source}/${loaded.tag}@${loaded.step}`, deviceBatchSize: B, examplesPerStep: perStep, initLrFrac: frac, gradClip },
    }),
    peakFlops: machinePeakFlops(matmulPrecision()).flops,
    log,
  });
  const last = res.evals[res.evals.length - 1] ?? {};
  const first = res.evals[0] ?? {};
  const summary = {
    tag: loaded.tag, dir, iterations, conversations: mixture.size(), finalLoss: res.finalLoss,
    firstValLoss: first.val_loss, finalValLoss: last.val_loss, mmluAcc: last.mmlu_acc, arcEasyAcc: last.arc_easy_acc,
    seconds: (performance.now() - t0) / 1000,
  };
  // --eval-every -1 or --eval-metrics-every -1 leave these undefined
  const shown = (x: number | undefined): string => (x === undefined ? 'not measured' : x.toFixed(4));
  writeReportSection('chat-sft.md', [
    '## Chat SFT', '', markdownTable(['setting', 'value'], [
      ['source', `${src.source}/${loaded.tag} step ${loaded.step}`], ['conversations', mixture.size()],
      ['iterations', `${iterations} x ${perStep} conversations`],
      ['learning rates', `${frac} x pretraining (embedding ${lrs.embedding.toPrecision(3)}, ` +
        `unembedding ${lrs.unembedding.toPrecision(3)}, matrix ${lrs.matrix.toPrecision(3)})`],
      ['val loss', `${shown(summary.firstValLoss)} -> ${shown(summary.finalValLoss)}`],
      ['quick MMLU / ARC-Easy accuracy', `${shown(summary.mmluAcc)} / ${shown(summary.arcEasyAcc)} (${maxProblems} questions each)`],
      ['final train loss', res.finalLoss.toFixed(4)], ['time', `${summary.seconds.toFixed(1)} s`],
    ]), '',
    `![SFT loss](${join(dir, 'loss.svg')})`, '',
  ].join('\n'));
  emitJson(p, summary);
  return 0;
}
