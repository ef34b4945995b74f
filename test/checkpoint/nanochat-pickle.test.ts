import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PyDict, PyObject, unpickle, type PyValue } from '../../src/checkpoint/pickle.js';
import { pickle, type PickleOut } from '../../src/checkpoint/pickle-writer.js';
import { TORCH_GLOBALS } from '../../src/checkpoint/torch-pt.js';
import { UserError } from '../../src/common/errors.js';
import { COMMITTED } from './nanochat-helpers.js';

const read = (b: Uint8Array, globals = {}) => unpickle(b, { where: 'x.pkl', what: 'a test pickle', globals });

test('values written by our pickler read back as the same values, protocols 2 and 4', () => {
  for (const protocol of [2, 4] as const) {
    const scalars = [null, true, false, 0, 255, 256, 65535, 65536, -1, -(2 ** 31), 2 ** 31, 2 ** 53 - 1, -(2n ** 70n),
      1.5, -0.25, 'héllo', 'x'.repeat(300)];
    const value: PickleOut = { tuple: [...scalars, { tuple: [1, 2, 3, 4] }, { tuple: [] }] };
    assert.deepEqual(read(pickle(value, protocol)), [...scalars, [1, 2, 3, 4], []]);
  }
  const items: [PickleOut, PickleOut][] = Array.from({ length: 2500 }, (_, i) => [Uint8Array.of(i & 255, i >> 8), i]);
  const d = read(pickle({ dict: items }, 4)) as PyDict;
  assert.ok(d instanceof PyDict);
  assert.equal(d.entries.length, 2500); // three SETITEMS batches of up to 1000
  assert.deepEqual(d.entries[2499], [Uint8Array.of(2499 & 255, 2499 >> 8), 2499]);
});

test('a pickled object reads as a PyObject with its state when its class is allowed', () => {
  const b = pickle({ newobj: 'tiktoken.core.Encoding', args: [], state: { dict: [['name', 'x']] } }, 4);
  const o = read(b, { 'tiktoken.core.Encoding': { newobj: true } }) as PyObject;
  assert.ok(o instanceof PyObject);
  assert.equal(o.className, 'tiktoken.core.Encoding');
  assert.equal((o.state as PyDict).get('name'), 'x');
  assert.throws(() => read(b), (e: Error) => e instanceof UserError && /tiktoken\.core\.Encoding/.test(e.message));
});

test('Python pickles of nanochat files read: the committed tokenizer.pkl (protocol 4, memo, frames)', () => {
  const bytes = readFileSync(join(COMMITTED, 'tokenizer', 'tokenizer.pkl'));
  const o = read(bytes, { 'tiktoken.core.Encoding': { newobj: true } }) as PyObject;
  const state = o.state as PyDict;
  assert.equal(state.get('name'), 'rustbpe');
  assert.equal((state.get('mergeable_ranks') as PyDict).entries.length, 266);
  assert.equal((state.get('special_tokens') as PyDict).get('<|bos|>'), 266);
});

/** the payload's marker file, and the hostile pickles that would create it if anything ran them */
function hostile(dir: string): { marker: string; pickles: [string, Uint8Array][] } {
  const marker = join(dir, 'pwned');
  const cmd = `touch ${marker}`;
  const stackGlobal = Buffer.concat([
    Buffer.from([0x80, 4, 0x8c, 5]), Buffer.from('posix'), Buffer.from([0x8c, 6]), Buffer.from('system'),
    Buffer.from([0x93]),
    Buffer.from([0x8c, cmd.length]), Buffer.from(cmd), Buffer.from([0x85, 0x52, 0x2e]),
  ]);
  return {
    marker,
    pickles: [
      ['GLOBAL os.system', pickle({ call: 'os.system', args: [cmd] }, 2)],
      ['STACK_GLOBAL posix.system', stackGlobal],
      ['REDUCE builtins.eval', pickle({ call: 'builtins.eval', args: [`__import__('os').system('${cmd}')`] }, 2)],
      ['NEWOBJ subprocess.Popen',
        pickle({ newobj: 'subprocess.Popen', args: [{ tuple: ['touch', marker] }], state: null }, 2)],
      // a state dict whose value is the payload: the torch allow-list refuses it all the same
      ['a state dict holding os.system',
        pickle({ call: 'collections.OrderedDict', args: [], items: [['w', { call: 'os.system', args: [cmd] }]] }, 2)],
    ],
  };
}

