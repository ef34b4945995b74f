// CORE (mean centered accuracy over nanochat's 22 few-shot tasks): the task list, loading each
// task's data, and driving a model over a task.
//
// The model itself is not used here: a caller supplies `scoreRows(rows) -> {losses, argmax}` (per
// row, per position; see the convention in core-prompts.ts), so this file stays model-independent.
// Data layout (dataDir()/core, mirrored from nanochat's eval_bundle): core.yaml lists the tasks,
// eval_meta_data.csv holds the random baselines, eval_data/<dataset_uri> the items (.jsonl or .jsonl.gz).

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { parseCsvWithHeader } from '../common/csv.js';
import { UserError } from '../common/errors.js';
import { dataDir as defaultDataDir } from '../common/paths.js';
import type { TextTokenizer } from '../tokenizer/types.js';
import { prepareExample, scoreExample, type CoreItem, type CoreTaskType, type PreparedExample } from './core-prompts.js';
import { PyRandom } from './py-random.js';
import { parseYaml, type YamlValue } from './yaml.js';

export * from './core-prompts.js';

export interface CoreTaskSpec {
  label: string;
  /** relative to <data>/core/eval_data */
  datasetUri: string;
  taskType: CoreTaskType;
  numFewshot: number;
  delimiter: string;
  /** chance accuracy as a fraction (eval_meta_data.csv's percent / 100) */
  randomBaseline: number;
}

export interface CoreTask extends CoreTaskSpec {
  /** absolute path of the data file */
  path: string;
  /** the items after the seeded shuffle (1337) and the --max-per-task cut; few-shot examples come from these */
  items: CoreItem[];
  /** number of items in the file */
  totalItems: number;
}

/** The model's outputs for a batch of rows (see the position convention in core-prompts.ts). */
export interface ScoreOutput {
  losses: Float32Array[];
  argmax: Int32Array[];
}
/**
 * Runs the model on unpadded rows of token ids and returns, per row, at least row.length positions
 * (extra padded positions are ignored). `stackRows` builds the right-padded batch the reference uses.
 */
export type ScoreRows = (rows: number[][]) => ScoreOutput | Promise<ScoreOutput>;

/** Right-pad rows into one row-major B x T batch (the reference pads with <|bos|>; padding sits after every span, so it never affects the scores). */
export function stackRows(rows: readonly number[][], padId: number): { ids: Int32Array; B: number; T: number } {
  const B = rows.length;
  const T = Math.max(0, ...rows.map((r) => r.length));
  const ids = new Int32Array(B * T).fill(padId);
  rows.forEach((r, b) => ids.set(r, b * T));
  return { ids, B, T };
}

export interface CoreTaskResult {
  label: string;
  accuracy: number;
  /** (accuracy - randomBaseline) / (1 - randomBaseline) */
  centered: number;
  correct: number;
  total: number;
  randomBaseline: number;
  seconds: number;
}

export interface CoreScore {
  /** mean centered accuracy over the tasks evaluated */
  core: number;
  numTasks: number;
  /** labels of configured tasks that were not evaluated (their data file was absent) */
  missing: string[];
}

const coreDir = (dataDir = defaultDataDir()): string => join(dataDir, 'core');

