// The backends a test runs its checks on: ref always, native when the addon is built (when it is not,
// the native kernel tests say so with a skip).

import type { Backend } from '../../src/tensor/backend.js';
import { createBackend } from '../../src/tensor/backends.js';

export function backends(): Backend[] {
  const list: Backend[] = [createBackend('ref')];
  try { list.push(createBackend('native')); } catch { /* addon not built */ }
  return list;
}
