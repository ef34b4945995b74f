// Documents of a parquet shard: the `text` column, read one row group at a time through a file
// handle, so only one row group's column chunk is in memory, never the whole file (FineWeb-style
// shards are ~100 MB with row groups of ~1k documents). Uses hyparquet (pure JS); snappy is built
// in, and we add the codecs real shards use: zstd (nanochat's own shards), gzip and brotli.

import { open, type FileHandle } from 'node:fs/promises';
import { brotliDecompressSync, unzipSync } from 'node:zlib';
import { decompress as zstdDecompress } from 'fzstd';
import { parquetMetadataAsync, parquetReadObjects, parquetSchema, type AsyncBuffer, type Compressors } from 'hyparquet';
import { UserError } from '../common/errors.js';

const COMPRESSORS: Compressors = {
  ZSTD: (input, outputLength) => zstdDecompress(input, new Uint8Array(outputLength)),
  GZIP: (input) => unzipSync(input), // unzip accepts gzip and zlib framing; writers differ
  BROTLI: (input) => brotliDecompressSync(input),
};

/** hyparquet's AsyncBuffer over an open file: each slice is one positioned read. */
function fileBuffer(fh: FileHandle, size: number): AsyncBuffer {
  return {
    byteLength: size,
    async slice(start: number, end = size): Promise<ArrayBuffer> {
      const buf = new Uint8Array(end - start);
      let got = 0;
      while (got < buf.length) {
        const { bytesRead } = await fh.read(buf, got, buf.length - got, start + got);
        if (bytesRead === 0) throw new Error(`unexpected end of file at byte ${start + got}`);
        got += bytesRead;
      }
      return buf.buffer;
    },
  };
}

/** Stream the `text` values of a parquet file, row group by row group (null rows are skipped). */
export async function* readParquetShard(file: string, column = 'text'): AsyncGenerator<string> {
  const fh = await open(file, 'r');
  try {
    const { size } = await fh.stat();
    const buffer = fileBuffer(fh, size);
    let metadata;
    try {
      metadata = await parquetMetadataAsync(buffer);
    } catch (e) {
      throw new UserError(`${file}: not a readable parquet file (${(e as Error).message}); if it came from \`nanochat data download\`, delete it and download again`);
    }
    const names = parquetSchema(metadata).children.map((c) => c.element.name);
    if (!names.includes(column)) throw new UserError(`${file}: parquet file has no '${column}' column (columns: ${names.join(', ')})`);
    let rowStart = 0;
    for (const group of metadata.row_groups) {
      const rowEnd = rowStart + Number(group.num_rows);
      const rows = await parquetReadObjects({ file: buffer, metadata, columns: [column], rowStart, rowEnd, compressors: COMPRESSORS });
      for (const row of rows) {
        const text = row[column];
        if (text === null || text === undefined) continue;
        if (typeof text !== 'string') throw new UserError(`${file}: column '${column}' holds ${typeof text} values, expected strings`);
        yield text;
      }
      rowStart = rowEnd;
    }
  } finally {
    await fh.close();
  }
}
