// Downloads over HTTP, from a real node:http server on 127.0.0.1 (never the real upstream hosts):
// an HTTP mirror, retries, checksum failures, skip-if-complete, upstream-shaped files with their
// conversions (served through NANOCHAT_UPSTREAM_OVERRIDE's mechanism), and kill safety.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync, gunzipSync } from 'node:zlib';
import { downloadSets, overrideUrl, type DownloadOptions } from '../../src/data/download.js';
import { fixtureSet, makeZip, sha256, startServer, type FixtureServer } from './helpers.js';

const fast = { attempts: 4, baseDelayMs: 20, maxDelayMs: 100, idleTimeoutMs: 2000 };
const tmpRoot = () => mkdtempSync(join(tmpdir(), 'nanochat-dl-'));
const roots: string[] = [];
let server: FixtureServer;
test.before(async () => { server = await startServer(); });
test.after(async () => { await server.close(); for (const r of roots) rmSync(r, { recursive: true, force: true }); });

const newRoot = () => { const r = tmpRoot(); roots.push(r); return r; };
const quiet: Pick<DownloadOptions, 'retry' | 'log'> = { retry: fast, log: () => {} };

// A fixture tree like the data folder: two sets, nested paths, a .gz file.
const alpha = { 'train.jsonl': Buffer.from('{"question": "1+1?", "answer": "#### 2"}\n'.repeat(300)), 'LICENSE': Buffer.from('MIT\n') };
const beta = { 'dev/a b.csv': Buffer.from('q,a\n1,2\n'), 'data.jsonl.gz': gzipSync('{"text": "hello"}\n'.repeat(50)) };
const sets = [fixtureSet('alpha', alpha), fixtureSet('beta', beta)];
function serveMirror(prefix: string, tree: Record<string, Record<string, Buffer>>): string {
  for (const [set, files] of Object.entries(tree)) for (const [p, b] of Object.entries(files)) server.routes.set(`/${prefix}/${set}/${p}`, b);
  return `${server.url}/${prefix}`;
}

test('HTTP mirror: every file of the chosen sets lands verified under <root>/<set>/<path>', async () => {
  const mirror = serveMirror('m1', { alpha, beta });
  const root = newRoot();
  const progress: number[] = [];
  const r = await downloadSets({ sets, root, mirror, ...quiet, onProgress: (d) => progress.push(d) });
  assert.equal(r.source, `mirror ${mirror}`);
  assert.ok(r.sets.every((s) => s.complete));
  for (const [p, b] of Object.entries({ ...alpha })) assert.deepEqual(readFileSync(join(root, 'alpha', p)), b);
  assert.deepEqual(readFileSync(join(root, 'beta', 'dev', 'a b.csv')), beta['dev/a b.csv']);
  assert.equal(r.bytesDownloaded, [...Object.values(alpha), ...Object.values(beta)].reduce((s, b) => s + b.length, 0));
  assert.equal(progress.at(-1), r.bytesDownloaded);
  // --only: just one set
  const root2 = newRoot();
  const r2 = await downloadSets({ sets, root: root2, mirror, only: ['beta'], ...quiet });
  assert.deepEqual(r2.sets.map((s) => s.name), ['beta']);
  assert.ok(!existsSync(join(root2, 'alpha')));
  await assert.rejects(downloadSets({ sets, root: root2, mirror, only: ['gamma'], ...quiet }), /unknown data set\(s\): gamma/);
});

test('skip if complete: a second run fetches nothing; a corrupted local file is fetched again', async () => {
  const mirror = serveMirror('m2', { alpha });
  const root = newRoot();
  await downloadSets({ sets, root, mirror, only: ['alpha'], ...quiet });
  const before = server.hits.get('/m2/alpha/train.jsonl');
  const again = await downloadSets({ sets, root, mirror, only: ['alpha'], ...quiet });
  assert.ok(again.sets[0].files.every((f) => f.result === 'skipped'));
  assert.equal(again.bytesDownloaded, 0);
  assert.equal(server.hits.get('/m2/alpha/train.jsonl'), before);
  // flip one byte without changing the size: the sha256 check catches it
  const f = join(root, 'alpha', 'train.jsonl');
  const b = readFileSync(f); b[10] ^= 1;
  (await import('node:fs')).writeFileSync(f, b);
  const third = await downloadSets({ sets, root, mirror, only: ['alpha'], ...quiet });
  assert.deepEqual(third.sets[0].files.map((x) => x.result).sort(), ['downloaded', 'skipped']);
  assert.deepEqual(readFileSync(f), alpha['train.jsonl']);
});

