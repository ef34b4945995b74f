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
    parsed = parseArgs({ args: negativeValuesInline(argv, options), options, allowPositionals, strict: true });
  } catch (e) {
    throw new UserError(`${(e as Error).message.split('\n')[0]}\nRun \`nanochat ${command} --help\` for the flags.`);
  }
  if (parsed.values.help) {
    process.stdout.write(usage(command, summary, spec));
    process.exit(0);
  }
  return { values: parsed.values as Parsed['values'], positionals: parsed.positionals, json: Boolean(parsed.values.json) };
}

/**
 * `--eval-every -1` as `--eval-every=-1`: node's parseArgs refuses a value that starts with a dash ("argument is
 * ambiguous"), but nanochat's scripts write -1 for "never" and "derive it", and no flag of ours looks like a number.
 * Only a string flag followed by a number is joined; `--` ends the flags.
 */
function negativeValuesInline(argv: string[], options: OptionSpec): string[] {
  const shortToLong = new Map(Object.entries(options).filter(([, o]) => o.short).map(([name, o]) => [o.short!, name]));
  const result: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') { result.push(...argv.slice(i)); break; }
    const name = arg.startsWith('--') ? arg.slice(2) : /^-[^-]$/.test(arg) ? shortToLong.get(arg[1]) : undefined;
    const next = argv[i + 1];
    if (name !== undefined && options[name]?.type === 'string' && next !== undefined && /^-\.?\d/.test(next)) {
      result.push(`--${name}=${next}`);
      i++;
    } else result.push(arg);
  }
  return result;
}

/**
 * Flags main.ts takes before the command parses its own (--backend of the commands that compute), listed in that
 * command's --help like its own.
 */
const processFlags: [string, string][] = [];
export function listProcessFlag(left: string, help: string): void {
  processFlags.push([left, help]);
}

export function usage(command: string, summary: string, spec: FlagSpec): string {
  const lines = [`Usage: nanochat ${command} [flags]`, '', summary, '', 'Flags:'];
  const rows = Object.entries(spec).map(([name, f]) => {
    const left = `${f.short ? `-${f.short}, ` : '    '}--${name}${f.type === 'string' ? ' <value>' : ''}`;
    const def = f.default !== undefined && f.default !== false ? ` (default: ${f.default})` : '';
    return [left, f.help + def];
  });
  rows.push(...processFlags);
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

/** A periodic flag (`--eval-every`, `--save-every`, ...) at -1, as nanochat's scripts write "never". */
export const NEVER = -1;

/**
 * Read a periodic flag: N > 0 steps, 0 (whatever the flag's help says 0 does, e.g. "only at the end"), or -1
 * (NEVER). Anything else (-2, 1.5, x) is a one-line error.
 */
export function every(p: Parsed, name: string): number {
  const raw = p.values[name];
  if (typeof raw !== 'string' || !/^(-1|\d+)$/.test(raw.trim())) {
    throw new UserError(`--${name} must be a number of steps, 0, or -1 for never; got '${raw ?? ''}'`);
  }
  return Number(raw);
}

/** The trainer's period for a value read by every(): N stays N, 0 becomes `atZero`, NEVER becomes 0 (never there). */
export function trainerPeriod(value: number, atZero: number): number {
  return value === NEVER ? 0 : value === 0 ? atZero : value;
}

/**
 * Every training stage's horizon, `--num-iterations`: N > 0 steps, or -1 / 0 / not given for the stage's own
 * horizon (returned as -1). `alias` is another name of the same flag (chat-rl's `--num-steps`); giving both with
 * different values is an error.
 */
export function numIterations(p: Parsed, alias?: string): number {
  const given = ['num-iterations', ...(alias ? [alias] : [])].filter((name) => p.values[name] !== undefined);
  const values = given.map((name) => num(p, name, { min: -1 }));
  if (values.length === 2 && values[0] !== values[1]) {
    throw new UserError(`--num-iterations ${values[0]} and --${alias} ${values[1]} disagree: ` +
      `--${alias} is another name for --num-iterations, give one of them`);
  }
  return values.length && values[0] > 0 ? values[0] : -1;
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
