// Reading the final answer out of a GSM8K-style solution: the number after "#### ".

const FINAL_ANSWER = /#### (-?[0-9.,]+)/;

/** The `#### N` answer of a text with thousands commas removed, or null when there is none. */
export function extractFinalAnswer(text: string): string | null {
  const m = FINAL_ANSWER.exec(text);
  if (!m) return null;
  return m[1].replace(/,/g, '').replace(/\.$/, ''); // "#### 18." ends a sentence, not a decimal
}

/** Whether two extracted answers are the same number ("18" vs "18.0" count as equal). */
export function sameAnswer(a: string | null, b: string | null): boolean {
  if (a === null || b === null) return false;
  if (a === b) return true;
  const x = Number(a);
  const y = Number(b);
  return a !== '' && b !== '' && Number.isFinite(x) && Number.isFinite(y) && x === y;
}
