"""The sandbox the student's code runs in: what it cannot see or do, its limits, its proxies.

Each test starts a real bubblewrap sandbox (about 0.3 s) and runs hostile code in it.
"""

import os
import signal
import time
from pathlib import Path

import numpy as np
import pytest

import rnncore
from rnncore.grading.sandbox import bwrap
from rnncore.grading.sandbox.errors import SandboxLimit, StudentRaised
from rnncore.grading.sandbox.session import Sandbox

ROOT = Path(__file__).resolve().parents[1]

if bwrap.problem():  # fail, never skip: grading refuses without it, so must the tests
    pytest.fail(f"bubblewrap is needed: {bwrap.problem()} (bash .ci/run installs it)")


@pytest.fixture
def box():
    limits = bwrap.Limits(call_seconds=5, cell_seconds=8, setup_seconds=20)
    with Sandbox(limits) as sandbox:
        sandbox.start()
        yield sandbox


def define(box, source: str):
    result = box.run_cell(len(box.cells), source)
    assert result["ok"], result
    return result


def ask(box, expression: str):
    """The value of ``expression`` evaluated by the student's code in the sandbox."""
    define(box, f"def _probe():\n    return {expression}\n")
    return box.function("_probe")()


def test_the_course_the_reference_and_the_graders_home_are_invisible(box, tmp_path):
    rnncore_dir = os.path.dirname(rnncore.__file__)
    # the venv may live inside the course: then only it is there, on an empty skeleton
    seen = ask(
        box,
        f"(lambda os: os.path.isdir({str(ROOT)!r}) and os.listdir({str(ROOT)!r}))"
        "(__import__('os'))",
    )
    assert not seen or set(seen) <= {".venv"}
    for path in (
        ROOT / "solutions",
        ROOT / "nbgrader_config.py",
        rnncore_dir,
        "/etc/shadow",
        "/etc/passwd",
        "/home",
        "/srv",
        "/var",
        tmp_path,
    ):
        assert ask(box, f"__import__('os').path.exists({str(path)!r})") is False, path
    # /tmp is the sandbox's own; a Python installed under /tmp (a CI clone, say) shows there too
    under_tmp = {
        Path(p).relative_to("/tmp").parts[0]
        for p in (os.path.realpath(os.sys.prefix), os.path.realpath(os.sys.base_prefix))
        if p.startswith("/tmp/")
    }
    assert set(ask(box, "__import__('os').listdir('/tmp')")) == {".rnnbook-output"} | under_tmp
    # of the grader's home, only the folders leading to the Python installation are there
    home = str(Path.home())
    roots = [os.path.realpath(p) for p in (os.sys.base_prefix, os.sys.prefix)]
    leading = {Path(r).relative_to(home).parts[0] for r in roots if r.startswith(home + "/")}
    assert set(ask(box, f"__import__('os').listdir({home!r})")) <= leading


def test_rnncore_imports_but_every_use_scores_as_a_reference_call(box):
    define(box, "from rnncore import rnn_cell_forward, grading\nimport rnncore.rnn_cell as rc\n")
    define(box, "def cheat(x):\n    return rnn_cell_forward(x, x, {})\n")
    with pytest.raises(rnncore._guard.ReferenceCallRefused):
        box.function("cheat")(np.ones(2))
    define(
        box,
        "def reexec(x):\n    import importlib.util\n"
        "    spec = importlib.util.find_spec('rnncore')\n    return str(spec.origin)\n",
    )
    assert box.function("reexec")(1) == "None"  # no file behind it to read or re-execute


def test_the_python_installation_is_read_only_and_the_network_absent(box):
    venv = os.path.realpath(os.sys.prefix)
    define(box, f"def write():\n    open({venv!r} + '/evil.pth', 'w').write('import os')\n")
    with pytest.raises(StudentRaised) as err:
        box.function("write")()
    assert err.value.type_name == "OSError" and "Read-only" in err.value.message
    define(
        box,
        "def connect():\n    import socket\n"
        "    return socket.create_connection(('127.0.0.1', 22), timeout=2)\n",
    )
    with pytest.raises(StudentRaised) as err:
        box.function("connect")()
    assert err.value.type_name in ("ConnectionRefusedError", "OSError")
    assert ask(box, "__import__('socket').gethostname()") != os.uname().nodename


