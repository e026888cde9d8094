"""Settings every test shares."""

import os
import stat
import tempfile
from pathlib import Path

import pytest

# Hidden cases and seals come from the instructor's grading secret. The tests use one of their
# own, never a real one from the machine's home, so that they are reproducible and touch nothing.
_SECRET = Path(tempfile.mkdtemp(prefix="rnnbook-test-secret-")) / "grading-secret"
_SECRET.write_text("test-secret-0123456789abcdef0123456789abcdef\n")
_SECRET.chmod(stat.S_IRUSR | stat.S_IWUSR)
os.environ["RNNBOOK_GRADING_SECRET_FILE"] = str(_SECRET)


@pytest.fixture
def grading_secret() -> Path:
    """The test session's grading secret file."""
    return _SECRET
