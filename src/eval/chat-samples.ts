// Sample conversations for the report: a few fixed prompts answered greedily by a chat model, so a
// person reading the report card sees what the model says, not only its scores. The prompts touch
// what the chat stages train: who it is (identity), a fact, arithmetic (the calculator tool),
// spelling (SpellingBee) and free writing (general conversations).

import type { Engine, FinishReason } from '../engine/engine.js';
import { chatPrompt } from '../engine/prompt.js';

export const SAMPLE_PROMPTS: readonly string[] = [
  'Hi! Who are you?',
  'What is the capital of France?',
  'If I have 3 apples and buy 5 more, how many apples do I have?',
  'How many r are in strawberry?',
  'Write a short poem about the sea.',
];

export interface ChatSample {
  prompt: string;
  answer: string;
  tokens: number;
  finish: FinishReason;
}

/** Greedy answers (temperature 0: the same every run) to the first `count` prompts; tool calls show as <<expr=result>>. */
export async function chatSamples(
  engine: Engine, count: number, maxTokens: number, prompts: readonly string[] = SAMPLE_PROMPTS,
): Promise<ChatSample[]> {
  const samples: ChatSample[] = [];
  for (const prompt of prompts.slice(0, count)) {
    const ids = chatPrompt(engine.tok, { messages: [{ role: 'user', content: prompt }] }, true);
    // leave the prompt room: a sample never fails for want of context, it is cut short instead
    const room = Math.max(1, Math.min(maxTokens, engine.contextLength - ids.length));
    let answer = '';
    let tokens = 0;
    let finish: FinishReason = 'length';
    for await (const chunk of engine.streamText(ids, { temperature: 0, maxTokens: room })) {
      answer += chunk.text;
      tokens++;
      if (chunk.finish) finish = chunk.finish;
    }
    samples.push({ prompt, answer: answer.trim(), tokens, finish });
  }
  return samples;
}

/**
 * The samples as markdown: one fenced block per conversation. Every line inside the block is
 * indented, so a model that writes ``` cannot close the fence and spill markup into the report.
 */
export function samplesMarkdown(samples: readonly ChatSample[]): string[] {
  const lines: string[] = [];
  for (const s of samples) {
    const indent = (t: string) => t.split('\n').map((l) => '  ' + l).join('\n');
    const cut = s.finish === 'length' ? ` [cut at ${s.tokens} tokens]` : s.finish === 'context' ? ' [context full]' : '';
    lines.push('```', `User:\n${indent(s.prompt)}`, `Assistant:\n${indent(s.answer)}${cut}`, '```', '');
  }
  return lines;
}
