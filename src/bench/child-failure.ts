// Why a peer process of a benchmark failed, in one line: a crash names its signal and the last lines of
// its stderr, so a log says "killed by SIGILL: OPENBLAS_CORETYPE=SKYLAKEX is not supported by this CPU"
// rather than "n/a".

export interface ChildResult {
  /** set when the process could not start or ran past its timeout (spawnSync's r.error) */
  error?: Error;
  status: number | null;
  signal: NodeJS.Signals | null;
  stderr: string | null;
}

/** undefined when the child exited 0; else the reason. `env` names what the run forced (e.g. OPENBLAS_CORETYPE=ZEN). */
export function childFailure(r: ChildResult, env?: string): string | undefined {
  if (!r.error && r.status === 0) return undefined;
  let why = r.error ? r.error.message : r.signal ? `killed by ${r.signal}` : `exit status ${r.status}`;
  if (r.signal === 'SIGILL') why += `: ${env ?? 'an instruction it uses'} is not supported by this CPU`;
  const tail = stderrTail(r.stderr);
  return tail ? `${why}; stderr: ${tail}` : why;
}

/** the last 3 non-empty lines of stderr, joined by " | " */
export const stderrTail = (stderr: string | null): string =>
  (stderr ?? '').trim().split('\n').map((l) => l.trim()).filter(Boolean).slice(-3).join(' | ');
