// The speedrun's tiers: named configurations of the whole pipeline, in one readable place.
//
// Every stage is a `nanochat` command with its flags; the speedrun runs them in this order. A tier fixes
// the model and the data sizes (its shape) and gives each stage a time budget; the step counts and
// evaluation sizes (its counts) are set on each machine from a short calibration of its training
// rate (plan.ts), so `tiny` ends within 30 minutes and `cpu` within 3 hours on a fast AVX-512 machine
// and on a slower AVX2-only one alike. `--depth` is the dial that sets the model.

export interface StageRun {
  /** the command and its flags */
  args: string[];
  /** which checkpoints this stage writes, so an interrupted run can resume from them */
  resumes?: 'base' | 'mid' | 'sft' | 'rl';
}

/** What a tier fixes: the model, the tokenizer, the batch and the data sizes. */
export interface TierShape {
  vocab: number; maxChars: number; depth: number; headDim: number; seqLen: number; rows: number; batchTokens: number;
  evalTokens: number; splitTokens: number; midConversations: number; sftConversations: number;
  evalTokensOut: number; rlQuestions: number; rlSamples: number; rlTokens: number;
}

/** What the calibration sets: how long each stage runs. */
export interface Counts {
  baseSteps: number; midSteps: number; sftSteps: number; rlSteps: number; evalProblems: number; coreMaxPerTask: number;
}

export type BudgetedStage = 'base' | 'mid' | 'sft' | 'rl' | 'evals';

/**
 * How a tier's budgets become counts. Costs are in training-token equivalents (seconds x the
 * calibrated tokens/s of the tier's model), measured from a run of the tier: a unit's cost divided
 * by this machine's rate is its time here.
 */
export interface Sizing {
  /** wall-clock seconds per stage; the evaluations (base-eval and every chat-eval) share one budget */
  budgets: Record<BudgetedStage, number>;
  /** cost of one step of each training stage */
  stepCost: Record<'base' | 'mid' | 'sft' | 'rl', number>;
  /** cost of all the evaluations at the full sizes below */
  evalCost: number;
  /** the largest evaluation sizes: a fast machine runs these, a slower one fewer problems */
  fullEval: { evalProblems: number; coreMaxPerTask: number };
}

export interface Tier {
  name: string;
  description: string;
  /** the tier trains on a GPU (the webgpu backend on a hardware adapter) and refuses to start on a CPU backend */
  needsGpu?: boolean;
  shape: TierShape;
  /** time budgets (calibrated per machine) or, for a tier that is not calibrated, fixed counts */
  sizing: Sizing | Counts;
}

/**
 * Rows per pass for a device whose largest buffer holds `maxElements` floats: the tier's rows, halved until the
 * largest activation, the [rows x seqLen, vocab padded to 64] logits, fits (gradient accumulation keeps the step's
 * tokens). Undefined when not even one row fits.
 */
export function rowsThatFit(shape: TierShape, maxElements: number): number | undefined {
  const perRow = shape.seqLen * Math.ceil(shape.vocab / 64) * 64;
  let rows = shape.rows;
  while (rows > 1 && rows * perRow > maxElements) rows = Math.floor(rows / 2);
  return rows * perRow <= maxElements ? rows : undefined;
}

