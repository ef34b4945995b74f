// Crash safety: kill -9 a real training process mid-run, resume from its latest checkpoint, and the
// losses after the resume point equal those of an uninterrupted run, bit for bit.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readMetrics } from '../../src/train/trainer.js';

const child = join(dirname(fileURLToPath(import.meta.url)), '..', 'helpers', 'base-train-child.js');

function makeShards(dir: string): void {
  mkdirSync(dir, { recursive: true });
  const words = 'the cell divides when its chromosomes have been copied and the spindle pulls them apart into two nuclei'.split(' ');
  for (let s = 0; s < 3; s++) {
    const docs = Array.from({ length: 40 }, (_, i) => JSON.stringify({ text: Array.from({ length: 20 + ((i * 7 + s) % 60) }, (_, j) => words[(i * 3 + j * 5 + s) % words.length]).join(' ') }));
    writeFileSync(join(dir, `shard_${s}.jsonl`), docs.join('\n') + '\n');
  }
}

const flags = (dataDir: string) => ['--depth', '1', '--head-dim', '32', '--max-seq-len', '64', '--device-batch-size', '2', '--total-batch-size', '256',
  '--num-iterations', '30', '--save-every', '5', '--eval-every', '0', '--eval-tokens', '512', '--sample-every', '0', '--data-dir', dataDir];

test('resume after kill -9 reproduces the uninterrupted run exactly', async () => {
  const root = mkdtempSync(join(tmpdir(), 'nanochat-resume-'));
  const dataDir = join(root, 'shards');
  makeShards(dataDir);
  const env = (name: string) => ({ ...process.env, NANOCHAT_BASE_DIR: join(root, name) });

  // 1. the uninterrupted run
  const full = spawnSync(process.execPath, [child, ...flags(dataDir)], { env: env('full'), encoding: 'utf8' });
  assert.equal(full.status, 0, full.stderr);
  const want = readMetrics(join(root, 'full', 'base_checkpoints', 'd1')).filter((r) => r.loss !== undefined);
  assert.equal(want.length, 30);

  // 2. the same run, killed with SIGKILL once its step-10 checkpoint exists
  const ckdir = join(root, 'killed', 'base_checkpoints', 'd1');
  const p = spawn(process.execPath, [child, ...flags(dataDir)], { env: env('killed'), stdio: 'ignore' });
  const exited = new Promise<void>((res) => p.on('exit', () => res()));
  const deadline = Date.now() + 60_000;
  while (!existsSync(join(ckdir, 'meta_000010.json'))) {
    assert.ok(Date.now() < deadline, 'the training process never reached its step-10 checkpoint');
    await new Promise((r) => setTimeout(r, 20));
  }
  p.kill('SIGKILL');
  await exited;
  const before = readMetrics(ckdir).filter((r) => r.loss !== undefined).length;
  assert.ok(before < 30, `the process should have been killed mid-run (it logged ${before} steps)`);
  // no temp file was promoted to a checkpoint name half-written: every meta has its model
  for (const f of readdirSync(ckdir).filter((n) => /^meta_\d+\.json$/.test(n))) assert.ok(existsSync(join(ckdir, f.replace('meta_', 'model_').replace('.json', '.safetensors'))), `${f} has no weights file`);

  // 3. resume from the latest complete checkpoint and finish
  const resumed = spawnSync(process.execPath, [child, ...flags(dataDir), '--resume-from-step', 'latest'], { env: env('killed'), encoding: 'utf8' });
  assert.equal(resumed.status, 0, resumed.stderr);
  const from = Number(/resuming .* from step (\d+)/.exec(resumed.stderr)?.[1]);
  assert.ok(from >= 10 && from < 30, `resumed from step ${from}`);
  const got = readMetrics(ckdir).filter((r) => r.loss !== undefined);
  assert.deepEqual(readdirSync(ckdir).filter((n) => n.includes('.tmp-')), [], 'temp files of the killed writer are cleaned up by the next save');
  assert.equal(got.length, 30, 'metrics after the resume cover every step once');
  for (let s = from; s < 30; s++) assert.equal(got[s].loss, want[s].loss, `loss at step ${s + 1} differs after resuming from ${from}`);
});
