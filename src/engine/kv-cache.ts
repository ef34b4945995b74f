// Replicating a prefilled KV cache across sample rows (prefill the prompt once, then replicate).
//
// The prompt is run once with batch 1; its keys and values (positions 0 .. pos-1 of every layer)
// are then copied into each row of a batch-N cache, so N samples cost one prefill plus N-row
// decode steps instead of N prefills.

import type { KVCache } from '../model/gpt.js';
import { getBackend } from '../tensor/backends.js';

/**
 * Copy row `srcRow` of `src` (its first src.pos positions, every layer's k and v) into every row of
 * `dst`, and set dst.pos = src.pos. Both caches must come from the same model (same layers, heads,
 * head size); their batch sizes and lengths may differ (dst.maxLen must hold src.pos positions).
 */
export function replicateCache(src: KVCache, dst: KVCache, srcRow = 0): void {
  if (src.k.length !== dst.k.length) throw new Error(`replicateCache: ${src.k.length} layers vs ${dst.k.length}`);
  if (src.pos > dst.maxLen) throw new Error(`replicateCache: ${src.pos} positions do not fit a cache of length ${dst.maxLen}`);
  const be = getBackend();
  for (let layer = 0; layer < src.k.length; layer++) {
    for (const [s, d] of [[src.k[layer], dst.k[layer]], [src.v[layer], dst.v[layer]]]) {
      // one position holds Hkv * D floats; derive it from the buffer sizes so any head layout works
      const perPos = s.length / (src.batch * src.maxLen);
      if (d.length / (dst.batch * dst.maxLen) !== perPos) throw new Error('replicateCache: caches of different head layouts');
      const from = s.subarray(srcRow * src.maxLen * perPos, (srcRow * src.maxLen + src.pos) * perPos);
      for (let b = 0; b < dst.batch; b++) {
        const at = b * dst.maxLen * perPos;
        be.copy(from, d.subarray(at, at + from.length), from.length);
      }
    }
  }
  dst.pos = src.pos;
}
