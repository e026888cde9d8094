"""Start the course's JupyterHub, and make demo accounts on a running one.

    python deploy/jupyterhub/hubctl.py serve     # make hub: set up, then run the hub
    python deploy/jupyterhub/hubctl.py demo      # make hub-demo: instructor, student1..3

``serve`` runs as root (the hub creates one Unix account per user and starts each user's
server as that user). It prepares, in order: the users' environment (``hubenv.py``), the
state folder (hub database, cookie secret, the exchange with mode 1777), the gradebook -- a
PostgreSQL cluster of its own under the state folder unless ``RNNBOOK_DB_URL_FILE`` already
names a database -- and then runs ``jupyterhub`` in the foreground until Ctrl-C, when the
cluster is stopped too. Settings are the environment variables of ``jupyterhub_config.py``.

``demo`` signs the four accounts up through the hub's own sign-up form, approves the
students as the instructor and prints the passwords once.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import hubenv  # noqa: E402
from pgcluster import PostgresCluster  # noqa: E402

DEFAULT_STATE = Path(os.environ.get("RNNBOOK_HUB_STATE", "/srv/rnnbook-hub"))


def prepare_state(state: Path) -> dict[str, Path]:
    """The hub's folders: private state, a world-writable exchange, the students' config."""
    state.mkdir(parents=True, exist_ok=True)
    state.chmod(0o755)  # users reach the exchange and their config through it
    exchange = state / "exchange"
    exchange.mkdir(exist_ok=True)
    exchange.chmod(0o1777)  # nbgrader's rule: anyone may create, only owners delete
    secrets_dir = state / "private"
    secrets_dir.mkdir(exist_ok=True)
    secrets_dir.chmod(0o700)
    hubenv.write_student_config(state / "student-config")
    return {"exchange": exchange, "private": secrets_dir}


def gradebook_url_file(state: Path, instructors: list[str], port: int) -> PostgresCluster:
    """Start the state folder's PostgreSQL and write its URL for the instructors only.

    The URL (with its password) goes to ``<state>/gradebook/db_url``, owned by the first
    instructor with mode 600: students, who can read the users' environment and the
    repository, never see it.
    """
    import pwd

    cluster = PostgresCluster(state / "postgres", port=port)
    new = not (cluster.data / "PG_VERSION").exists()
    cluster.start()
    folder = state / "gradebook"
    folder.mkdir(exist_ok=True)
    url_file = folder / "db_url"
    if new or not url_file.exists():
        url_file.write_text(cluster.create_database("rnnbook", role="nbgrader") + "\n")
    owner = instructors[0]
    try:
        pwd.getpwnam(owner)
    except KeyError:  # the hub creates the instructor's account as it starts
        subprocess.run(
            ["useradd", "-m", "-K", "HOME_MODE=0700", "-s", "/bin/bash", owner], check=True
        )
    shutil.chown(url_file, owner, owner)
    url_file.chmod(0o600)
    shutil.chown(folder, owner, owner)
    folder.chmod(0o700)
    return cluster


def serve(args) -> int:
    if os.geteuid() != 0:
        raise SystemExit("make hub runs as root: it creates a Unix account per user")
    state = Path(args.state)
    paths = prepare_state(state)
    print(f"users' environment: {args.venv} (first time: a few minutes)", flush=True)
    hubenv.ensure_users_venv(Path(args.venv), exchange=paths["exchange"])
    instructors = [n.strip() for n in args.instructors.split(",") if n.strip()]
    env = dict(os.environ)
    env.update(
        RNNBOOK_HUB_STATE=str(state),
        RNNBOOK_HUB_VENV=str(args.venv),
        RNNBOOK_HUB_IP=args.ip,
        RNNBOOK_HUB_PORT=str(args.port),
        RNNBOOK_INSTRUCTORS=",".join(instructors),
        # LocalAuthenticator runs useradd
        PATH=f"{os.path.dirname(sys.executable)}:/usr/local/sbin:/usr/sbin:/sbin:"
        + env.get("PATH", ""),
    )
    cluster = None
    if not env.get("RNNBOOK_DB_URL_FILE") and not args.sqlite:
        cluster = gradebook_url_file(state, instructors, args.pg_port)
        env["RNNBOOK_DB_URL_FILE"] = str(state / "gradebook" / "db_url")
    print(f"JupyterHub on http://{args.ip}:{args.port}  (Ctrl-C stops it)", flush=True)
    try:
        hub = subprocess.Popen(
            [
                os.path.join(os.path.dirname(sys.executable), "jupyterhub"),
                "-f",
                str(HERE / "jupyterhub_config.py"),
            ],
            cwd=paths["private"],
            env=env,
        )
        return hub.wait()
    except KeyboardInterrupt:
        hub.terminate()
        return hub.wait(timeout=30)
    finally:
        if cluster is not None:
            cluster.stop()


# ------------------------------------------------------------------------- demo accounts


def sign_up(base_url: str, name: str, password: str) -> None:
    """Sign up through the hub's form, as a person would (NativeAuthenticator's /signup)."""
    import requests

    session = requests.Session()
    form = session.get(f"{base_url}/hub/signup", timeout=30)
    form.raise_for_status()
    xsrf = session.cookies.get("_xsrf", "")
    reply = session.post(
        f"{base_url}/hub/signup",
        data={
            "username": name,
            "signup_password": password,
            "signup_password_confirmation": password,
            "_xsrf": xsrf,
        },
        timeout=60,
    )
    reply.raise_for_status()


def login(base_url: str, name: str, password: str):
    """A ``requests.Session`` logged in to the hub (raises when the login is refused)."""
    import requests

    session = requests.Session()
    session.get(f"{base_url}/hub/login", timeout=180)
    reply = session.post(
        f"{base_url}/hub/login?next=",
        data={"username": name, "password": password, "_xsrf": session.cookies.get("_xsrf", "")},
        allow_redirects=False,
        timeout=180,  # NativeAuthenticator checks bcrypt hashes on the hub's event loop
    )
    if reply.status_code != 302 or "jupyterhub-session-id" not in session.cookies:
        raise PermissionError(f"login of {name} refused ({reply.status_code})")
    return session


def approve(admin_session, base_url: str, name: str) -> None:
    """An instructor approves a sign-up (NativeAuthenticator's /authorize/<name> toggle)."""
    reply = admin_session.get(f"{base_url}/hub/authorize/{name}", timeout=30)
    reply.raise_for_status()


def make_accounts(base_url: str, instructor: str, students: list[str]) -> dict[str, str]:
    """Sign up an instructor (pre-approved as a hub admin) and approve each student."""
    passwords = {name: secrets.token_urlsafe(12) for name in [instructor, *students]}
    sign_up(base_url, instructor, passwords[instructor])
    admin = login(base_url, instructor, passwords[instructor])
    for name in students:
        sign_up(base_url, name, passwords[name])
        approve(admin, base_url, name)
    return passwords


def demo(args) -> int:
    base = f"http://{args.ip}:{args.port}"
    students = [f"student{i}" for i in range(1, 4)]
    passwords = make_accounts(base, "instructor", students)
    print(f"Accounts on {base} (shown once; keep them):")
    for name, password in passwords.items():
        print(f"  {name:<11} {password}")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["serve", "demo"])
    parser.add_argument("--state", default=str(DEFAULT_STATE))
    parser.add_argument("--venv", default=str(hubenv.DEFAULT_VENV))
    parser.add_argument("--ip", default=os.environ.get("RNNBOOK_HUB_IP", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("RNNBOOK_HUB_PORT", 8000)))
    parser.add_argument("--pg-port", type=int, default=5433)
    parser.add_argument(
        "--instructors", default=os.environ.get("RNNBOOK_INSTRUCTORS", "instructor")
    )
    parser.add_argument("--sqlite", action="store_true", help="gradebook in SQLite, not PostgreSQL")
    args = parser.parse_args(argv)
    return serve(args) if args.command == "serve" else demo(args)


if __name__ == "__main__":
    sys.exit(main())
