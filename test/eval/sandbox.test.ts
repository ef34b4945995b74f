// The HumanEval sandbox against hostile programs: none may hang the evaluator, leave processes behind,
// see the evaluator's secrets, reach the network, or touch files outside its own temp directory.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { runPython, sandboxIsolation, type SandboxOptions } from '../../src/eval/sandbox.js';

const hasPython = spawnSync('python3', ['--version']).status === 0;
const skip = hasPython ? false : 'python3 is not on PATH';
const MARKER = `nanochat_sbx_marker_${process.pid}_${Date.now()}`;
const pids: number[] = [];
const runWith = (layers: SandboxOptions['layers'], code: string, opts: SandboxOptions = {}) =>
  runPython(code, { timeoutMs: 5000, cpuSeconds: 2, ...opts, layers, onSpawn: (pid) => pids.push(pid) });
const run = (code: string, opts: SandboxOptions = {}) => runWith({}, code, opts);
/** Python that calls each lambda of a dict `tries` and prints "blocked <name> <error>" or "ESCAPED <name>". */
const TRY_EACH = `for name, f in tries.items():
    try:
        f()
        print("ESCAPED", name)
    except Exception as e:
        print("blocked", name, type(e).__name__)`;

/** Processes in a process group, or whose command line contains the marker. */
function survivors(): string[] {
  const found: string[] = [];
  for (const pid of pids) {
    const r = spawnSync('pgrep', ['-g', String(pid)], { encoding: 'utf8' });
    if ((r.stdout ?? '').trim()) found.push(`group ${pid}: ${r.stdout.trim()}`);
  }
  const m = spawnSync('pgrep', ['-f', MARKER], { encoding: 'utf8' });
  if ((m.stdout ?? '').trim()) found.push(`marker: ${m.stdout.trim()}`);
  return found;
}

after(() => {
  // Checked once more at the very end, after every hostile program has run.
  if (hasPython) assert.deepEqual(survivors(), []);
});

// Every hostile program runs twice when we are root: with all layers, and with the kernel-level ones
// (network namespace, dropping root) switched off, so the audit hook and rlimits are shown to hold alone
// (as on a CI machine that runs as an ordinary user).
const modes: [string, SandboxOptions['layers']][] = [['all layers', {}]];
if (hasPython && (sandboxIsolation().network || sandboxIsolation().dropRoot)) modes.push(['hook + rlimits only', { network: false, dropRoot: false }]);