def test_no_new_process_or_thread_and_no_other_process_visible(box):
    for source in (
        "__import__('os').fork()",
        "__import__('subprocess').run(['true'])",
        "__import__('threading').Thread(target=print).start()",
    ):
        define(box, f"def spawn():\n    return {source}\n")
        with pytest.raises(StudentRaised):
            box.function("spawn")()
    pids = ask(box, "sorted(int(p) for p in __import__('os').listdir('/proc') if p.isdigit())")
    assert len(pids) <= 2  # bubblewrap's init and the student's process: nothing of ours
    assert ask(box, "__import__('os').getuid()") != 0


def test_signals_reach_nothing_outside(box):
    marker = os.getpid()
    define(box, f"def kill():\n    import os, signal\n    os.kill({marker}, signal.SIGKILL)\n")
    with pytest.raises(StudentRaised) as err:
        box.function("kill")()
    assert err.value.type_name == "ProcessLookupError"  # our pid does not exist in there
    define(
        box,
        "def killall():\n    import os, signal\n    os.kill(-1, signal.SIGKILL)\n"
        "def alive():\n    return 'yes'\n",
    )
    with pytest.raises((StudentRaised, SandboxLimit)):
        box.function("killall")()  # nothing to kill but itself and bubblewrap
    assert box.function("alive")() == "yes"


def test_an_infinite_loop_that_ignores_sigint_costs_its_call_only(box):
    define(
        box,
        "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n"
        "def spin():\n    while True:\n        pass\n"
        "def fine(x):\n    return x * 2\n",
    )
    start = time.monotonic()
    with pytest.raises(SandboxLimit, match="longer than 5 s"):
        box.function("spin")()
    assert time.monotonic() - start < 8
    assert box.function("fine")(np.ones(2)).tolist() == [2.0, 2.0]  # replayed in a fresh sandbox
    start = time.monotonic()
    with pytest.raises(SandboxLimit, match="longer than"):
        box.function("spin")()  # known to time out: fails at once
    assert time.monotonic() - start < 1


def test_memory_output_and_crashes_end_the_call_with_a_plain_message(box):
    define(
        box,
        "import numpy as np\n"
        "def hog():\n    return np.ones(10**10)\n"
        "def chatter():\n    print('x' * 2_000_000)\n"
        "def leave():\n    import os\n    os._exit(0)\n"
        "def crash():\n    import ctypes\n    return ctypes.string_at(0)\n",
    )
    with pytest.raises(SandboxLimit, match="more than 2 GB of memory"):
        box.function("hog")()
    with pytest.raises(SandboxLimit, match="printed more than 1 MB"):
        box.function("chatter")()
    with pytest.raises(SandboxLimit, match="ended the grading process"):
        box.function("leave")()
    with pytest.raises(SandboxLimit, match="SIGSEGV"):
        box.function("crash")()


def test_a_full_disk_is_the_sandboxs_own(box):
    define(
        box,
        "def fill():\n    with open('/tmp/big', 'wb') as f:\n"
        "        for _ in range(400):\n            f.write(b'0' * 2**20)\n",
    )
    with pytest.raises(StudentRaised) as err:
        box.function("fill")()
    assert err.value.type_name == "OSError"  # 64 MB file limit, 256 MB tmpfs


def test_inputs_changed_in_place_and_generators_come_back(box):
    define(
        box,
        "def scale(x, params, rng):\n    x *= 2\n    params['W'] = params['W'] + 1\n"
        "    return rng.integers(1000)\n",
    )
    x, params, rng = np.ones(3), {"W": np.zeros(2)}, np.random.default_rng(5)
    draw = box.function("scale")(x, params, rng)
    assert x.tolist() == [2.0, 2.0, 2.0] and params["W"].tolist() == [1.0, 1.0]
    twin = np.random.default_rng(5)
    assert draw == twin.integers(1000) and rng.integers(1000) == twin.integers(1000)


