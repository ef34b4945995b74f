// Which optimizer updates which parameters, with its hyperparameters: the model lists its parameters
// in groups (GPT.paramGroups), the optimizer (train/optimizer.ts) keeps state per group.

import type { Tensor } from './tensor.js';

export interface AdamWGroup {
  kind: 'adamw';
  params: { name: string; tensor: Tensor }[];
  lr: number;
  betas: [number, number];
  eps: number;
  weightDecay: number;
}

export interface MuonGroup {
  kind: 'muon';
  params: { name: string; tensor: Tensor }[];
  lr: number;
  /** momentum at step 0 and after `momentumWarmupSteps` */
  momentumStart: number;
  momentumEnd: number;
  momentumWarmupSteps: number;
  nsSteps: number;
}

export type ParamGroup = AdamWGroup | MuonGroup;
