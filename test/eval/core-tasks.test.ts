// CORE on the real task files (NANOCHAT_DATA_MIRROR): config, loading, reference-identical prompts, evaluation plumbing.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import {
  centeredAccuracy,
  coreScore,
  evaluateCoreTask,
  loadCoreTasks,
  prepareExample,
  readCoreConfig,
  renderPrompts,
  fewshotIndices,
  type CoreTask,
  type LmItem,
  type McItem,
  stackRows,
  type ScoreRows,
} from '../../src/eval/core-tasks.js';
import { ByteTokenizer } from '../helpers/byte-tokenizer.js';
import { MIRROR, needsMirror } from './mirror.js';

const skip = needsMirror('core/core.yaml');
const tok = new ByteTokenizer();

// Loading every task parses ~30 MB of JSON; do it once for the file.
let loaded: ReturnType<typeof loadCoreTasks> | undefined;
const all = () => (loaded ??= loadCoreTasks({ dataDir: MIRROR }));
const task = (label: string): CoreTask => all().tasks.find((t) => t.label === label)!;
const first50 = (label: string): CoreTask => ({ ...task(label), items: task(label).items.slice(0, 50) });

test('core.yaml + eval_meta_data.csv: 22 tasks with types, shots, delimiters, baselines', { skip }, () => {
  const specs = readCoreConfig(MIRROR);
  assert.equal(specs.length, 22);
  const by = Object.fromEntries(specs.map((s) => [s.label, s]));
  assert.deepEqual(by.arc_easy, {
    label: 'arc_easy', datasetUri: 'world_knowledge/arc_easy.jsonl', taskType: 'multiple_choice',
    numFewshot: 10, delimiter: '\nAnswer: ', randomBaseline: 0.25,
  });
  assert.equal(by.copa.delimiter, ' ');
  assert.equal(by.winograd.taskType, 'schema');
  assert.equal(by.agi_eval_lsat_ar.numFewshot, 3);
  assert.equal(by.commonsense_qa.randomBaseline, 0.2);
  assert.ok(Math.abs(by.bigbench_language_identification.randomBaseline - 0.091) < 1e-12);
  assert.equal(by.boolq.randomBaseline, 0.62);
});

test('every present task loads: 21 of 22, coqa missing and named', { skip }, () => {
  const { tasks, missing } = all();
  assert.deepEqual(missing.map((m) => m.label), ['coqa']);
  assert.equal(tasks.length, 21);
  const sizes = Object.fromEntries(tasks.map((t) => [t.label, t.items.length]));
  assert.equal(sizes.hellaswag, 10042); // gzipped file
  assert.equal(sizes.squad, 10570); // gzipped file
  assert.equal(sizes.bigbench_qa_wikidata, 20321);
  assert.equal(sizes.copa, 100);
  assert.equal(sizes.bigbench_repeat_copy_logic, 32);
  for (const t of tasks) assert.equal(t.items.length, t.totalItems);
  const cut = loadCoreTasks({ dataDir: MIRROR, labels: ['copa', 'winograd'], maxPerTask: 7 });
  assert.deepEqual(cut.tasks.map((t) => [t.label, t.items.length, t.totalItems]), [['copa', 7, 100], ['winograd', 7, 273]]);
  // --max-per-task takes the first N of the same seeded shuffle
  assert.deepEqual(cut.tasks[0].items, task('copa').items.slice(0, 7));
  assert.throws(() => loadCoreTasks({ dataDir: MIRROR, labels: ['nope'] }), /unknown CORE task/);
});

test('first examples match hand-built prompts and spans', { skip }, () => {
  // copa, 0-shot, after random.Random(1337).shuffle: item 0
  const copa = task('copa');
  assert.deepEqual(renderPrompts(copa, 0), [
    'Political violence broke out in the nation, therefore many citizens relocated to the capitol.',
    'Political violence broke out in the nation, therefore many citizens took refuge in other territories.',
  ]);
  const ex = prepareExample(tok, copa, 0);
  const prefix = 1 + Buffer.byteLength('Political violence broke out in the nation, therefore many citizens ');
  assert.deepEqual(ex.spans.map((s) => s[0]), [prefix, prefix]);
  assert.equal(ex.gold, 1);

  // winograd, schema: span = the shared " repaired." after "tree"/"roof"
  const wino = task('winograd');
  const w = prepareExample(tok, wino, 0);
  assert.equal(tok.decode(w.rows[1].slice(...w.spans[1])), ' repaired.');
  assert.equal(tok.decode(w.rows[0].slice(1)), 'In the storm, the tree fell down and crashed through the roof of my house. Now, I have to get the tree repaired.');

  // bigbench_operators, 10-shot LM on the first 50: shots are random.Random(1234).sample(range(1, 50), 10)
  const ops = first50('bigbench_operators');
  const shots = fewshotIndices(50, 0, 10);
  assert.deepEqual(shots, [29, 8, 1, 6, 38, 3, 43, 46, 7, 23]);
  const items = ops.items as LmItem[];
  assert.equal(items[0].context, 'Given the definition of the op operator, compute the result.\ni op j suppresses the j last digits of i.\n125690 op 2 =');
  const expectedWith = shots.map((i) => `${items[i].context.trim()} ${items[i].continuation}\n\n`).join('') + items[0].context + ' 1256';
  const [without, withCont] = renderPrompts(ops, 0);
  assert.equal(withCont, expectedWith);
  assert.equal(without, expectedWith.slice(0, -' 1256'.length));
  const lmEx = prepareExample(tok, ops, 0);
  assert.equal(tok.decode(lmEx.rows[0].slice(...lmEx.spans[0])), ' 1256');

  // arc_easy, 10-shot MC: each shot is `{query}\nAnswer: {gold choice}` and a blank line
  const arc = first50('arc_easy');
  const a = renderPrompts(arc, 0);
  const aItems = arc.items as McItem[];
  const shotText = fewshotIndices(50, 0, 10).map((i) => `${aItems[i].query}\nAnswer: ${aItems[i].choices[aItems[i].gold]}\n\n`).join('');
  assert.deepEqual(a, aItems[0].choices.map((c) => `${shotText}${aItems[0].query}\nAnswer: ${c}`));
});

