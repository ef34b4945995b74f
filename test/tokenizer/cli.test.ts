// The tokenizer commands as a user runs them: child processes of the built CLI.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { get_encoding } from 'tiktoken';
import { ADVERSARIAL } from './helpers.js';

const cli = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'main.js');
const base = mkdtempSync(join(tmpdir(), 'nanochat-tok-cli-'));
const nanochat = (args: string[], input?: string | Buffer) =>
  spawnSync(process.execPath, [cli, ...args], { input, env: { ...process.env, NANOCHAT_BASE_DIR: base }, maxBuffer: 1 << 26 });

test('tok-encode with cl100k_base and gpt2 prints tiktoken\'s ids; --decode gives the bytes back', () => {
  const text = ADVERSARIAL.slice(0, 20).join('\n');
  for (const name of ['cl100k_base', 'gpt2'] as const) {
    const r = nanochat(['tok-encode', '--tokenizer', name], text);
    assert.equal(r.status, 0, r.stderr.toString());
    const ids = JSON.parse(r.stdout.toString()) as number[];
    const enc = get_encoding(name);
    assert.deepEqual(ids, [...enc.encode_ordinary(text)]);
    enc.free();
    const back = nanochat(['tok-encode', '--tokenizer', name, '--decode'], JSON.stringify(ids));
    assert.equal(back.status, 0);
    assert.ok(back.stdout.equals(Buffer.from((text as unknown as { toWellFormed(): string }).toWellFormed())));
  }
});

test('tok-encode without a trained tokenizer: clear error naming tok-train, no stack trace', () => {
  const r = nanochat(['tok-encode'], 'hi');
  assert.equal(r.status, 1);
  assert.match(r.stderr.toString(), /run `nanochat tok-train`/);
  assert.doesNotMatch(r.stderr.toString(), /\n\s+at /);
});

test('tok-train on a small shard folder, then tok-encode with it (--json results)', () => {
  const data = join(base, 'shards');
  mkdirSync(data, { recursive: true });
  const texts = Array.from({ length: 200 }, (_, i) => `Document ${i}: the quick brown fox jumps over the lazy dog ${i * 7}. ${ADVERSARIAL[i % ADVERSARIAL.length]}`);
  const docs = texts.map((text) => JSON.stringify({ text }));
  writeFileSync(join(data, 'a.jsonl.gz'), gzipSync(docs.join('\n') + '\n'));
  writeFileSync(join(data, 'b.jsonl'), JSON.stringify({ text: 'validation only' }) + '\n');
  const r = nanochat(['tok-train', '--vocab-size', '400', '--data-dir', data, '--json']);
  assert.equal(r.status, 0, r.stderr.toString());
  const lines = r.stdout.toString().trim().split('\n');
  const res = JSON.parse(lines[lines.length - 1]);
  assert.equal(res.vocabSize, 400);
  // validation is not used: the last shard, and the 5% of documents held out by the sha256 of their text
  const trained = texts.filter((t) => createHash('sha256').update(t).digest().readUInt32BE(0) % 100 >= 5).length;
  assert.ok(trained < 200);
  assert.equal(res.documents, trained);
  assert.ok(existsSync(join(base, 'tokenizer', 'tokenizer.tiktoken')));
  assert.match(readFileSync(join(base, 'report', 'tokenizer-training.md'), 'utf8'), /## Tokenizer training[\s\S]*token bytes mean/);
  const enc = nanochat(['tok-encode', '--json'], 'the quick brown fox');
  assert.equal(enc.status, 0, enc.stderr.toString());
  const out = JSON.parse(enc.stdout.toString().trim().split('\n').pop()!);
  assert.ok(out.tokens > 0 && out.tokens < 19 && out.ids.every((id: number) => id < 391));
  const bad = nanochat(['tok-train', '--vocab-size', '100', '--data-dir', data]);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr.toString(), /--vocab-size must be at least 265/);
});

test('tok-eval: both comparison tables and the report section', () => {
  const data = join(base, 'shards');
  if (!existsSync(join(base, 'tokenizer', 'tokenizer.tiktoken'))) return; // trained by the previous test
  const r = nanochat(['tok-eval', '--data-dir', data, '--eval-chars', '5000', '--json']);
  assert.equal(r.status, 0, r.stderr.toString());
  const res = JSON.parse(r.stdout.toString().trim().split('\n').pop()!);
  assert.deepEqual(res.rows.map((x: { name: string }) => x.name), ['news', 'korean', 'code', 'math', 'science', 'train', 'val', 'val (b)']);
  for (const row of res.rows) assert.ok(row.tokens.ours > 0 && row.tokens.gpt2 > 0 && row.tokens.gpt4 > 0 && row.bytesPerToken.gpt4 > 1);
  const md = readFileSync(join(base, 'report', 'tokenizer-evaluation.md'), 'utf8');
  assert.match(md, /### Comparison with GPT-2[\s\S]*Relative Diff %[\s\S]*### Comparison with GPT-4/);
  assert.match(r.stderr.toString(), /Comparison with GPT-4/);
});

test('tok-encode on a corrupt tokenizer file names the fix', () => {
  const dir = join(base, 'tokenizer');
  if (!existsSync(join(dir, 'tokenizer.tiktoken'))) return; // trained by the previous test
  writeFileSync(join(dir, 'tokenizer.tiktoken'), 'garbage\n');
  const r = nanochat(['tok-encode'], 'hi');
  assert.equal(r.status, 1);
  assert.match(r.stderr.toString(), /corrupt.*run `nanochat tok-train`/);
});
