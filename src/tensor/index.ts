// The tensor engine's public surface: tensors, differentiable ops, the arena and backend selection.
export { Tensor, arena, noGrad, activation, numel } from './tensor.js';
export * from './ops.js';
export { getBackend, setBackend, createBackend } from './backends.js';
export type { Backend, Buf, MatmulParams, AttentionShape } from './backend.js';
