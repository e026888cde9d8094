"""The red-team suite of issue 9: hostile submissions graded by the real `make grade`.

Per assignment, ONE run of ``python -m scripts.grade_all <assignment> --course <scratch>``
grades every hostile submission of ``tests/_redteam_attacks.py`` beside honest ones: ``full``
(the model answers), ``partial`` (the first function only: a known partial score) and
``noisy`` (right answers that print to stderr and call ``warnings.warn``: full marks).
The run uses a scratch copy of the course and of the repository's packages (so that nothing an
attack writes can reach the real tree), ``HOME``, the grading secret, the exchange and a decoy
process, all under tmp_path. Then:

* each hostile submission scores 0 on the cells it attacks (copies: flagged by similarity);
* the honest submissions keep their exact scores;
* no file of the course, the exchange or the packages changed (only what grading writes);
* the secret appears in no file and not in the grader's output;
* no process of the run is left, the decoy is alive, and the run ends within a bound.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from _course_helpers import (
    ROOT,
    filled_in,
    graded_cells,
    make_course,
    released_notebook,
    set_cell,
    solution_cells,
    source_notebook,
    submit,
)
from _redteam_attacks import ATTACKS, INVALID_JSON, Ctx

pytestmark = pytest.mark.slow

# Seconds. One submission may use a 60 s setup plus a 30 s call limit: 120 s each is a hang.
# Whole runs (two workers) took 395 s, 310 s and about 290 s for ex02 (46 submissions), ex04
# (13) and ex09 (7) with the machine's load average at 25-50 on its 2 cores; the totals
# leave room for such a machine, the per-submission bound is the real test.
PER_SUBMISSION_BOUND = 120.0
BOUND = {
    "ex02_rnn_cell": 600.0,
    "ex04_bptt": 420.0,
    "ex09_sampling": 420.0,
    "ex10_training_practice": 420.0,
    "ex11_seq2seq_attention": 420.0,  # 8 submissions, like ex09
}
HARD_KILL = float(os.environ.get("RNNBOOK_REDTEAM_HARD_KILL", 480))  # stopped here whatever happens
# what grading is expected to write (relative to the course)
WRITTEN = ("autograded/*", "feedback/*", "reports/*", "gradebook.db*", "grades*.csv", "*seal*")
WRITTEN += (".nbgrader.log", "release/*", "*/__pycache__/*", "__pycache__/*")
NOISY = """
import sys
import warnings

print("debug: rnn_cell_forward called", file=sys.stderr)
"""


def max_scores(assignment):
    return {
        gid: float(c.metadata.nbgrader.points)
        for gid, c in graded_cells(source_notebook(assignment)).items()
    }


def honest(assignment):
    full = filled_in(assignment)
    partial = filled_in(assignment)
    first, *rest = solution_cells(partial)
    for fn in rest:
        set_cell(partial, fn, solution_cells(released_notebook(assignment))[fn].source)
    noisy = filled_in(assignment)
    fn = first
    src = solution_cells(noisy)[fn].source
    head, body = src.split('    """\n', 1)
    noisy_src = (
        NOISY
        + head
        + '    """\n'
        + '    print("debug: in", file=sys.stderr)\n'
        + '    warnings.warn("debug warning")\n'
        + body
    )
    set_cell(noisy, fn, noisy_src)
    points = max_scores(assignment)
    expected_partial = {g: (p if g.startswith(first + "_") else 0.0) for g, p in points.items()}
    return {
        "full": (full, points),
        "partial": (partial, expected_partial),
        "noisy": (noisy, points),
    }


def digest_tree(root: Path, skip=()) -> dict[str, str]:
    out = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_file() and not any(fnmatch.fnmatch(rel, pat) for pat in skip):
            out[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def find_in_files(root: Path, needle: bytes, skip: set[Path]) -> list[str]:
    hits = []
    for path in root.rglob("*"):
        if path.is_file() and path not in skip and not path.is_symlink():
            with open(path, "rb") as f:
                tail = b""
                while chunk := f.read(1 << 24):
                    if needle in tail + chunk:
                        hits.append(str(path.relative_to(root)))
                        break
                    tail = chunk[-len(needle) :]
    return hits


def our_processes(base: str, token: str, exclude: set[int]) -> dict[int, str]:
    """Processes of the grading run still alive: its token in their environment, or ``base``
    in their command line or working directory."""
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) in exclude:
            continue
        try:
            environ = Path(f"/proc/{entry}/environ").read_bytes()
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            cwd = os.readlink(f"/proc/{entry}/cwd")
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        if ") Z" in stat:
            continue  # a zombie is gone already
        if token.encode() in environ or base in cmdline or cwd.startswith(base):
            found[int(entry)] = cmdline[:200]
    return found


