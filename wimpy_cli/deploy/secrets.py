"""Whether the SSM parameters an environment's instances read as secrets exist, asked
before a deploy changes anything: an instance whose container cannot read one never
becomes healthy, and the deploy would only fail at the signal timeout (ten minutes on
AWS), rolled back, with the reason in an instance's boot log."""

from __future__ import annotations

import shlex
from typing import Any, Callable

from wimpy_domain.config import WimpyConfig
from wimpy_cli.errors import ExitCode, WimpyError
from wimpy_cli.targets import Target

# DescribeParameters takes at most this many names in one filter.
_NAMES_PER_REQUEST = 50


def missing(config: WimpyConfig, env: str, ssm: Any) -> list[tuple[str, str]] | None:
    """(wimpy.yml key, parameter name) of each secret whose parameter does not exist; None
    when this identity may not list parameters (ssm:DescribeParameters denied)."""
    wanted = config.app_in(env).secrets
    if not wanted:
        return []
    names = sorted(set(wanted.values()))
    found: set[str] = set()
    try:
        for start in range(0, len(names), _NAMES_PER_REQUEST):
            chunk = names[start:start + _NAMES_PER_REQUEST]
            pages = ssm.get_paginator("describe_parameters").paginate(
                ParameterFilters=[{"Key": "Name", "Option": "Equals", "Values": chunk}])
            found |= {p["Name"] for page in pages for p in page["Parameters"]}
    except ssm.exceptions.ClientError as error:
        if error.response.get("Error", {}).get("Code") in ("AccessDeniedException", "AccessDenied"):
            return None
        raise
    own = config.environment(env).app_settings.get("secrets", {})
    return [(f"environments.{env}.app.secrets.{variable}" if variable in own
             else f"app.secrets.{variable}", parameter)
            for variable, parameter in sorted(wanted.items()) if parameter not in found]


def refuse_missing(config: WimpyConfig, env: str, target: Target, *,
                   note: Callable[[str], None]) -> None:
    """WimpyError naming each missing secret and how to create it. On the local target
    without its data plane no instance reads them: `note` says what AWS would refuse."""
    absent = missing(config, env, target.client("ssm"))
    if absent is None:
        note("could not check that the secrets' SSM parameters exist (ssm:DescribeParameters "
             "denied); an instance that cannot read one will not become healthy")
        return
    if not absent:
        return
    if target.is_local and target.rollout is None:
        note(f"{len(absent)} secret(s) have no SSM parameter here, so a deploy to AWS would be "
             f"refused: {', '.join(f'{key} ({parameter})' for key, parameter in absent)}")
        return
    where = f"account {config.account.id}, {config.account.region}"
    listed = "\n".join(f"  - {key}: {parameter}" for key, parameter in absent)
    endpoint = f" --endpoint-url {target.endpoint}" if target.endpoint else ""
    create = "\n".join(
        f"  aws ssm put-parameter --name {shlex.quote(parameter)} --type SecureString "
        f"--value '...' --region {config.account.region}{endpoint}" for _, parameter in absent)
    raise WimpyError(
        f"these secrets' SSM parameters do not exist in {where}, so the instances could not "
        f"start the container; nothing was deployed:\n{listed}",
        code=ExitCode.USAGE,
        hint=f"Create each as a SecureString, then deploy again:\n{create}")
