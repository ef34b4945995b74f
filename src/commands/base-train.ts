// `nanochat base-train`: pretrain a GPT on the pretraining shards, with nanochat's
// model, optimizer (AdamW + Muon) and learning-rate schedule.
//
// --depth is the one dial: width, heads, learning-rate scaling and (through the tokens:params ratio)
// the training horizon follow from it. Batch arithmetic: --total-batch-size tokens per optimizer step
// = --device-batch-size rows x --max-seq-len tokens x gradient-accumulation steps.

import { join } from 'node:path';
import { parse, num, str, out, emitJson, every, numIterations, trainerPeriod, type FlagSpec } from '../cli/flags.js';
import { gradClipFlag, KEEP_LAST_FLAG, parseGradClip, parseKeepLast } from '../cli/train-flags.js';
import { DTYPE_FLAG, applyDtype } from '../cli/dtype.js';
import { UserError } from '../common/errors.js';
import { GPT, configFromDepth } from '../model/gpt.js';
import { Optimizer, lrMultiplier } from '../train/optimizer.js';
import { checkpointDir, type CheckpointMeta } from '../checkpoint/checkpoint.js';
import { resumeRun } from '../checkpoint/resume.js';
import { train, type TrainResult } from '../train/trainer.js';
import { BestFitLoader, type LoaderState } from '../data/dataloader.js';
import { HELD_OUT_PERCENT, listShards, shardName, splitShards } from '../data/shards.js';
import { dataDir } from '../common/paths.js';
import { markdownTable } from '../report/markdown-table.js';
import { writeReportSection } from '../report/section.js';
import { evaluateBpb } from '../eval/bpb.js';
import { greedySamples, SAMPLE_PROMPTS } from '../eval/samples.js';
import { machinePeakFlops, mfuBasis } from '../tensor/peak.js';
import { tokenizerIdentity } from '../checkpoint/tokenizer-identity.js';
import { loadTokenizer } from '../tokenizer/io.js';
import type { TextTokenizer } from '../tokenizer/types.js';
import { getBackend, whyNotGpu } from '../tensor/backends.js';
import { matmulPrecision } from '../tensor/precision.js';

const BASE_TRAIN_FLAGS: FlagSpec = {
  'depth': { type: 'string', default: '20', help: 'transformer layers; model_dim = 64 * depth' },
  'head-dim': { type: 'string', default: '128', help: 'attention head size (smaller for tiny models)' },
  'n-kv-head': { type: 'string', help: 'key/value heads for grouped-query attention (default: as many as query heads)' },
  'max-seq-len': { type: 'string', default: '2048', help: 'context length in tokens' },
  'device-batch-size': { type: 'string', default: '32', help: 'rows per forward/backward pass' },
  'total-batch-size': { type: 'string', default: '524288', help: 'tokens per optimizer step (gradient accumulation makes up the rest)' },
  'num-iterations': { type: 'string', default: '-1', help: 'optimizer steps (-1 or 0: from --target-param-data-ratio)' },
  'target-param-data-ratio': { type: 'string', default: '20', help: 'training tokens per parameter when --num-iterations is -1 (Chinchilla: 20)' },
  'embedding-lr': { type: 'string', default: '0.2', help: 'AdamW lr of the token embedding (times (C/768)^-0.5)' },
  'unembedding-lr': { type: 'string', default: '0.004', help: 'AdamW lr of lm_head (times (C/768)^-0.5)' },
  'matrix-lr': { type: 'string', default: '0.02', help: 'Muon lr of the block matrices' },
  'warmdown-ratio': { type: 'string', default: '0.2', help: 'fraction of steps at the end over which the lr decays linearly to 0' },
  ...gradClipFlag('1.0'),
  ...DTYPE_FLAG,
  'eval-every': { type: 'string', default: '250', help: 'steps between val bits-per-byte evaluations (0: only at start and end; -1: never)' },
  'eval-tokens': { type: 'string', default: '10485760', help: 'validation tokens per evaluation' },
  'sample-every': { type: 'string', default: '2000', help: 'steps between greedy samples of the reference prompts (0: only at the end; -1: never)' },
  'save-every': { type: 'string', default: '0', help: 'steps between checkpoints (0 or -1: only the final one)' },
  ...KEEP_LAST_FLAG,
  'model-tag': { type: 'string', help: 'checkpoint folder name (default: d<depth>)' },
  'resume-from-step': { type: 'string', help: 'continue a run from its checkpoint at this step, or `latest`' },
  'seed': { type: 'string', default: '42', help: 'initialization seed' },
  'data-dir': { type: 'string', help: 'folder of pretraining shards (default: $NANOCHAT_BASE_DIR/data/pretrain_openstax)' },
};

