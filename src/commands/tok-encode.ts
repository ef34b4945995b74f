// `nanochat tok-encode`: UTF-8 text on stdin -> one JSON array of token ids on stdout; with --decode,
// a JSON array of ids on stdin -> the text (written as raw UTF-8 bytes, byte-exact).

import { parse, str, emitJson } from '../cli/flags.js';
import { UserError } from '../common/errors.js';
import { loadTokenizer } from '../tokenizer/io.js';

const FLAGS = {
  tokenizer: { type: 'string', help: 'a tokenizer folder, or gpt2 / cl100k_base (default: $NANOCHAT_BASE_DIR/tokenizer)' },
  decode: { type: 'boolean', default: false, help: 'read a JSON array of ids and print the text' },
  specials: { type: 'boolean', default: false, help: 'encode special-token spellings (e.g. <|bos|>) as their ids' },
} as const;

async function readStdin(): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of process.stdin) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

export async function run(argv: string[]): Promise<number> {
  const p = parse('tok-encode', 'Encode stdin (UTF-8) to a JSON array of token ids, or --decode one back to text.', FLAGS, argv);
  const tok = loadTokenizer(str(p, 'tokenizer'));
  const input = await readStdin();
  if (p.values.decode) {
    let ids: unknown;
    try {
      ids = JSON.parse(input.toString('utf8'));
    } catch {
      throw new UserError('--decode expects a JSON array of token ids on stdin');
    }
    if (!Array.isArray(ids) || !ids.every((x) => Number.isInteger(x) && x >= 0 && x < tok.vocabSize)) {
      throw new UserError(`--decode expects a JSON array of integer ids in 0..${tok.vocabSize - 1}`);
    }
    const bytes = tok.decodeBytes(ids as number[]);
    if (p.json) emitJson(p, { text: new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes), bytes: bytes.length });
    else process.stdout.write(bytes);
    return 0;
  }
  const text = input.toString('utf8');
  const ids = p.values.specials ? tok.encodeWithSpecials(text) : tok.encode(text);
  if (p.json) emitJson(p, { ids, tokens: ids.length, bytes: input.length });
  else process.stdout.write(JSON.stringify(ids) + '\n');
  return 0;
}
