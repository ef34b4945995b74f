import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TIERS, pipeline, rowsThatFit, type Sizing } from '../../src/speedrun/tiers.js';
import { countsFor, makePlan, readPlan } from '../../src/speedrun/plan.js';
import { calibrate, type Calibration } from '../../src/speedrun/calibrate.js';

const flag = (args: string[], name: string) => args[args.indexOf(name) + 1];
const tinySizing = TIERS.tiny.sizing as Sizing;

test('counts follow the rate: half the tokens/s, half the steps, each stage within its budget', () => {
  const fast = countsFor(tinySizing, 7500), slow = countsFor(tinySizing, 3750);
  assert.equal(fast.counts.baseSteps, Math.floor((tinySizing.budgets.base * 7500) / 8192));
  assert.ok(Math.abs(slow.counts.baseSteps - fast.counts.baseSteps / 2) <= 1, `${slow.counts.baseSteps} vs ${fast.counts.baseSteps}`);
  for (const { projected } of [fast, slow]) {
    for (const stage of ['base', 'mid', 'sft', 'rl', 'evals'] as const) {
      assert.ok(projected[stage] <= tinySizing.budgets[stage] + 1e-9, `${stage}: ${projected[stage]} s > budget ${tinySizing.budgets[stage]}`);
    }
  }
  // evaluations shrink on a slow machine and never grow past the full sizes on a fast one
  assert.ok(slow.counts.evalProblems < fast.counts.evalProblems);
  assert.equal(countsFor(tinySizing, 1e6).counts.evalProblems, tinySizing.fullEval.evalProblems);
  assert.equal(countsFor(tinySizing, 1e6).counts.coreMaxPerTask, tinySizing.fullEval.coreMaxPerTask);
});

test('every calibrated tier budgets within its promise (tiny 30 minutes, cpu 3 hours) with room for the rest', () => {
  const promise: Record<string, number> = { tiny: 30 * 60, cpu: 3 * 3600 };
  for (const [name, minutes] of Object.entries(promise)) {
    const b = (TIERS[name].sizing as Sizing).budgets;
    const total = b.base + b.mid + b.sft + b.rl + b.evals;
    assert.ok(total <= minutes * 0.85, `${name}: budgets sum to ${total} s, over 85% of ${minutes} s`);
  }
});

test('the pipeline carries the counts into the stage flags', () => {
  const { counts } = countsFor(tinySizing, 5000);
  const stages = pipeline(TIERS.tiny.shape, counts);
  const args = (cmd: string, source?: string) => stages.find((s) => s.args[0] === cmd && (!source || s.args[2] === source))!.args;
  assert.equal(flag(args('base-train'), '--num-iterations'), String(counts.baseSteps));
  assert.equal(flag(args('mid-train'), '--num-iterations'), String(counts.midSteps));
  assert.equal(flag(args('chat-sft'), '--num-iterations'), String(counts.sftSteps));
  assert.equal(flag(args('chat-rl'), '--num-iterations'), String(counts.rlSteps));
  assert.equal(flag(args('chat-eval', 'sft'), '--max-problems'), String(counts.evalProblems));
  assert.equal(flag(args('base-eval'), '--max-per-task'), String(counts.coreMaxPerTask));
});

test('a plan is made once and read back unchanged, so a resumed run keeps its step counts', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'plan-'));
  assert.equal(readPlan(dir), undefined);
  let calls = 0;
  const fake = async (): Promise<Calibration> => ({ tokensPerSecond: 4321 + calls++, stepSeconds: [1, 1, 1], backend: 'ref', threads: 1 });
  const made = await makePlan(TIERS.tiny, dir, fake);
  assert.equal(made.source, 'calibrated');
  assert.deepEqual(made.counts, countsFor(tinySizing, 4321).counts);
  assert.deepEqual(readPlan(dir), made);
  assert.equal(calls, 1);
  // an uncalibrated tier takes its fixed counts without timing anything
  const fixed = await makePlan(TIERS.d20, mkdtempSync(join(tmpdir(), 'plan-')), () => assert.fail('d20 is not calibrated'));
  assert.equal(fixed.counts.baseSteps, 21_400);
});

test('calibration times real training steps of the model shape', async () => {
  const c = await calibrate({ depth: 1, headDim: 16, seqLen: 32, vocab: 128, rows: 2 }, 3);
  assert.equal(c.stepSeconds.length, 3);
  assert.ok(c.stepSeconds.every((s) => s > 0));
  const median = [...c.stepSeconds].sort((a, b) => a - b)[1];
  assert.ok(Math.abs(c.tokensPerSecond - 64 / median) < 1e-6);
  assert.equal(c.passes, 1);
});

test('calibration times whole optimizer steps: a batch of two passes is two passes and one update', async () => {
  const heard: number[] = [];
  const c = await calibrate({ depth: 1, headDim: 16, seqLen: 32, vocab: 128, rows: 2, batchTokens: 128 }, 3, (i, of, s) => {
    assert.equal(of, 3);
    assert.ok(s > 0);
    heard.push(i);
  });
  assert.deepEqual(heard, [0, 1, 2, 3], 'the warm-up, then each timed step, as it ends');
  assert.equal(c.passes, 2);
  const median = [...c.stepSeconds].sort((a, b) => a - b)[1];
  assert.ok(Math.abs(c.tokensPerSecond - 128 / median) < 1e-6);
});

test('a GPU tier runs as many rows per pass as its logits fit in one buffer of the device', () => {
  const d20 = TIERS.d20.shape, MiB = 2 ** 20 / 4; // floats in a MiB
  assert.equal(rowsThatFit(d20, Infinity), 32);
  assert.equal(rowsThatFit(d20, 2048 * MiB), 4); // one row of d20 logits: 2048 x 65,536 floats = 512 MiB
  assert.equal(rowsThatFit(d20, 4096 * MiB - 1), 4);
  assert.equal(rowsThatFit(d20, 512 * MiB), 1);
  assert.equal(rowsThatFit(d20, 128 * MiB), undefined);
  assert.equal((TIERS.d20.shape.batchTokens / d20.seqLen) % 4, 0, 'the step is still whole passes');
});
