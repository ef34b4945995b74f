// Prompt shapes, spans, cropping and verdicts on small hand-made tasks (no data needed).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  commonLength,
  fewshotIndices,
  prepareExample,
  pyStrip,
  renderPrompts,
  scoreExample,
  type CorePromptTask,
  type PreparedExample,
} from '../../src/eval/core-prompts.js';
import { PyRandom } from '../../src/eval/py-random.js';
import { ByteTokenizer } from '../helpers/byte-tokenizer.js';

const tok = new ByteTokenizer();
const BOS = tok.bosId();
const bytes = (s: string) => Buffer.byteLength(s, 'utf8');

const mc: CorePromptTask = {
  taskType: 'multiple_choice',
  numFewshot: 1,
  delimiter: '\nAnswer: ',
  items: [
    { query: 'Q: 2+2?', choices: ['3', '4'], gold: 1 },
    { query: 'Q: sky?', choices: ['blue', 'green'], gold: 0 },
  ],
};
const schema: CorePromptTask = {
  taskType: 'schema',
  numFewshot: 0,
  delimiter: ' ',
  items: [{ context_options: ['The cat sat because the cat', 'The cat sat because the mat'], continuation: 'was tired.', gold: 0 }],
};
const lm: CorePromptTask = {
  taskType: 'language_modeling',
  numFewshot: 1,
  delimiter: ' ',
  items: [
    { context: '  The capital of France is \n', continuation: 'Paris' },
    { context: 'The capital of Italy is', continuation: 'Rome' },
  ],
};

test('few-shot indices: python-identical, deterministic, never the item itself, capped at n-1', () => {
  // random.Random(1234 + 7).sample([i for i in range(100) if i != 7], 10)
  assert.deepEqual(fewshotIndices(100, 7, 10), [78, 64, 98, 28, 37, 33, 25, 92, 63, 71]);
  assert.deepEqual(fewshotIndices(100, 7, 10), fewshotIndices(100, 7, 10));
  for (let i = 0; i < 30; i++) assert.ok(!fewshotIndices(30, i, 10).includes(i));
  assert.deepEqual(fewshotIndices(2, 0, 10), [1]);
  assert.deepEqual(fewshotIndices(1, 0, 10), []);
  assert.deepEqual(fewshotIndices(50, 3, 0), []);
  // the large-population branch (20k items, as bigbench_qa_wikidata): same as sampling the explicit list
  const pop = Array.from({ length: 20321 }, (_, i) => i).filter((i) => i !== 5000);
  assert.deepEqual(fewshotIndices(20321, 5000, 10), new PyRandom(1234 + 5000).sample(pop, 10));
});

test('multiple choice: {shot query}{delim}{gold}\\n\\n then {query}{delim}{choice}; span after the common prefix', () => {
  assert.deepEqual(renderPrompts(mc, 0), ['Q: sky?\nAnswer: blue\n\nQ: 2+2?\nAnswer: 3', 'Q: sky?\nAnswer: blue\n\nQ: 2+2?\nAnswer: 4']);
  const ex = prepareExample(tok, mc, 0);
  const prefix = 1 + bytes('Q: sky?\nAnswer: blue\n\nQ: 2+2?\nAnswer: ');
  assert.equal(ex.rows[0][0], BOS);
  assert.deepEqual(ex.spans, [[prefix, prefix + 1], [prefix, prefix + 1]]);
  assert.equal(ex.gold, 1);
});

test('schema: {context option}{delim}{continuation}; span is the common suffix', () => {
  assert.deepEqual(renderPrompts(schema, 0), ['The cat sat because the cat was tired.', 'The cat sat because the mat was tired.']);
  const ex = prepareExample(tok, schema, 0);
  // " was tired." is shared; the differing letters ("c" vs "m") precede it, so the suffix starts right after them
  const len = 1 + bytes('The cat sat because the cat was tired.');
  assert.deepEqual(ex.spans, [[len - bytes('at was tired.'), len], [len - bytes('at was tired.'), len]]);
  assert.equal(commonLength([[1, 2, 3], [9, 2, 3]], 'right'), 2);
  assert.equal(commonLength([[1, 2], [1, 2, 3]], 'left'), 2);
});

