"""What the local data plane tells the commands, through the emulator's SSM (so a command
in another process reads it as it reads anything else of the account):

    /wimpy/local/dataplane                      "running" while a data plane acts
    /wimpy/local/dataplane/groups/<group>       a group's progress on its launch template
    /wimpy/local/dataplane/registry             the registry backing the emulator's ECR
                                                (wimpy_cli/local/ecr_images.py)
    /wimpy/local/dataplane/balancers/<route>    a route's local URL
    /wimpy/local/dataplane/target-groups/<name> its targets and their health, which the
                                                emulator's DescribeTargetHealth answers
                                                (wimpy_cli/local/target_health.py)
"""

from __future__ import annotations

import json
from typing import Any

from wimpy_cli.aws import parameter_value

ROOT = "/wimpy/local/dataplane"
REGISTRY = "registry"  # keys are under ROOT


def put(ssm: Any, key: str, text: str) -> None:
    ssm.put_parameter(Name=f"{ROOT}/{key}", Value=text, Type="String", Overwrite=True)


def registry(ssm: Any, host: str) -> None:
    put(ssm, REGISTRY, json.dumps({"host": host}))


def running(ssm: Any, value: bool) -> None:
    ssm.put_parameter(Name=ROOT, Value="running" if value else "stopped", Type="String",
                      Overwrite=True)


def is_running(ssm: Any) -> bool:
    return parameter_value(ssm, ROOT) == "running"


def group_status(ssm: Any, group: str) -> dict | None:
    text = parameter_value(ssm, f"{ROOT}/groups/{group}")
    return json.loads(text) if text else None


def target_group_key(name: str) -> str:
    return f"target-groups/{name}"


def in_emulator(account_id: str, region: str, key: str) -> str | None:
    """`key` as the data plane published it, read inside the emulator's process by the
    emulator's own patches (target_health.py, ecr_images.py); None when it is not there or
    no data plane runs."""
    from moto.ssm.models import ssm_backends

    ssm = ssm_backends[account_id][region]
    found = running_in_emulator(account_id, region) and ssm.get_parameter(f"{ROOT}/{key}")
    return found.value if found else None


def running_in_emulator(account_id: str, region: str) -> bool:
    from moto.ssm.models import ssm_backends

    running = ssm_backends[account_id][region].get_parameter(ROOT)
    return running is not None and running.value == "running"


def local_url(ssm: Any, route: str) -> str | None:
    text = parameter_value(ssm, f"{ROOT}/balancers/{route}")
    return json.loads(text)["url"] if text else None


def containers(ssm: Any, target_group_name: str) -> dict[str, str]:
    """Each instance of the target group and the container that plays it (`wimpy exec`)."""
    text = parameter_value(ssm, f"{ROOT}/{target_group_key(target_group_name)}")
    return {t["id"]: t["container"] for t in json.loads(text).get("targets", [])
            if t.get("container")} if text else {}
