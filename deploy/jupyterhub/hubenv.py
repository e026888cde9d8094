"""The users' side of the course hub: their Python environment and the settings it carries.

Every student's and instructor's server runs from one virtual environment that they can
read (made from ``/usr/bin/python3``: an interpreter under ``/root`` has mode 700 and cannot
be spawned for another user). It holds the course's ``requirements.txt`` (rnncore
included) and three pieces of configuration the hub relies on:

* ``etc/jupyter/nbgrader_config.py`` -- nbgrader on a hub: the exchange, one folder per
  course in it, identities and courses from JupyterHub (``JupyterHubAuthPlugin``), and the
  exchange classes of ``rnnbook_exchange`` that take a submission's author from the hub and
  the file system, never from a flag;
* ``rnnbook-hub.pth`` -- makes the repository (``scripts``, for the LMS exporters) and this
  folder (``rnnbook_exchange``) importable;
* a ``student-config`` folder put on students' ``JUPYTER_CONFIG_PATH`` by the hub, which
  switches the formgrader and the course list off in their servers.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
DEFAULT_VENV = Path(os.environ.get("RNNBOOK_HUB_VENV", "/opt/rnnbook-hub/venv"))
BASE_PYTHON = "/usr/bin/python3"  # world-readable, unlike a pyenv under /root
COURSE = "rnnbook"


def global_nbgrader_config(exchange: Path) -> str:
    """nbgrader settings every user's server reads (the venv's ``etc/jupyter``)."""
    return f'''"""nbgrader on the rnnbook hub (written by deploy/jupyterhub/hubenv.py)."""

from nbgrader.auth import JupyterHubAuthPlugin

c = get_config()  # noqa: F821
c.Exchange.root = {str(exchange)!r}
c.Exchange.path_includes_course = True
c.Authenticator.plugin_class = JupyterHubAuthPlugin
# who submitted is the hub's user and the file's Unix owner, never a --student flag
c.ExchangeFactory.submit = "rnnbook_exchange.HubIdentitySubmit"
c.ExchangeFactory.collect = "rnnbook_exchange.OwnerCheckedCollect"
'''


def write_student_config(folder: Path) -> Path:
    """The Jupyter config folder that hides the instructor's tools from students.

    A student who re-enables them in ``~/.jupyter`` gets a formgrader over their own files
    only: what protects the course is Unix permissions, this only keeps the interface clean.
    """
    server = folder / "jupyter_server_config.d"
    server.mkdir(parents=True, exist_ok=True)
    off = {
        "nbgrader.server_extensions.formgrader": False,
        "nbgrader.server_extensions.course_list": False,
    }
    (server / "rnnbook-student.json").write_text(
        json.dumps({"ServerApp": {"jpserver_extensions": off}}, indent=2)
    )
    lab = folder / "labconfig"
    lab.mkdir(parents=True, exist_ok=True)
    hidden = ["formgrader", "course-list", "create-assignment"]
    (lab / "page_config.json").write_text(
        json.dumps(
            {"disabledExtensions": {f"@jupyter/nbgrader:{name}": True for name in hidden}},
            indent=2,
        )
    )
    for path in [folder, server, lab, *server.iterdir(), *lab.iterdir()]:
        os.chmod(path, 0o755 if path.is_dir() else 0o644)
    return folder


def _stamp(venv: Path) -> str:
    text = (REPO / "requirements.txt").read_text() + str(REPO) + BASE_PYTHON
    return hashlib.sha256(text.encode()).hexdigest()


def ensure_users_venv(venv: Path = DEFAULT_VENV, exchange: Path | None = None) -> Path:
    """Create (or reuse) the users' environment; returns its ``bin/python``.

    The install is skipped when ``requirements.txt`` and the repository path are those of
    the last install (a stamp file), so a second ``make hub`` starts in seconds.
    """
    venv = Path(venv)
    python = venv / "bin" / "python"
    stamp = venv / ".rnnbook-installed"
    if not (stamp.exists() and stamp.read_text() == _stamp(venv)):
        if not python.exists():
            venv.parent.mkdir(parents=True, exist_ok=True)
            subprocess.run([BASE_PYTHON, "-m", "venv", str(venv)], check=True)
        pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        subprocess.run([*pip, "-r", "requirements.txt"], cwd=REPO, check=True)
        stamp.write_text(_stamp(venv))
    site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    (site / "rnnbook-hub.pth").write_text(f"{REPO}\n{HERE}\n")
    # no "news" pop-up (the hub may be offline, and a class needs no Jupyter news)
    lab_settings = venv / "share" / "jupyter" / "lab" / "settings"
    lab_settings.mkdir(parents=True, exist_ok=True)
    (lab_settings / "overrides.json").write_text(
        json.dumps({"@jupyterlab/apputils-extension:notification": {"fetchNews": "false"}})
    )
    if exchange is not None:
        etc = venv / "etc" / "jupyter"
        etc.mkdir(parents=True, exist_ok=True)
        (etc / "nbgrader_config.py").write_text(global_nbgrader_config(exchange))
    # everyone reads and runs it, nobody but root writes it
    subprocess.run(["chmod", "-R", "go+rX,go-w", str(venv)], check=True)
    for parent in venv.parents:
        if parent == Path("/"):
            break
        if not os.stat(parent).st_mode & 0o005:
            raise PermissionError(
                f"users cannot reach the venv {venv}: {parent} is not readable by others"
            )
    return python


if __name__ == "__main__":
    print(ensure_users_venv(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_VENV))
