// `nanochat mid-train`: teach the base model the chat format, tool calls and multiple choice.
//
// From the base checkpoint, train on the mid mixture (general conversations, multiple-choice
// practice, GSM8K with calculator calls, identity x2, spelling), rendered in the chat format and
// packed into rows like pretraining, every token a target. Optimizer settings are pretraining's at
// full LR, constant then linear to 0 over the last 20%; by default one epoch over the mixture.

import { join } from 'node:path';
import { parse, num, out, emitJson, every, numIterations, trainerPeriod, type FlagSpec, type Parsed } from '../cli/flags.js';
import { gradClipFlag, KEEP_LAST_FLAG, parseGradClip, parseKeepLast } from '../cli/train-flags.js';
import { DTYPE_FLAG, applyDtype } from '../cli/dtype.js';
import { UserError } from '../common/errors.js';
import { firstN, loadSource } from '../train/source.js';
import { SOURCE_FLAGS, parseSource } from '../cli/model-flags.js';
import { Optimizer, lrMultiplier } from '../train/optimizer.js';
import { checkpointDir, type CheckpointMeta } from '../checkpoint/checkpoint.js';
import { resumeRun } from '../checkpoint/resume.js';
import { train } from '../train/trainer.js';
import { bpbOverBatches } from '../eval/bpb.js';
import { ConversationPacker, renderAll, type PackerState } from '../train/chat-data.js';
import { gradAccumSteps } from './base-train.js';
import { machinePeakFlops } from '../tensor/peak.js';
import { matmulPrecision } from '../tensor/precision.js';
import { tokenizerIdentity } from '../checkpoint/tokenizer-identity.js';
import { midTrainMixture, midValMixture } from '../tasks/mixtures.js';
import { markdownTable } from '../report/markdown-table.js';
import { writeReportSection } from '../report/section.js';

const FLAGS: FlagSpec = {
  ...SOURCE_FLAGS,
  'device-batch-size': { type: 'string', help: 'rows per pass (default: as in base training)' },
  'total-batch-size': { type: 'string', help: 'tokens per optimizer step (default: as in base training)' },
  'num-iterations': { type: 'string', default: '-1', help: 'optimizer steps (-1 or 0: one epoch over the mixture)' },
  'embedding-lr': { type: 'string', help: 'default: as in base training' },
  'unembedding-lr': { type: 'string', help: 'default: as in base training' },
  'matrix-lr': { type: 'string', help: 'default: as in base training' },
  'eval-every': { type: 'string', default: '150', help: 'steps between validation bits-per-byte evaluations (0: only at start and end; -1: never)' },
  'eval-tokens': { type: 'string', default: '1048576', help: 'validation tokens per evaluation' },
  'save-every': { type: 'string', default: '0', help: 'steps between checkpoints (0 or -1: only the final one)' },
  ...KEEP_LAST_FLAG,
  // the reference's midtraining does not clip (its pretraining clips at 1.0)
  ...gradClipFlag('0'),
  ...DTYPE_FLAG,
};

const numOr = (p: Parsed, name: string, fallback: unknown, float = false): number =>
  p.values[name] !== undefined ? num(p, name, { min: 0, allowFloat: float }) : Number(fallback);

