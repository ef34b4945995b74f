// Backend selection: `ref`, `native` or `webgpu`, by name (NANOCHAT_BACKEND or a command's --backend flag), or the
// default: webgpu where Dawn finds a hardware GPU adapter (never a software one: llvmpipe and SwiftShader compute on
// the CPU, slower than native), else native, else ref (when the addon was not built), saying which and why.
//
// The CPU backends start synchronously, so library code and tests just call getBackend(). A GPU device opens
// asynchronously: commands call `await initBackend()` once at start, before anything computes; a browser tab
// opens its WebGpuBackend on navigator.gpu and hands it to setBackend. This file and what it imports statically
// use no Node module (a test walks the graph); Dawn's loader is imported only inside initBackend.

import type { Backend } from './backend.js';
import { RefBackend } from './ref.js';
import { loadNativeBackend } from './native.js';
import { UserError } from '../common/errors.js';

let current: Backend | undefined;
/** why the default is not webgpu on this machine, for logs that name the backend */
let defaultWhy: string | undefined;

/** whether initBackend's choice was asked for (--backend, NANOCHAT_BACKEND) or the default's */
let chosenByDefault = false;

/** True when the process-wide backend is the default's pick rather than one the user named. */
export function backendIsDefault(): boolean {
  return chosenByDefault;
}

/** Why the default backend here is a CPU one (no hardware GPU adapter, ...), once initBackend has looked. */
export function whyNotGpu(): string | undefined {
  return defaultWhy;
}

export const BACKEND_NAMES = ['ref', 'native', 'webgpu'] as const;

function unknownBackend(name: string, where: string): UserError {
  return new UserError(`unknown backend '${name}' in ${where}: choose one of ${BACKEND_NAMES.join(', ')}, or leave it unset`);
}

function nativeOrThrow(): Backend {
  const r = loadNativeBackend();
  if ('error' in r) throw new UserError(`the native backend is unavailable: ${r.error}. Run \`npm rebuild\` (needs g++ and python3) or use NANOCHAT_BACKEND=ref.`);
  return r.backend;
}

/** Create a CPU backend by name; throws a clear error for an unknown name or one that cannot load here. */
export function createBackend(name: string): Backend {
  if (name === 'ref') return new RefBackend();
  if (name === 'native') return nativeOrThrow();
  if (name === 'webgpu') throw new UserError('the webgpu backend opens asynchronously: call `await initBackend(\'webgpu\')` first');
  throw unknownBackend(name, 'NANOCHAT_BACKEND');
}

/** The fastest CPU backend that loads: native, or ref with a note why not. */
function defaultCpuBackend(say: (line: string) => void): Backend {
  const r = loadNativeBackend();
  if (!('error' in r)) return r.backend;
  say(`nanochat: native backend unavailable (${r.error}); using the slow 'ref' backend`);
  return new RefBackend();
}

/** The process-wide backend, chosen on first use (a CPU one; a GPU needs initBackend first). */
export function getBackend(): Backend {
  if (current) return current;
  const want = globalThis.process?.env.NANOCHAT_BACKEND; // no `process` in a browser tab: call setBackend there
  current = want ? createBackend(want) : defaultCpuBackend((l) => console.error(l));
  return current;
}

/** Replace the process-wide backend (tests run the same code on each backend). */
export function setBackend(b: Backend): void {
  current = b;
}

/**
 * Choose and open the process-wide backend: `name` (a --backend flag), else NANOCHAT_BACKEND, else the default
 * (a hardware WebGPU adapter if Dawn finds one, else native, else ref). Logs a GPU choice (or ref's fallback) with `say`; sets
 * NANOCHAT_BACKEND to it, so worker threads and child processes compute on the same backend.
 */
export async function initBackend(name?: string, say: (line: string) => void = (l) => process.stderr.write(l + '\n')): Promise<Backend> {
  const where = name !== undefined ? '--backend' : 'NANOCHAT_BACKEND';
  const want = name ?? process.env.NANOCHAT_BACKEND;
  if (want !== undefined && !(BACKEND_NAMES as readonly string[]).includes(want)) throw unknownBackend(want, where);
  if (current && (want === undefined || current.name === want)) return current;
  const { openNodeWebGpu, probeHardwareWebGpu } = await import('./webgpu-node.js');
  let chosen: Backend;
  if (want === 'webgpu') {
    const gpu = await openNodeWebGpu();
    say(`backend webgpu: ${gpu.adapterInfo.device || gpu.adapterInfo.description}` +
      (gpu.isSoftware ? ' (a software adapter: it computes on the CPU, slower than native)' : ''));
    chosen = gpu;
  } else if (want !== undefined) {
    chosen = createBackend(want);
  } else {
    const probe = await probeHardwareWebGpu();
    if ('backend' in probe) {
      chosen = probe.backend;
      say(`backend webgpu (default on a hardware GPU adapter): ${probe.backend.adapterInfo.device || probe.backend.adapterInfo.description}`);
    } else {
      // native is what every CPU machine gets: the training logs name it; only a GPU, or ref's fallback, is news
      chosen = defaultCpuBackend(say);
      defaultWhy = probe.why;
    }
  }
  current = chosen;
  chosenByDefault = want === undefined;
  process.env.NANOCHAT_BACKEND = chosen.name;
  return chosen;
}
