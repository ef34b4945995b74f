// PyRandom must reproduce CPython's random.Random exactly; expected values come from python3 3.11.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PyRandom } from '../../src/eval/py-random.js';

test('MT19937 outputs match random.Random(seed).getrandbits(32)', () => {
  const r = new PyRandom(1234);
  assert.deepEqual([r.getrandbits(32), r.getrandbits(32), r.getrandbits(32)], [4150886329, 3342196574, 1892932127]);
  const z = new PyRandom(0);
  assert.deepEqual([z.getrandbits(32), z.getrandbits(32)], [3626764237, 1654615998]);
  // seeds above 2^32 are split into several key words
  const big = new PyRandom(2 ** 40 + 7);
  assert.deepEqual([big.getrandbits(32), big.getrandbits(32)], [2635837658, 3209733218]);
});

test('random() and getrandbits(k > 32)', () => {
  const r = new PyRandom(5);
  assert.equal(r.random(), 0.6229016948897019);
  assert.equal(r.getrandbits(45), 12617504899225);
});

test('sample() matches both of CPython\'s algorithms (pool and set)', () => {
  const without = (n: number, skip: number) => Array.from({ length: n }, (_, i) => i).filter((i) => i !== skip);
  // n = 99 > setsize 85: the set-of-selected-indices branch
  assert.deepEqual(new PyRandom(1234 + 7).sample(without(100, 7), 10), [78, 64, 98, 28, 37, 33, 25, 92, 63, 71]);
  // n = 31 <= setsize: the pool branch
  assert.deepEqual(new PyRandom(1234).sample(Array.from({ length: 31 }, (_, i) => i + 1), 10), [31, 25, 15, 4, 1, 3, 19, 2, 22, 26]);
  // k = 3 (setsize 21)
  assert.deepEqual(new PyRandom(1234 + 3).sample(without(230, 3), 3), [39, 228, 102]);
  assert.deepEqual(new PyRandom(99).sample(Array.from({ length: 20 }, (_, i) => i), 3), [12, 19, 6]);
  assert.throws(() => new PyRandom(1).sample([1, 2], 3), /larger than population/);
});

test('shuffle() matches random.Random(1337).shuffle', () => {
  const x = Array.from({ length: 20 }, (_, i) => i);
  new PyRandom(1337).shuffle(x);
  assert.deepEqual(x, [13, 1, 2, 9, 7, 8, 0, 18, 3, 14, 4, 16, 12, 15, 6, 10, 5, 11, 17, 19]);
  const y = Array.from({ length: 20321 }, (_, i) => i); // bigbench_qa_wikidata's size
  new PyRandom(1337).shuffle(y);
  assert.deepEqual(y.slice(0, 8), [1894, 11899, 11796, 19943, 17249, 12619, 18785, 9978]);
  assert.deepEqual(y.slice(-3), [11988, 17474, 20242]);
});
