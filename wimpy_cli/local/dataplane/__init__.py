"""The local target's data plane: what runs the application on this machine while the
emulator plays AWS's control plane. Instances are containers started by the instance's
own scripts (instance.py), kept per Auto Scaling group and rolled batch by batch
(groups.py); one HAProxy per application and environment routes by Route53 weights and
target-group health (routes.py, balancer.py); its request log becomes the load balancer's
CloudWatch metrics (metrics.py), on which the stacks' alarms are evaluated (alarms.py); the
containers' output goes to the app's log group (logs.py); a docker-registry backs the
emulator's ECR (registry.py); controller.py reads the emulator and acts; publish.py is
what it tells the commands. It needs the programs in REQUIREMENTS: without them the
local target works as a control plane only, and says once what is missing.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
from typing import Any

# What the data plane runs, and where it comes from on Debian or Ubuntu.
REQUIREMENTS = {
    "dockerd": "the Docker engine (apt-get install docker.io, then start dockerd)",
    "haproxy": "HAProxy, the load balancer (apt-get install haproxy)",
    "curl": "curl, which the instances' health check uses (apt-get install curl)",
    "docker-registry": "the registry behind the emulator's ECR (apt-get install docker-registry)",
    "aws": "the AWS CLI, which the instances' scripts log in to the registry and read secrets "
           "with (apt-get install awscli)",
}


def missing() -> list[str]:
    """What the data plane lacks here, each with how to get it; [] when it can run."""
    absent = [how for program, how in REQUIREMENTS.items() if shutil.which(program) is None]
    if not absent and not _engine_answers():
        absent.append("a running Docker engine (dockerd is installed but `docker info` fails: start it)")
    return absent


def _engine_answers() -> bool:
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def launch_template_version(ec2: Any, template: dict) -> dict:
    """The launch template version a group names ({LaunchTemplateId, Version}, where Version
    may be $Latest or $Default), as DescribeLaunchTemplateVersions gives it: the number, and
    the data (user data) instances start from."""
    return ec2.describe_launch_template_versions(
        LaunchTemplateId=template["LaunchTemplateId"],
        Versions=[str(template.get("Version", "$Latest"))])["LaunchTemplateVersions"][0]


def group_update_policy(cloudformation: Any, group: str, stack: str | None = None) -> tuple[dict, dict[str, str]]:
    """The UpdatePolicy its stack's template (`stack`'s, or found among the stacks) gives the
    Auto Scaling group named `group`, and that stack's physical ids by logical id (what the
    policy's Refs name). ({}, {}) for a group no stack made. (The emulator does not look a
    resource up by its physical id alone.)"""
    names = [stack] if stack else [s["StackName"] for page in cloudformation.get_paginator(
        "describe_stacks").paginate() for s in page["Stacks"]]
    for name in names:
        resources = cloudformation.describe_stack_resources(StackName=name)["StackResources"]
        # (moto lists the resource types it accepts without effect with no logical id)
        physical = {r["LogicalResourceId"]: r.get("PhysicalResourceId", "") for r in resources
                    if "LogicalResourceId" in r}
        logical = next((key for key, id_ in physical.items() if id_ == group), None)
        if logical is not None:
            body = cloudformation.get_template(StackName=name)["TemplateBody"]
            template = json.loads(body) if isinstance(body, str) else body
            return template.get("Resources", {}).get(logical, {}).get("UpdatePolicy", {}), physical
    return {}, {}


def free_port() -> int:
    """A loopback port nothing listens on now: an instance's, a balancer's, the registry's."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
