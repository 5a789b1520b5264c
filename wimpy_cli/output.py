"""Where output goes: results on stdout (one JSON document with --json), diagnostics and
progress on stderr, so `wimpy ... --json | jq` always gets clean JSON."""

from __future__ import annotations

import sys
from typing import Any


def result(data: dict[str, Any], human: str, *, as_json: bool) -> None:
    if as_json:
        import json  # here: most commands never print JSON, and --help starts faster

        sys.stdout.write(json.dumps(data, indent=2, sort_keys=True) + "\n")
    else:
        sys.stdout.write(human.rstrip("\n") + "\n")


def info(message: str) -> None:
    sys.stderr.write(message.rstrip("\n") + "\n")


def error(message: str, hint: str | None = None) -> None:
    sys.stderr.write(f"Error: {message.rstrip()}\n")
    if hint:
        sys.stderr.write(f"{hint.rstrip()}\n")
