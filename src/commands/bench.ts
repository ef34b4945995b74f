// `nanochat bench <what>`: benchmarks print figures and ratios to a peer measured in the same run.
// Each layer owns its benchmark module; this file only dispatches.

import { UserError } from '../common/errors.js';

type Bench = (argv: string[]) => Promise<void>;

const benches: Record<string, () => Promise<Bench>> = {
  tokenizer: async () => (await import('../bench/tokenizer.js')).run,
  train: async () => (await import('../bench/train.js')).run,
  kernels: async () => (await import('../bench/kernels.js')).run,
  serve: async () => (await import('../bench/serve.js')).run,
};

export async function run(argv: string[]): Promise<number> {
  const [what, ...rest] = argv;
  const names = Object.keys(benches);
  if (!what || what === '--help' || what === '-h') {
    process.stdout.write(`Usage: nanochat bench <${[...names, 'all'].join('|')}> [--json]\n`);
    return 0;
  }
  if (what === 'all') {
    for (const n of names) await (await benches[n]())(rest);
    return 0;
  }
  const load = benches[what];
  if (!load) throw new UserError(`unknown benchmark '${what}': choose one of ${[...names, 'all'].join(', ')}`);
  await (await load())(rest);
  return 0;
}
