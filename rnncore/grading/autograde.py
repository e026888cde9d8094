"""Trusted autograding for nbgrader: the grade is decided outside the student's process.

nbgrader's stock autograde runs the whole notebook in one kernel and scores
each test cell by what that kernel printed, so code in a solution cell can
rewrite the checks, the kernel's output or the gradebook. Here nbgrader's
``Execute`` step is replaced by :class:`TrustedExecute`:

* the notebook's own code cells (answers, "try it" cells, setup) run in a
  sandbox (:mod:`rnncore.grading.sandbox`), in notebook order;
* each test cell, with its source taken from the gradebook (the instructor's,
  hidden tests included), runs in *this* process: its checks call the
  student's functions across the process boundary, and the cell's outputs are
  written from what the checks concluded — "✓ ..." lines or the failure's
  message — never from anything the student's process printed;
* the student's own prints and warnings never cost points; what they printed
  during the visible checks is shown in the feedback, what they printed
  during the hidden ones is not (it would reveal the hidden cases).

:class:`SealGrades` then seals the scores with the instructor's secret
(:mod:`rnncore.grading.seal`). Both are configured in ``nbgrader_config.py``::

    c.Autograde.autograde_preprocessors = [TrustedExecute, IgnorePattern, ...,
                                           SaveAutoGrades, AssignLatePenalties,
                                           CheckCellMetadata, SealGrades]
"""

from __future__ import annotations

import builtins
import contextlib
import io
import os
import traceback

import numpy as np
from nbformat.v4 import new_output
from nbgrader.api import Gradebook
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Bool, Float, Integer

from . import seal
from .sandbox.bwrap import Limits
from .sandbox.errors import SandboxLimit, SandboxUnavailable
from .sandbox.session import Sandbox

__all__ = ["TrustedExecute", "SealGrades"]

HIDDEN_BEGIN, HIDDEN_END = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
UNSAFE_ENV = "RNNBOOK_UNSAFE_GRADING"
_SPAWNED: list = []  # a sandbox started ahead of time by prestart()


def prestart(deny=()) -> None:
    """Start the next submission's sandbox now, so it boots while nbgrader reads and writes.

    :class:`TrustedExecute` adopts it when its limits and walls are the ones it needs, and
    otherwise kills it and starts its own; either way one sandbox serves one submission.
    """
    while _SPAWNED:
        _SPAWNED.pop().kill()
    sandbox = Sandbox(Limits(), unsafe=os.environ.get(UNSAFE_ENV) == "1", deny=deny)
    try:
        sandbox.spawn()
    except SandboxUnavailable:
        return  # TrustedExecute reports it
    _SPAWNED.append(sandbox)


def _walls(limits: Limits) -> tuple:
    """What a sandbox's command line fixes (the rest, timeouts, can change after it starts)."""
    return (limits.memory_bytes, limits.cpu_seconds, limits.file_bytes, limits.tmp_bytes)


def segments(source: str) -> list[tuple[str, bool]]:
    """A test cell's source as ``(code, hidden)`` pieces, in order."""
    pieces, lines, hidden = [], [], False
    for line in source.splitlines():
        marker = line.strip()
        if marker in (HIDDEN_BEGIN, HIDDEN_END):
            pieces.append(("\n".join(lines), hidden))
            lines, hidden = [], marker == HIDDEN_BEGIN
        else:
            lines.append(line)
    pieces.append(("\n".join(lines), hidden))
    return [(code, h) for code, h in pieces if code.strip()]


class _CellNamespace(dict):
    """A test cell's local names: the grader's own first, then the student's, as proxies."""

    def __init__(self, sandbox: Sandbox, trusted: dict):
        super().__init__()
        self.sandbox, self.trusted = sandbox, trusted

    def __missing__(self, name):
        if name in self.trusted or hasattr(builtins, name):
            raise KeyError(name)  # the grader's names always win over the student's
        kind = self.sandbox.names.get(name)
        if kind == "function":
            value = self.sandbox.function(name)
        elif kind == "data":
            value = self.sandbox.value(name)
        else:
            raise KeyError(name)
        self[name] = value
        return value


