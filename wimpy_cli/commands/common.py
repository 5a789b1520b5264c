"""Options and steps that several commands share: the config option and its checks, numbers
and image references given as flags, and the environment an offline synthesis runs in."""

from __future__ import annotations

import math
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping

import typer

from wimpy_cli.errors import ExitCode, WimpyError
# The follow-up command line for `Next:` hints lives in wimpy_cli.hints (modules below the
# commands print hints too); the commands take it from here.
from wimpy_cli.hints import DEFAULT_CONFIG, TARGET_COMMANDS, next_command  # noqa: F401

if TYPE_CHECKING:  # the loader (YAML, the reference table) only when a command reads wimpy.yml
    from wimpy_domain.config import WimpyConfig

CONFIG_FLAG = "-c/--config"
SHOWN_CHARACTERS = 60  # of a bad value repeated in a message
PATH_CHARACTERS = 240  # of a bad path (paths are longer)


def shown(value: Any, limit: int = SHOWN_CHARACTERS) -> str:
    """A user's value quoted for a message: repr (control characters and newlines visible,
    never executed by a terminal), cut to `limit` characters."""
    text = os.fspath(value) if isinstance(value, os.PathLike) else str(value)
    if len(text) > limit:
        return repr(text[:limit]) + f"... ({len(text)} characters)"
    return repr(text)


class FlagError(typer.BadParameter):
    """A flag value refused while the command line is parsed (exit 2); the message names
    the flag, the value and what is accepted, and is shown as written."""

    def format_message(self) -> str:
        return self.message


def path_parser(flag: str, *, what: str, example: str) -> Callable[[Any], Path]:
    """A typer parser for a path flag that refuses an empty value by name (typer would
    turn '' into '.', the current folder)."""
    def parse(value: Any) -> Path:
        if isinstance(value, Path):
            return value
        text = str(value)
        if not text.strip() or "\x00" in text:
            raise FlagError(f"{flag} {shown(text)}: the path is empty or not a path; give "
                            f"{what}, e.g. {flag.split('/')[-1]} {example}")
        return Path(text)
    return parse


def find_config(start: Path) -> Path | None:
    """wimpy.yml in `start` or the nearest folder above it, as git finds .git; the search
    ends at a repository's root (a folder holding .git), so it never wanders into another
    project above that one."""
    for folder in (start, *start.parents):
        candidate = folder / DEFAULT_CONFIG.name
        if candidate.is_file():
            return candidate
        if (folder / ".git").exists():
            return None
    return None


def _config_parser() -> Callable[[Any], Path]:
    """-c/--config: as given; left at its default (wimpy.yml) in a folder without one,
    the application's wimpy.yml from a folder above (run from any subfolder)."""
    parse = path_parser(CONFIG_FLAG, what="the path of the application's wimpy.yml",
                        example="examples/hello/wimpy.yml")

    def parse_config(value: Any) -> Path:
        path = parse(value)
        if path == DEFAULT_CONFIG and not path.exists():
            found = find_config(Path.cwd())
            if found is not None:
                return Path(os.path.relpath(found))
        return path
    return parse_config


ConfigOption = typer.Option(
    DEFAULT_CONFIG, "--config", "-c", envvar="WIMPY_CONFIG",
    parser=_config_parser(),
    metavar="PATH", help="Path of the application's wimpy.yml.", show_default=True,
)
JsonOption = typer.Option(False, "--json", help="Print one JSON document instead of text.")
LocalOption = typer.Option(False, "--local", help="Run against Wimpy's embedded AWS emulator "
                           "instead of your account (also WIMPY_TARGET=local).")
EnvOption = typer.Option(..., "--env", "-e", help="Environment (one of wimpy.yml's).")


