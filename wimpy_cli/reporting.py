"""Every failure of every command as one clear paragraph on stderr and a documented exit
code, never a traceback unless --debug asks for it:

- a WimpyError: its message, hint and code;
- what the user's environment can get wrong (an AWS profile that does not exist, no
  credentials or region, an endpoint that does not answer, an AWS call refused, a file
  that cannot be read or written, Docker not running): what failed and how to fix it,
  exit 1;
- Ctrl-C, SIGTERM, SIGHUP: one line, exit 128 + the signal's number;
- anything else is a bug in Wimpy: a short 'internal error' line that says how to get the
  traceback (--debug), exit 1.

The wrapper also records the invocation (config path, environment, target) so that
follow-up hints (`Next: ...`) repeat the same -c and --local; see
wimpy_cli/commands/common.py next_command."""

from __future__ import annotations

import errno
import functools
import os
import sys
from contextvars import ContextVar
from typing import Any, Callable, Mapping

import typer
import typer.exceptions

from wimpy_cli import output
from wimpy_cli.errors import ExitCode, WimpyError
from wimpy_cli.interrupts import Interrupted, graceful_signals

MAX_SHOWN = 300  # characters of a foreign error message repeated in ours

_state = {"debug": False}
_invocation: ContextVar[Mapping[str, Any]] = ContextVar("wimpy_invocation", default={})


def set_debug(on: bool) -> None:
    _state["debug"] = on


def invocation() -> Mapping[str, Any]:
    """The running command's parameters (config, env, local, ...) as it was given them;
    empty outside a command."""
    return _invocation.get()


def reports_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        token = _invocation.set(dict(kwargs))
        try:
            with graceful_signals():
                return command(*args, **kwargs)
        except (typer.Exit, typer.Abort, typer.exceptions.TyperException):
            raise  # typer's own exits and usage errors: typer reports them
        except KeyboardInterrupt as interrupt:
            if _state["debug"]:
                raise
            # A command holding the release record has already said where traffic is and
            # what to run next (wimpy_cli/release/session.py).
            how = f"by {interrupt}" if isinstance(interrupt, Interrupted) else "(Ctrl-C)"
            output.error(f"interrupted {how}; what had finished is kept and recorded.",
                         "Run the same command again: every step converges.")
            code = interrupt.code if isinstance(interrupt, Interrupted) else int(ExitCode.INTERRUPTED)
            raise typer.Exit(code) from None
        except Exception as error:  # noqa: BLE001 - the one place every failure is reported
            if _state["debug"]:
                raise
            if isinstance(error, OSError) and error.errno == errno.EPIPE:
                raise  # stdout closed by a pager or `| head`: typer exits quietly
            message, hint, code = describe(error)
            output.error(message, hint)
            raise typer.Exit(int(code)) from None
        finally:
            _invocation.reset(token)
    return run


def describe(error: BaseException) -> tuple[str, str | None, ExitCode]:
    """(message, hint, exit code) for any exception a command let through."""
    if isinstance(error, WimpyError):
        return str(error), error.hint, error.code
    described = _aws(error) or _docker(error) or _os(error)
    if described is not None:
        return described
    return (f"internal error: {type(error).__name__}: {bounded(str(error))}",
            "This is a bug in Wimpy, not in your input. Run the same command with --debug "
            "before it (`wimpy --debug <command> ...`) to see the traceback, and report it.",
            ExitCode.FAILED)


def bounded(text: str, limit: int = MAX_SHOWN) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _local() -> bool:
    from wimpy_cli.targets import wants_local

    return wants_local(bool(invocation().get("local")))


