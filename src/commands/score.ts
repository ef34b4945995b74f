// `nanochat score`: per-token loss, bits per byte and perplexity of a text under a checkpoint.
//
// The text is encoded with <|bos|> in front. Texts longer than the model's context are scored in
// consecutive windows of sequence_len tokens; each window starts fresh (no context carried over), the
// usual trade-off of strided evaluation, stated here so numbers are not over-read.

import { readFileSync } from 'node:fs';
import { parse, str, out, emitJson, type FlagSpec } from '../cli/flags.js';
import { modelFlags, modelChoice } from '../cli/model-flags.js';
import { loadModelAndTokenizer } from '../checkpoint/load.js';
import { UserError } from '../common/errors.js';
import { perTokenLoss, bpbSums } from '../eval/bpb.js';
import type { GPT } from '../model/gpt.js';
import type { TextTokenizer } from '../tokenizer/types.js';
import {  } from '../eval/score.js';

const FLAGS: FlagSpec = {
  ...modelFlags('base'),
  text: { type: 'string', help: 'the text to score' },
  file: { type: 'string', help: 'a UTF-8 file to score' },
};

export interface ScoreResult {
  tokens: number;
  loss: number;
  bpb: number;
  perplexity: number;
}

async function scoreText(model: GPT, tok: TextTokenizer, text: string): Promise<ScoreResult> {
  const ids = [tok.bosId(), ...tok.encode(text)];
  if (ids.length < 2) throw new UserError('the text is empty: nothing to score');
  const T = model.config.sequenceLen;
  let nats = 0, bytes = 0, tokens = 0, natsAll = 0;
  for (let start = 0; start < ids.length - 1; start += T) {
    const window = ids.slice(start, start + T + 1);
    const n = window.length - 1;
    const inputs = Int32Array.from(window.slice(0, n)), targets = Int32Array.from(window.slice(1));
    const losses = await perTokenLoss(model, inputs, targets, 1, n);
    const s = bpbSums(losses, targets, tok.tokenBytes());
    nats += s.nats;
    bytes += s.bytes;
    for (let i = 0; i < n; i++) natsAll += losses[i];
    tokens += n;
  }
  const loss = natsAll / tokens;
  return { tokens, loss, bpb: bytes > 0 ? nats / (Math.LN2 * bytes) : NaN, perplexity: Math.exp(loss) };
}

export async function run(argv: string[]): Promise<number> {
  const p = parse('score', 'Loss, bits per byte and perplexity of a text under a checkpoint (BOS prepended).', FLAGS, argv);
  const text = str(p, 'text'), file = str(p, 'file');
  if ((text === undefined) === (file === undefined)) throw new UserError('give exactly one of --text or --file');
  let content = text;
  if (file !== undefined) {
    try {
      content = readFileSync(file, 'utf8');
    } catch (e) {
      throw new UserError(`cannot read --file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }
  const { model, tok, stage, tag, step } = loadModelAndTokenizer(modelChoice(p));
  const r = await scoreText(model, tok, content!);
  out(p)(`${stage}/${tag} step ${step}: ${r.tokens} tokens | loss ${r.loss.toFixed(4)} nats/token | ${r.bpb.toFixed(4)} bits/byte | perplexity ${r.perplexity.toFixed(2)}`);
  emitJson(p, { source: stage, tag, step, ...r });
  return 0;
}
