// Scoring one text under a model (`nanochat score`): per-token loss, bits per byte and perplexity.
//
// The text is encoded with <|bos|> in front. Texts longer than the model's context are scored in
// consecutive windows of sequence_len tokens; each window starts fresh (no context carried over), the
// usual trade-off of strided evaluation, stated here so numbers are not over-read.

