// `nanochat speedrun [--tier NAME]`: the whole pipeline, then the report.
//
// Each stage runs as its own `nanochat` process (memory is returned between stages, and a crash names
// its stage); its full output goes to report/logs/<n>-<stage>.log while the terminal shows one progress
// line per stage. Completed stages leave a marker in $NANOCHAT_BASE_DIR/speedrun/<tier>/, so running
// the speedrun again skips them; an interrupted training stage resumes from its latest checkpoint.

import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, str, emitJson } from '../cli/flags.js';
import { UserError } from '../common/errors.js';
import { baseDir, reportDir } from '../common/paths.js';
import { formatDuration } from '../common/progress.js';
import { defaultTag, listSteps, checkpointDir } from '../checkpoint/checkpoint.js';
import { recordTime, resetReport } from '../report/report.js';
import { TIERS, pipeline, rowsThatFit, type StageRun, type Tier, type TierShape } from '../speedrun/tiers.js';
import { padVocab } from '../model/gpt.js';
import { calibrate } from '../speedrun/calibrate.js';
import { isSizing, makePlan, planLines, readPlan } from '../speedrun/plan.js';
import { writeReportSection } from '../report/section.js';
import { getBackend } from '../tensor/backends.js';

const cliPath = join(dirname(fileURLToPath(import.meta.url)), '..', 'main.js');

