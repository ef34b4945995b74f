// The backends a test runs its checks on: ref always, native when the addon is built (when it is not,
// the native kernel tests say so with a skip).

import type { Backend } from '../../src/tensor/backend.js';
import type { NativeBackend } from '../../src/tensor/native.js';
import { createBackend } from '../../src/tensor/backends.js';

export function backends(): Backend[] {
  const list: Backend[] = [createBackend('ref')];
  try { list.push(createBackend('native')); } catch { /* addon not built */ }
  return list;
}

/** Run fn on every instruction set this CPU has (avx512, avx2, generic), restoring auto after. */
export function eachIsa(b: NativeBackend, fn: (isa: string) => void): void {
  const done = new Set<string>();
  try {
    for (const want of ['avx512', 'avx2', 'generic'] as const) {
      const got = b.setIsa(want);
      if (got !== want || done.has(got)) continue;
      done.add(got);
      fn(got);
    }
  } finally {
    b.setIsa('auto');
  }
}
