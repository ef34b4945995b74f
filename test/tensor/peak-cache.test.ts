import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { peakCacheKey, raisePeakCache, readPeakCache } from '../../src/tensor/peak-cache.js';
import { readCpu } from '../../src/tensor/cpu.js';

const entry = (gflops: number, date = '2026-12-01') => ({ gflops, date, how: 'best of 8 FMA runs, avx512, 24 chains' });

test('peak cache: it only ever rises, per key', () => {
  const file = join(mkdtempSync(join(tmpdir(), 'peak-')), 'sub', 'peak-flops.json');
  const warns: string[] = [];
  const warn = (s: string) => { warns.push(s); };
  assert.deepEqual(readPeakCache(file, warn), {}); // no file yet: empty, silently
  assert.equal(raisePeakCache(file, 'k', entry(400, '2026-11-30'), warn).gflops, 400);
  // a busy moment measures less: the stored figure and its date stay
  assert.deepEqual(raisePeakCache(file, 'k', entry(250), warn), entry(400, '2026-11-30'));
  assert.equal(readPeakCache(file, warn).k.gflops, 400);
  assert.equal(raisePeakCache(file, 'k', entry(450), warn).gflops, 450);
  assert.equal(raisePeakCache(file, 'other', entry(100), warn).gflops, 100);
  assert.deepEqual(readPeakCache(file, warn), { k: entry(450), other: entry(100) });
  assert.deepEqual(warns, []);
});

test('peak cache: a corrupt file is ignored with a warning, then replaced by a good one', () => {
  const file = join(mkdtempSync(join(tmpdir(), 'peak-')), 'peak-flops.json');
  const warns: string[] = [];
  const warn = (s: string) => { warns.push(s); };
  writeFileSync(file, '{"version": 1, "entries": {"k": {"gflops": 9');
  assert.deepEqual(readPeakCache(file, warn), {});
  assert.match(warns[0], /ignoring the peak cache .*: not JSON/);
  writeFileSync(file, '[1, 2]');
  assert.deepEqual(readPeakCache(file, warn), {});
  assert.match(warns[1], /no "entries" object/);
  writeFileSync(file, JSON.stringify({ version: 1, entries: { bad: { gflops: 'lots' }, good: entry(300) } }));
  assert.deepEqual(readPeakCache(file, warn), { good: entry(300) });
  assert.match(warns[2], /entry "bad" .*not a positive number/);
  writeFileSync(file, 'garbage');
  assert.equal(raisePeakCache(file, 'k', entry(200), warn).gflops, 200);
  assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')).entries, { k: entry(200) });
});

test('peak cache: the key names the CPU model, family and model numbers, ISA and threads', () => {
  const cpu = readCpu('processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: 25\nmodel\t\t: 1\nmodel name\t: AMD EPYC 7B13\n');
  assert.equal(peakCacheKey(cpu, 'avx2', 2), 'AMD EPYC 7B13 | family 25 model 1 | avx2 | 2 threads');
});
