// npm install hook: build the native kernels addon (native/*.c) with node-gyp. A failed build never
// fails the install: the package then falls back to the `ref` backend and this script says why, in
// one line. Offline machines work too: we point node-gyp at the headers installed with node itself
// (<prefix>/include/node) instead of letting it download them.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { createRequire } from 'node:module';

function warn(why) {
  console.warn(`nanochat: native addon not built (${why}); falling back to the 'ref' backend`);
}

/** node-gyp's entry script, or a command on PATH: npm's env var, then npm's own copy next to node, then PATH. */
function findNodeGyp() {
  const env = process.env.npm_config_node_gyp;
  if (env && existsSync(env)) return { cmd: process.execPath, pre: [env] };
  const prefix = resolve(dirname(process.execPath), '..');
  const candidates = [
    join(prefix, 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
    join(dirname(process.execPath), 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'), // Windows layout
  ];
  try {
    const req = createRequire(import.meta.url);
    candidates.push(req.resolve('node-gyp/bin/node-gyp.js'));
  } catch { /* not a local dependency */ }
  for (const c of candidates) if (existsSync(c)) return { cmd: process.execPath, pre: [c] };
  const which = spawnSync(process.platform === 'win32' ? 'where' : 'which', ['node-gyp'], { encoding: 'utf8' });
  if (which.status === 0 && which.stdout.trim()) return { cmd: which.stdout.trim().split('\n')[0], pre: [] };
  return null;
}

/** --nodedir for headers shipped with this node (e.g. /usr/include/node), unless npm already configured one. */
function nodedirArgs() {
  if (process.env.npm_config_nodedir) return [];
  const prefix = resolve(dirname(process.execPath), '..');
  if (existsSync(join(prefix, 'include', 'node', 'node_api.h')) && existsSync(join(prefix, 'include', 'node', 'common.gypi'))) return [`--nodedir=${prefix}`];
  return [];
}

function main() {
  if (!existsSync('binding.gyp')) return;
  if (process.env.NANOCHAT_SKIP_NATIVE) { warn('NANOCHAT_SKIP_NATIVE is set'); return; }
  const gyp = findNodeGyp();
  if (!gyp) { warn('node-gyp not found: neither $npm_config_node_gyp, npm\'s bundled copy, nor node-gyp on PATH'); return; }
  const r = spawnSync(gyp.cmd, [...gyp.pre, 'rebuild', '--release', ...nodedirArgs()], { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', timeout: 600_000 });
  if (r.status !== 0) {
    const text = `${r.stderr ?? ''}\n${r.stdout ?? ''}`;
    const lines = text.split('\n').map((l) => l.trim()).filter(Boolean);
    const why = lines.find((l) => /\berror: /i.test(l) && !/^gyp ERR! (System|command|cwd|node -v|node-gyp -v|not ok)/.test(l))
      ?? lines.find((l) => /error/i.test(l) && !/^gyp ERR! (stack|System|command|cwd|node -v|node-gyp -v|not ok)/.test(l))
      ?? (r.error ? String(r.error.message) : lines.at(-1)) ?? `exit code ${r.status}`;
    warn(why.slice(0, 300));
    return;
  }
  if (!existsSync(join('build', 'Release', 'nanochat_native.node'))) warn('node-gyp reported success but build/Release/nanochat_native.node is missing');
}

try {
  main();
} catch (e) {
  warn(e instanceof Error ? e.message : String(e));
}
process.exit(0);