export interface BaseTrainOptions {
  depth: number;
  headDim: number;
  nKvHead?: number;
  maxSeqLen: number;
  deviceBatchSize: number;
  totalBatchSize: number;
  /** -1: from targetParamDataRatio */
  numIterations: number;
  targetParamDataRatio: number;
  embeddingLr: number;
  unembeddingLr: number;
  matrixLr: number;
  warmdownRatio: number;
  /** max global gradient norm, 0 disables */
  gradClip: number;
  /** periodic steps as every() reads them: N, 0 (see the flag's help) or NEVER (-1) */
  evalEvery: number;
  evalTokens: number;
  sampleEvery: number;
  saveEvery: number;
  /** checkpoints kept after each save (undefined: all) */
  keepLast?: number;
  modelTag: string;
  resumeFromStep?: number | 'latest';
  seed: number;
  dataDir: string;
}

/** Gradient-accumulation steps, or a clear error listing batch sizes that would work. */
export function gradAccumSteps(total: number, deviceBatch: number, seqLen: number): number {
  const perPass = deviceBatch * seqLen;
  if (total % perPass === 0) return total / perPass;
  const lower = Math.max(perPass, Math.floor(total / perPass) * perPass), upper = Math.ceil(total / perPass) * perPass;
  const rows: number[] = [];
  for (let b = deviceBatch; b >= 1 && rows.length < 3; b--) if (total % (b * seqLen) === 0) rows.push(b);
  throw new UserError(
    `--total-batch-size ${total} is not a multiple of --device-batch-size x --max-seq-len = ${deviceBatch} x ${seqLen} = ${perPass} tokens per pass. ` +
    `Use --total-batch-size ${lower}${upper !== lower ? ` or ${upper}` : ''}` +
    (rows.length ? `, or --device-batch-size ${rows.join(' / ')}` : '') + '.',
  );
}

export function parseBaseTrain(argv: string[]) {
  const p = parse('base-train', 'Pretrain a GPT on the pretraining shards.', BASE_TRAIN_FLAGS, argv);
  const depth = num(p, 'depth', { min: 1 });
  const resume = str(p, 'resume-from-step');
  const opts: BaseTrainOptions = {
    depth,
    headDim: num(p, 'head-dim', { min: 2 }),
    nKvHead: p.values['n-kv-head'] !== undefined ? num(p, 'n-kv-head', { min: 1 }) : undefined,
    maxSeqLen: num(p, 'max-seq-len', { min: 2 }),
    deviceBatchSize: num(p, 'device-batch-size', { min: 1 }),
    totalBatchSize: num(p, 'total-batch-size', { min: 1 }),
    numIterations: numIterations(p),
    targetParamDataRatio: num(p, 'target-param-data-ratio', { min: 0, allowFloat: true }),
    embeddingLr: num(p, 'embedding-lr', { min: 0, allowFloat: true }),
    unembeddingLr: num(p, 'unembedding-lr', { min: 0, allowFloat: true }),
    matrixLr: num(p, 'matrix-lr', { min: 0, allowFloat: true }),
    warmdownRatio: num(p, 'warmdown-ratio', { min: 0, max: 1, allowFloat: true }),
    gradClip: parseGradClip(p),
    evalEvery: every(p, 'eval-every'),
    evalTokens: num(p, 'eval-tokens', { min: 1 }),
    sampleEvery: every(p, 'sample-every'),
    saveEvery: every(p, 'save-every'),
    keepLast: parseKeepLast(p),
    modelTag: str(p, 'model-tag') ?? `d${depth}`,
    resumeFromStep: resume === undefined ? undefined : resume === 'latest' ? 'latest' : num(p, 'resume-from-step', { min: 0 }),
    seed: num(p, 'seed'),
    dataDir: str(p, 'data-dir') ?? join(dataDir(), 'pretrain_openstax'),
  };
  return { p, opts };
}

export async function run(argv: string[]): Promise<number> {
  const { p, opts } = parseBaseTrain(argv);
  const log = out(p);
  log(applyDtype(p));
  const tok = loadTokenizer();
  const result = await baseTrain(opts, tok, log);
  emitJson(p, result);
  return 0;
}

export interface BaseTrainSummary extends Omit<TrainResult, 'evals'> {
  tag: string;
  dir: string;
  params: number;
  flopsPerToken: number;
  iterations: number;
  totalBatchSize: number;
  tokensPerParam: number;
  minValBpb: number;
  finalValBpb: number;
  /** the out-of-domain validation shard (the last of several) and its bpb; null and NaN with one shard */
  oodShard: string | null;
  finalOodBpb: number;
  /** tokens of one epoch of the training documents, and the epochs the run has made of them */
  epochTokens: number;
  epochs: number;
  evals: Record<string, number>[];
}

