// The English word list behind the spelling tasks: dwyl words_alpha (370k lowercase a-z words,
// gzipped, CRLF line endings). Loaded once per data directory and shared by both tasks.

import { readDataText } from './files.js';

const cache = new Map<string, string[]>();

export function loadWords(dir: string): string[] {
  let words = cache.get(dir);
  if (!words) {
    words = readDataText(dir, 'english_words', 'words_alpha.txt.gz')
      .split('\n')
      .map((w) => w.trim()) // strips the \r of CRLF
      .filter((w) => /^[a-z]+$/.test(w));
    cache.set(dir, words);
  }
  return words;
}