/** Flag value of a stage's args (e.g. the depth, for the checkpoint tag). */
function flag(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

/** Resume flags for a training stage that was interrupted after saving a checkpoint. */
function resumeArgs(stage: StageRun, tiersStages: StageRun[]): string[] {
  if (!stage.resumes) return [];
  const depth = flag(tiersStages.find((s) => s.args[0] === 'base-train')!.args, '--depth');
  let tag = `d${depth}`;
  try {
    if (stage.resumes !== 'base') tag = defaultTag('base');
  } catch { /* no base checkpoint: nothing to resume */ }
  return listSteps(checkpointDir(stage.resumes, tag)).length > 0 ? ['--resume-from-step', 'latest'] : [];
}

/** Run one stage; resolves with its exit code. Shows the last line of its output, rewritten in place. */
function runStage(args: string[], logPath: string, label: string): Promise<number> {
  return new Promise((resolve) => {
    const log = createWriteStream(logPath);
    log.write(`$ nanochat ${args.join(' ')}\n`);
    const child = spawn(process.execPath, [cliPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: process.env });
    const start = performance.now();
    let last = '';
    const tty = Boolean(process.stderr.isTTY);
    const onData = (d: Buffer) => {
      log.write(d);
      const lines = d.toString('utf8').split(/[\r\n]+/).map((l) => l.trim()).filter(Boolean);
      if (lines.length) last = lines[lines.length - 1];
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    const draw = () => {
      const line = `${label} | ${formatDuration((performance.now() - start) / 1000)} | ${last.slice(0, 110)}`;
      process.stderr.write(tty ? `\r\x1b[2K${line}` : `${line}\n`);
    };
    const timer = setInterval(draw, tty ? 500 : 30_000);
    child.on('close', (code) => {
      clearInterval(timer);
      log.end();
      if (tty) process.stderr.write('\r\x1b[2K');
      resolve(code ?? 1);
    });
  });
}

/**
 * A GPU tier runs only on the webgpu backend with a hardware adapter (a software one computes on the CPU: d20 would
 * take months). Its rows per pass are halved until the largest activation, the [rows x seqLen, Vpad] logits, fits the
 * adapter's largest buffer (32 rows of d20 are 17 GB; gradient accumulation keeps the 524,288-token step, so the
 * training is the same). Before committing to it, a few timed steps of the tier's model give its tokens/s and the
 * projected base-training time, printed at start. Returns the shape to run.
 */
async function checkGpu(tier: Tier): Promise<TierShape> {
  const be = getBackend();
  const software = (be as { isSoftware?: boolean }).isSoftware === true;
  if (be.name !== 'webgpu' || software) {
    const here = be.name === 'webgpu' ? 'webgpu on a software adapter (it computes on the CPU)' : `the ${be.name} CPU backend`;
    throw new UserError(`the ${tier.name} tier needs a GPU: this run has ${here}. Run it where WebGPU finds a hardware ` +
      'adapter (`--backend webgpu`), or run `nanochat speedrun --tier cpu` here');
  }
  const most = be.maxBufferElements ?? Infinity, rows = rowsThatFit(tier.shape, most);
  if (rows === undefined) {
    const perRow = tier.shape.seqLen * padVocab(tier.shape.vocab);
    throw new UserError(`the ${tier.name} tier's logits for one row (${(4 * perRow / 2 ** 20).toFixed(0)} MiB) exceed ` +
      `this GPU's largest buffer (${(4 * most / 2 ** 20).toFixed(0)} MiB)`);
  }
  const shape = { ...tier.shape, rows };
  if (rows < tier.shape.rows) {
    process.stderr.write(`${rows} rows per pass (not ${tier.shape.rows}): the logits must fit this GPU's largest buffer ` +
      `(${(4 * most / 2 ** 20).toFixed(0)} MiB); gradient accumulation keeps the ${tier.shape.batchTokens}-token step\n`);
  }
  process.stderr.write(`timing a few training steps of the tier's d${tier.shape.depth} model on the GPU ` +
    `(${tier.shape.batchTokens.toLocaleString('en-US')} tokens each)...\n`);
  const c = await calibrate(shape, 3, (i, of, s) =>
    process.stderr.write(`  ${i === 0 ? 'warm-up step' : `step ${i}/${of}`}: ${s.toFixed(1)} s\n`));
  if (!isSizing(tier.sizing)) {
    const seconds = (tier.sizing.baseSteps * tier.shape.batchTokens) / c.tokensPerSecond;
    process.stderr.write(`d${tier.shape.depth} on this GPU: ${Math.round(c.tokensPerSecond).toLocaleString('en-US')} ` +
      `training tokens/s; base training (${tier.sizing.baseSteps.toLocaleString('en-US')} steps of ` +
      `${tier.shape.batchTokens.toLocaleString('en-US')} tokens) projects to ${formatDuration(seconds)}\n`);
  }
  return shape;
}

export async function run(argv: string[]): Promise<number> {
  const p = parse('speedrun', 'The whole pipeline (data, tokenizer, base, mid, SFT, RL, evaluations), then the report. Run it again to resume.', {
    tier: { type: 'string', default: 'tiny', help: `configuration: ${Object.keys(TIERS).join(', ')} (see src/speedrun/tiers.ts)` },
  }, argv);
  const name = str(p, 'tier')!;
  const tier = TIERS[name];
  if (!tier) throw new UserError(`unknown tier '${name}': choose one of ${Object.keys(TIERS).join(', ')}`);
  const shape = tier.needsGpu ? await checkGpu(tier) : tier.shape;
  const markers = join(baseDir(), 'speedrun', tier.name);
  const fresh = !existsSync(markers) || readdirSync(markers).length === 0;
  mkdirSync(markers, { recursive: true });
  if (fresh) resetReport();
  const logs = join(reportDir(), 'logs');
  mkdirSync(logs, { recursive: true });
  process.stderr.write(`speedrun tier '${tier.name}': ${tier.description}\nbase dir ${baseDir()}; logs in ${logs}\n`);
  const t0 = performance.now();
  // the plan: made (calibrated) once per run, then read back, so a resumed run keeps its step counts
  let plan = fresh ? undefined : readPlan(markers);
  if (plan) process.stderr.write('resuming: using the step counts this run was planned with\n');
  else {
    process.stderr.write(`calibrating: timing a few training steps of the tier's d${tier.shape.depth} model...\n`);
    plan = await makePlan(tier, markers, () => calibrate(shape));
  }
  const summary = planLines(plan, tier);
  for (const line of summary) process.stderr.write(`  ${line}\n`);
  writeReportSection('speedrun-plan.md', [`## Speedrun plan: tier ${tier.name}`, '', ...summary.map((l) => `- ${l}`), ''].join('\n'));
  const stages = pipeline(shape, plan.counts);
  const done: string[] = [];
  for (let i = 0; i < stages.length; i++) {
    const stage = stages[i];
    const id = `${String(i + 1).padStart(2, '0')}-${stage.args[0]}${stage.args[1] === '-i' ? '-' + stage.args[2] : ''}`;
    const label = `[${i + 1}/${stages.length}] ${stage.args[0]}${stage.args[1] === '-i' ? ' ' + stage.args[2] : ''}`;
    const marker = join(markers, `${id}.done`);
    if (existsSync(marker)) {
      process.stderr.write(`${label} | done earlier (skipped)\n`);
      continue;
    }
    const args = [...stage.args, ...resumeArgs(stage, stages)];
    if (args.includes('--resume-from-step')) process.stderr.write(`${label} | resuming from its latest checkpoint\n`);
    const s0 = performance.now();
    const logPath = join(logs, `${id}.log`);
    const code = await runStage(args, logPath, label);
    const secs = (performance.now() - s0) / 1000;
    if (code !== 0) {
      throw new UserError(`stage '${stage.args.join(' ')}' failed (exit ${code}) after ${formatDuration(secs)}; its log: ${logPath}\nFix the cause and run \`nanochat speedrun --tier ${tier.name}\` again: completed stages are skipped.`);
    }
    recordTime(id.slice(3), secs);
    writeFileSync(marker, JSON.stringify({ args, seconds: secs, finished: new Date().toISOString() }) + '\n');
    done.push(id);
    process.stderr.write(`${label} | done in ${formatDuration(secs)}\n`);
  }
  const total = (performance.now() - t0) / 1000;
  process.stderr.write(`speedrun '${tier.name}' finished in ${formatDuration(total)}: ${join(reportDir(), 'report.md')}\n`);
  emitJson(p, { tier: tier.name, seconds: total, stages: done, plan, report: join(reportDir(), 'report.md') });
  return 0;
}
