// Placeholder loader until the native addon lands: reports that it is not built.
import type { Backend } from './backend.js';

export function loadNativeBackend(): { backend: Backend } | { error: string } {
  return { error: 'the native addon is not part of this build yet' };
}
