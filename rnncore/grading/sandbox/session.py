"""The grader's side of a sandbox: start it, run a notebook's cells in it, call its functions.

:class:`Sandbox` owns one sandboxed process (:mod:`.bwrap`) running
``runtime.py``. :meth:`Sandbox.run_cell` executes one of the student's code
cells there; :meth:`Sandbox.function` returns a :class:`RemoteFunction`, a
callable that the checks of :mod:`rnncore.grading` use like the student's own
function. Arguments go in and results come back as data (:mod:`.wire`); an
input the student's code changed in place is changed here too, so the checks
can say so; a generator's state comes back advanced.

Every wait has a deadline. When a call runs past it, prints too much, or the
process dies, the whole sandbox is killed (its PID namespace with it) and a
:class:`~.errors.SandboxLimit` says why; the next call starts a fresh sandbox
and replays the notebook's cells, so one bad function costs only its own
checks. A function that ran out of time once fails at once afterwards.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import tempfile
import time
import types

from . import bwrap, wire
from .errors import SandboxLimit, SandboxUnavailable, StudentRaised

__all__ = ["RemoteFunction", "Sandbox"]

SEED = 1234  # the legacy global generator's seed for every call (as in the kernel)
REPLY_BYTES = 64 * 1024**2  # the largest answer the grader reads (the checks' are far smaller)


class RemoteFunction:
    """A student's function living in the sandbox; calling it calls it there."""

    __rnnbook_remote__ = True

    def __init__(self, sandbox: Sandbox, name: str):
        self._sandbox, self.__name__, self.__qualname__ = sandbox, name, name

    def __call__(self, *args, **kwargs):
        return self._sandbox.call(self.__name__, args, kwargs)

    def __repr__(self) -> str:
        return f"<your function {self.__name__}, run in the grading sandbox>"


def _unstack(values: dict, count: int) -> list:
    """Per-probe output tuples from a probe reply: stacked arrays, or one tuple per probe."""
    import numpy as np

    stacked = values.get("stacked")
    if stacked is None:
        return list(values.get("outputs", []))
    if not isinstance(stacked, list) or not all(
        isinstance(a, np.ndarray) and a.ndim >= 1 and a.shape[0] == count for a in stacked
    ):
        raise wire.WireError(f"a probe reply that is not {count} stacked outputs")
    return [tuple(column[k] for column in stacked) for k in range(count)]


def _apply_changes(args, changed: dict, rngs: dict) -> None:
    """Change the grader's copies of inputs as the student's code changed its own."""
    import numpy as np

    for key, new in changed.items():
        old = args[int(key)]
        if isinstance(old, np.ndarray) and isinstance(new, np.ndarray) and old.shape == new.shape:
            np.copyto(old, new, casting="unsafe")
        elif isinstance(old, np.ndarray):
            old.flat[0] = np.nan if old.dtype.kind in "fc" else old.flat[0] + 1  # mark as changed
        elif type(old) is dict and type(new) is dict:
            old.clear()
            old.update(new)
        elif type(old) is list and type(new) is list:
            old[:] = new
    for key, new in rngs.items():
        old = args[int(key)]
        if isinstance(old, np.random.Generator) and isinstance(new, np.random.Generator):
            old.bit_generator.state = new.bit_generator.state


