"""Autograde every collected submission of an assignment, check every grade, export a CSV.

Usage::

    python -m scripts.grade_all ex02_rnn_cell            # make grade ASSIGNMENT=ex02_rnn_cell
    python -m scripts.grade_all ex02_rnn_cell --jobs 1   # one worker process
    python -m scripts.grade_all ex02_rnn_cell --serial   # in this process, no cluster
    python -m scripts.grade_all ex02_rnn_cell --scheduler tcp://10.0.0.5:8786   # a cluster
    python -m scripts.grade_all ex02_rnn_cell --course /srv/rnnbook --csv /tmp/ex02.csv

Submissions are the folders ``submitted/<student>/<assignment>/`` of the course (``nbgrader
collect`` puts them there). Each is one task on a ``dask.distributed`` cluster: by default a
``LocalCluster`` on 127.0.0.1 with one single-threaded worker process per core; ``--scheduler``
(``SCHEDULER=`` for make) uses a running cluster instead (``dask scheduler`` and ``dask worker``
on a department's machines, or ``dask_jobqueue.SLURMCluster`` on an HPC queue — the workers
need this course directory at the same path and the course's requirements installed). A
worker grades in its own process with nbgrader's API and the trusted pipeline of
``nbgrader_config.py``: the student's code runs in a bubblewrap sandbox, the grade is decided
in the worker (``rnncore.grading.autograde``) and sealed with the instructor's grading secret.

Afterwards every submission's seal is checked against the gradebook. The CSV is written only
when every submission graded and every seal matches; otherwise the failed or mismatching
submissions are listed (never as "0 points") and the exit status is 1. The grading secret is
``$RNNBOOK_GRADING_SECRET_FILE`` or ``~/.config/rnnbook/grading-secret``, created on first use.
Without bubblewrap grading refuses, unless ``--unsafe`` says every submission is trusted.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from rnncore.grading import batch
from rnncore.grading._secret import ensure_secret, secret_path
from rnncore.grading.sandbox.bwrap import problem as sandbox_problem

from .course import ROOT, check_assignments, nbgrader

SUBPROCESS_SECONDS = 900  # nbgrader generate_assignment / export: instructor's own code


def submissions(course: Path, assignment: str) -> list[str]:
    """Students with a collected submission of ``assignment``, sorted."""
    submitted = Path(course) / "submitted"
    return (
        sorted(p.parent.name for p in submitted.glob(f"*/{assignment}") if p.is_dir())
        if submitted.is_dir()
        else []
    )


def sync_gradebook(course: Path, assignment: str) -> None:
    """Store the assignment's source cells (the tests, hidden ones included) in the gradebook.

    autograde restores test cells from the gradebook and needs the assignment there. This runs
    ``generate_assignment`` into a scratch release folder, so the committed ``exercises/`` is
    left alone. ``assignment`` may be a pattern: ``"*"`` stores every assignment at once.
    """
    with tempfile.TemporaryDirectory(prefix="rnnbook-release-") as scratch:
        nbgrader(
            [
                "generate_assignment",
                assignment,
                "--force",
                f"--CourseDirectory.release_directory={scratch}",
            ],
            cwd=course,
            timeout=SUBPROCESS_SECONDS,
        )


def gradebook_scores(course: Path, assignment: str) -> dict[str, dict[str, float]]:
    """``{student: {grade_id: score}}`` for every graded submission, read from the gradebook."""
    from nbgrader.api import Gradebook
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()
    scores: dict[str, dict[str, float]] = {}
    with Gradebook(config.CourseDirectory.db_url, course_id=config.CourseDirectory.course_id) as gb:
        for submission in gb.assignment_submissions(assignment):
            scores[submission.student.id] = {
                grade.name: float(grade.score)
                for notebook in submission.notebooks
                for grade in notebook.grades
                if grade.max_score > 0
            }
    return scores


def _warm_imports() -> None:
    """Import what a grading worker needs, once, in this process.

    Local workers are forked from this process, so they start with nbgrader, nbconvert,
    SQLAlchemy and the checks already imported (about 2 s of CPU per worker when each
    imports them itself, and more on a busy machine). Nothing else is created before the
    fork: each worker opens its own gradebook connection (``batch`` keys its nbgrader API by
    process).
    """
    import nbgrader.apps  # noqa: F401 - the import is the point
    import nbgrader.preprocessors  # noqa: F401

    import rnncore.grading.autograde  # noqa: F401


def _cluster(jobs: int, scheduler: str | None):
    """A dask client: the given scheduler, or a LocalCluster of ``jobs`` worker processes."""
    import gc
    import logging

    import dask
    from distributed import Client, LocalCluster

    if scheduler:
        return Client(scheduler, timeout="30s"), None
    _warm_imports()
    # "fork" rather than dask's default "spawn": a spawned worker starts a fresh interpreter
    # and imports the grading stack again (3-4 s of start-up per worker, measured, on top of
    # a slower shutdown), which a class of 40 submissions pays in full. The worker's
    # statistical profiler samples the grading thread's stack every 10 ms for a dashboard
    # that is not shown here: 15 % of a submission's time on one core, measured. Its other
    # timers wake every process many times a second: the event-loop "tick" (every 20 ms, to
    # warn of a blocked loop, in logs silenced here), the memory monitor (every 100 ms; a
    # worker over its memory limit is still stopped, within a second) and the dashboard's
    # system monitor. Slowed down, one worker on one core grades more evenly and faster:
    # 0.305-0.317 s per submission in four runs, against 0.299-0.395 s (measured).
    local = {
        "distributed.worker.multiprocessing-method": "fork",
        "distributed.worker.profile.enabled": False,
        "distributed.admin.tick.interval": "1s",
        "distributed.worker.memory.monitor-interval": "1s",
        "distributed.admin.system-monitor.interval": "2s",
    }
    # gc.freeze(): the objects imported so far go to a generation the collector skips, so the
    # forked workers' full collections do not walk them (0.17 s of collections per worker and
    # 40 submissions, measured, down to 0.01 s) nor copy their pages by touching them
    gc.freeze()
    try:
        with dask.config.set(local):
            cluster = LocalCluster(
                n_workers=jobs,
                threads_per_worker=1,  # one submission per process at a time: one core each
                processes=True,
                host="127.0.0.1",
                dashboard_address=None,
                silence_logs=logging.ERROR,
                env={"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"},
            )
    finally:
        gc.unfreeze()  # this process collects as before; the workers keep theirs frozen
    client = Client(cluster)
    _pin_workers(client)
    return client, cluster


def _pin_to_cpu(cpu: int) -> int:
    """Pin every thread of this (worker) process to ``cpu``; its sandboxes inherit it."""
    for tid in os.listdir("/proc/self/task"):
        try:
            os.sched_setaffinity(int(tid), {cpu})
        except (ProcessLookupError, PermissionError):
            pass  # a thread that ended meanwhile
    return cpu


def _pin_workers(client) -> None:
    """Give each local worker a CPU of its own, when there are enough.

    A grading worker and its sandbox answer each other hundreds of times per submission
    (every call of a student's function is a round trip through a pipe). On one CPU each
    hand-over is a plain context switch; spread over two, every one of them wakes the
    other CPU, and the workers' pairs get in each other's way (measured on 2 cores: 0.56 s
    per submission and worker unpinned, against 0.35 s for one pinned worker).
    """
    cpus = sorted(os.sched_getaffinity(0))
    workers = sorted(client.scheduler_info()["workers"])
    if len(workers) > len(cpus):
        return
    for address, cpu in zip(workers, cpus):
        client.run(_pin_to_cpu, cpu, workers=[address])


def grade_jobs(
    course: Path, jobs, workers: int | None = None, scheduler=None, serial=False, unsafe=False
) -> list[batch.Outcome]:
    """Grade ``(assignment, student)`` jobs, one task each; outcomes in the order of ``jobs``."""
    if serial:
        return [batch.grade_one(str(course), a, s, unsafe) for a, s in jobs]
    client, cluster = _cluster(max(1, workers or os.cpu_count() or 1), scheduler)
    try:
        futures = [
            client.submit(batch.grade_one, str(course), a, s, unsafe, pure=False) for a, s in jobs
        ]
        outcomes = []
        for future, (_, student) in zip(futures, jobs):
            try:
                outcomes.append(future.result())
            except Exception as err:  # noqa: BLE001 - a task lost for good (workers kept dying)
                outcomes.append(batch.Outcome(student, False, 0.0, f"task failed: {err}"))
        return outcomes
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def grade(
    course: Path,
    assignment: str,
    students,
    jobs: int | None = None,
    scheduler=None,
    serial=False,
    unsafe=False,
) -> list[batch.Outcome]:
    """Grade every submission of ``assignment``; outcomes in the order of ``students``."""
    return grade_jobs(course, [(assignment, s) for s in students], jobs, scheduler, serial, unsafe)


def export_csv(course: Path, assignment: str, csv_path: Path) -> Path:
    """``nbgrader export`` of this assignment's grades to ``csv_path``."""
    csv_path = Path(csv_path).resolve()
    nbgrader(
        ["export", f"--to={csv_path}", f"--assignment={assignment}"],
        cwd=course,
        timeout=SUBPROCESS_SECONDS,
    )
    return csv_path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("assignment")
    parser.add_argument(
        "--jobs",
        type=int,
        default=os.cpu_count(),
        help="worker processes of the local cluster (default: number of CPUs)",
    )
    parser.add_argument(
        "--scheduler",
        default=os.environ.get("SCHEDULER") or None,
        help="address of a running dask scheduler (default: a local cluster)",
    )
    parser.add_argument(
        "--serial",
        action="store_true",
        help="grade in this process, one submission after the other",
    )
    parser.add_argument(
        "--unsafe",
        action="store_true",
        help="run students' code WITHOUT the sandbox (only for trusted code)",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="grade nothing: check the recorded grades' seals, then export",
    )
    parser.add_argument("--course", type=Path, default=ROOT, help="course directory")
    parser.add_argument(
        "--csv",
        type=Path,
        help="where to write the grades (default: <course>/grades_<assignment>.csv)",
    )
    args = parser.parse_args(argv)
    (assignment,) = check_assignments([args.assignment])
    course = args.course.resolve()
    students = submissions(course, assignment)
    if not students:
        print(
            f"no submissions in {course / 'submitted'}/*/{assignment}; run "
            f"`nbgrader collect {assignment}` first",
            file=sys.stderr,
        )
        return 1
    why = None if args.check else sandbox_problem()
    if why and not args.unsafe:
        print(
            f"REFUSING TO GRADE: the sandbox cannot run here: {why}.\nStudents' code would "
            "run with your rights. Install bubblewrap (apt-get install bubblewrap), or pass "
            "--unsafe (make grade ... UNSAFE=1) if you trust every submission.",
            file=sys.stderr,
        )
        return 2
    if args.unsafe:
        print(
            "WARNING: grading WITHOUT the sandbox (--unsafe): students' code runs with your "
            "rights. Grades are still decided outside the students' processes.",
            file=sys.stderr,
        )
    _, created = ensure_secret()
    if created:
        print(
            f"created a new grading secret at {secret_path()} (mode 0600): hidden cases and "
            "seals come from it; keep it, and share it only with the course's other graders"
        )

    start = time.perf_counter()
    if args.check:
        print(f"checking the recorded grades of {len(students)} submission(s) of {assignment}")
        outcomes = [batch.Outcome(s, True, 0.0, "") for s in students]
    else:
        sync_gradebook(course, assignment)
        where = args.scheduler or (
            "this process" if args.serial else f"{args.jobs} local worker(s)"
        )
        print(f"grading {len(students)} submission(s) of {assignment} on {where}")
        outcomes = grade(
            course, assignment, students, args.jobs, args.scheduler, args.serial, args.unsafe
        )
    wall = time.perf_counter() - start
    failed = {o.student: o for o in outcomes if not o.ok}
    checked = {c.student: c for c in batch.check_grades(course, assignment, students)}
    bad = []
    for o in outcomes:
        c = checked[o.student]
        if o.student in failed:
            status, line = "NOT GRADED", o.log.strip().splitlines()[-1:] or ["(no log)"]
            bad.append(f"{o.student}: grading failed: {line[0]}")
        elif c.problem:
            status = "NOT TRUSTED"
            bad.append(f"{o.student}: {c.problem}")
        else:
            status = f"{c.score:6.1f} / {c.max_score:g} points"
            if o.note:
                status += f"  (not gradable: {o.note})"
        print(f"  {o.student:<24} {status}  ({o.seconds:.1f} s)")
    print(f"{len(outcomes)} submission(s) in {wall:.1f} s wall time")
    if bad:
        print("\nNo CSV written: these submissions have no trustworthy grade:", file=sys.stderr)
        for line in bad:
            print(f"  {line}", file=sys.stderr)
        return 1
    csv_path = export_csv(course, assignment, args.csv or course / f"grades_{assignment}.csv")
    print(f"grades written to {csv_path}")
    try:
        from .similarity import similarity_report
    except ImportError:  # pragma: no cover - the similarity report is optional
        return 0
    report = similarity_report(course, assignment)
    print(f"similarity report: {report}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