export async function run(argv: string[]): Promise<number> {
  const p = parse('mid-train', 'Midtraining on the chat mixture, from a base checkpoint.', FLAGS, argv);
  const log = out(p);
  const src = parseSource(p, 'base');
  // the periodic flags and the horizon are checked before anything loads
  const iterationsArg = numIterations(p), evalEvery = every(p, 'eval-every'), saveEvery = every(p, 'save-every');
  const gradClip = parseGradClip(p), keepLast = parseKeepLast(p);
  log(applyDtype(p)); // loads the backend: after the flag checks
  const t0 = performance.now();
  const { loaded, tok, srcArgs: baseArgs } = loadSource(src);
  const model = loaded.model;
  const config = model.config;
  const T = config.sequenceLen;
  const B = numOr(p, 'device-batch-size', baseArgs.deviceBatchSize ?? 8);
  const total = numOr(p, 'total-batch-size', baseArgs.totalBatchSize ?? B * T);
  const gradAccum = gradAccumSteps(total, B, T);
  const lrs = {
    embedding: numOr(p, 'embedding-lr', baseArgs.embeddingLr ?? 0.2, true),
    unembedding: numOr(p, 'unembedding-lr', baseArgs.unembeddingLr ?? 0.004, true),
    matrix: numOr(p, 'matrix-lr', baseArgs.matrixLr ?? 0.02, true),
  };

  // ---- data: render the mixture once (ids in memory), pack rows best-fit
  const mixture = firstN(midTrainMixture(), src.maxConversations);
  log(`rendering ${mixture.size()} conversations of the mid mixture...`);
  const docs = renderAll(tok, mixture, T + 1);
  const mixtureTokens = docs.reduce((a, d) => a + d.length, 0);
  const iterations = iterationsArg > 0 ? iterationsArg : Math.max(1, Math.floor(mixtureTokens / total));
  const valDocs = renderAll(tok, firstN(midValMixture(), 2000), T + 1);
  log(`mid mixture: ${docs.length} conversations, ${mixtureTokens.toLocaleString('en-US')} tokens; ${iterations} steps of ${total} tokens (grad accumulation ${gradAccum})`);

  // ---- fresh or resumed
  const dir = checkpointDir('mid', loaded.tag);
  const opt = new Optimizer(model.paramGroups(lrs));
  const tokId = tokenizerIdentity(tok);
  let startStep = 0;
  let packerState: PackerState | undefined;
  if (src.resume !== undefined) {
    const r = resumeRun(dir, src.resume, model, opt, { config, tokenizerHash: tokId.hash });
    startStep = r.startStep;
    packerState = r.meta.loaderState as PackerState;
    log(`resuming ${dir} from step ${startStep}`);
  }
  const packer = new ConversationPacker(docs, B, T, { state: packerState });
  const evalTokens = num(p, 'eval-tokens', { min: 1 });
  const res = await train({
    model, optimizer: opt, dir, numIterations: iterations, gradAccum, gradClip, B, T, startStep,
    nextBatch: async () => (await packer.nextBatch())!,
    loaderState: () => packer.state(),
    lrMultiplier: (s) => lrMultiplier(s, iterations, 0.2),
    evalEvery: trainerPeriod(evalEvery, iterations),
    evaluate: async () => {
      const valPacker = new ConversationPacker(valDocs, B, T, { loop: false });
      const { bpb } = await bpbOverBatches(model, tok, async () => { const b = await valPacker.nextBatch(); return b && { B, ...b }; }, evalTokens);
      return { val_bpb: bpb };
    },
    sampleEvery: 0,
    saveEvery: trainerPeriod(saveEvery, 0),
    keepLast,
    meta: (step): CheckpointMeta => ({
      format: 1, stage: 'mid', step, modelConfig: config, tokenizer: tokId,
      args: { ...baseArgs, source: `${src.source}/${loaded.tag}@${loaded.step}`, deviceBatchSize: B, totalBatchSize: total, embeddingLr: lrs.embedding, unembeddingLr: lrs.unembedding, matrixLr: lrs.matrix, gradClip },
    }),
    peakFlops: machinePeakFlops(matmulPrecision()).flops,
    log,
  });
  const bpbs = res.evals.map((e) => e.val_bpb);
  const summary = { tag: loaded.tag, dir, iterations, conversations: docs.length, mixtureTokens, finalLoss: res.finalLoss, firstValBpb: bpbs[0], finalValBpb: bpbs[bpbs.length - 1], seconds: (performance.now() - t0) / 1000, tokensPerSec: res.tokensPerSec };
  if (bpbs.length && !(summary.finalValBpb < summary.firstValBpb)) log(`note: val bpb did not improve (${summary.firstValBpb?.toFixed(4)} -> ${summary.finalValBpb?.toFixed(4)})`);
  writeReportSection('midtraining.md', [
    '## Midtraining', '', markdownTable(['setting', 'value'], [
      ['source', `${src.source}/${loaded.tag} step ${loaded.step}`],
      ['conversations', `${docs.length} (${mixtureTokens.toLocaleString('en-US')} tokens)`],
      ['iterations', `${iterations} x ${total} tokens`],
      ['learning rates', `embedding ${lrs.embedding}, unembedding ${lrs.unembedding}, matrix ${lrs.matrix}`],
      ['val bpb', bpbs.length ? `${summary.firstValBpb.toFixed(4)} -> ${summary.finalValBpb.toFixed(4)}` : 'not measured (--eval-every -1)'],
      ['final train loss', res.finalLoss.toFixed(4)],
      ['time', `${summary.seconds.toFixed(1)} s (${Math.round(res.tokensPerSec)} tok/s)`],
    ]), '',
    `![midtraining loss](${join(dir, 'loss.svg')})`, '',
  ].join('\n'));
  if (!Number.isFinite(res.finalLoss)) throw new UserError('midtraining ended without a finite loss');
  emitJson(p, summary);
  return 0;
}