def test_a_student_cache_stays_in_the_sandbox_behind_a_reference(box):
    define(
        box,
        "class Cache:\n    pass\n"
        "def fwd(x):\n    c = Cache()\n    c.x = x\n    return x * 3, c\n"
        "def bwd(d, cache):\n    return d * cache.x\n",
    )
    out, cache = box.function("fwd")(np.arange(3.0))
    assert out.tolist() == [0.0, 3.0, 6.0] and "kept by the sandbox" in repr(cache)
    assert box.function("bwd")(np.ones(3), cache).tolist() == [0.0, 1.0, 2.0]


def test_the_graders_objects_can_be_called_back_but_not_explored(box):
    class Holder:
        name = "public"
        _secret = "s3cr3t"

    def step(token, state):  # a model passed to the student's sampler
        return np.full(3, float(token)), (state or 0) + 1

    define(
        box,
        "def use(step):\n    return step(2, None)\n"
        "def explore(step):\n    return step.__globals__\n"
        "def closure(step):\n    return step.__closure__\n"
        "def dig(vocab):\n    return getattr(vocab, '_secret')\n"
        "def public(vocab):\n    return vocab.name\n",
    )
    logits, state = box.function("use")(step)
    assert logits.tolist() == [2.0, 2.0, 2.0] and state == 1
    for name in ("explore", "closure"):
        with pytest.raises(StudentRaised) as err:
            box.function(name)(step)
        assert "s3cr3t" not in err.value.message
    with pytest.raises(StudentRaised) as err:
        box.function("dig")(Holder())  # only public attributes of the grader's objects
    assert "s3cr3t" not in err.value.message
    assert box.function("public")(Holder()) == "public"


def test_student_prints_and_warnings_are_output_not_errors(box):
    define(
        box,
        "import sys, warnings\n"
        "def noisy(x):\n    print('debug', x.shape)\n    print('err', file=sys.stderr)\n"
        "    warnings.warn('careful')\n    return x\n",
    )
    box.printed = []
    assert box.function("noisy")(np.ones(2)).tolist() == [1.0, 1.0]
    printed = "".join(box.printed)
    assert "debug (2,)" in printed and "err" in printed and "careful" in printed


def test_killing_the_sandbox_leaves_no_process_behind():
    with Sandbox() as sandbox:
        sandbox.start()
        pid = sandbox.proc.pid
    with pytest.raises(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)  # the whole process group is gone


def test_the_graders_objects_answer_the_protocols_a_sampler_uses(box):
    vocab = rnncore.Vocab(list("abc"))
    define(
        box,
        "def use(vocab):\n"
        "    return (len(vocab), 'a' in vocab, vocab.token_to_idx['b'], vocab.eos,\n"
        "            vocab.encode(list('ab')).tolist(), vocab.decode([3, 4]))\n",
    )
    length, has_a, b_id, eos, encoded, decoded = box.function("use")(vocab)
    assert (length, has_a, b_id, eos) == (len(vocab), True, vocab.token_to_idx["b"], vocab.eos)
    assert encoded == vocab.encode(list("ab")).tolist() and decoded == vocab.decode([3, 4])


def test_data_the_notebook_defined_can_be_read_and_a_missing_name_cannot(box):
    define(box, "import numpy as np\nweights = np.arange(4.0)\nlabel = 'x'\n")
    assert box.value("weights").tolist() == [0.0, 1.0, 2.0, 3.0] and box.value("label") == "x"
    with pytest.raises(NameError):
        box.value("nothing_here")


def test_finite_difference_probes_return_the_outputs_at_each_point(box):
    define(box, "def square(x, params):\n    return (x ** 2 * params['w'],)\n")
    x, params = np.array([1.0, 2.0]), {"w": np.array([3.0, 3.0])}
    probes = [(0, None, 1, 2.5), (1, "w", 0, -1.0)]
    first, second = box.probe("square", [x, params], probes, 1)
    assert first[0].tolist() == [3.0, 18.75] and second[0].tolist() == [-1.0, 12.0]
    assert x.tolist() == [1.0, 2.0] and params["w"].tolist() == [3.0, 3.0]  # the point stays
    define(box, "def broken(x, params):\n    raise ValueError('no')\n")
    with pytest.raises(StudentRaised, match="no"):
        box.probe("broken", [x, params], probes, 1)


