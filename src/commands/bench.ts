// `nanochat bench <what>`: benchmarks print figures and ratios to a peer measured in the same run.
// Each layer owns its benchmark module; this file only dispatches.

import { UserError } from '../common/errors.js';
import { initBackend } from '../tensor/backends.js';

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
  // kernels and train on the GPU backend are their own benchmark: the GPU beside native, shares of the GPU's peak
  const backend = rest.find((a, i) => rest[i - 1] === '--backend') ?? rest.find((a) => a.startsWith('--backend='))?.slice(10);
  const rest0 = rest.filter((a, i) => a !== '--backend' && rest[i - 1] !== '--backend' && !a.startsWith('--backend='));
  if (backend === 'webgpu' && what === 'serve') {
    // decode and serving on the GPU: the same benchmark, on the webgpu backend (its peak and bandwidth measured there)
    await initBackend('webgpu');
    await (await load())(rest0);
    return 0;
  }
  if (backend !== undefined && backend !== 'native') {
    if (backend !== 'webgpu' || (what !== 'kernels' && what !== 'train')) {
      throw new UserError(`bench ${what} --backend ${backend}: only \`bench kernels\`, \`bench train\` and \`bench serve\` take --backend webgpu`);
    }
    const gpuBench = await import('../bench/webgpu.js');
    await (what === 'kernels' ? gpuBench.benchKernels : gpuBench.benchTrain)(rest);
    return 0;
  }
  await (await load())(rest0);
  return 0;
}