/** Read core.yaml and the random baselines; throws a UserError naming what is wrong. */
export function readCoreConfig(dataDir = defaultDataDir()): CoreTaskSpec[] {
  const dir = coreDir(dataDir);
  const yamlPath = join(dir, 'core.yaml');
  const csvPath = join(dir, 'eval_meta_data.csv');
  for (const p of [yamlPath, csvPath]) {
    if (!existsSync(p)) throw new UserError(`CORE config not found: ${p} (download the data first, e.g. \`nanochat download\`)`);
  }
  let doc: YamlValue;
  try {
    doc = parseYaml(readFileSync(yamlPath, 'utf8'));
  } catch (e) {
    throw new UserError(`${yamlPath}: ${(e as Error).message}`);
  }
  const tasks = isObject(doc) ? doc.icl_tasks : undefined;
  if (!Array.isArray(tasks)) throw new UserError(`${yamlPath}: expected a top-level 'icl_tasks' list`);

  const baselines = new Map<string, number>();
  for (const row of parseCsvWithHeader(readFileSync(csvPath, 'utf8'))) {
    const rb = Number(row['Random baseline']);
    if (row['Eval Task'] && row['Random baseline'] !== '' && Number.isFinite(rb)) baselines.set(row['Eval Task'], rb);
  }

  return tasks.map((t, i) => {
    const where = `${yamlPath}: icl_tasks[${i}]`;
    if (!isObject(t)) throw new UserError(`${where} is not a mapping`);
    const label = t.label;
    const uri = t.dataset_uri;
    const type = t.icl_task_type;
    const shots = Array.isArray(t.num_fewshot) ? t.num_fewshot[0] : t.num_fewshot;
    const delim = t.continuation_delimiter ?? ' ';
    if (typeof label !== 'string' || typeof uri !== 'string') throw new UserError(`${where} needs 'label' and 'dataset_uri'`);
    if (type !== 'multiple_choice' && type !== 'schema' && type !== 'language_modeling') {
      throw new UserError(`${where} (${label}): unsupported icl_task_type '${String(type)}'`);
    }
    if (typeof shots !== 'number' || !Number.isInteger(shots) || shots < 0) throw new UserError(`${where} (${label}): bad num_fewshot`);
    if (typeof delim !== 'string') throw new UserError(`${where} (${label}): continuation_delimiter must be a string`);
    const rb = baselines.get(label);
    if (rb === undefined) throw new UserError(`${csvPath}: no 'Random baseline' for CORE task '${label}'`);
    return { label, datasetUri: uri, taskType: type, numFewshot: shots, delimiter: delim, randomBaseline: rb / 100 };
  });
}

export interface LoadCoreOptions {
  dataDir?: string;
  /** keep only the first N items after the seeded shuffle (<= 0 or undefined: all) */
  maxPerTask?: number;
  /** load only these labels (default: every task in core.yaml) */
  labels?: string[];
}

/** Load every configured task whose data file exists; absent ones are returned in `missing`. */
export function loadCoreTasks(opts: LoadCoreOptions = {}): { tasks: CoreTask[]; missing: CoreTaskSpec[] } {
  const dataDir = opts.dataDir ?? defaultDataDir();
  let specs = readCoreConfig(dataDir);
  if (opts.labels) {
    const unknown = opts.labels.filter((l) => !specs.some((s) => s.label === l));
    if (unknown.length) throw new UserError(`unknown CORE task(s): ${unknown.join(', ')} (known: ${specs.map((s) => s.label).join(', ')})`);
    specs = specs.filter((s) => opts.labels!.includes(s.label));
  }
  const tasks: CoreTask[] = [];
  const missing: CoreTaskSpec[] = [];
  for (const spec of specs) {
    const task = loadCoreTask(spec, dataDir, opts.maxPerTask);
    if (task) tasks.push(task);
    else missing.push(spec);
  }
  return { tasks, missing };
}

/** Load one task (null if its file is absent): parse, validate, shuffle with Random(1337), cut. */
function loadCoreTask(spec: CoreTaskSpec, dataDir = defaultDataDir(), maxPerTask?: number): CoreTask | null {
  const path = join(coreDir(dataDir), 'eval_data', spec.datasetUri);
  if (!existsSync(path)) return null;
  const raw = readFileSync(path);
  const text = (path.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8');
  const items: CoreItem[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let obj: unknown;
    try {
      obj = JSON.parse(line);
    } catch (e) {
      throw new UserError(`${path}:${i + 1}: invalid JSON (${(e as Error).message})`);
    }
    items.push(validateItem(obj, spec.taskType, `${path}:${i + 1}`));
  });
  const totalItems = items.length;
  // The reference always shuffles (the files are often ordered) and then takes the first N.
  new PyRandom(1337).shuffle(items);
  const kept = maxPerTask && maxPerTask > 0 ? items.slice(0, maxPerTask) : items;
  return { ...spec, path, items: kept, totalItems };
}

