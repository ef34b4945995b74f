// Tensor: a float32 array with a shape, and reverse-mode autograd over coarse operations.
//
// Like micrograd, but each graph node is a whole operation (a matmul, an attention) rather than a
// scalar: a GPT step records about 20 nodes per layer. Each op (ops.ts) computes its forward through
// the backend and registers a closure that pushes the output's gradient into its inputs' gradients.
//
// Storage: parameters own their buffers (and a persistent gradient buffer); activations and their
// gradients come from the arena and live for one step. Storage belongs to the backend (host memory for
// ref and native, GPU memory for webgpu); reading values back to the host is explicit: `await read()` on
// every backend, or the synchronous toArray/item where storage is host memory.

import type { Buf } from './backend.js';
import { Arena } from './arena.js';
import { getBackend } from './backends.js';
import { isBf16Buf } from './bf16-buf.js';

/** The arena all activations of the current thread come from. */
export const arena = new Arena();

let gradEnabled = true;

/** Run fn without recording the graph (inference, evaluation, optimizer math). */
export function noGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

export const numel = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

export class Tensor {
  /** gradient buffer: persistent for parameters, from the arena for activations (null until needed) */
  grad: Buf | null = null;
  /** the backward closure of the op that made this tensor, and that op's inputs */
  backwardFn: (() => void) | null = null;
  parents: Tensor[] = [];
  /** arena generation the storage belongs to; -1 for owned storage (parameters, inputs) */
  readonly generation: number;
  /** a model parameter: its gradient buffer persists across steps (made on first need, see ensureGrad) */
  isParameter = false;

  constructor(
    readonly shape: readonly number[],
    readonly data: Buf,
    public requiresGrad = false,
    fromArena = false,
  ) {
    const n = numel(shape);
    if (data.length < n) throw new Error(`tensor of shape [${shape}] needs ${n} elements, buffer has ${data.length}`);
    this.generation = fromArena ? arena.generation : -1;
  }

  get size(): number {
    return numel(this.shape);
  }

  /** A new tensor with owned (non-arena) zeroed storage of the current backend. */
  static zeros(shape: readonly number[], requiresGrad = false): Tensor {
    return new Tensor(shape, getBackend().alloc(numel(shape)), requiresGrad);
  }

  /** A new tensor owning a copy of values. */
  static from(values: ArrayLike<number>, shape: readonly number[], requiresGrad = false): Tensor {
    const t = Tensor.zeros(shape, requiresGrad);
    if (values.length !== t.size) throw new Error(`Tensor.from: ${values.length} values for shape [${shape}] (${t.size})`);
    getBackend().write(t.data, values instanceof Float32Array ? values : Float32Array.from(values));
    return t;
  }

  /**
   * A parameter: owned storage, requires grad, and a persistent gradient buffer zeroed by zeroGrad(), made when
   * training first needs it (the optimizer, or a backward) so that inference never holds one: a d32 model's
   * gradients would be another 7.6 GB.
   */
  static parameter(shape: readonly number[]): Tensor {
    const t = Tensor.zeros(shape, true);
    t.isParameter = true;
    return t;
  }

  /** The persistent gradient buffer of a parameter, zeroed when made. */
  ensureGrad(): Buf {
    this.grad ??= getBackend().alloc(this.size);
    return this.grad;
  }

  /** Throws if this activation's arena was reset after it was made (its buffer now holds other data). */
  checkAlive(): void {
    if (this.generation !== -1 && this.generation !== arena.generation) {
      throw new Error('tensor used after its arena was reset: read values (toArray/item) before arena.reset()');
    }
  }

  /** A host copy of the values, on every backend (a device copies them back once the queued kernels ran). */
  read(): Promise<Float32Array> {
    this.checkAlive();
    return getBackend().read(this.data.subarray(0, this.size));
  }

  /**
   * The values on the host without a copy where storage is host memory (valid until the arena resets: read what
   * you need before), or a copy read back from a device. For evaluation loops that scan big logits arrays.
   */
  async view(): Promise<Float32Array> {
    this.checkAlive();
    return this.data instanceof Float32Array ? this.data.subarray(0, this.size) : getBackend().read(this.data.subarray(0, this.size));
  }

