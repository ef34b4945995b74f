import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../../src/tasks/rng.js';

test('rng: deterministic per seed, different across seeds', () => {
  const a = Array.from({ length: 5 }, ((r) => () => r.nextUint32())(new Rng(7)));
  const b = Array.from({ length: 5 }, ((r) => () => r.nextUint32())(new Rng(7)));
  const c = Array.from({ length: 5 }, ((r) => () => r.nextUint32())(new Rng(8)));
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  // neighbouring seeds give unrelated first draws (no visible correlation of the first value)
  const firsts = Array.from({ length: 1000 }, (_, s) => new Rng(s).int(10));
  const hist = new Array(10).fill(0);
  for (const f of firsts) hist[f]++;
  for (const h of hist) assert.ok(h > 60 && h < 140, `first draws by seed are uneven: ${hist}`);
  // large seeds are distinct from small ones
  assert.notEqual(new Rng(2 ** 32 + 5).nextUint32(), new Rng(5).nextUint32());
});

test('rng: floats in [0,1), ints in range, shuffle is a permutation', () => {
  const r = new Rng(1);
  for (let i = 0; i < 10000; i++) {
    const x = r.random();
    assert.ok(x >= 0 && x < 1);
    const k = r.int(3);
    assert.ok(k === 0 || k === 1 || k === 2);
  }
  const items = Array.from({ length: 100 }, (_, i) => i);
  const shuffled = new Rng(3).shuffle([...items]);
  assert.notDeepEqual(shuffled, items);
  assert.deepEqual([...shuffled].sort((x, y) => x - y), items);
  assert.deepEqual(new Rng(3).shuffle([...items]), shuffled);
  assert.throws(() => r.choice([]), /empty/);
  assert.throws(() => new Rng(1.5), /safe integer/);
});
