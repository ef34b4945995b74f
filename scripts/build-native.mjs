// npm install hook: build the native kernels addon with node-gyp. A failed build never fails the
// install: the package falls back to the `ref` backend and this script says why, in one line.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

if (!existsSync('binding.gyp')) process.exit(0);
const r = spawnSync('npx', ['--no-install', 'node-gyp', 'rebuild'], { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
if (r.status !== 0) {
  const why = (r.stderr || r.stdout || String(r.error)).trim().split('\n').filter(Boolean).slice(-1)[0] ?? 'unknown error';
  console.warn(`nanochat: native addon build failed (${why}); falling back to the 'ref' backend`);
}
