// HumanEval: 164 Python problems; a completion passes if the problem's tests run
// clean in the sandbox. Mirrors nanochat's tasks/humaneval.py: the user message is the problem's
// prompt (signature + docstring), the model is expected to answer with the whole function, and the
// program that is run is `imports from the prompt + extracted code + tests + check(entry_point)`.
// (The reference also shuffles the problems with Hugging Face's shuffle(seed=42), which depends on
// numpy's generator; we keep the file order.)

import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { UserError } from '../common/errors.js';
import { dataDir as defaultDataDir } from '../common/paths.js';
import { runPython, type SandboxOptions, type SandboxResult } from './sandbox.js';

export interface HumanEvalProblem {
  taskId: string;
  /** function signature + docstring (the beginning of the program) */
  prompt: string;
  /** the body that completes the prompt */
  canonicalSolution: string;
  /** Python source defining `check(candidate)` */
  test: string;
  entryPoint: string;
}

export interface ChatMessage {
  role: 'user' | 'assistant';
  content: string;
}

export interface HumanEvalOutcome {
  passed: boolean;
  /** the program that was run */
  program: string;
  result: SandboxResult;
}

const humanEvalPath = (dataDir = defaultDataDir()): string => join(dataDir, 'humaneval', 'HumanEval.jsonl.gz');

export function loadHumanEval(dataDir = defaultDataDir()): HumanEvalProblem[] {
  const path = humanEvalPath(dataDir);
  if (!existsSync(path)) throw new UserError(`HumanEval not found: ${path} (download the data first, e.g. \`nanochat download\`)`);
  const text = gunzipSync(readFileSync(path)).toString('utf8');
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((line, i) => {
      const o = JSON.parse(line) as Record<string, unknown>;
      for (const k of ['task_id', 'prompt', 'canonical_solution', 'test', 'entry_point']) {
        if (typeof o[k] !== 'string') throw new UserError(`${path}: row ${i + 1} lacks '${k}'`);
      }
      return {
        taskId: o.task_id as string,
        prompt: o.prompt as string,
        canonicalSolution: o.canonical_solution as string,
        test: o.test as string,
        entryPoint: o.entry_point as string,
      };
    });
}

/** The reference answer in the form the model is trained/expected to give: the complete function. */
export function referenceAnswer(p: HumanEvalProblem): string {
  return `${p.prompt}\n${p.canonicalSolution}`;
}

/** The conversation for a problem: the prompt as the user turn, the complete function as the assistant turn. */
export function humanEvalConversation(p: HumanEvalProblem): ChatMessage[] {
  return [
    { role: 'user', content: p.prompt },
    { role: 'assistant', content: referenceAnswer(p) },
  ];
}

/** Import lines at the top of a prompt (stopping at the first line that is neither import, comment nor blank). */
export function extractImports(prompt: string): string {
  const imports: string[] = [];
  for (const line of prompt.split('\n')) {
    const s = line.trim();
    if (s.startsWith('import ') || s.startsWith('from ')) imports.push(s);
    else if (s && !s.startsWith('#')) break;
  }
  return imports.join('\n');
}

/** The code in a completion: the first ```python (or bare ```) fenced block, else the whole text; stripped. */
export function extractProgram(completion: string): string {
  const m = /```(?:python)?\s*\n([\s\S]*?)\n```/.exec(completion);
  return (m ? m[1] : completion).trim();
}

/** The program that decides pass/fail. */
export function buildTestProgram(p: HumanEvalProblem, completion: string): string {
  return `${extractImports(p.prompt)}\n\n${extractProgram(completion)}\n\n${p.test}\ncheck(${p.entryPoint})`;
}

/**
 * Run a completion against the problem's tests in the sandbox. It passes if the program exits cleanly
 * after `check` ran: a random marker printed at the very end tells "all tests ran" apart from a
 * completion that merely calls sys.exit(0) / exit() before the tests (the reference counts that as a
 * failure too, since it treats any SystemExit as one).
 */
export async function evaluateHumanEval(p: HumanEvalProblem, completion: string, opts: SandboxOptions = {}): Promise<HumanEvalOutcome> {
  const marker = `__humaneval_done_${randomBytes(12).toString('hex')}__`;
  const program = `${buildTestProgram(p, completion)}\nprint(${JSON.stringify(marker)})\n`;
  const result = await runPython(program, opts);
  return { passed: result.ok && result.stdout.includes(marker), program, result };
}
