"""wimpy cost: what the stacks a wimpy.yml describes cost per month, per environment, and
what the overlap window of a blue/green deploy adds; from the synthesized templates, the
dated price table and stated assumptions."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Optional

import typer

from wimpy_cli import output
from wimpy_cli.commands.common import (PATH_CHARACTERS, ConfigOption, JsonOption, NumberOption,
                                       check_readable_file, load, path_parser, shown)
from wimpy_cli.errors import ExitCode, WimpyError

VERSION = "cost"


def cost(
    config: Path = ConfigOption,
    env: Optional[list[str]] = typer.Option(None, "--env", "-e", help="Only these environments (repeatable). Default: all."),
    deploys_per_month: float = NumberOption(20, "--deploys-per-month", help="Assumed blue/green deploys a month, for the overlap cost."),
    nat_gb: float = NumberOption(20, "--nat-gb", help="Assumed GB a month through each environment's NAT gateways.", unit="GB"),
    prices: Optional[Path] = typer.Option(None, "--prices", help="Another price table (same format as wimpy_cli/estimate/prices.json).",
                                          metavar="FILE", parser=path_parser("--prices", what="a price table (JSON)", example="wimpy_cli/estimate/prices.json")),
    as_json: bool = JsonOption,
) -> None:
    """Estimate the monthly cost of every stack, per environment, and of a blue/green
    deploy's overlap window; every assumption is stated.

    Example: wimpy cost -c examples/hello/wimpy.yml --env production
    """
    from wimpy_cli.release.dns import client_cache_seconds

    from wimpy_domain import naming
    from wimpy_cli.commands.plan import synthesize
    from wimpy_cli.estimate import cost as model
    from wimpy_cli.estimate import deploy_time
    from wimpy_cli.release.names import release_name

    loaded = load(config, env)
    environments = list(env or loaded.environment_names)
    table = _price_table(prices, model)
    if loaded.account.region != table.region:
        output.info(f"Note: the price table is for {table.region}; wimpy.yml's region is "
                    f"{loaded.account.region}. Prices differ by region (--prices to use another table).")
    assumptions = model.CostAssumptions(deploys_per_month=deploys_per_month, nat_gb_per_month=nat_gb)

    app = loaded.app.name
    deploy = loaded.deploy
    blue_green = deploy.strategy == "blue-green"
    # Behind one long-lived load balancer (the front stack), releases have none of their own.
    through_front = deploy.through_front
    release = release_name(VERSION) if blue_green else None
    import tempfile

    output.info(f"Synthesizing {app} ({', '.join(environments)}) ...")
    with tempfile.TemporaryDirectory(prefix="wimpy-cost-") as folder:
        templates = synthesize(config, environments, VERSION, Path(folder), release=release)

    def application_stack(environment: str) -> str:
        return (naming.release_stack(environment, app, release) if release
                else naming.rolling_stack(environment, app))

    shared = {naming.baseline_stack(), naming.registry_stack(app)}
    groups: dict[str, dict[str, Any]] = {name: {} for name in environments}
    groups[model.SHARED] = {}
    for environment in environments:
        for stack in (naming.environment_stack(environment), naming.edge_stack(environment),
                      naming.application_data_stack(environment, app),
                      naming.application_resources_stack(environment, app),
                      naming.front_stack(environment, app), application_stack(environment)):
            if stack in templates:
                groups[environment][stack] = templates[stack]
    placed = {stack for group in groups.values() for stack in group}
    for stack, template in templates.items():
        if stack in shared:
            groups[model.SHARED][stack] = template
        elif stack not in placed:
            raise WimpyError(f"synthesis wrote {stack}, which the cost estimate does not know "
                             "where to put (environment or account)")

    canary = deploy_time.canary_plan(
        tuple(getattr(getattr(loaded.deploy, "canary", None), "steps",
                      deploy_time.DEFAULT_CANARY_STEPS)),
        getattr(getattr(loaded.deploy, "canary", None), "bake_seconds",
                deploy_time.DEFAULT_BAKE_SECONDS),
        # On AWS clients keep an alias answer 60 s whatever wimpy.yml says (wimpy_cli/release/dns.py);
        # listener weights are in effect at once.
        0 if through_front else client_cache_seconds(
            getattr(loaded.deploy, "dns_ttl_seconds", deploy_time.DEFAULT_TTL_SECONDS), local=False))
    applications, seconds = {}, {}
    for environment in environments:
        template = groups[environment].get(application_stack(environment))
        if template is None:
            continue
        timing = deploy_time.estimate(template, strategy=deploy_time.BLUE_GREEN, canary=canary,
                                      through_front=through_front)
        applications[environment] = template
        seconds[environment] = (timing.expected_seconds, timing.worst_seconds)

    shared = {environment for environment in environments if loaded.shares_a_load_balancer(environment)}
    result = model.estimate(groups, prices=table, assumptions=assumptions,
                            application_templates=applications, deploy_seconds=seconds,
                            own_load_balancer=not through_front, shared_load_balancer=shared)
    kept = deploy.keep_releases if blue_green else 0
    if kept:
        warm = deploy.kept_release_capacity == "warm"
        result = dataclasses.replace(result, groups={
            group: lines + ((model.kept_release_cost(applications[group], table, assumptions, count=kept,
                                                     warm=warm, own_load_balancer=not through_front
                                                     and group not in shared),)
                            if group in applications else ())
            for group, lines in result.groups.items()})
    output.result({"app": app, **result.to_dict()}, render(result, app), as_json=as_json)


def _price_table(path: Path | None, model: Any) -> Any:
    """The price table (--prices, or the one shipped in wimpy_cli/estimate/prices.json); a table
    that cannot be read or is incomplete is a bad input: exit 2, naming it."""
    if path is None:
        shipped = model.PRICES_FILE
        try:
            check_readable_file(shipped, "the price table", what="wimpy_cli/estimate/prices.json as "
                                "installed, or another table", example="--prices my-prices.json")
            return model.load_prices(shipped)
        except WimpyError as error:
            raise WimpyError(f"{error}", code=ExitCode.USAGE,
                             hint="The table Wimpy ships is missing or damaged: reinstall Wimpy "
                                  "(scripts/setup), or pass --prices with a table of the same "
                                  "format.") from None
    check_readable_file(path, "--prices", what="a price table (JSON, the format of "
                        "wimpy_cli/estimate/prices.json)", example="--prices wimpy_cli/estimate/prices.json")
    try:
        return model.load_prices(path)
    except WimpyError as error:
        raise WimpyError(f"--prices {shown(path, PATH_CHARACTERS)}: {error}", code=ExitCode.USAGE,
                         hint="Use the format of wimpy_cli/estimate/prices.json.") from None


def render(result: Any, app: str) -> str:
    from wimpy_cli.estimate.deploy_time import minutes

    p = result.prices
    lines = [f"Monthly cost of {app}'s stacks ({p.region}, on-demand {p.currency}, prices as of "
             f"{p.as_of})", ""]
    width = max((len(line.item) for lines in result.groups.values() for line in lines),
                default=20) + 2
    titles = {"account": "account (shared by every environment)"}
    for group, group_lines in result.groups.items():
        lines.append(f"{titles.get(group, group)}: ${result.total(group):,.2f}/month")
        for line in group_lines:
            mark = "*" if line.assumed else " "
            lines.append(f"  {mark} {line.item:<{width}}{'$' + format(line.monthly, ',.2f'):>10}  "
                         f"{line.formula}")
        lines.append("")
    lines.append(f"Total: ${result.grand_total:,.2f}/month")
    if result.overlaps:
        lines += ["", "Blue/green overlap (a second set of instances, and through DNS a second load "
                      "balancer, while both releases run; the deploy duration from "
                      "`wimpy plan --strategy blue-green`):"]
        for o in result.overlaps:
            lines.append(f"  {o.environment}: ${o.per_hour:.4f}/h x {minutes(o.expected_seconds)} "
                         f"= ${o.per_deploy:.4f} per deploy (worst {minutes(o.worst_seconds)}: "
                         f"${o.per_deploy_worst:.4f}); ${o.per_month:,.2f}/month at "
                         f"{result.assumptions.deploys_per_month:g} deploys")
    if result.choices:
        lines += ["", "What each choice costs a month, one at a time:"]
        for line in result.choices:
            mark = "*" if line.assumed else " "
            lines.append(f"  {mark} {line.item:<{width + 10}}{'$' + format(line.monthly, ',.2f'):>10}  "
                         f"{line.formula}")
    lines += [""] + list(result.notes)
    return "\n".join(lines)
