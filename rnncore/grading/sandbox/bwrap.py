"""The sandbox's walls: the bubblewrap command line, its resource limits and its user id.

A sandboxed student process

* sees the Python installation and the virtual environment read-only, and
  nothing else of the machine's files: no course directory, gradebook,
  ``solutions/``, exchange, other students' folders or the grader's home
  (whatever of these lies inside a bound path is masked with an empty tmpfs);
* writes only an empty tmpfs ``/tmp`` of its own (256 MB);
* has no network (its own network namespace: only a loopback with nothing on
  it), its own PID namespace (it can signal nothing outside), its own IPC and
  UTS namespaces, and no controlling terminal (``--new-session``);
* runs as an unprivileged user id of its own (as root the grader gives each
  sandbox a uid from a range nobody else uses, so that ``RLIMIT_NPROC = 1``
  denies it every new process or thread), with no capabilities and
  ``no_new_privs``;
* has rlimits on address space (2 GB), CPU seconds, file size and open files;
* dies with the grader (``--die-with-parent``), and every process in it dies
  with it (the PID namespace ends with its first process).

Linux only. :func:`problem` says why a sandbox cannot start here (then
grading refuses, unless the instructor passes ``--unsafe``).
"""

from __future__ import annotations

import fcntl
import functools
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import NamedTuple

__all__ = ["Limits", "problem"]

RUNTIME_DIR = Path(__file__).resolve().parent
EXPLAIN_FILE = RUNTIME_DIR.parent / "_explain.py"
INSIDE = "/opt/rnnbook"  # where the runtime appears inside the sandbox
UID_BASE = 61000  # 61000-61255: one per sandbox running at once (as root)
UID_SLOTS = 256


class Limits(NamedTuple):
    """What one sandboxed submission may use."""

    call_seconds: float = 30.0  # wall time of one call of a student's function
    cell_seconds: float = 60.0  # wall time of one test cell (all its calls)
    setup_seconds: float = 60.0  # wall time of the notebook's own cells, all together
    memory_bytes: int = 2 * 1024**3  # address space
    cpu_seconds: int = 600  # CPU time of the whole sandboxed process
    output_bytes: int = 1_000_000  # printed by one call or cell
    file_bytes: int = 64 * 1024**2  # largest file the student's code may write
    tmp_bytes: int = 256 * 1024**2  # size of its /tmp


def _tool(name: str) -> str | None:
    override = os.environ.get(f"RNNBOOK_{name.upper()}")  # e.g. RNNBOOK_BWRAP=/opt/bin/bwrap
    if override is not None:
        return override if os.access(override, os.X_OK) else None
    return shutil.which(name) or next(
        (p for p in (f"/usr/bin/{name}", f"/bin/{name}") if os.access(p, os.X_OK)), None
    )


def problem() -> str | None:
    """Why sandboxed grading cannot run on this machine, or None when it can."""
    return _problem(os.environ.get("RNNBOOK_BWRAP"))


