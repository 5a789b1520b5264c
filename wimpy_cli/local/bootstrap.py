"""Prepare a running LocalAws for `cdk deploy`: what `cdk bootstrap` creates in a real
account, and what AWS itself publishes that Wimpy's stacks read."""

from __future__ import annotations

import tempfile
from typing import Any

from wimpy_cli import cdk
from wimpy_cli.deploy.machine_image import PUBLIC_IMAGE_PARAMETERS
from wimpy_cli.errors import WimpyError
from wimpy_cli.local.emulator import LocalAws

# Written by the CDKToolkit stack; every CDK template's BootstrapVersion parameter (an
# SSM-typed parameter) reads it, and `cdk deploy` checks it.
BOOTSTRAP_VERSION_PARAMETER = "/cdk-bootstrap/hnb659fds/version"

# AWS's public parameters for the image instances start from, by architecture.
MACHINE_IMAGE_PARAMETERS = PUBLIC_IMAGE_PARAMETERS
# And for the plain Amazon Linux 2023 the environments' NAT instances start from (CDK's
# MachineImage.latestAmazonLinux2023, read by CloudFormation at deploy).
NAT_IMAGE_PARAMETERS = {
    "x86_64": "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-6.1-x86_64",
    "arm64": "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-6.1-arm64",
}

# For every CDK CLI run against the emulator: nothing may leave the machine (the CLI
# otherwise fetches notices and sends telemetry).
CDK_LOCAL_FLAGS = ["--no-notices"]
CDK_LOCAL_ENV = {"CDK_DISABLE_CLI_TELEMETRY": "true"}


def cdk_environment(local: LocalAws) -> dict[str, str | None]:
    """extra_env for wimpy_cli.cdk.run: the emulator, and nothing of the caller's AWS setup."""
    return {**local.overrides(), **CDK_LOCAL_ENV}


def bootstrap(local: LocalAws) -> dict[str, str]:
    """Run the pinned CDK CLI's `cdk bootstrap aws://ACCOUNT/REGION` against the emulator,
    then make sure the machine image parameters name images the emulated EC2 knows.
    Returns the machine image id for each architecture."""
    with tempfile.TemporaryDirectory(prefix="wimpy-local-bootstrap-") as out:
        cdk.run(["bootstrap", f"aws://{local.account_id}/{local.region}",
                 "--output", out, *CDK_LOCAL_FLAGS],
                what="Bootstrapping the local AWS emulator", extra_env=cdk_environment(local))
    ssm = local.client("ssm")
    try:
        ssm.get_parameter(Name=BOOTSTRAP_VERSION_PARAMETER)
    except ssm.exceptions.ParameterNotFound:
        raise WimpyError(f"cdk bootstrap finished, but the emulator has no "
                         f"{BOOTSTRAP_VERSION_PARAMETER} parameter, which every deploy "
                         "reads") from None
    return seed_machine_images(local)


def seed_machine_images(local: LocalAws) -> dict[str, str]:
    """moto ships some of AWS's public image parameters, pointing at images its EC2 knows;
    for one it lacks (the ECS-optimized image's, or a region it has none for), publish it
    here, pointing at an Amazon Linux 2023 image of the emulated EC2 (as AWS publishes them
    in every region)."""
    ssm, ec2 = local.client("ssm"), local.client("ec2")
    images: dict[str, str] = {}
    for parameters in (NAT_IMAGE_PARAMETERS, MACHINE_IMAGE_PARAMETERS):
        for architecture, name in parameters.items():
            try:
                image_id = ssm.get_parameter(Name=name)["Parameter"]["Value"]
                if ec2.describe_images(ImageIds=[image_id])["Images"]:
                    images[architecture] = image_id
                    continue
            except (ssm.exceptions.ParameterNotFound, ec2.exceptions.ClientError):
                pass
            image_id = _amazon_linux_image(ec2, architecture)
            _publish(local, name, image_id)
            images[architecture] = image_id
    return images  # the application's (published last)


def _amazon_linux_image(ec2: Any, architecture: str) -> str:
    found = ec2.describe_images(Owners=["amazon"], Filters=[
        {"Name": "name", "Values": ["al2023-ami-2023*"]},
        {"Name": "architecture", "Values": [architecture]},
    ])["Images"]
    if not found:
        found = ec2.describe_images(Filters=[
            {"Name": "architecture", "Values": [architecture]}])["Images"]
    if not found:
        raise WimpyError(f"the emulated EC2 knows no {architecture} machine image to stand "
                         "for Amazon Linux 2023")
    return max(found, key=lambda image: image.get("Name", ""))["ImageId"]


def _publish(local: LocalAws, name: str, value: str) -> None:
    """Put a parameter under /aws/, which the SSM API refuses to callers (as AWS does):
    straight into the emulator's SSM backend, in this process."""
    from moto.core.utils import utcnow
    from moto.ssm.models import Parameter, ssm_backends

    # A list of versions per name; reading it first loads moto's own public parameters.
    versions = ssm_backends[local.account_id][local.region]._parameters[name]
    versions.append(Parameter(
        account_id=local.account_id, name=name, value=value, parameter_type="String",
        description=None, allowed_pattern=None, keyid=None, last_modified_date=utcnow(),
        version=len(versions) + 1, data_type="aws:ec2:image",
    ))
