// Where the tests find the real data sets: NANOCHAT_DATA_MIRROR (CI sets it to ../shared/data).
// Tests that need them skip with a clear reason when it is unset.

import { existsSync } from 'node:fs';

export const MIRROR = process.env.NANOCHAT_DATA_MIRROR;

/** `skip` option for node:test: false when the mirror (and `sub` inside it) exists, else the reason. */
export function needsMirror(sub = ''): false | string {
  if (!MIRROR) return 'NANOCHAT_DATA_MIRROR is not set (point it at shared/data to run the real-data tests)';
  if (!existsSync(`${MIRROR}/${sub}`)) return `${MIRROR}/${sub} does not exist`;
  return false;
}
