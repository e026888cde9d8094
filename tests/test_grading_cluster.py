"""Grading on a real Dask cluster: a scheduler and two workers on 127.0.0.1, one of them killed.

The scheduler and the workers are the `dask` command-line programs, started and stopped by
the test (bounded in time); a worker is killed with SIGKILL while the class is being graded.
Every grade must come out identical to grading the same submissions one by one.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from _course_helpers import filled_in, make_course, mutant_source, released_notebook, set_cell
from _course_helpers import submit as submit_notebook

from scripts.grade_all import grade, grade_jobs, gradebook_scores, sync_gradebook

pytestmark = pytest.mark.slow

A = "ex02_rnn_cell"
DASK = str(Path(sys.executable).with_name("dask"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(condition, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise TimeoutError(what)


@pytest.fixture
def cluster(tmp_path):
    """``(address, [worker processes])``: a scheduler and two single-threaded workers."""
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    log = open(tmp_path / "dask.log", "w")  # noqa: SIM115 - closed below
    scheduler = subprocess.Popen(
        [DASK, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
        stdout=log, stderr=log, start_new_session=True,
    )  # fmt: skip
    workers = [
        subprocess.Popen(
            [
                DASK,
                "worker",
                address,
                "--nthreads",
                "1",
                "--no-nanny",
                "--no-dashboard",
                "--host",
                "127.0.0.1",
                "--death-timeout",
                "60",
            ],
            stdout=log,
            stderr=log,
            start_new_session=True,
        )  # fmt: skip
        for _ in range(2)
    ]
    from distributed import Client

    try:
        with Client(address, timeout="30s") as client:
            wait_for(lambda: len(client.scheduler_info()["workers"]) == 2, 60, "two workers")
        yield address, workers
    finally:
        for proc in [*workers, scheduler]:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
        log.close()


def class_of(n: int) -> dict:
    wrong = set_cell(filled_in(A), "rnn_cell_forward", mutant_source(A, "rnn_cell_forward"))
    kinds = [filled_in(A), released_notebook(A), wrong]
    return {f"s{k:02d}": kinds[k % 3] for k in range(n)}


def test_a_killed_worker_loses_nothing_and_counts_nothing_twice(cluster, tmp_path):
    address, workers = cluster
    students = class_of(8)
    course = make_course(tmp_path / "cluster", [A])
    for student, nb in students.items():
        submit_notebook(course, student, A, nb)
    serial = tmp_path / "serial"
    shutil.copytree(course, serial)
    sync_gradebook(course, A)
    sync_gradebook(serial, A)

    result = {}
    run = threading.Thread(
        target=lambda: result.update(
            out=grade_jobs(course, [(A, s) for s in students], scheduler=address)
        )  # fmt: skip
    )
    run.start()
    graded = course / "autograded"
    wait_for(lambda: graded.exists() and len(list(graded.iterdir())) >= 2, 300, "two grades")
    assert run.is_alive(), "the class was graded before a worker could be killed"
    os.kill(workers[0].pid, signal.SIGKILL)  # mid-grading: its task goes to the other worker
    run.join(timeout=600)
    assert not run.is_alive()
    assert workers[0].wait(timeout=30) == -signal.SIGKILL

    outcomes = result["out"]
    assert [o.student for o in outcomes] == list(students)
    assert all(o.ok for o in outcomes), [o.log[-300:] for o in outcomes if not o.ok]
    one_by_one = grade(serial, A, list(students), serial=True)
    assert all(o.ok for o in one_by_one)
    on_cluster, expected = gradebook_scores(course, A), gradebook_scores(serial, A)
    assert on_cluster == expected
    totals = {s: sum(cells.values()) for s, cells in on_cluster.items()}
    assert {totals[s] for s in ("s00", "s03", "s06")} == {6.0}  # answers: full marks
    assert {totals[s] for s in ("s01", "s04", "s07")} == {0.0}  # blanks
    assert all(0 < totals[s] < 6 for s in ("s02", "s05"))  # a catalogued mistake


def _allowed_cpus_of_a_child() -> str:
    """The CPUs a process started by this worker's task thread may run on (as a sandbox is)."""
    status = subprocess.run(
        ["grep", "Cpus_allowed_list", "/proc/self/status"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout
    return status.split(":", 1)[1].strip()


def test_local_workers_and_their_sandboxes_each_get_a_cpu_of_their_own():
    from scripts.grade_all import _cluster

    cpus = sorted(os.sched_getaffinity(0))
    jobs = min(2, len(cpus))
    client, cluster = _cluster(jobs, None)
    try:
        pinned = client.run(os.sched_getaffinity, 0)
        futures = [
            client.submit(_allowed_cpus_of_a_child, pure=False, workers=[address])
            for address in sorted(pinned)
        ]
        children = client.gather(futures)
    finally:
        client.close()
        cluster.close()
    assert sorted(len(s) for s in pinned.values()) == [1] * jobs  # one CPU each
    assert sorted(next(iter(s)) for s in pinned.values()) == cpus[:jobs]  # different ones
    assert children == [str(next(iter(pinned[a]))) for a in sorted(pinned)]  # inherited
