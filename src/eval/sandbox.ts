// Running untrusted Python (model-written HumanEval solutions) without letting it harm the host.
//
// The parent (this file) owns the limits that must hold even if the child misbehaves completely:
// a fresh temp directory as cwd (deleted afterwards), a scrubbed environment, no stdin, a wall-clock
// timeout and an output cap, both enforced by SIGKILL to the child's whole process group (it is
// spawned detached, i.e. as a session/group leader). When available, `unshare -n` gives the child
// an empty network namespace. The child confines itself before running the program (see
// sandbox-preamble.ts: resource limits, dropping root, an audit hook).

import { spawn, spawnSync } from 'node:child_process';
import { accessSync, chmodSync, chownSync, constants, existsSync, mkdtempSync, realpathSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { UserError } from '../common/errors.js';
import { SANDBOX_PREAMBLE } from './sandbox-preamble.js';

export interface SandboxOptions {
  /** wall-clock limit in ms (default 5000) */
  timeoutMs?: number;
  /** CPU-time limit in seconds (default 3) */
  cpuSeconds?: number;
  /** address-space limit in MiB (default 512) */
  memoryMB?: number;
  /** stdout + stderr bytes kept; more kills the program (default 64 KiB) */
  maxOutputBytes?: number;
  /** largest file the program may write, in MiB (default 16) */
  maxFileMB?: number;
  /** Python interpreter (default: `python3` on PATH; see choosePython for what happens as root) */
  python?: string;
  /** turn kernel-level layers off (never on): lets tests check that the inner layers hold on their own */
  layers?: Partial<SandboxIsolation>;
  /** called with the child's pid (= its process group id), e.g. for tests that check nothing is left behind */
  onSpawn?: (pid: number) => void;
}

export interface SandboxResult {
  /** exited with status 0 on its own, within every limit */
  ok: boolean;
  exitCode: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  outputTruncated: boolean;
  ms: number;
}

/** Which kernel-level isolation this machine allows (probed once). */
export interface SandboxIsolation {
  /** `unshare -n` works: the program runs without any network interface */
  network: boolean;
  /** we are root and the program can run as nobody (it can reach its directory and the interpreter) */
  dropRoot: boolean;
}

const NOBODY = 65534;
// Only what Python needs; nothing from the parent's environment (API keys, tokens, HOME) leaks.
const SAFE_PATH = '/usr/local/bin:/usr/bin:/bin';

let isolation: SandboxIsolation | undefined;

/** The isolation runPython gets with the default interpreter. */
export function sandboxIsolation(): SandboxIsolation {
  if (!isolation) {
    const root = process.getuid?.() === 0;
    const unshare = findExecutable('unshare');
    const probe = root && unshare ? spawnSync(unshare, ['-n', 'true'], { stdio: 'ignore', timeout: 5000 }) : null;
    const py = choosePython(undefined);
    isolation = {
      network: probe !== null && probe.status === 0,
      // nobody must reach the sandbox directory through its parents (not so for e.g. TMPDIR=/root/tmp)
      dropRoot: root && traversableByOthers(tmpdir()) && py !== null && py.usableByNobody,
    };
  }
  return isolation;
}

interface PythonInfo {
  /** the real interpreter binary (sys.executable: no pyenv-style shim scripts in between) */
  exe: string;
  /** nobody can execute it and read its standard library */
  usableByNobody: boolean;
}

const pythons = new Map<string, PythonInfo | null>();

function probePython(cmd: string): PythonInfo | null {
  if (!pythons.has(cmd)) {
    let info: PythonInfo | null = null;
    const path = findExecutable(cmd);
    if (path) {
      const r = spawnSync(path, ['-I', '-c', 'import sys, sysconfig; print(sys.executable); print(sysconfig.get_paths()["stdlib"]); print(sys.version_info >= (3, 8))'], {
        encoding: 'utf8',
        timeout: 30_000,
      });
      const [exe, stdlib, recent] = (r.stdout ?? '').split('\n');
      if (r.status === 0 && exe && recent === 'True') {
        let real = exe;
        try {
          real = realpathSync(exe);
        } catch {
          /* keep sys.executable */
        }
        const usableByNobody = (statSync(real).mode & 0o001) !== 0 && traversableByOthers(dirname(real)) && traversableByOthers(stdlib);
        info = { exe: real, usableByNobody };
      }
    }
    pythons.set(cmd, info);
  }
  return pythons.get(cmd)!;
}

/**
 * The interpreter to run: `requested`, else python3 from PATH. When we are root and that one lives
 * where nobody cannot read it (e.g. pyenv under /root), the system /usr/bin/python3 is preferred so
 * that the program can still run as nobody; HumanEval needs nothing beyond the standard library.
 */
function choosePython(requested: string | undefined): PythonInfo | null {
  if (requested) return probePython(requested);
  const first = probePython('python3');
  if (process.getuid?.() === 0 && (!first || !first.usableByNobody)) {
    const system = probePython('/usr/bin/python3');
    if (system?.usableByNobody) return system;
  }
  return first;
}

const found = new Map<string, string | null>();

/**
 * Absolute path of a command, looked up on the evaluator's PATH: the child gets a minimal PATH, and a
 * python3 installed elsewhere (e.g. by a CI's setup-python) must still be found.
 */
function findExecutable(name: string): string | null {
  if (name.includes('/')) return existsSync(name) ? name : null;
  if (!found.has(name)) {
    let hit: string | null = null;
    for (const d of (process.env.PATH ?? SAFE_PATH).split(delimiter)) {
      const p = join(d || '.', name);
      try {
        accessSync(p, constants.X_OK);
        if (statSync(p).isFile()) {
          hit = resolve(p);
          break;
        }
      } catch {
        /* not here */
      }
    }
    found.set(name, hit);
  }
  return found.get(name)!;
}

function traversableByOthers(dir: string): boolean {
  for (let d = resolve(dir); ; d = dirname(d)) {
    try {
      if ((statSync(d).mode & 0o001) === 0) return false;
    } catch {
      return false;
    }
    if (d === dirname(d)) return true;
  }
}

/**
 * Run `code` with python3 in a throwaway sandbox. Never rejects for anything the program does; rejects
 * (UserError) only when python3 cannot be started at all.
 */
export async function runPython(code: string, opts: SandboxOptions = {}): Promise<SandboxResult> {
  const timeoutMs = opts.timeoutMs ?? 5000;
  const cpuSeconds = Math.max(1, Math.ceil(opts.cpuSeconds ?? 3));
  const memoryBytes = Math.round((opts.memoryMB ?? 512) * 1024 * 1024);
  const maxOutput = opts.maxOutputBytes ?? 64 * 1024;
  const fileBytes = Math.round((opts.maxFileMB ?? 16) * 1024 * 1024);
  const py = choosePython(opts.python);
  if (!py) throw new UserError(`cannot run '${opts.python ?? 'python3'}': not found on PATH or older than 3.8; HumanEval needs Python 3.8+`);
  const python = py.exe;
  const probed = sandboxIsolation();
  const iso = {
    network: probed.network && opts.layers?.network !== false,
    dropRoot: probed.dropRoot && py.usableByNobody && opts.layers?.dropRoot !== false,
  };

  const dir = mkdtempSync(join(tmpdir(), 'nanochat-sbx-'));
  const main = 'main.py';
  writeFileSync(join(dir, main), code);
  let dropUid = false;
  if (iso.dropRoot) {
    try {
      chownSync(dir, NOBODY, NOBODY);
      chownSync(join(dir, main), NOBODY, NOBODY);
      dropUid = true;
    } catch {
      // e.g. a filesystem that refuses chown: the program then runs as root, confined by the other layers
    }
  }
  const cfg = JSON.stringify({ dir, main, cpu: cpuSeconds, mem: memoryBytes, fsize: fileBytes, nproc: 64, drop_uid: dropUid });
  // -I: isolated mode (ignore PYTHON* variables and user site-packages, no script dir on sys.path);
  // -B: no .pyc files; -X utf8: UTF-8 I/O whatever the locale.
  const pyArgs = ['-I', '-B', '-X', 'utf8', '-c', SANDBOX_PREAMBLE, cfg];
  const [cmd, args] = iso.network ? [findExecutable('unshare')!, ['-n', python, ...pyArgs]] : [python, pyArgs];
  const env = { PATH: SAFE_PATH, LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8', HOME: dir, TMPDIR: dir, PYTHONDONTWRITEBYTECODE: '1' };

  const t0 = performance.now();
  return new Promise<SandboxResult>((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    if (child.pid !== undefined) opts.onSpawn?.(child.pid);
    const chunks: { out: Buffer[]; err: Buffer[] } = { out: [], err: [] };
    let bytes = 0;
    let timedOut = false;
    let outputTruncated = false;
    let exit: { code: number | null; signal: string | null } | null = null;
    let finished = false;

    const killGroup = () => {
      // The negative pid addresses the whole process group; ESRCH just means it is already gone.
      if (child.pid !== undefined) {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, timeoutMs);

    const collect = (which: 'out' | 'err') => (chunk: Buffer) => {
      if (outputTruncated) return;
      const room = maxOutput - bytes;
      if (chunk.length > room) {
        if (room > 0) chunks[which].push(chunk.subarray(0, room));
        bytes = maxOutput;
        outputTruncated = true;
        killGroup();
        return;
      }
      chunks[which].push(chunk);
      bytes += chunk.length;
    };
    child.stdout.on('data', collect('out'));
    child.stderr.on('data', collect('err'));

    let grace: NodeJS.Timeout | undefined;
    const finish = () => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      clearTimeout(grace);
      child.stdout.destroy();
      child.stderr.destroy();
      removeDir(dir);
      const ex = exit ?? { code: null, signal: null };
      resolve({
        ok: ex.code === 0 && ex.signal === null && !timedOut && !outputTruncated,
        exitCode: ex.code,
        signal: ex.signal,
        stdout: Buffer.concat(chunks.out).toString('utf8'),
        stderr: Buffer.concat(chunks.err).toString('utf8'),
        timedOut,
        outputTruncated,
        ms: Math.round(performance.now() - t0),
      });
    };

    child.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      finished = true;
      removeDir(dir);
      if (err.code === 'ENOENT') reject(new UserError(`cannot run '${cmd}': not found; HumanEval needs Python 3.8+`));
      else reject(err);
    });
    child.on('exit', (code, signal) => {
      exit = { code, signal };
      // Anything the program left running in its group dies with it.
      killGroup();
      // 'close' follows once the pipes drain; if something outside the group still holds them, do not wait for it.
      grace = setTimeout(finish, 1000);
    });
    child.on('close', finish);
  });
}

/** Delete the sandbox directory, even if the program made parts of it unreadable. */
function removeDir(dir: string): void {
  try {
    rmSync(dir, { recursive: true, force: true });
  } catch {
    try {
      makeWritable(dir);
      rmSync(dir, { recursive: true, force: true });
    } catch {
      /* leave it to the OS temp cleaner rather than fail the evaluation */
    }
  }
}

function makeWritable(dir: string): void {
  chmodSync(dir, 0o700);
  for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) makeWritable(join(dir, e.name));
}