test('hostile pickles are refused with a UserError naming the global, and nothing runs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pickle-hostile-'));
  const { marker, pickles } = hostile(dir);
  for (const [label, b] of pickles) {
    const name = /(os\.system|posix\.system|builtins\.eval|subprocess\.Popen)/.exec(label)![1];
    assert.throws(
      () => unpickle(b, {
        where: 'model.pt (data.pkl)', what: 'a PyTorch tensor file', globals: TORCH_GLOBALS, persistentLoad: () => null,
      }),
      (e: Error) => e instanceof UserError && e.message.includes(name) && e.message.includes('model.pt') &&
        /nothing from the file was run/.test(e.message),
      label,
    );
    assert.equal(existsSync(marker), false, `${label} created ${marker}`);
  }
});

test('the hostile payloads are live: Python\'s own pickle.load runs them (where python3 exists)', (t) => {
  if (spawnSync('python3', ['-c', 'pass']).status !== 0) return t.skip('no python3');
  const dir = mkdtempSync(join(tmpdir(), 'pickle-live-'));
  const { marker, pickles } = hostile(dir);
  const file = join(dir, 'payload.pkl');
  writeFileSync(file, pickles[0][1]);
  spawnSync('python3', ['-c', `import pickle; pickle.load(open(${JSON.stringify(file)}, 'rb'))`]);
  assert.equal(existsSync(marker), true, 'python did not run the payload, so the refusal test above proves nothing');
});

test('broken pickles: truncated, unknown opcode, stack underflow, no STOP: one-line UserErrors', () => {
  const good = pickle({ tuple: ['abc', 1, 2] }, 2);
  const cases: [Uint8Array, RegExp][] = [
    [good.subarray(0, good.length - 3), /truncated or corrupt/],
    [Uint8Array.of(0x80, 2, 0x69, 0x2e), /opcode 0x69/], // INST: a protocol-0 way to call anything
    [Uint8Array.of(0x80, 2, 0x86, 0x2e), /too few values/],
    [Uint8Array.of(0x80, 2, 0x4e), /truncated or corrupt/],
    [Uint8Array.of(0x80, 2, 0x58, 0xff, 0xff, 0xff, 0x7f), /more bytes/],
  ];
  for (const [b, re] of cases) {
    const oneLine = (e: Error) => e instanceof UserError && re.test(e.message) && !e.message.includes('\n');
    assert.throws(() => read(b), oneLine, re.source);
  }
});

test('ints past 2^53 read as bigint, smaller LONG1 values as numbers', () => {
  const v = read(pickle({ tuple: [2n ** 60n, 5n, -(2n ** 40n)] }, 2)) as PyValue[];
  assert.deepEqual(v, [2n ** 60n, 5, -(2 ** 40)]);
});

test('hostile sizes are refused quickly, not a hang, a RangeError or a huge allocation', () => {
  const isUser = (re: RegExp) => (e: Error) => e instanceof UserError && re.test(e.message);
  // LONG4 of 1 MiB: built byte by byte this took minutes; refused before reading it
  const long4 = new Uint8Array(5 + (1 << 20) + 1);
  long4.set([0x8b, 0, 0, 0x10, 0]); // LONG4, length 2^20 little-endian
  long4[long4.length - 1] = 0x2e;
  const t0 = performance.now();
  assert.throws(() => read(long4), isUser(/byte integer/));
  assert.ok(performance.now() - t0 < 1000);
  // APPENDS of 200,000 items: a spread call would overflow the stack
  const n = 200_000, appends = new Uint8Array(2 + n + 2);
  appends.set([0x5d, 0x28]); // EMPTY_LIST, MARK
  appends.fill(0x4e, 2, 2 + n); // NONE x n
  appends.set([0x65, 0x2e], 2 + n); // APPENDS, STOP
  assert.equal((read(appends) as PyValue[]).length, n);
  // a pickle far larger than any state dict is refused before it is run
  assert.throws(() => read(new Uint8Array(257 * 2 ** 20)), isUser(/far larger/));
});
