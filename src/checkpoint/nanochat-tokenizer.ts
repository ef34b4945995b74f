// nanochat's tokenizer files, read and written: `tokenizer.pkl`, Python's pickle of a tiktoken Encoding (class
// tiktoken.core.Encoding, whose pickled state is {name, pat_str, mergeable_ranks: {bytes: rank}, special_tokens:
// {str: id}}), and `token_bytes.pt`, a torch int32 tensor of each id's UTF-8 byte length (0 for specials).
// nanochat's special tokens have our names and order (<|bos|>, <|user_start|>, ... <|output_end|>, right after
// the ranks), so they map one to one. Its split pattern is ours (the GPT-4 pattern with numbers of 1-2 digits);
// a pattern our scanner does not reproduce is refused, as encoding with another split would give other ids.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../common/errors.js';
import { BpeTokenizer } from '../tokenizer/bpe.js';
import { REFERENCE_PATTERNS, patternNameOf } from '../tokenizer/pattern.js';
import { SPECIAL_TOKENS } from '../tokenizer/types.js';
import { PyDict, PyObject, unpickle, type PyValue } from './pickle.js';
import { pickle, type PickleOut } from './pickle-writer.js';
import { TorchFile, torchSaveParts } from './torch-pt.js';

export const NANOCHAT_TOKENIZER_FILE = 'tokenizer.pkl';
export const NANOCHAT_TOKEN_BYTES_FILE = 'token_bytes.pt';

const ENCODING_CLASS = 'tiktoken.core.Encoding';

/** Read nanochat's tokenizer from `dir` (tokenizer.pkl, and token_bytes.pt when present, which must agree). */
export function readNanochatTokenizer(dir: string): BpeTokenizer {
  const path = join(dir, NANOCHAT_TOKENIZER_FILE);
  if (!existsSync(path)) {
    throw new UserError(`no ${NANOCHAT_TOKENIZER_FILE} in ${dir}: give nanochat's tokenizer folder (its <base>/tokenizer)`);
  }
  const bad = (why: string) => new UserError(`${path} is not a nanochat tokenizer (${why})`);
  const globals = { [ENCODING_CLASS]: { newobj: true } };
  const root = unpickle(readFileSync(path), { where: path, what: 'a tiktoken Encoding', globals });
  if (!(root instanceof PyObject)) throw bad(`it holds no ${ENCODING_CLASS} object`);
  if (typeof root.state === 'string') throw bad(`it names tiktoken's registered encoding '${root.state}', not its ranks`);
  if (!(root.state instanceof PyDict)) throw bad('the Encoding has no state dict');
  const state = root.state;
  const field = (k: string): PyValue => {
    const v = state.get(k);
    if (v === undefined) throw bad(`the Encoding has no '${k}'`);
    return v;
  };
  const name = field('name'), patStr = field('pat_str');
  const ranks = field('mergeable_ranks'), specials = field('special_tokens');
  if (typeof patStr !== 'string') throw bad('pat_str is not a string');
  if (!(ranks instanceof PyDict) || !(specials instanceof PyDict)) throw bad('mergeable_ranks or special_tokens is no dict');
  const pattern = patternNameOf(patStr);
  if (!pattern) {
    throw new UserError(`${path} splits text with the pattern ${JSON.stringify(patStr)}, which our tokenizer does not ` +
      `reproduce (we have nanochat's, ${JSON.stringify(REFERENCE_PATTERNS['gpt4-digits2'])}, and cl100k's and GPT-2's): ` +
      'the ids would differ, so it is refused');
  }

  const n = ranks.entries.length;
  const tokens = new Array<Uint8Array | undefined>(n);
  const seen = new Set<string>();
  for (const [b, r] of ranks.entries) {
    if (!(b instanceof Uint8Array) || typeof r !== 'number' || !Number.isInteger(r)) throw bad('a rank is not bytes -> int');
    if (r < 0 || r >= n || tokens[r]) throw bad(`ranks are not 0..${n - 1}, each once (rank ${r})`);
    const key = Buffer.from(b).toString('latin1');
    if (seen.has(key)) throw bad(`the token ${JSON.stringify(key)} has two ranks`);
    seen.add(key);
    tokens[r] = b;
  }
  const hasByte = new Uint8Array(256);
  for (const t of tokens) if (t!.length === 1) hasByte[t![0]] = 1;
  if (hasByte.indexOf(0) >= 0) throw bad(`byte ${hasByte.indexOf(0)} has no token`);

  // nanochat puts its specials right after the ranks, n .. n+k-1, each once: anything else (a huge id would make
  // the vocabulary and token_bytes arrays that large) is refused
  const specialIds: Record<string, number> = Object.create(null) as Record<string, number>;
  const k = specials.entries.length, ids = new Set<number>();
  for (const [s, id] of specials.entries) {
    if (typeof s !== 'string' || typeof id !== 'number' || !Number.isInteger(id) || id < n || id >= n + k) {
      throw bad(`special token ${String(s).slice(0, 40)} -> ${String(id)} is not a name -> id in ${n}..${n + k - 1}, after the ranks`);
    }
    if (ids.has(id) || s in specialIds) throw bad(`two special tokens have id ${id} or the name ${s.slice(0, 40)}`);
    ids.add(id);
    specialIds[s] = id;
  }
  const missing = SPECIAL_TOKENS.filter((s) => !(s in specialIds));
  if (missing.length) throw bad(`it lacks the special tokens ${missing.join(', ')} that nanochat's chat format uses`);
  const tok = new BpeTokenizer({
    name: typeof name === 'string' ? name : 'nanochat', tokens, pattern, specials: specialIds,
  });

  const tbPath = join(dir, NANOCHAT_TOKEN_BYTES_FILE);
  if (existsSync(tbPath)) {
    const f = new TorchFile(tbPath);
    try {
      const got = f.readInts('token_bytes', f.tensor());
      // nanochat counts a token that is not valid UTF-8 by its decoded text (each bad byte run a 3-byte U+FFFD),
      // our tokenBytes by its bytes: either count agrees
      const want = nanochatTokenBytes(tok), raw = tok.tokenBytes();
      const at = got.findIndex((v, i) => v !== want[i] && v !== raw[i]);
      if (got.length !== want.length || at >= 0) {
        throw new UserError(`${tbPath} disagrees with ${NANOCHAT_TOKENIZER_FILE} (${got.length} ids vs ${want.length}` +
          `${at >= 0 ? `; id ${at} has ${got[at]} bytes, its token ${want[at]}` : ''}): ` +
          'the two files are from different tokenizers');
      }
    } finally {
      f.close();
    }
  }
  return tok;
}

