"""The program that runs inside the sandbox: a student's notebook code, called over a pipe.

Started as ``python -I -S runtime.py IN_FD OUT_FD`` by :mod:`.session` (inside
bubblewrap). It executes the notebook's non-test code cells in one namespace,
then answers the grader's requests: call a function with these arguments,
give me the value of that name. Everything it sends back is data
(:mod:`.wire`); objects that are not data (a student's cache of their own
design) stay here behind a reference, and objects of the grader's that the
student's code receives (a model's ``step_fn``, a ``Vocab``) are references
the student's code can call back through the pipe.

Nothing here is trusted: this process *is* the student's code. The grader
treats every answer as a claim about the student's functions, never as a
grade. rnncore is not importable here; ``import rnncore`` still succeeds so
that a notebook's setup cell runs, but using anything from it raises
:class:`ReferenceUnavailable`.

Standard library and NumPy only (rnncore is absent in the sandbox).
"""

from __future__ import annotations

import builtins
import importlib.abc
import importlib.machinery
import importlib.util
import linecache
import os
import sys
import traceback
import types

_HERE = os.path.dirname(os.path.abspath(__file__))

# Started with -S: the environment's packages are put on the path here, without running its
# .pth files, and exit()/quit() are defined as a normal interpreter has them.
sys.path.extend(p for p in os.environ.get("RNNBOOK_SITE", "").split(os.pathsep) if p)
__import__("site").setquit()
_OUTPUT = "/tmp/.rnnbook-output" if os.path.isdir("/tmp") else os.path.join(_HERE, ".output")


