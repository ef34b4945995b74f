import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CsvError, parseCsv, parseCsvWithHeader } from '../../src/tasks/csv.js';
import { loadMmlu } from '../../src/tasks/mmlu.js';
import { dataOrSkip } from './data-dir.js';

test('csv: quoted commas, newlines, doubled quotes, CRLF, BOM, empty fields', () => {
  assert.deepEqual(parseCsv('a,b\n1,2\n'), [['a', 'b'], ['1', '2']]);
  assert.deepEqual(parseCsv('a,b\r\n1,2'), [['a', 'b'], ['1', '2']]);
  assert.deepEqual(parseCsv('"x, y",2\n'), [['x, y', '2']]);
  assert.deepEqual(parseCsv('"line1\nline2",2'), [['line1\nline2', '2']]);
  assert.deepEqual(parseCsv('"say ""hi""",x'), [['say "hi"', 'x']]);
  assert.deepEqual(parseCsv(',,\n'), [['', '', '']]);
  assert.deepEqual(parseCsv('""\n'), [['']]);
  assert.deepEqual(parseCsv('\ufeffa,b'), [['a', 'b']]);
  assert.deepEqual(parseCsv('a"b,c'), [['a"b', 'c']]); // a quote inside an unquoted field is data
  assert.deepEqual(parseCsv('"a\r\nb",c\r\n'), [['a\r\nb', 'c']]);
  assert.deepEqual(parseCsv(''), []);
  assert.throws(() => parseCsv('"open,1\n'), CsvError);
  assert.throws(() => parseCsv('"a"b,1'), /after a quoted field/);
  assert.deepEqual(parseCsvWithHeader('h1,h2\n"a,1",b\n'), [{ h1: 'a,1', h2: 'b' }]);
  assert.throws(() => parseCsvWithHeader('h1,h2\na\n'), /1 fields, the header has 2/);
});

test('csv: the real MMLU files parse to the published row counts', (t) => {
  const dir = dataOrSkip(t);
  if (!dir) return;
  const test = loadMmlu(dir, 'test');
  const dev = loadMmlu(dir, 'dev');
  assert.equal(test.length, 14042);
  assert.equal(dev.length, 285);
  assert.equal(new Set(test.map((r) => r.subject)).size, 57);
  const first = test[0];
  assert.equal(first.subject, 'abstract_algebra');
  assert.equal(first.question, 'Find the degree for the given field extension Q(sqrt(2), sqrt(3), sqrt(18)) over Q.');
  assert.deepEqual(first.choices, ['0', '4', '2', '6']);
  assert.equal(first.answer, 1);
  // quirks really present in the data: fields with newlines and with quotes
  assert.ok(test.some((r) => r.question.includes('\n')), 'a question with a newline');
  assert.ok(test.some((r) => r.question.includes('"')), 'a question with a quote');
  assert.ok(test.some((r) => r.choices.some((c) => c.includes(','))), 'a choice with a comma');
});