test('prompts and few-shot choices are identical to the reference (rendered by python3 + jinja2)', { skip }, () => {
  // Expected values were produced by rendering nanochat core_eval.py's Jinja templates with python's
  // random.Random on the same files; sha = first 16 hex of sha256 of the prompts joined by NUL.
  const fixture = JSON.parse(readFileSync(new URL('../../../test/eval/fixtures/core-reference-prompts.json', import.meta.url), 'utf8')) as Record<
    string,
    { shots: number[]; sha: string; n: number }
  >;
  assert.ok(Object.keys(fixture).length >= 60);
  for (const [key, want] of Object.entries(fixture)) {
    const [label, cut, idx] = key.split('/');
    const t = cut === 'all' ? task(label) : { ...task(label), items: task(label).items.slice(0, Number(cut)) };
    const index = Number(idx);
    assert.deepEqual(fewshotIndices(t.items.length, index, t.numFewshot), want.shots, `${key} shots`);
    const prompts = renderPrompts(t, index);
    assert.equal(prompts.length, want.n, `${key} prompt count`);
    assert.equal(createHash('sha256').update(prompts.join('\0')).digest('hex').slice(0, 16), want.sha, `${key} prompt text`);
  }
});

/** A scorer that "knows" the answers: it is told the examples in the order evaluateCoreTask sends them. */
function oracle(t: CoreTask, maxSeqLen: number, good: boolean): ScoreRows {
  let i = 0;
  return (rows) => {
    const ex = prepareExample(tok, t, i++, maxSeqLen);
    assert.deepEqual(rows, ex.rows);
    return {
      losses: rows.map((row, r) => new Float32Array(row.length).fill((r === ex.gold) === good ? 0.1 : 3)),
      argmax: rows.map((row) => {
        const a = Int32Array.from(row.slice(1).concat([0]));
        if (!good) a[ex.spans[0][1] - 2] ^= 1; // miss the last continuation token
        return a;
      }),
    };
  };
}

test('evaluateCoreTask: an oracle scores 1, an anti-oracle 0; centered accuracy and CORE', { skip }, async () => {
  const results = [];
  for (const label of ['hellaswag', 'winogrande', 'squad', 'bigbench_language_identification']) {
    const t = first50(label);
    t.items = t.items.slice(0, 20);
    const maxSeqLen = 512; // hellaswag/squad 10-shot rows are longer in bytes: exercises cropping
    const r = await evaluateCoreTask(t, tok, oracle(t, maxSeqLen, true), { maxSeqLen });
    assert.equal(r.accuracy, 1, label);
    assert.equal(r.total, 20);
    assert.equal(r.centered, 1);
    const bad = await evaluateCoreTask(t, tok, oracle(t, maxSeqLen, false), { maxSeqLen });
    assert.equal(bad.accuracy, 0, label);
    assert.equal(bad.centered, centeredAccuracy(0, t.randomBaseline));
    results.push(r, bad);
  }
  const score = coreScore(results, all().missing);
  assert.equal(score.numTasks, 8);
  assert.deepEqual(score.missing, ['coqa']);
  assert.ok(Math.abs(score.core - results.reduce((s, r) => s + r.centered, 0) / 8) < 1e-12);
  assert.equal(centeredAccuracy(0.625, 0.25), 0.5);
});

test('stackRows right-pads into a row-major batch', () => {
  assert.deepEqual(stackRows([[1, 2, 3], [4]], 9), { ids: Int32Array.from([1, 2, 3, 4, 9, 9]), B: 2, T: 3 });
});

test('evaluateCoreTask: batching several examples per call gives the same answer', { skip }, async () => {
  const t = first50('arc_challenge');
  t.items = t.items.slice(0, 12);
  // a deterministic stand-in for a model: loss depends on the token and its position only
  const pseudo: ScoreRows = (rows) => ({
    losses: rows.map((row) => Float32Array.from(row, (id, p) => ((id * 31 + p * 7) % 97) / 10)),
    argmax: rows.map((row) => Int32Array.from(row, (id) => (id + 1) % 256)),
  });
  let calls = 0;
  const counted: ScoreRows = (rows) => (calls++, pseudo(rows));
  const one = await evaluateCoreTask(t, tok, pseudo);
  const progress: number[] = [];
  const many = await evaluateCoreTask(t, tok, counted, { rowsPerCall: 16, onProgress: (d) => progress.push(d) });
  assert.equal(many.correct, one.correct);
  assert.ok(calls < 12 && calls >= 3, `calls=${calls}`);
  assert.equal(progress.at(-1), 12);
});