test('language modelling: trimmed contexts, prompt without continuation stripped; span = the continuation', () => {
  const [without, withCont] = renderPrompts(lm, 1);
  assert.equal(without, 'The capital of France is Paris\n\nThe capital of Italy is');
  assert.equal(withCont, 'The capital of France is Paris\n\nThe capital of Italy is Rome');
  const ex = prepareExample(tok, lm, 1);
  assert.equal(ex.rows.length, 1);
  assert.equal(ex.gold, null);
  const [s, e] = ex.spans[0];
  assert.equal(tok.decode(ex.rows[0].slice(s, e)), ' Rome'); // the delimiter's space goes with the answer
  assert.equal(pyStrip('\u00a0\x1c x \x85\n'), 'x'); // python's whitespace set, not JS's
  assert.equal(pyStrip('\ufeffx'), '\ufeffx');
});

test('rows longer than maxSeqLen are cropped on the left and spans follow', () => {
  const full = prepareExample(tok, mc, 0);
  const max = 12;
  const ex = prepareExample(tok, mc, 0, max);
  for (let r = 0; r < ex.rows.length; r++) {
    const crop = full.rows[r].length - max;
    assert.equal(ex.rows[r].length, max);
    assert.equal(ex.cropped[r], crop);
    assert.deepEqual(ex.rows[r], full.rows[r].slice(crop));
    assert.deepEqual(ex.spans[r], [full.spans[r][0] - crop, full.spans[r][1] - crop]);
    // the scored tokens are the same tokens as before cropping
    assert.deepEqual(ex.rows[r].slice(...ex.spans[r]), full.rows[r].slice(...full.spans[r]));
  }
  const lmEx = prepareExample(tok, lm, 1, 8);
  assert.equal(tok.decode(lmEx.rows[0].slice(...lmEx.spans[0])), ' Rome');
  // a row that fits is untouched
  assert.deepEqual(prepareExample(tok, mc, 0, 1000), full);
});

/** Per-position outputs for rows: loss `lossOf(row)` everywhere, argmax = the true next token (optionally wrong at one position). */
function fakeScores(ex: PreparedExample, lossOf: (r: number) => number, wrongAt?: number) {
  return {
    losses: ex.rows.map((row, r) => new Float32Array(row.length).fill(lossOf(r))),
    argmax: ex.rows.map((row) => {
      const a = Int32Array.from(row.slice(1).concat([0]));
      if (wrongAt !== undefined) a[wrongAt] = (a[wrongAt] + 1) % 256;
      return a;
    }),
  };
}

test('verdicts: lowest mean span loss wins (first on ties); LM needs every span token', () => {
  const ex = prepareExample(tok, mc, 0);
  assert.deepEqual(scoreExample(ex, fakeScores(ex, (r) => (r === 1 ? 0.5 : 2))), { correct: true, pred: 1, meanLosses: [2, 0.5] });
  assert.equal(scoreExample(ex, fakeScores(ex, (r) => (r === 1 ? 2 : 0.5))).correct, false);
  assert.equal(scoreExample(ex, fakeScores(ex, () => 1)).pred, 0);
  assert.equal(scoreExample(ex, fakeScores(ex, (r) => (r === 0 ? NaN : 3))).pred, 1);
  // only the span's losses count: a huge loss outside the span changes nothing
  const s = fakeScores(ex, (r) => (r === 1 ? 0.5 : 2));
  s.losses[1][0] = 1e9;
  assert.equal(scoreExample(ex, s).pred, 1);

  const lmEx = prepareExample(tok, lm, 1);
  const [start, end] = lmEx.spans[0];
  assert.equal(scoreExample(lmEx, fakeScores(lmEx, () => 0)).correct, true);
  assert.equal(scoreExample(lmEx, fakeScores(lmEx, () => 0, end - 2)).correct, false); // last continuation token wrong
  assert.equal(scoreExample(lmEx, fakeScores(lmEx, () => 0, start - 2)).correct, true); // a context token wrong: irrelevant
});