test('retry with backoff: a route that fails twice (503, then a dropped connection) then succeeds', async () => {
  const body = alpha['train.jsonl'];
  server.routes.set('/m3/alpha/train.jsonl', (res, hit) => {
    if (hit === 1) { res.writeHead(503).end(); return; }
    if (hit === 2) { res.writeHead(200, { 'content-length': body.length }); res.write(body.subarray(0, 100)); res.destroy(); return; }
    res.writeHead(200, { 'content-length': body.length }).end(body);
  });
  server.routes.set('/m3/alpha/LICENSE', alpha.LICENSE);
  const logs: string[] = [];
  const root = newRoot();
  const r = await downloadSets({ sets, root, mirror: `${server.url}/m3`, only: ['alpha'], retry: fast, log: (s) => logs.push(s) });
  assert.ok(r.sets[0].complete, JSON.stringify(r.sets[0].files));
  assert.equal(server.hits.get('/m3/alpha/train.jsonl'), 3);
  assert.equal(logs.filter((l) => /retry \d of 3/.test(l)).length, 2, logs.join('\n'));
  assert.deepEqual(readFileSync(join(root, 'alpha', 'train.jsonl')), body);
});

test('bounded retries; 404 is not retried; a stalled transfer times out and is retried', async () => {
  server.routes.set('/m4/alpha/train.jsonl', { status: 500 });
  const root = newRoot();
  const r = await downloadSets({ sets, root, mirror: `${server.url}/m4`, only: ['alpha'], ...quiet });
  const files = Object.fromEntries(r.sets[0].files.map((f) => [f.path, f]));
  assert.equal(files['train.jsonl'].result, 'failed');
  assert.equal(server.hits.get('/m4/alpha/train.jsonl'), fast.attempts);
  assert.equal(files.LICENSE.result, 'failed');
  assert.match((files.LICENSE as { error: string }).error, /HTTP 404/);
  assert.equal(server.hits.get('/m4/alpha/LICENSE'), 1);
  assert.deepEqual(readdirSync(join(root, 'alpha')), []); // nothing under the final names, no temp files

  const body = alpha['train.jsonl'];
  server.routes.set('/m5/alpha/train.jsonl', (res, hit) => {
    res.writeHead(200, { 'content-length': body.length });
    if (hit === 1) res.write(body.subarray(0, 50)); // ...and then nothing: a stall
    else res.end(body);
  });
  server.routes.set('/m5/alpha/LICENSE', alpha.LICENSE);
  const r2 = await downloadSets({ sets, root, mirror: `${server.url}/m5`, only: ['alpha'], retry: { ...fast, idleTimeoutMs: 300 }, log: () => {} });
  assert.ok(r2.sets[0].complete);
});

test('a corrupt source file fails its checksum: clear error, nothing under the final name', async () => {
  const bad = Buffer.from(alpha['train.jsonl']); bad[5] ^= 0xff;
  server.routes.set('/m6/alpha/train.jsonl', bad);
  server.routes.set('/m6/alpha/LICENSE', Buffer.from('MIT, but longer\n'));
  const root = newRoot();
  const r = await downloadSets({ sets, root, mirror: `${server.url}/m6`, only: ['alpha'], ...quiet });
  const files = Object.fromEntries(r.sets[0].files.map((f) => [f.path, f]));
  assert.equal(r.sets[0].complete, false);
  assert.match((files['train.jsonl'] as { error: string }).error, new RegExp(`m6/alpha/train\\.jsonl does not match the registry \\(sha256 ${sha256(bad)}, expected ${sha256(alpha['train.jsonl'])}\\)`));
  assert.match((files.LICENSE as { error: string }).error, /wrong size/);
  assert.deepEqual(readdirSync(join(root, 'alpha')), []);
});

