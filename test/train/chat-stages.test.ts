// Proof that the chat stages learn, on tiny models and real data: SFT reproduces assistant turns and
// never trains on user tokens; midtraining lowers val bpb on held-out chat data.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GPT } from '../../src/model/gpt.js';
import { Optimizer } from '../../src/train/optimizer.js';
import { sftBatch } from '../../src/train/chat-data.js';
import { renderConversation, renderForCompletion, type Conversation } from '../../src/chat/render.js';
import { arena, hostData } from '../../src/tensor/tensor.js';
import { ByteTokenizer } from '../helpers/byte-tokenizer.js';

const tok = new ByteTokenizer();
const convs: Conversation[] = [
  { messages: [{ role: 'user', content: 'hi' }, { role: 'assistant', content: 'hello!' }] },
  { messages: [{ role: 'user', content: 'name?' }, { role: 'assistant', content: 'nanochat' }] },
  { messages: [{ role: 'user', content: '2+2' }, { role: 'assistant', content: [{ type: 'python', text: '2+2' }, { type: 'python_output', text: '4' }, { type: 'text', text: ' #### 4' }] }] },
  { messages: [{ role: 'system', content: 'be brief' }, { role: 'user', content: 'bye' }, { role: 'assistant', content: 'ciao' }] },
];

test('SFT targets: only assistant tokens are trained; masked positions get exactly zero gradient', () => {
  const model = new GPT({ vocabSize: tok.vocabSize, nLayer: 1, nHead: 2, nKvHead: 2, nEmbd: 32, sequenceLen: 64 });
  model.initWeights(1);
  hostData(model.param('lm_head.weight').data).forEach((_, i, d) => { d[i] = Math.sin(i) * 0.1; });
  const b = sftBatch(tok, convs, 64);
  // the loss is fused with the soft-cap, so the per-position gradient lands on the raw head output
  const { rawLogits, loss } = model.forward(b.inputs, b.B!, b.T!, b.targets);
  loss!.backward();
  const g = hostData(rawLogits!.grad!), Vp = model.vocabPadded;
  let trained = 0;
  for (let r = 0; r < b.targets.length; r++) {
    let norm = 0;
    for (let j = 0; j < Vp; j++) norm += g[r * Vp + j] ** 2;
    if (b.targets[r] === -1) assert.equal(norm, 0, `position ${r} is masked but has gradient`);
    else { assert.ok(norm > 0, `position ${r} is a target but has no gradient`); trained++; }
  }
  // every target is an assistant token per the render mask: count them independently
  const expected = convs.reduce((a, c) => { const { mask } = renderConversation(tok, c); return a + mask.slice(1).filter((m) => m === 1).length; }, 0);
  assert.equal(trained, expected);
  arena.reset();
});

test('SFT on a handful of conversations: the model then reproduces the assistant turns', async () => {
  const model = new GPT({ vocabSize: tok.vocabSize, nLayer: 2, nHead: 2, nKvHead: 2, nEmbd: 64, sequenceLen: 64 });
  model.initWeights(2);
  const opt = new Optimizer(model.paramGroups({ embedding: 0.05, unembedding: 0.01, matrix: 0.02 }));
  for (let step = 0; step < 250; step++) {
    const b = sftBatch(tok, convs, 64);
    model.forward(b.inputs, b.B!, b.T!, b.targets).loss!.backward();
    opt.stepAll();
    opt.zeroGrad();
    arena.reset();
  }
  for (const c of [convs[0], convs[1], convs[3]]) {
    const prompt = renderForCompletion(tok, c);
    const want = c.messages[c.messages.length - 1].content as string;
    const got = await greedyFrom(model, prompt, want.length + 1);
    assert.equal(got, want + '<end>', `completion of ${JSON.stringify(c.messages.at(-2)!.content)}`);
  }
});

/** Greedy decode from token ids; <|assistant_end|> shown as <end>. */
async function greedyFrom(model: GPT, prompt: number[], n: number): Promise<string> {
  const cache = model.newCache(1, prompt.length + n);
  let logits = await model.forwardCached(Int32Array.from(prompt), 1, prompt.length, cache);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let j = 1; j < tok.vocabSize; j++) if (logits[j] > logits[best]) best = j;
    out.push(best);
    if (best === tok.specialId('<|assistant_end|>')) break;
    logits = await model.forwardCached(Int32Array.of(best), 1, 1, cache);
  }
  return tok.decode(out.filter((t) => t < 256)) + (out.at(-1) === tok.specialId('<|assistant_end|>') ? '<end>' : '');
}

const mirror = process.env.NANOCHAT_DATA_MIRROR;
const cli = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'main.js');

test('mid-train lowers val bpb on held-out chat data (CLI, real tokenizer, real data)', { skip: !mirror && 'NANOCHAT_DATA_MIRROR is not set' }, () => {
  const base = mkdtempSync(join(tmpdir(), 'nanochat-mid-'));
  const env = { ...process.env, NANOCHAT_BASE_DIR: base };
  const run = (...args: string[]) => {
    const r = spawnSync(process.execPath, [cli, ...args, '--json'], { env, encoding: 'utf8' });
    assert.equal(r.status, 0, `nanochat ${args.join(' ')} failed:\n${r.stderr.slice(-2000)}`);
    return JSON.parse(r.stdout.trim().split('\n').pop()!);
  };
  run('data', 'download', '--only', 'sft', '--only', 'gsm8k', '--only', 'mmlu', '--only', 'arc', '--only', 'english_words', '--only', 'pretrain_web_samples');
  run('tok-train', '--vocab-size', '512', '--max-chars', '400000', '--data-dir', join(base, 'data', 'pretrain_web_samples'));
  // a base model that has seen a little text
  const shards = join(base, 'shards');
  mkdirSync(shards);
  writeFileSync(join(shards, 'a.jsonl'), Array.from({ length: 50 }, (_, i) => JSON.stringify({ text: `Document ${i}: the quick brown fox jumps over the lazy dog ${i} times.` })).join('\n'));
  writeFileSync(join(shards, 'b.jsonl'), Array.from({ length: 40 }, (_, i) => JSON.stringify({ text: `The lazy dog sleeps ${i} hours, and the fox runs away.` })).join('\n'));
  run('base-train', '--depth', '1', '--head-dim', '32', '--max-seq-len', '128', '--device-batch-size', '4', '--total-batch-size', '512',
    '--num-iterations', '5', '--eval-every', '0', '--eval-tokens', '512', '--sample-every', '0', '--data-dir', shards);
  const mid = run('mid-train', '--max-conversations', '400', '--num-iterations', '30', '--eval-every', '0', '--eval-tokens', '8192');
  assert.ok(mid.finalValBpb < mid.firstValBpb - 0.2, `val bpb on held-out chat data should fall: ${mid.firstValBpb} -> ${mid.finalValBpb}`);
  const sft = run('chat-sft', '--max-conversations', '64', '--examples-per-step', '8', '--eval-every', '0', '--eval-conversations', '16', '--eval-metrics-max-problems', '8');
  assert.equal(sft.iterations, 8);
  assert.ok(Number.isFinite(sft.finalValLoss));
});
