"""Regenerate ``exercises/`` (the notebooks students get) from ``solutions/`` with nbgrader.

Usage::

    python -m scripts.generate_exercises                  # every assignment (make exercises)
    python -m scripts.generate_exercises ex02_rnn_cell    # just one
    python -m scripts.generate_exercises --out /tmp/x     # somewhere else (the drift test)

``nbgrader generate_assignment`` replaces the code between ``### BEGIN SOLUTION`` and
``### END SOLUTION`` with a ``raise NotImplementedError()`` stub, deletes hidden tests, and
makes test cells read-only. It runs in a scratch copy of the course, so this command never
touches the course's gradebook (``gradebook.db``) or leaves nbgrader's files in the tree; the
gradebook learns about an assignment when it is graded (``scripts/grade_all.py``). The
released notebooks are then normalised (no outputs, no execution counts, no editor state),
so that regenerating unchanged sources gives byte-identical files.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

import nbformat

from .course import ROOT, check_assignments, nbgrader

# Per-cell metadata an editor adds while someone works in a notebook; none of it belongs in git.
VOLATILE_CELL_METADATA = ("execution", "collapsed", "scrolled", "ExecuteTime", "jupyter")
VOLATILE_NB_METADATA = ("widgets", "celltoolbar", "toc", "varInspector")


def normalise(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Strip outputs, execution counts and editor state from a notebook (in place)."""
    for key in VOLATILE_NB_METADATA:
        nb.metadata.pop(key, None)
    for cell in nb.cells:
        for key in VOLATILE_CELL_METADATA:
            cell.metadata.pop(key, None)
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    return nb


def generate(assignments: list[str], out_dir: Path, root: Path = ROOT) -> list[Path]:
    """Release ``assignments`` from ``root/solutions`` into ``out_dir/<a>/``; return the notebooks.

    Each ``out_dir/<a>`` is replaced as a whole, so files removed from a source assignment
    disappear from its release too.
    """
    written = []
    with tempfile.TemporaryDirectory(prefix="rnnbook-generate-") as tmp:
        course = Path(tmp)
        shutil.copy(root / "nbgrader_config.py", course / "nbgrader_config.py")
        for a in assignments:
            shutil.copytree(
                root / "solutions" / a,
                course / "solutions" / a,
                ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"),
            )
        # One nbgrader process for all (the scratch course holds only the chosen assignments).
        nbgrader(["generate_assignment", "*", "--force"], cwd=course)
        for a in assignments:
            release, dest = course / "exercises" / a, Path(out_dir) / a
            if dest.exists():
                shutil.rmtree(dest)
            dest.mkdir(parents=True)
            for path in sorted(release.rglob("*")):
                target = dest / path.relative_to(release)
                if path.is_dir():
                    target.mkdir(exist_ok=True)
                elif path.suffix == ".ipynb":
                    nbformat.write(normalise(nbformat.read(path, as_version=4)), target)
                    written.append(target)
                else:
                    shutil.copy(path, target)
    return written


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("assignments", nargs="*", help="assignment names (default: all)")
    parser.add_argument(
        "--out",
        type=Path,
        default=ROOT / "exercises",
        help="release directory (default: exercises/ of the repository)",
    )
    args = parser.parse_args(argv)
    for path in generate(check_assignments(args.assignments), args.out):
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
