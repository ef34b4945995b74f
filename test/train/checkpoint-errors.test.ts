// Bad checkpoints fail with a message that names the cause and the fix, and never with a stack trace.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GPT } from '../../src/model/gpt.js';
import { saveCheckpoint, loadModel, loadWeights, checkpointDir, checkpointFiles, type CheckpointMeta } from '../../src/checkpoint/checkpoint.js';
import { UserError } from '../../src/common/errors.js';

async function setup() {
  process.env.NANOCHAT_BASE_DIR = mkdtempSync(join(tmpdir(), 'nanochat-ckpt-'));
  const config = { vocabSize: 100, nLayer: 1, nHead: 2, nKvHead: 2, nEmbd: 32, sequenceLen: 16 };
  const model = new GPT(config);
  model.initWeights(1);
  const meta: CheckpointMeta = { format: 1, stage: 'base', step: 5, modelConfig: config, tokenizer: { vocabSize: 100, hash: 'x' }, args: {} };
  const dir = checkpointDir('base', 'd1');
  await saveCheckpoint(dir, model, meta);
  return { dir, model, config };
}

test('no checkpoint at all: says which command makes one', () => {
  process.env.NANOCHAT_BASE_DIR = mkdtempSync(join(tmpdir(), 'nanochat-ckpt-'));
  assert.throws(() => loadModel('sft'), (e: Error) => e instanceof UserError && /no sft checkpoint .*run `nanochat chat-sft` first/.test(e.message));
});

test('a truncated weights file is named as truncated or corrupt', async () => {
  const { dir } = await setup();
  const f = checkpointFiles(dir, 5).model;
  const bytes = readFileSync(f);
  writeFileSync(f, bytes.subarray(0, bytes.length - 100));
  assert.throws(() => loadModel('base'), (e: Error) => e instanceof UserError && e.message.includes(f) && /truncated or corrupt/.test(e.message));
});

test('a checkpoint of a different model shape is refused with the mismatching tensor named', async () => {
  const { dir } = await setup();
  const other = new GPT({ vocabSize: 100, nLayer: 1, nHead: 2, nKvHead: 2, nEmbd: 64, sequenceLen: 16 });
  assert.throws(() => loadWeights(other, checkpointFiles(dir, 5).model),
    (e: Error) => e instanceof UserError && /'transformer.wte.weight' is \[128,32\] but this model needs \[128,64\].*different model shape/.test(e.message));
});

test('a missing step lists the steps that exist; a corrupt meta file is named', async () => {
  const { dir } = await setup();
  assert.throws(() => loadModel('base', { step: 7 }), /no base checkpoint at step 7 for tag d1; available steps: 5/);
  writeFileSync(checkpointFiles(dir, 5).meta, '{"format": 1, "stag');
  assert.throws(() => loadModel('base'), (e: Error) => e instanceof UserError && /meta_000005.json .*missing or corrupt/.test(e.message));
  assert.ok(readdirSync(dir).every((n) => !n.includes('.tmp-')), 'no temp files left behind');
});
