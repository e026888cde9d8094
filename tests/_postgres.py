"""A throwaway PostgreSQL server for the tests that touch the gradebook.

``gradebook_url`` is parametrized over ``sqlite`` (nbgrader's file, the default) and
``postgres``: a cluster of Debian's PostgreSQL 15 started once per test session under a temp
folder, on 127.0.0.1 and a free port, and stopped (and removed) at the end; every test gets
a database of its own. Import both fixtures into a test module to use them.
"""

from __future__ import annotations

import itertools
import sys
import tempfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "deploy" / "jupyterhub"))
from pgcluster import ThrowawayCluster, free_port  # noqa: E402

_numbers = itertools.count()


@pytest.fixture(scope="session")
def postgres_cluster():
    """One PostgreSQL cluster for the session (about 1 s to start)."""
    # under /tmp itself: pytest's tmp folders are root-only and postgres must reach its own
    cluster = ThrowawayCluster(Path(tempfile.mkdtemp(prefix="rnnt-pg-")), port=free_port())
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


def new_database(cluster: ThrowawayCluster) -> str:
    """The URL of a fresh, empty database (and its own role) in ``cluster``."""
    return cluster.create_database(f"rnnt_gradebook_{next(_numbers)}")


@pytest.fixture(params=["sqlite", "postgres"])
def gradebook_url(request):
    """``None`` for the default SQLite gradebook, else the URL of a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return None
    return new_database(request.getfixturevalue("postgres_cluster"))