class Run:
    """One grading run of an assignment and everything measured around it."""

    def __init__(self, assignment: str, base: Path):
        self.assignment, self.base = assignment, base
        self.course = make_course(base / "course", [assignment])
        # the repository's packages, copied: an attack on "the course's code" hits this copy
        self.pkgroot = base / "pkg"
        for child in ROOT.iterdir():
            if child.is_dir() and (child / "__init__.py").exists():
                shutil.copytree(
                    child, self.pkgroot / child.name, ignore=shutil.ignore_patterns("__pycache__")
                )
        self.home = base / "home"
        self.secret = secrets.token_hex(24)
        self.secret_file = self.home / ".config" / "rnnbook" / "grading-secret"
        self.secret_file.parent.mkdir(parents=True)
        self.secret_file.write_text(self.secret)
        self.secret_file.chmod(0o600)
        self.exchange = base / "exchange"
        (self.exchange / "rnnbook" / "inbound").mkdir(parents=True)
        nbformat.write(
            released_notebook(assignment), self.exchange / "rnnbook" / "inbound" / "x.ipynb"
        )
        self.token = "rnnbook-redteam-" + secrets.token_hex(8)
        self.decoy_marker = self.token + "-decoy"
        self.decoy = subprocess.Popen(
            [sys.executable, "-c", "import time, sys; time.sleep(3600)", self.decoy_marker],
            start_new_session=True,
        )
        ctx = Ctx(
            str(base),
            str(self.course),
            str(self.secret_file),
            str(self.exchange),
            str(self.pkgroot),
            self.decoy.pid,
            self.decoy_marker,
        )
        self.honest = honest(assignment)
        for student, (nb, _) in self.honest.items():
            submit(self.course, student, assignment, nb)
        self.attacks = {a.name: a for a in ATTACKS[assignment]}
        for attack in self.attacks.values():
            nb = attack.build(assignment, ctx)
            if nb is INVALID_JSON:
                folder = self.course / "submitted" / attack.name / assignment
                folder.mkdir(parents=True)
                (folder / f"{assignment}.ipynb").write_text('{"cells": [{"cell_type": "code", ')
            else:
                submit(self.course, attack.name, assignment, nb)

    def snapshot(self):
        return {
            "course": digest_tree(self.course, WRITTEN),
            "pkg": digest_tree(self.pkgroot, ("*__pycache__*",)),
            "exchange": digest_tree(self.exchange),
            "secret": digest_tree(self.secret_file.parent),
        }

    def grade(self):
        self.before = self.snapshot()
        env = dict(os.environ)
        env.update(
            HOME=str(self.home),
            RNNBOOK_GRADING_SECRET_FILE=str(self.secret_file),
            RNNBOOK_EXCHANGE=str(self.exchange),
            PYTHONPATH=str(self.pkgroot),
            RNNBOOK_REDTEAM_TOKEN=self.token,
            PATH=os.path.dirname(PYTHON) + os.pathsep + env.get("PATH", ""),
        )
        self.stdout_path, self.stderr_path = self.base / "grader.out", self.base / "grader.err"
        start = time.perf_counter()
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            proc = subprocess.Popen(
                [
                    PYTHON,
                    "-m",
                    "scripts.grade_all",
                    self.assignment,
                    "--course",
                    str(self.course),
                    "--csv",
                    str(self.course / "grades.csv"),
                ],
                cwd=self.pkgroot,
                env=env,
                stdout=out,
                stderr=err,
                start_new_session=True,
            )
            try:
                self.returncode = proc.wait(timeout=HARD_KILL)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                self.returncode = f"killed at {HARD_KILL:.0f} s"
                proc.wait()
        self.seconds = time.perf_counter() - start
        time.sleep(1.0)
        self.left = our_processes(str(self.base), self.token, {os.getpid(), self.decoy.pid})
        for pid in self.left:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        self.decoy_alive = self.decoy.poll() is None
        self.after = self.snapshot()
        self.stdout = self.stdout_path.read_text(errors="replace")
        self.stderr = self.stderr_path.read_text(errors="replace")
        self.scores = self.read_scores()
        report = self.course / "reports" / f"similarity_{self.assignment}.json"
        if not report.exists():  # the lead's make grade writes it; otherwise write it here
            sys.path.insert(0, str(self.pkgroot))
            from scripts.similarity import similarity_report

            report = similarity_report(self.course, self.assignment)
        self.similarity = json.loads(report.read_text())
        self.secret_hits = find_in_files(self.base, self.secret.encode(), {self.secret_file})
        for big in self.course.rglob("filler.bin"):
            big.unlink()
        return self

    def read_scores(self):
        from nbgrader.api import Gradebook

        try:
            with Gradebook(f"sqlite:///{self.course / 'gradebook.db'}", course_id="rnnbook") as gb:
                return {
                    s.student.id: {
                        g.name: float(g.score)
                        for nb in s.notebooks
                        for g in nb.grades
                        if g.max_score > 0
                    }
                    for s in gb.assignment_submissions(self.assignment)
                }
        except Exception as err:  # noqa: BLE001 - a broken gradebook is a finding, not a crash
            return {"__error__": {repr(err): 0.0}}

    def stop(self):
        self.decoy.kill()
        self.decoy.wait()


ASSIGNMENTS = sorted(ATTACKS)
# the venv's interpreter by its real path: the sandbox binds the venv's real folder only, and a
# worktree's .venv may be a symlink to a shared one
PYTHON = os.path.join(os.path.realpath(sys.prefix), "bin", "python")


