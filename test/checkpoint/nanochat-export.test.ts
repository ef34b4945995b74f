import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { saveCheckpoint, type CheckpointMeta } from '../../src/checkpoint/checkpoint.js';
import { exportToNanochat } from '../../src/checkpoint/nanochat-export.js';
import { loadNanochat } from '../../src/checkpoint/nanochat-import.js';
import { readNanochatTokenizer, nanochatTokenBytes } from '../../src/checkpoint/nanochat-tokenizer.js';
import { tokenizerIdentity } from '../../src/checkpoint/tokenizer-identity.js';
import { TorchFile } from '../../src/checkpoint/torch-pt.js';
import { UserError } from '../../src/common/errors.js';
import { GPT } from '../../src/model/gpt.js';
import { gaussianRng } from '../../src/tensor/random.js';
import { getBackend } from '../../src/tensor/backends.js';
import { saveTokenizer } from '../../src/tokenizer/io.js';
import { REFERENCE_PATTERNS } from '../../src/tokenizer/pattern.js';
import { COMMITTED, FIXTURE_SCRIPT, findTorchPython, maxLogitDiff, readExpected, runPython } from './nanochat-helpers.js';

const MAIN = fileURLToPath(new URL('../../src/main.js', import.meta.url));

/**
 * A base dir of ours holding an sft checkpoint d2 (every weight random, the padded embedding rows too, so
 * padding is visible) and the committed fixture's tokenizer. NANOCHAT_BASE_DIR points at it while fn runs.
 */
async function withOurCheckpoint<T>(fn: (base: string, model: GPT) => Promise<T> | T): Promise<T> {
  const base = mkdtempSync(join(tmpdir(), 'nanochat-export-'));
  const old = process.env.NANOCHAT_BASE_DIR;
  process.env.NANOCHAT_BASE_DIR = base;
  try {
    const tok = readNanochatTokenizer(join(COMMITTED, 'tokenizer'));
    saveTokenizer(tok);
    const model = new GPT({ vocabSize: tok.vocabSize, nLayer: 2, nHead: 4, nKvHead: 2, nEmbd: 16, sequenceLen: 16 });
    const randn = gaussianRng(3);
    for (const t of model.params.values()) {
      getBackend().write(t.data, Float32Array.from({ length: t.size }, () => 0.3 * randn()));
    }
    const meta: CheckpointMeta = {
      format: 1, stage: 'sft', step: 42, modelConfig: model.config, tokenizer: tokenizerIdentity(tok),
      args: { depth: 2 }, metrics: { val_bpb: 2.5 },
    };
    await saveCheckpoint(join(base, 'chatsft_checkpoints', 'd2'), model, meta);
    return await fn(base, model);
  } finally {
    if (old === undefined) delete process.env.NANOCHAT_BASE_DIR;
    else process.env.NANOCHAT_BASE_DIR = old;
  }
}

/** Every parameter of b equals a's bit for bit; `vocabRows`: only the first rows of wte and lm_head, the rest 0. */
function assertSameWeights(a: GPT, b: GPT, vocabRows?: number): void {
  for (const [name, t] of a.params) {
    const x = t.toArray(), y = b.param(name).toArray();
    if (vocabRows !== undefined && (name === 'transformer.wte.weight' || name === 'lm_head.weight')) {
      const n = vocabRows * t.shape[1];
      assert.deepEqual(y.subarray(0, n), x.subarray(0, n), name);
      assert.ok(y.subarray(n).every((v) => v === 0), `${name}: padded rows are not zero`);
    } else assert.deepEqual(y, x, name);
  }
}