/** tokenizer.pkl for `tok`: what pickle.load turns into a tiktoken Encoding (protocol 4, Python's default). */
export function tokenizerPkl(tok: BpeTokenizer): Uint8Array {
  const ranks: [PickleOut, PickleOut][] = [];
  for (const [bytes, rank] of tok.ranks()) ranks.push([bytes, rank]);
  const state: PickleOut = {
    dict: [
      ['name', tok.name],
      ['pat_str', REFERENCE_PATTERNS[tok.pattern]],
      ['mergeable_ranks', { dict: ranks }],
      ['special_tokens', { dict: [...tok.specials] }],
    ],
  };
  return pickle({ newobj: ENCODING_CLASS, args: [], state }, 4);
}

const REPLACING = new TextDecoder('utf-8', { ignoreBOM: true });

/**
 * The byte length of each id as nanochat's tok_train counts it: the UTF-8 length of the token decoded with
 * replacement (a lone 0x80 is U+FFFD, 3 bytes); 0 for special tokens.
 */
export function nanochatTokenBytes(tok: BpeTokenizer): Int32Array {
  const tb = new Int32Array(tok.vocabSize);
  for (let id = 0; id < tok.tokens.length; id++) {
    const t = tok.tokens[id];
    if (t) tb[id] = Buffer.byteLength(REPLACING.decode(t), 'utf8');
  }
  return tb;
}

/** token_bytes.pt for `tok`: torch.save of an int32 tensor [vocab], as nanochat's tok_train writes it. */
export function tokenBytesPt(tok: BpeTokenizer): Uint8Array[] {
  const tb = nanochatTokenBytes(tok);
  return torchSaveParts('token_bytes', { dtype: 'int32', shape: [tb.length], data: tb });
}
