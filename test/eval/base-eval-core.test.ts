// CORE inside `nanochat base-eval`: the GPT side of the scoreRows contract (batched and padded rows
// give the same numbers as one row at a time), and the command end to end on three real tasks with a
// tiny model: JSON fields, CSV, report section, summary metrics, and CORE = mean centered accuracy
// over the tasks present (the others named as missing).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gptScorer } from '../../src/eval/core-run.js';
import { perTokenLoss } from '../../src/eval/bpb.js';
import { arena, noGrad } from '../../src/tensor/tensor.js';
import { tinyGpt } from '../engine/helpers.js';
import { needsMirror, MIRROR } from './mirror.js';
import { freshBaseDir, saveModel } from './tiny-chat-model.js';

const cli = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'main.js');

test('gptScorer: batched, right-padded rows score exactly like each row alone', async () => {
  const model = tinyGpt(265, { sequenceLen: 64 });
  const rows = [[264, 10, 20, 30, 40, 50], [264, 7], [264, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], [264, 99, 98, 97]];
  const batched = await gptScorer(model, 264, 3)(rows);
  assert.equal(batched.losses.length, rows.length);
  for (const [i, r] of rows.entries()) {
    assert.equal(batched.losses[i].length, r.length);
    // alone: losses from the model's own per-token loss, argmax from its logits over the real vocabulary
    const inputs = Int32Array.from(r.slice(0, -1)), targets = Int32Array.from(r.slice(1));
    const alone = await perTokenLoss(model, inputs, targets, 1, inputs.length);
    const logits = noGrad(() => model.forward(Int32Array.from(r), 1, r.length).logits.toArray());
    arena.reset();
    for (let t = 0; t + 1 < r.length; t++) assert.ok(Math.abs(batched.losses[i][t] - alone[t]) < 1e-4, `row ${i} position ${t}: ${batched.losses[i][t]} vs ${alone[t]}`);
    for (let t = 0; t < r.length; t++) {
      let best = 0;
      for (let j = 1; j < 265; j++) if (logits[t * model.vocabPadded + j] > logits[t * model.vocabPadded + best]) best = j;
      assert.equal(batched.argmax[i][t], best, `row ${i} position ${t} argmax`);
    }
  }
});

