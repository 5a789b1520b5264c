"""Which AMI instances run. A new Amazon Linux release must never replace the fleet on an
unrelated deploy, so the image is resolved once, recorded in SSM per application and
environment, and reused until the user asks for a newer one."""

from __future__ import annotations

from typing import Any

from cli import aws, naming
from cli.errors import WimpyError

AMAZON_LINUX_2023 = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-{arch}"


def architecture(ec2: Any, instance_type: str) -> str:
    """x86_64 or arm64, as EC2 reports for the instance type."""
    described = ec2.describe_instance_types(InstanceTypes=[instance_type])["InstanceTypes"]
    supported = described[0]["ProcessorInfo"]["SupportedArchitectures"] if described else []
    if "arm64" in supported and "x86_64" not in supported:
        return "arm64"
    return "x86_64"


def choose(*, ssm: Any, ec2: Any, env: str, app: str, instance_type: str, pinned: str,
           update: bool) -> tuple[str, str]:
    """(ami id, why) for this deploy: the pin in wimpy.yml, else the recorded image, else
    (first deploy, or --update-machine-image) the current Amazon Linux 2023."""
    if pinned:
        return pinned, "pinned in wimpy.yml (app.machine_image)"
    recorded = None if update else aws.parameter_value(ssm, naming.machine_image_parameter(env, app))
    if recorded:
        return recorded, "recorded at an earlier deploy"
    public = AMAZON_LINUX_2023.format(arch=architecture(ec2, instance_type))
    latest = aws.parameter_value(ssm, public)
    if not latest:
        raise WimpyError(f"could not read the Amazon Linux 2023 image from SSM ({public}).",
                         hint="Pin one in wimpy.yml: app.machine_image: ami-...")
    return latest, "current Amazon Linux 2023" + (" (--update-machine-image)" if update else "")


def record(*, ssm: Any, env: str, app: str, ami: str) -> None:
    ssm.put_parameter(Name=naming.machine_image_parameter(env, app), Value=ami, Type="String",
                      Overwrite=True, Description="AMI of this application's instances (Wimpy)")
