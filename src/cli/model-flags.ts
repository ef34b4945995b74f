// The flags that pick a checkpoint, the same on every command that loads a model:
// `-i/--source base|mid|sft|rl`, `--model-tag d<N>` (default: the deepest), `--step N` (default: the latest).

import type { ModelChoice } from '../checkpoint/load.js';
import { parseStage, type Stage } from '../checkpoint/checkpoint.js';
import type { SourceChoice } from '../train/source.js';
import { num, str, type FlagSpec, type Parsed } from './flags.js';

/** The three flags; `defaultSource` undefined makes -i required (checked by modelChoice). */
export function modelFlags(defaultSource?: string, stages = 'base, mid, sft or rl'): FlagSpec {
  return {
    source: {
      type: 'string', short: 'i', ...(defaultSource ? { default: defaultSource } : {}),
      help: `checkpoint stage: ${stages}, or nanochat:DIR (a checkpoint folder of nanochat's)${defaultSource ? '' : ' (required)'}`,
    },
    'model-tag': { type: 'string', help: 'checkpoint tag (default: the deepest d<N>)' },
    step: { type: 'string', help: 'checkpoint step (default: the latest)' },
  };
}

/** The checkpoint the flags name; `source` overrides -i for commands that load one fixed stage. */
export function modelChoice(p: Parsed, source?: string): ModelChoice & { source: string } {
  const s = source ?? str(p, 'source');
  if (s === undefined) throw new Error('modelChoice: no -i/--source default and none given'); // caller checks first
  const step = p.values.step !== undefined ? num(p, 'step', { min: 0 }) : undefined;
  return { source: s, tag: str(p, 'model-tag'), step };
}

/** Flags shared by the chat training stages (mid, SFT, RL): where the model comes from and goes. */
export const SOURCE_FLAGS: FlagSpec = {
  source: { type: 'string', short: 'i', help: 'checkpoints to start from: base, mid or sft' },
  'model-tag': { type: 'string', help: 'tag of the source checkpoint (default: the deepest); the output uses the same tag' },
  step: { type: 'string', help: 'step of the source checkpoint (default: the latest)' },
  'resume-from-step': { type: 'string', help: 'continue this stage\'s own killed run from its checkpoint at this step, or `latest`' },
  'max-conversations': { type: 'string', help: 'use only the first N conversations of the shuffled mixture (quick runs)' },
};

export function parseSource(p: Parsed, defaultSource: Stage): SourceChoice {
  const resume = str(p, 'resume-from-step');
  return {
    source: parseStage(str(p, 'source') ?? defaultSource),
    tag: str(p, 'model-tag'),
    step: p.values.step !== undefined ? num(p, 'step', { min: 0 }) : undefined,
    resume: resume === undefined ? undefined : resume === 'latest' ? 'latest' : num(p, 'resume-from-step', { min: 0 }),
    maxConversations: p.values['max-conversations'] !== undefined ? num(p, 'max-conversations', { min: 1 }) : undefined,
  };
}