def check_readable_file(path: Path, flag: str, *, what: str, example: str,
                        missing_hint: str | None = None) -> None:
    """WimpyError (exit 2) naming `flag` and the path unless `path` is a file this user can
    read: not empty, not a folder, present, readable."""
    given = shown(path, PATH_CHARACTERS)
    if not str(path).strip() or "\x00" in str(path):
        raise WimpyError(f"{flag} {given}: the path is empty; give {what}, e.g. {example}",
                         code=ExitCode.USAGE)
    try:
        if path.is_dir():
            raise WimpyError(f"{flag} {given}: is a folder, not a file; give {what}, "
                             f"e.g. {example}", code=ExitCode.USAGE)
        if not path.exists():
            where = "" if path.is_absolute() else f" (in {shown(Path.cwd(), PATH_CHARACTERS)})"
            raise WimpyError(f"{flag} {given}: no such file{where}; give {what}, e.g. {example}",
                             code=ExitCode.USAGE, hint=missing_hint)
        with open(path, "rb"):
            pass
    except OSError as error:
        raise WimpyError(f"{flag} {given}: cannot be read ({error.strerror or error}); "
                         f"give {what} this user may read, e.g. {example}",
                         code=ExitCode.USAGE) from None


def check_config_path(path: Path) -> None:
    flag = CONFIG_FLAG
    if os.environ.get("WIMPY_CONFIG") and os.environ["WIMPY_CONFIG"] == str(path):
        flag = f"{CONFIG_FLAG} (from WIMPY_CONFIG)"
    check_readable_file(
        path, flag, what="the path of the application's wimpy.yml",
        example="-c examples/hello/wimpy.yml",
        missing_hint=("Write one with `wimpy init`, or pass -c with the path of the "
                      "application's wimpy.yml." if path == DEFAULT_CONFIG else None))


def load(path: Path, environments: Iterable[str] | None = None) -> WimpyConfig:
    """The validated config, with any --env checked against it; WimpyError otherwise:
    a config path that cannot be read or an unknown --env is a bad flag (exit 2), a file
    with problems an invalid wimpy.yml (exit 3)."""
    from wimpy_domain.config import ConfigError, load_config

    check_config_path(path)
    try:
        config = load_config(path)
    except ConfigError as error:
        raise WimpyError(str(error), code=ExitCode.INVALID_CONFIG,
                         hint="Nothing was deployed. Fix the lines above, then check the file "
                              f"again: {next_command('validate', config=path, local=False)}"
                         ) from None
    check_environments(config, environments)
    return config


def check_environments(config: WimpyConfig, environments: Iterable[str] | None) -> None:
    from wimpy_domain.config import UnknownEnvironment

    for name in environments or []:
        try:
            config.environment(name)
        except UnknownEnvironment as error:
            raise WimpyError(_bounded_environment_error(str(error), name),
                             code=ExitCode.USAGE) from None


def _bounded_environment_error(message: str, name: str) -> str:
    if len(name) <= SHOWN_CHARACTERS and name.isprintable():
        return message
    return message.replace(repr(name), shown(name)).replace(f"'{name}'", shown(name))


# Numbers given as flags: parsed here, so every numeric option refuses a bad value the same
# way (flag, value, accepted range), before the command runs.

def number_parser(flag: str, *, minimum: float | None = 0, maximum: float | None = None,
                  integer: bool = False, unit: str = "", example: float | int | None = None
                  ) -> Callable[[Any], Any]:
    kind = "whole number" if integer else "number"
    of = f" of {unit}" if unit else ""
    if minimum is not None and maximum is not None:
        span = f"from {minimum:g} to {maximum:g}"
    elif minimum is not None:
        span = f"{minimum:g} or more"
    elif maximum is not None:
        span = f"{maximum:g} or less"
    else:
        span = "any value"
    accepted = f"give a {kind}{of}, {span}" + (f", e.g. {flag} {example:g}" if example is not None else "")

    def parse(value: Any) -> Any:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            number = value
        else:
            text = str(value).strip()
            try:
                number = int(text) if integer else float(text)
            except ValueError:
                raise FlagError(f"{flag} {shown(value)}: not a {kind}; {accepted}") from None
        if isinstance(number, float) and not math.isfinite(number):
            raise FlagError(f"{flag} {shown(value)}: not a finite number; {accepted}")
        if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
            raise FlagError(f"{flag} {str(value).strip()}: out of range; {accepted}")
        return number
    return parse


def NumberOption(default: Any, *names: str, help: str, minimum: float | None = 0,  # noqa: N802
                 maximum: float | None = None, integer: bool = False, unit: str = "",
                 example: float | int | None = None) -> Any:
    """A typer option for a number, refused with one consistent message when it is not a
    number or out of range."""
    flag = next(name for name in names if name.startswith("--"))
    if example is None and isinstance(default, (int, float)):
        example = default
    return typer.Option(default, *names, help=help,
                        metavar="INTEGER" if integer else ("SECONDS" if unit == "seconds" else "NUMBER"),
                        parser=number_parser(flag, minimum=minimum, maximum=maximum,
                                             integer=integer, unit=unit, example=example))


