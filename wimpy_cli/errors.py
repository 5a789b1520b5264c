"""Exit codes (documented in README.md) and the one error type commands raise."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    FAILED = 1  # a step failed (synthesis, a tool, an AWS call), or an internal error
    USAGE = 2  # bad flags or arguments (typer/click's own code)
    INVALID_CONFIG = 3  # wimpy.yml has problems; nothing was run
    ROLLED_BACK = 4  # a deploy failed and was rolled back
    LOCKED = 5  # another deploy of the same app and environment is running
    INTERRUPTED = 130  # Ctrl-C (128 + SIGINT, what shells report)


class WimpyError(Exception):
    """A failure to report as one clear paragraph (no traceback unless --debug)."""

    def __init__(self, message: str, *, code: ExitCode = ExitCode.FAILED, hint: str | None = None):
        super().__init__(message)
        self.code = code
        self.hint = hint
