import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join, dirname } from 'node:path';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { parse, every, numIterations, trainerPeriod, NEVER, type FlagSpec } from '../../src/cli/flags.js';
import { UserError } from '../../src/common/errors.js';

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

// nanochat's scripts write -1 for "never" on periodic flags and for "the stage's own horizon" on --num-iterations.
const periodic: FlagSpec = { 'eval-every': { type: 'string', default: '250', help: '' }, 'num-iterations': { type: 'string', help: '' } };
const parsed = (...argv: string[]) => parse('test', '', periodic, argv);

test('-1 on a periodic flag parses as never, written either way; 0 and N keep their meaning', () => {
  assert.equal(every(parsed('--eval-every', '-1'), 'eval-every'), NEVER);
  assert.equal(every(parsed('--eval-every=-1'), 'eval-every'), NEVER);
  assert.equal(every(parsed('--eval-every', '0'), 'eval-every'), 0);
  assert.equal(every(parsed(), 'eval-every'), 250);
  // the trainer's period: never is 0 there, 0 is the command's own choice (e.g. only at the end)
  assert.deepEqual([NEVER, 0, 20].map((v) => trainerPeriod(v, 40)), [0, 40, 20]);
  assert.equal(numIterations(parsed('--num-iterations', '-1')), -1);
  assert.equal(numIterations(parsed('--num-iterations', '7')), 7);
  assert.equal(numIterations(parsed()), -1);
});

test('a malformed periodic value is a one-line error', () => {
  for (const bad of ['-2', 'x', '1.5', '']) {
    assert.throws(() => every(parsed(`--eval-every=${bad}`), 'eval-every'), (e: Error) =>
      e instanceof UserError && e.message === `--eval-every must be a number of steps, 0, or -1 for never; got '${bad}'`);
  }
});

test('every training stage takes --num-iterations and --eval-every -1; a bad value fails before anything loads', () => {
  const env = { ...process.env, NANOCHAT_BASE_DIR: mkdtempSync(join(tmpdir(), 'nanochat-flags-')) };
  const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env });
  for (const stage of ['base-train', 'mid-train', 'chat-sft', 'chat-rl']) {
    const help = run(stage, '--num-iterations', '3', '--eval-every', '-1', '--help');
    assert.equal(help.status, 0, `${stage}: ${help.stderr}`);
    assert.match(help.stdout, /--num-iterations/);
    assert.match(help.stdout, /--eval-every <value> .*-1: never/);
    const bad = run(stage, '--eval-every', '-2');
    assert.equal(bad.status, 1);
    assert.equal(bad.stderr, `nanochat: --eval-every must be a number of steps, 0, or -1 for never; got '-2'\n`, stage);
  }
  // the chat stages accept the flags and go on to look for their source checkpoint (none in an empty folder)
  for (const stage of ['mid-train', 'chat-sft', 'chat-rl']) {
    const r = run(stage, '--num-iterations', '-1', '--eval-every', '-1', '--save-every', '-1');
    assert.match(r.stderr, /^nanochat: no (base|mid|sft) checkpoint in /, stage);
  }
});

test("chat-rl's --num-steps is another name for --num-iterations; both with different values is an error", () => {
  const env = { ...process.env, NANOCHAT_BASE_DIR: mkdtempSync(join(tmpdir(), 'nanochat-flags-')) };
  const run = (...args: string[]) => spawnSync(process.execPath, [cli, 'chat-rl', ...args], { encoding: 'utf8', env });
  for (const args of [['--num-steps', '3'], ['--num-steps', '3', '--num-iterations', '3']]) {
    assert.match(run(...args).stderr, /^nanochat: no sft checkpoint in /, args.join(' '));
  }
  const both = run('--num-steps', '3', '--num-iterations', '4');
  assert.equal(both.status, 1);
  assert.match(both.stderr, /^nanochat: --num-iterations 4 and --num-steps 3 disagree: .*give one of them\n$/);
  const spec: FlagSpec = { 'num-iterations': { type: 'string', help: '' }, 'num-steps': { type: 'string', help: '' } };
  assert.equal(numIterations(parse('chat-rl', '', spec, ['--num-steps', '5']), 'num-steps'), 5);
  assert.equal(numIterations(parse('chat-rl', '', spec, ['--num-steps', '-1']), 'num-steps'), -1);
});

test('an unknown backend, from NANOCHAT_BACKEND or --backend, is one clear line, not a stack trace', () => {
  for (const [args, env, where] of [
    [['bench', 'train', '--depths', '1', '--steps', '1'], { NANOCHAT_BACKEND: 'cuda' }, 'NANOCHAT_BACKEND'],
    [['score', '--backend', 'cuda', '-i', 'base'], {}, '--backend'],
  ] as const) {
    const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`unknown backend 'cuda' in ${where}: choose one of ref, native, webgpu`));
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  }
});

test('the d20 tier refuses a CPU backend with what to do instead, before anything is written', () => {
  const env = { ...process.env, NANOCHAT_BASE_DIR: mkdtempSync(join(tmpdir(), 'nanochat-d20-')) };
  const r = spawnSync(process.execPath, [cli, 'speedrun', '--tier', 'd20', '--backend', 'native'], { encoding: 'utf8', env });
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /the d20 tier needs a GPU: this run has the native CPU backend.*--tier cpu/);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
});

