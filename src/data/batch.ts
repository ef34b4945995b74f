// One training or evaluation batch: B rows of T token ids and their next-token targets (-1: no loss).

export interface Batch {
  inputs: Int32Array;
  targets: Int32Array;
  /** rows and columns of this batch when they differ from the run's B x T (SFT pads each batch to its longest row) */
  B?: number;
  T?: number;
  /**
   * Per-token weights of a weighted objective: loss = sum_i weights[i] * nll_i (the weights carry any
   * normalization). RL uses it for -sum(logprob * advantage) / tokens. Without weights: mean cross-entropy.
   */
  weights?: Float32Array;
}
