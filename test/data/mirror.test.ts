// The real registry against a folder mirror (NANOCHAT_DATA_MIRROR; CI sets it to ../shared/data),
// copied into a temp NANOCHAT_BASE_DIR: checksums, requireDataset/verifyDataset errors, and the CLI.
// Also registry sanity checks that need no data.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '../../src/common/errors.js';
import { downloadSets } from '../../src/data/download.js';
import { DATASETS, findDataset } from '../../src/data/registry.js';
import { requireDataset, verifyDataset } from '../../src/data/verify.js';

const mirror = process.env.NANOCHAT_DATA_MIRROR ? resolve(process.env.NANOCHAT_DATA_MIRROR) : undefined;
const skip = mirror && existsSync(mirror) ? false : 'NANOCHAT_DATA_MIRROR is not set (CI sets it to ../shared/data)';
const cli = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'main.js');
const base = mkdtempSync(join(tmpdir(), 'nanochat-base-'));
const savedBase = process.env.NANOCHAT_BASE_DIR;
process.env.NANOCHAT_BASE_DIR = base; // requireDataset/verifyDataset read $NANOCHAT_BASE_DIR/data
test.after(() => {
  rmSync(base, { recursive: true, force: true });
  if (savedBase === undefined) delete process.env.NANOCHAT_BASE_DIR;
  else process.env.NANOCHAT_BASE_DIR = savedBase;
});

const nanochat = (args: string[], env: Record<string, string | undefined> = {}) =>
  spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env: { ...process.env, NANOCHAT_BASE_DIR: base, ...env } });

test('registry: every set the pipeline uses, each with files, sizes and sha256, and an upstream rule for every file', () => {
  assert.deepEqual(DATASETS.map((d) => d.name).sort(), ['arc', 'core', 'english_words', 'gsm8k', 'humaneval', 'mmlu', 'pretrain_openstax', 'pretrain_web_samples', 'sft']);
  for (const d of DATASETS) {
    assert.ok(d.files.length > 0, d.name);
    for (const f of d.files) {
      assert.match(f.sha256, /^[0-9a-f]{64}$/);
      const up = d.upstream(f.path);
      if ('url' in up) assert.match(up.url, /^https:\/\/raw\.githubusercontent\.com\/[^/]+\/[^/]+\/[0-9a-f]{40}\//, `${d.name}/${f.path}`);
      else assert.ok(up.unavailable.length > 20, `${d.name}/${f.path} needs a reason`);
    }
  }
  assert.equal(findDataset('pretrain_openstax')!.files.filter((f) => f.path.endsWith('.jsonl.gz')).length, 25);
  assert.equal(findDataset('mmlu')!.files.length, 114);
  assert.deepEqual(findDataset('gsm8k')!.upstream('train.jsonl'), { url: 'https://raw.githubusercontent.com/openai/grade-school-math/3101c7d5072418e28b9008a6636bde82a006892c/grade_school_math/data/train.jsonl' });
});

test('requireDataset before a download: an error naming the file and the command that fixes it', () => {
  assert.throws(() => requireDataset('humaneval'), (e: unknown) => e instanceof UserError && /humaneval\/.* is missing\. Run `nanochat data download --only humaneval`/.test(e.message));
  assert.throws(() => requireDataset('nope'), /unknown data set 'nope'/);
});

test('folder mirror: copies small sets verified; requireDataset/verifyDataset; corruption is named', { skip }, async () => {
  const r = await downloadSets({ only: ['humaneval', 'english_words'], mirror, log: () => {} });
  assert.ok(r.sets.every((s) => s.complete), JSON.stringify(r.sets));
  const dir = requireDataset('humaneval');
  assert.equal(dir, join(base, 'data', 'humaneval'));
  assert.equal(await verifyDataset('english_words'), join(base, 'data', 'english_words'));
  // same size, one byte flipped: the quick check passes, the full check names the file
  const f = join(dir, 'HumanEval.jsonl.gz');
  const b = readFileSync(f); b[b.length - 10] ^= 1; writeFileSync(f, b);
  assert.equal(requireDataset('humaneval'), dir);
  await assert.rejects(verifyDataset('humaneval'), /HumanEval\.jsonl\.gz fails its sha256 check \(corrupt\)\. Run `nanochat data download --only humaneval`/);
  writeFileSync(f, b.subarray(0, 100));
  assert.throws(() => requireDataset('humaneval'), /HumanEval\.jsonl\.gz has the wrong size/);
  const again = await downloadSets({ only: ['humaneval'], mirror, log: () => {} });
  assert.deepEqual(again.sets[0].files.map((x) => x.result).sort(), ['downloaded', 'skipped']);
  await verifyDataset('humaneval');
});

test('CLI: `nanochat data download --only gsm8k --json`, then `data list --json`', { skip }, () => {
  const r = nanochat(['data', 'download', '--only', 'gsm8k', '--json'], { NANOCHAT_DATA_MIRROR: mirror });
  assert.equal(r.status, 0, r.stderr);
  const res = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
  assert.equal(res.source, `mirror folder ${mirror}`);
  assert.deepEqual(res.sets.map((s: { name: string; complete: boolean; downloaded: number }) => [s.name, s.complete, s.downloaded]), [['gsm8k', true, 3]]);
  const again = JSON.parse(nanochat(['data', 'download', '--only', 'gsm8k', '--json'], { NANOCHAT_DATA_MIRROR: mirror }).stdout.trim().split('\n').at(-1)!);
  assert.equal(again.sets[0].skipped, 3);
  const list = nanochat(['data', 'list', '--verify', '--json']);
  assert.equal(list.status, 0, list.stderr);
  const states = Object.fromEntries(JSON.parse(list.stdout.trim().split('\n').at(-1)!).sets.map((s: { name: string; state: string }) => [s.name, s.state]));
  assert.equal(states.gsm8k, 'complete');
  assert.equal(states.sft, 'missing');
  if (!skip) assert.equal(states.humaneval, 'complete'); // fetched and repaired by the previous test
});

test('CLI errors: unknown set and unknown verb are clear, without stack traces', () => {
  const r = nanochat(['data', 'download', '--only', 'gsm9k']);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /unknown data set 'gsm9k'\. Data sets: pretrain_openstax, /);
  const v = nanochat(['data', 'fetch']);
  assert.equal(v.status, 2);
  assert.match(v.stderr, /unknown verb 'fetch'/);
  for (const x of [r, v]) assert.doesNotMatch(x.stderr, /\n\s+at /);
});

test('CLI: a set without a usable upstream names the files and suggests NANOCHAT_DATA_MIRROR (no network used)', () => {
  // sft has no upstream conversion at all, so nothing is fetched and no host is contacted.
  const r = nanochat(['data', 'download', '--only', 'sft', '--json'], { NANOCHAT_DATA_MIRROR: '' });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /sft\/alpaca_eval_llama31_405b\.jsonl: no upstream we can fetch/);
  assert.match(r.stderr, /set NANOCHAT_DATA_MIRROR .* then run `nanochat data download --only sft`/);
  const res = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
  assert.equal(res.sets[0].complete, false);
  assert.equal(res.sets[0].unavailable.length, 9);
});
