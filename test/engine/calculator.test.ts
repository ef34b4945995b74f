import assert from 'node:assert/strict';
import { test } from 'node:test';
import { calculate, MAX_INPUT_CHARS, pythonFloatRepr } from '../../src/engine/calculator.js';

const ok = (expr: string, value: string) => assert.deepEqual(calculate(expr), { ok: true, value }, expr);
const bad = (expr: string, pattern: RegExp) => {
  const r = calculate(expr);
  assert.equal(r.ok, false, `${expr} should be refused, got ${JSON.stringify(r)}`);
  if (!r.ok) assert.match(r.error, pattern, expr);
};

test('arithmetic with Python semantics', () => {
  ok('1+2', '3');
  ok('16-3-4', '9');
  ok('2*3+4', '10');
  ok('2*(3+4)', '14');
  ok('-3+5', '2');
  ok('--3', '3');
  ok('-(2+3)*2', '-10');
  ok('+7', '7');
  ok(' 12 / 60 ', '0.2');
  ok('0.2*50', '10');
  ok('48/2', '24'); // Python says 24.0; we match GSM8K's annotations (see calculator.ts)
  ok('1/3', '0.3333333333333333');
  ok('0.1+0.2', '0.30000000000000004');
  ok('2/3*3', '2');
  ok('.5+3.', '3.5');
  ok('1,000*3', '3000');
  ok('123456789*987654321', '121932631112635269'); // exact integers like Python
  ok('99999999999999999999+1', '100000000000000000000');
  ok('1/100000', '1e-05');
  ok('10000000000000000.0*1', '1e+16');
  ok('0.0001*1', '0.0001');
  ok('-0.0*1', '0');
  ok('00', '0');
});

test('string count like Python', () => {
  ok("'strawberry'.count('r')", '3');
  ok('"strawberry".count("r")', '3');
  ok("'banana'.count('an')", '2');
  ok("'aaaa'.count('aa')", '2'); // non-overlapping
  ok("'abc'.count('')", '4');
  ok("'abc'.count('z')", '0');
  ok("'a,b,c'.count(',')", '2'); // commas inside strings are kept
  ok("'it\\'s'.count('s')", '1');
  ok("'strawberry'.count('r') + 1", '4');
  ok("'ab' .count( 'a' )", '1');
});

test('refuses anything that is not arithmetic or .count', () => {
  bad("__import__('os')", /names are not allowed/);
  bad("__import__('os').system('ls')", /names/);
  bad('2**1000000', /exponent operator/);
  bad('2 ** 3', /exponent operator/);
  bad('7//2', /floor division/);
  bad('7%2', /unexpected character "%"/);
  bad('1e5', /malformed number/);
  bad('1_000', /malformed number/);
  bad('abs(-1)', /names/);
  bad('(1).__class__', /unexpected/);
  bad("'abc'.upper()", /only string method/);
  bad("'abc'", /must be a number/);
  bad("'a'.count('a', 1)", /exactly one string argument/);
  bad("'a'.count(1)", /one string literal/);
  bad("'abc' + 1", /string cannot be used/);
  bad('1/0', /division by zero/);
  bad('1/(2-2)', /division by zero/);
  bad('1/0.0', /division by zero/);
  bad('', /empty/);
  bad('   ', /empty/);
  bad('(1+2', /missing '\)'/);
  bad('1+', /unexpected end/);
  bad('012', /leading zeros/);
  bad("'abc", /unterminated/);
  bad('1 2', /unexpected character/);
  bad('١٢+1', /unexpected character/); // Arabic-Indic digits
  bad('１+1', /unexpected character/); // full-width digit
  bad('1+2\n', /unexpected character/);
});

test('length, depth and size limits', () => {
  bad('1+'.repeat(150) + '1', /too long/);
  ok('1+'.repeat(99) + '1', '100'); // 199 characters: under the limit
  assert.equal(MAX_INPUT_CHARS, 200);
  bad('('.repeat(90) + '1' + ')'.repeat(90), /nested too deeply/);
  bad('-'.repeat(150) + '1', /nested too deeply/);
  ok('('.repeat(20) + '1' + ')'.repeat(20), '1');
  // the largest product that fits the length limit stays exact and fast
  const big = '9'.repeat(99) + '*' + '9'.repeat(99);
  const r = calculate(big);
  assert.ok(r.ok && r.value.length === 198);
  // (floats cannot overflow within 200 characters without **, but the check exists: see finite())
  const t0 = Date.now();
  for (let i = 0; i < 1000; i++) calculate('('.repeat(30) + '1' + ')'.repeat(30));
  assert.ok(Date.now() - t0 < 2000);
  // never throws, whatever it is given
  assert.equal(calculate(undefined as unknown as string).ok, false);
});

test('python float repr', () => {
  assert.equal(pythonFloatRepr(0.5), '0.5');
  assert.equal(pythonFloatRepr(1e16), '1e+16');
  assert.equal(pythonFloatRepr(1234567890123456.7), '1234567890123456.8');
  assert.equal(pythonFloatRepr(1.5e-7), '1.5e-07');
  assert.equal(pythonFloatRepr(-2.5e300), '-2.5e+300');
  assert.equal(pythonFloatRepr(100.0), '100.0');
});
