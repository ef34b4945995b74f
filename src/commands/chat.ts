// `nanochat chat`: talk to a checkpoint in the terminal.
//
//   nanochat chat                       interactive, the sft model; `clear` starts over, `quit` exits
//   nanochat chat -p "Why is the sky blue?"   one answer, then exit (with --json: a JSON result too)
//   nanochat chat -i base -p "The capital of France is"   base checkpoints complete plain text
//
// Tokens are printed as they are generated. Ctrl-C while the model is answering stops that answer
// (the partial answer is kept); Ctrl-C at the prompt, `quit`, or the end of stdin exits cleanly.
// Generation runs on the main thread, so it yields to the event loop after every token to let
// Ctrl-C through (a few microseconds per token).

import { createInterface } from 'node:readline';
import { parse, num, str, out, emitJson, type FlagSpec } from '../cli/flags.js';
import { modelFlags, modelChoice } from '../cli/model-flags.js';
import { WEIGHTS_DTYPE_FLAG, weightsDtype } from '../cli/dtype.js';
import { UserError } from '../common/errors.js';
import type { Conversation } from '../chat/conversation.js';
import { ConversationError } from '../chat/render.js';
import { ContextError, type FinishReason } from '../engine/engine.js';
import { loadEngine } from '../engine/load.js';
import { chatPrompt, completionPrompt } from '../engine/prompt.js';
import { partsFromTokens } from '../engine/parts.js';

const FLAGS: FlagSpec = {
  ...modelFlags('sft'),
  ...WEIGHTS_DTYPE_FLAG,
  prompt: { type: 'string', short: 'p', help: 'answer this one prompt, then exit' },
  temperature: { type: 'string', short: 't', default: '0.6', help: 'sampling temperature (0 = greedy)' },
  'top-k': { type: 'string', short: 'k', default: '50', help: 'sample among the k most likely tokens' },
  'max-tokens': { type: 'string', default: '256', help: 'most tokens per answer' },
  seed: { type: 'string', default: '42', help: 'random seed (turn n uses seed + n)' },
};

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

interface Answer {
  text: string;
  tokens: number[];
  finish: FinishReason | 'interrupted';
}

