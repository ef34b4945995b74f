import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { childFailure } from '../../src/bench/child-failure.js';

test('childFailure: a clean exit is no failure; a SIGILL names the forced setting and the stderr tail', () => {
  assert.equal(childFailure({ status: 0, signal: null, stderr: 'warning' }), undefined);
  const r = { status: null, signal: 'SIGILL' as const, stderr: 'loading torch\n\nline two\nline three\nline four\n' };
  assert.equal(childFailure(r, 'OPENBLAS_CORETYPE=SKYLAKEX'),
    'killed by SIGILL: OPENBLAS_CORETYPE=SKYLAKEX is not supported by this CPU; stderr: line two | line three | line four');
  assert.equal(childFailure({ status: null, signal: 'SIGILL', stderr: '' }), 'killed by SIGILL: an instruction it uses is not supported by this CPU');
  assert.equal(childFailure({ status: 2, signal: null, stderr: 'Traceback\nModuleNotFoundError: torch' }),
    'exit status 2; stderr: Traceback | ModuleNotFoundError: torch');
});

test('childFailure: real processes, killed by a signal and exiting non-zero', () => {
  const killed = spawnSync(process.execPath, ['-e', 'console.error("about to crash"); process.kill(process.pid, "SIGSEGV")'], { encoding: 'utf8' });
  assert.equal(childFailure(killed), 'killed by SIGSEGV; stderr: about to crash');
  const exited = spawnSync(process.execPath, ['-e', 'process.exit(3)'], { encoding: 'utf8' });
  assert.equal(childFailure(exited), 'exit status 3');
  const missing = spawnSync('/no/such/python3', [], { encoding: 'utf8' });
  assert.match(childFailure(missing)!, /ENOENT/);
});