test('base-eval runs CORE on the tasks present: JSON, CSV, report, and CORE = mean centered accuracy', { skip: needsMirror('core') }, async () => {
  const { base, tok } = freshBaseDir('nanochat-core-');
  await saveModel('base', tinyGpt(tok.vocabSize, { sequenceLen: 128, nEmbd: 64 }), tok);
  // a CORE folder with only three of the task files: copa (multiple choice), winograd (schema),
  // bigbench_operators (language modelling, 10-shot); the other tasks count as missing
  const core = join(base, 'data', 'core');
  for (const f of ['core.yaml', 'eval_meta_data.csv', 'eval_data/commonsense_reasoning/copa.jsonl', 'eval_data/language_understanding/winograd_wsc.jsonl', 'eval_data/symbolic_problem_solving/bigbench_operators.jsonl']) {
    mkdirSync(dirname(join(core, f)), { recursive: true });
    copyFileSync(join(MIRROR!, 'core', f), join(core, f));
  }
  // two small shards for bits per byte: val is the documents of a.jsonl held out by their hash (40
  // documents of 100 characters hold out 3), b.jsonl the out-of-domain shard
  const shards = join(base, 'shards');
  mkdirSync(shards);
  const text = readFileSync(join(MIRROR!, 'core', 'EVAL_GAUNTLET.md'), 'utf8');
  writeFileSync(join(shards, 'a.jsonl'), Array.from({ length: 40 }, (_, i) => JSON.stringify({ text: text.slice(i * 100, i * 100 + 100) })).join('\n') + '\n');
  writeFileSync(join(shards, 'b.jsonl'), JSON.stringify({ text: text.slice(4000, 8000) }) + '\n');

  const t0 = performance.now();
  const r = spawnSync(process.execPath, [cli, 'base-eval', '--json', '--max-per-task', '4', '--split-tokens', '256', '--device-batch-size', '2', '--data-dir', shards], {
    encoding: 'utf8', env: { ...process.env, NANOCHAT_BASE_DIR: base },
  });
  assert.equal(r.status, 0, r.stderr);
  const seconds = (performance.now() - t0) / 1000;
  const lines = r.stdout.trim().split('\n');
  const j = JSON.parse(lines[lines.length - 1]);
  assert.equal(j.step, 10);
  assert.equal(j.core_tasks, 3);
  assert.equal(j.core_missing.length, 19);
  assert.ok(j.core_missing.includes('coqa') && j.core_missing.includes('hellaswag'));
  assert.deepEqual(j.core_results.map((x: { label: string }) => x.label), ['copa', 'winograd', 'bigbench_operators']);
  let sum = 0;
  for (const x of j.core_results) {
    assert.equal(x.total, 4);
    assert.equal(x.accuracy, x.correct / 4);
    assert.ok(Math.abs(x.centered - (x.accuracy - x.randomBaseline) / (1 - x.randomBaseline)) < 1e-12);
    sum += x.centered;
  }
  assert.ok(Math.abs(j.core - sum / 3) < 1e-12, `CORE ${j.core} is the mean of the centered accuracies ${sum / 3}`);
  assert.equal(j.core_results[0].randomBaseline, 0.5); // copa: two choices
  assert.ok(Number.isFinite(j.val_bpb) && Number.isFinite(j.val_ood_bpb));
  assert.match(r.stderr, /CORE -?\d\.\d{4} \(over 3 of 22 tasks; missing: .*coqa/);

  // CSV: a row per task plus the CORE row
  assert.ok(existsSync(j.core_csv));
  const csv = readFileSync(j.core_csv, 'utf8').trim().split('\n');
  assert.equal(csv[0], 'task,type,fewshot,correct,total,accuracy,random_baseline,centered,seconds');
  assert.equal(csv.length, 5);
  assert.match(csv[3], /^bigbench_operators,language_modeling,10,\d,4,/);
  assert.ok(csv[4].startsWith('CORE,'));
  assert.ok(Math.abs(Number(csv[4].split(',')[7]) - j.core) < 1e-6);
  // the report section has the per-task table; the summary has CORE and val bpb under BASE
  const section = readFileSync(join(base, 'report', 'base-model-evaluation.md'), 'utf8');
  assert.match(section, /\| winograd \| schema \| 0 \| \d\/4 \|/);
  assert.match(section, /over 3 of 22 tasks/);
  const summary = JSON.parse(readFileSync(join(base, 'report', 'summary.json'), 'utf8'));
  assert.ok(Math.abs(summary.metrics.BASE.CORE - j.core) < 1e-12);
  assert.ok(Math.abs(summary.metrics.BASE['val bpb'] - j.val_bpb) < 1e-12);
  console.log(`# base-eval with CORE on 3 tasks x 4 items: ${seconds.toFixed(1)} s`);
});

test('base-eval: unknown --core-tasks and absent CORE data are clear errors; --skip-core leaves CORE out', { skip: needsMirror('core') }, async () => {
  const { base, tok } = freshBaseDir('nanochat-core-');
  await saveModel('base', tinyGpt(tok.vocabSize, { sequenceLen: 64 }), tok);
  const env = { ...process.env, NANOCHAT_BASE_DIR: base };
  const bad = spawnSync(process.execPath, [cli, 'base-eval', '--split-tokens', '0', '--core-data-dir', MIRROR!, '--core-tasks', 'copa,nope'], { encoding: 'utf8', env });
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /unknown CORE task\(s\): nope/);
  assert.doesNotMatch(bad.stderr, /\n\s+at /);
  // no CORE data in $NANOCHAT_BASE_DIR/data: a clear error before any long work, naming --skip-core
  const noData = spawnSync(process.execPath, [cli, 'base-eval', '--split-tokens', '0'], { encoding: 'utf8', env });
  assert.equal(noData.status, 1);
  assert.match(noData.stderr, /CORE config not found: .*core\.yaml.*--skip-core/);
  const skip = spawnSync(process.execPath, [cli, 'base-eval', '--json', '--split-tokens', '0', '--skip-core'], { encoding: 'utf8', env });
  assert.equal(skip.status, 0, skip.stderr);
  const j = JSON.parse(skip.stdout.trim().split('\n').pop()!);
  assert.equal(j.core, undefined);
  assert.equal(j.val_bpb, null);
});
