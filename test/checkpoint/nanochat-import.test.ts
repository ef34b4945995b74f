import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadNanochat } from '../../src/checkpoint/nanochat-import.js';
import { loadModelAndTokenizer } from '../../src/checkpoint/load.js';
import { pickle } from '../../src/checkpoint/pickle-writer.js';
import { TorchFile, torchSaveParts, type TorchOut } from '../../src/checkpoint/torch-pt.js';
import { zipParts } from '../../src/checkpoint/torch-zip.js';
import { UserError } from '../../src/common/errors.js';
import { COMMITTED, COMMITTED_CHECKPOINT, logitsOf, maxLogitDiff, readExpected } from './nanochat-helpers.js';

const MAIN = fileURLToPath(new URL('../../src/main.js', import.meta.url));
const MODEL = 'model_000005.pt', META = 'meta_000005.json';

/** A writable copy of the committed fixture (a nanochat base dir); returns its checkpoint folder. */
function copyFixture(): { base: string; ck: string } {
  const base = mkdtempSync(join(tmpdir(), 'nanochat-fixture-'));
  cpSync(COMMITTED, base, { recursive: true });
  return { base, ck: join(base, 'chatsft_checkpoints', 'd1') };
}

/** The committed state dict as float32 tensors under the file's own keys, in its order. */
function committedTensors(): Map<string, TorchOut> {
  const f = new TorchFile(join(COMMITTED_CHECKPOINT, MODEL));
  try {
    return new Map([...f.stateDict()].map(([k, t]) => [k, { dtype: 'float32', shape: t.shape, data: f.readFloat32(k, t) }]));
  } finally {
    f.close();
  }
}

const userError = (re: RegExp) => (e: Error) => {
  assert.ok(e instanceof UserError, `not a UserError: ${e.stack}`);
  assert.match(e.message, re);
  assert.ok(!e.message.includes('\n'), `more than one line: ${e.message}`);
  return true;
};

test('the committed nanochat checkpoint loads: its bf16, f16 and f32 tensors, and PyTorch\'s logits within 1e-4', () => {
  const f = new TorchFile(join(COMMITTED_CHECKPOINT, MODEL));
  const sd = f.stateDict();
  f.close();
  assert.equal(sd.get('_orig_mod.transformer.wte.weight')?.dtype, 'bfloat16');
  assert.equal(sd.get('_orig_mod.transformer.h.0.mlp.c_fc.weight')?.dtype, 'float16');
  assert.equal(sd.get('_orig_mod.lm_head.weight')?.dtype, 'float32');
  assert.deepEqual(sd.get('_orig_mod.lm_head.weight')?.shape, [275, 8]); // unpadded: vocab_size rows

  const { model, tok, meta, files } = loadNanochat(COMMITTED_CHECKPOINT);
  assert.equal(files.step, 5);
  assert.equal(files.stage, 'sft');
  assert.equal(files.tag, 'd1');
  assert.equal(files.tokenizerDir, join(COMMITTED, 'tokenizer')); // nanochat's layout: <base>/tokenizer
  assert.deepEqual(meta.modelConfig, { vocabSize: 275, nLayer: 1, nHead: 2, nKvHead: 1, nEmbd: 8, sequenceLen: 8 });
  assert.equal(meta.metrics?.val_bpb, 1.25);
  assert.equal(tok.vocabSize, 275);
  const expected = readExpected(COMMITTED);
  const diff = maxLogitDiff(model, expected);
  assert.ok(diff < 1e-4, `max |ours - torch| = ${diff}`);
  // the rows we padded (275 -> 320) are zero
  const wte = model.param('transformer.wte.weight').toArray();
  assert.ok(wte.subarray(275 * 8).every((x) => x === 0));
});

