"""A course hub of its own for the hub tests: started on 127.0.0.1, torn down afterwards.

``running_hub()`` prepares a state folder under /tmp, a throwaway PostgreSQL gradebook, the
users' environment (``/opt/rnnbook-hub/venv``, reused when up to date), then runs
``jupyterhub`` with ``deploy/jupyterhub/jupyterhub_config.py`` on free loopback ports. Every
account it makes is named ``rnnt-<run>-<role>`` (``<run>`` random per run), so the Unix
accounts it deletes at the end are only ever its own.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
HUB_DIR = ROOT / "deploy" / "jupyterhub"
sys.path.insert(0, str(HUB_DIR))

import hubctl  # noqa: E402
import hubenv  # noqa: E402
from pgcluster import ThrowawayCluster, free_port  # noqa: E402

PREFIX = "rnnt-"
START_TIMEOUT = 90  # seconds for the hub to answer
COURSE = "rnnbook"


@dataclass
class Hub:
    url: str
    state: Path
    run: str
    instructor: str
    instructor_password: str
    log: Path
    venv: Path
    db_url_file: Path
    pid: int = 0
    accounts: list[str] = field(default_factory=list)
    _admin: requests.Session | None = None

    def name(self, role: str) -> str:
        return f"{PREFIX}{self.run}-{role}"

    def admin(self) -> requests.Session:
        if self._admin is None:
            self._admin = hubctl.login(self.url, self.instructor, self.instructor_password)
        return self._admin

    def add_students(self, roles: list[str]) -> dict[str, str]:
        """Sign students up through the form and approve them; ``{name: password}``."""
        passwords = {}
        for role in roles:
            name, password = self.name(role), secrets.token_urlsafe(12)
            hubctl.sign_up(self.url, name, password)
            self.accounts.append(name)
            hubctl.approve(self.admin(), self.url, name)
            passwords[name] = password
        return passwords

    def api_token(self, session: requests.Session, user: str) -> str:
        """A token for ``user`` (its own scopes), made through the hub's API by its session."""
        reply = session.post(
            f"{self.url}/hub/api/users/{user}/tokens",
            json={"note": "rnnbook test", "expires_in": 3600},
            headers={"X-XSRFToken": session.cookies.get("_xsrf", "")},
            timeout=180,  # a hub busy with 30 logins answers late, but answers
        )
        reply.raise_for_status()
        return reply.json()["token"]

    def start_server(self, user: str, token: str, timeout: float = 120) -> float:
        """Start ``user``'s server through the API and wait until it is ready (seconds)."""
        t0 = time.perf_counter()
        headers = {"Authorization": f"token {token}"}
        reply = requests.post(
            f"{self.url}/hub/api/users/{user}/server", headers=headers, timeout=timeout
        )
        if reply.status_code not in (201, 202, 400):  # 400: already running
            raise RuntimeError(f"spawn of {user}: {reply.status_code} {reply.text}")
        while time.perf_counter() - t0 < timeout:
            model = requests.get(
                f"{self.url}/hub/api/users/{user}", headers=headers, timeout=timeout
            ).json()
            server = model.get("servers", {}).get("", {})
            if server.get("ready"):
                return time.perf_counter() - t0
            time.sleep(0.5)
        raise TimeoutError(f"{user}'s server not ready after {timeout} s")


def _wait_for(url: str, timeout: float, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"jupyterhub exited ({proc.returncode}):\n{log.read_text()[-4000:]}")
        with contextlib.suppress(requests.RequestException):
            if requests.get(f"{url}/hub/api", timeout=2).status_code == 200:
                return
        time.sleep(0.3)
    raise TimeoutError(f"jupyterhub did not answer in {timeout} s:\n{log.read_text()[-4000:]}")


def delete_accounts(names: list[str]) -> None:
    """Remove the test's own Unix accounts (and their processes and homes)."""
    for name in names:
        if not name.startswith(PREFIX):
            raise ValueError(f"refusing to delete {name!r}: not a test account ({PREFIX}*)")
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        pids = subprocess.run(["ps", "-u", name, "-o", "pid="], capture_output=True, text=True)
        for pid in pids.stdout.split():
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid), signal.SIGKILL)
        subprocess.run(["userdel", "-r", "-f", name], capture_output=True, check=False)


@contextlib.contextmanager
def running_hub(artifacts: Path | None = None):
    """Yield a :class:`Hub`; stop it, its PostgreSQL and its accounts on the way out."""
    run = secrets.token_hex(2)
    instructor = f"{PREFIX}{run}-instructor"
    state = Path(tempfile.mkdtemp(prefix=f"rnnt-hub-{run}-"))
    paths = hubctl.prepare_state(state)
    python = hubenv.ensure_users_venv(hubenv.DEFAULT_VENV, exchange=paths["exchange"])
    assert python.exists()
    pg = ThrowawayCluster(Path(tempfile.mkdtemp(prefix="rnnt-pg-")), port=free_port())
    pg.start()
    log = state / "private" / "jupyterhub.log"
    port = free_port()
    proc = None
    hub = None
    try:
        subprocess.run(
            ["useradd", "-m", "-K", "HOME_MODE=0700", "-s", "/bin/bash", instructor], check=True
        )
        url_file = state / "gradebook" / "db_url"
        url_file.parent.mkdir()
        url_file.write_text(pg.create_database("rnnbook", role="nbgrader") + "\n")
        for path in (url_file, url_file.parent):
            shutil.chown(path, instructor, instructor)
        url_file.chmod(0o600)
        url_file.parent.chmod(0o700)
        env = dict(os.environ)
        for key in ("PYTHONPATH", "RNNBOOK_EXCHANGE", "RNNBOOK_DB_URL"):
            env.pop(key, None)
        env.update(
            RNNBOOK_HUB_STATE=str(state),
            RNNBOOK_HUB_VENV=str(hubenv.DEFAULT_VENV),
            RNNBOOK_HUB_IP="127.0.0.1",
            RNNBOOK_HUB_PORT=str(port),
            RNNBOOK_HUB_API_PORT=str(free_port()),
            RNNBOOK_PROXY_API_PORT=str(free_port()),
            RNNBOOK_INSTRUCTORS=instructor,
            RNNBOOK_DB_URL_FILE=str(url_file),
            PATH=f"{Path(sys.executable).parent}:/usr/local/sbin:/usr/sbin:/sbin:{env['PATH']}",
        )
        with open(log, "w") as out:
            proc = subprocess.Popen(
                [
                    str(Path(sys.executable).parent / "jupyterhub"),
                    "-f",
                    str(HUB_DIR / "jupyterhub_config.py"),
                ],
                cwd=state / "private",
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        url = f"http://127.0.0.1:{port}"
        _wait_for(url, START_TIMEOUT, proc, log)
        password = secrets.token_urlsafe(12)
        hub = Hub(
            url,
            state,
            run,
            instructor,
            password,
            log,
            venv=hubenv.DEFAULT_VENV,
            db_url_file=url_file,
            pid=proc.pid,
            accounts=[instructor],
        )
        hubctl.sign_up(url, instructor, password)
        yield hub
    finally:
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)  # the hub stops the users' servers first
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        if artifacts is not None and log.exists():
            artifacts.mkdir(parents=True, exist_ok=True)
            shutil.copy(log, artifacts / "jupyterhub.log")
        pg.stop()
        delete_accounts(hub.accounts if hub else [instructor])
        shutil.rmtree(state, ignore_errors=True)
