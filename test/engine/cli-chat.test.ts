// `nanochat chat` as a user runs it: a subprocess on a tiny checkpoint in a temp base dir.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { makeFixture, type Fixture } from '../serve/fixture.js';

const MAIN = fileURLToPath(new URL('../../src/main.js', import.meta.url));
let fx: Fixture;
before(async () => { fx = await makeFixture(['sft', 'base']); });
after(() => fx?.cleanup());

const env = () => ({ ...process.env, NANOCHAT_BASE_DIR: fx.baseDir });
const chat = (args: string[], input?: string) => spawnSync(process.execPath, [MAIN, 'chat', ...args], { env: env(), input, encoding: 'utf8', timeout: 30000 });

test('-p answers one prompt; --json puts the result on the last stdout line', () => {
  const r = chat(['-p', 'What is 2+2?', '--max-tokens', '7', '-t', '0', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const res = JSON.parse(r.stdout.trim().split('\n').pop() as string);
  assert.equal(res.model, 'sft/d1@1');
  assert.ok(res.completionTokens >= 1 && res.completionTokens <= 7);
  assert.ok(['stop', 'length'].includes(res.finish));
  assert.equal(typeof res.answer, 'string');
  // greedy is repeatable
  const again = JSON.parse(chat(['-p', 'What is 2+2?', '--max-tokens', '7', '-t', '0', '--json']).stdout.trim().split('\n').pop() as string);
  assert.equal(again.answer, res.answer);
});

test('base checkpoints get plain completion', () => {
  const r = chat(['-i', 'base', '-p', 'The capital of France is', '--max-tokens', '5', '--json']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /plain completion/);
  assert.equal(JSON.parse(r.stdout.trim().split('\n').pop() as string).model, 'base/d1@1');
});

test('interactive: turns, clear, quit; a closed stdin ends cleanly', () => {
  const r = chat(['--max-tokens', '5'], 'hello\nclear\nhi again\nquit\nnever read\n');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.match(/Assistant: /g)?.length, 2);
  assert.match(r.stdout, /\[new conversation\]/);
  assert.doesNotMatch(r.stdout, /never read/);
  const eof = chat(['--max-tokens', '3'], 'one line, then end of input\n');
  assert.equal(eof.status, 0, eof.stderr);
  assert.equal(eof.stdout.match(/Assistant: /g)?.length, 1);
});

test('Ctrl-C at the prompt exits cleanly', async () => {
  const child = spawn(process.execPath, [MAIN, 'chat'], { env: env(), stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
  child.kill('SIGINT');
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  assert.equal(code, 0, out);
});

test('a missing checkpoint is a clear error naming the fix', () => {
  const r = chat(['-i', 'rl', '-p', 'hi']);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /no rl checkpoint.*nanochat chat-rl/);
  const bad = chat(['-t', '5', '-p', 'hi']);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /--temperature must be at most 2/);
});
