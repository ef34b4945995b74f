// Spelling tasks generated from the English word list. Tokens hide the letters inside words, so
// the model is taught to spell a word out letter by letter and to count letters:
//  - SimpleSpelling: "Spell the word: apple" -> "apple:a,p,p,l,e"
//  - SpellingBee: "How many 'r' are in strawberry?" -> spell it out, count the hits one by one,
//    double-check with the python tool ('strawberry'.count('r')), and end "#### 3".
// Example i is generated from its own seeded RNG, so examples are reproducible and independent of
// the task size. Train examples use seeds [0, TEST_SEED_OFFSET) and test examples seeds from
// TEST_SEED_OFFSET up, so the two splits never share a generator seed.

import type { Conversation, Part } from '../chat/conversation.js';
import { SeededRandom } from '../tensor/random.js';
import { extractFinalAnswer, sameAnswer } from './answers.js';
import { defaultDataDir } from './files.js';
import { SlicedEvalTask, type SliceOptions } from './task.js';
import { SPELLING_BEE_TEMPLATES } from './spelling-templates.js';
import { loadWords } from './words.js';

export const TEST_SEED_OFFSET = 10_000_000;
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz';
// The two tasks would otherwise draw the same word for the same index; a salt decorrelates them.
const SIMPLE_SPELLING_SALT = 0x5eed;

export interface SpellingOptions extends SliceOptions {
  split: 'train' | 'test';
  /** number of generated examples (at most TEST_SEED_OFFSET) */
  size: number;
  dataDir?: string;
}

/** The seed of example i of a split: disjoint ranges for train and test. */
export function spellingSeed(split: 'train' | 'test', i: number): number {
  return split === 'train' ? i : TEST_SEED_OFFSET + i;
}

/** "apple" -> "a,p,p,l,e" */
const spellOut = (word: string): string => word.split('').join(',');

abstract class GeneratedSpellingTask extends SlicedEvalTask {
  protected readonly words: string[];
  protected readonly split: 'train' | 'test';
  private readonly count: number;

  constructor(opts: SpellingOptions) {
    super(opts);
    if (opts.split !== 'train' && opts.split !== 'test') throw new Error(`split must be train or test, got ${opts.split}`);
    if (!Number.isInteger(opts.size) || opts.size < 0 || opts.size > TEST_SEED_OFFSET) {
      throw new RangeError(`size must be an integer in [0, ${TEST_SEED_OFFSET}] so train and test seeds cannot overlap, got ${opts.size}`);
    }
    this.split = opts.split;
    this.count = opts.size;
    this.words = loadWords(opts.dataDir ?? defaultDataDir());
  }

  protected fullSize(): number {
    return this.count;
  }
}

export class SimpleSpelling extends GeneratedSpellingTask {
  readonly name: string;
  readonly evalType = 'generative' as const;

  constructor(opts: SpellingOptions) {
    super(opts);
    this.name = `simple-spelling-${opts.split}`;
  }

  protected example(i: number): Conversation {
    const rng = new SeededRandom(spellingSeed(this.split, i) ^ SIMPLE_SPELLING_SALT);
    const word = rng.choice(this.words);
    return {
      messages: [
        { role: 'user', content: `Spell the word: ${word}` },
        { role: 'assistant', content: `${word}:${spellOut(word)}` },
      ],
      meta: { word, answer: `${word}:${spellOut(word)}` },
    };
  }

  evaluate(conv: Conversation, completion: string): boolean {
    return completion.trim() === conv.meta?.answer;
  }
}

export class SpellingBee extends GeneratedSpellingTask {
  readonly name: string;
  readonly evalType = 'generative' as const;

  constructor(opts: SpellingOptions) {
    super(opts);
    this.name = `spelling-bee-${opts.split}`;
  }

  protected example(i: number): Conversation {
    const rng = new SeededRandom(spellingSeed(this.split, i));
    const word = rng.choice(this.words);
    // mostly a letter of the word; sometimes any letter, so "0" is a possible answer
    const letter = rng.random() < 0.9 ? rng.choice(word) : rng.choice(ALPHABET);
    const count = word.split(letter).length - 1;

    // varied phrasing: template, case, quoting, trailing question mark
    let template = rng.choice(SPELLING_BEE_TEMPLATES);
    if (rng.random() < 0.3) template = template.toLowerCase();
    const quotes = ['', "'", '"'];
    const lq = rng.choice(quotes);
    const wq = rng.choice(quotes);
    let question = template.replace('{letter}', `${lq}${letter}${lq}`).replace('{word}', `${wq}${word}${wq}`);
    if (rng.random() < 0.5 && !/[?？]$/.test(question)) question += '?';

    return {
      messages: [
        { role: 'user', content: question },
        { role: 'assistant', content: spellingBeeAnswer(word, letter) },
      ],
      meta: { word, letter, answer: String(count) },
    };
  }

  /** Correct when the completion's `#### N` is the true count. */
  evaluate(conv: Conversation, completion: string): boolean {
    return sameAnswer(extractFinalAnswer(completion), String(conv.meta?.answer ?? ''));
  }
}

/** The worked answer: spell, count hit by hit, check with the python tool, "#### N". */
export function spellingBeeAnswer(word: string, letter: string): Part[] {
  let manual = `We need to count how many times the letter '${letter}' appears in the word '${word}'. `;
  manual += `Letters are easy to miss inside a word, so let me spell it out first:\n\n${word}:${spellOut(word)}\n\n`;
  manual += `Now I go through the letters one at a time and count each '${letter}':\n`;
  let running = 0;
  word.split('').forEach((c, k) => {
    if (c === letter) manual += `${k + 1}:${c} hit! count=${++running}\n`;
    else manual += `${k + 1}:${c}\n`;
  });
  manual += `\nSo by hand the count is ${running}.`;
  return [
    { type: 'text', text: manual },
    { type: 'text', text: '\n\nLet me double-check with Python:\n\n' },
    { type: 'python', text: `'${word}'.count('${letter}')` },
    { type: 'python_output', text: String(running) },
    { type: 'text', text: `\n\nPython also gives ${running}.\n\nMy final answer is:\n\n#### ${running}` },
  ];
}
