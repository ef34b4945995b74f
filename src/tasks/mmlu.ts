// MMLU (57 subjects) as multiple-choice conversations. The csv files have the header
// question,choice0,choice1,choice2,choice3,answer with answer an index 0-3; the subject is the
// file name. Quoted fields can hold commas and newlines, hence the real CSV parser.

import { readdirSync } from 'node:fs';
import type { Conversation } from '../chat/conversation.js';
import { UserError } from '../common/errors.js';
import { parseCsvWithHeader } from '../common/csv.js';
import { dataFile, defaultDataDir, readDataText } from './files.js';
import { evaluateLetter, multipleChoiceConversation } from './multiple-choice.js';
import { SlicedEvalTask, type SliceOptions } from './task.js';

export interface MmluRow {
  subject: string;
  question: string;
  choices: string[];
  answer: number;
}

export interface MmluOptions extends SliceOptions {
  split: 'test' | 'dev';
  dataDir?: string;
  /** only these subjects (file names without the _<split>.csv suffix); default all 57 */
  subjects?: string[];
}

/** All rows of one MMLU split, subjects in alphabetical order, rows in file order. */
export function loadMmlu(dir: string, split: 'test' | 'dev', subjects?: string[]): MmluRow[] {
  const folder = dataFile(dir, 'mmlu', split);
  const suffix = `_${split}.csv`;
  const available = readdirSync(folder).filter((f) => f.endsWith(suffix)).map((f) => f.slice(0, -suffix.length)).sort();
  if (available.length === 0) throw new UserError(`no MMLU csv files in ${folder}: run \`nanochat data download --only mmlu\``);
  const wanted = subjects ?? available;
  const rows: MmluRow[] = [];
  for (const subject of wanted) {
    if (!available.includes(subject)) throw new UserError(`unknown MMLU subject '${subject}' (have: ${available.join(', ')})`);
    const records = parseCsvWithHeader(readDataText(dir, 'mmlu', `${split}/${subject}${suffix}`));
    records.forEach((r, k) => {
      const answer = Number(r.answer);
      if (!Number.isInteger(answer) || answer < 0 || answer > 3) {
        throw new UserError(`mmlu/${split}/${subject}${suffix} record ${k + 1}: answer '${r.answer}' is not 0-3`);
      }
      rows.push({ subject, question: r.question, choices: [r.choice0, r.choice1, r.choice2, r.choice3], answer });
    });
  }
  return rows;
}

export class MMLU extends SlicedEvalTask {
  readonly name: string;
  readonly evalType = 'categorical' as const;
  readonly rows: MmluRow[];

  constructor(opts: MmluOptions) {
    super(opts);
    if (opts.split !== 'test' && opts.split !== 'dev') throw new Error(`MMLU split must be test or dev, got ${opts.split}`);
    this.name = `mmlu-${opts.split}`;
    this.rows = loadMmlu(opts.dataDir ?? defaultDataDir(), opts.split, opts.subjects);
  }

  protected fullSize(): number {
    return this.rows.length;
  }

  protected example(i: number): Conversation {
    const r = this.rows[i];
    return multipleChoiceConversation(r.question, r.choices, r.answer, { subject: r.subject, index: i });
  }

  evaluate(conv: Conversation, completion: string): boolean {
    return evaluateLetter(conv, completion);
  }
}
