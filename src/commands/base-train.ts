// `nanochat base-train`: pretrain a GPT on the pretraining shards (SPEC sections 2, 3, 5).
//
// --depth is the one dial: width, heads, learning-rate scaling and (through the tokens:params ratio)
// the training horizon follow from it. Batch arithmetic: --total-batch-size tokens per optimizer step
// = --device-batch-size rows x --max-seq-len tokens x gradient-accumulation steps.

import { join } from 'node:path';
import { parse, num, str, out, emitJson, type FlagSpec } from '../cli/flags.js';
import { UserError } from '../common/errors.js';
import { GPT, configFromDepth } from '../model/gpt.js';
import { Optimizer, lrMultiplier } from '../train/optimizer.js';
import { checkpointDir, type CheckpointMeta } from '../checkpoint/checkpoint.js';
import { resumeRun } from '../checkpoint/resume.js';
import { train, type TrainResult } from '../train/trainer.js';
import { BestFitLoader, type LoaderState } from '../data/dataloader.js';
import { listShards, splitShards } from '../data/shards.js';
import { dataDir } from '../common/paths.js';
import { writeReportSection } from '../report/section.js';
import { evaluateBpb } from '../eval/bpb.js';
import { greedySamples, SAMPLE_PROMPTS } from '../eval/samples.js';
import { machinePeakFlops } from '../tensor/peak.js';
import { tokenizerIdentity } from '../checkpoint/tokenizer-identity.js';
import { loadTokenizer } from '../tokenizer/io.js';
import type { TextTokenizer } from '../tokenizer/types.js';
import { getBackend } from '../tensor/backends.js';

export const BASE_TRAIN_FLAGS: FlagSpec = {
  'depth': { type: 'string', default: '20', help: 'transformer layers; model_dim = 64 * depth' },
  'head-dim': { type: 'string', default: '128', help: 'attention head size (smaller for tiny models)' },
  'n-kv-head': { type: 'string', help: 'key/value heads for grouped-query attention (default: as many as query heads)' },
  'max-seq-len': { type: 'string', default: '2048', help: 'context length in tokens' },
  'device-batch-size': { type: 'string', default: '32', help: 'rows per forward/backward pass' },
  'total-batch-size': { type: 'string', default: '524288', help: 'tokens per optimizer step (gradient accumulation makes up the rest)' },
  'num-iterations': { type: 'string', default: '-1', help: 'optimizer steps (-1: from --target-param-data-ratio)' },
  'target-param-data-ratio': { type: 'string', default: '20', help: 'training tokens per parameter when --num-iterations is -1 (Chinchilla: 20)' },
  'embedding-lr': { type: 'string', default: '0.2', help: 'AdamW lr of the token embedding (times (C/768)^-0.5)' },
  'unembedding-lr': { type: 'string', default: '0.004', help: 'AdamW lr of lm_head (times (C/768)^-0.5)' },
  'matrix-lr': { type: 'string', default: '0.02', help: 'Muon lr of the block matrices' },
  'warmdown-ratio': { type: 'string', default: '0.2', help: 'fraction of steps at the end over which the lr decays linearly to 0' },
  'eval-every': { type: 'string', default: '250', help: 'steps between val bits-per-byte evaluations (0: only at the end)' },
  'eval-tokens': { type: 'string', default: '10485760', help: 'validation tokens per evaluation' },
  'sample-every': { type: 'string', default: '2000', help: 'steps between greedy samples of the reference prompts (0: only at the end)' },
  'save-every': { type: 'string', default: '0', help: 'steps between checkpoints (0: only at the end)' },
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
  numIterations: number;
  targetParamDataRatio: number;
  embeddingLr: number;
  unembeddingLr: number;
  matrixLr: number;
  warmdownRatio: number;
  evalEvery: number;
  evalTokens: number;
  sampleEvery: number;
  saveEvery: number;
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
    numIterations: num(p, 'num-iterations', { min: -1 }),
    targetParamDataRatio: num(p, 'target-param-data-ratio', { min: 0, allowFloat: true }),
    embeddingLr: num(p, 'embedding-lr', { min: 0, allowFloat: true }),
    unembeddingLr: num(p, 'unembedding-lr', { min: 0, allowFloat: true }),
    matrixLr: num(p, 'matrix-lr', { min: 0, allowFloat: true }),
    warmdownRatio: num(p, 'warmdown-ratio', { min: 0, max: 1, allowFloat: true }),
    evalEvery: num(p, 'eval-every', { min: 0 }),
    evalTokens: num(p, 'eval-tokens', { min: 1 }),
    sampleEvery: num(p, 'sample-every', { min: 0 }),
    saveEvery: num(p, 'save-every', { min: 0 }),
    modelTag: str(p, 'model-tag') ?? `d${depth}`,
    resumeFromStep: resume === undefined ? undefined : resume === 'latest' ? 'latest' : num(p, 'resume-from-step', { min: 0 }),
    seed: num(p, 'seed'),
    dataDir: str(p, 'data-dir') ?? join(dataDir(), 'pretrain_openstax'),
  };
  return { p, opts };
}

