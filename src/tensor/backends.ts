// Backend selection: NANOCHAT_BACKEND=ref|native picks one; unset picks the fastest that loads.
// If the native addon was not built (or fails to load) we fall back to `ref` and say why, once.

import type { Backend } from './backend.js';
import { RefBackend } from './ref.js';
import { loadNativeBackend } from './native.js';
import { UserError } from '../common/errors.js';

let current: Backend | undefined;

function backendNames(): string[] {
  return ['ref', 'native'];
}

/** Create a backend by name; throws a clear error if it cannot be loaded. */
export function createBackend(name: string): Backend {
  if (name === 'ref') return new RefBackend();
  if (name === 'native') {
    const r = loadNativeBackend();
    if ('error' in r) throw new UserError(`NANOCHAT_BACKEND=native but the native addon is unavailable: ${r.error}. Run \`npm rebuild\` (needs g++ and python3) or use NANOCHAT_BACKEND=ref.`);
    return r.backend;
  }
  throw new UserError(`unknown backend '${name}' in NANOCHAT_BACKEND: choose one of ${backendNames().join(', ')}, or unset it`);
}

/** The process-wide backend, chosen on first use. */
export function getBackend(): Backend {
  if (current) return current;
  const want = process.env.NANOCHAT_BACKEND;
  if (want) {
    current = createBackend(want);
  } else {
    const r = loadNativeBackend();
    if ('error' in r) {
      process.stderr.write(`nanochat: native backend unavailable (${r.error}); using the slow 'ref' backend\n`);
      current = new RefBackend();
    } else current = r.backend;
  }
  return current;
}

/** Replace the process-wide backend (tests run the same code on each backend). */
export function setBackend(b: Backend): void {
  current = b;
}