@pytest.fixture(scope="module", params=ASSIGNMENTS)
def run(request, tmp_path_factory):
    r = Run(request.param, tmp_path_factory.mktemp(request.param))
    try:
        yield r.grade()
    finally:
        r.stop()
        log = Path(os.environ.get("RNNBOOK_REDTEAM_LOG", "/dev/null"))
        if log.parent.is_dir():
            with open(log, "a") as f:
                f.write(json.dumps(summary(r)) + "\n")


def matching(pattern, gids):
    return [g for g in gids if fnmatch.fnmatch(g, pattern)]


def attack_outcome(run, attack) -> list[str]:
    """Problems with one hostile submission's grade (empty: the attack failed)."""
    points = max_scores(run.assignment)
    got = run.scores.get(attack.name)
    if got is None:  # not graded: acceptable only when the grader says so
        named = attack.name in run.stdout + run.stderr
        return [] if named else [f"{attack.name}: not in the gradebook and not reported as failed"]
    problems = []
    targets = [g for pat in attack.targets for g in matching(pat, points)]
    won = {g: got.get(g, 0.0) for g in targets if got.get(g, 0.0) > 0}
    if won:
        problems.append(f"{attack.name} won {won}")
    extra = set(got) - set(points)
    if extra:
        problems.append(f"{attack.name}: cells not in the assignment were graded: {sorted(extra)}")
    over = {g: s for g, s in got.items() if s > points.get(g, 0)}
    if over:
        problems.append(f"{attack.name}: scores above the cell's points {over}")
    kept = {
        g: got.get(g)
        for pat in attack.keeps
        for g in matching(pat, points)
        if got.get(g) != points[g]
    }
    if kept:
        problems.append(f"{attack.name}: lost honest points {kept}")
    return problems


def summary(r):
    won = {name: attack_outcome(r, a) for name, a in r.attacks.items()}
    return {
        "assignment": r.assignment,
        "seconds": round(r.seconds, 1),
        "returncode": r.returncode,
        "attacks_that_won": {k: v for k, v in won.items() if v},
        "honest": {s: r.scores.get(s) == exp for s, (_, exp) in r.honest.items()},
        "changed": {
            k: sorted(set(r.before[k].items()) ^ set(r.after[k].items())) for k in r.before
        },
        "secret_hits": r.secret_hits,
        "secret_in_output": r.secret in r.stdout + r.stderr,
        "left": r.left,
        "decoy_alive": r.decoy_alive,
        "csv": (r.course / "grades.csv").exists(),
    }


def attack_ids():
    return [(a, x.name) for a in ASSIGNMENTS for x in ATTACKS[a]]


def test_hostile_submissions_score_zero_on_what_they_attack(run):
    problems = [p for a in run.attacks.values() for p in attack_outcome(run, a)]
    assert not problems, "\n".join(problems)


def test_copies_are_flagged(run):
    flagged = {p["a"]["student"] for p in run.similarity["flagged"]}
    flagged |= {f["student"] for f in run.similarity["static"]}
    copies = {a.name for a in run.attacks.values() if a.flag}
    assert copies <= flagged, copies - flagged


def test_honest_submissions_keep_their_exact_scores(run):
    got = {s: run.scores.get(s) for s in run.honest}
    want = {s: exp for s, (_, exp) in run.honest.items()}
    assert got == want


def test_no_file_of_the_course_exchange_or_packages_changed(run):
    changed = {
        k: sorted(set(run.before[k].items()) ^ set(run.after[k].items())) for k in run.before
    }
    assert not any(changed.values()), changed


def test_the_secret_is_in_no_output(run):
    assert not run.secret_hits
    assert run.secret not in run.stdout + run.stderr


def test_no_process_is_left_and_the_decoy_lives(run):
    assert not run.left
    assert run.decoy_alive


def test_the_run_ends_within_its_bound(run):
    """No submission holds the run up: each one's time (printed by grade_all) and the total."""
    per = {
        line.split()[0]: float(line.rsplit("(", 1)[1].split()[0])
        for line in run.stdout.splitlines()
        if line.startswith("  ") and line.rstrip().endswith(" s)")
    }
    slow = {s: t for s, t in per.items() if t > PER_SUBMISSION_BOUND}
    assert per and not slow, slow or run.stdout[-2000:]
    assert run.seconds < BOUND[run.assignment], f"{run.seconds:.0f} s, returncode {run.returncode}"


def test_every_submission_is_in_the_csv_hostile_ones_included(run):
    """No submission can hold the class's grades back: a broken or tampered notebook is graded
    0 with its reason (sealed), so the run succeeds and the CSV lists everybody, the honest
    submissions with their exact scores."""
    import csv

    assert run.returncode == 0, (run.stdout + run.stderr)[-3000:]
    with open(run.course / "grades.csv", newline="") as handle:
        rows = {row["student_id"]: float(row["score"]) for row in csv.DictReader(handle)}
    assert set(rows) == set(run.attacks) | set(run.honest)
    for student, (_, expected) in run.honest.items():
        assert rows[student] == sum(expected.values()), student
