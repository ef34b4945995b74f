// A synthetic multiple-choice task sorted by subject, as MMLU's files are: the fixture of the tests that
// check a problem limit samples the whole task instead of taking its head.

import { evaluateLetter, multipleChoiceConversation } from '../../src/tasks/multiple-choice.js';
import type { EvalTask } from '../../src/tasks/task.js';

/** `subjects` subjects of `perSubject` questions each, in subject order; question i's answer is letter i % 4. */
export function sortedSubjectsTask(subjects = 57, perSubject = 100): EvalTask {
  return {
    name: 'sorted-subjects', evalType: 'categorical',
    size: () => subjects * perSubject,
    get: (i) => multipleChoiceConversation(`question ${i}`, ['a', 'b', 'c', 'd'], i % 4,
      { subject: `subject_${Math.floor(i / perSubject)}`, index: i }),
    evaluate: evaluateLetter,
    reward: (conv, completion) => (evaluateLetter(conv, completion) ? 1 : 0),
  };
}

