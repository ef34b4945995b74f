// `nanochat base-eval`: how good is the pretrained model? Bits per byte on the first --split-tokens
// of the training documents, of the held-out ones (val) and of the out-of-domain shard (when there
// are several), greedy samples of the reference prompts, and the CORE score.

import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { writeFileAtomic } from '../common/atomic.js';
import { markdownTable } from '../report/markdown-table.js';
import { writeReportSection } from '../report/section.js';
import { parse, num, str, out, emitJson, type FlagSpec } from '../cli/flags.js';
import { modelFlags, modelChoice } from '../cli/model-flags.js';
import { WEIGHTS_DTYPE_FLAG, weightsDtype } from '../cli/dtype.js';
import { loadModelAndTokenizer, nanochatFolder } from '../checkpoint/load.js';
import { UserError } from '../common/errors.js';
import { evaluateBpb } from '../eval/bpb.js';
import { greedySamples, SAMPLE_PROMPTS } from '../eval/samples.js';
import { listShards, shardName, splitShards } from '../data/shards.js';
import { baseDir, dataDir } from '../common/paths.js';
import { recordMetrics } from '../report/report.js';
import { Progress } from '../common/progress.js';
import { coreCsv, coreScoreLine, coreTable, runCore, type CoreRun } from '../eval/core-run.js';
import { readCoreConfig } from '../eval/core-tasks.js';

const FLAGS: FlagSpec = {
  source: { type: 'string', short: 'i', default: 'base', help: 'base, or nanochat:DIR (a checkpoint folder of nanochat\'s)' },
  'model-tag': modelFlags()['model-tag'],
  step: modelFlags().step,
  ...WEIGHTS_DTYPE_FLAG,
  'device-batch-size': { type: 'string', default: '8', help: 'rows per forward pass' },
  'split-tokens': { type: 'string', default: '10485760', help: 'tokens scored on each of train and val (0: skip bits per byte)' },
  'data-dir': { type: 'string', help: 'pretraining shards (default: $NANOCHAT_BASE_DIR/data/pretrain_openstax)' },
  'max-per-task': { type: 'string', default: '-1', help: 'CORE: first N items of each task after the seeded shuffle (-1: all)' },
  'core-tasks': { type: 'string', help: 'CORE: comma-separated task labels to run (default: every task in core.yaml)' },
  'skip-core': { type: 'boolean', default: false, help: 'do not compute the CORE score' },
  'core-data-dir': { type: 'string', help: 'folder holding core/ (default: $NANOCHAT_BASE_DIR/data)' },
};

export async function run(argv: string[]): Promise<number> {
  const p = parse('base-eval', 'Evaluate a base checkpoint: train/val bits per byte, samples and the CORE score.', FLAGS, argv);
  const log = out(p);
  const source = str(p, 'source') ?? 'base';
  if (source !== 'base' && nanochatFolder(source) === undefined) throw new UserError(`base-eval evaluates base checkpoints: -i base or -i nanochat:DIR, not '${source}'`);
  const { model, tok, tag, step } = loadModelAndTokenizer({ ...modelChoice(p, source), dtype: weightsDtype(p) });
  const B = num(p, 'device-batch-size', { min: 1 }), splitTokens = num(p, 'split-tokens', { min: 0 });
  const maxPerTask = num(p, 'max-per-task', { min: -1 });
  const coreLabels = str(p, 'core-tasks')?.split(',').map((s) => s.trim()).filter(Boolean);
  const T = model.config.sequenceLen;
  if (!p.values['skip-core']) {
    // fail before the long bits-per-byte pass when the CORE data is not there
    try {
      readCoreConfig(str(p, 'core-data-dir'));
    } catch (e) {
      if (e instanceof UserError) throw new UserError(`${e.message}; or run with --skip-core`);
      throw e;
    }
  }
  const bpb: Record<string, number> = {};
  let oodShard: string | undefined;
  if (splitTokens > 0) {
    const split = splitShards(listShards(str(p, 'data-dir') ?? join(dataDir(), 'pretrain_openstax')));
    if (split.outOfDomain) oodShard = shardName(split.outOfDomain.files[0]);
    else log('one shard: val is its held-out documents; there is no out-of-domain shard to score');
    for (const name of ['train', 'val', 'ood'] as const) {
      const set = name === 'ood' ? split.outOfDomain : split[name];
      if (!set) continue;
      const r = await evaluateBpb(model, tok, set, B, T, splitTokens);
      bpb[name] = r.bpb;
      log(`${name === 'ood' ? `val (out of domain: ${oodShard})` : name} bpb: ${r.bpb.toFixed(4)} (${r.tokens.toLocaleString('en-US')} tokens)`);
    }
  }
  const samples = await greedySamples(model, tok, SAMPLE_PROMPTS, 16);
  for (const s of samples) log(`sample: ${s}`);

  // CORE: every task of core.yaml whose data is present; the score says over how many it was taken
  let core: CoreRun | undefined;
  let csvPath: string | undefined;
  if (!p.values['skip-core']) {
    let bar: Progress | undefined, barTask = '';
    core = await runCore(model, tok, {
      dataDir: str(p, 'core-data-dir'),
      maxPerTask,
      labels: coreLabels,
      batchRows: B,
      log,
      onProgress: (task, done, total) => {
        if (!bar || barTask !== task.label) {
          bar = new Progress(`CORE ${task.label}`, total, ' ex');
          barTask = task.label;
        }
        if (done > 0) bar.update(done);
      },
    });
    for (const line of coreTable(core)) log(line);
    log(coreScoreLine(core.score));
    const dir = join(baseDir(), 'base_eval');
    mkdirSync(dir, { recursive: true });
    csvPath = join(dir, `${tag}_step${String(step).padStart(6, '0')}.csv`);
    writeFileAtomic(csvPath, [coreCsv(core)]);
    log(`CORE results: ${csvPath}`);
  }

  const metrics: Record<string, number> = {};
  if (bpb.val !== undefined) metrics['val bpb'] = bpb.val;
  if (bpb.ood !== undefined) metrics['val bpb (out of domain)'] = bpb.ood;
  if (core && Number.isFinite(core.score.core)) metrics.CORE = core.score.core;
  recordMetrics('BASE', metrics);

  writeReportSection('base-model-evaluation.md', [
    '## Base model evaluation', '', `checkpoint: base/${tag} step ${step}`, '',
    ...(splitTokens > 0
      ? [markdownTable(['split', 'bits per byte'], [['train', bpb.train.toFixed(4)], ['val (held-out documents)', bpb.val.toFixed(4)],
        ...(bpb.ood !== undefined ? [[`val (out of domain: ${oodShard})`, bpb.ood.toFixed(4)]] : [])]), '']
      : []),
    ...(core ? [`### ${coreScoreLine(core.score)}`, '', ...(maxPerTask > 0 ? [`(first ${maxPerTask} items per task)`, ''] : []), ...coreTable(core), ''] : []),
    'Samples (greedy):', '', '```', ...samples, '```', '',
  ].join('\n'));
  emitJson(p, {
    tag, step, train_bpb: bpb.train ?? null, val_bpb: bpb.val ?? null, val_ood_bpb: bpb.ood ?? null, samples,
    ...(core ? {
      core: Number.isFinite(core.score.core) ? core.score.core : null,
      core_tasks: core.score.numTasks,
      core_missing: core.score.missing,
      core_max_per_task: maxPerTask,
      core_csv: csvPath,
      core_results: core.results.map((r) => ({ ...r, type: core!.info[r.label]?.taskType, fewshot: core!.info[r.label]?.numFewshot })),
    } : {}),
  });
  return 0;
}
