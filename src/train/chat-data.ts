// Batches of conversations for the chat stages.
//
// Midtraining packs rendered conversations into rows exactly like pretraining packs documents (best
// fit, each row starting at a conversation's <|bos|>), and trains on every token. SFT gives each
// conversation its own row: targets outside the loss mask become -1, and each micro-batch is padded
// to its longest row, rounded up to a multiple of 64 so the activation arena sees few distinct shapes.

import type { Conversation } from '../chat/conversation.js';
import { renderConversation } from '../chat/render.js';
import type { TextTokenizer } from '../tokenizer/types.js';
import type { Task } from '../tasks/task.js';
import { packRows } from '../data/dataloader.js';
import type { Batch } from '../data/batch.js';

/** Render every conversation of a task (ids only, cropped to maxTokens). */
export function renderAll(tok: TextTokenizer, task: Task, maxTokens: number): Int32Array[] {
  const out: Int32Array[] = [];
  for (let i = 0; i < task.size(); i++) out.push(Int32Array.from(renderConversation(tok, task.get(i), maxTokens).ids));
  return out;
}

export interface PackerState {
  epoch: number;
  next: number;
  buffered: number[];
}

/** Best-fit packing of in-memory token sequences into rows of T+1 tokens; loops over epochs. */
export class ConversationPacker {
  private buffer: { index: number; tokens: Int32Array }[] = [];
  private epoch = 0;
  private next = 0;

  constructor(
    private readonly docs: Int32Array[],
    readonly B: number,
    readonly T: number,
    private readonly opts: { bufferSize?: number; state?: PackerState; loop?: boolean } = {},
  ) {
    if (docs.length === 0) throw new Error('no conversations to pack');
    if (opts.state) {
      this.epoch = opts.state.epoch;
      this.next = opts.state.next;
      this.buffer = opts.state.buffered.map((index) => ({ index, tokens: docs[index] }));
    }
  }

  state(): PackerState {
    return { epoch: this.epoch, next: this.next, buffered: this.buffer.map((d) => d.index) };
  }

  /** Epochs completed so far plus the fraction of the current one (drives the LR schedule). */
  progress(): number {
    return this.epoch + this.next / this.docs.length;
  }

  private fill(): void {
    const size = this.opts.bufferSize ?? 100;
    while (this.buffer.length < size) {
      if (this.next >= this.docs.length) {
        if (this.opts.loop === false) return;
        this.epoch++;
        this.next = 0;
      }
      this.buffer.push({ index: this.next, tokens: this.docs[this.next] });
      this.next++;
    }
  }

  /** B packed rows; a non-looping packer that runs dry returns the rows it completed (evaluation), then null. */
  async nextBatch(): Promise<Batch | null> {
    const batch = await packRows(this.buffer, this.B, this.T, () => this.fill());
    return batch && { T: this.T, ...batch };
  }
}

/**
 * One SFT micro-batch from conversations: each its own row (at most maxLen tokens of input), targets
 * masked to -1 outside assistant tokens, padding targets -1 (a batch with no trainable token adds zero loss).
 */
export function sftBatch(tok: TextTokenizer, convs: Conversation[], maxLen: number): Batch {
  const rows = convs.map((c) => {
    const { ids, mask } = renderConversation(tok, c, maxLen + 1);
    return { ids, mask };
  });
  const longest = Math.max(...rows.map((r) => r.ids.length - 1), 1);
  const T = Math.min(maxLen, Math.ceil(longest / 64) * 64);
  const B = rows.length;
  const pad = tok.specialId('<|assistant_end|>');
  const inputs = new Int32Array(B * T).fill(pad), targets = new Int32Array(B * T).fill(-1);
  rows.forEach(({ ids, mask }, b) => {
    for (let t = 0; t + 1 < ids.length && t < T; t++) {
      inputs[b * T + t] = ids[t];
      targets[b * T + t] = mask[t + 1] ? ids[t + 1] : -1;
    }
  });
  return { inputs, targets, B, T };
}
