"""JupyterHub for the rnnbook course: one server, one Unix account per user, nbgrader.

Started by ``make hub`` (``deploy/jupyterhub/hubctl.py serve``), which sets the variables
read here; every one has a default, so ``jupyterhub -f`` this file works on its own too.

RNNBOOK_HUB_STATE    folder for the hub's database, cookie secret, exchange (/srv/rnnbook-hub)
RNNBOOK_HUB_IP       address students connect to (127.0.0.1; a public one behind HTTPS)
RNNBOOK_HUB_PORT     its port (8000)
RNNBOOK_HUB_VENV     the users' environment (hubenv.py makes it; /opt/rnnbook-hub/venv)
RNNBOOK_INSTRUCTORS  comma-separated instructors: hub admins and formgraders (instructor)
RNNBOOK_DB_URL_FILE  file holding the gradebook's URL, readable by the instructors only

Accounts: students sign up at ``/hub/signup`` (jupyterhub-nativeauthenticator) and an
instructor approves them at ``/hub/authorize``; only then can they log in, and at their first
login the hub creates their Unix account (home mode 700, no password: no shell login).
"""

import os
import secrets
import shutil
import subprocess
from pathlib import Path

import nativeauthenticator.handlers
from jupyterhub.auth import LocalAuthenticator
from nativeauthenticator import NativeAuthenticator

c = get_config()  # noqa: F821 (injected by traitlets)

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
STATE = Path(os.environ.get("RNNBOOK_HUB_STATE", "/srv/rnnbook-hub"))
PRIVATE = STATE / "private"  # mode 700: the hub's database (password hashes), its secret
VENV = Path(os.environ.get("RNNBOOK_HUB_VENV", "/opt/rnnbook-hub/venv"))
INSTRUCTORS = {
    name.strip()
    for name in os.environ.get("RNNBOOK_INSTRUCTORS", "instructor").split(",")
    if name.strip()
}
COURSE = "rnnbook"
DB_URL_FILE = os.environ.get("RNNBOOK_DB_URL_FILE", "")

# ---------------------------------------------------------------- network: loopback unless told
ip = os.environ.get("RNNBOOK_HUB_IP", "127.0.0.1")
c.JupyterHub.bind_url = f"http://{ip}:{os.environ.get('RNNBOOK_HUB_PORT', '8000')}"
c.JupyterHub.hub_bind_url = f"http://127.0.0.1:{os.environ.get('RNNBOOK_HUB_API_PORT', '8081')}"
c.ConfigurableHTTPProxy.api_url = (
    f"http://127.0.0.1:{os.environ.get('RNNBOOK_PROXY_API_PORT', '8001')}"
)
c.ConfigurableHTTPProxy.command = [str(HERE / "node_modules" / ".bin" / "configurable-http-proxy")]
c.JupyterHub.db_url = f"sqlite:///{PRIVATE / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(PRIVATE / "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = str(PRIVATE / "jupyterhub.pid")


# ---------------------------------------------------------------- accounts
class _NoStatsd:
    """NativeAuthenticator 1.3 times logins with ``self.statsd``, gone from JupyterHub 6."""

    def timer(self, name):
        return self

    def start(self):
        return self

    def stop(self, send=True):
        return None


nativeauthenticator.handlers.LoginHandler.statsd = _NoStatsd()


class CourseAuthenticator(NativeAuthenticator, LocalAuthenticator):
    """Sign-up with an instructor's approval; a Unix account per user; course groups.

    NativeAuthenticator keeps the (bcrypt-hashed) passwords in the hub's database;
    LocalAuthenticator creates the Unix account on a user's first login. The groups
    nbgrader's ``JupyterHubAuthPlugin`` reads come from here on every login
    (``manage_groups``): instructors grade the course, every other approved user takes it.
    """

    async def authenticate(self, handler, data):
        name = await super().authenticate(handler, data)
        if name is None:
            return None
        group = f"formgrade-{COURSE}" if name in INSTRUCTORS else f"nbgrader-{COURSE}"
        return {"name": name, "groups": [group]}


