// Reading the final answer out of a GSM8K-style solution: the number after "#### ".
//
// Answers compare as strings, exactly as the reference: "18.0" and "18." are not "18". The model is
// taught to write the integer the data writes, and the RL reward pays only for that form; a lenient
// match would reward answers the training data never shows.

const FINAL_ANSWER = /#### (-?[0-9.,]+)/;

/** The `#### N` answer of a text with thousands commas removed (a trailing period kept), or null when there is none. */
export function extractFinalAnswer(text: string): string | null {
  const m = FINAL_ANSWER.exec(text);
  return m ? m[1].replace(/,/g, '') : null;
}

/** Whether an extracted answer is the reference answer: the same string, and there is one. */
export function sameAnswer(answer: string | null, reference: string | null): boolean {
  return answer !== null && reference !== null && reference !== '' && answer === reference;
}
