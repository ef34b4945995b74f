// Pretraining end to end on real text from the data mirror, with a tiny model and a byte-level tokenizer.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, readFileSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGunzip } from 'node:zlib';
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { baseTrain, gradAccumSteps, parseBaseTrain, type BaseTrainOptions } from '../../src/commands/base-train.js';
import { ByteTokenizer } from '../helpers/byte-tokenizer.js';
import { loadModel, checkpointFiles } from '../../src/checkpoint/checkpoint.js';
import { loadSafetensors } from '../../src/checkpoint/safetensors.js';
import { readMetrics } from '../../src/train/trainer.js';
import { hostData } from '../../src/tensor/tensor.js';

const mirror = process.env.NANOCHAT_DATA_MIRROR;

/** A small shard folder cut from real OpenStax text: 3 training shards and a validation shard. */
async function realShards(dir: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const src = join(mirror!, 'pretrain_openstax', 'psychology.jsonl.gz');
  const lines = createInterface({ input: createReadStream(src).pipe(createGunzip()) });
  const docs: string[] = [];
  for await (const l of lines) { docs.push(JSON.stringify({ text: (JSON.parse(l).text as string).slice(0, 3000) })); if (docs.length >= 80) break; }
  for (let s = 0; s < 4; s++) writeFileSync(join(dir, `shard_${s}.jsonl`), docs.slice(s * 20, s * 20 + 20).join('\n') + '\n');
}

function options(dataDir: string, extra: Partial<BaseTrainOptions> = {}): BaseTrainOptions {
  const { opts } = parseBaseTrain(['--depth', '1', '--head-dim', '32', '--max-seq-len', '64', '--device-batch-size', '4', '--total-batch-size', '512',
    '--num-iterations', '40', '--eval-every', '20', '--eval-tokens', '2048', '--sample-every', '0', '--data-dir', dataDir]);
  return { ...opts, ...extra };
}

test('batch arithmetic that does not divide fails with the values that would work', () => {
  assert.equal(gradAccumSteps(524288, 32, 2048), 8);
  assert.throws(() => gradAccumSteps(1000, 4, 64), /--total-batch-size 1000 is not a multiple of .* 256 tokens per pass\. Use --total-batch-size 768 or 1024/);
});

test('a d1 model trains on real text: val bpb falls; checkpoint round-trip is bit-exact', { skip: !mirror && 'NANOCHAT_DATA_MIRROR is not set' }, async () => {
  const base = mkdtempSync(join(tmpdir(), 'nanochat-base-'));
  process.env.NANOCHAT_BASE_DIR = base;
  const dataDir = join(base, 'shards');
  await realShards(dataDir);
  const logs: string[] = [];
  const res = await baseTrain(options(dataDir), new ByteTokenizer(), (s) => logs.push(s));
  const bpbs = res.evals.map((e) => e.val_bpb);
  assert.equal(bpbs.length, 3, 'evaluations at steps 0, 20, 40');
  // bytes are uniform at init: 8 bits per byte for a 265-way uniform guess is log2(265) = 8.05
  assert.ok(Math.abs(bpbs[0] - Math.log2(265)) < 0.01, `initial bpb ${bpbs[0]} should be log2(265)`);
  assert.ok(bpbs[2] < bpbs[0] - 2, `val bpb should fall by more than 2 bits: ${bpbs.map((b) => b.toFixed(3))}`);
  assert.ok(logs.some((l) => /step 40\/40 .*tok\/s .*mfu .*eta/.test(l)), 'per-step log lines with tok/s, MFU and ETA');
  // the run wrote metrics, a loss curve and a checkpoint; reloading gives the same bits
  const dir = join(base, 'base_checkpoints', 'd1');
  assert.equal(readMetrics(dir).filter((r) => r.loss !== undefined).length, 40);
  // the gradient norm of every step, before the default clip at 1.0 (as the reference logs it)
  assert.ok(readMetrics(dir).filter((r) => r.loss !== undefined).every((r) => Number.isFinite(r.grad_norm) && r.grad_norm! > 0));
  assert.ok(logs.some((l) => /step 40\/40 .*\| grad norm \d+\.\d{4} \|/.test(l)), 'the norm on the step line');
  assert.match(readFileSync(join(dir, 'loss.svg'), 'utf8'), /<svg[\s\S]*polyline/);
  const loaded = loadModel('base');
  assert.equal(loaded.step, 40);
  const file = loadSafetensors(checkpointFiles(dir, 40).model).tensors;
  for (const [name, t] of loaded.model.params) {
    assert.deepEqual(Buffer.from(hostData(t.data).buffer), Buffer.from(file.get(name)!.data.buffer), `${name} differs after the round trip`);
  }
  assert.ok(existsSync(join(base, 'report', 'base-model-training.md')));
});

test('--eval-every -1 and --sample-every -1 (nanochat\'s "never"): a run evaluates and samples nothing, and still saves',
  { skip: !mirror && 'NANOCHAT_DATA_MIRROR is not set' }, async () => {
  const base = mkdtempSync(join(tmpdir(), 'nanochat-base-never-'));
  process.env.NANOCHAT_BASE_DIR = base;
  const dataDir = join(base, 'shards');
  await realShards(dataDir);
  const { opts } = parseBaseTrain(['--depth', '1', '--head-dim', '32', '--max-seq-len', '64', '--device-batch-size', '4',
    '--total-batch-size', '256', '--num-iterations', '2', '--eval-every', '-1', '--sample-every=-1', '--save-every', '-1', '--data-dir', dataDir]);
  assert.deepEqual([opts.evalEvery, opts.sampleEvery, opts.saveEvery], [-1, -1, -1]);
  const logs: string[] = [];
  const res = await baseTrain(opts, new ByteTokenizer(), (s) => logs.push(s));
  assert.equal(res.evals.length, 0);
  assert.ok(!logs.some((l) => /val_bpb|sample:/.test(l)), `no evaluation or sample in the log:\n${logs.join('\n')}`);
  assert.ok(Number.isNaN(res.minValBpb) && Number.isNaN(res.finalValBpb));
  assert.equal(loadModel('base').step, 2, 'the final checkpoint is written');
  assert.match(readFileSync(join(base, 'report', 'base-model-training.md'), 'utf8'), /\| min val bpb \| not measured/);
  // -1 for the horizon: derived from --target-param-data-ratio, as when the flag is not given
  assert.equal(parseBaseTrain(['--num-iterations', '-1']).opts.numIterations, -1);
});
