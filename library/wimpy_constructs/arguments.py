"""Checks of construct arguments that CloudFormation would otherwise refuse only at deploy
time, half-way through a stack: each names the argument, the value and what is accepted.
Values that are tokens (known only at deploy time) are left to CloudFormation."""

from __future__ import annotations

import re
from typing import Any

import aws_cdk as cdk


def check_port(argument: str, value: Any, *, otherwise: str = "") -> None:
    """`otherwise`: what else is accepted, said after the range ("(or None for a worker)")."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        also = f" {otherwise}" if otherwise else ""
        raise ValueError(f"{argument} must be a port from 1 to 65535{also}, got {value!r}")


def check_text(argument: str, value: Any, *, pattern: str, accepted: str) -> None:
    """`value` must match `pattern` whole (ASCII); `accepted` says what that means."""
    if isinstance(value, str) and cdk.Token.is_unresolved(value):
        return
    if not isinstance(value, str) or not re.fullmatch(pattern, value, re.ASCII):
        raise ValueError(f"{argument} must be {accepted}, got {value!r}")
