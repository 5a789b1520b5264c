"""Which AMI instances run. A new Amazon Linux release must never replace the fleet on an
unrelated deploy, so the image is resolved once, recorded in SSM per application and
environment, and reused until the user asks for a newer one."""

from __future__ import annotations

from typing import Any, Callable

from wimpy_cli import aws

from wimpy_domain import naming
from wimpy_domain.config import WimpyConfig
from wimpy_cli.errors import WimpyError

# AWS's public parameters for the current Amazon ECS-optimized Amazon Linux 2023 image, by
# architecture: Amazon Linux 2023 with Docker (and the AWS CLI) already on it, so a boot
# installs nothing (the boot script turns its ECS agent off). AWS builds it from
# github.com/aws/amazon-ecs-ami; its root volume is 30 GiB.
PUBLIC_IMAGE_PARAMETERS = {
    "x86_64": "/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id",
    "arm64": "/aws/service/ecs/optimized-ami/amazon-linux-2023/arm64/recommended/image_id",
}
PUBLIC_IMAGE = "Amazon ECS-optimized Amazon Linux 2023"


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
    (first deploy, or --update-machine-image) the current ECS-optimized Amazon Linux 2023."""
    if pinned:
        return pinned, "pinned in wimpy.yml (machine_image)"
    recorded = None if update else aws.parameter_value(ssm, naming.machine_image_parameter(env, app))
    if recorded:
        return recorded, "recorded at an earlier deploy"
    public = PUBLIC_IMAGE_PARAMETERS[architecture(ec2, instance_type)]
    latest = aws.parameter_value(ssm, public)
    if not latest:
        raise WimpyError(f"could not read the {PUBLIC_IMAGE} image from SSM ({public}).",
                         hint="Pin one in wimpy.yml: app.machine_image: ami-...")
    return latest, f"current {PUBLIC_IMAGE}" + (" (--update-machine-image)" if update else "")


def choose_for(config: WimpyConfig, env: str, client: Callable[[str], Any], *,
               update: bool) -> tuple[str, str]:
    """`choose` for the application in `env`, its instance type and pin from wimpy.yml,
    through the target's `client`s."""
    settings = config.app_in(env)
    return choose(ssm=client("ssm"), ec2=client("ec2"), env=env, app=config.app.name,
                  instance_type=settings.instance_type, pinned=settings.machine_image,
                  update=update)


def record(*, ssm: Any, env: str, app: str, ami: str) -> None:
    ssm.put_parameter(Name=naming.machine_image_parameter(env, app), Value=ami, Type="String",
                      Overwrite=True, Description="AMI of this application's instances (Wimpy)")
