// `nanochat export --to nanochat DIR`: write one of our checkpoints in nanochat's own layout, so its Python
// scripts run it: DIR/<stage>_checkpoints/<tag>/model_<step>.pt and meta_<step>.json, DIR/tokenizer/tokenizer.pkl
// and token_bytes.pt. DIR plays nanochat's $NANOCHAT_BASE_DIR: `NANOCHAT_BASE_DIR=DIR python -m scripts.chat_cli`.

import { parse, num, str, out, emitJson, type FlagSpec } from '../cli/flags.js';
import { modelFlags } from '../cli/model-flags.js';
import { parseStage } from '../checkpoint/checkpoint.js';
import { exportToNanochat } from '../checkpoint/nanochat-export.js';
import { UserError } from '../common/errors.js';

const FLAGS: FlagSpec = {
  to: { type: 'string', help: 'the format to write: nanochat (required)' },
  source: { type: 'string', short: 'i', default: 'sft', help: 'checkpoint stage: base, mid, sft or rl' },
  'model-tag': modelFlags()['model-tag'],
  step: modelFlags().step,
  'pad-vocab': {
    type: 'boolean', default: false,
    help: 'embedding and head rows padded to a multiple of 64, for nanochat versions that pad ' +
      '(default: vocab_size rows, as classic nanochat)',
  },
  force: { type: 'boolean', default: false, help: 'replace a different tokenizer.pkl already in DIR/tokenizer' },
};

const SUMMARY = 'Write a checkpoint of ours in nanochat\'s layout under DIR (as its $NANOCHAT_BASE_DIR): ' +
  'nanochat export --to nanochat DIR [flags]';

export async function run(argv: string[]): Promise<number> {
  const p = parse('export', SUMMARY, FLAGS, argv, true);
  const say = out(p);
  const to = str(p, 'to');
  if (to !== 'nanochat') {
    throw new UserError(`--to ${to === undefined ? 'is required' : `'${to}' is not a format we write`}: use --to nanochat`);
  }
  if (p.positionals.length !== 1) throw new UserError('give exactly one output folder: nanochat export --to nanochat DIR');
  const r = exportToNanochat({
    stage: parseStage(str(p, 'source') ?? 'sft'),
    tag: str(p, 'model-tag'),
    step: p.values.step !== undefined ? num(p, 'step', { min: 0 }) : undefined,
  }, p.positionals[0], { padVocab: Boolean(p.values['pad-vocab']), force: Boolean(p.values.force) });
  for (const f of r.files) say(`wrote ${f}`);
  say(`nanochat's scripts load it with NANOCHAT_BASE_DIR=${p.positionals[0]} and -i ${r.stage}`);
  emitJson(p, r);
  return 0;
}