  /** A host copy of the values, where storage is host memory (ref, native); on a device use `await read()`. */
  toArray(): Float32Array {
    this.checkAlive();
    return hostData(this.data).slice(0, this.size);
  }

  /** The single value, where storage is host memory; on a device use `(await read())[0]`. */
  item(): number {
    if (this.size !== 1) throw new Error(`item() needs a single element, shape is [${this.shape}]`);
    this.checkAlive();
    return hostData(this.data)[0];
  }

  zeroGrad(): void {
    if (this.grad) getBackend().fill(this.grad, 0, this.grad.length);
  }

  /**
   * Backpropagate from this scalar (or from `seed`, a gradient of the same shape).
   * Visits the graph in reverse topological order; each node's closure runs once.
   */
  backward(seed?: Buf): void {
    this.checkAlive();
    if (!seed && this.size !== 1) throw new Error(`backward() without a seed needs a scalar, shape is [${this.shape}]`);
    const order: Tensor[] = [];
    const seen = new Set<Tensor>();
    // iterative DFS (a deep graph must not overflow the JS stack)
    const stack: [Tensor, boolean][] = [[this, false]];
    while (stack.length) {
      const [t, expanded] = stack.pop()!;
      if (expanded) { order.push(t); continue; }
      if (seen.has(t)) continue;
      seen.add(t);
      stack.push([t, true]);
      for (const p of t.parents) if (p.requiresGrad && !seen.has(p)) stack.push([p, false]);
    }
    const g = gradSlot(this);
    if (seed) getBackend().copy(seed, g.buf, this.size);
    else if (!g.accumulate) getBackend().fill(g.buf, 1, 1);
    else {
      const one = arena.alloc(1);
      getBackend().fill(one, 1, 1);
      getBackend().add(one, g.buf, g.buf, 1, false);
    }
    for (let i = order.length - 1; i >= 0; i--) {
      const t = order[i];
      if (t.backwardFn && t.grad) t.backwardFn();
    }
  }
}

/**
 * Where an op writes a gradient for `t`: its existing buffer (accumulate) or a fresh arena buffer
 * that the first writer overwrites (accumulate false), which saves zeroing it.
 */
export function gradSlot(t: Tensor): { buf: Buf; accumulate: boolean } {
  if (t.grad) return { buf: t.grad, accumulate: true };
  if (t.isParameter) return { buf: t.ensureGrad(), accumulate: true };
  t.grad = arena.alloc(t.size);
  return { buf: t.grad, accumulate: false };
}

/** Like gradSlot, but for kernels that can only accumulate: a fresh buffer is zeroed first. */
export function gradSlotZeroed(t: Tensor): Buf {
  if (t.grad) return t.grad;
  if (t.isParameter) return t.ensureGrad();
  t.grad = arena.alloc(t.size, true);
  return t.grad;
}

/**
 * The Float32Array behind a buffer of a host backend (ref, native). Code that indexes values on the host calls
 * this; on a device backend it throws, since the values must be read back first (`await tensor.read()`).
 */
export function hostData(buf: Buf): Float32Array {
  if (buf instanceof Float32Array) return buf;
  if (isBf16Buf(buf)) {
    throw new Error('this weight is stored in bf16 for inference (--dtype bf16): read it widened to f32 with ' +
      'await tensor.read(), or load the model with --dtype f32');
  }
  throw new Error(`this step needs the values on the host, but the '${getBackend().name}' backend keeps them on its device: read them first with await tensor.read()`);
}

/** An activation tensor from the arena. */
export function activation(shape: readonly number[]): Tensor {
  return new Tensor(shape, arena.alloc(numel(shape)), false, true);
}

/** Record `out` as produced from `inputs` with the given backward, if any input needs a gradient. */
export function record(out: Tensor, inputs: Tensor[], backward: () => void): Tensor {
  if (!gradEnabled) return out;
  for (const t of inputs) t.checkAlive();
  if (inputs.some((t) => t.requiresGrad)) {
    out.requiresGrad = true;
    out.parents = inputs;
    out.backwardFn = backward;
  }
  return out;
}
