import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { removeDeadTempFiles, writeAtomically, writeFileAtomic } from '../../src/common/atomic.js';

test('atomic: temp files of dead writers go, those of live writers (this one, its parent) stay', () => {
  const dir = mkdtempSync(join(tmpdir(), 'atomic-'));
  const dead = spawnSync(process.execPath, ['-e', '']).pid!; // exited by now
  const live = [`a.bin.tmp-${process.pid}`, `a.bin.tmp-${process.ppid}`];
  for (const n of [`a.bin.tmp-${dead}`, ...live, 'a.bin', 'notes.tmp-x']) writeFileSync(join(dir, n), n);
  removeDeadTempFiles(dir);
  assert.deepEqual(readdirSync(dir).sort(), ['a.bin', ...live, 'notes.tmp-x'].sort());
  removeDeadTempFiles(join(dir, 'no such folder')); // nothing to clean: no error
});

test('atomic: both writers leave the final file or nothing, never a temp file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'atomic-'));
  writeFileAtomic(join(dir, 'x.txt'), ['one ', Buffer.from('two')]);
  assert.equal(readFileSync(join(dir, 'x.txt'), 'utf8'), 'one two');
  assert.throws(() => writeFileAtomic(join(dir, 'missing', 'y.txt'), ['z']));
  await writeAtomically(join(dir, 'sub', 'b.bin'), async (tmp) => writeFileSync(tmp, 'bytes'), async () => {});
  assert.equal(readFileSync(join(dir, 'sub', 'b.bin'), 'utf8'), 'bytes');
  const wrongBytes = async () => {
    throw new Error('wrong bytes');
  };
  const bad = async (tmp: string) => writeFileSync(tmp, 'bad');
  await assert.rejects(writeAtomically(join(dir, 'sub', 'c.bin'), bad, wrongBytes), /wrong bytes/);
  assert.deepEqual(readdirSync(dir).sort(), ['sub', 'x.txt']);
  assert.deepEqual(readdirSync(join(dir, 'sub')), ['b.bin']);
});
