// ARC-Easy and ARC-Challenge (AI2 Reasoning Challenge) as multiple-choice conversations.
// Rows carry their own labels, usually "A".."D" but about 4% use "1".."4", and a few items have 3
// or 5 choices: we always present the choices with the letters A, B, C, ... in the given order,
// and find the gold answer by its position among the labels, so numeric labels map to letters.

import type { Conversation } from '../chat/conversation.js';
import { UserError } from '../common/errors.js';
import { defaultDataDir, readJsonl } from './files.js';
import { evaluateLetter, multipleChoiceConversation } from './multiple-choice.js';
import { SlicedEvalTask, type SliceOptions } from './task.js';

interface ArcRow {
  id: string;
  question: string;
  choices: { text: string[]; label: string[] };
  answerKey: string;
}

export type ArcSubset = 'ARC-Easy' | 'ARC-Challenge';
/** What we have: ARC-Easy train/validation/test; ARC-Challenge test and 1,056 of its 1,119 train rows. */
const FILES: Record<ArcSubset, Partial<Record<string, string>>> = {
  'ARC-Easy': { train: 'train.jsonl', validation: 'validation.jsonl', test: 'test.jsonl' },
  'ARC-Challenge': { train: 'train_subset.jsonl', test: 'test.jsonl' },
};

export interface ArcOptions extends SliceOptions {
  subset: ArcSubset;
  split: 'train' | 'validation' | 'test';
  dataDir?: string;
}

export class ARC extends SlicedEvalTask {
  readonly name: string;
  readonly evalType = 'categorical' as const;
  private readonly rows: ArcRow[];

  constructor(opts: ArcOptions) {
    super(opts);
    const file = FILES[opts.subset]?.[opts.split];
    if (!file) {
      const have = FILES[opts.subset] ? Object.keys(FILES[opts.subset]).join(', ') : 'none';
      throw new UserError(`no ${opts.subset} ${opts.split} split in the data (available: ${have})`);
    }
    this.name = `${opts.subset.toLowerCase()}-${opts.split}`;
    const path = `${opts.subset}/${file}`;
    this.rows = readJsonl<ArcRow>(opts.dataDir ?? defaultDataDir(), 'arc', path);
    this.rows.forEach((r, k) => {
      if (!r.choices?.label?.includes(r.answerKey) || r.choices.label.length !== r.choices.text.length) {
        throw new UserError(`arc/${path} row ${k + 1} (${r.id}): answer '${r.answerKey}' is not among the labels`);
      }
    });
  }

  protected fullSize(): number {
    return this.rows.length;
  }

  protected example(i: number): Conversation {
    const r = this.rows[i];
    const answerIndex = r.choices.label.indexOf(r.answerKey);
    return multipleChoiceConversation(r.question, r.choices.text, answerIndex, { id: r.id, index: i });
  }

  evaluate(conv: Conversation, completion: string): boolean {
    return evaluateLetter(conv, completion);
  }
}
