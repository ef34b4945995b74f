// AdamW, bias-corrected with decoupled weight decay. The bias corrections 1 - beta^t are computed on the host in
// float64 and passed in, so the kernel has no pow().

import { elementwise } from './common.js';

export const ADAMW_STEP = elementwise(
  'adamw_step', ['param', 'grad', 'm', 'v'],
  [['lr', 'f32'], ['beta1', 'f32'], ['beta2', 'f32'], ['eps', 'f32'], ['wd', 'f32'], ['bc1', 'f32'], ['bc2', 'f32']],
  `let g = grad[i];
  let mi = u.beta1 * m[i] + (1.0 - u.beta1) * g;
  let vi = u.beta2 * v[i] + (1.0 - u.beta2) * g * g;
  m[i] = mi;
  v[i] = vi;
  let p = param[i];
  param[i] = p - (u.lr * u.wd * p + u.lr * (mi / u.bc1) / (sqrt(vi / u.bc2) + u.eps));`);