export async function baseTrain(o: BaseTrainOptions, tok: TextTokenizer, log: (s: string) => void): Promise<BaseTrainSummary> {
  const files = listShards(o.dataDir);
  const split = splitShards(files);
  const gradAccum = gradAccumSteps(o.totalBatchSize, o.deviceBatchSize, o.maxSeqLen);
  const config = configFromDepth(o.depth, tok.vocabSize, o.maxSeqLen, { headDim: o.headDim, nKvHead: o.nKvHead });
  const model = new GPT(config);
  const params = model.numParams();
  const numIterations = o.numIterations > 0 ? o.numIterations : Math.max(1, Math.round((o.targetParamDataRatio * params) / o.totalBatchSize));
  const dir = checkpointDir('base', o.modelTag);
  const tokId = tokenizerIdentity(tok);

  // ---- fresh start or resume
  let startStep = 0;
  let loaderState: LoaderState | undefined;
  const optimizer = () => new Optimizer(model.paramGroups({ embedding: o.embeddingLr, unembedding: o.unembeddingLr, matrix: o.matrixLr }));
  let opt: Optimizer;
  if (o.resumeFromStep !== undefined) {
    opt = optimizer();
    const r = resumeRun(dir, o.resumeFromStep, model, opt, { config, tokenizerHash: tokId.hash });
    startStep = r.startStep;
    loaderState = r.meta.loaderState as LoaderState;
    // a checkpoint from before the loader counted its tokens: every training row holds T+1 of them
    if (loaderState && loaderState.tokens === undefined) {
      loaderState = { ...loaderState, tokens: startStep * gradAccum * o.deviceBatchSize * (o.maxSeqLen + 1) };
    }
    log(`resuming ${dir} from step ${startStep}`);
  } else {
    model.initWeights(o.seed);
    opt = optimizer();
  }

  const flopsPerToken = model.flopsPerToken();
  const tokens = numIterations * o.totalBatchSize;
  log(`model d${o.depth}: ${params.toLocaleString('en-US')} parameters (2VC + 12LC^2 = ${(2 * model.vocabPadded * config.nEmbd + 12 * config.nLayer * config.nEmbd ** 2).toLocaleString('en-US')}), ` +
    `dim ${config.nEmbd}, ${config.nHead} heads of ${model.headDim} (${config.nKvHead} kv), vocab ${tok.vocabSize} (padded ${model.vocabPadded})`);
  log(`FLOPs per token ${flopsPerToken.toExponential(3)}; ${numIterations} steps x ${o.totalBatchSize} tokens = ${tokens.toLocaleString('en-US')} tokens (${(tokens / params).toFixed(2)} tokens/param); ` +
    `grad accumulation ${gradAccum}; backend ${getBackend().name} (${getBackend().threads} threads` +
    `${whyNotGpu() ? `; ${whyNotGpu()}` : ''})`);

  const loader = new BestFitLoader(tok, split.train, o.deviceBatchSize, o.maxSeqLen, { state: loaderState });
  const epochTokens = await loader.epochTokens();
  const oodShard = split.outOfDomain && shardName(split.outOfDomain.files[0]);
  const rows = numIterations * gradAccum * o.deviceBatchSize;
  const plannedEpochs = (rows * (o.maxSeqLen + 1)) / epochTokens;
  log(`data: ${split.train.files.length} training shard(s), ${epochTokens.toLocaleString('en-US')} tokens per epoch; ` +
    `the run's ${rows.toLocaleString('en-US')} rows of ${o.maxSeqLen + 1} tokens make ${plannedEpochs.toFixed(2)} epochs`);
  log(`validation: the ${HELD_OUT_PERCENT}% of their documents held out by a hash of the text; ` +
    (oodShard ? `out of domain: ${oodShard}, never trained on` : 'one shard, so no out-of-domain figure'));
  const peak = machinePeakFlops(matmulPrecision());
  const samplesLog: string[] = [];
  const res = await train({
    model, optimizer: opt, dir, numIterations, gradAccum, gradClip: o.gradClip, B: o.deviceBatchSize, T: o.maxSeqLen, startStep,
    nextBatch: async () => {
      const b = await loader.nextBatch();
      if (!b) throw new UserError(`the training shards in ${o.dataDir} produced no tokens`);
      return b;
    },
    loaderState: () => loader.state(),
    stepStats: () => ({ epoch: loader.epochs() }),
    lrMultiplier: (s) => lrMultiplier(s, numIterations, o.warmdownRatio),
    evalEvery: trainerPeriod(o.evalEvery, numIterations),
    evaluate: async () => {
      const { bpb } = await evaluateBpb(model, tok, split.val, o.deviceBatchSize, o.maxSeqLen, o.evalTokens);
      const ood = split.outOfDomain &&
        await evaluateBpb(model, tok, split.outOfDomain, o.deviceBatchSize, o.maxSeqLen, o.evalTokens);
      return { val_bpb: bpb, ...(ood ? { val_ood_bpb: ood.bpb } : {}) };
    },
    sampleEvery: trainerPeriod(o.sampleEvery, numIterations),
    sample: async (step) => {
      const samples = await greedySamples(model, tok, SAMPLE_PROMPTS, 16);
      samplesLog.push(`step ${step}`, ...samples.map((s) => `  ${s}`));
      for (const s of samples) log(`  sample: ${s}`);
    },
    saveEvery: trainerPeriod(o.saveEvery, 0),
    keepLast: o.keepLast,
    meta: (step): CheckpointMeta => ({ format: 1, stage: 'base', step, modelConfig: config, tokenizer: tokId, args: { ...o } }),
    peakFlops: peak.flops,
    log,
  });
  const bpbs = res.evals.map((e) => e.val_bpb).filter((x) => x !== undefined);
  const summary: BaseTrainSummary = {
    ...res, tokens, tag: o.modelTag, dir, params, flopsPerToken, iterations: numIterations, totalBatchSize: o.totalBatchSize,
    // NaN (null in --json) when --eval-every -1 measured nothing
    tokensPerParam: tokens / params, minValBpb: bpbs.length ? Math.min(...bpbs) : NaN, finalValBpb: bpbs.at(-1) ?? NaN,
    oodShard, finalOodBpb: res.evals.at(-1)?.val_ood_bpb ?? NaN, epochTokens, epochs: loader.epochs(),
  };
  log(`done: ${numIterations} steps in ${res.seconds.toFixed(1)}s, ${Math.round(res.tokensPerSec)} tok/s, MFU ${(100 * res.mfu).toFixed(1)}% of ${mfuBasis(peak.flops, matmulPrecision())} (${peak.source}), epoch ${summary.epochs.toFixed(2)}, min val bpb ${bpbText(summary.minValBpb)}`);
  writeBaseTrainingSection(summary, o, config, samplesLog, peak);
  return summary;
}

