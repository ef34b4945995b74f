export async function run(_argv: string[]): Promise<number> {
  process.stderr.write('nanochat tok-eval: not implemented yet\n');
  return 2;
}
