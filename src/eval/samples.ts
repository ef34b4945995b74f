// Greedy samples of fixed prompts during base training: a quick look at what the model has learned.

import type { GPT } from '../model/gpt.js';
import type { TextTokenizer } from '../tokenizer/types.js';
import { Engine } from '../engine/engine.js';

/** The reference's sample prompts. */
export const SAMPLE_PROMPTS = [
  'The capital of France is',
  'The chemical symbol of gold is',
  'If yesterday was Friday, then tomorrow will be',
  'The opposite of hot is',
  'The planets of the solar system are:',
  'My favorite color is',
  'If 5*x + 3 = 13, then x is',
];

/** Each prompt followed by its greedy (temperature 0) continuation of up to maxTokens, newlines shown as \n. */
export async function greedySamples(
  model: GPT, tok: TextTokenizer, prompts: string[], maxTokens: number,
): Promise<string[]> {
  const engine = new Engine(model, tok);
  const samples: string[] = [];
  for (const p of prompts) {
    const prompt = [tok.bosId(), ...tok.encode(p)];
    const room = engine.room(prompt.length);
    const opts = { temperature: 0, maxTokens: Math.min(maxTokens, room) };
    const text = room > 0 ? tok.decode((await engine.generateBatch(prompt, opts)).generated[0]) : '';
    samples.push(`${p}${text}`.replace(/\n/g, '\\n'));
  }
  return samples;
}