test('the imported tokenizer gives the ids its ranks imply, with nanochat\'s special tokens', () => {
  const { tok } = loadNanochat(COMMITTED_CHECKPOINT);
  // ranks: bytes 0-255, then th 256, the 257, " t" 258, " the" 259, at 260, " c" 261, " cat" 262, in 263, ing 264, 12 265
  assert.deepEqual(tok.encode('the cat'), [257, 262]);
  assert.deepEqual(tok.encode(' the thing'), [259, 32, 256, 264]); // " thing": th (256) first, then in, then ing
  assert.deepEqual(tok.encode('2012'), [50, 48, 265]); // digits split in pairs: "20", "12"
  assert.deepEqual(tok.encode('é'), [195, 169]);
  assert.equal(tok.bosId(), 266);
  assert.equal(tok.specialId('<|assistant_end|>'), 270);
  assert.deepEqual(tok.encodeWithSpecials('<|user_start|>hi<|user_end|>'), [267, 104, 105, 268]);
  assert.equal(tok.decode([257, 262]), 'the cat');
});

test('loadModelAndTokenizer reads a nanochat folder directly, as nanochat:DIR or a path', () => {
  for (const source of [`nanochat:${COMMITTED_CHECKPOINT}`, COMMITTED_CHECKPOINT]) {
    const c = loadModelAndTokenizer({ source });
    assert.equal(c.stage, 'sft');
    assert.equal(c.modelId, 'nanochat:d1@5');
    assert.ok(maxLogitDiff(c.model, readExpected(COMMITTED)) < 1e-4);
  }
  assert.throws(() => loadModelAndTokenizer({ source: `nanochat:${COMMITTED_CHECKPOINT}`, step: 7 }),
    userError(/no model_000007\.pt; its steps: 5/));
  assert.throws(() => loadModelAndTokenizer({ source: 'nope' }), userError(/unknown source 'nope'.*nanochat:DIR/));
});

