// The webgpu backend for tests, opened once per test file through Dawn (on CI: Mesa's llvmpipe, no GPU), and
// helpers to move test data in and out. There is no skip: a machine where no adapter starts fails the test.

import { openNodeWebGpu } from '../../src/tensor/webgpu-node.js';
import type { WebGpuBackend } from '../../src/tensor/webgpu/backend.js';
import type { GpuBuf } from '../../src/tensor/webgpu/buffer.js';

let opened: Promise<WebGpuBackend> | undefined;

/** The process's webgpu backend (destroy it in the file's `after`). */
export function testWebGpu(): Promise<WebGpuBackend> {
  opened ??= openNodeWebGpu();
  return opened;
}

/**
 * x on the device as a view that starts `pad` elements into its GPUBuffer, so kernels are tested with the
 * element offsets every view passes (default 3: no alignment of any kind).
 */
export function upload(be: WebGpuBackend, x: Float32Array, pad = 3): GpuBuf {
  const whole = be.alloc(x.length + pad + 2);
  const view = whole.subarray(pad, pad + x.length);
  be.write(view, x);
  return view;
}
