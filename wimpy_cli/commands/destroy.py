"""wimpy destroy: remove what an application runs in an environment, keeping its data, and
say what is left and what it costs."""

from __future__ import annotations

import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import typer

from wimpy_cli import output, targets

from wimpy_domain import naming
from wimpy_cli.commands.common import ConfigOption, EnvOption, JsonOption, LocalOption, load, next_command
from wimpy_cli.errors import ExitCode, WimpyError
from wimpy_cli.phases import Phases

KEPT = ("the storage bucket and its objects, the log bucket, the master key, the "
        "application's data stack (its log group /wimpy/<env>/<app>) and the images in the "
        "registry are kept: they are data, and a later deploy finds them again")


def destroy(config: Path = ConfigOption, env: str = EnvOption,
            network: bool = typer.Option(False, "--network", help="Also delete the environment's "
                                         "network (VPC, NAT gateways) once no other application "
                                         "uses it; its flow logs are kept."),
            yes: bool = typer.Option(False, "--yes", help="Do not ask for confirmation (for scripts)."),
            local: bool = LocalOption, as_json: bool = JsonOption) -> None:
    """Remove the application's release, service and resources stacks from an environment
    (with --network, the environment's network too).

    Never deletes data: buckets, keys, log groups and images are kept, so deploying again
    simply works. Says what is left and what it costs a month.
    Example: wimpy destroy --env staging --yes
    """
    from wimpy_cli.deploy import outcome
    from wimpy_cli.release import inventory
    from wimpy_cli.release.bluegreen import delete_release

    loaded = load(config, [env])
    app = loaded.app.name
    phases = Phases()
    with targets.open_target(loaded, local=targets.wants_local(local), phases=phases) as target:
        cloudformation = target.client("cloudformation")
        # The front first: its listener forwards to the releases' target groups, which
        # cannot be deleted while it does.
        doomed = [stack for stack in [naming.front_stack(env, app)]
                  if outcome.read(cloudformation, stack) is not None]
        doomed += [r.stack for r in inventory.releases(cloudformation, env, app)]
        for stack in (naming.rolling_stack(env, app), naming.application_resources_stack(env, app)):
            if outcome.read(cloudformation, stack) is not None:
                doomed.append(stack)
        network_stack = naming.environment_stack(env)
        if network and outcome.read(cloudformation, network_stack) is not None:
            users = _other_users_of_network(cloudformation, env, app)
            if users:
                raise WimpyError(
                    f"{network_stack} is also used by {', '.join(users)}; nothing was deleted.",
                    code=ExitCode.USAGE,
                    hint="Destroy those applications in this environment first, or leave out --network.")
            # The shared load balancer sits in the network: it goes first, with no
            # application left to serve.
            doomed += [stack for stack in (naming.edge_stack(env),)
                       if outcome.read(cloudformation, stack) is not None]
            doomed.append(network_stack)
        if not doomed:
            document = {"environment": env, "deleted": [], "left": _left(target, env, app)}
            output.result(document, f"{app} has no stacks to delete in {env}.\n"
                          + _render_left(document["left"]), as_json=as_json)
            return
        if not yes:
            if not sys.stdin.isatty():
                raise WimpyError(f"destroy would delete {', '.join(doomed)}; add --yes to confirm "
                                 "when not running in a terminal.", code=ExitCode.USAGE)
            typer.confirm(f"Delete {', '.join(doomed)} ({target.name})? Data is kept: {KEPT}.",
                          abort=True)
        ssm = target.client("ssm")
        with _holding_the_lock(target, env, app) as session:
            for stack in doomed:
                with phases.phase("delete", stack):
                    delete_release(cloudformation, target.client("elbv2"), stack)
            for parameter in (naming.machine_image_parameter(env, app),
                              naming.application_parameter(env, app, "foundation")):
                try:
                    ssm.delete_parameter(Name=parameter)
                except ssm.exceptions.ParameterNotFound:
                    pass
            if session is not None and session.record.releases:
                # The record stays, as history: every release in it is now retired.
                session.apply("destroyed", lambda r: r.destroyed(by=session.by, now=session.now()))
        left = _left(target, env, app)
    document = {"environment": env, "deleted": doomed, "kept": KEPT, "left": left}
    output.result(document, f"Deleted {', '.join(doomed)}.\nKept: {KEPT}.\n" + _render_left(left),
                  as_json=as_json)


@contextmanager
def _holding_the_lock(target: Any, env: str, app: str) -> Iterator[Any]:
    """The release session, or None in an account whose baseline has no release record
    (deployed by an older Wimpy): then no command of this one can hold the lock either."""
    from wimpy_cli.release.session import release_session

    dynamodb = target.client("dynamodb")
    try:
        dynamodb.describe_table(TableName=naming.release_record_table())
    except dynamodb.exceptions.ResourceNotFoundException:
        yield None
        return
    with release_session(dynamodb, env=env, app=app, what="destroy") as session:
        yield session