test('export -> import is bit-exact: vocab_size rows (pad rows come back zero) or, with padVocab, every row', async () => {
  await withOurCheckpoint((base, model) => {
    for (const padVocab of [false, true]) {
      const out = mkdtempSync(join(tmpdir(), 'nanochat-out-'));
      const r = exportToNanochat({ stage: 'sft' }, out, { padVocab });
      assert.equal(r.tag, 'd2');
      assert.equal(r.step, 42);
      assert.deepEqual(r.files.map((f) => f.slice(out.length + 1)), [
        'tokenizer/tokenizer.pkl', 'tokenizer/token_bytes.pt',
        'chatsft_checkpoints/d2/model_000042.pt', 'chatsft_checkpoints/d2/meta_000042.json',
      ]);
      const meta = JSON.parse(readFileSync(join(out, 'chatsft_checkpoints', 'd2', 'meta_000042.json'), 'utf8'));
      assert.deepEqual(meta.model_config, {
        sequence_len: 16, vocab_size: 275, n_layer: 2, n_head: 4, n_kv_head: 2, n_embd: 16,
      });
      assert.equal(meta.step, 42);
      assert.equal(meta.val_bpb, 2.5);
      const f = new TorchFile(join(out, 'chatsft_checkpoints', 'd2', 'model_000042.pt'));
      assert.deepEqual(f.stateDict().get('lm_head.weight')?.shape, [padVocab ? 320 : 275, 16]);
      f.close();
      const back = loadNanochat(join(out, 'chatsft_checkpoints', 'd2'));
      assertSameWeights(model, back.model, padVocab ? undefined : 275);
      const original = readNanochatTokenizer(join(COMMITTED, 'tokenizer'));
      assert.equal(tokenizerIdentity(back.tok).hash, tokenizerIdentity(original).hash);
    }
  });
});

test('ZIP64 records: an export with them reads back the same (our reader; Python\'s zipfile where present)', async () => {
  await withOurCheckpoint((base, model) => {
    const out = mkdtempSync(join(tmpdir(), 'nanochat-zip64-'));
    exportToNanochat({ stage: 'sft' }, out, { zip64: true, padVocab: true });
    const pt = join(out, 'chatsft_checkpoints', 'd2', 'model_000042.pt');
    assertSameWeights(model, loadNanochat(join(out, 'chatsft_checkpoints', 'd2')).model);
    const py = spawnSync('python3', ['-c', [
      'import sys, zipfile',
      'z = zipfile.ZipFile(sys.argv[1])',
      'assert z.testzip() is None',  // every CRC checks
      'print(len(z.infolist()), all(i.file_size == len(z.read(i)) for i in z.infolist()))',
    ].join('\n'), pt], { encoding: 'utf8' });
    if (py.error) return;
    assert.equal(py.status, 0, py.stderr);
    assert.equal(py.stdout.trim(), `${2 + 14 + 1} True`); // data.pkl, byteorder, 14 storages, version
  });
});

test('`nanochat export --to nanochat DIR` writes the files and says so; --to is required', async () => {
  await withOurCheckpoint((base) => {
    const env = { ...process.env, NANOCHAT_BASE_DIR: base };
    const out = mkdtempSync(join(tmpdir(), 'nanochat-cli-out-'));
    const args = [MAIN, 'export', '--to', 'nanochat', out, '-i', 'sft', '--json'];
    const r = spawnSync(process.execPath, args, { env, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const res = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    assert.equal(res.files.length, 4);
    assert.match(r.stderr, /wrote .*model_000042\.pt/);
    const bad = spawnSync(process.execPath, [MAIN, 'export', out], { env, encoding: 'utf8' });
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /--to is required/);
  });
});

test('export refuses to replace a different tokenizer.pkl in the output folder unless forced', async () => {
  await withOurCheckpoint(() => {
    const out = mkdtempSync(join(tmpdir(), 'nanochat-tok-'));
    exportToNanochat({ stage: 'sft' }, out);
    exportToNanochat({ stage: 'sft' }, out); // the same tokenizer: fine
    const pkl = join(out, 'tokenizer', 'tokenizer.pkl');
    spawnSync('cp', [join(out, 'tokenizer', 'token_bytes.pt'), pkl]);
    assert.throws(() => exportToNanochat({ stage: 'sft' }, out),
      (e: Error) => e instanceof UserError && /already holds a different tokenizer/.test(e.message));
    exportToNanochat({ stage: 'sft' }, out, { force: true });
  });
});

// --- against PyTorch itself, where this machine has it (Debian's python3-torch) ---

const torchPython = findTorchPython();
const skipTorch = torchPython ? false : 'no python3 with torch (apt-get install python3-torch)';

test('PyTorch: a nanochat d2 just written (padded vocab, grouped-query heads) gives PyTorch\'s logits within 1e-4',
  { skip: skipTorch }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'nanochat-torch-'));
  runPython(torchPython!, [FIXTURE_SCRIPT, 'write', dir, '--n-layer', '2', '--n-embd', '32', '--n-head', '4',
    '--n-kv-head', '2', '--seq-len', '10', '--padded', '--seed', '1']);
  const { model, files } = loadNanochat(join(dir, 'chatsft_checkpoints', 'd2'));
  assert.equal(files.tag, 'd2');
  const diff = maxLogitDiff(model, readExpected(dir));
  assert.ok(diff < 1e-4, `max |ours - torch| = ${diff}`);
});