/** A val bpb for the log and the report; a run with --eval-every -1 has none. */
const bpbText = (bpb: number): string => (Number.isFinite(bpb) ? bpb.toFixed(4) : 'not measured (--eval-every -1)');

function writeBaseTrainingSection(s: BaseTrainSummary, o: BaseTrainOptions, config: object, samples: string[], peak: { flops: number; source: string }): void {
  const rows: [string, string | number][] = [
    ['model tag', s.tag], ['depth', o.depth], ['config', JSON.stringify(config)], ['parameters', s.params.toLocaleString('en-US')],
    ['FLOPs per token', s.flopsPerToken.toExponential(3)], ['iterations', s.iterations], ['total batch size (tokens)', s.totalBatchSize],
    ['training tokens', s.tokens.toLocaleString('en-US')], ['tokens : params', s.tokensPerParam.toFixed(2)],
    ['training tokens per epoch', s.epochTokens.toLocaleString('en-US')],
    ['epochs of the training documents', s.epochs.toFixed(2)],
    ['tokens/s', Math.round(s.tokensPerSec)], ['MFU', `${(100 * s.mfu).toFixed(1)}% of ${mfuBasis(peak.flops, matmulPrecision())} (${peak.source})`],
    ['training time', `${s.seconds.toFixed(1)} s`], ['final train loss', s.finalLoss.toFixed(4)],
    ['min val bpb', bpbText(s.minValBpb)], ['final val bpb', bpbText(s.finalValBpb)],
    ['val documents', `the ${HELD_OUT_PERCENT}% of the training shards' documents held out by a hash of the text, scored whole`],
    ...(s.oodShard ? [[`final val bpb (out of domain: ${s.oodShard})`, bpbText(s.finalOodBpb)] as [string, string]] : []),
  ];
  const md = ['## Base model training', '', markdownTable(['setting', 'value'], rows), '',
    `![base training loss](${join(s.dir, 'loss.svg')})`, '', 'Samples (greedy):', '', '```', ...samples, '```', ''];
  writeReportSection('base-model-training.md', md.join('\n'));
}