def _other_users_of_network(cloudformation: Any, env: str, app: str) -> list[str]:
    """Stacks of other applications that sit in the environment's network (their security
    groups, load balancers and instances are in its VPC). Data stacks hold no network."""
    head = naming.environment_stack(env) + "-"
    ours = (naming.rolling_stack(env, app), naming.releases_prefix(env, app),
            naming.application_resources_stack(env, app),
            # The environment's shared load balancer is the network's, not an application's.
            naming.edge_stack(env))
    # Application names never end like a data stack does (wimpy_domain/config reserves the suffix).
    data_suffix = naming.application_data_stack(env, app).removeprefix(naming.rolling_stack(env, app))
    users = []
    for page in cloudformation.get_paginator("describe_stacks").paginate():
        for stack in page["Stacks"]:
            name = stack["StackName"]
            if not name.startswith(head) or stack["StackStatus"] == "DELETE_COMPLETE":
                continue
            if name.endswith(data_suffix) or name.startswith(ours):
                continue
            users.append(name)
    return sorted(users)


def _left(target: Any, env: str, app: str) -> list[dict[str, Any]]:
    """What still exists for this application in the environment after a destroy, and
    what it costs a month (fixed charges from the price table; storage is by use)."""
    from wimpy_cli.deploy import outcome
    from wimpy_cli.estimate.cost import NAT_INSTANCE_ROOT_GIB, NAT_INSTANCE_TYPE, load_prices

    prices = load_prices()
    hours = prices.hours_per_month
    cloudformation = target.client("cloudformation")
    left = []
    network_stack = naming.environment_stack(env)
    if outcome.read(cloudformation, network_stack) is not None:
        resources = cloudformation.describe_stack_resources(StackName=network_stack)["StackResources"]
        nats = sum(1 for r in resources if r.get("ResourceType") == "AWS::EC2::NatGateway")
        # The network's only instances are its NAT instances (environments.<name>.nat).
        nat_instances = sum(1 for r in resources if r.get("ResourceType") == "AWS::EC2::Instance")
        monthly = (nats * (prices["nat_gateway_per_hour"] + prices["public_ipv4_per_hour"]) * hours
                   + nat_instances * ((prices.instance(NAT_INSTANCE_TYPE) + prices["public_ipv4_per_hour"])
                                      * hours + NAT_INSTANCE_ROOT_GIB * prices.volume("gp3")))
        nat_what = (f"{nats} NAT gateway(s)" if nats or not nat_instances
                    else f"{nat_instances} NAT instance(s)")
        left.append({"stack": network_stack, "what": f"the environment's network, shared by its "
                     f"applications: VPC, {nat_what} and their public addresses",
                     "monthly_usd": round(monthly, 2),
                     "remove": next_command("destroy", "--network", env=env)})
    edge_stack = naming.edge_stack(env)
    if outcome.read(cloudformation, edge_stack) is not None:
        # Its hours and two addresses; its capacity units follow the traffic.
        left.append({"stack": edge_stack, "what": "the load balancer the environment's "
                     "applications share, with its two public addresses",
                     "monthly_usd": round((prices["alb_per_hour"] + 2 * prices["public_ipv4_per_hour"])
                                          * hours, 2),
                     "by_use": f"${prices['alb_lcu_per_hour']:g} per LCU-hour of traffic",
                     "remove": next_command("destroy", "--network", env=env)})
    data_stack = naming.application_data_stack(env, app)
    if outcome.read(cloudformation, data_stack) is not None:
        left.append({"stack": data_stack, "what": f"the log group {naming.application_log_group(env, app)}",
                     "monthly_usd": 0.0, "by_use": f"${prices['cloudwatch_logs_storage_per_gb_month']:g} "
                                                    "per GB-month stored"})
    if outcome.read(cloudformation, naming.baseline_stack()) is not None:
        left.append({"stack": naming.baseline_stack(), "what": "the account baseline, shared by every "
                     "application: trail, master key, log and storage buckets",
                     "monthly_usd": round(prices["kms_key_per_month"], 2),
                     "by_use": f"${prices['s3_standard_per_gb_month']:g} per GB-month stored in the buckets"})
    return left


def _render_left(left: list[dict[str, Any]]) -> str:
    if not left:
        return "Nothing of Wimpy's is left in this environment."
    total = sum(item["monthly_usd"] for item in left)
    lines = [f"Left running, about ${total:,.2f} a month before storage:"]
    for item in left:
        line = f"  {item['stack']}: {item['what']} (${item['monthly_usd']:,.2f}/month"
        line += f", plus {item['by_use']})" if item.get("by_use") else ")"
        if item.get("remove"):
            line += f"; `{item['remove']}` removes it"
        lines.append(line)
    return "\n".join(lines)
