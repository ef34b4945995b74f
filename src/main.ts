#!/usr/bin/env node
// `nanochat`: one CLI, one command per pipeline stage. Each command is src/commands/<command>.ts, loaded
// only when called; it exports `run(argv)` and returns the exit code. A UserError prints as one line.

import { UserError } from './common/errors.js';
import { initBackend } from './tensor/backends.js';
import { listProcessFlag } from './cli/flags.js';

type Runner = (argv: string[]) => Promise<number | void>;

interface Command {
  summary: string;
  load?: () => Promise<Runner>;
  /** the command computes with a backend: main takes its --backend flag and opens the backend first */
  computes?: boolean;
}

const commands: Record<string, Command> = {
  'data': { summary: 'fetch data sets (`data download`) into $NANOCHAT_BASE_DIR/data, or copy them from NANOCHAT_DATA_MIRROR' },
  'tok-train': { summary: 'train the BPE tokenizer' },
  'tok-eval': { summary: 'compare the tokenizer\'s compression with GPT-2 and GPT-4' },
  'tok-encode': { summary: 'encode stdin to token ids (or --decode ids to text)' },
  'base-train': { computes: true, summary: 'pretrain a GPT; --depth sets everything else' },
  'base-eval': { computes: true, summary: 'bits per byte on train/val, CORE score, samples' },
  'score': { computes: true, summary: 'loss, bits per byte and perplexity of a text under a checkpoint' },
  'mid-train': { computes: true, summary: 'midtraining on the chat mixture' },
  'chat-sft': { computes: true, summary: 'supervised finetuning' },
  'chat-rl': { computes: true, summary: 'reinforcement learning on GSM8K' },
  'chat-eval': { computes: true, summary: 'ARC, MMLU, GSM8K, HumanEval, SpellingBee, ChatCORE' },
  'chat': { computes: true, summary: 'talk to a model in the terminal' },
  'serve': { computes: true, summary: 'web UI and OpenAI-compatible HTTP API' },
  'speedrun': { computes: true, summary: 'the whole pipeline, then the report' },
  'report': { summary: 'assemble report.md from the stage sections' },
  'bench': { summary: 'benchmarks: `bench kernels|tokenizer|train|serve|all`' },
  'import': { summary: 'convert a checkpoint folder of nanochat\'s (model_<step>.pt, tokenizer.pkl) into ours' },
  'export': { summary: 'write a checkpoint of ours in nanochat\'s layout (`export --to nanochat DIR`)' },
};

/** Register a subcommand's module (kept in one place so the table above reads as the CLI's map). */
function wire(name: string, load: () => Promise<Runner>): void {
  commands[name].load = load;
}
wire('bench', async () => (await import('./commands/bench.js')).run);
wire('tok-train', async () => (await import('./commands/tok-train.js')).run);
wire('tok-eval', async () => (await import('./commands/tok-eval.js')).run);
wire('tok-encode', async () => (await import('./commands/tok-encode.js')).run);
wire('base-train', async () => (await import('./commands/base-train.js')).run);
wire('base-eval', async () => (await import('./commands/base-eval.js')).run);
wire('score', async () => (await import('./commands/score.js')).run);
wire('mid-train', async () => (await import('./commands/mid-train.js')).run);
wire('chat-eval', async () => (await import('./commands/chat-eval.js')).run);
wire('chat-sft', async () => (await import('./commands/chat-sft.js')).run);
wire('chat-rl', async () => (await import('./commands/chat-rl.js')).run);
wire('report', async () => (await import('./commands/report.js')).run);
wire('speedrun', async () => (await import('./commands/speedrun.js')).run);
wire('data', async () => (await import('./commands/data.js')).run);
wire('chat', async () => (await import('./commands/chat.js')).run);
wire('serve', async () => (await import('./commands/serve.js')).run);
wire('import', async () => (await import('./commands/import.js')).run);
wire('export', async () => (await import('./commands/export.js')).run);

function help(): string {
  const w = Math.max(...Object.keys(commands).map((k) => k.length)) + 2;
  return [
    'nanochat: raw text in, a chat assistant out. Every stage in TypeScript.',
    '',
    'Usage: nanochat <command> [flags]   (nanochat <command> --help for its flags)',
    '',
    ...Object.entries(commands).map(([k, c]) => `  ${k.padEnd(w)}${c.summary}${c.load ? '' : '  [not implemented yet]'}`),
    '',
    'Environment: NANOCHAT_BASE_DIR (default ~/.cache/nanochat), NANOCHAT_DATA_MIRROR (offline data folder or URL),',
    '             NANOCHAT_BACKEND (ref|native|webgpu; default: webgpu on a hardware GPU, else native), NANOCHAT_THREADS.',
    'Commands that compute take --backend ref|native|webgpu (the same choice as NANOCHAT_BACKEND, for one run).',
    '',
  ].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(help());
    return 0;
  }
  const cmd = commands[name];
  if (!cmd) {
    process.stderr.write(`nanochat: unknown command '${name}'. Commands: ${Object.keys(commands).join(', ')}\n`);
    return 2;
  }
  if (!cmd.load) {
    process.stderr.write(`nanochat ${name}: not implemented yet (${cmd.summary}).\n`);
    return 2;
  }
  const run = await cmd.load();
  if (!cmd.computes) return (await run(rest)) ?? 0;
  listProcessFlag('    --backend <value>', 'ref, native or webgpu (default: webgpu on a hardware GPU adapter, else native)');
  const { backend, argv: flags } = takeBackendFlag(rest);
  if (!flags.includes('--help') && !flags.includes('-h')) await initBackend(backend);
  return (await run(flags)) ?? 0;
}

/** `--backend NAME` or `--backend=NAME` taken out of a command's flags. */
function takeBackendFlag(argv: string[]): { backend?: string; argv: string[] } {
  const out: string[] = [];
  let backend: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--backend') {
      backend = argv[++i];
      if (backend === undefined || backend.startsWith('--')) throw new UserError('--backend needs a value: ref, native or webgpu');
    } else if (a.startsWith('--backend=')) backend = a.slice('--backend='.length);
    else out.push(a);
  }
  return { backend, argv: out };
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (e: unknown) => {
    if (e instanceof UserError) {
      process.stderr.write(`nanochat: ${e.message}\n`);
      process.exitCode = e.code;
    } else {
      process.stderr.write(`nanochat: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exitCode = 70;
    }
  },
);
