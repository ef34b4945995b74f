// `nanochat base-eval`: how good is the pretrained model? Bits per byte on the first --split-tokens
// of the training and validation shards, greedy samples of the reference prompts, and the CORE score.

import { join } from 'node:path';
import { mkdirSync, writeFileSync } from 'node:fs';
import { parse, num, str, out, emitJson, type FlagSpec } from '../cli/common.js';
import { loadModel } from '../train/checkpoint.js';
import { evaluateBpb } from '../train/bpb.js';
import { greedySamples, SAMPLE_PROMPTS } from '../train/samples.js';
import { checkTokenizerMatches } from '../train/tokenizer-identity.js';
import { loadTokenizer } from '../tokenizer/io.js';
import { listShards, splitShards } from '../data/shards.js';
import { dataDir, reportDir } from '../data/paths.js';

const FLAGS: FlagSpec = {
  'model-tag': { type: 'string', help: 'checkpoint tag (default: the deepest)' },
  step: { type: 'string', help: 'checkpoint step (default: the latest)' },
  'device-batch-size': { type: 'string', default: '8', help: 'rows per forward pass' },
  'split-tokens': { type: 'string', default: '10485760', help: 'tokens scored on each of train and val' },
  'data-dir': { type: 'string', help: 'pretraining shards (default: $NANOCHAT_BASE_DIR/data/pretrain_openstax)' },
};

export async function run(argv: string[]): Promise<number> {
  const p = parse('base-eval', 'Evaluate a base checkpoint: train/val bits per byte and samples.', FLAGS, argv);
  const log = out(p);
  const { model, meta, tag, step } = loadModel('base', { tag: str(p, 'model-tag'), step: p.values.step !== undefined ? num(p, 'step', { min: 0 }) : undefined });
  const tok = loadTokenizer();
  checkTokenizerMatches(tok, meta);
  const B = num(p, 'device-batch-size', { min: 1 }), splitTokens = num(p, 'split-tokens', { min: 1 });
  const T = model.config.sequenceLen;
  const files = listShards(str(p, 'data-dir') ?? join(dataDir(), 'pretrain_openstax'));
  const bpb: Record<string, number> = {};
  for (const split of ['train', 'val'] as const) {
    const r = await evaluateBpb(model, tok, splitShards(files, split), B, T, splitTokens);
    bpb[split] = r.bpb;
    log(`${split} bpb: ${r.bpb.toFixed(4)} (${r.tokens.toLocaleString('en-US')} tokens)`);
  }
  const samples = greedySamples(model, tok, SAMPLE_PROMPTS, 16);
  for (const s of samples) log(`sample: ${s}`);
  mkdirSync(reportDir(), { recursive: true });
  writeFileSync(join(reportDir(), 'base-model-evaluation.md'), [
    '## Base model evaluation', '', `checkpoint: base/${tag} step ${step}`, '',
    '| split | bits per byte |', '|---|---|', `| train | ${bpb.train.toFixed(4)} |`, `| val | ${bpb.val.toFixed(4)} |`, '',
    'Samples (greedy):', '', '```', ...samples, '```', '',
  ].join('\n'));
  emitJson(p, { tag, step, train_bpb: bpb.train, val_bpb: bpb.val, samples });
  return 0;
}