def _load(name: str, path: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


wire = _load("rnnbook_wire", os.path.join(_HERE, "wire.py"))
_explain_path = os.environ.get("RNNBOOK_EXPLAIN", os.path.join(_HERE, "_explain.py"))
try:
    explain = _load("rnnbook_explain", _explain_path).explain_exception
except Exception:  # noqa: BLE001 - explanations are a nicety
    explain = None


class ReferenceUnavailable(RuntimeError):
    """Raised when the student's code uses rnncore inside the sandbox."""


class _Unavailable:
    """What ``from rnncore import x`` binds here: anything done with it raises."""

    def __init__(self, name):
        object.__setattr__(self, "_name", name)

    def __getattr__(self, attr):
        if attr.startswith("__"):
            raise AttributeError(attr)
        return _Unavailable(f"{self._name}.{attr}")

    def __call__(self, *args, **kwargs):
        raise ReferenceUnavailable(
            f"rnncore.{self._name} refuses to run while your code is graded: rnncore is not "
            "available to graded code. Write it yourself with NumPy."
        )

    def __repr__(self):
        return f"<rnncore.{self._name}: not available while your code is graded>"


class _StubFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Serves ``rnncore`` and its submodules as modules whose every attribute is unavailable."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname == "rnncore" or fullname.startswith("rnncore."):
            return importlib.machinery.ModuleSpec(fullname, self, is_package=True)
        return None

    def create_module(self, spec):
        module = types.ModuleType(spec.name)
        name = spec.name.partition(".")[2]
        module.__getattr__ = lambda attr: _Unavailable(f"{name}.{attr}" if name else attr)
        module.__path__ = []
        return module

    def exec_module(self, module):
        pass


class _Remote:
    """An object of the grader's: calls and a few protocols go back through the pipe."""

    def __init__(self, channel, ref_id):
        object.__setattr__(self, "_channel", channel)
        object.__setattr__(self, "_ref", ref_id)

    def __call__(self, *args, **kwargs):
        return self._channel.callback(self._ref, "call", args=list(args), kwargs=kwargs)

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        return self._channel.callback(self._ref, "getattr", name=name)

    def __len__(self):
        return self._channel.callback(self._ref, "len")

    def __contains__(self, item):
        return self._channel.callback(self._ref, "contains", args=[item])

    def __getitem__(self, key):
        return self._channel.callback(self._ref, "getitem", args=[key])

    def __iter__(self):
        return iter(self._channel.callback(self._ref, "list"))

    def __repr__(self):
        return self._channel.callback(self._ref, "repr")


class Channel:
    """The pipe to the grader, the namespace of the notebook and the objects kept here."""

    def __init__(self, in_fd: int, out_fd: int):
        self.reader = wire.FrameReader(in_fd)
        self.out_fd = out_fd
        self.kept: dict[int, object] = {}
        self.namespace = {"__name__": "__main__", "__builtins__": builtins}

    # -- the wire ------------------------------------------------------------------------
    def keep(self, obj) -> int:
        self.kept[id(obj)] = obj
        return id(obj)

    def resolve(self, owner, ref_id):
        if owner == "sandbox":
            if ref_id not in self.kept:
                raise wire.WireError("unknown reference")
            return self.kept[ref_id]
        return _Remote(self, ref_id)

    def send(self, header: dict, **values) -> None:
        wire.write_all(self.out_fd, wire.encode(header, values, "sandbox", self.keep))

    def receive(self):
        while (frame := self.reader.frame()) is None:
            if not self.reader.fill():
                os._exit(0)  # the grader hung up
        header, blobs = frame
        return header, wire.decode(header, blobs, self.resolve)

    def callback(self, ref_id, how, args=(), kwargs=None, name=None):
        self.send(
            {"op": "callback", "ref": ref_id, "how": how, "name": name},
            args=list(args),
            kwargs=dict(kwargs or {}),
        )
        header, values = self.receive()
        if not header.get("ok"):
            raise RuntimeError(str(header.get("error", "the grader refused")))
        return values.get("value")

    # -- output --------------------------------------------------------------------------
    def take_output(self, limit: int = 65536) -> tuple[str, int]:
        """What the student's code printed since the last call (text, total bytes)."""
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:  # noqa: BLE001 - a student may have closed it
                pass
        try:
            with open(_OUTPUT, "rb") as handle:
                data = handle.read(limit + 1)
                size = os.fstat(handle.fileno()).st_size
            os.truncate(_OUTPUT, 0)
        except OSError:
            return "", 0
        text = data[:limit].decode("utf-8", "replace")
        return (text + "\n[... more output cut ...]" if size > limit else text), size

    # -- errors --------------------------------------------------------------------------
    def describe(self, err: BaseException) -> dict:
        where = None
        for frame, lineno in traceback.walk_tb(err.__traceback__):
            filename = frame.f_code.co_filename
            if filename.startswith("<cell "):
                where = [filename, lineno, linecache.getline(filename, lineno).strip()]
        hint = None
        if explain is not None:
            try:
                hint = explain(err, err.__traceback__)
            except Exception:  # noqa: BLE001
                hint = None
        return {
            "type": type(err).__name__,
            "message": str(err)[:4000],
            "where": where,
            "explain": hint,
            "reference": isinstance(err, ReferenceUnavailable),
            "not_implemented": isinstance(err, NotImplementedError),
            "memory": isinstance(err, MemoryError),
        }

    # -- requests ------------------------------------------------------------------------
    def run_cell(self, header) -> None:
        index, source = header["index"], str(header["source"])
        filename = f"<cell {index}>"
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        error = None
        try:
            code = compile(_python_source(source), filename, "exec")
            exec(code, self.namespace)  # noqa: S102 - this process is the student's sandbox
        except BaseException as err:  # noqa: BLE001 - SystemExit included: report, go on
            error = self.describe(err)
        output, size = self.take_output()
        self.send(
            {
                "op": "cell",
                "ok": error is None,
                "error": error,
                "output": output,
                "output_bytes": size,
                "names": self.names(),
            }
        )

    def names(self) -> dict:
        return {
            name: ("function" if callable(value) else "data")
            for name, value in list(self.namespace.items())
            if isinstance(name, str) and not name.startswith("__")
        }

    def call(self, header, values) -> None:
        import numpy as np

        target = header.get("target")
        fn = values["target"] if "target" in values else self.namespace.get(str(target))
        args, kwargs = values.get("args", []), values.get("kwargs", {})
        before = [_snapshot(a) for a in args]
        if header.get("seed") is not None:
            np.random.seed(header["seed"])  # draws from the legacy generator are reproducible
        error, result = None, None
        try:
            if fn is None:
                raise NameError(f"name {target!r} is not defined")
            with np.errstate(all="ignore"):
                result = fn(*args, **kwargs)
        except BaseException as err:  # noqa: BLE001 - SystemExit included
            error = self.describe(err)
        keep_last = header.get("keep_last")
        if (
            error is None
            and isinstance(keep_last, int)
            and isinstance(result, (tuple, list))
            and len(result) == keep_last > 0
        ):
            # the cache is the student's own design and only their backward pass reads it:
            # it stays here, and the grader gets a reference (a few bytes, not T arrays)
            result = type(result)([*result[:-1], wire.Ref("sandbox", self.keep(result[-1]))])
        output, size = self.take_output()
        # inputs changed in place travel back, so the grader can tell the student
        changed = {str(k): a for k, (a, b) in enumerate(zip(args, before)) if not _same(a, b)}
        rngs = {str(k): a for k, a in enumerate(args) if isinstance(a, np.random.Generator)}
        status = {
            "op": "result",
            "ok": error is None,
            "error": error,
            "output": output,
            "output_bytes": size,
        }
        try:
            self.send(status, value=result, changed=changed, rngs=rngs)
        except wire.WireError as err:
            status.update(ok=False, error={"type": "WireError", "message": str(err)})
            self.send(status)

    def probe(self, header, values) -> None:
        """The function's first outputs at many points near ``args`` (finite differences)."""
        import numpy as np

        fn = self.namespace.get(str(header.get("target")))
        args, probes = values.get("args", []), values.get("probes", [])
        n_out = int(header.get("n_out", 1))
        results, error = [], None
        try:
            for arg_index, key, flat_index, value in probes:
                point = [_snapshot(a) if _snapshot(a) is not None else a for a in args]
                target = point[arg_index] if key is None else point[arg_index][key]
                target.reshape(-1)[flat_index] = value
                if header.get("seed") is not None:
                    np.random.seed(header["seed"])
                with np.errstate(all="ignore"):
                    out = fn(*point)
                out = out if isinstance(out, (tuple, list)) else (out,)
                results.append(tuple(np.asarray(o, dtype=np.float64) for o in out[:n_out]))
        except BaseException as err:  # noqa: BLE001
            error = self.describe(err)
        output, size = self.take_output()
        if error is None and results and _same_shapes(results):
            # one array per output, probes along axis 0: a few .npy headers instead of thousands
            outputs = {"stacked": [np.stack(column) for column in zip(*results, strict=True)]}
        else:
            outputs = {"outputs": results if error is None else []}
        self.send(
            {
                "op": "probed",
                "ok": error is None,
                "error": error,
                "output": output,
                "output_bytes": size,
            },
            **outputs,
        )

    def serve(self) -> None:
        while True:
            header, values = self.receive()
            op = header.get("op")
            if op == "cell":
                self.run_cell(header)
            elif op == "call":
                self.call(header, values)
            elif op == "probe":
                self.probe(header, values)
            elif op == "get":
                name = str(header.get("name"))
                self.send(
                    {"op": "value", "ok": name in self.namespace}, value=self.namespace.get(name)
                )
            elif op == "release":
                self.kept.clear()
                self.send({"op": "released", "ok": True})
            else:
                self.send({"op": "error", "ok": False, "error": f"unknown request {op!r}"})


def _same_shapes(results) -> bool:
    """Whether every probe returned outputs of the same number and shapes."""
    first = [o.shape for o in results[0]]
    return all([o.shape for o in r] == first for r in results)


def _snapshot(value):
    """A copy of an input that can be changed in place (arrays, dicts, lists), else None."""
    import numpy as np

    if isinstance(value, np.ndarray):
        return value.copy()
    if type(value) is dict:
        return {
            k: _snapshot(v) if isinstance(v, (np.ndarray, dict, list)) else v
            for k, v in value.items()
        }
    if type(value) is list:
        return [_snapshot(v) if isinstance(v, (np.ndarray, dict, list)) else v for v in value]
    return None


def _same(after, before) -> bool:
    """Whether an input still equals its snapshot (True for inputs that cannot change)."""
    import numpy as np

    if before is None:
        return True
    if isinstance(before, np.ndarray):
        return (
            isinstance(after, np.ndarray)
            and after.shape == before.shape
            and np.array_equal(after, before, equal_nan=before.dtype.kind in "fc")
        )
    if type(before) is dict:
        return (
            type(after) is dict
            and after.keys() == before.keys()
            and all(
                _same(after[k], before[k])
                if isinstance(before[k], (np.ndarray, dict, list))
                else after[k] is before[k]
                for k in before
            )
        )
    if type(before) is list:
        return (
            type(after) is list
            and len(after) == len(before)
            and all(
                _same(a, b) if isinstance(b, (np.ndarray, dict, list)) else a is b
                for a, b in zip(after, before)
            )
        )
    return True


def _python_source(source: str) -> str:
    """Cell source as Python: IPython's magics and shell escapes become plain calls."""
    if not any(line.lstrip()[:1] in ("%", "!") for line in source.splitlines()):
        return source  # plain Python (nearly every cell): no need to import IPython
    try:
        from IPython.core.inputtransformer2 import TransformerManager
    except Exception:  # noqa: BLE001 - no IPython: run the source as it is
        return source
    try:
        return TransformerManager().transform_cell(source)
    except Exception:  # noqa: BLE001
        return source


class _NoShell:
    """What ``get_ipython()`` returns here: magics and shell commands do nothing when graded."""

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return lambda *args, **kwargs: None


def _get_ipython():  # the code IPython makes of `%magic` lines calls get_ipython()
    return _NoShell()


def main(argv) -> None:
    in_fd, out_fd = int(argv[1]), int(argv[2])
    # The student's prints (Python's and C's) go to a file the runtime reads after each call;
    # the pipe to the grader is on other descriptors, so no print can corrupt it.
    out = os.open(_OUTPUT, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(out, 1)
    os.dup2(out, 2)
    sys.stdout = open(1, "w", buffering=1, closefd=False, errors="replace")  # noqa: SIM115
    sys.stderr = open(2, "w", buffering=1, closefd=False, errors="replace")  # noqa: SIM115
    sys.stdin = open(0, closefd=False)  # noqa: SIM115
    sys.meta_path.insert(0, _StubFinder())
    for name in [m for m in sys.modules if m == "rnncore" or m.startswith("rnncore.")]:
        del sys.modules[name]
    os.environ.setdefault("MPLBACKEND", "Agg")
    channel = Channel(in_fd, out_fd)
    channel.namespace["get_ipython"] = _get_ipython
    channel.send({"op": "ready", "ok": True, "pid": os.getpid()})
    channel.serve()


if __name__ == "__main__":
    main(sys.argv)