for (const [mode, modeLayers] of modes) {
  const run = (code: string, opts: SandboxOptions = {}) => runWith(modeLayers, code, opts);

  test(`${mode}: a normal program runs, its output is captured, its temp dir is removed`, { skip }, async () => {
    const r = await run('import os, sys\nprint("hello", 6 * 7)\nprint(os.getcwd())\nprint("warn", file=sys.stderr)\nopen("scratch.txt", "w").write("ok")');
    assert.equal(r.ok, true, r.stderr);
    assert.equal(r.exitCode, 0);
    const [hello, cwd] = r.stdout.split('\n');
    assert.equal(hello, 'hello 42');
    assert.match(cwd, /nanochat-sbx-/);
    assert.equal(existsSync(cwd), false);
    assert.equal(r.stderr, 'warn\n');
    assert.deepEqual(survivors(), []);
    // failures: a raised exception and a syntax error are plain non-zero exits
    const fail = await run('assert 1 == 2, "nope"');
    assert.equal(fail.ok, false);
    assert.equal(fail.exitCode, 1);
    assert.match(fail.stderr, /AssertionError: nope/);
    assert.equal((await run('def f(:')).ok, false);
    // there is no stdin
    const stdin = await run('input()');
    assert.match(stdin.stderr, /EOFError/);
  });

  // limits enforced by rlimits and the parent are the same in both modes: run once
  if (mode === 'all layers') test(`${mode}: infinite loop: stopped by the CPU limit`, { skip }, async () => {
    const r = await run('while True:\n    pass', { cpuSeconds: 1, timeoutMs: 8000 });
    assert.equal(r.ok, false);
    assert.ok(r.signal === 'SIGXCPU' || r.signal === 'SIGKILL', `signal ${r.signal}`);
    assert.ok(r.ms < 8000, `${r.ms} ms`);
    assert.deepEqual(survivors(), []);
  });

  // limits enforced by rlimits and the parent are the same in both modes: run once
  if (mode === 'all layers') test(`${mode}: sleeping forever: killed by the wall-clock timeout`, { skip }, async () => {
    const r = await run(`import time, signal\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)  # ${MARKER}\ntime.sleep(1000)`, { timeoutMs: 800 });
    assert.equal(r.timedOut, true);
    assert.equal(r.signal, 'SIGKILL');
    assert.ok(r.ms < 3000, `${r.ms} ms`);
    assert.deepEqual(survivors(), []);
  });

  test(`${mode}: fork bombs and process spawning are refused; nothing is left behind`, { skip }, async () => {
    const bomb = await run('import os\nwhile True:\n    os.fork()');
    assert.equal(bomb.ok, false);
    assert.match(bomb.stderr, /sandbox: 'os.fork' is not allowed/);

    const attempts = await run(`
import os
tries = {
  "fork": lambda: os.fork(),
  "system": lambda: os.system("sleep 30 # ${MARKER}"),
  "popen": lambda: __import__("subprocess").Popen(["sleep", "30", "${MARKER}"]),
  "posix_spawn": lambda: os.posix_spawn("/bin/sleep", ["sleep", "30", "${MARKER}"], {}),
  "execv": lambda: os.execv("/bin/sleep", ["sleep", "30", "${MARKER}"]),
  "multiprocessing": lambda: __import__("multiprocessing").Process(target=print).start(),
  "pty": lambda: __import__("pty").fork(),
  "kill parent": lambda: os.kill(os.getppid(), 9),
}
${TRY_EACH}
  `);
    assert.doesNotMatch(attempts.stdout, /ESCAPED/);
    assert.equal(attempts.stdout.split('\n').filter((l) => l.startsWith('blocked')).length, 8, attempts.stdout + attempts.stderr);

    // a bomb that swallows the refusals just burns its CPU allowance
    if (mode === 'all layers') {
      const stubborn = await run('import os\nwhile True:\n    try:\n        os.fork()\n    except Exception:\n        pass', { cpuSeconds: 1 });
      assert.equal(stubborn.ok, false);
    }
    assert.deepEqual(survivors(), []);
  });

  // limits enforced by rlimits and the parent are the same in both modes: run once
  if (mode === 'all layers') test(`${mode}: memory hogs hit the address-space limit`, { skip }, async () => {
    const big = await run('x = bytearray(8 * 1024 ** 3)', { memoryMB: 256 });
    assert.equal(big.ok, false);
    assert.match(big.stderr, /MemoryError/);
    const growing = await run('x = []\nwhile True:\n    x.append(" " * 10 ** 7)', { memoryMB: 128, cpuSeconds: 3 });
    assert.equal(growing.ok, false);
    assert.ok(/MemoryError/.test(growing.stderr) || growing.signal !== null, growing.stderr);
  });

  test(`${mode}: files outside the sandbox directory cannot be written, removed, renamed or linked`, { skip }, async () => {
    const host = mkdtempSync(join(tmpdir(), 'nanochat-host-'));
    const victim = join(host, 'victim.txt');
    writeFileSync(victim, 'original');
    const outside = join(tmpdir(), `${MARKER}.txt`);
    try {
      const r = await run(`
import os, shutil
victim, outside = ${JSON.stringify(victim)}, ${JSON.stringify(outside)}
tries = {
  "open w": lambda: open(victim, "w").write("pwned"),
  "open a": lambda: open(victim, "a").write("pwned"),
  "create": lambda: open(outside, "x").write("pwned"),
  "os.open": lambda: os.write(os.open(outside, os.O_CREAT | os.O_WRONLY), b"pwned"),
  "remove": lambda: os.remove(victim),
  "rename": lambda: os.rename(victim, "stolen"),
  "symlink": lambda: os.symlink(victim, "link"),
  "hardlink": lambda: os.link(victim, "hard"),
  "copy out": lambda: shutil.copyfile(__file__ if os.path.exists(__file__) else "main.py", outside),
  "chmod": lambda: os.chmod(victim, 0o777),
  "dir_fd": lambda: os.open("victim.txt", os.O_WRONLY | os.O_TRUNC, dir_fd=os.open(${JSON.stringify(host)}, os.O_RDONLY)),
  "chdir": lambda: (os.chdir(${JSON.stringify(tmpdir())}), open(${JSON.stringify(`${MARKER}.txt`)}, "w").write("pwned")),
}
${TRY_EACH}
os.chdir(${JSON.stringify('/')})
  `);
      assert.doesNotMatch(r.stdout, /ESCAPED/, r.stdout);
      assert.equal(r.stdout.split('\n').filter((l) => l.startsWith('blocked')).length, 12, r.stdout + r.stderr);
      assert.equal(readFileSync(victim, 'utf8'), 'original');
      assert.equal(existsSync(outside), false);
      // writing inside its own directory is fine
      const inside = await run('import os\nos.mkdir("d")\nopen("d/f.txt", "w").write("x")\nos.rename("d/f.txt", "g.txt")\nprint(open("g.txt").read())');
      assert.equal(inside.ok, true, inside.stderr);
      assert.equal(inside.stdout, 'x\n');
    } finally {
      rmSync(host, { recursive: true, force: true });
      rmSync(outside, { force: true });
    }
  });

  test(`${mode}: the evaluator's environment variables are invisible`, { skip }, async () => {
    const secret = `s3cr3t-${Math.random().toString(36).slice(2)}`;
    process.env.NANOCHAT_SANDBOX_TEST_SECRET = secret;
    try {
      const r = await run(`
import os
print(dict(os.environ))
for path in ["/proc/%d/environ" % os.getppid(), "/proc/%d/cmdline" % os.getppid(), "/proc/1/environ"]:
    try:
        print(path, open(path, "rb").read())
    except Exception as e:
        print("blocked", path, type(e).__name__)
for pid in os.listdir("/proc") if os.path.isdir("/proc") else []:
    if pid.isdigit():
        try:
            print(open("/proc/%s/environ" % pid, "rb").read())
        except Exception:
            pass
  `);
      const all = r.stdout + r.stderr;
      assert.ok(!all.includes(secret), 'secret leaked');
      assert.match(r.stdout, /'PATH': '/);
      assert.doesNotMatch(r.stdout, new RegExp(`'HOME': '${process.env.HOME}'`), 'real HOME leaked');
    } finally {
      delete process.env.NANOCHAT_SANDBOX_TEST_SECRET;
    }
  });

  test(`${mode}: sockets cannot be opened`, { skip }, async () => {
    let connections = 0;
    const server = createServer((s) => {
      connections++;
      s.destroy();
    });
    await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
    const port = (server.address() as { port: number }).port;
    try {
      const r = await run(`
import socket
tries = {
  "connect": lambda: socket.create_connection(("127.0.0.1", ${port}), timeout=2),
  "raw _socket": lambda: __import__("_socket").socket(),
  "bind": lambda: socket.socket().bind(("0.0.0.0", 0)),
  "dns": lambda: socket.getaddrinfo("example.com", 80),
}
${TRY_EACH}
  `);
      assert.doesNotMatch(r.stdout, /ESCAPED/, r.stdout);
      assert.equal(r.stdout.split('\n').filter((l) => l.startsWith('blocked')).length, 4, r.stdout + r.stderr);
      assert.equal(connections, 0);
    } finally {
      server.close();
    }
  });

  // limits enforced by rlimits and the parent are the same in both modes: run once
  if (mode === 'all layers') test(`${mode}: huge output is capped and the program killed`, { skip }, async () => {
    const r = await run('while True:\n    print("x" * 1000)', { maxOutputBytes: 64 * 1024 });
    assert.equal(r.ok, false);
    assert.equal(r.outputTruncated, true);
    assert.ok(r.stdout.length <= 64 * 1024 && r.stdout.length > 60 * 1024, `${r.stdout.length}`);
    assert.ok(r.ms < 4000, `${r.ms} ms`);
    assert.deepEqual(survivors(), []);
  });
}

test('runs in parallel independently; reports its isolation', { skip }, async () => {
  const rs = await Promise.all([1, 2, 3, 4].map((i) => run(`print(${i} * 11)`)));
  assert.deepEqual(rs.map((r) => r.stdout), ['11\n', '22\n', '33\n', '44\n']);
  const iso = sandboxIsolation();
  assert.equal(typeof iso.network, 'boolean');
  assert.equal(typeof iso.dropRoot, 'boolean');
  if (process.getuid?.() !== 0) assert.equal(iso.dropRoot, false);
});
