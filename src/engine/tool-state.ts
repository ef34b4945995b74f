// The per-row tool-use state machine.
//
//   model writes <|python_start|> e x p r <|python_end|>
//   engine evaluates "expr" with the safe calculator and forces
//   <|output_start|> r e s u l t <|output_end|>  into the row, one token per step
//
// Forced tokens replace whatever the model sampled at that step and are marked `forced`, so RL
// excludes them from the loss (the model never chose them) and the chat format's loss mask agrees
// (tool outputs are 0 there too). As in the reference, an expression the calculator refuses forces
// nothing: the model simply continues. `<|assistant_end|>` or `<|bos|>` ends the row.

import { calculate } from './calculator.js';
import type { TextTokenizer } from '../tokenizer/types.js';

/** The special token ids the engine reacts to. */
export interface EngineSpecials {
  bos: number;
  assistantEnd: number;
  pythonStart: number;
  pythonEnd: number;
  outputStart: number;
  outputEnd: number;
}

export function engineSpecials(tok: TextTokenizer): EngineSpecials {
  return {
    bos: tok.bosId(),
    assistantEnd: tok.specialId('<|assistant_end|>'),
    pythonStart: tok.specialId('<|python_start|>'),
    pythonEnd: tok.specialId('<|python_end|>'),
    outputStart: tok.specialId('<|output_start|>'),
    outputEnd: tok.specialId('<|output_end|>'),
  };
}

/** What a row does with one step: the token it takes, whether it was forced, whether it ends the row. */
export interface RowDecision {
  token: number;
  forced: boolean;
  ends: boolean;
}

/** Longest expression we collect (tokens); past it the block is dropped (the calculator caps characters too). */
const MAX_EXPR_TOKENS = 256;

export class ToolRow {
  private readonly forcedQueue: number[] = [];
  private inPython = false;
  private expr: number[] = [];
  /** calculator calls made by this row: expression, answer or refusal (for logs and tests) */
  readonly calls: { expression: string; result?: string; error?: string }[] = [];

  constructor(private readonly tok: TextTokenizer, private readonly sp: EngineSpecials) {}

  /** Tokens waiting to be forced (after a tool call). */
  get pendingForced(): number {
    return this.forcedQueue.length;
  }

  /** Take this step's token: a pending forced token if any, else the sampled one; update the state. */
  step(sampled: number): RowDecision {
    const forced = this.forcedQueue.length > 0;
    const token = forced ? (this.forcedQueue.shift() as number) : sampled;
    const ends = token === this.sp.assistantEnd || token === this.sp.bos;
    if (!forced) this.observe(token);
    return { token, forced, ends };
  }

  private observe(token: number): void {
    if (token === this.sp.pythonStart) {
      this.inPython = true;
      this.expr = [];
    } else if (token === this.sp.pythonEnd && this.inPython) {
      this.inPython = false;
      const expression = this.tok.decode(this.expr);
      const r = calculate(expression);
      if (r.ok) {
        this.calls.push({ expression, result: r.value });
        this.forcedQueue.push(this.sp.outputStart, ...this.tok.encode(r.value), this.sp.outputEnd);
      } else {
        this.calls.push({ expression, error: r.error });
      }
      this.expr = [];
    } else if (this.inPython) {
      if (this.expr.length < MAX_EXPR_TOKENS) this.expr.push(token);
      else this.inPython = false; // runaway block: stop collecting, force nothing
    }
  }
}
