/**
 * The training mixtures of midtraining and SFT, built from the data we actually have.
 *
 * Substitutes for the reference's data sets (none of which we can download):
 *  - SmolTalk (460k general conversations) -> GeneralConversations: ~8.3k training conversations
 *    from sft/ (Alpaca-GPT4 demo, GPTeacher roleplay and codegen, LIMA), every 20th held out as
 *    the test split. The evaluation sets AlpacaEval, MT-bench and Self-Instruct user-oriented are
 *    never trained on (see conversations.ts).
 *  - MMLU auxiliary_train (100k multiple-choice questions, which is itself mostly ARC, OBQA, RACE
 *    and MCTest) -> multiple-choice practice from MMLU dev (285 questions, 5 per subject: the
 *    split the MMLU authors meant for few-shot examples, never the test set) plus ARC-Easy train
 *    (2,251) and ARC-Challenge train (1,056 of 1,119). The MMLU test and ARC test sets stay out of
 *    training, so chat-eval scores on them stay honest.
 *  - Identity conversations (the reference's ~1k LLM-generated ones) -> identity_template (91) and
 *    FastChat's identity chats rewritten to nanochat (500); listed twice in midtraining.
 *  - The spelling tasks are generated, so we have them in any amount; the reference's midtraining
 *    sizes (200k SimpleSpelling, 80k SpellingBee, a third of its ~850k mixture) would swamp our
 *    ~20k other conversations, so the defaults keep the same share: 7,000 + 3,000 (about a third),
 *    keeping the reference's 5:2 ratio roughly. SFT uses 300 + 300 as the reference.
 *  - GSM8K train, ARC train: the real sets (7,473; 2,251 and 1,056).
 *
 * Validation: midtraining uses general-conversation test + MMLU test (first 5,200) + GSM8K test
 * (first 420), as the reference; SFT uses the general-conversation test split.
 */

import { ARC } from './arc.js';
import { GeneralConversations } from './conversations.js';
import { defaultDataDir } from './files.js';
import { GSM8K } from './gsm8k.js';
import { IdentityConversations } from './identity.js';
import { TaskMixture } from './mixture.js';
import { MMLU } from './mmlu.js';
import { SimpleSpelling, SpellingBee } from './spelling.js';
import type { Task } from './task.js';

export interface MixtureOptions {
  /** shuffle seed of the mixture (default 42) */
  seed?: number;
  /** the author named by the identity conversations */
  author?: string;
  /** SimpleSpelling examples (mid default 7000, SFT 300) */
  simpleSpelling?: number;
  /** SpellingBee examples (mid default 3000, SFT 300) */
  spellingBee?: number;
  /** cap on general conversations (SFT default 10000 = all we have) */
  generalConversations?: number;
}

/** Multiple-choice practice standing in for MMLU auxiliary_train (see the comment at the top). */
function multipleChoicePractice(dataDir: string): Task[] {
  return [
    new MMLU({ split: 'dev', dataDir }),
    new ARC({ subset: 'ARC-Easy', split: 'train', dataDir }),
    new ARC({ subset: 'ARC-Challenge', split: 'train', dataDir }),
  ];
}

export function midTrainMixture(dataDir: string = defaultDataDir(), opts: MixtureOptions = {}): TaskMixture {
  const identity = new IdentityConversations({ dataDir, author: opts.author });
  return new TaskMixture(
    [
      new GeneralConversations({ split: 'train', dataDir, stop: opts.generalConversations }),
      ...multipleChoicePractice(dataDir),
      new GSM8K({ split: 'train', dataDir }),
      identity,
      identity, // twice: oversampled x2 as in the reference
      new SimpleSpelling({ split: 'train', size: opts.simpleSpelling ?? 7000, dataDir }),
      new SpellingBee({ split: 'train', size: opts.spellingBee ?? 3000, dataDir }),
    ],
    { seed: opts.seed, name: 'mid-train' },
  );
}

export function midValMixture(dataDir: string = defaultDataDir(), opts: { seed?: number } = {}): TaskMixture {
  return new TaskMixture(
    [
      new GeneralConversations({ split: 'test', dataDir }),
      new MMLU({ split: 'test', dataDir, stop: 5200 }),
      new GSM8K({ split: 'test', dataDir, stop: 420 }),
    ],
    { seed: opts.seed, name: 'mid-val' },
  );
}

export function sftMixture(dataDir: string = defaultDataDir(), opts: MixtureOptions = {}): TaskMixture {
  return new TaskMixture(
    [
      new ARC({ subset: 'ARC-Easy', split: 'train', dataDir }),
      new ARC({ subset: 'ARC-Challenge', split: 'train', dataDir }),
      new GSM8K({ split: 'train', dataDir }),
      new GeneralConversations({ split: 'train', dataDir, stop: opts.generalConversations ?? 10_000 }),
      new IdentityConversations({ dataDir, author: opts.author }),
      new SimpleSpelling({ split: 'train', size: opts.simpleSpelling ?? 300, dataDir }),
      new SpellingBee({ split: 'train', size: opts.spellingBee ?? 300, dataDir }),
    ],
    { seed: opts.seed, name: 'sft' },
  );
}

export function sftValTask(dataDir: string = defaultDataDir()): Task {
  return new GeneralConversations({ split: 'test', dataDir });
}
