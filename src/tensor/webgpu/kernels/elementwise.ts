// The elementwise kernels: fill, copy, add, mul, scale, lerp, broadcast, relu^2 and softcap with their backwards,
// transpose.

import { SOFTCAP_FN, elementwise, store } from './common.js';

export const FILL = elementwise('fill', ['dst'], [['value', 'f32']], 'dst[i] = u.value;');
export const COPY = elementwise('copy', ['src', 'dst'], [], 'dst[i] = src[i];');
export const ADD = elementwise(
  'add', ['a', 'b', 'out'], [['acc', 'u32']], `let v = a[i] + b[i]; ${store('out', 'i', 'v')}`);
export const MUL = elementwise(
  'mul', ['a', 'b', 'out'], [['acc', 'u32']], `let v = a[i] * b[i]; ${store('out', 'i', 'v')}`);
export const SCALE = elementwise(
  'scale', ['x', 'out'], [['alpha', 'f32'], ['acc', 'u32']], `let v = u.alpha * x[i]; ${store('out', 'i', 'v')}`);
export const LERP = elementwise(
  'lerp', ['dst', 'src'], [['t', 'f32']], 'let d = dst[i]; dst[i] = d + u.t * (src[i] - d);');

/** dst (+)= src[0]: a scalar's gradient spread over a buffer */
export const BROADCAST = elementwise(
  'broadcast', ['src', 'dst'], [['acc', 'u32']], `let v = src[0]; ${store('dst', 'i', 'v')}`);

export const RELU_SQUARED_FORWARD = elementwise(
  'relu_squared_forward', ['x', 'y'], [], 'let r = max(x[i], 0.0); y[i] = r * r;');
export const RELU_SQUARED_BACKWARD = elementwise(
  'relu_squared_backward', ['dy', 'x', 'dx'], [['acc', 'u32']],
  `let xi = x[i]; let g = select(0.0, 2.0 * xi * dy[i], xi > 0.0); ${store('dx', 'i', 'g')}`);

export const SOFTCAP_FORWARD = elementwise(
  'softcap_forward', ['x', 'y'], [['cap', 'f32']], 'y[i] = softcap(x[i], u.cap);', SOFTCAP_FN);
export const SOFTCAP_BACKWARD = elementwise(
  'softcap_backward', ['dy', 'y', 'dx'], [['cap', 'f32'], ['acc', 'u32']],
  `let t = y[i] / u.cap; let g = dy[i] * (1.0 - t * t); ${store('dx', 'i', 'g')}`);

/** dst[c * rows + r] = src[r * cols + c], one invocation per element of dst (writes coalesce). */
export const TRANSPOSE = elementwise(
  'transpose', ['src', 'dst'], [['rows', 'u32'], ['cols', 'u32']],
  'let c = i / u.rows; let r = i - c * u.rows; dst[i] = src[r * u.cols + c];');