test('`nanochat import` writes our checkpoint and tokenizer; every command then loads it with the same logits', () => {
  const base = mkdtempSync(join(tmpdir(), 'nanochat-import-'));
  const env = { ...process.env, NANOCHAT_BASE_DIR: base };
  const r = spawnSync(process.execPath, [MAIN, 'import', COMMITTED_CHECKPOINT, '--json'], { env, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const res = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
  assert.equal(res.stage, 'sft');
  assert.equal(res.tag, 'd1');
  assert.ok(existsSync(join(base, 'chatsft_checkpoints', 'd1', 'model_000005.safetensors')));
  assert.ok(existsSync(join(base, 'tokenizer', 'tokenizer.json')));
  const old = process.env.NANOCHAT_BASE_DIR;
  process.env.NANOCHAT_BASE_DIR = base;
  try {
    const ours = loadModelAndTokenizer({ source: 'sft', tag: 'd1' });
    const direct = loadNanochat(COMMITTED_CHECKPOINT).model;
    const ids = readExpected(COMMITTED).ids;
    assert.deepEqual(logitsOf(ours.model, ids), logitsOf(direct, ids));
    assert.deepEqual(ours.tok.encode('the cat'), [257, 262]);
  } finally {
    if (old === undefined) delete process.env.NANOCHAT_BASE_DIR;
    else process.env.NANOCHAT_BASE_DIR = old;
  }
  // a second import refuses to overwrite; --out puts it elsewhere
  const again = spawnSync(process.execPath, [MAIN, 'import', COMMITTED_CHECKPOINT], { env, encoding: 'utf8' });
  assert.equal(again.status, 1);
  assert.match(again.stderr, /already has a checkpoint at step 5/);
  const other = spawnSync(process.execPath, [MAIN, 'import', COMMITTED_CHECKPOINT, '--out', 'base/imported'],
    { env, encoding: 'utf8' });
  assert.equal(other.status, 0, other.stderr);
  assert.ok(existsSync(join(base, 'base_checkpoints', 'imported', 'model_000005.safetensors')));
  // chat answers from the nanochat folder directly (no import): two greedy tokens
  const chatArgs = [MAIN, 'chat', '-i', `nanochat:${COMMITTED_CHECKPOINT}`, '-p', 'hi', '-t', '0', '--max-tokens', '2', '--json'];
  const chat = spawnSync(process.execPath, chatArgs, { env, encoding: 'utf8' });
  assert.equal(chat.status, 0, chat.stderr);
});

test('a state dict missing a key, with a mis-shaped key or an extra key: a UserError naming the key and the shapes', () => {
  const { ck } = copyFixture();
  const write = (tensors: Map<string, TorchOut>) =>
    writeFileSync(join(ck, MODEL), Buffer.concat(torchSaveParts('model_000005', tensors)));
  const all = committedTensors();

  const missing = new Map(all);
  missing.delete('_orig_mod.transformer.h.0.attn.c_k.weight');
  write(missing);
  assert.throws(() => loadNanochat(ck), userError(/has no tensor 'transformer\.h\.0\.attn\.c_k\.weight'.*n_layer=1/));

  const misshaped = new Map(all);
  const fc = '_orig_mod.transformer.h.0.mlp.c_fc.weight';
  misshaped.set(fc, { dtype: 'float32', shape: [31, 8], data: new Float32Array(31 * 8) });
  write(misshaped);
  assert.throws(() => loadNanochat(ck), userError(/'transformer\.h\.0\.mlp\.c_fc\.weight' is \[31, 8\] but .* needs \[32, 8\]/));

  const vocab = new Map(all);
  vocab.set('_orig_mod.lm_head.weight', { dtype: 'float32', shape: [300, 8], data: new Float32Array(300 * 8) });
  write(vocab);
  assert.throws(() => loadNanochat(ck), userError(/'lm_head\.weight' is \[300, 8\] .* needs \[275, 8\] or \[320, 8\]/));

  const extra = new Map(all);
  extra.set('_orig_mod.transformer.h.0.attn.ve_gate.weight', { dtype: 'float32', shape: [2, 2], data: new Float32Array(4) });
  write(extra);
  assert.throws(() => loadNanochat(ck), userError(/classic GPT does not \(transformer\.h\.0\.attn\.ve_gate\.weight\)/));

  // padded rows (nanochat versions that pad the vocabulary to 64) load as they are
  const padded = new Map(all);
  for (const k of ['_orig_mod.transformer.wte.weight', '_orig_mod.lm_head.weight']) {
    const data = new Float32Array(320 * 8);
    data.set(all.get(k)!.data);
    padded.set(k, { dtype: 'float32', shape: [320, 8], data });
  }
  write(padded);
  assert.ok(maxLogitDiff(loadNanochat(ck).model, readExpected(COMMITTED)) < 1e-4);
});

test('a truncated or damaged .pt is a UserError saying so', () => {
  const { ck } = copyFixture();
  const path = join(ck, MODEL);
  const size = statSync(path).size;
  truncateSync(path, Math.floor(size / 2));
  assert.throws(() => loadNanochat(ck), userError(/not a complete zip archive \(no end-of-central-directory record\).*truncated/));
  truncateSync(path, 0);
  assert.throws(() => loadNanochat(ck), userError(/not a complete zip archive/));
  // a storage shorter than its tensor
  const tensors = committedTensors();
  const parts = torchSaveParts('model_000005', tensors);
  const whole = Buffer.concat(parts);
  writeFileSync(path, whole);
  assert.ok(loadNanochat(ck));
  const short = zipParts([
    { name: 'model_000005/data.pkl', parts: [new TorchFileBytes(path).dataPkl()] },
    { name: 'model_000005/data/0', parts: [new Uint8Array(10)] },
    { name: 'model_000005/version', parts: [Buffer.from('3\n')] },
  ]);
  writeFileSync(path, Buffer.concat(short));
  assert.throws(() => loadNanochat(ck), userError(/storage model_000005\/data\/0 has 10 bytes.*truncated or corrupt/));
});

/** the data.pkl of a .pt we wrote, via a plain zip read */
class TorchFileBytes {
  constructor(readonly path: string) {}
  dataPkl(): Uint8Array {
    const buf = readFileSync(this.path);
    // our writer puts data.pkl first: local header (30) + name + extra, then the pickle up to its STOP
    const nameLen = buf.readUInt16LE(26), extraLen = buf.readUInt16LE(28), size = buf.readUInt32LE(18);
    return buf.subarray(30 + nameLen + extraLen, 30 + nameLen + extraLen + size);
  }
}

test('a .pt whose data.pkl calls os.system is refused, and the command is never run', () => {
  const { base, ck } = copyFixture();
  const marker = join(base, 'pwned');
  const payload = pickle({ call: 'os.system', args: [`touch ${marker}`] }, 2);
  writeFileSync(join(ck, MODEL), Buffer.concat(zipParts([
    { name: 'model_000005/data.pkl', parts: [payload] },
    { name: 'model_000005/version', parts: [Buffer.from('3\n')] },
  ])));
  assert.throws(() => loadNanochat(ck), userError(/refusing to load it: its pickle asks for the Python global os\.system/));
  assert.equal(existsSync(marker), false);
  // the same in tokenizer.pkl
  const evil = pickle({ call: 'builtins.eval', args: [`__import__('os').system('touch ${marker}')`] }, 2);
  writeFileSync(join(base, 'tokenizer', 'tokenizer.pkl'), evil);
  cpSync(join(COMMITTED_CHECKPOINT, MODEL), join(ck, MODEL));
  assert.throws(() => loadNanochat(ck), userError(/tokenizer\.pkl: refusing to load it: .*builtins\.eval/));
  assert.equal(existsSync(marker), false);
});

test('meta and tokenizer problems: a later architecture, a vocabulary mismatch, another split pattern, no tokenizer', () => {
  const { base, ck } = copyFixture();
  const meta = JSON.parse(readFileSync(join(ck, META), 'utf8'));
  writeFileSync(join(ck, META), JSON.stringify({ ...meta, model_config: { ...meta.model_config, window_pattern: 'SSSL' } }));
  assert.throws(() => loadNanochat(ck), userError(/model_config has window_pattern.*later nanochat architecture/));
  writeFileSync(join(ck, META), JSON.stringify({ ...meta, model_config: { ...meta.model_config, vocab_size: 300 } }));
  assert.throws(() => loadNanochat(ck), userError(/has 275 ids but .* says vocab_size 300/));
  writeFileSync(join(ck, META), JSON.stringify(meta));

  const pklPath = join(base, 'tokenizer', 'tokenizer.pkl');
  const pkl = readFileSync(pklPath);
  const pat = Buffer.from('\\p{N}{1,2}');
  const at = pkl.indexOf(pat);
  const other = Buffer.from(pkl);
  other.write('\\p{N}{1,3}', at, 'latin1'); // GPT-4's own digit groups: the same length, another split
  writeFileSync(pklPath, other);
  assert.throws(() => loadNanochat(ck), userError(/splits text with the pattern .*1,3.* refused/));
  writeFileSync(pklPath, pkl);

  const tb = join(base, 'tokenizer', 'token_bytes.pt');
  const ones = new Int32Array(275).fill(1);
  writeFileSync(tb, Buffer.concat(torchSaveParts('token_bytes', { dtype: 'int32', shape: [275], data: ones })));
  assert.throws(() => loadNanochat(ck), userError(/token_bytes\.pt disagrees with tokenizer\.pkl/));

  rmSync(join(base, 'tokenizer'), { recursive: true });
  assert.throws(() => loadNanochat(ck), userError(/no nanochat tokenizer\.pkl for .*looked in/));
  assert.ok(loadNanochat(ck, { tokenizerDir: join(COMMITTED, 'tokenizer') }));
});
