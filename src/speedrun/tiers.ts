// The speedrun's tiers: named configurations of the whole pipeline, in one readable place.
//
// Every stage is a `nanochat` subcommand with its flags; the speedrun runs them in this order. A tier
// is sized for a machine and a time budget; `--depth` is the dial that sets the model.

export interface StageRun {
  /** the subcommand and its flags */
  args: string[];
  /** which checkpoints this stage writes, so an interrupted run can resume from them */
  resumes?: 'base' | 'mid' | 'sft' | 'rl';
}

export interface Tier {
  name: string;
  description: string;
  /** refuse to run, with this message, when the machine cannot (e.g. no GPU backend yet) */
  unavailable?: string;
  stages: StageRun[];
}

/** The pipeline with a tier's sizes filled in. */
function pipeline(s: {
  vocab: number; maxChars: number; depth: number; headDim: number; seqLen: number; rows: number; batchTokens: number;
  baseSteps: number; evalEvery: number; evalTokens: number; coreMaxPerTask: number; splitTokens: number;
  midConversations: number; midSteps: number; sftConversations: number; sftSteps: number;
  evalProblems: number; evalTokensOut: number; rlSteps: number; rlQuestions: number; rlSamples: number; rlTokens: number;
}): StageRun[] {
  const chatEval = (source: string): StageRun => ({
    args: ['chat-eval', '-i', source, '--max-problems', String(s.evalProblems), '--max-new-tokens', String(s.evalTokensOut)],
  });
  const stages: StageRun[] = [
    { args: ['data', 'download'] },
    { args: ['tok-train', '--vocab-size', String(s.vocab), '--max-chars', String(s.maxChars)] },
    { args: ['tok-eval'] },
    {
      args: ['base-train', '--depth', String(s.depth), '--head-dim', String(s.headDim), '--max-seq-len', String(s.seqLen),
        '--device-batch-size', String(s.rows), '--total-batch-size', String(s.batchTokens), '--num-iterations', String(s.baseSteps),
        '--eval-every', String(s.evalEvery), '--eval-tokens', String(s.evalTokens), '--sample-every', String(s.baseSteps), '--save-every', String(s.evalEvery)],
      resumes: 'base',
    },
    { args: ['base-eval', '--max-per-task', String(s.coreMaxPerTask), '--split-tokens', String(s.splitTokens), '--device-batch-size', String(s.rows)] },
    {
      args: ['mid-train', '--max-conversations', String(s.midConversations), '--num-iterations', String(s.midSteps), '--eval-every', String(Math.max(1, Math.floor(s.midSteps / 4))),
        '--eval-tokens', String(s.evalTokens), '--save-every', String(Math.max(1, Math.floor(s.midSteps / 4)))],
      resumes: 'mid',
    },
    chatEval('mid'),
    {
      args: ['chat-sft', '--max-conversations', String(s.sftConversations), '--num-iterations', String(s.sftSteps), '--eval-every', String(Math.max(1, Math.floor(s.sftSteps / 4))),
        '--eval-metrics-every', String(s.sftSteps), '--eval-metrics-max-problems', String(s.evalProblems), '--save-every', String(Math.max(1, Math.floor(s.sftSteps / 4)))],
      resumes: 'sft',
    },
    chatEval('sft'),
  ];
  if (s.rlSteps > 0) {
    stages.push(
      {
        args: ['chat-rl', '--num-steps', String(s.rlSteps), '--examples-per-step', String(s.rlQuestions), '--num-samples', String(s.rlSamples),
          '--max-new-tokens', String(s.rlTokens), '--eval-every', String(s.rlSteps), '--eval-examples', String(s.evalProblems), '--eval-k', '4', '--save-every', String(Math.max(1, Math.floor(s.rlSteps / 2)))],
        resumes: 'rl',
      },
      { args: ['chat-eval', '-i', 'rl', '--max-problems', String(s.evalProblems), '--max-new-tokens', String(s.evalTokensOut), '-a', 'GSM8K'] },
    );
  }
  stages.push({ args: ['report'] });
  return stages;
}

export const TIERS: Record<string, Tier> = {
  tiny: {
    name: 'tiny',
    description: 'the whole pipeline on a 2-core CPU in about 30 minutes: a d4 model (5M parameters) that answers in the chat format',
    stages: pipeline({
      vocab: 4096, maxChars: 20_000_000, depth: 4, headDim: 64, seqLen: 256, rows: 32, batchTokens: 8192,
      baseSteps: 640, evalEvery: 160, evalTokens: 65_536, coreMaxPerTask: 24, splitTokens: 131_072,
      midConversations: 12_000, midSteps: 150, sftConversations: 3200, sftSteps: 100,
      evalProblems: 64, evalTokensOut: 128, rlSteps: 12, rlQuestions: 4, rlSamples: 8, rlTokens: 96,
    }),
  },
  cpu: {
    name: 'cpu',
    // sized from a measured d6 rate of ~2,500 tokens/s (MFU ~58% of 448 GFLOP/s, 2-core EPYC): base training 9.8M
    // tokens (~66 min), midtraining 2.5M (~17 min), SFT ~13 min, RL ~15 min, the evaluations ~25 min. Sized to
    // finish inside a 3-hour working session with room to spare; `--depth` and the step counts are the dials.
    description: 'about 2.5 hours on the same 2-core machine: the best model this CPU makes in that time (d6, 17M parameters, vocab 8192)',
    stages: pipeline({
      vocab: 8192, maxChars: 100_000_000, depth: 6, headDim: 64, seqLen: 512, rows: 16, batchTokens: 16_384,
      baseSteps: 600, evalEvery: 150, evalTokens: 262_144, coreMaxPerTask: 100, splitTokens: 524_288,
      midConversations: 31_000, midSteps: 150, sftConversations: 20_000, sftSteps: 200,
      evalProblems: 200, evalTokensOut: 192, rlSteps: 40, rlQuestions: 8, rlSamples: 8, rlTokens: 160,
    }),
  },
  d20: {
    name: 'd20',
    description: 'the reference configuration: vocab 65,536, depth 20 (561M parameters), 524,288-token batches, for a GPU machine',
    unavailable: 'the d20 tier needs a GPU backend, which nanochat-ts does not have yet (backends: ref, native CPU); run `nanochat speedrun --tier cpu` on this machine instead',
    stages: pipeline({
      vocab: 65_536, maxChars: 2_000_000_000, depth: 20, headDim: 128, seqLen: 2048, rows: 32, batchTokens: 524_288,
      baseSteps: 21_400, evalEvery: 250, evalTokens: 10_485_760, coreMaxPerTask: 500, splitTokens: 10_485_760,
      midConversations: 1_000_000, midSteps: 800, sftConversations: 1_000_000, sftSteps: 650,
      evalProblems: 1_000_000, evalTokensOut: 512, rlSteps: 467, rlQuestions: 16, rlSamples: 16, rlTokens: 256,
    }),
  },
};