def _trusted_names() -> dict:
    import rnncore
    import rnncore.grading

    return {
        "np": np,
        "numpy": np,
        "rnncore": rnncore,
        "grading": rnncore.grading,
        "__builtins__": builtins,
        "__name__": "__grader__",
    }


def _error(ename: str, message: str):
    lines = message.splitlines() or [ename]
    return new_output("error", ename=ename, evalue=message, traceback=lines)


def _stream(text: str):
    return new_output("stream", name="stdout", text=text if text.endswith("\n") else text + "\n")


def _student_error(error: dict) -> str:
    where = error.get("where")
    text = f"{error.get('type', 'Exception')}: {error.get('message', '')}"
    if isinstance(where, list) and len(where) == 3:
        text += f"\n  at line {where[1]} of this cell: {where[2]}"
    if error.get("explain"):
        text += f"\n{error['explain']}"
    return text


class TrustedExecute(NbGraderPreprocessor):
    """Run a submission's code in a sandbox and its test cells in the grader's process."""

    call_timeout = Float(30.0, help="Seconds one call of a student's function may take.").tag(
        config=True
    )
    cell_timeout = Float(60.0, help="Seconds one test cell may take, all calls together.").tag(
        config=True
    )
    setup_timeout = Float(60.0, help="Seconds the notebook's own cells may take in all.").tag(
        config=True
    )
    memory_limit = Integer(2 * 1024**3, help="Bytes of address space for the student's code.").tag(
        config=True
    )
    output_limit = Integer(1_000_000, help="Bytes one call or cell may print.").tag(config=True)
    unsafe = Bool(
        False,
        help="Run the student's code without bubblewrap (grades still come from this process). "
        "Also set by the environment variable RNNBOOK_UNSAFE_GRADING=1.",
    ).tag(config=True)

    def _limits(self) -> Limits:
        return Limits(
            call_seconds=self.call_timeout,
            cell_seconds=self.cell_timeout,
            setup_seconds=self.setup_timeout,
            memory_bytes=self.memory_limit,
            output_bytes=self.output_limit,
        )

    def _test_cells(self, resources) -> dict:
        """``{grade_id: source}`` of the notebook's autograded test cells, from the gradebook."""
        info = resources["nbgrader"]
        with Gradebook(info["db_url"]) as gb:
            notebook = gb.find_notebook(info["notebook"], info["assignment"])
            solutions = {c.name for c in notebook.solution_cells}
            sources = {c.name: c for c in notebook.source_cells}
            return {
                c.name: sources[c.name].source
                for c in notebook.grade_cells
                if c.cell_type == "code" and c.name not in solutions and c.name in sources
            }

    def preprocess(self, nb, resources):
        tests = self._test_cells(resources)
        unsafe = self.unsafe or os.environ.get(UNSAFE_ENV) == "1"
        db_url = resources["nbgrader"]["db_url"]
        deny = [os.path.dirname(db_url.split("///", 1)[1])] if db_url.startswith("sqlite") else []
        report = resources.setdefault("rnnbook", {"grader_errors": []})
        limits = self._limits()
        sandbox = _SPAWNED.pop() if _SPAWNED else None
        if sandbox is not None and (
            (sandbox.unsafe, _walls(sandbox.limits), {os.path.realpath(p) for p in sandbox.deny})
            != (unsafe, _walls(limits), {os.path.realpath(p) for p in deny})
        ):
            sandbox.kill()
            sandbox = None
        if sandbox is None:
            sandbox = Sandbox(limits, unsafe=unsafe, deny=deny)
        sandbox.limits = limits
        try:
            for index, cell in enumerate(nb.cells):
                if cell.cell_type != "code":
                    continue
                meta = cell.metadata.get("nbgrader", {})
                grade_id = meta.get("grade_id")
                if meta.get("grade") and not meta.get("solution") and grade_id in tests:
                    cell.source = tests[grade_id]  # the instructor's, whatever was submitted
                    cell.outputs = self._run_test(sandbox, tests[grade_id], report, grade_id)
                else:
                    if meta.get("grade") and not meta.get("solution"):
                        meta["grade"] = False  # a test cell the gradebook does not know
                        meta.pop("points", None)
                    cell.outputs = self._run_own(sandbox, index, cell.source, meta.get("solution"))
                cell.execution_count = None
        except SandboxUnavailable as err:
            raise RuntimeError(
                f"refusing to grade: the sandbox cannot run here ({err}). Install bubblewrap "
                f"(apt-get install bubblewrap), or grade without it with --unsafe "
                f"({UNSAFE_ENV}=1) if you trust every submission."
            ) from None
        finally:
            sandbox.kill()
        return nb, resources

    def _run_own(self, sandbox: Sandbox, index: int, source: str, answer: bool) -> list:
        """One of the notebook's own cells, in the sandbox; its outputs as data.

        An error in an answer cell is shown as an error (it is why its tests fail); in any
        other cell ("try it" cells often use rnncore, which graded code cannot) it is a note.
        """
        if not source.strip():
            return []
        result = sandbox.run_cell(index, source)
        outputs = [_stream(result["output"])] if result["output"] else []
        if not result["ok"]:
            error = result["error"] or {}
            if answer:
                outputs.append(_error(str(error.get("type", "Error")), _student_error(error)))
            else:
                outputs.append(
                    _stream(
                        f"[while grading, this cell stopped early; it earns no "
                        f"points either way]\n{_student_error(error)}"
                    )
                )
        return outputs

    def _run_test(self, sandbox: Sandbox, source: str, report: dict, grade_id: str) -> list:
        """A test cell, run here: its outputs say what its checks concluded."""
        namespace = _CellNamespace(sandbox, trusted := _trusted_names())
        printed, outputs = io.StringIO(), []
        sandbox.printed = []
        sandbox.cell_budget(self.cell_timeout)
        try:
            for code, hidden in segments(source):
                sandbox.printed = [] if not hidden else None
                with contextlib.redirect_stdout(printed):
                    exec(compile(code, f"<test {grade_id}>", "exec"), trusted, namespace)  # noqa: S102
                if not hidden and sandbox.printed:
                    outputs.append(
                        _stream(
                            "Your code printed while it was graded:\n"
                            + "".join(sandbox.printed)[:4000]
                        )
                    )
        except AssertionError as err:
            outputs.append(_error("AssertionError", str(err)))
        except SandboxLimit as err:
            outputs.append(_error("LimitExceeded", f"{str(err)[:1].upper()}{str(err)[1:]}."))
        except NameError as err:
            name = getattr(err, "name", None) or str(err)
            outputs.append(
                _error(
                    "NameError",
                    f"{name} is not defined: the cell that defines it "
                    "did not run or raised an error (see its output above).",
                )
            )
        except Exception as err:  # noqa: BLE001 - the grader's own failure: never a silent 0
            report["grader_errors"].append(f"{grade_id}: {type(err).__name__}: {err}")
            self.log.error("grader error in %s:\n%s", grade_id, traceback.format_exc())
            outputs.append(
                _error(
                    "GraderError", f"The grader failed on this cell ({err}); tell your instructor."
                )
            )
        finally:
            sandbox.cell_budget(None)
            sandbox.printed = None
            sandbox.release()
        text = printed.getvalue()
        if text:
            outputs.insert(0, _stream(text))
        return outputs


class SealGrades(NbGraderPreprocessor):
    """Seal the notebook's autograded scores with the instructor's secret (see :mod:`.seal`)."""

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        errors = resources.get("rnnbook", {}).get("grader_errors", [])
        if errors:  # an unsealed notebook is reported as not graded, never as a score
            self.log.error("not sealing %s/%s: %s", info["student"], info["notebook"], errors)
            nb.metadata.pop("rnnbook_seal", None)
            return nb, resources
        nb.metadata["rnnbook_seal"] = seal.seal(
            nb, info["assignment"], info["student"], info["notebook"]
        )
        return nb, resources
