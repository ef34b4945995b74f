// The chat tasks in one import.
export type { EvalTask, SliceOptions, Task } from './task.js';
export { SlicedTask } from './task.js';
export { extractFinalAnswer, sameAnswer } from './answers.js';
export { ARC, type ArcSubset } from './arc.js';
export { EVAL_ONLY_FILES, GENERAL_CONVERSATION_FILES, GeneralConversations } from './conversations.js';
export { parseCsv, parseCsvWithHeader } from './csv.js';
export { GSM8K, gsm8kAnswerParts, referenceAnswer } from './gsm8k.js';
export { DEFAULT_AUTHOR, IdentityConversations, MODEL_NAME } from './identity.js';
export { TaskMixture } from './mixture.js';
export { midTrainMixture, midValMixture, multipleChoicePractice, sftMixture, sftValTask, type MixtureOptions } from './mixtures.js';
export { MMLU } from './mmlu.js';
export { LETTERS, multipleChoiceConversation, multipleChoicePrompt } from './multiple-choice.js';
export { Rng } from './rng.js';
export { SimpleSpelling, SpellingBee, TEST_SEED_OFFSET, spellingSeed } from './spelling.js';
export { CHAT_EVAL_TASKS, chatEvalTask, type ChatEvalTaskName } from './registry.js';
