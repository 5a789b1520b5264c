"""wimpy baseline: deploy the account baseline, the registry and the environments' networks
(what every application deploy also makes sure of), without deploying an application."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from wimpy_cli import output, targets

from wimpy_domain import naming
from wimpy_cli.commands.common import ConfigOption, JsonOption, LocalOption, load, next_command
from wimpy_cli.phases import Phases


def baseline(config: Path = ConfigOption,
             env: Optional[list[str]] = typer.Option(None, "--env", "-e", help="Only these environments (repeatable). Default: all."),
             local: bool = LocalOption, as_json: bool = JsonOption) -> None:
    """Deploy the account baseline (CloudTrail, master key, buckets) and environment networks
    (with their shared load balancers, where environments share one).

    Example: wimpy baseline --env staging --env production
    """
    from wimpy_cli.deploy import stacks

    loaded = load(config, env)
    environments = env or list(loaded.environment_names)
    names = [naming.baseline_stack()]
    if loaded.registry.is_ecr:
        names.append(naming.registry_stack(loaded.app.name))
    for name in environments:
        names.append(naming.environment_stack(name))
        if loaded.shares_a_load_balancer(name):
            names.append(naming.edge_stack(name))
    phases = Phases()
    with targets.open_target(loaded, local=targets.wants_local(local), phases=phases) as target:
        run = stacks.StackDeploy(config_path=config, environment=",".join(environments),
                                 target=target, **stacks.progress(phases, quiet=as_json))
        with phases.phase("baseline", ", ".join(names)):
            stacks.deploy(run, names, what="Deploying the baseline")
    output.result({"stacks": names, "target": target.name, "phases": phases.timings},
                  f"Deployed {', '.join(names)}.\n"
                  f"Next: {next_command('deploy', env=environments[0], local=target.is_local)}",
                  as_json=as_json)