class Sandbox:
    """One sandboxed process holding a student's notebook namespace.

    Parameters
    ----------
    limits : bwrap.Limits
        Time, memory and output limits.
    unsafe : bool
        Run the student's code in a plain subprocess (no bubblewrap). Grades
        still come from this process, but the student's code is not contained.
    deny : sequence of str
        More paths to hide, when they lie inside the Python installation.
    """

    def __init__(self, limits: bwrap.Limits | None = None, unsafe: bool = False, deny=()):
        self.limits = limits or bwrap.Limits()
        self.unsafe, self.deny = unsafe, tuple(deny)
        self.cells: list[tuple[int, str]] = []  # replayed after a restart
        self.names: dict[str, str] = {}
        self.timed_out: dict[str, str] = {}
        self.broken: str | None = None  # set when the notebook itself cannot be replayed
        self.exposed: dict[int, object] = {}
        self.proc = None
        self.printed = None  # a list: collect what the student's calls print
        self._deadline = None

    # -- process ---------------------------------------------------------------------------
    def start(self) -> None:
        """Start the sandboxed process and wait until it is ready."""
        if self.proc is None:
            self.spawn()
        self._ready()

    def spawn(self) -> None:
        """Start the sandboxed process without waiting for it (it starts while we work)."""
        if not self.unsafe and (why := bwrap.problem()):
            raise SandboxUnavailable(why)
        to_child, from_parent = os.pipe()
        from_child, to_parent = os.pipe()
        self.slot = bwrap.UidSlot() if not self.unsafe else None
        if self.unsafe:
            argv = [sys.executable, "-I", "-S", str(bwrap.RUNTIME_DIR / "runtime.py")]
            argv += [str(to_child), str(to_parent)]
            env = {
                "PATH": "/usr/bin:/bin",
                "OPENBLAS_NUM_THREADS": "1",
                "MPLBACKEND": "Agg",
                "RNNBOOK_EXPLAIN": str(bwrap.EXPLAIN_FILE),
                bwrap.SITE_ENV: os.pathsep.join(bwrap.site_dirs()),
            }
            self._scratch = tempfile.mkdtemp(prefix="rnnbook-unsafe-")
            cwd = self._scratch
        else:
            argv = bwrap.command(
                bwrap.runtime_argv(to_child, to_parent),
                uid=self.slot.uid,
                limits=self.limits,
                deny=self.deny,
            )
            env, cwd, self._scratch = {"PATH": "/usr/bin:/bin"}, "/", None
        self._log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            argv,
            pass_fds=(to_child, to_parent),
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=self._log,
            env=env,
            cwd=cwd,
            start_new_session=True,  # its own process group: killed as one
        )
        os.close(to_child)
        os.close(to_parent)
        self._out, self._in = from_parent, from_child
        os.set_blocking(self._out, False)
        self.reader = wire.FrameReader(self._in, limit=REPLY_BYTES)
        self.exposed.clear()
        self._waiting_ready = True

    def _ready(self) -> None:
        if not getattr(self, "_waiting_ready", False):
            return
        self._waiting_ready = False
        try:
            header, _ = self._wait(time.monotonic() + self.limits.setup_seconds, "start")
        except (TimeoutError, EOFError, wire.WireError):
            self.kill()
            raise SandboxLimit("the grading sandbox did not start") from None
        if header.get("op") != "ready":
            self.kill()
            raise SandboxLimit("the grading sandbox did not start")

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """End the sandbox and every process in it."""
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover - SIGKILL does not wait
            pass
        for fd in (self._out, self._in):
            try:
                os.close(fd)
            except OSError:
                pass
        if self.slot is not None:
            self.slot.release()
        if self._scratch:
            import shutil

            shutil.rmtree(self._scratch, ignore_errors=True)
        self.proc = None

    close = kill

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.kill()

    # -- the wire --------------------------------------------------------------------------
    def _keep(self, obj) -> int:
        self.exposed[id(obj)] = obj
        return id(obj)

    def _resolve(self, owner, ref_id):
        if owner == "grader":
            if ref_id not in self.exposed:
                raise wire.WireError("unknown reference")
            return self.exposed[ref_id]
        return wire.Ref("sandbox", ref_id)

    def _send(self, header: dict, values: dict, deadline: float) -> None:
        data = memoryview(wire.encode(header, values, "grader", self._keep))
        while data:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([], [self._out], [], left)[1]:
                raise TimeoutError
            try:
                data = data[os.write(self._out, data) :]
            except BlockingIOError:
                continue
            except BrokenPipeError:
                raise EOFError from None

    def _wait(self, deadline: float, what: str):
        """The next frame from the sandbox, answering its callbacks on the way."""
        while True:
            frame = self.reader.frame()
            if frame is not None:
                header, blobs = frame
                values = wire.decode(header, blobs, self._resolve)
                if header.get("op") == "callback":
                    self._answer(header, values, deadline)
                    continue
                return header, values
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._in], [], [], left)[0]:
                raise TimeoutError
            if not self.reader.fill():
                raise EOFError

    def _answer(self, header, values, deadline) -> None:
        """Do what the student's code asked of an object the grader gave it."""
        obj = self.exposed.get(header.get("ref"))
        how, name = header.get("how"), header.get("name")
        args, kwargs = values.get("args", []), values.get("kwargs", {})
        plain = isinstance(obj, (types.FunctionType, types.MethodType, types.BuiltinFunctionType))
        try:
            if obj is None:
                raise LookupError("unknown object")
            if how == "call" and callable(obj):
                value = obj(*args, **kwargs)
            elif plain:  # a function of the grader's: it can be called, nothing else
                raise TypeError("this function can only be called")
            elif how == "getattr" and isinstance(name, str) and not name.startswith("_"):
                value = getattr(obj, name)
            elif how == "len":
                value = len(obj)
            elif how == "contains":
                value = args[0] in obj
            elif how == "getitem":
                value = obj[args[0]]
            elif how == "list":
                value = list(obj)
            elif how == "repr":
                value = repr(obj)
            else:
                raise TypeError(f"{how!r} is not allowed on the grader's objects")
            reply, values = {"op": "reply", "ok": True}, {"value": value}
        except Exception as err:  # noqa: BLE001 - reported to the student's code
            reply, values = (
                {"op": "reply", "ok": False, "error": f"{type(err).__name__}: {err}"},
                {},
            )
        self._send(reply, values, deadline)

    def _request(self, header: dict, values: dict, seconds: float, what: str):
        """Send a request and wait for its answer; a limit kills the sandbox and raises."""
        deadline = time.monotonic() + seconds
        if self._deadline is not None:
            deadline = min(deadline, self._deadline)
        try:
            self._send(header, values, deadline)
            header, values = self._wait(deadline, what)
        except TimeoutError:
            self.kill()
            cell = self._deadline is not None and time.monotonic() >= self._deadline - 0.01
            budget = self.limits.cell_seconds if cell else seconds
            raise SandboxLimit(
                f"{what} ran longer than {budget:g} s (an infinite loop, or far too slow?)"
            ) from None
        except EOFError:
            raise SandboxLimit(f"{what} {self._death()}") from None
        except wire.WireError as err:
            self.kill()
            raise SandboxLimit(
                f"{what} sent the grader something that is not data ({err})"
            ) from None
        if header.get("output_bytes", 0) > self.limits.output_bytes:
            raise SandboxLimit(f"{what} printed more than {self.limits.output_bytes // 10**6} MB")
        return header, values

    def _death(self) -> str:
        code = self.proc.wait(timeout=10) if self.proc else None
        self.kill()
        if code is not None and (code < 0 or code > 128):  # bwrap: 128 + signal of its child
            sig = signal.Signals(-code if code < 0 else code - 128).name
            if sig == "SIGXCPU":
                return f"used more than {self.limits.cpu_seconds} s of CPU time"
            if sig in ("SIGSEGV", "SIGBUS", "SIGILL", "SIGABRT"):
                return f"crashed the grading process ({sig})"
            return f"was killed ({sig})"
        return "ended the grading process (os._exit, sys.exit or a crash)"

    # -- what the grader uses -------------------------------------------------------------
    def _ensure(self) -> None:
        if self.broken:
            raise SandboxLimit(self.broken)
        if self.alive():
            self._ready()  # spawned ahead of time
            return
        self.start()
        started = time.monotonic()
        for index, source in self.cells:
            left = self.limits.setup_seconds - (time.monotonic() - started)
            try:
                header, _ = self._request(
                    {"op": "cell", "index": index, "source": source},
                    {},
                    max(left, 0.01),
                    f"cell {index} of your notebook",
                )
            except SandboxLimit as err:
                self.broken = f"your notebook could not be run again after an earlier limit: {err}"
                raise SandboxLimit(self.broken) from None
            self.names = header.get("names", {})

    def run_cell(self, index: int, source: str, seconds: float | None = None) -> dict:
        """Execute one of the notebook's own code cells; its output and error, as data.

        Returns
        -------
        dict
            ``ok`` (bool), ``output`` (str, what it printed), ``error`` (dict or None).
        """
        self._ensure()
        self.cells.append((index, source))
        try:
            header, _ = self._request(
                {"op": "cell", "index": index, "source": source},
                {},
                seconds or self.limits.setup_seconds,
                f"cell {index} of your notebook",
            )
        except SandboxLimit as err:
            self.cells.pop()  # a cell that breaks a limit is not replayed
            return {"ok": False, "output": "", "error": {"type": "Limit", "message": str(err)}}
        self.names = header.get("names", {})
        return {
            "ok": bool(header.get("ok")),
            "output": header.get("output", ""),
            "error": header.get("error"),
        }

    def function(self, name: str) -> RemoteFunction:
        """The student's function ``name`` as a callable the checks can use."""
        return RemoteFunction(self, name)

    def value(self, name: str):
        """The value of a name the student's cells defined (data, or a reference)."""
        self._ensure()
        header, values = self._request(
            {"op": "get", "name": name}, {}, self.limits.call_seconds, f"reading `{name}`"
        )
        if not header.get("ok"):
            raise NameError(name)
        return values.get("value")

    def call(self, name: str, args, kwargs, keep_last: int | None = None):
        """Call the student's function ``name``; what it returned, or an exception.

        ``keep_last=n``: when the function returns a tuple or list of ``n`` values, the
        last (a cache) stays in the sandbox and comes back as a reference.
        """
        if name in self.timed_out:
            raise SandboxLimit(self.timed_out[name])
        self._ensure()
        what = f"your function {name}"
        try:
            header, values = self._request(
                {"op": "call", "target": name, "seed": SEED, "keep_last": keep_last},
                {"args": list(args), "kwargs": dict(kwargs)},
                self.limits.call_seconds,
                what,
            )
        except SandboxLimit as err:
            if "longer than" in str(err):
                self.timed_out[name] = str(err)
            raise
        _apply_changes(args, values.get("changed", {}), values.get("rngs", {}))
        if isinstance(self.printed, list) and header.get("output"):
            self.printed.append(header["output"])
        if header.get("ok"):
            return values.get("value")
        error = header.get("error") or {}
        message = str(error.get("message", ""))
        if error.get("not_implemented"):
            raise NotImplementedError(message)
        if error.get("reference"):
            from ..._guard import ReferenceCallRefused

            raise ReferenceCallRefused(message)
        if error.get("memory"):
            raise SandboxLimit(
                f"{what} used more than {self.limits.memory_bytes / 2**30:g} GB of memory"
            )
        where = error.get("where")
        raise StudentRaised(
            str(error.get("type", "Exception")),
            message,
            (where[1], where[2]) if isinstance(where, list) and len(where) == 3 else None,
            error.get("explain"),
        )

    def probe(self, name: str, args, probes, n_out: int, chunk: int = 256) -> list:
        """``name(*args)``'s first ``n_out`` outputs with one entry changed per probe.

        Parameters
        ----------
        args : list
            The point: arrays, or dicts of arrays (the parameters).
        probes : list of (int, str or None, int, float)
            ``(argument index, key in that argument or None, flat index, value)``.

        Returns
        -------
        list of tuple of ndarray
            One tuple of float64 outputs per probe.
        """
        if name in self.timed_out:
            raise SandboxLimit(self.timed_out[name])
        results = []
        for start in range(0, len(probes), chunk):
            self._ensure()
            try:
                header, values = self._request(
                    {"op": "probe", "target": name, "seed": SEED, "n_out": n_out},
                    {
                        "args": list(args),
                        "probes": [list(p) for p in probes[start : start + chunk]],
                    },
                    self.limits.call_seconds,
                    f"your function {name}",
                )
            except SandboxLimit as err:
                if "longer than" in str(err):
                    self.timed_out[name] = str(err)
                raise
            if not header.get("ok"):
                error = header.get("error") or {}
                raise StudentRaised(str(error.get("type", "Exception")), str(error.get("message")))
            try:
                results += _unstack(values, len(probes[start : start + chunk]))
            except wire.WireError as err:
                self.kill()
                raise SandboxLimit(
                    f"your function {name} sent the grader something that is not data ({err})"
                ) from None
        return results

    def release(self) -> None:
        """Forget the objects kept on either side (between test cells)."""
        self.exposed.clear()
        if self.alive():
            try:
                self._request({"op": "release"}, {}, self.limits.call_seconds, "your notebook")
            except SandboxLimit:
                pass

    def cell_budget(self, seconds: float | None):
        """Bound every call until :meth:`cell_budget` (None) is called again."""
        self._deadline = None if seconds is None else time.monotonic() + seconds
