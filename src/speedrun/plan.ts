// A tier's plan on this machine: the calibrated training rate and the counts it sets, made once when
// the speedrun starts fresh and saved beside the stage markers. A resumed speedrun reads the saved plan
// instead of calibrating again, so the stages it resumes run with the step counts they started with
// (a killed and resumed run is the same run as an uninterrupted one).
//
//   steps of a training stage = budget seconds x tokens/s / cost of one step (training-token equivalents)
//   evaluation sizes          = full sizes x min(1, budget x tokens/s / cost of the full evaluations)

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../common/atomic.js';
import { UserError } from '../common/errors.js';
import type { Calibration } from './calibrate.js';
import type { BudgetedStage, Counts, Sizing, Tier } from './tiers.js';

export interface Plan {
  tier: string;
  /** how the counts were chosen: calibrated on this machine, or the tier's fixed counts */
  source: 'calibrated' | 'fixed';
  calibration?: Calibration;
  counts: Counts;
  /** seconds each budgeted stage is expected to take here */
  projected?: Record<BudgetedStage, number>;
  createdAt: string;
}

/** fewer steps than these make a stage meaningless (no warmdown, no evaluation in between) */
const MIN_STEPS = { base: 20, mid: 8, sft: 8, rl: 2 } as const;
const MIN_EVAL = { evalProblems: 16, coreMaxPerTask: 8 } as const;

export const isSizing = (s: Sizing | Counts): s is Sizing => 'budgets' in s;

/** Counts for a tier at `tokensPerSecond`, and how long each budgeted stage should then take. */
export function countsFor(
  sizing: Sizing, tokensPerSecond: number,
): { counts: Counts; projected: Record<BudgetedStage, number> } {
  const steps = (stage: 'base' | 'mid' | 'sft' | 'rl') =>
    Math.max(MIN_STEPS[stage], Math.floor((sizing.budgets[stage] * tokensPerSecond) / sizing.stepCost[stage]));
  const evalShare = Math.min(1, (sizing.budgets.evals * tokensPerSecond) / sizing.evalCost);
  const counts: Counts = {
    baseSteps: steps('base'), midSteps: steps('mid'), sftSteps: steps('sft'), rlSteps: steps('rl'),
    evalProblems: Math.max(MIN_EVAL.evalProblems, Math.floor(sizing.fullEval.evalProblems * evalShare)),
    coreMaxPerTask: Math.max(MIN_EVAL.coreMaxPerTask, Math.floor(sizing.fullEval.coreMaxPerTask * evalShare)),
  };
  const secs = (units: number, cost: number) => (units * cost) / tokensPerSecond;
  const projected = {
    base: secs(counts.baseSteps, sizing.stepCost.base), mid: secs(counts.midSteps, sizing.stepCost.mid),
    sft: secs(counts.sftSteps, sizing.stepCost.sft), rl: secs(counts.rlSteps, sizing.stepCost.rl),
    evals: (sizing.evalCost * (counts.evalProblems / sizing.fullEval.evalProblems)) / tokensPerSecond,
  };
  return { counts, projected };
}

const planPath = (markerDir: string) => join(markerDir, 'plan.json');

/** The saved plan of this tier's run, if the run has started. */
export function readPlan(markerDir: string): Plan | undefined {
  const path = planPath(markerDir);
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Plan;
  } catch (e) {
    throw new UserError(
      `cannot read the speedrun plan ${path} (${(e as Error).message}); delete the folder ${markerDir} to start afresh`,
    );
  }
}

/** Make the plan: calibrate (a few seconds) when the tier has budgets, else take its fixed counts. */
export async function makePlan(tier: Tier, markerDir: string, calibrate: () => Promise<Calibration>): Promise<Plan> {
  let plan: Plan;
  if (isSizing(tier.sizing)) {
    const calibration = await calibrate();
    const { counts, projected } = countsFor(tier.sizing, calibration.tokensPerSecond);
    const createdAt = new Date().toISOString();
    plan = { tier: tier.name, source: 'calibrated', calibration, counts, projected, createdAt };
  } else {
    plan = { tier: tier.name, source: 'fixed', counts: tier.sizing, createdAt: new Date().toISOString() };
  }
  writeFileAtomic(planPath(markerDir), [JSON.stringify(plan, null, 2) + '\n']);
  return plan;
}

/** The plan as markdown lines for the report and as the terminal's summary. */
export function planLines(plan: Plan, tier: Tier): string[] {
  const c = plan.counts;
  const lines = [
    plan.calibration
      ? `calibrated: ${Math.round(plan.calibration.tokensPerSecond)} training tokens/s for d${tier.shape.depth} ` +
        `(${plan.calibration.backend}, ${plan.calibration.threads} threads; ` +
        `steps of ${plan.calibration.passes ?? 1} ${(plan.calibration.passes ?? 1) === 1 ? 'pass' : 'passes'}: ` +
        `${plan.calibration.stepSeconds.map((s) => s.toFixed(2)).join(', ')} s)`
      : 'fixed counts (this tier is not calibrated)',
    `base ${c.baseSteps} steps, mid ${c.midSteps}, SFT ${c.sftSteps}, RL ${c.rlSteps}; ` +
      `${c.evalProblems} problems per chat task, ${c.coreMaxPerTask} CORE items per task`,
  ];
  if (plan.projected && isSizing(tier.sizing)) {
    const p = plan.projected, b = tier.sizing.budgets;
    const m = (s: number) => `${(s / 60).toFixed(1)}`;
    lines.push(`projected minutes (budget): base ${m(p.base)} (${m(b.base)}), mid ${m(p.mid)} (${m(b.mid)}), ` +
      `SFT ${m(p.sft)} (${m(b.sft)}), RL ${m(p.rl)} (${m(b.rl)}), evaluations ${m(p.evals)} (${m(b.evals)})`);
  }
  return lines;
}
