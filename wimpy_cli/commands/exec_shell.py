"""wimpy exec: a shell or a command in the application's container on one of its instances
(as `kamal app exec`, `copilot svc exec` and `heroku run` give). On AWS through Session
Manager, which the instance role already allows and which needs no SSH port; on the local
target into the instance's container on this Docker engine."""

from __future__ import annotations

import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any, Optional

import typer

from wimpy_cli.commands.common import ConfigOption, EnvOption, LocalOption, load, next_command
from wimpy_cli.errors import ExitCode, WimpyError
from wimpy_cli.phases import Phases

SESSION_MANAGER_PLUGIN = "session-manager-plugin"
PLUGIN_DOCS = ("https://docs.aws.amazon.com/systems-manager/latest/userguide/"
               "session-manager-working-with-install-plugin.html")


def exec_(config: Path = ConfigOption, env: str = EnvOption, local: bool = LocalOption,
          instance: Optional[str] = typer.Option(None, "--instance", metavar="ID",
                                                 help="This instance (default: the first in service "
                                                      "of the release serving the most traffic)."),
          host: bool = typer.Option(False, "--host", help="A shell on the instance itself, not in "
                                                          "the container (AWS only)."),
          command: Optional[list[str]] = typer.Argument(
              None, metavar="[-- COMMAND...]", help="What to run (default: sh). Put -- before it.")) -> None:
    """Run a command (default: a shell) in the application's container on one instance.

    On AWS it opens a Session Manager session (the AWS CLI and its session-manager-plugin
    must be installed); on the local target it runs `docker exec` into the container.
    Example: wimpy exec --env staging -- bin/rails console
    """
    from wimpy_cli import targets

    loaded = load(config, [env])
    wants_local = targets.wants_local(local)
    words = list(command or ["sh"])
    if host and wants_local:
        raise WimpyError("--host: the local target's instances are the application's containers "
                         "themselves; leave out --host.", code=ExitCode.USAGE)
    phases = Phases()
    with targets.open_target(loaded, local=wants_local, phases=phases) as target:
        chosen, target_group = _instance(target, env, loaded.app.name, instance)
        if target.is_local:
            argv = ["docker", "exec", *(["-it"] if _terminal() else ["-i"]),
                    _local_container(target, chosen, target_group), *words]
        else:
            _refuse_missing_tools()
            argv = _session(chosen, loaded.app.name, loaded.account.region, words, host=host)
    # The session is the user's from here: its exit status is the command's.
    raise typer.Exit(subprocess.call(argv))


def _terminal() -> bool:
    import sys

    return sys.stdin.isatty() and sys.stdout.isatty()


def _refuse_missing_tools() -> None:
    """A session needs both on this machine: said before one is tried."""
    missing = [tool for tool in ("aws", SESSION_MANAGER_PLUGIN) if shutil.which(tool) is None]
    if missing:
        raise WimpyError(f"wimpy exec opens a Session Manager session, which needs "
                         f"{' and '.join(missing)} on this machine's PATH; nothing was started.",
                         code=ExitCode.USAGE,
                         hint=f"Install the AWS CLI and its Session Manager plugin ({PLUGIN_DOCS}).")


def _session(instance: str, app: str, region: str, words: list[str], *, host: bool) -> list[str]:
    """`aws ssm start-session` into the instance, running the command in the container
    (named after the application by the instance's unit) unless `host`."""
    argv = ["aws", "ssm", "start-session", "--target", instance, "--region", region]
    if host and words == ["sh"]:
        return argv
    inner = shlex.join(words) if host else f"sudo docker exec -it {shlex.quote(app)} {shlex.join(words)}"
    return argv + ["--document-name", "AWS-StartInteractiveCommand",
                   "--parameters", f"command={inner}"]


def _instance(target: Any, env: str, app: str, wanted: str | None) -> tuple[str, str]:
    """`wanted` when it is an instance of the application's in service, else the first in
    service of the release serving the most traffic; with its release's target group."""
    from wimpy_cli.commands.status import collect

    rows = [row for row in collect(target, env, app) if row.get("instances")]
    if not rows:
        raise WimpyError(f"{app} has no instance in {env}: nothing is deployed there, or every "
                         "release is scaled to zero.",
                         hint=f"Deploy it first: {next_command('deploy', env=env)}")
    in_service = [(instance, group) for row in sorted(rows, key=lambda row: -row["share"])
                  for instance, group in _in_service(target, row["stack"])]
    if wanted is not None:
        chosen = [pair for pair in in_service if pair[0] == wanted]
        if not chosen:
            raise WimpyError(f"--instance {wanted}: not an instance of {app} in service in {env}; "
                             f"those are {', '.join(i for i, _ in in_service) or 'none'}.",
                             code=ExitCode.USAGE)
        return chosen[0]
    if not in_service:
        raise WimpyError(f"no instance of {app} in {env} is in service yet; try again when "
                         "`wimpy status` shows one healthy.")
    return in_service[0]


def _in_service(target: Any, stack: str) -> list[tuple[str, str]]:
    """The release's instances its load balancer counts healthy (on the local target, the
    data plane's, which it reports through the same call), each with the target group."""
    from wimpy_cli.deploy import outcome

    found = outcome.read(target.client("cloudformation"), stack)
    group = found.outputs.get("TargetGroupArn") if found is not None else None
    if not group:
        return []
    health = target.client("elbv2").describe_target_health(TargetGroupArn=group)
    return sorted((t["Target"]["Id"], group) for t in health["TargetHealthDescriptions"]
                  if t["TargetHealth"]["State"] == "healthy")


def _local_container(target: Any, instance: str, target_group_arn: str) -> str:
    """The container of the local data plane that plays `instance`, as the data plane
    publishes it beside the target group's health."""
    from wimpy_cli.local.dataplane import publish

    name = target_group_arn.split(":", 5)[-1].split("/")[1]
    container = publish.containers(target.client("ssm"), name).get(instance)
    if container is None:
        raise WimpyError(f"instance {instance} has no container here; the local target runs "
                         "instances only with its data plane (`wimpy local status` says whether "
                         "it runs).")
    return container
