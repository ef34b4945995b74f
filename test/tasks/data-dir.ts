// Where task tests find the real data: $NANOCHAT_DATA_MIRROR (CI points it at ../shared/data).

import type { TestContext } from 'node:test';

export const mirror: string | undefined = process.env.NANOCHAT_DATA_MIRROR || undefined;

export const SKIP_REASON = 'NANOCHAT_DATA_MIRROR is not set (point it at the shared/data folder to run the real-data tests)';

/** The mirror folder, or undefined after marking the test skipped. */
export function dataOrSkip(t: TestContext): string | undefined {
  if (!mirror) t.skip(SKIP_REASON);
  return mirror;
}