export async function run(argv: string[]): Promise<number> {
  const { p, opts } = parseBaseTrain(argv);
  const tok = loadTokenizer();
  const result = await baseTrain(opts, tok, out(p));
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
  evals: Record<string, number>[];
}

export async function baseTrain(o: BaseTrainOptions, tok: TextTokenizer, log: (s: string) => void): Promise<BaseTrainSummary> {
  const files = listShards(o.dataDir);
  const trainFiles = splitShards(files, 'train'), valFiles = splitShards(files, 'val');
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
    `grad accumulation ${gradAccum}; backend ${getBackend().name} (${getBackend().threads} threads)`);

  const loader = new BestFitLoader(tok, trainFiles, o.deviceBatchSize, o.maxSeqLen, { state: loaderState });
  const peak = machinePeakFlops();
  const samplesLog: string[] = [];
  const res = await train({
    model, optimizer: opt, dir, numIterations, gradAccum, B: o.deviceBatchSize, T: o.maxSeqLen, startStep,
    nextBatch: async () => {
      const b = await loader.nextBatch();
      if (!b) throw new UserError(`the training shards in ${o.dataDir} produced no tokens`);
      return b;
    },
    loaderState: () => loader.state(),
    lrMultiplier: (s) => lrMultiplier(s, numIterations, o.warmdownRatio),
    evalEvery: o.evalEvery > 0 ? o.evalEvery : numIterations,
    evaluate: async () => {
      const { bpb } = await evaluateBpb(model, tok, valFiles, o.deviceBatchSize, o.maxSeqLen, o.evalTokens);
      return { val_bpb: bpb };
    },
    sampleEvery: o.sampleEvery > 0 ? o.sampleEvery : numIterations,
    sample: async (step) => {
      const samples = greedySamples(model, tok, SAMPLE_PROMPTS, 16);
      samplesLog.push(`step ${step}`, ...samples.map((s) => `  ${s}`));
      for (const s of samples) log(`  sample: ${s}`);
    },
    saveEvery: o.saveEvery,
    meta: (step): CheckpointMeta => ({ format: 1, stage: 'base', step, modelConfig: config, tokenizer: tokId, args: { ...o } }),
    peakFlops: peak.flops,
    log,
  });
  const bpbs = res.evals.map((e) => e.val_bpb).filter((x) => x !== undefined);
  const summary: BaseTrainSummary = {
    ...res, tokens, tag: o.modelTag, dir, params, flopsPerToken, iterations: numIterations, totalBatchSize: o.totalBatchSize,
    tokensPerParam: tokens / params, minValBpb: Math.min(...bpbs), finalValBpb: bpbs[bpbs.length - 1],
  };
  log(`done: ${numIterations} steps in ${res.seconds.toFixed(1)}s, ${Math.round(res.tokensPerSec)} tok/s, MFU ${(100 * res.mfu).toFixed(1)}% of ${(peak.flops / 1e9).toFixed(0)} GFLOP/s (${peak.source}), min val bpb ${summary.minValBpb.toFixed(4)}`);
  writeBaseTrainingSection(summary, o, config, samplesLog, peak);
  return summary;
}

function writeBaseTrainingSection(s: BaseTrainSummary, o: BaseTrainOptions, config: object, samples: string[], peak: { flops: number; source: string }): void {
  const rows: [string, string | number][] = [
    ['model tag', s.tag], ['depth', o.depth], ['config', JSON.stringify(config)], ['parameters', s.params.toLocaleString('en-US')],
    ['FLOPs per token', s.flopsPerToken.toExponential(3)], ['iterations', s.iterations], ['total batch size (tokens)', s.totalBatchSize],
    ['training tokens', s.tokens.toLocaleString('en-US')], ['tokens : params', s.tokensPerParam.toFixed(2)],
    ['tokens/s', Math.round(s.tokensPerSec)], ['MFU', `${(100 * s.mfu).toFixed(1)}% of ${(peak.flops / 1e9).toFixed(0)} GFLOP/s (${peak.source})`],
    ['training time', `${s.seconds.toFixed(1)} s`], ['final train loss', s.finalLoss.toFixed(4)],
    ['min val bpb', s.minValBpb.toFixed(4)], ['final val bpb', s.finalValBpb.toFixed(4)],
  ];
  const md = ['## Base model training', '', '| setting | value |', '|---|---|', ...rows.map(([k, v]) => `| ${k} | ${v} |`), '',
    `![base training loss](${join(s.dir, 'loss.svg')})`, '', 'Samples (greedy):', '', '```', ...samples, '```', ''];
  writeReportSection('base-model-training.md', md.join('\n'));
}
