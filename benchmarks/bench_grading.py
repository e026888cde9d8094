"""How long grading takes: per submission, against nbgrader's stock autograde, on all cores.

Usage::

    python benchmarks/bench_grading.py [--assignment ex02_rnn_cell] [--submissions 40]
    python benchmarks/bench_grading.py --throughput 200     # issue 10: serial vs local cluster

Everything happens in temporary copies of the course, on the same submissions (the model
answers). Measured in one run, in ``--runs`` rounds (3 by default), each round doing every
kind once on a fresh copy of the course:

1. bare execution: the source notebook (answers and hidden tests) run with nbclient in this
   process: the cost of executing the notebook at all;
2. nbgrader's stock autograde (its own ``Execute`` preprocessor, one kernel per notebook, the
   grade read from the kernel's output): one ``nbgrader autograde <a>`` process grading every
   submission in turn;
3. the trusted grader (``scripts.grade_all``: sandboxed student code, checks in the grader) on
   a local Dask cluster of one worker, then of one worker per core.

Medians over the rounds are printed with their ranges, and ratios are taken within a round:
this machine's speed drifts by ±20 % from minute to minute, more than the differences the
targets are about, and the rounds spread a slow minute over every kind alike. Last, how much
the CPUs slow each other down: a CPU-bound loop on every CPU at once against one.

Per-submission cost is in core-seconds (wall time x cores used / submissions), so the
one-core numbers compare directly; ratios are against baselines measured in the same run.
"Cores used" is enforced, not assumed: the one-core runs (1 to 3, the trusted one with
one worker) are pinned to one CPU with ``sched_setaffinity``, which every process they start
inherits (nbgrader's kernels, the dask worker, the bubblewrap sandboxes). Unpinned, a single
trusted worker overlaps its grading with its sandbox's work and boots the next sandbox while
nbgrader writes, so it would use more than the one core it is counted as.
"""

from __future__ import annotations

import argparse
import contextlib
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
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from _course_helpers import filled_in, mutant_source, released_notebook, set_cell  # noqa: E402

from scripts.course import ROOT, nbgrader, nbgrader_env  # noqa: E402
from scripts.grade_all import grade, gradebook_scores, sync_gradebook  # noqa: E402

STOCK = """
# nbgrader's own autograde pipeline, for comparison
from nbgrader.preprocessors import Execute as _Execute
c.Autograde.autograde_preprocessors = [_Execute, IgnorePattern, ClearMetadataPreprocessor,
                                       LimitOutput, SaveAutoGrades, AssignLatePenalties,
                                       CheckCellMetadata]
"""


def make_course(folder: Path, assignment: str, notebooks: dict, stock: bool = False) -> Path:
    (folder / "solutions").mkdir(parents=True)
    config = (ROOT / "nbgrader_config.py").read_text() + (STOCK if stock else "")
    (folder / "nbgrader_config.py").write_text(config)
    shutil.copytree(ROOT / "solutions" / assignment, folder / "solutions" / assignment)
    for student, nb in notebooks.items():
        target = folder / "submitted" / student / assignment
        target.mkdir(parents=True)
        nbformat.write(nb, target / f"{assignment}.ipynb")
    sync_gradebook(folder, assignment)
    return folder


def bare_execution(assignment: str, repeats: int) -> list[float]:
    """Seconds to run the source notebook (answers and hidden tests) with nbclient."""
    times = []
    for _ in range(repeats):
        nb = nbformat.read(ROOT / "solutions" / assignment / f"{assignment}.ipynb", 4)
        start = time.perf_counter()
        NotebookClient(nb, timeout=120, kernel_name="python3").execute()
        times.append(time.perf_counter() - start)
    return times


def timed_grade(course: Path, assignment: str, students, **kwargs) -> float:
    start = time.perf_counter()
    outcomes = grade(course, assignment, students, **kwargs)
    wall = time.perf_counter() - start
    assert all(o.ok for o in outcomes), [o.log[-500:] for o in outcomes if not o.ok]
    return wall


@contextlib.contextmanager
def one_core():
    """Run the block, and every process it starts, on one CPU of this machine."""
    everything = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(everything)})
    try:
        yield
    finally:
        os.sched_setaffinity(0, everything)


def _spin(cpu: int, seconds_out) -> None:
    """Pure-Python work on one CPU (no memory traffic, no I/O); its seconds into the queue."""
    os.sched_setaffinity(0, {cpu})
    start, total = time.perf_counter(), 0
    for k in range(15_000_000):
        total += k * k
    seconds_out.put(time.perf_counter() - start)


def loop_speedup(cores: int) -> float:
    """The speed-up this machine gives ``cores`` copies of a pure CPU-bound loop.

    The same loop, alone on one CPU, then once per CPU at the same time: ``cores x alone /
    together``. On a virtual machine whose CPUs share a host with others it is below
    ``cores``: it says how much the CPUs slow each other down at the time of the run. (Not
    a ceiling for the grader, whose one-worker run also waits on its disk and pipes.)
    """
    import multiprocessing

    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    available = sorted(os.sched_getaffinity(0))[:cores]
    alone, together = [], []
    for _ in range(3):
        for cpus in (available[:1], available):
            start = time.perf_counter()
            workers = [context.Process(target=_spin, args=(c, queue)) for c in cpus]
            for w in workers:
                w.start()
            for w in workers:
                w.join()
            wall = time.perf_counter() - start
            for _ in cpus:
                queue.get()
            (alone if len(cpus) == 1 else together).append(wall)
    return cores * statistics.median(alone) / statistics.median(together)