def _aws(error: BaseException) -> tuple[str, str | None, ExitCode] | None:
    if "botocore" not in sys.modules:
        return None  # nothing of AWS's was loaded, so this is not an AWS error
    import botocore.exceptions as aws

    from wimpy_cli.aws import NO_CREDENTIALS_HINT

    if isinstance(error, aws.ProfileNotFound):
        profile = error.kwargs.get("profile") or os.environ.get("AWS_PROFILE", "")
        where = os.environ.get("AWS_CONFIG_FILE") or "~/.aws/config"
        return (f"the AWS profile '{bounded(profile, 80)}' (AWS_PROFILE) does not exist in "
                f"{where} or the credentials file; nothing was changed.",
                "List the profiles with `aws configure list-profiles` and set AWS_PROFILE to "
                "one of them (or unset it), or add --local to use Wimpy's embedded AWS "
                "emulator instead.", ExitCode.FAILED)
    if isinstance(error, (aws.NoCredentialsError, aws.PartialCredentialsError)):
        return "no usable AWS credentials were found.", NO_CREDENTIALS_HINT, ExitCode.FAILED
    if isinstance(error, aws.NoRegionError):
        return ("no AWS region was given.", "Set account.region in wimpy.yml or AWS_REGION.",
                ExitCode.FAILED)
    if isinstance(error, (aws.ConnectionError, aws.HTTPClientError)):
        return (f"could not reach AWS: {bounded(str(error))}", _unreachable_hint(),
                ExitCode.FAILED)
    if isinstance(error, aws.ClientError):
        details = error.response.get("Error", {})
        code = details.get("Code", "Unknown")
        said = bounded(details.get("Message", "") or str(error))
        hint = None
        if code in {"ExpiredToken", "ExpiredTokenException", "InvalidClientTokenId",
                    "SignatureDoesNotMatch", "UnrecognizedClientException"}:
            hint = NO_CREDENTIALS_HINT
        elif code in {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"}:
            hint = ("The credentials in use are not allowed this call: use a profile (or "
                    "role) with the permissions Wimpy needs.")
        elif code in {"Throttling", "ThrottlingException", "RequestLimitExceeded"}:
            hint = "AWS is throttling this account's calls: wait a minute and run it again."
        return (f"AWS refused {error.operation_name} ({code}): {said}", hint, ExitCode.FAILED)
    if isinstance(error, aws.BotoCoreError):
        return (f"the AWS call failed: {bounded(str(error))}", NO_CREDENTIALS_HINT,
                ExitCode.FAILED)
    return None


def _unreachable_hint() -> str:
    if _local():
        return ("The local AWS emulator stopped answering. Check it with `wimpy local status`, "
                "start it again with `wimpy local start`, and rerun the command (a deploy "
                "converges from where it stopped).")
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    if endpoint:
        return (f"AWS_ENDPOINT_URL is {bounded(endpoint, 120)}: is that service running? "
                "Unset it to use AWS itself, or add --local for Wimpy's embedded emulator.")
    return ("Check the network connection (and any proxy, HTTPS_PROXY), then run the command "
            "again; a deploy converges from where it stopped.")


def _docker(error: BaseException) -> tuple[str, str | None, ExitCode] | None:
    if "docker" not in sys.modules:
        return None
    import docker.errors

    if isinstance(error, docker.errors.DockerException):
        return (f"Docker failed: {bounded(str(error))}",
                "Is the Docker engine running and this user allowed to use it (`docker info`)?",
                ExitCode.FAILED)
    return None


def _os(error: BaseException) -> tuple[str, str | None, ExitCode] | None:
    if not isinstance(error, OSError):
        return None
    reason = error.strerror or bounded(str(error))
    if error.filename is not None:
        names = [error.filename] + ([error.filename2] if error.filename2 is not None else [])
        shown = " and ".join(repr(bounded(_path_text(name), 200)) for name in names)
        return (f"cannot use {shown}: {reason}.",
                "Check that the path exists and that this user may read (or write) it.",
                ExitCode.FAILED)
    return f"a system call failed: {reason}.", None, ExitCode.FAILED


def _path_text(name: Any) -> str:
    return os.fsdecode(name) if isinstance(name, (str, bytes, os.PathLike)) else str(name)
