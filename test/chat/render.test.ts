import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConversationError, renderConversation, renderForCompletion, type Conversation } from '../../src/chat/render.js';
import { SPECIAL_TOKENS } from '../../src/tokenizer/types.js';
import { ByteTokenizer } from '../helpers/byte-tokenizer.js';

const tok = new ByteTokenizer({ spellSpecials: true });
const S = Object.fromEntries(SPECIAL_TOKENS.map((s, k) => [s, 256 + k])) as Record<(typeof SPECIAL_TOKENS)[number], number>;
const bytes = (s: string) => Array.from(Buffer.from(s, 'utf8'));

/** Build expected ids and mask from segments [tokens, mask]. */
function expected(...segments: [number[] | number, 0 | 1][]) {
  const ids: number[] = [];
  const mask: number[] = [];
  for (const [t, m] of segments) {
    for (const id of typeof t === 'number' ? [t] : t) {
      ids.push(id);
      mask.push(m);
    }
  }
  return { ids, mask };
}

test('simple two-turn conversation: ids and mask token by token', () => {
  const conv: Conversation = {
    messages: [
      { role: 'user', content: 'Hi' },
      { role: 'assistant', content: 'Yo' },
      { role: 'user', content: 'é?' },
      { role: 'assistant', content: 'ok' },
    ],
  };
  const want = expected(
    [S['<|bos|>'], 0],
    [S['<|user_start|>'], 0], [bytes('Hi'), 0], [S['<|user_end|>'], 0],
    [S['<|assistant_start|>'], 0], [bytes('Yo'), 1], [S['<|assistant_end|>'], 1],
    [S['<|user_start|>'], 0], [bytes('é?'), 0], [S['<|user_end|>'], 0],
    [S['<|assistant_start|>'], 0], [bytes('ok'), 1], [S['<|assistant_end|>'], 1],
  );
  assert.deepEqual(renderConversation(tok, conv), want);
});

test('python parts are trained on, tool outputs are not', () => {
  const conv: Conversation = {
    messages: [
      { role: 'user', content: 'q' },
      {
        role: 'assistant',
        content: [
          { type: 'text', text: 'a ' },
          { type: 'python', text: '1+2' },
          { type: 'python_output', text: '3' },
          { type: 'text', text: ' #### 3' },
        ],
      },
    ],
  };
  const got = renderConversation(tok, conv);
  const want = expected(
    [S['<|bos|>'], 0],
    [S['<|user_start|>'], 0], [bytes('q'), 0], [S['<|user_end|>'], 0],
    [S['<|assistant_start|>'], 0],
    [bytes('a '), 1],
    [S['<|python_start|>'], 1], [bytes('1+2'), 1], [S['<|python_end|>'], 1],
    [S['<|output_start|>'], 0], [bytes('3'), 0], [S['<|output_end|>'], 0],
    [bytes(' #### 3'), 1],
    [S['<|assistant_end|>'], 1],
  );
  assert.deepEqual(got, want);
  // readable form, to make a failure obvious
  assert.equal(tok.decode(got.ids), '<|bos|><|user_start|>q<|user_end|><|assistant_start|>a <|python_start|>1+2<|python_end|><|output_start|>3<|output_end|> #### 3<|assistant_end|>');
  const trained = got.ids.filter((_, k) => got.mask[k] === 1);
  assert.equal(tok.decode(trained), 'a <|python_start|>1+2<|python_end|> #### 3<|assistant_end|>');
});

test('a leading system message is folded into the first user message', () => {
  const withSystem = renderConversation(tok, {
    messages: [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Hi' },
      { role: 'assistant', content: 'Hello' },
    ],
  });
  const folded = renderConversation(tok, {
    messages: [
      { role: 'user', content: 'Be brief.\n\nHi' },
      { role: 'assistant', content: 'Hello' },
    ],
  });
  assert.deepEqual(withSystem, folded);
});

test('roles must alternate: the error names the wrong message', () => {
  assert.throws(
    () => renderConversation(tok, { messages: [{ role: 'user', content: 'a' }, { role: 'user', content: 'b' }] }),
    (e: Error) => e instanceof ConversationError && /message 1 has role 'user' but 'assistant' was expected/.test(e.message),
  );
  assert.throws(() => renderConversation(tok, { messages: [{ role: 'assistant', content: 'a' }] }), /message 0 has role 'assistant' but 'user'/);
  assert.throws(
    () => renderConversation(tok, { messages: [{ role: 'system', content: 's' }, { role: 'user', content: 'a' }, { role: 'system', content: 'b' }] }),
    /message 2 has role 'system' but 'assistant'/,
  );
  assert.throws(() => renderConversation(tok, { messages: [] }), /no messages/);
  assert.throws(() => renderConversation(tok, { messages: [{ role: 'system', content: 's' }, { role: 'assistant', content: 'x' }] }), /message 1 must be a user message/);
});

test('truncation keeps ids and mask aligned', () => {
  const conv: Conversation = { messages: [{ role: 'user', content: 'abc' }, { role: 'assistant', content: 'defgh' }] };
  const full = renderConversation(tok, conv);
  const cut = renderConversation(tok, conv, 8);
  assert.equal(cut.ids.length, 8);
  assert.equal(cut.mask.length, 8);
  assert.deepEqual(cut.ids, full.ids.slice(0, 8));
  assert.deepEqual(cut.mask, full.mask.slice(0, 8));
  assert.deepEqual(renderConversation(tok, conv, 1000), full);
});

test('renderForCompletion drops the final assistant message and ends with assistant_start', () => {
  const conv: Conversation = {
    messages: [
      { role: 'user', content: 'Hi' },
      { role: 'assistant', content: 'Yo' },
      { role: 'user', content: '2+2?' },
      { role: 'assistant', content: '4' },
    ],
  };
  const ids = renderForCompletion(tok, conv);
  assert.equal(tok.decode(ids), '<|bos|><|user_start|>Hi<|user_end|><|assistant_start|>Yo<|assistant_end|><|user_start|>2+2?<|user_end|><|assistant_start|>');
  // a conversation that ends with the user (the chat CLI) gets the same prompt
  assert.deepEqual(renderForCompletion(tok, { messages: conv.messages.slice(0, 3) }), ids);
  // and the prompt is a prefix of the full rendering
  const full = renderConversation(tok, conv).ids;
  assert.deepEqual(full.slice(0, ids.length), ids);
});