def test_probe_outputs_whose_shapes_vary_still_come_back_one_tuple_per_probe(box):
    # a forward pass whose output shape depends on its input cannot be stacked along the probes
    define(box, "def ragged(x, params):\n    return (x[: 1 + int(x[0] > 2)] * 1.0,)\n")
    x, params = np.array([1.0, 2.0]), {"w": np.array([0.0])}
    short, long = box.probe("ragged", [x, params], [(0, None, 1, 5.0), (0, None, 0, 3.0)], 1)
    assert short[0].tolist() == [1.0] and long[0].tolist() == [3.0, 2.0]


def test_a_probe_reply_that_is_not_stacked_outputs_is_refused():
    from rnncore.grading.sandbox import wire
    from rnncore.grading.sandbox.session import _unstack

    three = np.zeros((3, 2))
    assert [t[0].shape for t in _unstack({"stacked": [three]}, 3)] == [(2,)] * 3
    for bad in ([np.zeros((2, 2))], [np.float64(1.0)], "x", [three, [1, 2, 3]]):
        with pytest.raises(wire.WireError, match="stacked"):
            _unstack({"stacked": bad}, 3)


def test_a_cache_asked_to_stay_in_the_sandbox_comes_back_as_a_reference_that_works(box):
    define(
        box,
        "import numpy as np\n"
        "def fwd(x):\n    return 2 * x, [x.copy() for _ in range(50)]\n"
        "def bwd(d, cache):\n    return d * len(cache) * cache[0]\n",
    )
    x = np.arange(3.0)
    h, cache = box.call("fwd", (x,), {}, keep_last=2)
    assert h.tolist() == [0.0, 2.0, 4.0] and not isinstance(cache, list)  # a reference
    assert box.call("bwd", (np.ones(3), cache), {}).tolist() == [0.0, 50.0, 100.0]
    _, data = box.call("fwd", (x,), {})  # without keep_last: the cache is data
    assert isinstance(data, list) and len(data) == 50
    # a function that returns something else than n values is returned as it is
    assert box.call("fwd", (x,), {}, keep_last=3)[1][0].tolist() == [0.0, 1.0, 2.0]


def test_the_runtime_has_the_environments_packages_but_ran_none_of_its_pth_files(box):
    # -S: NumPy and the other packages are on the path, the .pth hooks (the editable
    # install's finder, setuptools' distutils shim, coverage's start-up) never ran
    assert ask(box, "__import__('numpy').__version__") == np.__version__
    loaded = ask(box, "sorted(__import__('sys').modules)")
    assert not [m for m in loaded if "editable" in m or m in ("_distutils_hack", "coverage")]
    assert ask(box, "__import__('sys').flags.no_site") == 1
    # exit() and quit() are there as in any interpreter: a student's exit() is a SystemExit
    assert ask(box, "callable(exit) and callable(quit)") is True


def test_site_run_by_the_student_still_finds_no_reference(box):
    # a hostile student undoes -S: runs site (and with it the editable install's finder),
    # throws out the runtime's stand-in for rnncore, and imports rnncore afresh
    define(
        box,
        "def undo_and_import():\n"
        "    import site, sys\n"
        "    site.main()\n"
        "    finders = [getattr(f, '__name__', type(f).__name__) for f in sys.meta_path]\n"
        "    finders += list(sys.path)\n"
        "    sys.meta_path[:] = [f for f in sys.meta_path if 'Stub' not in type(f).__name__]\n"
        "    for name in [m for m in sys.modules if m.startswith('rnncore')]:\n"
        "        del sys.modules[name]\n"
        "    try:\n"
        "        import rnncore\n"
        "    except ImportError as err:\n"
        "        return finders, 'refused: ' + type(err).__name__\n"
        "    return finders, 'imported: ' + str(getattr(rnncore, '__file__', None))\n",
    )
    finders, outcome = box.function("undo_and_import")()
    # the route was really open: the editable install's finder, or its path entry, is back
    checkout = os.path.dirname(os.path.dirname(rnncore.__file__))
    assert any("Editable" in f or f == checkout for f in finders), finders
    assert outcome.startswith("refused"), outcome  # and led nowhere: the package is not there
