"""nbgrader settings for the rnnbook course (read by every `nbgrader ...` command run here).

The course directory is the repository itself: `solutions/<a>/<a>.ipynb` are nbgrader's
*source* notebooks, `exercises/<a>/<a>.ipynb` the *release* notebooks students get.
`submitted/`, `autograded/`, `feedback/` and `gradebook.db` appear beside them when an
instructor grades; they are git-ignored.

`nbgrader.apps.NbGraderAPI()` does not read this file on its own; pass it in:
    from traitlets.config.loader import PyFileConfigLoader
    config = PyFileConfigLoader("nbgrader_config.py", path=root).load_config()
    api = NbGraderAPI(config=config)
"""

import os
import re

from nbconvert.preprocessors import ClearMetadataPreprocessor, CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import (
    AssignLatePenalties,
    CheckCellMetadata,
    ClearHiddenTests,
    GetGrades,
    IgnorePattern,
    LimitOutput,
    NbGraderPreprocessor,
    SaveAutoGrades,
)

from rnncore.grading import feedback
from rnncore.grading.autograde import SealGrades, TrustedExecute

c = get_config()  # noqa: F821 (injected by traitlets)

# The course lives where this file is, whatever the working directory (tests copy it to tmp).
c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.course_id = "rnnbook"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "exercises"

# Gradebook: SQLite at <root>/gradebook.db by default (one machine, one grader; several
# `nbgrader autograde` processes for different students may share it). With the hub or several
# graders it is PostgreSQL, named from outside the repository so no password is ever committed:
#     RNNBOOK_DB_URL=postgresql+psycopg://nbgrader:PASSWORD@dbhost:5432/rnnbook
# or RNNBOOK_DB_URL_FILE=<a file, mode 600, holding that URL> (deploy/jupyterhub writes one).
_db_url_file = os.environ.get("RNNBOOK_DB_URL_FILE")
c.CourseDirectory.db_url = (
    os.environ.get("RNNBOOK_DB_URL")
    or (open(_db_url_file).read().strip() if _db_url_file else "")
    or "sqlite:///" + os.path.join(c.CourseDirectory.root, "gradebook.db")
)

# The exchange students fetch from and submit to. On a shared server leave the default (it
# must exist and be world-writable); RNNBOOK_EXCHANGE points elsewhere (the tests use a tmp dir).
c.Exchange.root = os.environ.get("RNNBOOK_EXCHANGE", "/usr/local/share/nbgrader/exchange")

# Per-cell time limit while autograding. Every check in rnncore.grading runs in well under
# 2 s on a laptop (hidden cases included), so 30 s leaves room for a slow machine, while a
# submission stuck in an infinite loop costs at most 30 s per cell: the kernel is interrupted,
# the cell scores 0 with "CellTimeoutError", and grading goes on with the next cell.
c.Execute.timeout = 30
c.Execute.interrupt_on_timeout = True

# Trusted autograding (rnncore.grading.autograde): nbgrader's Execute step, which ran the whole
# notebook in one kernel and scored each test cell by what that kernel printed, is replaced by
# TrustedExecute. The submission's own cells run in a bubblewrap sandbox (no network, no view of
# this course, the gradebook, the exchange or your home, no new processes, 2 GB of memory); each
# test cell runs here, in the grader's process, calling the student's functions across the
# process boundary, and its outputs say what the checks concluded. SealGrades then seals the
# scores with your grading secret (~/.config/rnnbook/grading-secret, or the file named by
# RNNBOOK_GRADING_SECRET_FILE), and `make grade` verifies every seal before it exports a CSV.
# Without bubblewrap grading refuses; RNNBOOK_UNSAFE_GRADING=1 (make grade ... UNSAFE=1) grades
# without the sandbox, for submissions you trust.
c.TrustedExecute.call_timeout = 30  # one call of a student's function
c.TrustedExecute.cell_timeout = 60  # one test cell, all its calls
c.TrustedExecute.memory_limit = 2 * 1024**3
c.Autograde.autograde_preprocessors = [
    TrustedExecute,
    IgnorePattern,
    ClearMetadataPreprocessor,
    LimitOutput,
    SaveAutoGrades,
    AssignLatePenalties,
    CheckCellMetadata,
    SealGrades,
]
# A test cell the student deleted comes back from the gradebook and is graded like the others.
c.OverwriteCells.add_missing_cells = True


class HideHiddenTestFrames(NbGraderPreprocessor):
    """Drop the traceback frames of a test cell that has hidden tests from its error output.

    ClearHiddenTests removes hidden tests from the cell source in the feedback, but when a
    check fails, IPython's traceback quotes the test cell around the failing line, hidden
    lines included. This drops the test cell's own frames (``Cell In[<its number>]``) and any
    frame that quotes a hidden line, and keeps the error's type and message (the check's
    explanation for the student) and the frames inside the student's own code.
    """

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code" or "BEGIN HIDDEN TESTS" not in cell.source:
            return cell, resources
        hidden, visible, inside = set(), set(), False
        for line in cell.source.splitlines():
            if "BEGIN HIDDEN TESTS" in line:
                inside = True
            elif "END HIDDEN TESTS" in line:
                inside = False
            else:
                (hidden if inside else visible).add(line.strip())
        # a bracket or a line the visible tests share reveals nothing
        telling = [h for h in hidden if len(h) > 3 and not any(h in v for v in visible)]
        n = cell.get("execution_count")
        own = re.compile(rf"(Cell In ?\[{n}\]|Input In \[{n}\]|<ipython-input-{n}-)")
        ansi = re.compile(r"\x1b\[[0-9;]*m")  # tracebacks are syntax-coloured
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                output["traceback"] = [
                    frame
                    for frame in output["traceback"]
                    if not own.search(ansi.sub("", frame))
                    and not any(line in ansi.sub("", frame) for line in telling)
                ]
        return cell, resources


# Feedback never shows hidden tests: neither in the cell source nor in tracebacks.
c.GenerateFeedback.preprocessors = [
    GetGrades,
    HideHiddenTestFrames,
    ClearHiddenTests,
    CSSHTMLHeaderPreprocessor,
]

# Feedback pages carry their own MathJax, so a student's maths renders offline (opened from
# disk, from the hub, or mailed): nbgrader's feedback page with its mathjax() macro replaced
# (rnncore/grading/feedback.py), MathJax 3 read from node_modules (`npm ci`, `make grade`).
c.HTMLExporter.extra_template_basedirs = feedback.template_basedirs()
c.HTMLExporter.filters = {"inline_mathjax": "rnncore.grading.feedback.inline_mathjax"}
