"""The foundation every deploy makes sure of: the account baseline, the registry, the
environment's network, and the application's data and resources stacks.

The baseline and the networks are shared by every application in the account: two
applications each have a wimpy.yml, and a deploy from one must not quietly re-apply its
own values over what the other deployed. So a deploy first compares what its wimpy.yml
says with what the shared stacks record they were built from, and stops, before changing
anything, naming each key that differs. Changing the shared foundation is an explicit act:
`wimpy baseline`.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
from pathlib import Path
from typing import Any, Mapping

from wimpy_cli import aws

from wimpy_domain import naming
from wimpy_domain.config import WimpyConfig
from wimpy_cli.deploy import outcome, stacks
from wimpy_cli.errors import ExitCode, WimpyError
from wimpy_cli.phases import Phases

SETTINGS_OUTPUT = "Settings"  # wimpy_stacks/wiring.py records them under this output


def foundation_stacks(config: WimpyConfig, env: str) -> list[str]:
    names = [naming.baseline_stack()]
    if config.registry.is_ecr:
        names.append(naming.registry_stack(config.app.name))
    names.append(naming.environment_stack(env))
    if config.shares_a_load_balancer(env):
        names.append(naming.edge_stack(env))
    names += [naming.application_data_stack(env, config.app.name),
              naming.application_resources_stack(env, config.app.name)]
    if config.deploy.through_front:
        # Long-lived like the resources: releases come and go behind it.
        names.append(naming.front_stack(env, config.app.name))
    return names


# Settings a stack records since a later Wimpy, with what an older one was built with: a
# stack that does not record the key was built that way. (NAT instances became the
# default: a network deployed before has NAT gateways, which a deploy must not swap
# for instances unasked.)
_BUILT_BEFORE_RECORDED = {".nat": "gateway"}


def differences(config: WimpyConfig, env: str, cloudformation: Any) -> list[str]:
    """One line per key where wimpy.yml and the deployed shared stacks disagree. A stack
    not deployed yet, or deployed before it recorded its settings, has nothing to differ."""
    found = []
    shared = [(naming.edge_stack(env), config.edge_settings(env))] if config.shares_a_load_balancer(env) else []
    for stack, wanted in ((naming.baseline_stack(), config.baseline_settings()),
                          (naming.environment_stack(env), config.environment_settings(env)), *shared):
        deployed = outcome.read(cloudformation, stack)
        if deployed is None or SETTINGS_OUTPUT not in deployed.outputs:
            continue
        recorded = json.loads(deployed.outputs[SETTINGS_OUTPUT])
        for key, built in _BUILT_BEFORE_RECORDED.items():
            for name in wanted:
                if name.endswith(key) and name not in recorded:
                    recorded[name] = built
        for key, value in wanted.items():
            if key in recorded and recorded[key] != value:
                found.append(f"{key}: {config.source} says {_shown(value)}, but {stack} was "
                             f"deployed with {_shown(recorded[key])}")
    return list(dict.fromkeys(found))


def refuse_differences(config: WimpyConfig, env: str, cloudformation: Any) -> None:
    found = differences(config, env, cloudformation)
    if found:
        raise WimpyError(
            "the shared foundation was deployed with other values than this wimpy.yml's; "
            "nothing was changed:\n" + "\n".join(f"  {line}" for line in found),
            code=ExitCode.INVALID_CONFIG,
            hint="Other applications in this account use these stacks. Make wimpy.yml agree, "
                 "or change the foundation for all of them on purpose with `wimpy baseline`.")


def deploy_foundation(run: stacks.StackDeploy, config: WimpyConfig, phases: Phases, *,
                      context: Mapping[str, str] = {}) -> None:
    """Deploy the foundation stacks, unless nothing they are made from changed since this
    application's last foundation deploy in this environment and they are all in place:
    synthesizing them only for CloudFormation to find no change costs every deploy
    seconds (about 5 s of the CDK CLI's synthesis, more on a slow machine). `context`:
    the application stack's (wimpy_cli/deploy/context.py), so that its deploy reuses this
    synthesis; the foundation's templates do not depend on it."""
    cloudformation, ssm = run.target.client("cloudformation"), run.target.client("ssm")
    refuse_differences(config, run.environment, cloudformation)
    _refuse_a_retained_log_group(run, config)
    names = foundation_stacks(config, run.environment)
    made_from = fingerprint(config, run)
    parameter = naming.application_parameter(run.environment, config.app.name, "foundation")
    if aws.parameter_value(ssm, parameter) == made_from and all(
            (found := outcome.read(cloudformation, name)) is not None and found.succeeded
            for name in names):
        phases.note(f"foundation unchanged since the last deploy ({', '.join(names)})")
        return
    with phases.phase("foundation", ", ".join(names)):
        stacks.deploy(run, names, what="Deploying the foundation stacks", context=context)
    ssm.put_parameter(Name=parameter, Value=made_from, Type="String", Overwrite=True,
                      Description="Wimpy: what the foundation stacks were last deployed from")


# What the foundation's templates are made from, besides wimpy.yml and the target: the
# code that builds them, and the CDK settings it is built with.
_SOURCES = ("wimpy_stacks", "wimpy_constructs", "wimpy_domain")


def fingerprint(config: WimpyConfig, run: stacks.StackDeploy) -> str:
    """A digest of everything the foundation's templates depend on: wimpy.yml's bytes, the
    environment, the target's context (the local zone id...), the CDK CLI version, and
    Wimpy's own code that synthesizes them. Any change makes a different digest."""
    from wimpy_cli import toolchain

    digest = hashlib.sha256()
    digest.update(config.source.read_bytes())
    digest.update(json.dumps({"environment": run.environment, "context": run.target.context,
                              "cdk": toolchain.CDK_CLI_VERSION}, sort_keys=True).encode())
    for source in _SOURCES:
        # Where the package is imported from: the library is a distribution of its own
        # (library/ in a checkout, site-packages once installed). Found, not imported: the
        # CDK stays out of this process.
        path = Path(importlib.util.find_spec(source).origin).parent
        for file in sorted(path.rglob("*")):
            if file.is_file() and "__pycache__" not in file.parts:
                digest.update(f"{source}/{file.relative_to(path)}".encode())
                digest.update(file.read_bytes())
    return digest.hexdigest()


def _shown(value: Any) -> str:
    return json.dumps(value) if not isinstance(value, str) else value


def _refuse_a_retained_log_group(run: stacks.StackDeploy, config: WimpyConfig) -> None:
    """The application's log group lives in its data stack, which `wimpy destroy` keeps. A
    group of that name without the data stack was left by something else (a Wimpy before
    the data stack, a hand-made group): creating the stack would fail half-way on its
    name, so say so before anything changes."""
    env, app = run.environment, config.app.name
    cloudformation, logs = run.target.client("cloudformation"), run.target.client("logs")
    if outcome.read(cloudformation, naming.application_data_stack(env, app)) is not None:
        return
    name = naming.application_log_group(env, app)
    groups = logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"]
    if any(group["logGroupName"] == name for group in groups):
        endpoint = f" --endpoint-url {run.target.endpoint}" if run.target.endpoint else ""
        raise WimpyError(
            f"the log group {name} exists but no stack of Wimpy's keeps it (it was made "
            f"outside {naming.application_data_stack(env, app)}); nothing was deployed.",
            hint=f"Export what you need from it, then delete it (aws logs delete-log-group "
                 f"--log-group-name {name}{endpoint}), and deploy again.")


def ensure_release_record(run: stacks.StackDeploy, config: WimpyConfig, phases: Phases, *,
                          context: Mapping[str, str] = {}) -> None:
    """The deploy lock lives in the release record's table, which the baseline stack
    makes: on an account's first deploy (or the first since the table was added) deploy the
    baseline stack alone, before the lock can be taken; everything of the application
    (hooks included) then happens under the lock. CloudFormation refuses a second
    concurrent change of the same stack, so two first deploys cannot both change it."""
    dynamodb = run.target.client("dynamodb")
    try:
        dynamodb.describe_table(TableName=naming.release_record_table())
        return
    except dynamodb.exceptions.ResourceNotFoundException:
        pass
    refuse_differences(config, run.environment, run.target.client("cloudformation"))
    with phases.phase("baseline", f"{naming.baseline_stack()}: the account's first deploy makes "
                                  "the release record, where the deploy lock lives"):
        stacks.deploy(run, [naming.baseline_stack()], exclusively=True,
                      what="Deploying the baseline stack", context=context)
