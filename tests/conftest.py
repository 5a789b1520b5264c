"""Shared fixtures: the example config, and its stacks synthesized once per session with
the same feature flags as a real synthesis (cdk.json's context)."""

from __future__ import annotations

import json
import os
import shutil
import signal
from pathlib import Path

import pytest

from wimpy_cli.toolchain import CDK_APP_DIR, PROJECT_ROOT, use_project_node

use_project_node()  # before anything imports aws_cdk

# The Docker engine, registry and emulator fixtures, for any test module that names them.
pytest_plugins = ["tests.docker_fixtures"]

EXAMPLE = PROJECT_ROOT / "examples" / "hello" / "wimpy.yml"


def cdk_context() -> dict:
    return json.loads((CDK_APP_DIR / "cdk.json").read_text())["context"]


@pytest.fixture(scope="session")
def example_config():
    from wimpy_domain.config import load_config

    return load_config(EXAMPLE)


IMAGE = "111111111111.dkr.ecr.eu-west-1.amazonaws.com/wimpy/hello:v1.0.0"
MACHINE_IMAGE = "ami-0a1b2c3d4e5f60718"


def release(version: str = "v1.0.0", image: str = IMAGE):
    from wimpy_stacks.composition import Release

    return Release(version=version, image=image, machine_image_id=MACHINE_IMAGE)


def synthesize(config, *, with_release: bool = True, **app_kwargs):
    """Build the config's stacks (with a release of v1.0.0 unless told otherwise) into a
    fresh app; returns (app, WimpyStacks)."""
    import aws_cdk as cdk

    from wimpy_stacks.composition import build_stacks

    app = cdk.App(context=cdk_context(), **app_kwargs)
    return app, build_stacks(app, config, release=release() if with_release else None)


@pytest.fixture(scope="session")
def example_stacks(example_config):
    return synthesize(example_config)[1]


@pytest.fixture(scope="session")
def templates(example_stacks) -> dict[str, dict]:
    """Stack name -> synthesized template (a dict), for every stack of the example."""
    from aws_cdk.assertions import Template

    return {stack.stack_name: Template.from_stack(stack).to_json() for stack in example_stacks.all()}


@pytest.fixture
def write_config(tmp_path):
    """Write a wimpy.yml from text and return its path."""
    def write(text: str, name: str = "wimpy.yml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path
    return write


@pytest.fixture(scope="module")
def emulator(tmp_path_factory):
    """One bootstrapped AWS emulator per test module, found by the commands through its
    state file, as `wimpy local start` leaves it (so `--local` commands attach to it)."""
    from wimpy_cli.local.bootstrap import bootstrap
    from wimpy_cli.local.emulator import LocalAws
    from wimpy_cli.local.persistent import write_state

    state = tmp_path_factory.mktemp("local") / "local.json"
    previous = os.environ.get("WIMPY_LOCAL_STATE")
    os.environ["WIMPY_LOCAL_STATE"] = str(state)
    try:
        with LocalAws("111111111111", "eu-west-1") as local:
            write_state(local, bootstrap(local))
            yield local
    finally:
        if previous is None:
            os.environ.pop("WIMPY_LOCAL_STATE", None)
        else:
            os.environ["WIMPY_LOCAL_STATE"] = previous


def require(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        pytest.fail(f"{tool} is not installed; .ci/run and scripts/setup install it")
    return path


# The longest files first. CI runs `-n 2 --dist loadfile --no-loadscope-reorder`: each
# file goes whole to one of two workers, in this order, so a long file that happened to
# start last would leave the other core idle for minutes; the fault-injection matrix and
# the demo take about three minutes each. A stable sort on top of pytest-randomly's
# shuffle keeps every other order random.
LONGEST_FIRST = ("test_local_data_plane.py", "test_fault_injection.py", "test_demo.py", "test_destroy.py",
                 "test_next_hints.py", "test_deploy.py", "test_blue_green_rollback.py",
                 "test_notify.py", "test_shared_load_balancer.py", "test_blue_green.py", "test_foundation.py",
                 "test_strategy_switch.py", "test_hooks.py", "test_install.py")


def pytest_configure(config):
    # A run started in the background by a shell without job control (`cmd &` in a script)
    # inherits SIGINT ignored, and so would every process a test starts: the deploys that
    # kill themselves with SIGINT at a kill point would carry on. Give them what a terminal
    # gives a command: the default SIGINT (children get it on exec, a handler is not kept).
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def pytest_collection_modifyitems(items):
    rank = {name: place for place, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))
