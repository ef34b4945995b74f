// --keep-last N: a long run with --save-every writes a checkpoint every few steps (the weights, and
// optimizer state of one to two times their size: Muon keeps one buffer per matrix, AdamW two); keeping
// only the newest N bounds its disk use. The reference keeps them all, as every stage does unless
// --keep-last is given.

import { rmSync } from 'node:fs';
import { checkpointFiles, listSteps } from './checkpoint.js';

/**
 * After the checkpoint of step `justWritten` is complete: delete the oldest complete checkpoints of `dir`
 * so that `keepLast` remain, never `justWritten` itself. Each goes meta first, so a kill midway leaves no
 * step that counts as complete without its weights. Returns the steps deleted, ascending.
 */
export function pruneCheckpoints(dir: string, keepLast: number, justWritten: number): number[] {
  if (!Number.isInteger(keepLast) || keepLast < 1) {
    throw new RangeError(`keepLast must be a positive integer, got ${keepLast}`);
  }
  const others = listSteps(dir).filter((s) => s !== justWritten);
  const doomed = others.slice(0, Math.max(0, others.length - (keepLast - 1)));
  for (const step of doomed) {
    const f = checkpointFiles(dir, step);
    for (const path of [f.meta, f.model, f.optim]) rmSync(path, { force: true });
  }
  return doomed;
}