test('upstream: byte-identical files and the conversions (zip entry -> gzip, JSON array -> jsonl, drop fields, csv edit)', async () => {
  // What the upstream hosts would serve...
  const words = Buffer.from('a\r\naa\r\naardvark\r\nzyzzyva\r\n');
  const arcRec = { id: 'Q1', question: 'Which…?', choices: { text: ['x', 'y'], label: ['A', 'B'] }, answerKey: 'A' };
  const upstreamFiles: Record<string, Buffer> = {
    '/raw.githubusercontent.com/dwyl/english-words/c0ffee/words_alpha.zip': makeZip({ 'words_alpha.txt': words }),
    '/raw.githubusercontent.com/dwyl/english-words/c0ffee/LICENSE.md': Buffer.from('Unlicense\n'),
    '/raw.githubusercontent.com/someone/arc/c0ffee/data/arc_easy/train.json': Buffer.from(JSON.stringify([arcRec, arcRec], null, 2)),
    '/raw.githubusercontent.com/other/arc/c0ffee/data/arc_challenge/test.jsonl': Buffer.from(JSON.stringify({ ...arcRec, answer: 'A', response: 'r' }) + '\n'),
    '/raw.githubusercontent.com/dclm/c0ffee/eval/eval_meta_data.csv': Buffer.from('Eval Task,Random baseline,Description\ncopa,50,"x, y"\ncommonsense_qa,40.3,"a, b"\n'),
  };
  for (const [p, b] of Object.entries(upstreamFiles)) server.routes.set(p, b);
  // ...and what our layout holds (the registry's checksums are computed from these bytes).
  const line = '{"id": "Q1", "question": "Which…?", "choices": {"text": ["x", "y"], "label": ["A", "B"]}, "answerKey": "A"}\n';
  const gh = (p: string) => `https://raw.githubusercontent.com/${p}`;
  const upSets = [
    fixtureSet('english_words', { 'words_alpha.txt.gz': gzipSync(words, { level: 1 }), 'LICENSE.md': Buffer.from('Unlicense\n') }, (p) =>
      p === 'words_alpha.txt.gz' ? { url: gh('dwyl/english-words/c0ffee/words_alpha.zip'), convert: { kind: 'zip-entry-gzip', entry: 'words_alpha.txt' } } : { url: gh(`dwyl/english-words/c0ffee/${p}`) }),
    fixtureSet('arc', { 'ARC-Easy/train.jsonl': Buffer.from(line + line), 'ARC-Challenge/test.jsonl': Buffer.from(line) }, (p) =>
      p.startsWith('ARC-Easy') ? { url: gh('someone/arc/c0ffee/data/arc_easy/train.json'), convert: { kind: 'json-array-to-jsonl' } }
        : { url: gh('other/arc/c0ffee/data/arc_challenge/test.jsonl'), convert: { kind: 'jsonl-drop-fields', fields: ['answer', 'response'] } }),
    fixtureSet('core', { 'eval_meta_data.csv': Buffer.from('Eval Task,Random baseline,Description\ncopa,50,"x, y"\ncommonsense_qa,20,"a, b"\n'), 'core.yaml': Buffer.from('x') }, (p) =>
      p === 'core.yaml' ? { unavailable: 'written by us' }
        : { url: gh('dclm/c0ffee/eval/eval_meta_data.csv'), convert: { kind: 'csv-set-column', column: 'Random baseline', values: { commonsense_qa: '20' } } }),
  ];
  const root = newRoot();
  const r = await downloadSets({ sets: upSets, root, mirror: '', upstreamOverride: server.url, ...quiet });
  assert.equal(r.source, 'upstream');
  const byName = Object.fromEntries(r.sets.map((s) => [s.name, s]));
  assert.ok(byName.english_words.complete && byName.arc.complete, JSON.stringify(r.sets));
  // our gzip differs from the registry's bytes; it is verified by its uncompressed content
  assert.deepEqual(gunzipSync(readFileSync(join(root, 'english_words', 'words_alpha.txt.gz'))), words);
  assert.equal(readFileSync(join(root, 'arc', 'ARC-Easy', 'train.jsonl'), 'utf8'), line + line);
  assert.equal(readFileSync(join(root, 'arc', 'ARC-Challenge', 'test.jsonl'), 'utf8'), line);
  assert.match(readFileSync(join(root, 'core', 'eval_meta_data.csv'), 'utf8'), /commonsense_qa,20,"a, b"/);
  assert.equal(byName.core.complete, false);
  assert.deepEqual(byName.core.files.find((f) => f.path === 'core.yaml'), { path: 'core.yaml', result: 'unavailable', reason: 'written by us' });
  // a rebuilt .gz counts as complete on the next run (content check), so it is not fetched again
  const hitsBefore = server.hits.get('/raw.githubusercontent.com/dwyl/english-words/c0ffee/words_alpha.zip');
  const again = await downloadSets({ sets: upSets, root, mirror: '', upstreamOverride: server.url, only: ['english_words'], ...quiet });
  assert.ok(again.sets[0].files.every((f) => f.result === 'skipped'));
  assert.equal(server.hits.get('/raw.githubusercontent.com/dwyl/english-words/c0ffee/words_alpha.zip'), hitsBefore);
});

