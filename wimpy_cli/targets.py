"""Where a command acts: the user's AWS account (the standard credential chain), or the
embedded local target, an AWS emulator started inside this process (`--local`). Both go
through the same code: the CDK CLI and boto3, only pointed elsewhere."""

from __future__ import annotations

import os
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterator

from wimpy_cli import aws
from wimpy_cli.errors import ExitCode, WimpyError

if TYPE_CHECKING:
    from wimpy_cli.phases import Phases
    from wimpy_domain.config import WimpyConfig

LOCAL_NOTE = ("Local target: an AWS emulator plays the account (some resource types are "
              "accepted without effect, see `wimpy_cli/local/__init__.py`); everything goes through "
              "the same CDK CLI and boto3 calls as on AWS.")
DATA_PLANE_ON = ("Its data plane runs the instances as containers on this Docker engine, "
                 "behind HAProxy.")
DATA_PLANE_OFF = ("No data plane: no instance boots and no request is served. `wimpy local "
                  "start`, on a machine with Docker and HAProxy, runs one.")


@dataclass
class Target:
    name: str
    client: Callable[[str], Any]
    cdk_env: dict[str, str | None] | None = None
    cdk_flags: list[str] = field(default_factory=list)
    context: dict[str, str] = field(default_factory=dict)
    machine_images: dict[str, str] = field(default_factory=dict)
    endpoint: str | None = None  # the emulator's, on the local target (for commands we print)
    # On the local target with its data plane running: waits for instances after a stack
    # deploy and rolls the stack back when they fail, as CloudFormation does on AWS.
    rollout: Any = None

    def __post_init__(self) -> None:
        # One client per service for the whole command: making a client loads botocore's
        # service model from disk (about 0.1 s each), and a deploy asks for one dozens of
        # times. Clients are thread-safe; the lock keeps two threads from making the same one.
        make, made, lock = self.client, {}, threading.Lock()

        def client(service: str) -> Any:
            with lock:
                if service not in made:
                    made[service] = make(service)
                return made[service]
        self.client = client

    @property
    def is_local(self) -> bool:
        return self.name == "local"

    def url_for(self, url: str) -> str:
        """Where `url` (a stack's Url output) is reached from here: on the local target with
        its data plane, the loopback port of the load balancer serving that name."""
        if self.rollout is None or not url:
            return url
        return self.rollout.local_url(url) or url


def wants_local(flag: bool) -> bool:
    return flag or os.environ.get("WIMPY_TARGET", "").lower() == "local"


def refuse_local_only_settings(config: WimpyConfig) -> None:
    """Settings that only the local target can honour: a command that deploys an
    application stack to AWS refuses them before any AWS call."""
    period = config.app.alarms.period_seconds
    if period < 60:
        raise WimpyError(
            f"app.alarms.period_seconds is {period}: an Application Load Balancer sends its "
            "metrics to CloudWatch once a minute, so on AWS an alarm with a shorter period "
            "has no data and never fires.",
            code=ExitCode.USAGE,
            hint="Use 60 or a multiple of 60 for AWS (a period under 60 is for the local target, "
                 "--local).")


@contextmanager
def open_target(config: WimpyConfig, *, local: bool, phases: Phases) -> Iterator[Target]:
    if not local:
        with phases.phase("credentials", f"account {config.account.id}, {config.account.region}"):
            session = aws.session(config.account.region)
            aws.check_identity(session, config.account.id)
        yield Target(name="aws", client=lambda service: aws.client(session, service),
                     cdk_flags=["--no-notices"])
        return

    from wimpy_cli.local.bootstrap import CDK_LOCAL_FLAGS, bootstrap, cdk_environment
    from wimpy_cli.local.emulator import LocalAws
    from wimpy_cli.local.persistent import AttachedAws, read_state

    state = read_state()
    if state is not None and (state["account_id"], state["region"]) != (
            config.account.id, config.account.region):
        raise WimpyError(
            f"the running local emulator is for account {state['account_id']} "
            f"{state['region']}, not {config.account.id} {config.account.region}.",
            hint="Stop it with `wimpy local stop`, then start one with this wimpy.yml.")
    emulator: LocalAws = AttachedAws(state) if state else LocalAws(config.account.id,
                                                                   config.account.region)
    with emulator:
        if state:
            phases.note(f"using the local emulator at {emulator.endpoint} (`wimpy local stop` ends it)")
            images = emulator.machine_images
        else:
            phases.note("no `wimpy local start` emulator is running: this command starts its "
                        "own, and what it creates is gone when it ends")
            with phases.phase("local AWS", f"emulator at {emulator.endpoint}, cdk bootstrap"):
                images = bootstrap(emulator)
        target = Target(name="local", client=emulator.client, cdk_env=cdk_environment(emulator),
                        cdk_flags=list(CDK_LOCAL_FLAGS), machine_images=images,
                        endpoint=emulator.endpoint)
        from wimpy_cli.local.rollout import Rollout

        rollout = Rollout(target.client)
        if rollout.active():
            target.rollout = rollout
        if _first_time_for(state, "data plane" if target.rollout else "no data plane"):
            phases.note(f"{LOCAL_NOTE} {DATA_PLANE_ON if target.rollout else DATA_PLANE_OFF}")
        if config.hosted_zone:
            target.context["hosted_zone_id"] = _local_zone(emulator, config.hosted_zone.name)
        yield target


def _first_time_for(state: dict[str, Any] | None, what: str) -> bool:
    """Whether the local target's explanation is new to this run: once per `wimpy local
    start` (kept beside its state file, which goes with it), every time for a command's own
    emulator."""
    if state is None:
        return True
    from wimpy_cli.local.persistent import explained_path

    marker = explained_path()
    told = f"{state.get('endpoint')} {what}"
    try:
        if marker.read_text() == told:
            return False
    except OSError:
        pass
    try:
        marker.write_text(told)
    except OSError:
        pass
    return True


def _local_zone(emulator: Any, name: str) -> str:
    """The emulated hosted zone for `name`, created on first use (the emulator picks ids,
    so the stacks get this id instead of wimpy.yml's)."""
    route53 = emulator.client("route53")
    for zone in route53.list_hosted_zones_by_name(DNSName=name)["HostedZones"]:
        if zone["Name"].rstrip(".") == name:
            return zone["Id"].split("/")[-1]
    zone = route53.create_hosted_zone(Name=name, CallerReference=f"wimpy-local-{name}")["HostedZone"]
    return zone["Id"].split("/")[-1]