/** The pipeline with a tier's sizes filled in. */
export function pipeline(shape: TierShape, counts: Counts): StageRun[] {
  const s = { ...shape, ...counts, evalEvery: Math.max(1, Math.floor(counts.baseSteps / 4)) };
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
      // chat-sft's own default of 4 conversations a pass, fewer where a GPU fits fewer rows of logits (checkGpu)
      args: ['chat-sft', '--device-batch-size', String(Math.min(4, s.rows)), '--max-conversations', String(s.sftConversations), '--num-iterations', String(s.sftSteps), '--eval-every', String(Math.max(1, Math.floor(s.sftSteps / 4))),
        '--eval-metrics-every', String(s.sftSteps), '--eval-metrics-max-problems', String(s.evalProblems), '--save-every', String(Math.max(1, Math.floor(s.sftSteps / 4)))],
      resumes: 'sft',
    },
    chatEval('sft'),
  ];
  if (s.rlSteps > 0) {
    stages.push(
      {
        args: ['chat-rl', '--num-iterations', String(s.rlSteps), '--examples-per-step', String(s.rlQuestions), '--num-samples', String(s.rlSamples),
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
    description: 'the whole pipeline on a 2-core CPU within 30 minutes: a d4 model (5M parameters) that answers in the chat format',
    shape: {
      vocab: 4096, maxChars: 20_000_000, depth: 4, headDim: 64, seqLen: 256, rows: 32, batchTokens: 8192,
      evalTokens: 65_536, splitTokens: 131_072, midConversations: 12_000, sftConversations: 3200,
      evalTokensOut: 128, rlQuestions: 4, rlSamples: 8, rlTokens: 96,
    },
    // Costs measured on a tiny run (2-core AMD EPYC with AVX-512, other work sharing the cores): each stage's seconds
    // times the training rate of the same run (~5,400 tokens/s): midtraining 207 steps in 335 s (in-loop evaluations
    // included), SFT 146 in 250 s, RL 24 in 81 s, all the evaluations at 64 problems and 24 CORE items 104 s.
    // Budgets sum to 22.3 minutes; data, the tokenizer, the calibration and the report add under a minute.
    sizing: {
      budgets: { base: 840, mid: 170, sft: 120, rl: 90, evals: 120 },
      stepCost: { base: 8192, mid: 8750, sft: 9250, rl: 18_200 },
      evalCost: 560_000,
      fullEval: { evalProblems: 64, coreMaxPerTask: 24 },
    },
  },
  cpu: {
    name: 'cpu',
    // Costs from the cpu run of 2026-12-01 (2-core AMD EPYC Zen 5, AVX-512 BF16), in units of its quiet base-training
    // rate, 5,650 tokens/s (2.9 s a step of 16,384 tokens): midtraining 3.2 s a step with its in-loop evaluations, SFT
    // 4.0 s, RL 12 s; the evaluations at 200 problems and 100 CORE items 16 minutes (base-eval 6, chat-eval mid 5, SFT
    // 3.5, RL's GSM8K 1.5). SFT, RL and above all the evaluations (decoding) sped up less than base training since the
    // previous measured run (2,455 tokens/s), so their costs grew in these units. Budgets sum to 2h30m; the rest of the
    // pipeline adds about 5 minutes.
    description: 'within 3 hours on the same 2-core machine: the best model this CPU makes in that time (d6, 17M parameters, vocab 8192)',
    shape: {
      vocab: 8192, maxChars: 100_000_000, depth: 6, headDim: 64, seqLen: 512, rows: 16, batchTokens: 16_384,
      evalTokens: 262_144, splitTokens: 524_288, midConversations: 31_000, sftConversations: 20_000,
      evalTokensOut: 192, rlQuestions: 8, rlSamples: 8, rlTokens: 160,
    },
    sizing: {
      budgets: { base: 4500, mid: 1200, sft: 1500, rl: 900, evals: 900 },
      stepCost: { base: 16_384, mid: 18_100, sft: 22_600, rl: 68_000 },
      evalCost: 5_400_000,
      fullEval: { evalProblems: 200, coreMaxPerTask: 100 },
    },
  },
  d20: {
    name: 'd20',
    description: 'the reference configuration: vocab 65,536, depth 20 (561M parameters), 524,288-token batches, for a GPU machine',
    needsGpu: true,
    shape: {
      vocab: 65_536, maxChars: 2_000_000_000, depth: 20, headDim: 128, seqLen: 2048, rows: 32, batchTokens: 524_288,
      evalTokens: 10_485_760, splitTokens: 10_485_760, midConversations: 1_000_000, sftConversations: 1_000_000,
      evalTokensOut: 512, rlQuestions: 16, rlSamples: 16, rlTokens: 256,
    },
    sizing: { baseSteps: 21_400, midSteps: 800, sftSteps: 650, rlSteps: 467, evalProblems: 1_000_000, coreMaxPerTask: 500 },
  },
};
