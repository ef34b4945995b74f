// HumanEval: code extraction, program assembly, and pass/fail on the real problems (NANOCHAT_DATA_MIRROR).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import {
  buildTestProgram,
  evaluateHumanEval,
  extractImports,
  extractProgram,
  humanEvalConversation,
  loadHumanEval,
  referenceAnswer,
  type HumanEvalProblem,
} from '../../src/eval/humaneval.js';
import { MIRROR, needsMirror } from './mirror.js';

const hasPython = spawnSync('python3', ['--version']).status === 0;
const skipData = needsMirror('humaneval/HumanEval.jsonl.gz');
const skipRun = skipData || (hasPython ? false : 'python3 is not on PATH');

test('extractProgram: first fenced block (```python or bare ```), else the whole text, stripped', () => {
  assert.equal(extractProgram('Here you go:\n```python\ndef f():\n    return 1\n```\nand more\n```python\nx = 2\n```'), 'def f():\n    return 1');
  assert.equal(extractProgram('```\nprint(1)\n```'), 'print(1)');
  assert.equal(extractProgram('```python   \n  a = 1\n```'), 'a = 1');
  assert.equal(extractProgram('  def g(x):\n    return x\n\n'), 'def g(x):\n    return x');
  assert.equal(extractProgram('```python\nunterminated'), '```python\nunterminated');
});

test('extractImports: leading imports, skipping comments and blank lines', () => {
  assert.equal(extractImports('\nfrom typing import List\n# hi\nimport math\n\ndef f():\n    import os\n'), 'from typing import List\nimport math');
  assert.equal(extractImports('def f():\n    pass\n'), '');
});

test('buildTestProgram: imports + code + tests + check(entry point)', () => {
  const p: HumanEvalProblem = {
    taskId: 'T/0',
    prompt: 'import math\n\ndef root(x):\n    """sqrt"""\n',
    canonicalSolution: '    return math.sqrt(x)\n',
    test: 'def check(candidate):\n    assert candidate(4) == 2\n',
    entryPoint: 'root',
  };
  const completion = 'Sure!\n```python\ndef root(x):\n    return math.sqrt(x)\n```';
  assert.equal(buildTestProgram(p, completion), 'import math\n\ndef root(x):\n    return math.sqrt(x)\n\ndef check(candidate):\n    assert candidate(4) == 2\n\ncheck(root)');
  assert.deepEqual(humanEvalConversation(p), [
    { role: 'user', content: p.prompt },
    { role: 'assistant', content: `${p.prompt}\n${p.canonicalSolution}` },
  ]);
});

test('loads the 164 problems', { skip: skipData }, () => {
  const problems = loadHumanEval(MIRROR);
  assert.equal(problems.length, 164);
  assert.equal(problems[0].taskId, 'HumanEval/0');
  assert.equal(problems[0].entryPoint, 'has_close_elements');
  assert.equal(extractImports(problems[0].prompt), 'from typing import List');
});

test('canonical solutions pass, wrong or empty completions fail (20 real problems)', { skip: skipRun }, async () => {
  const problems = loadHumanEval(MIRROR);
  const sample = Array.from({ length: 20 }, (_, i) => problems[Math.floor((i * problems.length) / 20)]);
  // two at a time: the machine has two cores
  const queue = [...sample];
  const failures: string[] = [];
  const worker = async () => {
    for (let p = queue.shift(); p; p = queue.shift()) {
      // the way a chat model answers: prose around a fenced, complete function
      const answer = `Here is the solution:\n\n\`\`\`python\n${referenceAnswer(p)}\n\`\`\`\nHope this helps.`;
      const r = await evaluateHumanEval(p, answer);
      if (!r.passed) failures.push(`${p.taskId}: ${r.result.stderr.slice(-400)}`);
    }
  };
  await Promise.all([worker(), worker()]);
  assert.deepEqual(failures, []);

  const p = problems[0];
  assert.equal((await evaluateHumanEval(p, '')).passed, false);
  const wrong = await evaluateHumanEval(p, `\`\`\`python\ndef ${p.entryPoint}(numbers, threshold):\n    return False\n\`\`\``);
  assert.equal(wrong.passed, false);
  assert.match(wrong.result.stderr, /AssertionError/);
  // the bare body (a raw continuation without the signature) is not a complete program
  assert.equal((await evaluateHumanEval(p, p.canonicalSolution)).passed, false);
  // leaving early with a clean exit status is not a pass: the tests never ran
  for (const exit of ['import sys\nsys.exit(0)', 'exit()', 'import os\nos._exit(0)']) {
    assert.equal((await evaluateHumanEval(p, `${referenceAnswer(p)}\n${exit}`)).passed, false, exit);
  }
  // a hanging completion is cut off by the sandbox's limits rather than hanging the evaluator
  const hang = await evaluateHumanEval(p, `def ${p.entryPoint}(numbers, threshold):\n    while True:\n        pass`, { cpuSeconds: 1, timeoutMs: 3000 });
  assert.equal(hang.passed, false);
});
