// Flags of the training stages beyond the horizon and the periodic ones (flags.ts): gradient clipping and
// how many checkpoints a run keeps.

import { UserError } from '../common/errors.js';
import { num, type FlagSpec, type Parsed } from './flags.js';

/** `--grad-clip` with the stage's default: the reference clips at 1.0 in pretraining only. */
export function gradClipFlag(defaultValue: '1.0' | '0'): FlagSpec {
  const help = 'clip the global gradient norm to this before each step (0: no clipping)';
  return { 'grad-clip': { type: 'string', default: defaultValue, help } };
}

/** The max gradient norm, 0 for no clipping. */
export function parseGradClip(p: Parsed): number {
  return num(p, 'grad-clip', { min: 0, allowFloat: true });
}

export const KEEP_LAST_FLAG: FlagSpec = {
  'keep-last': {
    type: 'string',
    help: 'after each save, delete the oldest checkpoints of this run beyond the newest N (default: keep all, as the reference; -1: all)',
  },
};

/** `--keep-last`: N >= 1, or undefined to keep every checkpoint (not given, or -1). */
export function parseKeepLast(p: Parsed): number | undefined {
  if (p.values['keep-last'] === undefined) return undefined;
  const n = num(p, 'keep-last', { min: -1 });
  if (n === 0) throw new UserError('--keep-last 0 would delete the checkpoint just written: give N >= 1, or -1 to keep all');
  return n === -1 ? undefined : n;
}
