"""House rules that hold for the whole tree: lint, format, no oversized files, no torch."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _ruff(*args):
    return subprocess.run(
        [sys.executable, "-m", "ruff", *args, "--exclude", ".venv,node_modules,_build", "."],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )


def _tracked_files():
    out = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.decode()
    return [ROOT / p for p in out.split("\0") if p]


def test_ruff_lint_passes_on_python_and_notebooks():
    result = _ruff("check", "--output-format", "concise")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_is_applied():
    result = _ruff("format", "--check")
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_tracked_file_is_over_two_megabytes():
    big = [str(p.relative_to(ROOT)) for p in _tracked_files() if p.stat().st_size > 2 * 2**20]
    assert big == []


def test_torch_is_never_a_runtime_dependency():
    # torch is a comparison tool for benchmarks/, installed in a separate environment
    for name in ("requirements.txt", "pyproject.toml"):
        text = (ROOT / name).read_text().lower()
        assert "torch" not in text.replace("torch_parity", ""), name
    for path in (ROOT / "rnncore").rglob("*.py"):
        assert "import torch" not in path.read_text(), path