test('overrideUrl maps https://HOST/PATH under the override base', () => {
  assert.equal(overrideUrl('https://raw.githubusercontent.com/a/b/c.json', 'http://127.0.0.1:9/up/'), 'http://127.0.0.1:9/up/raw.githubusercontent.com/a/b/c.json');
  assert.equal(overrideUrl('https://x.org/y', undefined), 'https://x.org/y');
});

test('kill safety: a download killed mid-transfer leaves no file under the final name; the next run cleans up and completes', async () => {
  const body = Buffer.alloc(256 * 1024, 7);
  const set = fixtureSet('big', { 'blob.bin': body });
  let stall = true;
  server.routes.set('/m7/big/blob.bin', (res) => {
    res.writeHead(200, { 'content-length': body.length });
    if (stall) res.write(body.subarray(0, 100_000)); // half the file, then hold the connection open
    else res.end(body);
  });
  const root = newRoot();
  // A child process runs the download (fixture registry passed as JSON) and is SIGKILLed mid-transfer.
  const here = dirname(fileURLToPath(import.meta.url));
  const script = `
    const { downloadSets } = await import(${JSON.stringify(join(here, '..', '..', 'src', 'data', 'download.js'))});
    const set = JSON.parse(process.env.SET); set.upstream = () => ({ unavailable: 'x' });
    await downloadSets({ sets: [set], root: process.env.ROOT, mirror: process.env.MIRROR });`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    env: { ...process.env, SET: JSON.stringify(set), ROOT: root, MIRROR: `${server.url}/m7` }, stdio: 'ignore',
  });
  const dir = join(root, 'big');
  const partial = () => (existsSync(dir) ? readdirSync(dir).filter((n) => n.startsWith('blob.bin.tmp-')) : []);
  const deadline = Date.now() + 20_000;
  while (!(partial().length && statSync(join(dir, partial()[0])).size >= 100_000)) {
    assert.ok(Date.now() < deadline, 'the child never wrote its temp file');
    await new Promise((r) => setTimeout(r, 20));
  }
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  assert.ok(!existsSync(join(dir, 'blob.bin')), 'a killed download must not leave a file under the final name');
  assert.deepEqual(partial(), [`blob.bin.tmp-${child.pid}`]);
  stall = false;
  const r = await downloadSets({ sets: [set], root, mirror: `${server.url}/m7`, ...quiet });
  assert.ok(r.sets[0].complete);
  assert.deepEqual(readFileSync(join(dir, 'blob.bin')), body);
  assert.deepEqual(readdirSync(dir), ['blob.bin']); // the dead writer's temp file is gone
});