test('PyTorch: torch.load(weights_only=True) of our export gives our tensors, pickle.load of tokenizer.pkl our ranks',
  { skip: skipTorch }, async () => {
  await withOurCheckpoint((base, model) => {
    const out = mkdtempSync(join(tmpdir(), 'nanochat-torch-out-'));
    exportToNanochat({ stage: 'sft' }, out, { padVocab: true });
    const got = JSON.parse(runPython(torchPython!, [FIXTURE_SCRIPT, 'check', out])) as {
      models: Record<string, { type: string; tensors: Record<string, [number[], string, string]>; model_config: unknown }>;
      tokenizer: {
        class: string; name: string; pat_str: string; n_ranks: number; ranks_sha256: string;
        special_tokens: Record<string, number>; token_bytes: number[]; token_bytes_dtype: string;
      };
    };
    const m = got.models['chatsft_checkpoints/d2/model_000042.pt'];
    assert.equal(m.type, 'OrderedDict');
    assert.deepEqual(Object.keys(m.tensors), [...model.params.keys()]);
    for (const [name, t] of model.params) {
      const sha = createHash('sha256').update(t.toArray()).digest('hex');
      assert.deepEqual(m.tensors[name], [[...t.shape], 'torch.float32', sha], name);
    }
    const tok = readNanochatTokenizer(join(COMMITTED, 'tokenizer'));
    const h = createHash('sha256');
    for (const [b, r] of tok.ranks()) h.update(`${r}:${Buffer.from(b).toString('hex')};`);
    assert.equal(got.tokenizer.class, 'tiktoken.core.Encoding');
    assert.equal(got.tokenizer.pat_str, REFERENCE_PATTERNS['gpt4-digits2']);
    assert.equal(got.tokenizer.n_ranks, 266);
    assert.equal(got.tokenizer.ranks_sha256, h.digest('hex'));
    assert.deepEqual(got.tokenizer.special_tokens, Object.fromEntries(tok.specials));
    assert.equal(got.tokenizer.token_bytes_dtype, 'torch.int32');
    assert.deepEqual(got.tokenizer.token_bytes, [...nanochatTokenBytes(tok)]);
    // nanochat's count: a lone byte >= 0x80 decodes to U+FFFD (3 bytes), as the fixture's token_bytes.pt says
    assert.equal(got.tokenizer.token_bytes[0x80], 3);
  });
});

test('PyTorch: torch.load reads an export written with ZIP64 records', { skip: skipTorch }, async () => {
  await withOurCheckpoint(() => {
    const out = mkdtempSync(join(tmpdir(), 'nanochat-torch-zip64-'));
    exportToNanochat({ stage: 'sft' }, out, { zip64: true });
    const got = JSON.parse(runPython(torchPython!, [FIXTURE_SCRIPT, 'check', out]));
    assert.equal(Object.keys(got.models['chatsft_checkpoints/d2/model_000042.pt'].tensors).length, 14);
  });
});
