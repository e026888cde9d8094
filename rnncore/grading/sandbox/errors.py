"""What a call into the sandbox can end with, besides a value.

These are raised in the grader's process by :mod:`.session` and read by the
checks' harness (``rnncore.grading._harness.call``), which turns each into the
message a student sees.
"""

from __future__ import annotations

__all__ = ["SandboxLimit", "SandboxUnavailable", "StudentRaised"]


class SandboxLimit(Exception):
    """The student's code broke a limit or ended its process: the message says which.

    Not an ``AssertionError`` subclass and not caught as the student's own
    exception: it ends the check at once with its message ("ran longer than
    30 s", "used more than 2 GB of memory", "printed more than 1 MB").
    """


class SandboxUnavailable(RuntimeError):
    """bubblewrap is missing or does not work here, and unsafe grading was not asked for."""


class StudentRaised(Exception):
    """The student's function raised inside the sandbox.

    Attributes
    ----------
    type_name : str
        The name of the exception's class in the student's process.
    message : str
        ``str()`` of the exception there.
    where : tuple or None
        ``(line number, source line)`` of the student's last frame.
    explain : str or None
        A plain explanation (a matmul shape error with its operands named).
    """

    def __init__(self, type_name: str, message: str, where=None, explain=None):
        super().__init__(message)
        self.type_name, self.message, self.where, self.explain = type_name, message, where, explain