# Image references (`--image`): the distribution/reference grammar Docker uses, with a tag
# or a digest required, ASCII only, matched whole.

_DOMAIN = re.compile(r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
                     r"(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*(?::[0-9]{1,5})?",
                     re.ASCII)
_PATH_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*", re.ASCII)
_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}", re.ASCII)
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}", re.ASCII)
IMAGE_EXAMPLE = "111111111111.dkr.ecr.eu-west-1.amazonaws.com/wimpy/hello:v1.4.2"
MAX_IMAGE_NAME = 255


def image_reference_problem(reference: str) -> str | None:
    """What is wrong with `reference` as registry/repository:tag or ...@sha256:digest, or
    None when it is one."""
    if not reference:
        return "is empty"
    if not reference.isascii() or not reference.isprintable() or any(c.isspace() for c in reference):
        return "has whitespace, control or non-ASCII characters"
    rest, _, digest = reference.partition("@")
    if "@" in reference and not _DIGEST.fullmatch(digest):
        return "has a digest that is not sha256: and 64 lowercase hex digits"
    name, tag = rest, ""
    slash, colon = rest.rfind("/"), rest.rfind(":")
    if colon > slash:
        name, tag = rest[:colon], rest[colon + 1:]
        if not _TAG.fullmatch(tag):
            return (f"has the tag {tag[:40]!r}, which is not a Docker tag (letters, digits, _ . -, "
                    "not starting with . or -, at most 128)")
    if not tag and not digest:
        return "has neither a tag nor a digest (Wimpy deploys an exact image, never 'latest' by default)"
    if len(name) > MAX_IMAGE_NAME:
        return f"has a name longer than {MAX_IMAGE_NAME} characters"
    parts = name.split("/")
    if len(parts) > 1 and ("." in parts[0] or ":" in parts[0] or parts[0] == "localhost"):
        if not _DOMAIN.fullmatch(parts[0]):
            return f"has the registry {parts[0][:60]!r}, which is not a host name[:port]"
        parts = parts[1:]
    for part in parts:
        if not _PATH_COMPONENT.fullmatch(part):
            return (f"has the repository part {part[:60]!r}: use lowercase letters and digits, "
                    "separated by . _ __ or -")
    return None


def check_image_reference(reference: str, flag: str = "--image") -> str:
    problem = image_reference_problem(reference)
    if problem is not None:
        raise WimpyError(f"{flag} {shown(reference)} {problem}; give registry/repository:tag or "
                         f"registry/repository@sha256:<64 hex digits>, e.g. {flag} {IMAGE_EXAMPLE}",
                         code=ExitCode.USAGE)
    return reference


# Synthesis is offline: the CDK CLI, given any credentials, asks STS for the default
# account (and may read the instance metadata service). Synthesis and validation run it
# with every credential source removed, so they make no AWS call whatever is set.

CREDENTIAL_VARIABLES = (
    "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN",
    "AWS_ROLE_SESSION_NAME", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "AWS_EC2_METADATA_SERVICE_ENDPOINT",
    "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "AWS_CA_BUNDLE",
)


def offline_cdk_environment(environ: Mapping[str, str] | None = None) -> dict[str, str | None]:
    """`extra_env` for wimpy_cli.cdk.run: no credentials, no profile files, no metadata service,
    no endpoint override, no CLI telemetry (None removes a variable)."""
    environ = os.environ if environ is None else environ
    env: dict[str, str | None] = {name: None for name in CREDENTIAL_VARIABLES}
    env.update({name: None for name in environ if name.startswith("AWS_ENDPOINT_URL")})
    env["AWS_ENDPOINT_URL"] = None
    env.update({"AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
                "AWS_EC2_METADATA_DISABLED": "true", "CDK_DISABLE_CLI_TELEMETRY": "true",
                "CDK_DISABLE_VERSION_CHECK": "1"})
    return env


OFFLINE_CDK_FLAGS = ("--no-lookups", "--no-notices")

