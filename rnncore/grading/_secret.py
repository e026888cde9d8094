"""The instructor's grading secret: what hidden cases are drawn from and grades are sealed with.

The secret is a file outside the repository that students never receive:
``$RNNBOOK_GRADING_SECRET_FILE`` when set (several graders may share one
file), else ``~/.config/rnnbook/grading-secret``. ``make grade`` creates a
random one (mode 0600) on first use and says so.

Hidden cases are drawn from ``HMAC(secret, check name)``, so they cannot be
reproduced from the package a student installs; visible cases stay fixed so a
student's runs are reproducible. Without a secret (a student's own machine),
``hidden=True`` draws fresh cases on every call: practice, never the graded
ones.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
from pathlib import Path

__all__ = ["secret_path", "load_secret", "ensure_secret", "derive_seed", "SECRET_ENV"]

SECRET_ENV = "RNNBOOK_GRADING_SECRET_FILE"


def secret_path() -> Path:
    """Where the secret is (whether or not it exists yet)."""
    chosen = os.environ.get(SECRET_ENV)
    if chosen:
        return Path(chosen).expanduser()
    return Path.home() / ".config" / "rnnbook" / "grading-secret"


def load_secret() -> bytes | None:
    """The secret's bytes, or None when there is none.

    Raises
    ------
    PermissionError
        When the file can be read by other users (it must be mode 0600 or stricter).
    """
    path = secret_path()
    try:
        info = path.stat()
    except FileNotFoundError:
        return None
    if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise PermissionError(
            f"the grading secret {path} can be read by other users; run `chmod 600 {path}`"
        )
    data = path.read_bytes().strip()
    if len(data) < 16:
        raise ValueError(f"the grading secret {path} is too short (want 32 random bytes or more)")
    return data


def ensure_secret() -> tuple[bytes, bool]:
    """The secret, created at :func:`secret_path` if missing; ``(secret, created)``."""
    existing = load_secret()
    if existing is not None:
        return existing, False
    path = secret_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_hex(32) + "\n")
    return load_secret(), True


def derive_seed(label: str, secret: bytes | None = None) -> int | None:
    """A 64-bit seed from ``HMAC-SHA256(secret, label)``, or None without a secret."""
    secret = load_secret() if secret is None else secret
    if secret is None:
        return None
    digest = hmac.new(secret, b"rnnbook hidden cases: " + label.encode(), hashlib.sha256)
    return int.from_bytes(digest.digest()[:8], "big")


def mac(message: bytes, secret: bytes) -> str:
    """``HMAC-SHA256(secret, message)`` in hex (the seal of a graded notebook)."""
    return hmac.new(secret, b"rnnbook seal: " + message, hashlib.sha256).hexdigest()
