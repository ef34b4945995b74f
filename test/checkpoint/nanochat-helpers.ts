// Shared by the nanochat import/export tests: the committed fixture (written once by fixtures/nanochat_fixture.py
// with PyTorch), a python3 that has torch where this machine has one, and the logits of our GPT.

import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { GPT } from '../../src/model/gpt.js';
import { arena, noGrad } from '../../src/tensor/tensor.js';

/** test/checkpoint/fixtures in the source tree (the tests run from dist/test/checkpoint) */
export const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'test', 'checkpoint', 'fixtures');
export const FIXTURE_SCRIPT = join(FIXTURES, 'nanochat_fixture.py');
/** the committed fixture: a nanochat base dir with chatsft_checkpoints/d1 and tokenizer/ */
export const COMMITTED = join(FIXTURES, 'nanochat-d1');
export const COMMITTED_CHECKPOINT = join(COMMITTED, 'chatsft_checkpoints', 'd1');

export interface Expected { ids: number[]; shape: [number, number]; logits: Float32Array }

export function readExpected(base: string): Expected {
  const text = readFileSync(join(base, 'expected.json'), 'utf8');
  const e = JSON.parse(text) as { ids: number[]; shape: [number, number]; logits_f32_base64: string };
  const b = Buffer.from(e.logits_f32_base64, 'base64');
  return { ids: e.ids, shape: e.shape, logits: new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length)) };
}

/** Soft-capped logits [T, vocabPadded] of one row of ids. */
export function logitsOf(model: GPT, ids: number[]): Float32Array {
  const out = noGrad(() => model.forward(Int32Array.from(ids), 1, ids.length).logits.toArray());
  arena.reset();
  return out;
}

/** Largest |ours - torch| over the real vocabulary's columns. */
export function maxLogitDiff(model: GPT, e: Expected): number {
  const ours = logitsOf(model, e.ids);
  const [T, V] = e.shape, Vp = model.vocabPadded;
  let worst = 0;
  for (let t = 0; t < T; t++) {
    for (let v = 0; v < V; v++) worst = Math.max(worst, Math.abs(ours[t * Vp + v] - e.logits[t * V + v]));
  }
  return worst;
}

/** Debian's OpenBLAS picks its kernels by CPU name and can fail to on new CPUs: name the family. */
function openblasCore(): string {
  let flags = '';
  try {
    flags = readFileSync('/proc/cpuinfo', 'utf8');
  } catch { /* not Linux */ }
  return / avx512f/.test(flags) ? 'SKYLAKEX' : / avx2/.test(flags) ? 'HASWELL' : 'PRESCOTT';
}

export const pythonEnv = (): NodeJS.ProcessEnv =>
  ({ ...process.env, OPENBLAS_CORETYPE: process.env.OPENBLAS_CORETYPE ?? openblasCore() });

let torchPython: string | null | undefined;
/** A python3 that imports torch ($NANOCHAT_TORCH_PYTHON, python3, or Debian's /usr/bin/python3), or null. */
export function findTorchPython(): string | null {
  if (torchPython !== undefined) return torchPython;
  const candidates = [process.env.NANOCHAT_TORCH_PYTHON, 'python3', '/usr/bin/python3'].filter((c): c is string => !!c);
  const hasTorch = (py: string) => spawnSync(py, ['-c', 'import torch'], { env: pythonEnv(), stdio: 'ignore' }).status === 0;
  torchPython = candidates.find(hasTorch) ?? null;
  return torchPython;
}

/** Run python with args; throw with its stderr when it fails; return stdout. */
export function runPython(py: string, args: string[]): string {
  const r = spawnSync(py, args, { env: pythonEnv(), encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${py} ${args.join(' ')} failed (${r.status}):\n${r.stderr}`);
  return r.stdout;
}