@functools.lru_cache(maxsize=4)
def _problem(_override) -> str | None:
    if not sys.platform.startswith("linux"):
        return f"bubblewrap sandboxes need Linux; this is {sys.platform}"
    missing = [
        t for t in ("bwrap", "prlimit") + (("setpriv",) if os.getuid() == 0 else ()) if not _tool(t)
    ]
    if missing:
        return (
            f"{', '.join(missing)} not found (Debian/Ubuntu: apt-get install bubblewrap util-linux)"
        )
    probe = command([python_command(), "-I", "-c", "import numpy"], uid=None)
    try:
        done = subprocess.run(probe, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as err:
        return f"bubblewrap did not start: {err}"
    if done.returncode != 0:
        return f"bubblewrap failed here: {(done.stderr or done.stdout).strip()[:500]}"
    return None


def _python_roots() -> list[str]:
    """Folders the interpreter and its packages need: the base installation and the venv."""
    roots = {os.path.realpath(p) for p in (sys.base_prefix, sys.prefix, sys.exec_prefix)}
    roots.add(os.path.dirname(os.path.dirname(os.path.realpath(sys.executable))))
    return sorted(r for r in roots if not r.startswith("/usr"))


def _parents(path: str) -> list[str]:
    parts = Path(path).parts[1:-1]
    return ["/" + "/".join(parts[: k + 1]) for k in range(len(parts))]


def _masks(bound: list[str], deny) -> list[str]:
    """bwrap arguments that hide each denied path lying inside a bound folder."""
    args = []
    for path in sorted({os.path.realpath(p) for p in deny if p}):
        inside = any(path == b or path.startswith(b.rstrip("/") + "/") for b in bound)
        if not inside or not os.path.exists(path):
            continue
        args += ["--tmpfs", path] if os.path.isdir(path) else ["--ro-bind", "/dev/null", path]
    return args


def default_deny() -> list[str]:
    """Paths no sandbox may see even where they lie inside the Python installation."""
    import rnncore  # the reference implementation: never visible to graded code

    home = os.path.expanduser("~")
    return [os.path.dirname(os.path.abspath(rnncore.__file__)), home, "/usr/local/share/nbgrader"]


def command(argv, *, uid: int | None, limits: Limits | None = None, deny=()) -> list[str]:
    """The full command line that runs ``argv`` (a Python command) in a sandbox."""
    limits = limits or Limits()
    bound = ["/usr", *_python_roots(), INSIDE]
    args = [_tool("bwrap") or "bwrap", "--ro-bind", "/usr", "/usr"]
    for name in ("bin", "lib", "lib64", "sbin"):
        host = f"/{name}"
        if os.path.islink(host):
            args += ["--symlink", os.readlink(host), host]
        elif os.path.isdir(host):
            args += ["--ro-bind", host, host]
    for etc in ("/etc/ld.so.cache", "/etc/localtime", "/etc/alternatives"):
        if os.path.exists(etc):
            args += ["--ro-bind", etc, etc]
    made = set()

    def bind(host: str, inside: str) -> None:  # bwrap makes missing parents 0700: open them
        nonlocal args
        for parent in _parents(inside):
            if parent not in made and parent != "/usr":
                args += ["--perms", "0755", "--dir", parent]
                made.add(parent)
        args += ["--ro-bind", host, inside]

    # the private /tmp first, so that a Python installed under /tmp is bound on top of it
    args += ["--proc", "/proc", "--dev", "/dev"]
    args += ["--size", str(limits.tmp_bytes), "--perms", "1777", "--tmpfs", "/tmp"]
    for root in _python_roots():
        bind(root, root)
    bind(str(RUNTIME_DIR), f"{INSIDE}/sandbox")
    if EXPLAIN_FILE.exists():
        args += ["--ro-bind", str(EXPLAIN_FILE), f"{INSIDE}/explain.py"]
    args += _masks(bound, [*default_deny(), *deny])
    args += ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts"]
    args += ["--hostname", "rnnbook-sandbox"]
    args += ["--unshare-cgroup-try", "--die-with-parent", "--new-session", "--clearenv"]
    if os.getuid() != 0:
        args += ["--unshare-user"]
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": "/tmp",
        "LANG": "C.UTF-8",
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": "/tmp/matplotlib",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONHASHSEED": "0",
        "RNNBOOK_EXPLAIN": f"{INSIDE}/explain.py",
        SITE_ENV: os.pathsep.join(site_dirs()),
    }
    for key, value in env.items():
        args += ["--setenv", key, value]
    args += ["--chdir", "/tmp", "--"]
    if uid is not None:  # root: become a user of our own, with no way back
        args += [
            _tool("setpriv"),
            f"--reuid={uid}",
            f"--regid={uid}",
            "--clear-groups",
            "--inh-caps=-all",
            "--bounding-set=-all",
            "--no-new-privs",
        ]
    args += [
        _tool("prlimit"),
        f"--as={limits.memory_bytes}",
        f"--cpu={limits.cpu_seconds}",
        f"--fsize={limits.file_bytes}",
        "--nproc=1",  # no new process or thread: the sandbox is one process
        "--nofile=64",
        "--core=0",
        "--",
    ]
    return args + list(argv)


def python_command() -> str:
    """The grader's interpreter by a path the sandbox binds.

    ``sys.executable`` may run through a linked folder (a ``.venv`` that is a symlink), which
    the sandbox does not show; the same file inside the venv's real folder keeps the venv.
    """
    inside_venv = os.path.join(
        os.path.realpath(sys.prefix), "bin", os.path.basename(sys.executable)
    )
    return inside_venv if os.access(inside_venv, os.X_OK) else os.path.realpath(sys.executable)


SITE_ENV = "RNNBOOK_SITE"  # where the runtime finds NumPy and the environment's packages


@functools.cache
def site_dirs() -> tuple[str, ...]:
    """The environment's package folders, by the paths the sandbox binds them at.

    The runtime starts with ``-S`` and puts these on ``sys.path`` itself: ``site`` would
    also run every ``.pth`` file of the environment (the editable install's finder,
    coverage's start-up hook), 20 ms of every sandbox's start, measured, for nothing a
    student's code uses.
    """
    import site

    import numpy

    found = [os.path.realpath(p) for p in site.getsitepackages() if os.path.isdir(p)]
    numpy_dir = os.path.dirname(os.path.dirname(os.path.realpath(numpy.__file__)))
    return tuple(dict.fromkeys([*found, numpy_dir]))


def runtime_argv(in_fd: int, out_fd: int) -> list[str]:
    """The runtime's command inside the sandbox (the same interpreter as the grader's)."""
    runtime = f"{INSIDE}/sandbox/runtime.py"
    return [python_command(), "-I", "-S", runtime, str(in_fd), str(out_fd)]


class UidSlot:
    """A user id that no other sandbox uses while this one runs (root only; else None)."""

    def __init__(self):
        self.uid, self._lock = None, None
        if os.getuid() != 0:
            return
        folder = Path(tempfile.gettempdir()) / "rnnbook-sandbox-uids"
        folder.mkdir(mode=0o700, exist_ok=True)
        for k in range(UID_SLOTS):
            handle = open(folder / f"{UID_BASE + k}.lock", "a")  # noqa: SIM115 - held open
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                handle.close()
                continue
            self.uid, self._lock = UID_BASE + k, handle
            return
        raise RuntimeError(f"all {UID_SLOTS} sandbox user ids are in use")

    def release(self) -> None:
        if self._lock is not None:
            self._lock.close()
            self._lock = None
