// Every split native kernel called with zero items (n = 0, or rows = 0) returns without touching its
// arrays, and the sums are 0. The split divided by a zero piece size here once: SIGFPE, the whole
// process gone. The backend is driven through the raw addon because NativeBackend answers
// fill and copy below 4,096 items in JS.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadNativeBackend, NativeBackend } from '../../src/tensor/native.js';

const loaded = loadNativeBackend();
const nb = 'backend' in loaded ? (loaded.backend as NativeBackend) : undefined;
const skipWhy = 'error' in loaded ? `native addon not built: ${loaded.error}` : '';

test('native: zero items is a no-op for every elementwise and rowwise kernel, on every instruction set', (t) => {
  if (!nb) return t.skip(skipWhy);
  const a = nb.addon;
  const x = new Float32Array(8).fill(7), o = new Float32Array(8).fill(7), m = new Float32Array(8).fill(7);
  const v = new Float32Array(8).fill(7), ids = new Int32Array(8);
  try {
    for (const isa of ['avx512', 'avx2', 'generic'] as const) {
      if (a.setIsa(isa) !== isa) continue;
      a.add(x, x, o, 0, false);
      a.mul(x, x, o, 0, true);
      a.scale(x, 2, o, 0, false);
      a.lerp(o, x, 0.5, 0);
      a.fill(o, 1, 0);
      a.copy(x, o, 0);
      a.relu2Fwd(x, o, 0);
      a.relu2Bwd(x, x, o, 0, false);
      a.softcapFwd(x, o, 0, 15);
      a.softcapBwd(x, x, o, 0, 15, true);
      a.adamw(o, x, m, v, 0, 1e-3, 0.9, 0.99, 1e-8, 0.1, 1);
      a.rmsFwd(x, o, m, 0, 4, 1e-5);
      a.rmsBwd(x, x, x, o, 0, 4, false);
      a.rope(x, o, x, x, 0, 1, 1, 2, 0, false, false);
      a.ceFwd(x, ids, o, m, 0, 4, 4);
      a.ceBwd(x, ids, x, x, o, 0, 4, 4);
      a.scceFwd(x, ids, o, m, 0, 4, 4, 15);
      a.scceBwd(x, ids, x, x, o, 0, 4, 4, 15);
      assert.equal(a.sum(x, 0), 0, `${isa} sum`);
      assert.equal(a.sumSquares(x, 0), 0, `${isa} sumSquares`);
      for (const [name, buf] of [['out', o], ['m', m], ['v', v]] as const) {
        assert.ok(buf.every((e) => e === 7), `${isa}: a call with zero items wrote to ${name}`);
      }
    }
  } finally {
    a.setIsa('auto');
  }
});
