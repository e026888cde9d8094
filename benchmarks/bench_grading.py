"""How long autograding takes: per submission, and for a class graded serially or in parallel.

Usage::

    python benchmarks/bench_grading.py [--assignment ex02_rnn_cell] [--submissions 40]

Everything happens in a temporary copy of the course. Measured, in this order:

1. bare execution: the filled-in notebook (model answers, hidden tests included, i.e. what
   autograde runs) executed with nbclient in this process — the baseline;
2. one ``nbgrader autograde`` process per submission, one at a time (serial);
3. the same submissions graded by ``scripts.grade_all`` with one process per CPU (parallel).

Ratios are printed against the serial baseline measured in the same run, so numbers from a
busy or a quiet machine stay comparable.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from scripts.course import ROOT, nbgrader_env  # noqa: E402
from scripts.grade_all import autograde_many, gradebook_scores, sync_gradebook  # noqa: E402

MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")


def filled_in(assignment: str) -> nbformat.NotebookNode:
    """The released notebook with the model answers typed in (markers removed)."""
    source = nbformat.read(ROOT / "solutions" / assignment / f"{assignment}.ipynb", 4)
    answers = {
        c.metadata.nbgrader.grade_id: "\n".join(
            line for line in c.source.splitlines() if not any(m in line for m in MARKERS)
        )
        for c in source.cells
        if c.metadata.get("nbgrader", {}).get("solution")
    }
    nb = nbformat.read(ROOT / "exercises" / assignment / f"{assignment}.ipynb", 4)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            cell.source = answers[grade_id]
    return nb


def bare_execution(assignment: str, repeats: int) -> list[float]:
    """Seconds to run the source notebook (answers and hidden tests) with nbclient."""
    times = []
    for _ in range(repeats):
        nb = nbformat.read(ROOT / "solutions" / assignment / f"{assignment}.ipynb", 4)
        start = time.perf_counter()
        NotebookClient(nb, timeout=60, kernel_name="python3").execute()
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--assignment", default="ex02_rnn_cell")
    parser.add_argument("--submissions", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=3, help="bare executions to average")
    args = parser.parse_args()
    a, n, workers = args.assignment, args.submissions, os.cpu_count() or 1
    os.environ["PATH"] = nbgrader_env()["PATH"]

    with tempfile.TemporaryDirectory(prefix="rnnbook-bench-grading-") as tmp:
        courses = {}
        for mode in ("serial", "parallel"):
            course = Path(tmp) / mode
            (course / "solutions").mkdir(parents=True)
            shutil.copy(ROOT / "nbgrader_config.py", course)
            shutil.copytree(ROOT / "solutions" / a, course / "solutions" / a)
            nb = filled_in(a)
            for k in range(n):
                folder = course / "submitted" / f"student{k:03d}" / a
                folder.mkdir(parents=True)
                nbformat.write(nb, folder / f"{a}.ipynb")
            sync_gradebook(course, a)
            courses[mode] = course

        bare = bare_execution(a, args.repeats)
        jobs = [(a, f"student{k:03d}") for k in range(n)]

        start = time.perf_counter()
        serial = autograde_many(courses["serial"], jobs, workers=1)
        serial_wall = time.perf_counter() - start
        start = time.perf_counter()
        parallel = autograde_many(courses["parallel"], jobs, workers=workers)
        parallel_wall = time.perf_counter() - start

        assert all(r.ok for r in serial + parallel), "an autograde run failed"
        same = gradebook_scores(courses["serial"], a) == gradebook_scores(courses["parallel"], a)
        per_submission = statistics.median(r.seconds for r in serial)
        bare_median = statistics.median(bare)

    print(f"assignment {a}, {n} submissions (model answers), {workers} CPU(s)")
    print(f"bare nbclient execution       median {bare_median:6.2f} s   (baseline for one)")
    print(
        f"nbgrader autograde, one       median {per_submission:6.2f} s   "
        f"x{per_submission / bare_median:.2f} of bare execution"
    )
    print(f"{n} submissions, serial        {serial_wall:8.1f} s   x1.00 (baseline)")
    speedup = serial_wall / parallel_wall
    print(
        f"{n} submissions, {workers} processes   {parallel_wall:8.1f} s   "
        f"x{parallel_wall / serial_wall:.2f} of serial (speed-up {speedup:.2f})"
    )
    print(f"same scores serial and parallel: {same}")


if __name__ == "__main__":
    main()
