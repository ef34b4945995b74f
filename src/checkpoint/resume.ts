// Continue a killed run: load the checkpoint's weights, optimizer state and metadata, after checking
// it belongs to the same model and tokenizer (anything else is a clear error, and nothing is changed).

import { UserError } from '../common/errors.js';
import type { GPT, GPTConfig } from '../model/gpt.js';
import { checkpointFiles, listSteps, loadOptimizerState, loadWeights, readMeta, type CheckpointMeta, type OptimizerState } from './checkpoint.js';

export function resumeRun(dir: string, which: number | 'latest', model: GPT, optimizer: OptimizerState, expect: { config: GPTConfig; tokenizerHash: string }): { startStep: number; meta: CheckpointMeta } {
  const steps = listSteps(dir);
  if (steps.length === 0) throw new UserError(`--resume-from-step: no checkpoint in ${dir} to resume from; start without --resume-from-step`);
  const startStep = which === 'latest' ? steps[steps.length - 1] : which;
  if (!steps.includes(startStep)) throw new UserError(`--resume-from-step ${startStep}: no checkpoint at that step in ${dir}; available: ${steps.join(', ')}`);
  const meta = readMeta(dir, startStep);
  if (JSON.stringify(meta.modelConfig) !== JSON.stringify(expect.config)) {
    throw new UserError(`the checkpoint at step ${startStep} in ${dir} is a different model (${JSON.stringify(meta.modelConfig)}) than this run makes (${JSON.stringify(expect.config)}); use the same model flags, or another --model-tag`);
  }
  if (meta.tokenizer.hash !== expect.tokenizerHash) {
    throw new UserError(`the checkpoint in ${dir} was trained with a different tokenizer (hash ${meta.tokenizer.hash}, now ${expect.tokenizerHash}); retrain, or restore the tokenizer it used`);
  }
  loadWeights(model, checkpointFiles(dir, startStep).model);
  loadOptimizerState(optimizer, dir, startStep);
  return { startStep, meta };
}
