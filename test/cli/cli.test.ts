import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join, dirname } from 'node:path';

const cli = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'main.js');
const nanochat = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });

test('no arguments prints the command list', () => {
  const r = nanochat();
  assert.equal(r.status, 0);
  for (const c of ['tok-train', 'base-train', 'chat-sft', 'serve', 'speedrun']) assert.match(r.stdout, new RegExp(`\\b${c}\\b`));
});

test('an unknown command is a clear error with exit code 2', () => {
  const r = nanochat('frobnicate');
  assert.equal(r.status, 2);
  assert.match(r.stderr, /unknown command 'frobnicate'/);
  assert.doesNotMatch(r.stderr, /\n\s+at /); // no stack trace
});
