// Test helpers for the data tests: a local HTTP server with scripted routes, fixture data sets
// built from in-memory files, a minimal zip writer (to build upstream-shaped archives) and
// pretraining shards of given documents.

import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { deflateRawSync, gunzipSync } from 'node:zlib';
import { parquetWriteBuffer } from 'hyparquet-writer';
import type { DataSet, Upstream } from '../../src/data/registry.js';

export const sha256 = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

/** A route answers with a body, a status, or by hand (for stalls and flaky behaviour). */
export type Route = Buffer | { status: number } | ((res: ServerResponse, hit: number) => void);

export interface FixtureServer {
  url: string;
  routes: Map<string, Route>;
  hits: Map<string, number>;
  close(): Promise<void>;
}

/** An HTTP server on 127.0.0.1 (ephemeral port) serving `routes` by exact decoded path. */
export async function startServer(routes: Map<string, Route> = new Map()): Promise<FixtureServer> {
  const hits = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const hit = (hits.get(path) ?? 0) + 1;
    hits.set(path, hit);
    const route = routes.get(path);
    if (route === undefined) { res.writeHead(404).end('not found'); return; }
    if (typeof route === 'function') { route(res, hit); return; }
    if (Buffer.isBuffer(route)) { res.writeHead(200, { 'content-length': route.length }).end(route); return; }
    res.writeHead(route.status).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    routes,
    hits,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

/** A fixture data set whose registry entries are computed from the given bytes. */
export function fixtureSet(name: string, files: Record<string, Buffer>, upstream: (path: string) => Upstream = () => ({ unavailable: 'fixture' })): DataSet {
  return {
    name,
    summary: `fixture ${name}`,
    license: 'test',
    files: Object.entries(files).map(([path, b]) => {
      const content = path.endsWith('.gz') ? gunzipSync(b) : undefined;
      return { path, size: b.length, sha256: sha256(b), ...(content ? { content: { size: content.length, sha256: sha256(content) } } : {}) };
    }),
    upstream,
  };
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(b: Buffer): number {
  let c = 0xffffffff;
  for (const x of b) c = CRC_TABLE[(c ^ x) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** A zip archive of the given entries (deflated, or stored when `stored`), as zip tools write them. */
export function makeZip(entries: Record<string, Buffer>, opts: { stored?: boolean; comment?: string; localExtra?: Buffer } = {}): Buffer {
  const locals: Buffer[] = [], centrals: Buffer[] = [];
  let offset = 0;
  for (const [name, data] of Object.entries(entries)) {
    const nameBuf = Buffer.from(name, 'utf8');
    const body = opts.stored ? data : deflateRawSync(data);
    const method = opts.stored ? 0 : 8;
    const extra = opts.localExtra ?? Buffer.alloc(0);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0); local.writeUInt16LE(20, 4); local.writeUInt16LE(0, 6); local.writeUInt16LE(method, 8);
    local.writeUInt32LE(crc32(data), 14); local.writeUInt32LE(body.length, 18); local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBuf.length, 26); local.writeUInt16LE(extra.length, 28);
    locals.push(local, nameBuf, extra, body);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0); central.writeUInt16LE(20, 4); central.writeUInt16LE(20, 6); central.writeUInt16LE(0, 8);
    central.writeUInt16LE(method, 10); central.writeUInt32LE(crc32(data), 16); central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(data.length, 24); central.writeUInt16LE(nameBuf.length, 28); central.writeUInt32LE(offset, 42);
    centrals.push(central, nameBuf);
    offset += 30 + nameBuf.length + extra.length + body.length;
  }
  const dir = Buffer.concat(centrals);
  const comment = Buffer.from(opts.comment ?? '', 'utf8');
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0); eocd.writeUInt16LE(Object.keys(entries).length, 8); eocd.writeUInt16LE(Object.keys(entries).length, 10);
  eocd.writeUInt32LE(dir.length, 12); eocd.writeUInt32LE(offset, 16); eocd.writeUInt16LE(comment.length, 20);
  return Buffer.concat([...locals, dir, eocd, comment]);
}

/** A pretraining shard of the given documents: parquet (a `text` column, small row groups) or jsonl by extension. */
export function writeDocShard(file: string, texts: string[]): string {
  if (file.endsWith('.parquet')) {
    writeFileSync(file, Buffer.from(parquetWriteBuffer({ columnData: [{ name: 'text', data: texts, type: 'STRING' }], rowGroupSize: 16 })));
  } else {
    writeFileSync(file, texts.map((text) => JSON.stringify({ text })).join('\n') + '\n');
  }
  return file;
}