c.JupyterHub.authenticator_class = CourseAuthenticator
c.Authenticator.admin_users = INSTRUCTORS
c.Authenticator.allow_all = True  # only approved sign-ups ever authenticate
c.Authenticator.manage_groups = True
# names that are valid Unix accounts (useradd) and carry no nbgrader separator ('+')
c.Authenticator.username_pattern = r"^[a-z][a-z0-9-]{0,30}$"
c.NativeAuthenticator.open_signup = False
c.NativeAuthenticator.minimum_password_length = 10
c.NativeAuthenticator.check_common_password = True
c.NativeAuthenticator.allowed_failed_logins = 5
c.NativeAuthenticator.seconds_before_next_try = 60
c.LocalAuthenticator.create_system_users = True
# home readable by its owner only; a shell for JupyterLab's terminal but no password
c.LocalAuthenticator.add_user_cmd = ["useradd", "-m", "-K", "HOME_MODE=0700", "-s", "/bin/bash"]

# ---------------------------------------------------------------- the users' servers
c.JupyterHub.spawner_class = "localprocess"
c.Spawner.cmd = [str(VENV / "bin" / "jupyterhub-singleuser")]
c.Spawner.default_url = "/lab"
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 120
c.Spawner.env_keep = ["LANG", "LC_ALL", "TZ"]
c.Spawner.environment = {
    "PATH": f"{VENV / 'bin'}:/usr/local/bin:/usr/bin:/bin",
    # one BLAS thread per kernel: a class shares the cores
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "RNNBOOK_EXCHANGE": str(STATE / "exchange"),
}
c.Spawner.mem_limit = os.environ.get("RNNBOOK_MEM_LIMIT") or None

STUDENT_SCOPES = ["access:servers!server", "users:activity!user", "read:users:groups!user"]
# the formgrader's course list and nbgrader's hub plugin read groups, users and services
INSTRUCTOR_SCOPES = STUDENT_SCOPES + [
    "list:groups",
    "groups",
    "list:users",
    "read:users:groups",
    "list:services",
    "read:services",
]


def server_token_scopes(spawner):
    return INSTRUCTOR_SCOPES if spawner.user.name in INSTRUCTORS else STUDENT_SCOPES


c.Spawner.server_token_scopes = server_token_scopes

INSTRUCTOR_CONFIG = '''"""nbgrader for the instructor: the course's settings, this folder."""

c = get_config()  # noqa: F821
load_subconfig({course_config!r})  # noqa: F821 (the repository's nbgrader_config.py)
c.CourseDirectory.root = {root!r}
c.Exchange.root = {exchange!r}
'''


def _course_for(name: str, home: Path) -> None:
    """The instructor's course folder ``~/rnnbook``: sources and releases copied once.

    Its settings load the repository's ``nbgrader_config.py`` (the gradebook URL, timeouts,
    the grading pipeline), so the formgrader grades exactly as ``make grade`` does.
    """
    course = home / COURSE
    for kind in ("solutions", "exercises"):
        if not (course / kind).exists():
            shutil.copytree(REPO / kind, course / kind)
    config = INSTRUCTOR_CONFIG.format(
        course_config=str(REPO / "nbgrader_config.py"),
        root=str(course),
        exchange=str(STATE / "exchange"),
    )
    (course / "nbgrader_config.py").write_text(config)
    (home / ".jupyter").mkdir(exist_ok=True)
    (home / ".jupyter" / "nbgrader_config.py").write_text(
        f"c = get_config()  # noqa: F821\nload_subconfig({str(course / 'nbgrader_config.py')!r})\n"
    )
    # the grading secret (rnncore.grading: hidden cases and grade seals), the instructor's only
    secret = home / ".config" / "rnnbook" / "grading-secret"
    if not secret.exists():
        secret.parent.mkdir(parents=True, exist_ok=True)
        secret.write_text(secrets.token_hex(32) + "\n")
    secret.chmod(0o600)
    subprocess.run(
        ["chown", "-R", f"{name}:", str(course), str(home / ".jupyter"), str(home / ".config")],
        check=True,
    )


def pre_spawn_hook(spawner):
    import pwd

    name = spawner.user.name
    home = Path(pwd.getpwnam(name).pw_dir)
    if name in INSTRUCTORS:
        _course_for(name, home)
        if DB_URL_FILE:
            spawner.environment = {**spawner.environment, "RNNBOOK_DB_URL_FILE": DB_URL_FILE}
    else:
        # students' servers: no formgrader, no course list, no assignment creation
        spawner.environment = {
            **spawner.environment,
            "JUPYTER_CONFIG_PATH": str(STATE / "student-config"),
        }


c.Spawner.pre_spawn_hook = pre_spawn_hook

# idle servers are not culled here: a class of ~100 fits in memory (see the README's numbers)
c.JupyterHub.shutdown_on_logout = False
c.JupyterHub.cleanup_servers = True