def fresh_copy(template: Path, target: Path) -> Path:
    """A course just as ``template`` is: submissions collected, gradebook synced, none graded."""
    shutil.copytree(template, target, symlinks=True)
    return target


def spread(values: list[float]) -> str:
    return f"{min(values):.2f}-{max(values):.2f}" if len(values) > 1 else f"{values[0]:.2f}"


def per_submission(args, tmp: Path, cores: int) -> None:
    a, n, runs = args.assignment, args.submissions, args.runs
    # what any make grade imports once, before its first submission (dask, nbgrader, the
    # checks): imported here, so that neither trusted run below pays it and the other not
    import distributed  # noqa: F401

    from scripts.grade_all import _warm_imports

    _warm_imports()
    students = {f"student{k:03d}": filled_in(a) for k in range(n)}
    stock_template = make_course(tmp / "stock", a, students, stock=True)
    template = make_course(tmp / "template", a, students)
    # every kind of run once per round, each on a fresh copy of the course, and the rounds
    # repeated: a slow minute of this (shared, virtual) machine then falls on every kind
    bares, stocks, ones, alls, scores = [], [], [], [], []
    for run in range(runs):
        stock_course = fresh_copy(stock_template, tmp / f"stock{run}")
        one_course = fresh_copy(template, tmp / f"one{run}")
        all_course = fresh_copy(template, tmp / f"all{run}")
        with one_core():
            bares += bare_execution(a, args.repeats)
            start = time.perf_counter()
            nbgrader(["autograde", a, "--force"], cwd=stock_course, timeout=7200)
            stocks.append(time.perf_counter() - start)
            ones.append(timed_grade(one_course, a, list(students), jobs=1))
        alls.append(timed_grade(all_course, a, list(students), jobs=cores))
        scores += [gradebook_scores(c, a) for c in (stock_course, one_course, all_course)]
    bare = statistics.median(bares)
    stock = statistics.median(stocks) / n
    faster = [s / o for s, o in zip(stocks, ones)]
    one = statistics.median(ones) / n
    all_wall = statistics.median(alls)
    all_cost = all_wall * cores / n
    speedups = [o / w for o, w in zip(ones, alls)]
    same = all(s == scores[0] for s in scores)

    print(f"assignment {a}, {n} submissions (model answers), {cores} core(s), {runs} rounds")
    print("medians of the rounds, their ranges in brackets")
    print(f"bare nbclient execution          {bare:6.2f} core-s per submission  (baseline)")
    print(
        f"nbgrader stock autograde         {stock:6.2f} core-s per submission  "
        f"[{spread([t / n for t in stocks])}]  x{stock / bare:.2f} of bare"
    )
    print("trusted grader:")
    print(
        f"  1 worker                       {one:6.2f} core-s per submission  "
        f"[{spread([o / n for o in ones])}]  x{one / bare:.2f} of bare, "
        f"{statistics.median(faster):.2f}x faster than stock [{spread(faster)}, one per round]"
    )
    print(
        f"  {cores} workers                      {all_cost:6.2f} core-s per submission  "
        f"({all_wall / n:.2f} s wall)  x{all_cost / bare:.2f} of bare, "
        f"{stock / all_cost:.2f}x faster than stock"
    )
    print(
        f"speed-up of {cores} workers over 1     {statistics.median(speedups):.2f}  "
        f"[{spread(speedups)}, one per round]"
    )
    print(
        f"a CPU-bound loop, {cores} CPUs over 1 {loop_speedup(cores):.2f}  "
        f"(how much this machine's CPUs slow each other now)"
    )
    print(f"same scores stock and every trusted run: {same}")


def throughput(args, tmp: Path, cores: int) -> None:
    a, n = args.assignment, args.throughput
    kinds = [filled_in(a), released_notebook(a)]
    wrong = filled_in(a)
    for cell in ("rnn_cell_forward",) if a == "ex02_rnn_cell" else ():
        set_cell(wrong, cell, mutant_source(a, cell))
    kinds.append(wrong)
    students = {f"s{k:04d}": kinds[k % len(kinds)] for k in range(n)}
    serial_course = make_course(tmp / "serial", a, students)
    cluster_course = make_course(tmp / "cluster", a, students)
    serial = timed_grade(serial_course, a, list(students), serial=True)
    cluster = timed_grade(cluster_course, a, list(students), jobs=cores)
    same = gradebook_scores(serial_course, a) == gradebook_scores(cluster_course, a)
    print(f"assignment {a}, {n} generated submissions (answers, blanks, a mistake)")
    print(f"serial, in one process          {60 * n / serial:7.1f} submissions per minute")
    print(
        f"local cluster, {cores} workers        {60 * n / cluster:7.1f} submissions per minute "
        f"(x{serial / cluster:.2f})"
    )
    print(f"same scores serial and cluster: {same}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--assignment", default="ex02_rnn_cell")
    parser.add_argument("--submissions", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=1, help="bare executions per round")
    parser.add_argument(
        "--runs", type=int, default=3, help="rounds: bare, stock, 1 worker, all workers each"
    )
    parser.add_argument("--throughput", type=int, default=0, help="also grade this many")
    args = parser.parse_args()
    os.environ["PATH"] = nbgrader_env()["PATH"]
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory(prefix="rnnbook-bench-grading-") as tmp:
        os.environ.setdefault("RNNBOOK_GRADING_SECRET_FILE", str(Path(tmp) / "secret"))
        if args.submissions:
            per_submission(args, Path(tmp), cores)
        if args.throughput:
            throughput(args, Path(tmp), cores)


if __name__ == "__main__":
    main()
