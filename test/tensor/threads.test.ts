// The native thread pool: starts on first use, exits cleanly with the process (env cleanup hook joins
// the workers), and is shared safely by several worker_threads loading the addon at once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import { pathToFileURL, fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { loadNativeBackend } from '../../src/tensor/native.js';

const loaded = loadNativeBackend();
const skipWhy = 'error' in loaded ? `native addon not built: ${loaded.error}` : '';
const nativeUrl = pathToFileURL(join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'tensor', 'native.js')).href;

// A script that multiplies two 300x300 matrices (big enough to use the pool) and checks a few entries
// against a float64 dot product; prints "ok <threads> <maxerr>".
const script = `
  const { loadNativeBackend } = await import(${JSON.stringify(nativeUrl)});
  const r = loadNativeBackend();
  if (!r.backend) throw new Error(r.error);
  const nb = r.backend, n = 300;
  const a = new Float32Array(n * n).map((_, i) => Math.sin(i * 0.37 + SEED));
  const b = new Float32Array(n * n).map((_, i) => Math.cos(i * 0.11 + SEED));
  const c = new Float32Array(n * n);
  let err = 0;
  for (let rep = 0; rep < REPS; rep++) {
    nb.matmul(a, b, c, { batch: 1, M: n, N: n, K: n, transA: false, transB: false, accumulate: false });
    for (const [i, j] of [[0, 0], [17, 299], [299, 5], [150, 150]]) {
      let s = 0;
      for (let k = 0; k < n; k++) s += a[i * n + k] * b[k * n + j];
      err = Math.max(err, Math.abs(s - c[i * n + j]));
    }
  }
  RESULT(\`ok \${nb.threads} \${err}\`);
`;

test('threads: a child process using the pool (NANOCHAT_THREADS=2) exits promptly with code 0', (t) => {
  if (skipWhy) return t.skip(skipWhy);
  const code = `(async () => { ${script.replace(/SEED/g, '1').replace(/REPS/g, '3').replace('RESULT(', 'console.log(')} })().catch((e) => { console.error(e); process.exit(1); });`;
  const t0 = Date.now();
  const r = spawnSync(process.execPath, ['-e', code], { encoding: 'utf8', env: { ...process.env, NANOCHAT_THREADS: '2' }, timeout: 30_000 });
  const ms = Date.now() - t0;
  assert.equal(r.signal, null, `child killed by ${r.signal} (hung at exit?) after ${ms} ms; stderr: ${r.stderr}`);
  assert.equal(r.status, 0, `child exit code ${r.status}; stderr: ${r.stderr}`);
  const m = /^ok (\d+) (\S+)/m.exec(r.stdout);
  assert.ok(m, `unexpected output: ${r.stdout}`);
  assert.equal(Number(m[1]), 2, 'NANOCHAT_THREADS=2 gives a pool of 2');
  assert.ok(Number(m[2]) < 1e-3, `matmul error ${m[2]}`);
  assert.ok(ms < 20_000, `child took ${ms} ms`);
});

test('threads: two worker_threads loading the addon at once compute correct matmuls', async (t) => {
  if (skipWhy) return t.skip(skipWhy);
  const run = (seed: number) => new Promise<string>((resolve, reject) => {
    const code = `const { parentPort } = require('node:worker_threads');
      (async () => { ${script.replace(/SEED/g, String(seed)).replace(/REPS/g, '20').replace('RESULT(', 'parentPort.postMessage(')} })().catch((e) => parentPort.postMessage('error ' + e.message));`;
    const w = new Worker(code, { eval: true });
    w.once('message', (m) => { resolve(String(m)); void w.terminate(); });
    w.once('error', reject);
  });
  const results = await Promise.all([run(1), run(2)]);
  for (const r of results) {
    const m = /^ok (\d+) (\S+)/.exec(r);
    assert.ok(m, `worker said: ${r}`);
    assert.ok(Number(m[2]) < 1e-3, `matmul error ${m[2]} in a worker`);
  }
});

test('threads: the addon loaded only by worker_threads (unloaded when they exit, then loaded again) never crashes the process', (t) => {
  if (skipWhy) return t.skip(skipWhy);
  // Each worker computes with the pool (scratch buffers in its thread and in the pool threads), then
  // exits; with no other user Node unloads the addon, so nothing of ours may run at thread exit after that.
  const worker = `const { parentPort } = require('node:worker_threads');
    (async () => { ${script.replace(/SEED/g, '3').replace(/REPS/g, '2').replace('RESULT(', 'parentPort.postMessage(')} })().catch((e) => parentPort.postMessage('error ' + e.message));`;
  const main = `const { Worker } = require('node:worker_threads');
    (async () => {
      for (let i = 0; i < 3; i++) {
        const w = new Worker(${JSON.stringify(worker)}, { eval: true });
        const msg = await new Promise((res, rej) => { w.once('message', res); w.once('error', rej); });
        if (!String(msg).startsWith('ok')) throw new Error(String(msg));
        await new Promise((res) => w.once('exit', res));
        await new Promise((res) => setTimeout(res, 50));
      }
      console.log('done');
    })().catch((e) => { console.error(e); process.exit(1); });`;
  const r = spawnSync(process.execPath, ['-e', main], { encoding: 'utf8', env: { ...process.env, NANOCHAT_THREADS: '2' }, timeout: 60_000 });
  assert.equal(r.signal, null, `child killed by ${r.signal}; stderr: ${r.stderr}`);
  assert.equal(r.status, 0, `child exit code ${r.status}; stderr: ${r.stderr}`);
  assert.match(r.stdout, /done/);
});
