// GSM8K grade-school math: the worked solution becomes an assistant message whose
// calculator annotations `<<expr=result>>` are tool calls: a python part with `expr` followed by
// a python_output part with `result`. The text around them stays as written (GSM8K repeats the
// result after the annotation: "48/2 = <<48/2=24>>24 clips"), and the answer ends "#### N".

import type { Conversation, Part } from '../chat/conversation.js';
import { extractFinalAnswer, sameAnswer } from './answers.js';
import { defaultDataDir, readJsonl } from './files.js';
import { SlicedEvalTask, type SliceOptions } from './task.js';

interface Gsm8kRow {
  question: string;
  answer: string;
}

/** Split a GSM8K solution into text / python / python_output parts. */
export function gsm8kAnswerParts(answer: string): Part[] {
  const parts: Part[] = [];
  // the capture group keeps the annotations in the split result, at odd positions
  answer.split(/(<<[^>]*>>)/).forEach((piece, k) => {
    if (k % 2 === 1) {
      const inner = piece.slice(2, -2);
      const eq = inner.lastIndexOf('=');
      // every annotation in the data has "=", but stay total: no "=" means no known result
      const expr = eq === -1 ? inner : inner.slice(0, eq);
      const result = eq === -1 ? '' : inner.slice(eq + 1);
      parts.push({ type: 'python', text: expr }, { type: 'python_output', text: result });
    } else if (piece !== '') {
      parts.push({ type: 'text', text: piece });
    }
  });
  return parts;
}

export interface Gsm8kOptions extends SliceOptions {
  split: 'train' | 'test';
  dataDir?: string;
}

export class GSM8K extends SlicedEvalTask {
  readonly name: string;
  readonly evalType = 'generative' as const;
  private readonly rows: Gsm8kRow[];

  constructor(opts: Gsm8kOptions) {
    super(opts);
    if (opts.split !== 'train' && opts.split !== 'test') throw new Error(`GSM8K split must be train or test, got ${opts.split}`);
    this.name = `gsm8k-${opts.split}`;
    this.rows = readJsonl<Gsm8kRow>(opts.dataDir ?? defaultDataDir(), 'gsm8k', `${opts.split}.jsonl`);
  }

  protected fullSize(): number {
    return this.rows.length;
  }

  protected example(i: number): Conversation {
    const row = this.rows[i];
    return {
      messages: [
        { role: 'user', content: row.question },
        { role: 'assistant', content: gsm8kAnswerParts(row.answer) },
      ],
      meta: { index: i, answer: extractFinalAnswer(row.answer) ?? '' },
    };
  }

  /** Correct when the completion's `#### N` is the reference's string, commas ignored ("72.0" and "72." are wrong). */
  evaluate(conv: Conversation, completion: string): boolean {
    return sameAnswer(extractFinalAnswer(completion), referenceAnswer(conv));
  }
}

/** The expected `#### N` answer of a task conversation (from meta, else from the assistant text). */
export function referenceAnswer(conv: Conversation): string | null {
  const fromMeta = conv.meta?.answer;
  if (typeof fromMeta === 'string' && fromMeta !== '') return fromMeta;
  const last = conv.messages[conv.messages.length - 1];
  if (last?.role !== 'assistant') return null;
  const text = typeof last.content === 'string' ? last.content : last.content.filter((p) => p.type === 'text').map((p) => p.text).join('');
  return extractFinalAnswer(text);
}
