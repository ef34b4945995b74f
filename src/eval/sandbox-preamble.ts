// The Python side of the sandbox (sandbox.ts): a small runner that confines itself, then runs the
// untrusted program. Layers, each covering gaps of the others:
//  1. resource limits (CPU seconds, address space, file size, no core dumps, process count);
//  2. when started as root: drop to nobody:nogroup, so the kernel denies writes to host files and
//     reading other processes' /proc entries (RLIMIT_NPROC, which root ignores, then applies too);
//  3. an audit hook (PEP 578) that refuses process creation, signals, sockets, ctypes, raising the
//     limits, writes outside the sandbox directory and peeking at other processes in /proc.
// An audit hook is defence in depth, not a jail: a determined program can get around it (e.g. via a
// C extension), which is why the kernel-enforced layers come first and the parent process also
// enforces a wall-clock limit, an output cap and kills the whole process group.

export const SANDBOX_PREAMBLE = String.raw`
import sys, os


def _install(cfg):
    """Confine this process. Everything the audit hook needs lives in this closure: the hook
    function is referenced only by the interpreter (there is no API to list or remove hooks, and
    gc introspection is refused), so the program cannot reach and loosen it."""
    import resource

    root = os.path.realpath(cfg["dir"])

    def limit(which, soft, hard=None):
        try:
            resource.setrlimit(which, (soft, soft if hard is None else hard))
        except (ValueError, OSError):
            pass  # a limit the platform refuses is still covered by the parent's watchdog

    limit(resource.RLIMIT_CORE, 0)
    limit(resource.RLIMIT_CPU, cfg["cpu"], cfg["cpu"] + 1)  # SIGXCPU at soft, SIGKILL at hard
    limit(resource.RLIMIT_AS, cfg["mem"])
    limit(resource.RLIMIT_FSIZE, cfg["fsize"])
    limit(resource.RLIMIT_NOFILE, 256)
    if cfg["drop_uid"] and os.getuid() == 0:
        try:
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
        except OSError:
            pass
    limit(resource.RLIMIT_NPROC, cfg["nproc"])  # counts this user's processes; root is exempt

    blocked_prefixes = (
        "os.system", "os.fork", "os.forkpty", "os.exec", "os.spawn", "os.posix_spawn", "subprocess.",
        "pty.", "os.kill", "os.killpg", "signal.pthread_kill", "socket.", "ctypes.", "resource.",
        "os.setuid", "os.setgid", "os.setre", "os.setgroups", "os.chroot", "os.link", "os.symlink",
        "gc.get_", "sys.settrace", "sys.setprofile", "sys.remote_exec", "webbrowser.", "urllib.Request",
        "http.client.", "ftplib.", "smtplib.", "imaplib.", "poplib.", "nntplib.", "telnetlib.",
        "os.startfile", "winreg.",
    )
    blocked_imports = frozenset({"ctypes", "_ctypes", "_posixsubprocess", "multiprocessing", "_multiprocessing"})
    # events whose path arguments must all lie inside the sandbox directory
    path_events = frozenset({
        "os.remove", "os.rmdir", "os.rename", "os.mkdir", "os.chmod", "os.chown", "os.truncate",
        "os.utime", "os.chflags", "os.lchflags", "os.setxattr", "os.removexattr", "shutil.rmtree",
        "shutil.copyfile", "shutil.copymode", "shutil.copystat", "shutil.copytree", "shutil.move",
        "shutil.chown", "shutil.make_archive", "shutil.unpack_archive", "os.mkfifo", "os.mknod",
    })
    write_flags = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
    me = str(os.getpid())
    realpath, fsdecode, isdir, sep, PathLike = os.path.realpath, os.fsdecode, os.path.isdir, os.sep, os.PathLike
    state = {"busy": False, "writes": 0}

    def inside(p):
        p = realpath(fsdecode(p))
        return p == root or p.startswith(root + sep) or p == "/dev/null"

    def other_proc(p):
        p = realpath(fsdecode(p))
        if not p.startswith("/proc/"):
            return False
        first = p[6:].split("/", 1)[0]
        return first.isdigit() and first != me

    def deny(event, detail=""):
        raise PermissionError("sandbox: '%s' is not allowed%s" % (event, (" (" + detail + ")") if detail else ""))

    def hook(event, args):
        if state["busy"]:
            return  # our own checks must never recurse into the hook
        state["busy"] = True
        try:
            if event.startswith(blocked_prefixes):
                deny(event)
            if event == "import" and args and args[0] in blocked_imports:
                deny(event, args[0])
            if event == "open" and args:
                path, mode, flags = (list(args) + [None, None])[:3]
                if isinstance(path, int):
                    return  # an already-open descriptor
                if other_proc(path):
                    deny(event, "another process's /proc entry")
                writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
                    isinstance(flags, int) and flags & write_flags)
                if writing:
                    if not inside(path):
                        deny(event, "writing outside the sandbox directory: %s" % fsdecode(path))
                    state["writes"] += 1
                    if state["writes"] > 1000:
                        deny(event, "too many files written")
                if mode is None and isdir(path) and not inside(path):
                    deny(event, "os.open of a directory")  # closes the dir_fd route around the path checks
            elif event in path_events:
                for a in args:
                    if isinstance(a, (str, bytes, PathLike)) and not inside(a):
                        deny(event, "outside the sandbox directory: %s" % fsdecode(a))
            elif event in ("os.listdir", "os.scandir") and args and isinstance(args[0], (str, bytes)) and other_proc(args[0]):
                deny(event, "another process's /proc entry")
        finally:
            state["busy"] = False

    sys.addaudithook(hook)


def _prepare():
    import json, types
    if not hasattr(sys, "addaudithook"):
        sys.stderr.write("sandbox: Python >= 3.8 is required (audit hooks)\n")
        sys.exit(3)
    cfg = json.loads(sys.argv[1])
    with open(os.path.join(cfg["dir"], cfg["main"]), "r", encoding="utf-8") as f:
        source = f.read()
    code = compile(source, cfg["main"], "exec")
    _install(cfg)
    # The program gets a fresh __main__ module (not this runner's namespace).
    module = types.ModuleType("__main__")
    module.__file__ = cfg["main"]
    sys.modules["__main__"] = module
    sys.argv = [cfg["main"]]
    return code, module.__dict__


_code, _namespace = _prepare()
del _prepare, _install
exec(_code, _namespace)
`;
