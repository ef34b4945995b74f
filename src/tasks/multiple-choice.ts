// The multiple-choice prompt shared by MMLU and ARC, in the reference's wording:
//
//   Multiple Choice question: <question>
//   - <choice 1>=A
//   - <choice 2>=B
//   ...
//
//   Respond only with the letter of the correct answer.
//
// The letter comes after "=" (not before the choice) so that it is a token of its own that the
// eval can compare directly with the answer letters; the assistant answers with the letter alone.

import type { Conversation } from '../chat/conversation.js';

const LETTERS = ['A', 'B', 'C', 'D', 'E', 'F', 'G', 'H'] as const;

export function multipleChoicePrompt(question: string, choices: string[], letters: readonly string[]): string {
  if (choices.length !== letters.length) throw new Error(`${choices.length} choices but ${letters.length} letters`);
  const lines = choices.map((c, k) => `- ${c}=${letters[k]}\n`).join('');
  return `Multiple Choice question: ${question}\n${lines}\nRespond only with the letter of the correct answer.`;
}

/** A complete multiple-choice conversation: prompt, answer letter, and the offered letters. */
export function multipleChoiceConversation(
  question: string,
  choices: string[],
  answerIndex: number,
  meta: Record<string, string | number> = {},
): Conversation {
  if (choices.length > LETTERS.length) throw new Error(`at most ${LETTERS.length} choices are supported, got ${choices.length}`);
  if (!Number.isInteger(answerIndex) || answerIndex < 0 || answerIndex >= choices.length) {
    throw new Error(`answer index ${answerIndex} is not one of the ${choices.length} choices`);
  }
  const letters = LETTERS.slice(0, choices.length);
  return {
    messages: [
      { role: 'user', content: multipleChoicePrompt(question, choices, letters) },
      { role: 'assistant', content: letters[answerIndex] },
    ],
    letters,
    meta: { ...meta, answer: letters[answerIndex] },
  };
}

/** Scoring: the completion (the chosen letter, possibly with whitespace) equals the gold letter. */
export function evaluateLetter(conv: Conversation, completion: string): boolean {
  const gold = conv.meta?.answer;
  if (typeof gold !== 'string') throw new Error('multiple-choice conversation without meta.answer');
  return completion.trim() === gold;
}
