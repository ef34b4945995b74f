// The report's sample conversations: greedy answers to fixed prompts, cut at the token limit, and
// rendered so that whatever a model writes (fences, HTML) stays inside its own code block.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Engine } from '../../src/engine/engine.js';
import { chatSamples, samplesMarkdown, SAMPLE_PROMPTS } from '../../src/eval/chat-samples.js';
import { markdownToHtml } from '../../src/report/markdown.js';
import { ScriptedModel, tinyGpt } from '../engine/helpers.js';
import { byteBpe } from '../helpers/byte-bpe.js';

test('chat samples: the scripted answer comes back whole, and a hostile answer cannot escape its block', async () => {
  const tok = byteBpe();
  const answer = 'Paris.\n```\n<script>alert(1)</script>\n# not a heading';
  const script = [...tok.encode(answer), tok.specialId('<|assistant_end|>')];
  const engine = new Engine(new ScriptedModel(tok.vocabSize, [script], 512), tok);
  const [s] = await chatSamples(engine, 1, 200, ['What is the capital of France?']);
  assert.equal(s.prompt, 'What is the capital of France?');
  assert.equal(s.answer, answer);
  assert.equal(s.finish, 'stop');
  assert.equal(s.tokens, script.length);

  const md = samplesMarkdown([s, { prompt: 'second', answer: 'ok', tokens: 3, finish: 'length' }]);
  const html = markdownToHtml(md.join('\n'), 'samples');
  // two conversations, two code blocks; the model's fence and markup are text inside the first
  assert.equal(html.match(/<pre>/g)?.length, 2);
  assert.ok(!html.includes('<script>'));
  assert.match(html, /<pre><code>User:\n {2}What is the capital of France\?\nAssistant:\n {2}Paris\.\n {2}```\n {2}&lt;script&gt;/);
  assert.ok(!/<h1>/.test(html));
  assert.match(md.join('\n'), /ok \[cut at 3 tokens\]/);
});

test('chat samples: greedy, so the same every run; at most maxTokens each; count picks the first prompts', async () => {
  const tok = byteBpe();
  const model = tinyGpt(tok.vocabSize, { seed: 3, sequenceLen: 128 });
  const a = await chatSamples(new Engine(model, tok), 2, 12);
  const b = await chatSamples(new Engine(model, tok), 2, 12);
  assert.deepEqual(a, b);
  assert.deepEqual(a.map((s) => s.prompt), SAMPLE_PROMPTS.slice(0, 2));
  for (const s of a) assert.ok(s.tokens >= 1 && s.tokens <= 12, `${s.tokens} tokens`);
  assert.deepEqual(await chatSamples(new Engine(model, tok), 0, 12), []);
});
