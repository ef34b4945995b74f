// `--dtype bf16|f32` of the training commands: the precision of the model's matmuls (src/tensor/precision.ts).
// Default: bf16 where the backend runs bf16 matmuls on hardware (native, AVX512_BF16), else f32, so a
// CPU without it trains as before. Asking for bf16 where it cannot run is an error, not a silent fallback.

import { UserError } from '../common/errors.js';
import type { Backend } from '../tensor/backend.js';
import { getBackend } from '../tensor/backends.js';
import { NativeBackend } from '../tensor/native.js';
import { defaultMatmulPrecision, setMatmulPrecision, type MatmulPrecision } from '../tensor/precision.js';
import { str, type FlagSpec, type Parsed } from './flags.js';

export const DTYPE_FLAG: FlagSpec = {
  dtype: {
    type: 'string',
    help: 'matmul precision of the linear layers: bf16 (inputs rounded to bfloat16, f32 sums; weights and optimizer ' +
      'state stay f32) or f32 (default: bf16 where the CPU has AVX512_BF16, else f32)',
  },
};

/** Why `be` cannot run bf16 matmuls, or undefined when it can. */
function bf16Unavailable(be: Backend): string | undefined {
  if (be.hasBf16Matmul?.()) return undefined;
  if (be instanceof NativeBackend) return be.bf16Unavailable() ?? 'the native backend reports no bf16 matmul';
  return `the ${be.name} backend has no bf16 matmul hardware path`;
}

/** The precision --dtype (or its default) asks for on `be`, and the line the command logs at start. */
export function resolveDtype(flag: string | undefined, be: Backend): { precision: MatmulPrecision; line: string } {
  if (flag !== undefined && flag !== 'bf16' && flag !== 'f32') throw new UserError(`--dtype must be bf16 or f32, got '${flag}'`);
  const why = bf16Unavailable(be);
  if (flag === 'bf16' && why) {
    throw new UserError(`--dtype bf16 needs a CPU with AVX512_BF16 (vdpbf16ps) and the native backend's avx512 kernels: ${why}. ` +
      'Use --dtype f32, or leave --dtype out (bf16 only where it runs).');
  }
  const precision: MatmulPrecision = flag ?? defaultMatmulPrecision(be);
  const line = precision === 'bf16'
    ? `matmul precision bf16${flag ? '' : ' (default here)'}: linear layers round inputs to bfloat16 and sum in f32 ` +
      '(AVX512_BF16 vdpbf16ps); weights, optimizer state and attention stay f32'
    : `matmul precision f32${flag ? ' (--dtype f32)' : ` (bf16 unavailable: ${why})`}`;
  return { precision, line };
}

/** Reads --dtype, sets the process's matmul precision, and returns the line to log. */
export function applyDtype(p: Parsed, be: Backend = getBackend()): string {
  const { precision, line } = resolveDtype(str(p, 'dtype'), be);
  setMatmulPrecision(precision);
  return line;
}

/** The weight storage of the inference commands' `--dtype` (chat, serve, chat-eval, base-eval). */
export type WeightsDtype = 'bf16' | 'f32';

export const WEIGHTS_DTYPE_FLAG: FlagSpec = {
  dtype: {
    type: 'string',
    help: 'weight storage: bf16 (half the memory and the bytes read per token; matmuls bf16 x bf16 with f32 sums ' +
      'where the CPU has AVX512_BF16, else f32 x bf16) or f32 (default for our checkpoints: as trained)',
  },
};

/** --dtype of an inference command, checked; undefined when not given (the checkpoint's own storage). */
export function weightsDtype(p: Parsed): WeightsDtype | undefined {
  const flag = str(p, 'dtype');
  if (flag !== undefined && flag !== 'bf16' && flag !== 'f32') throw new UserError(`--dtype must be bf16 or f32, got '${flag}'`);
  return flag;
}
