// Disk space and checkpoints: a save that finds the disk full is one clear line (which file, how much it
// needed, how much was free), leaves no temp file and none of its step's files, and the previous
// checkpoint still loads; --keep-last N bounds how many checkpoints a run keeps.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GPT } from '../../src/model/gpt.js';
import { Optimizer } from '../../src/train/optimizer.js';
import {
  checkpointDir, checkpointFiles, listSteps, loadModel, loadOptimizerState, saveCheckpoint, type CheckpointMeta,
} from '../../src/checkpoint/checkpoint.js';
import { pruneCheckpoints } from '../../src/checkpoint/prune.js';
import { tempName, writeFileAtomic } from '../../src/common/atomic.js';
import { UserError } from '../../src/common/errors.js';
import { parseBaseTrain } from '../../src/commands/base-train.js';
import { tinyTrain } from '../helpers/tiny-train.js';
import { hostData } from '../../src/tensor/tensor.js';

const config = { vocabSize: 300, nLayer: 2, nHead: 2, nKvHead: 2, nEmbd: 64, sequenceLen: 32 };

function trainedModel(): { model: GPT; opt: Optimizer } {
  const model = new GPT(config);
  model.initWeights(7);
  const opt = new Optimizer(model.paramGroups({ embedding: 0.2, unembedding: 0.004, matrix: 0.02 }));
  for (const t of model.params.values()) hostData(t.grad!).fill(0.01);
  opt.stepAll();
  return { model, opt };
}

const meta = (step: number): CheckpointMeta =>
  ({ format: 1, stage: 'base', step, modelConfig: config, tokenizer: { vocabSize: 300, hash: 'x' }, args: {} });

/** The error object fs.writeSync throws on a full disk. */
const enospc = (): Error =>
  Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' });

/** The disk-full message, the previous checkpoint loads with its optimizer state, nothing of `failed` or any temp file remains. */
function assertCleanFailure(e: unknown, dir: string, failed: number, previous: number, model: GPT): true {
  assert.ok(e instanceof UserError, `a UserError, not ${String(e)}`);
  assert.doesNotMatch(e.message, /\n/, 'one line');
  const size = '\\d+(\\.\\d+)? (bytes|KiB|MiB|GiB|TiB)';
  assert.match(e.message, new RegExp(`^cannot save checkpoint step ${failed}: the disk is full\\. Writing ${dir}/\\w+_0+${failed}\\.\\w+ ` +
    `\\(${size}\\) failed; the whole checkpoint needs ${size} and ${dir} has ${size} free\\.`));
  assert.match(e.message, new RegExp(`the previous checkpoint \\(step ${previous}\\) is intact.*--resume-from-step latest`));
  const names = readdirSync(dir);
  assert.deepEqual(names.filter((n) => n.includes('.tmp-')), [], 'no temp file is left');
  assert.deepEqual(names.filter((n) => n.includes(String(failed).padStart(6, '0'))), [], `no file of step ${failed} is left`);
  assert.deepEqual(listSteps(dir), [previous]);
  const loaded = loadModel('base');
  assert.equal(loaded.step, previous);
  for (const [name, t] of loaded.model.params) assert.deepEqual(t.data, model.params.get(name)!.data, `${name} reloads as saved`);
  loadOptimizerState(new Optimizer(loaded.model.paramGroups({ embedding: 0.2, unembedding: 0.004, matrix: 0.02 })), dir, previous);
  return true;
}

