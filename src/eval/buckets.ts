// Evaluation feeds the model batches of many prompt lengths. Rounding a batch's length up lets nearby
// lengths share the arena's buffers (right padding after a causal row never changes its logits).

export function bucketLength(T: number, step = 32): number {
  return Math.ceil(T / step) * step;
}