export async function run(argv: string[]): Promise<number> {
  const p = parse('chat', 'Talk to a model in the terminal: interactive, or one answer with -p.', FLAGS, argv);
  const say = out(p);
  const temperature = num(p, 'temperature', { min: 0, max: 2, allowFloat: true });
  const topK = num(p, 'top-k', { min: 1, max: 200 });
  const maxTokens = num(p, 'max-tokens', { min: 1, max: 65536 });
  const seed = num(p, 'seed');
  const loaded = loadEngine({ ...modelChoice(p), dtype: weightsDtype(p) });
  const { engine } = loaded;
  const tok = engine.tok;
  process.stderr.write(`nanochat chat: ${loaded.modelId} (${loaded.chat ? 'chat' : 'plain completion: a base model'}), context ${engine.contextLength} tokens, temperature ${temperature}, top-k ${topK}\n`);

  let interrupted = false;
  /** Stream one answer to `write`, yielding to the event loop between tokens so Ctrl-C can stop it. */
  const answer = async (prompt: number[], turn: number, write: (s: string) => void): Promise<Answer> => {
    interrupted = false;
    const tokens: number[] = [];
    let text = '';
    let finish: Answer['finish'] = 'length';
    for await (const chunk of engine.streamText(prompt, { temperature, topK, maxTokens, seed: seed + turn })) {
      tokens.push(chunk.token);
      text += chunk.text;
      write(chunk.text);
      if (chunk.finish) finish = chunk.finish;
      await yieldToEventLoop();
      if (interrupted) {
        finish = 'interrupted';
        break;
      }
    }
    return { text, tokens, finish };
  };
  const finishNote = (f: Answer['finish']): string =>
    f === 'context' ? `[stopped: the model's context of ${engine.contextLength} tokens is full${p.values.prompt ? '' : '; type `clear` to start over'}]`
      : f === 'length' ? `[stopped after --max-tokens ${maxTokens}]`
        : f === 'interrupted' ? '[interrupted]' : '';

  // one prompt, then exit
  const single = str(p, 'prompt');
  if (single !== undefined) {
    const prompt = loaded.chat ? chatPrompt(tok, { messages: [{ role: 'user', content: single }] }, true) : completionPrompt(tok, single);
    const onSigint = () => { interrupted = true; };
    process.on('SIGINT', onSigint);
    let a: Answer;
    try {
      a = await answer(prompt, 0, (s) => (p.json ? process.stderr : process.stdout).write(s));
    } catch (e) {
      if (e instanceof ContextError) throw new UserError(e.message);
      throw e;
    } finally {
      process.off('SIGINT', onSigint);
    }
    (p.json ? process.stderr : process.stdout).write('\n');
    const note = finishNote(a.finish);
    if (note) process.stderr.write(note + '\n');
    emitJson(p, { model: loaded.modelId, prompt: single, answer: a.text, completionTokens: a.tokens.length, promptTokens: prompt.length, finish: a.finish });
    return 0;
  }

  // interactive
  const tty = Boolean(process.stdin.isTTY);
  const rl = createInterface({ input: process.stdin, output: tty ? process.stdout : undefined, terminal: tty });
  let generating = false;
  let closed = false;
  const onInterrupt = () => {
    if (generating) interrupted = true;
    else rl.close();
  };
  rl.on('SIGINT', onInterrupt);
  process.on('SIGINT', onInterrupt);
  rl.on('close', () => { closed = true; });
  // greet only once Ctrl-C is handled (a test or a user may press it as soon as they see this)
  say(loaded.chat ? 'Type a message. `clear` starts a new conversation, `quit` (or Ctrl-D) exits; Ctrl-C stops an answer.' : 'Type text for the base model to continue. `quit` (or Ctrl-D) exits.');

  let conv: Conversation = { messages: [] };
  let turn = 0;
  const ask = () => { if (tty && !closed) { rl.setPrompt('\nUser: '); rl.prompt(); } };
  ask();
  try {
    for await (const raw of rl) {
      const line = raw.trim();
      if (line === 'quit' || line === 'exit') break;
      if (line === 'clear') {
        conv = { messages: [] };
        say('[new conversation]');
        ask();
        continue;
      }
      if (line === '') { ask(); continue; }
      if (!tty) say(`User: ${line}`);
      conv.messages.push({ role: 'user', content: line });
      let prompt: number[];
      try {
        prompt = chatPrompt(tok, conv, loaded.chat);
        // keep the newest turns when the conversation outgrows the context: drop the oldest exchange
        while (engine.room(prompt.length) < 1 && conv.messages.length > 2) {
          conv.messages.splice(0, 2);
          prompt = chatPrompt(tok, conv, loaded.chat);
          say('[the conversation is longer than the context: dropped the oldest exchange]');
        }
      } catch (e) {
        if (e instanceof ConversationError) throw new UserError(e.message);
        throw e;
      }
      if (engine.room(prompt.length) < 1) {
        say(`[that message alone is ${prompt.length} tokens; the model's context is ${engine.contextLength}: nothing can be generated]`);
        conv.messages.pop();
        ask();
        continue;
      }
      process.stdout.write('Assistant: ');
      generating = true;
      const a = await answer(prompt, turn++, (s) => process.stdout.write(s));
      generating = false;
      process.stdout.write('\n');
      const note = finishNote(a.finish);
      if (note) say(note);
      conv.messages.push({ role: 'assistant', content: loaded.chat ? partsFromTokens(tok, a.tokens) : a.text });
      ask();
    }
  } finally {
    rl.close();
    process.off('SIGINT', onInterrupt);
  }
  if (tty) process.stdout.write('\n');
  return 0;
}
