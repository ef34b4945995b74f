// Evaluation feeds the model batches of many different shapes (prompt lengths vary), and the
// activation arena keeps a free list per exact buffer size: without a limit every new shape adds
// buffers that are never reused, and a long eval grows until the machine runs out of memory (and
// spends its time faulting in fresh pages). Evaluators call trimArena() between forward passes.

import { arena } from '../tensor/tensor.js';

/** Drop the arena's buffers once it holds more than this (default 1 GiB): they are rebuilt on demand. */
export const ARENA_LIMIT_BYTES = 1 << 30;

/** Between forward passes only (no activation may be alive): reset, and free everything past the limit. */
export function trimArena(limitBytes = ARENA_LIMIT_BYTES): void {
  arena.reset();
  if (arena.bytes > limitBytes) arena.clear();
}

/** Round a batch length up so that nearby lengths share buffer sizes (padding after a causal row is harmless). */
export function bucketLength(T: number, step = 32): number {
  return Math.ceil(T / step) * step;
}
