import { test } from 'node:test';
import assert from 'node:assert/strict';
import { partsFromTokens } from '../../src/engine/parts.js';
import { renderConversation } from '../../src/chat/render.js';
import { ByteTokenizer } from '../helpers/byte-tokenizer.js';

test('an answer with a tool call becomes parts that render back to the same tokens', () => {
  const tok = new ByteTokenizer();
  const sp = (n: Parameters<ByteTokenizer['specialId']>[0]) => tok.specialId(n);
  const answer = [...tok.encode('So '), sp('<|python_start|>'), ...tok.encode('6*7'), sp('<|python_end|>'), sp('<|output_start|>'), ...tok.encode('42'), sp('<|output_end|>'), ...tok.encode(' done.'), sp('<|assistant_end|>')];
  const parts = partsFromTokens(tok, answer);
  assert.deepEqual(parts, [
    { type: 'text', text: 'So ' }, { type: 'python', text: '6*7' }, { type: 'python_output', text: '42' }, { type: 'text', text: ' done.' },
  ]);
  const { ids } = renderConversation(tok, { messages: [{ role: 'user', content: 'q' }, { role: 'assistant', content: parts }] });
  const start = ids.indexOf(sp('<|assistant_start|>'));
  assert.deepEqual(ids.slice(start + 1), answer);
});
