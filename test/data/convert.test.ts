import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import { convert, pyJson } from '../../src/data/convert.js';
import { readZipEntry, zipEntryNames } from '../../src/data/zip.js';
import { makeZip } from './helpers.js';

const words = Buffer.from('a\r\naa\r\naaa\r\naah\r\nzyzzyva\r\n'.repeat(1000));

test('zip: a deflated and a stored entry come back byte-exact', () => {
  const zip = makeZip({ 'words_alpha.txt': words, 'dir/other.txt': Buffer.from('x') }, { comment: 'a trailing archive comment' });
  assert.deepEqual(zipEntryNames(zip), ['words_alpha.txt', 'dir/other.txt']);
  assert.deepEqual(readZipEntry(zip, 'words_alpha.txt'), words);
  assert.deepEqual(readZipEntry(zip, 'dir/other.txt'), Buffer.from('x'));
  const stored = makeZip({ 'a.bin': words }, { stored: true, localExtra: Buffer.from([0x55, 0x54, 1, 0, 7]) });
  assert.deepEqual(readZipEntry(stored, 'a.bin'), words);
});

test('zip: clear errors for a missing entry, a non-zip and a truncated archive', () => {
  const zip = makeZip({ 'a.txt': words });
  assert.throws(() => readZipEntry(zip, 'b.txt'), /no entry 'b\.txt' \(entries: a\.txt\)/);
  assert.throws(() => readZipEntry(Buffer.from('plain text, not a zip archive'), 'a.txt'), /not a zip archive/);
  const cut = Buffer.concat([zip.subarray(0, 40), zip.subarray(zip.length - 22 - 46 - 5)]);
  assert.throws(() => readZipEntry(cut, 'a.txt'));
});

test('zip-entry-gzip: the entry, gzipped', () => {
  const out = convert(makeZip({ 'words_alpha.txt': words }), { kind: 'zip-entry-gzip', entry: 'words_alpha.txt' });
  assert.deepEqual(gunzipSync(out), words);
});

test('pyJson writes what Python json.dumps(ensure_ascii=False) writes', () => {
  // Expected strings written out by hand from Python's json.dumps behaviour.
  assert.equal(pyJson({ id: 'x1', q: 'Café "quoted" \\ tab\t nl\n ✓', choices: { text: ['a', 'b'], label: ['A', 'B'] }, n: 3, ok: true, z: null }),
    '{"id": "x1", "q": "Café \\"quoted\\" \\\\ tab\\t nl\\n ✓", "choices": {"text": ["a", "b"], "label": ["A", "B"]}, "n": 3, "ok": true, "z": null}');
  assert.equal(pyJson([]), '[]');
  assert.equal(pyJson({}), '{}');
  assert.equal(pyJson('\u0001'), '"\\u0001"');
});

test('json-array-to-jsonl and jsonl-drop-fields give the reference jsonl form', () => {
  const rec = { id: 'Mercury_7220990', question: 'Which factor…?', choices: { text: ['a leg', 'a bacterial'], label: ['A', 'B'] }, answerKey: 'B' };
  const line = '{"id": "Mercury_7220990", "question": "Which factor…?", "choices": {"text": ["a leg", "a bacterial"], "label": ["A", "B"]}, "answerKey": "B"}\n';
  assert.equal(convert(Buffer.from(JSON.stringify([rec, rec], null, 2)), { kind: 'json-array-to-jsonl' }).toString(), line + line);
  const upstream = JSON.stringify({ ...rec, answer: 'B', response: 'because' }) + '\n\n' + JSON.stringify(rec) + '\n';
  assert.equal(convert(Buffer.from(upstream), { kind: 'jsonl-drop-fields', fields: ['answer', 'response'] }).toString(), line + line);
  assert.throws(() => convert(Buffer.from('{"not": "an array"}'), { kind: 'json-array-to-jsonl' }), /expected a JSON array/);
});

test('csv-set-column edits only the named rows, losslessly', () => {
  const csv = 'Eval Task,Task Category,Random baseline,Description\nhellaswag,lu,25,"A, B"\ncommonsense_qa,cr,40.3,"Commonsense, QA"\nboolq,rc,62,x\n';
  const out = convert(Buffer.from(csv), { kind: 'csv-set-column', column: 'Random baseline', values: { commonsense_qa: '20' } }).toString();
  assert.equal(out, csv.replace('cr,40.3,', 'cr,20,'));
  assert.throws(() => convert(Buffer.from(csv), { kind: 'csv-set-column', column: 'Random baseline', values: { nope: '1' } }), /no rows named nope/);
  assert.throws(() => convert(Buffer.from(csv), { kind: 'csv-set-column', column: 'Baseline', values: {} }), /no column 'Baseline'/);
});
