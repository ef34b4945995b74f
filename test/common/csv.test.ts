import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CsvError, parseCsv, parseCsvWithHeader } from '../../src/common/csv.js';

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

test('csv: mixed CRLF and LF line ends, an empty last field, records keyed by the header', () => {
  assert.deepEqual(parseCsv('a,b,c\r\n1,"x, ""y""",\n2,"multi\nline",z\n'), [
    ['a', 'b', 'c'],
    ['1', 'x, "y"', ''],
    ['2', 'multi\nline', 'z'],
  ]);
  assert.deepEqual(parseCsvWithHeader('k,v\none,1\n'), [{ k: 'one', v: '1' }]);
  assert.throws(() => parseCsv('"open'), /unterminated/);
});
