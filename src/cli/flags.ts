// What every command shares: flag parsing with --help, and --json output (the last stdout line).

import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UserError } from '../common/errors.js';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

/** One command's flags: kebab-case, with defaults and a line of help each. */
export interface FlagSpec {
  [name: string]: { type: 'string' | 'boolean'; short?: string; default?: string | boolean; help: string; multiple?: boolean };
}

export interface Parsed {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
  json: boolean;
}

/** Parse argv against a flag spec; --help prints usage (with defaults) and exits 0; unknown flags are UserErrors. */
export function parse(command: string, summary: string, spec: FlagSpec, argv: string[], allowPositionals = false): Parsed {
  const options: OptionSpec = {
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  };
  for (const [name, f] of Object.entries(spec)) {
    options[name] = { type: f.type, ...(f.short ? { short: f.short } : {}), ...(f.default !== undefined ? { default: f.default as never } : {}), ...(f.multiple ? { multiple: true } : {}) };
  }
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals, strict: true });
  } catch (e) {
    throw new UserError(`${(e as Error).message.split('\n')[0]}\nRun \`nanochat ${command} --help\` for the flags.`);
  }
  if (parsed.values.help) {
    process.stdout.write(usage(command, summary, spec));
    process.exit(0);
  }
  return { values: parsed.values as Parsed['values'], positionals: parsed.positionals, json: Boolean(parsed.values.json) };
}

export function usage(command: string, summary: string, spec: FlagSpec): string {
  const lines = [`Usage: nanochat ${command} [flags]`, '', summary, '', 'Flags:'];
  const rows = Object.entries(spec).map(([name, f]) => {
    const left = `${f.short ? `-${f.short}, ` : '    '}--${name}${f.type === 'string' ? ' <value>' : ''}`;
    const def = f.default !== undefined && f.default !== false ? ` (default: ${f.default})` : '';
    return [left, f.help + def];
  });
  rows.push(['    --json', 'print one JSON object with the results as the last stdout line; human output goes to stderr']);
  rows.push(['-h, --help', 'show this help']);
  const w = Math.max(...rows.map((r) => r[0].length)) + 2;
  for (const [l, r] of rows) lines.push(`  ${l.padEnd(w)}${r}`);
  return lines.join('\n') + '\n';
}

/** Read a numeric flag: integers (or floats with allowFloat) with a clear message when malformed. */
export function num(p: Parsed, name: string, opts: { min?: number; max?: number; allowFloat?: boolean } = {}): number {
  const raw = p.values[name];
  if (raw === undefined) throw new UserError(`--${name} is required`);
  const v = Number(raw);
  if (!Number.isFinite(v) || (!opts.allowFloat && !Number.isInteger(v))) throw new UserError(`--${name} must be ${opts.allowFloat ? 'a number' : 'an integer'}, got '${raw}'`);
  if (opts.min !== undefined && v < opts.min) throw new UserError(`--${name} must be at least ${opts.min}, got ${v}`);
  if (opts.max !== undefined && v > opts.max) throw new UserError(`--${name} must be at most ${opts.max}, got ${v}`);
  return v;
}

export function str(p: Parsed, name: string): string | undefined {
  const v = p.values[name];
  return typeof v === 'string' ? v : undefined;
}

/** Human output: stdout normally, stderr in --json mode so stdout's last line is the JSON. */
export function out(p: { json: boolean }): (s: string) => void {
  return (s: string) => (p.json ? process.stderr : process.stdout).write(s.endsWith('\n') ? s : s + '\n');
}

/** Print the command's results as the last stdout line (in --json mode). */
export function emitJson(p: { json: boolean }, result: unknown): void {
  if (p.json) process.stdout.write(JSON.stringify(result) + '\n');
}
