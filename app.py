"""CDK entry point: reads context (the wimpy.yml path and the environments wanted) and
builds those stacks. Nothing else.

    cdk synth -c config=path/to/wimpy.yml [-c environments=staging,production]
"""

import sys

from cli.toolchain import use_project_node

use_project_node()

import aws_cdk as cdk  # noqa: E402 - after use_project_node, so jsii starts a current Node
import cdk_nag  # noqa: E402

from cli.config import ConfigError, UnknownEnvironment, load_config  # noqa: E402
from stacks.composition import build_stacks  # noqa: E402

app = cdk.App()
config_path = app.node.try_get_context("config") or "examples/hello/wimpy.yml"
wanted = app.node.try_get_context("environments")
try:
    config = load_config(config_path)
    build_stacks(app, config, environments=wanted.split(",") if wanted else None)
except (ConfigError, UnknownEnvironment) as error:
    print(error, file=sys.stderr)
    sys.exit(2)

# Every synthesis is checked against the AWS Solutions rules; an unacknowledged finding
# fails it, with the report in <outdir>/validation-report.json.
cdk.Validations.of(app).add_plugins(cdk_nag.AwsSolutionsChecks(app))
app.synth()
