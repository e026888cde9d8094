"""A PostgreSQL cluster of its own for the gradebook: initdb, pg_ctl, a role and a database.

Debian's ``postgresql`` package (15) provides the binaries; no system service is needed
(these machines run no systemd), so the hub's launcher and the tests start a cluster in a
folder of their choosing. It listens on 127.0.0.1 only; its Unix socket lives in a folder
only the ``postgres`` account can enter, so no local user gets in through ``peer`` or
``trust`` rules, and every connection over TCP needs a password (scram-sha-256).

>>> with PostgresCluster(Path("/tmp/pg"), port=free_port()) as pg:   # doctest: +SKIP
...     url = pg.create_database("rnnbook")       # postgresql+psycopg://...
"""

from __future__ import annotations

import secrets
import shutil
import socket
import subprocess
from pathlib import Path

PG_BIN = Path("/usr/lib/postgresql/15/bin")
PG_USER = "postgres"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_postgres(args: list[str], **kwargs) -> subprocess.CompletedProcess:
    """Run a PostgreSQL tool as the ``postgres`` account (initdb refuses root)."""
    return subprocess.run(
        ["runuser", "-u", PG_USER, "--", *args],
        capture_output=True,
        text=True,
        check=True,
        timeout=kwargs.pop("timeout", 60),
        **kwargs,
    )


class PostgresCluster:
    """One cluster under ``folder`` on ``127.0.0.1:port``; ``start``/``stop`` or ``with``."""

    def __init__(self, folder: Path, port: int):
        if not (PG_BIN / "initdb").exists():
            raise FileNotFoundError(
                f"{PG_BIN / 'initdb'} not found: install Debian's postgresql package "
                "(apt-get install -y postgresql)"
            )
        self.folder = Path(folder)
        self.port = int(port)
        self.data = self.folder / "data"
        self.socket_dir = self.folder / "socket"

    # ------------------------------------------------------------ life cycle
    def start(self) -> PostgresCluster:
        self.folder.mkdir(parents=True, exist_ok=True)
        shutil.chown(self.folder, PG_USER, PG_USER)
        self.folder.chmod(0o700)
        if not (self.data / "PG_VERSION").exists():
            password = self.folder / "superuser-password"
            password.write_text(secrets.token_urlsafe(24) + "\n")
            shutil.chown(password, PG_USER, PG_USER)
            password.chmod(0o600)
            _as_postgres(
                [
                    str(PG_BIN / "initdb"),
                    "-D",
                    str(self.data),
                    "--auth-local=peer",
                    "--auth-host=scram-sha-256",
                    f"--pwfile={password}",
                    "--encoding=UTF8",
                    "--no-instructions",
                ]
            )
        self.socket_dir.mkdir(exist_ok=True)
        shutil.chown(self.socket_dir, PG_USER, PG_USER)
        self.socket_dir.chmod(0o700)
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} "
            f"-c unix_socket_directories={self.socket_dir} -c fsync=off"
            if self._throwaway
            else f"-c listen_addresses=127.0.0.1 -p {self.port} "
            f"-c unix_socket_directories={self.socket_dir}"
        )
        _as_postgres(
            [
                str(PG_BIN / "pg_ctl"),
                "-D",
                str(self.data),
                "-l",
                str(self.folder / "postgres.log"),
                "-o",
                options,
                "-w",
                "-t",
                "30",
                "start",
            ]
        )
        return self

    _throwaway = False

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            _as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"])

    def __enter__(self) -> PostgresCluster:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # ------------------------------------------------------------ roles and databases
    def psql(self, sql: str) -> str:
        """Run SQL as the superuser through the private socket."""
        return _as_postgres(
            [
                str(PG_BIN / "psql"),
                "-h",
                str(self.socket_dir),
                "-p",
                str(self.port),
                "-d",
                "postgres",
                "-v",
                "ON_ERROR_STOP=1",
                "-Atc",
                sql,
            ]
        ).stdout

    def create_database(self, name: str, role: str | None = None) -> str:
        """A database owned by a new login role with a random password; returns its URL.

        ``name`` and ``role`` must be plain identifiers (letters, digits, underscores).
        """
        role = role or name
        for what, value in (("name", name), ("role", role)):
            if not value.replace("_", "").isalnum():
                raise ValueError(f"{what} must be letters, digits and '_', got {value!r}")
        password = secrets.token_urlsafe(24)
        self.psql(f"CREATE ROLE {role} LOGIN PASSWORD '{password}'")
        self.psql(f"CREATE DATABASE {name} OWNER {role}")
        return f"postgresql+psycopg://{role}:{password}@127.0.0.1:{self.port}/{name}"


class ThrowawayCluster(PostgresCluster):
    """A cluster for tests: no fsync (nothing to keep), removed by :meth:`stop`."""

    _throwaway = True

    def stop(self) -> None:
        try:
            super().stop()
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)
