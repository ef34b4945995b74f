// `nanochat tok-train`: train the BPE tokenizer on the training documents (splitShards) and save it to
// $NANOCHAT_BASE_DIR/tokenizer. Defaults follow the reference speedrun: vocab 65,536, 2B characters
// (or all that is available), documents capped at 10,000 characters.

import { join } from 'node:path';
import { parse, num, str, out, emitJson } from '../cli/flags.js';
import { UserError } from '../common/errors.js';
import { Progress, formatDuration } from '../common/progress.js';
import { dataDir } from '../common/paths.js';
import { DEFAULT_DATA_SET, HELD_OUT_PERCENT, listShards, splitShards, readDocSet } from '../data/shards.js';
import { trainTokenizer, cappedDocs, tokenLengthStats, MIN_VOCAB } from '../tokenizer/train.js';
import { saveTokenizer } from '../tokenizer/io.js';
import { markdownTable } from '../report/markdown-table.js';
import { writeReportSection } from '../report/section.js';
import { tokenizerDir } from '../common/paths.js';
import { defaultThreads } from '../tokenizer/chunk-count.js';


const FLAGS = {
  'vocab-size': { type: 'string', default: '65536', help: 'total vocabulary: 256 bytes + merges + 9 special tokens' },
  'max-chars': { type: 'string', default: '2000000000', help: 'train on the first N characters (all available if fewer)' },
  'doc-cap': { type: 'string', default: '10000', help: 'use at most the first N characters of each document' },
  'data-dir': { type: 'string', help: `folder of pretraining shards (default $NANOCHAT_BASE_DIR/data/${DEFAULT_DATA_SET}); validation (the last shard of several, and the ${HELD_OUT_PERCENT}% of documents held out by a hash of their text) is not used` },
  'out-dir': { type: 'string', help: 'where to save the tokenizer (default $NANOCHAT_BASE_DIR/tokenizer)' },
  threads: { type: 'string', help: 'worker threads for chunk counting (default: NANOCHAT_THREADS or all cores)' },
} as const;

export async function run(argv: string[]): Promise<number> {
  const p = parse('tok-train', 'Train the byte-level BPE tokenizer (GPT-4 pattern) and save it.', FLAGS, argv);
  const log = out(p);
  const vocabSize = num(p, 'vocab-size', { min: MIN_VOCAB, max: 1 << 24 });
  const maxChars = num(p, 'max-chars', { min: 1, allowFloat: true });
  const docCap = num(p, 'doc-cap', { min: 1 });
  const threads = str(p, 'threads') !== undefined ? num(p, 'threads', { min: 1 }) : defaultThreads();
  const dir = str(p, 'data-dir') ?? join(dataDir(), DEFAULT_DATA_SET);
  const { train } = splitShards(listShards(dir));
  log(`training a ${vocabSize}-token vocabulary on up to ${maxChars.toLocaleString('en-US')} characters of ${train.files.length} shard(s) in ${dir}, ` +
    `less the ${HELD_OUT_PERCENT}% of documents held out for validation (${threads} thread(s))`);

  const seen = { chars: 0, docs: 0 };
  const counting = new Progress('counting chunks', maxChars, ' chars');
  let merging: Progress | undefined; // created when merging starts, so its clock and ETA are right
  const { tokenizer, stats } = await trainTokenizer(cappedDocs(readDocSet(train), maxChars, docCap, seen), {
    vocabSize,
    threads,
    onCount: (c) => counting.update(c),
    onMerge: (m) => (merging ??= new Progress('merging', vocabSize - MIN_VOCAB, ' merges')).update(m),
  });
  counting.done(`${seen.docs} documents, ${seen.chars.toLocaleString('en-US')} characters, ${stats.uniqueChunks.toLocaleString('en-US')} unique chunks`);
  log(`merging done: ${stats.merges} merges in ${stats.mergeSeconds.toFixed(1)}s`);
  if (seen.chars === 0) throw new UserError(`no text in the shards of ${dir}`);
  if (seen.chars < maxChars) log(`note: the training shards hold ${seen.chars.toLocaleString('en-US')} characters (after --doc-cap ${docCap}), fewer than --max-chars: used all of them`);
  const lengths = tokenLengthStats(tokenizer);
  const outDir = saveTokenizer(tokenizer, str(p, 'out-dir') ?? tokenizerDir(), {
    maxChars, docCap, dataDir: dir, chars: seen.chars, documents: seen.docs, ...stats,
  });
  if (tokenizer.vocabSize < vocabSize) log(`note: the text has only enough distinct pairs for ${stats.merges} merges: vocab is ${tokenizer.vocabSize}, not ${vocabSize}`);
  log(`train time ${formatDuration(stats.trainSeconds)} (counting ${stats.countSeconds.toFixed(1)}s, merging ${stats.mergeSeconds.toFixed(1)}s)`);
  log(`token bytes: min ${lengths.min}, max ${lengths.max}, mean ${lengths.mean.toFixed(2)}, std ${lengths.std.toFixed(2)}`);
  log(`saved to ${outDir}`);

  const section = [
    '## Tokenizer training',
    '',
    `timestamp: ${new Date().toISOString()}`,
    '',
    markdownTable(['setting', 'value'], [
      ['vocab size', tokenizer.vocabSize], ['max chars', maxChars], ['doc cap', docCap], ['data', dir],
      ['characters used', seen.chars], ['documents used', seen.docs], ['threads', threads],
    ]),
    '',
    markdownTable(['stat', 'value'], [
      ['train time (s)', stats.trainSeconds.toFixed(2)], ['unique chunks', stats.uniqueChunks], ['merges', stats.merges],
      ['special tokens', tokenizer.specials.size], ['token bytes min', lengths.min], ['token bytes max', lengths.max],
      ['token bytes mean', lengths.mean.toFixed(3)], ['token bytes std', lengths.std.toFixed(3)],
    ]),
  ].join('\n');
  const reportPath = writeReportSection('tokenizer-training.md', section);
  log(`report section: ${reportPath}`);
  emitJson(p, { dir: outDir, chars: seen.chars, documents: seen.docs, ...stats, tokenBytes: lengths, report: reportPath });
  return 0;
}
