export async function run(_argv: string[]): Promise<void> {
  process.stderr.write('nanochat bench tokenizer: not implemented yet\n');
}
