"""A grading process shares one database engine per gradebook (``rnncore.grading._gradebook``).

On nbgrader's SQLite file and on a real PostgreSQL database (``tests/_postgres.py``): what
the gradebook stores is unchanged, a forked worker never uses its parent's engine, and a
SQLite file replaced meanwhile is opened afresh, its schema made again.
"""

import json
import os
import sys

import pytest
from _postgres import new_database, postgres_cluster  # noqa: F401 (fixture)
from nbgrader.api import Gradebook, MissingEntry

from rnncore.grading import _gradebook


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'gradebook.db'}"
    return new_database(request.getfixturevalue("postgres_cluster"))


@pytest.fixture(autouse=True)
def shared_engines(monkeypatch):
    # a new gradebook gets its schema version from alembic, run from this interpreter's bin/
    bin_dir = os.path.dirname(sys.executable)
    monkeypatch.setenv("PATH", bin_dir + os.pathsep + os.environ.get("PATH", ""))
    assert _gradebook.install()
    assert _gradebook.installed()


def test_gradebooks_of_one_database_share_an_engine_and_see_each_others_writes(db_url):
    with Gradebook(db_url, course_id="rnn") as gb:
        engine = gb.engine
        gb.add_student("ada", first_name="Ada")
    with Gradebook(db_url, course_id="rnn") as gb, Gradebook(db_url, course_id="rnn") as other:
        assert gb.engine is engine and other.engine is engine
        assert gb.db is not other.db  # a session (and connection) of its own, as before
        assert gb.find_student("ada").first_name == "Ada"
        other.update_or_create_student("ada", first_name="Augusta")
        other.db.commit()
        gb.db.expire_all()
        assert gb.find_student("ada").first_name == "Augusta"


def test_a_forked_worker_opens_its_own_engine(db_url):
    with Gradebook(db_url, course_id="rnn") as gb:
        parent_engine = id(gb.engine)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report, then leave without running pytest's exit handlers
        try:
            with Gradebook(db_url, course_id="rnn") as gb:
                gb.add_student("grace")
                answer = {"engine": id(gb.engine), "students": len(gb.students)}
        except Exception as err:  # noqa: BLE001 - reported to the parent
            answer = {"error": repr(err)}
        os.write(write, json.dumps(answer).encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        answer = json.loads(pipe.read())
    os.waitpid(pid, 0)
    assert "error" not in answer, answer
    assert answer["engine"] != parent_engine
    with Gradebook(db_url, course_id="rnn") as gb:  # and the parent sees the child's write
        assert gb.find_student("grace").id == "grace"


def test_a_replaced_sqlite_gradebook_is_opened_afresh(tmp_path):
    path = tmp_path / "gradebook.db"
    url = f"sqlite:///{path}"
    with Gradebook(url, course_id="rnn") as gb:
        gb.add_student("ada")
    path.unlink()
    # a new, empty file at the same path: its schema is made again, the old rows are gone
    with Gradebook(url, course_id="rnn") as gb:
        assert gb.students == []
        with pytest.raises(MissingEntry):
            gb.find_student("ada")
        gb.add_student("grace")
    with Gradebook(url, course_id="rnn") as gb:
        assert [s.id for s in gb.students] == ["grace"]
