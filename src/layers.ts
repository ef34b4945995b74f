// The layers of nanochat-ts, bottom to top. A module may import its own layer and the layers below it,
// never one above: test/architecture/layers.test.ts reads every import under src/ and fails on an
// upward one, naming the file and the line. A layer is a folder of src/ (or, for main, one file).
// The order also rules out cycles between folders: an arrow only ever points down this list.

export const LAYERS: readonly { name: string; holds: string }[] = [
  { name: 'common', holds: 'the user-facing error type, atomic file writes, run folders, progress lines, CSV' },
  { name: 'tensor', holds: 'tensors with autograd, the kernel interface and its ref/native backends, machine FLOP/s' },
  { name: 'report', holds: 'report sections, the summary table, markdown to HTML, SVG plots' },
  { name: 'tokenizer', holds: 'the GPT-4-style splitter, BPE training and encoding, tokenizer files' },
  { name: 'data', holds: 'the data-set registry, verified downloads, shard readers, the pretraining loader' },
  { name: 'model', holds: 'the GPT: parameters, forward passes, KV cache' },
  { name: 'checkpoint', holds: 'safetensors, checkpoint folders and meta, tokenizer identity, a model with its tokenizer' },
  { name: 'chat', holds: 'conversations and their rendering into tokens with loss masks' },
  { name: 'tasks', holds: 'GSM8K, MMLU, ARC, conversations, identity, spelling, mixtures' },
  { name: 'engine', holds: 'sampling, the calculator tool, streaming text, batched decoding' },
  { name: 'eval', holds: 'bits per byte, samples, CORE, chat evaluations, the HumanEval sandbox' },
  { name: 'train', holds: 'the optimizer (AdamW + Muon), the training loop, chat batches, RL rollouts' },
  { name: 'serve', holds: 'the HTTP server, its worker threads and the chat page' },
  { name: 'speedrun', holds: 'the tiers: which stages the speedrun runs, with which flags' },
  { name: 'cli', holds: 'flag parsing with --help, --json output' },
  { name: 'bench', holds: 'the benchmarks behind `nanochat bench`, each against a peer measured in the same run' },
  { name: 'commands', holds: 'one file per command, named as the command: flags, load, loop, save, report' },
  { name: 'main', holds: 'the `nanochat` entry point: picks the command' },
];
