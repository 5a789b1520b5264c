"""Follow-up commands a message suggests (`Next: ...`, hints in errors), runnable exactly as
printed: they repeat the invocation's -c and --local (wimpy_cli/reporting.py records them), each
word shell-quoted. Used by the commands and by the modules they call alike."""

from __future__ import annotations

import shlex
from pathlib import Path

DEFAULT_CONFIG = Path("wimpy.yml")

# The commands that take --local (tests/test_next_hints.py checks this against the app).
TARGET_COMMANDS = frozenset({"diff", "baseline", "deploy", "status", "releases", "promote", "abort",
                             "rollback", "destroy", "logs", "unlock", "open", "exec"})


def next_command(command: str, *arguments: str, env: str | None = None,
                 config: Path | None = None, local: bool | None = None) -> str:
    """`wimpy <command> [--env ENV] [-c PATH] [ARGUMENTS] [--local]`, each word shell-quoted.

    `config` and `local` default to the running command's own (see wimpy_cli/reporting.py): -c
    is repeated whenever it was not the default wimpy.yml, --local whenever the command
    ran against the emulator (the flag or WIMPY_TARGET=local) and `command` takes it."""
    from wimpy_cli import reporting, targets

    given = reporting.invocation()
    if config is None:
        config = given.get("config")
    if local is None:
        local = targets.wants_local(bool(given.get("local")))
    words = ["wimpy", *command.split()]
    if env is not None:
        words += ["--env", env]
    if config is not None and Path(config) != DEFAULT_CONFIG:
        words += ["-c", str(config)]
    words += list(arguments)
    if local and words[1] in TARGET_COMMANDS:
        words.append("--local")
    return shlex.join(words)