function validateItem(obj: unknown, type: CoreTaskType, where: string): CoreItem {
  const bad = (what: string): never => {
    throw new UserError(`${where}: ${type} item needs ${what}`);
  };
  if (!isObject(obj)) return bad('to be a JSON object');
  const strings = (v: unknown) => Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'string');
  const goldOk = (n: number) => typeof obj.gold === 'number' && Number.isInteger(obj.gold) && obj.gold >= 0 && obj.gold < n;
  switch (type) {
    case 'multiple_choice':
      if (typeof obj.query !== 'string' || !strings(obj.choices)) bad("'query' and a non-empty 'choices' list of strings");
      if (!goldOk((obj.choices as string[]).length)) bad("'gold' indexing 'choices'");
      return { query: obj.query as string, choices: obj.choices as string[], gold: obj.gold as number };
    case 'schema':
      if (!strings(obj.context_options) || typeof obj.continuation !== 'string') bad("'context_options' (strings) and 'continuation'");
      if (!goldOk((obj.context_options as string[]).length)) bad("'gold' indexing 'context_options'");
      return { context_options: obj.context_options as string[], continuation: obj.continuation as string, gold: obj.gold as number };
    case 'language_modeling':
      if (typeof obj.context !== 'string' || typeof obj.continuation !== 'string') bad("'context' and 'continuation' strings");
      return { context: obj.context as string, continuation: obj.continuation as string };
  }
}

export interface EvaluateCoreOptions {
  /** the model's context length: longer rows are cropped on the left */
  maxSeqLen?: number;
  /** gather whole examples until at least this many rows, then call scoreRows once (default 1: one example per call, as the reference) */
  rowsPerCall?: number;
  /** called after each scoreRows call with (examples done, total) */
  onProgress?: (done: number, total: number) => void;
}

/** Evaluate one task: accuracy over its (shuffled, cut) items, and the centered accuracy. */
export async function evaluateCoreTask(task: CoreTask, tok: TextTokenizer, scoreRows: ScoreRows, opts: EvaluateCoreOptions = {}): Promise<CoreTaskResult> {
  const t0 = performance.now();
  const total = task.items.length;
  const rowsPerCall = Math.max(1, opts.rowsPerCall ?? 1);
  let correct = 0;
  let done = 0;
  let pending: PreparedExample[] = [];
  const flush = async () => {
    const rows = pending.flatMap((ex) => ex.rows);
    const out = await scoreRows(rows);
    if (out.losses.length !== rows.length || out.argmax.length !== rows.length) {
      // a scorer that drops or adds rows would silently misalign every verdict after it
      throw new Error(`scoreRows returned ${out.losses.length}/${out.argmax.length} rows for ${rows.length}`);
    }
    let r = 0;
    for (const ex of pending) {
      const n = ex.rows.length;
      if (scoreExample(ex, { losses: out.losses.slice(r, r + n), argmax: out.argmax.slice(r, r + n) }).correct) correct++;
      r += n;
    }
    done += pending.length;
    pending = [];
    opts.onProgress?.(done, total);
  };
  let pendingRows = 0;
  for (let i = 0; i < total; i++) {
    const ex = prepareExample(tok, task, i, opts.maxSeqLen);
    pending.push(ex);
    pendingRows += ex.rows.length;
    if (pendingRows >= rowsPerCall) {
      await flush();
      pendingRows = 0;
    }
  }
  if (pending.length) await flush();
  const accuracy = total ? correct / total : 0;
  return {
    label: task.label,
    accuracy,
    centered: centeredAccuracy(accuracy, task.randomBaseline),
    correct,
    total,
    randomBaseline: task.randomBaseline,
    seconds: (performance.now() - t0) / 1000,
  };
}

/** (acc - rb) / (1 - rb), rb the chance accuracy as a fraction. */
export function centeredAccuracy(accuracy: number, randomBaseline: number): number {
  return (accuracy - randomBaseline) / (1 - randomBaseline);
}

/** CORE = mean centered accuracy over the tasks evaluated; `missing` names the tasks left out. */
export function coreScore(results: readonly CoreTaskResult[], missing: readonly (CoreTaskSpec | string)[] = []): CoreScore {
  const core = results.length ? results.reduce((s, r) => s + r.centered, 0) / results.length : NaN;
  return { core, numTasks: results.length, missing: missing.map((m) => (typeof m === 'string' ? m : m.label)) };
}

function isObject(v: unknown): v is { [key: string]: YamlValue } {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