test('ENOSPC mid-file: a one-line UserError, the temp and the step\'s earlier files removed, the previous checkpoint loads', async () => {
  process.env.NANOCHAT_BASE_DIR = mkdtempSync(join(tmpdir(), 'nanochat-enospc-'));
  const dir = checkpointDir('base', 'd2');
  const { model, opt } = trainedModel();
  await saveCheckpoint(dir, model, meta(5), opt);
  // the optimizer file goes through; the weights file dies halfway, its temp file written, as a full disk leaves it
  const fullDisk = (path: string, parts: (Uint8Array | string)[]): void => {
    if (!path.includes('model_')) return writeFileAtomic(path, parts);
    writeFileSync(tempName(path), parts[0]);
    throw enospc();
  };
  await assert.rejects(() => saveCheckpoint(dir, model, meta(10), opt, fullDisk), (e) => assertCleanFailure(e, dir, 10, 5, model));
  // any other failure is not dressed up as a full disk, and cleans up the same way
  const brokenDisk = (): void => { throw Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO' }); };
  await assert.rejects(() => saveCheckpoint(dir, model, meta(10), opt, brokenDisk),
    (e: Error) => !(e instanceof UserError) && /EIO/.test(e.message));
  assert.deepEqual(listSteps(dir), [5]);
});

/** Mount a tmpfs of `bytes` at a fresh folder; undefined where this process may not mount (not root, no CAP_SYS_ADMIN). */
function smallTmpfs(bytes: number): string | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const at = mkdtempSync(join(tmpdir(), 'nanochat-tmpfs-'));
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${bytes}`, 'tmpfs', at], { encoding: 'utf8' });
  if (r.status !== 0) { rmSync(at, { recursive: true, force: true }); return undefined; }
  return at;
}

test('a real full disk (a tmpfs with room for one checkpoint): the same clean failure', async (t) => {
  const { model, opt } = trainedModel();
  // the size of one checkpoint, measured
  process.env.NANOCHAT_BASE_DIR = mkdtempSync(join(tmpdir(), 'nanochat-size-'));
  const probe = checkpointDir('base', 'd2');
  await saveCheckpoint(probe, model, meta(1), opt);
  const one = Object.values(checkpointFiles(probe, 1)).reduce((n, f) => n + statSync(f).size, 0);
  const mount = smallTmpfs(Math.ceil((1.5 * one) / 4096) * 4096);
  if (!mount) { t.skip('cannot mount a tmpfs here (needs root with CAP_SYS_ADMIN); the ENOSPC seam test covers the logic'); return; }
  try {
    process.env.NANOCHAT_BASE_DIR = mount;
    const dir = checkpointDir('base', 'd2');
    await saveCheckpoint(dir, model, meta(1), opt);
    await assert.rejects(() => saveCheckpoint(dir, model, meta(2), opt), (e) => {
      assertCleanFailure(e, dir, 2, 1, model);
      // the numbers are real: less is free than the checkpoint needs
      const units: Record<string, number> = { bytes: 1, KiB: 2 ** 10, MiB: 2 ** 20, GiB: 2 ** 30, TiB: 2 ** 40 };
      const m = /needs ([\d.]+) (\w+) and .* has ([\d.]+) (\w+) free/.exec((e as Error).message)!;
      const needs = Number(m[1]) * units[m[2]], free = Number(m[3]) * units[m[4]];
      assert.ok(free < needs && Math.abs(needs - one) < 0.01 * one, `needs ${needs} (one checkpoint: ${one}), free ${free}`);
      return true;
    });
  } finally {
    spawnSync('umount', [mount]);
    rmSync(mount, { recursive: true, force: true });
  }
});

test('--keep-last 2 after 4 saves leaves the last 2 checkpoints (model, optimizer state and meta of the others deleted)', async () => {
  const { dir, log } = await tinyTrain(4, { saveEvery: 1, keepLast: 2 });
  assert.deepEqual(listSteps(dir), [3, 4]);
  const names = readdirSync(dir).filter((n) => /_\d+\.(json|safetensors)$/.test(n)).sort();
  assert.deepEqual(names, ['meta_000003.json', 'meta_000004.json', 'model_000003.safetensors', 'model_000004.safetensors',
    'optim_000003.safetensors', 'optim_000004.safetensors']);
  assert.ok(log.includes('removed checkpoint step 2 (--keep-last 2)'), log.join('\n'));
  // without the flag, every checkpoint stays (the reference's behaviour)
  assert.deepEqual(listSteps((await tinyTrain(3, { saveEvery: 1 })).dir), [1, 2, 3]);
});

test('pruning never deletes the checkpoint just written, even when newer ones exist (a rerun in an old folder)', async () => {
  process.env.NANOCHAT_BASE_DIR = mkdtempSync(join(tmpdir(), 'nanochat-prune-'));
  const dir = checkpointDir('base', 'd2');
  const { model, opt } = trainedModel();
  for (const step of [10, 20, 30, 40]) await saveCheckpoint(dir, model, meta(step), opt);
  assert.deepEqual(pruneCheckpoints(dir, 2, 20), [10, 30]);
  assert.deepEqual(listSteps(dir), [20, 40]);
  assert.deepEqual(pruneCheckpoints(dir, 1, 20), [40]);
  assert.deepEqual(listSteps(dir), [20]);
  assert.deepEqual(readdirSync(dir).sort(), ['meta_000020.json', 'model_000020.safetensors', 'optim_000020.safetensors']);
});

test('--keep-last: N >= 1, -1 or absent keeps all, 0 is refused', () => {
  assert.equal(parseBaseTrain(['--keep-last', '2']).opts.keepLast, 2);
  assert.equal(parseBaseTrain(['--keep-last', '-1']).opts.keepLast, undefined);
  assert.equal(parseBaseTrain([]).opts.keepLast, undefined);
  assert.throws(() => parseBaseTrain(['--keep-last', '0']),
    (e: Error) => e instanceof UserError && /--keep-last 0 would delete the checkpoint just written/.test(e.message));
  assert.equal(parseBaseTrain([]).opts.gradClip, 1);
  assert.equal(parseBaseTrain(['--grad-clip', '0']).opts.gradClip, 0);
});
