// The activation arena: buffers for one step's activations and their gradients, reused every step.
//
// A training step allocates the same buffer sizes in the same order each time, so after the first
// step every alloc is served from the free lists and the garbage collector has nothing to do: a
// 10,000-step run neither grows nor stalls. Parameters and optimizer state never come from here.
//
// reset() hands every buffer back at once; tensors from before a reset carry an older generation
// and refuse to be read (Tensor checks), so a stale activation is an error instead of silent garbage.

import type { Buf } from './backend.js';

export class Arena {
  private free = new Map<number, Buf[]>();
  private used: Buf[] = [];
  /** bumped on every reset */
  generation = 0;
  /** bytes held (free + used), for memory reports */
  bytes = 0;

  /** A buffer of exactly n floats. Contents are undefined (whatever the last step left) unless zero is true. */
  alloc(n: number, zero = false): Buf {
    const list = this.free.get(n);
    let buf = list?.pop();
    if (!buf) {
      buf = new Float32Array(n);
      this.bytes += 4 * n;
    } else if (zero) buf.fill(0);
    this.used.push(buf);
    return buf;
  }

  /** Return every buffer handed out since the last reset. */
  reset(): void {
    for (const b of this.used) {
      let list = this.free.get(b.length);
      if (!list) this.free.set(b.length, (list = []));
      list.push(b);
    }
    this.used.length = 0;
    this.generation++;
  }

  /** Drop everything (e.g. when switching from training to a differently shaped evaluation). */
  clear(): void {
    this.free.clear();
    this.used.length = 0;
    this.bytes = 0;
    this.generation++;
  }
}
