// `nanochat import DIR`: convert a checkpoint folder written by nanochat itself (model_<step>.pt, meta_<step>.json,
// tokenizer.pkl) once into our layout: our safetensors checkpoint in $NANOCHAT_BASE_DIR/<stage>_checkpoints/<tag>
// and our tokenizer files in $NANOCHAT_BASE_DIR/tokenizer. Every command can also read such a folder directly
// (`-i nanochat:DIR`); importing saves reading the pickle and widening bf16 on every start.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parse, num, str, out, emitJson, type FlagSpec } from '../cli/flags.js';
import {
  checkpointDir, checkpointFiles, listSteps, parseStage, saveCheckpoint, type Stage,
} from '../checkpoint/checkpoint.js';
import { loadNanochat } from '../checkpoint/nanochat-import.js';
import { tokenizerIdentity } from '../checkpoint/tokenizer-identity.js';
import { UserError } from '../common/errors.js';
import { tokenizerDir } from '../common/paths.js';
import { loadTokenizer, META_FILE, saveTokenizer } from '../tokenizer/io.js';

const FLAGS: FlagSpec = {
  step: { type: 'string', help: 'the step to import (default: the latest model_<step>.pt in DIR)' },
  tokenizer: {
    type: 'string', help: 'folder with nanochat\'s tokenizer.pkl (default: DIR, DIR/tokenizer or DIR/../../tokenizer)',
  },
  out: {
    type: 'string',
    help: 'where it goes, as stage/tag, e.g. sft/d32 (default: the stage of DIR\'s parent folder, as nanochat names ' +
      'them, else sft; and DIR\'s name)',
  },
  force: { type: 'boolean', default: false, help: 'replace our tokenizer if it differs, and a checkpoint at that step' },
};

const SUMMARY = 'Convert a nanochat checkpoint folder (model_<step>.pt, meta_<step>.json, tokenizer.pkl) into our ' +
  'checkpoint and tokenizer: nanochat import DIR [flags]';

function parseOut(s: string): { stage: Stage; tag: string } {
  const m = /^([a-z]+)\/([\w.-]+)$/.exec(s);
  if (!m) throw new UserError(`--out must be stage/tag, e.g. sft/d32; got '${s}'`);
  return { stage: parseStage(m[1]), tag: m[2] };
}

export async function run(argv: string[]): Promise<number> {
  const p = parse('import', SUMMARY, FLAGS, argv, true);
  const say = out(p);
  if (p.positionals.length !== 1) {
    throw new UserError('give exactly one folder: nanochat import DIR (a nanochat checkpoint folder with model_<step>.pt)');
  }
  const step = p.values.step !== undefined ? num(p, 'step', { min: 0 }) : undefined;
  const force = Boolean(p.values.force);
  const { model, tok, meta, files } = loadNanochat(p.positionals[0], { step, tokenizerDir: str(p, 'tokenizer') });
  const outFlag = str(p, 'out');
  const target = outFlag !== undefined ? parseOut(outFlag) : { stage: files.stage, tag: files.tag };
  const c = meta.modelConfig;
  say(`read ${files.model}: n_layer ${c.nLayer}, n_embd ${c.nEmbd}, n_head ${c.nHead}, n_kv_head ${c.nKvHead}, ` +
    `vocab ${c.vocabSize}, ${(model.numParams() / 1e6).toFixed(1)}M parameters; tokenizer from ${files.tokenizerDir}`);

  // our tokenizer folder holds one tokenizer for every checkpoint of the base dir: replace it only when told to
  const tokDir = tokenizerDir();
  let writeTokenizer = true;
  if (existsSync(join(tokDir, META_FILE))) {
    const ours = tokenizerIdentity(loadTokenizer(tokDir));
    writeTokenizer = ours.hash !== meta.tokenizer.hash;
    if (writeTokenizer && !force) {
      throw new UserError(`${tokDir} holds another tokenizer (vocab ${ours.vocabSize}, hash ${ours.hash}) than this ` +
        `checkpoint's (vocab ${meta.tokenizer.vocabSize}, hash ${meta.tokenizer.hash}); replacing it would orphan the ` +
        'checkpoints trained with it: set NANOCHAT_BASE_DIR to another folder, or pass --force');
    }
  }
  const dir = checkpointDir(target.stage, target.tag);
  if (listSteps(dir).includes(files.step) && !force) {
    throw new UserError(`${dir} already has a checkpoint at step ${files.step}: pick another --out, or pass --force`);
  }
  if (writeTokenizer) saveTokenizer(tok, tokDir, { importedFrom: files.tokenizerDir });
  meta.stage = target.stage;
  await saveCheckpoint(dir, model, meta);
  const written = checkpointFiles(dir, files.step);
  say(`wrote ${written.model}`);
  say(`wrote ${written.meta}`);
  say(writeTokenizer ? `wrote the tokenizer to ${tokDir}` : `the tokenizer in ${tokDir} is already this one`);
  say(`use it with -i ${target.stage} --model-tag ${target.tag}`);
  emitJson(p, {
    stage: target.stage, tag: target.tag, step: files.step, model: written.model, meta: written.meta,
    tokenizer: writeTokenizer ? tokDir : null, from: files.model,
  });
  return 0;
}
