"""A command that deploys in several steps from the same app and context synthesizes the
CDK app once: the later steps deploy from the cloud assembly the first one wrote
(wimpy_cli/deploy/stacks.py). The CDK CLI is replaced by a recorder here; tests/test_deploy.py
runs the real one through an account's first deploy (baseline, then foundation)."""

from __future__ import annotations

from pathlib import Path

import pytest

from wimpy_cli.deploy import stacks
from wimpy_cli.errors import WimpyError
from wimpy_cli.targets import Target


class RecordedCli(list):
    """Each `cdk` invocation's arguments. A synthesis (an --output folder) writes the
    assembly's manifest, unless `failing` makes the CLI fail before that."""

    failing = False

    def run(self, arguments, *, what, extra_env=None, on_line=None):
        self.append(list(arguments))
        if self.failing:
            raise WimpyError(f"{what} failed")
        if "--output" in arguments:
            folder = Path(arguments[arguments.index("--output") + 1])
            (folder / "manifest.json").write_text("{}")
        return ""


@pytest.fixture()
def calls(monkeypatch):
    recorded = RecordedCli()
    monkeypatch.setattr(stacks.cdk, "run", recorded.run)
    monkeypatch.setattr(stacks, "_raise_if_rolled_back", lambda *args: None)
    monkeypatch.setattr(stacks, "_assemblies", {})
    return recorded


@pytest.fixture()
def run(tmp_path):
    config = tmp_path / "wimpy.yml"
    config.write_text("app: {}\n")
    return stacks.StackDeploy(config_path=config, environment="staging",
                              target=Target(name="aws", client=lambda service: None,
                                            context={"hosted_zone_id": "Z1"}),
                              show=lambda line: None)


def app_of(arguments: list[str]) -> str:
    return arguments[arguments.index("--app") + 1]


def test_steps_from_the_same_app_and_context_synthesize_once(calls, run):
    stacks.deploy(run, ["wimpy-baseline"], exclusively=True, what="baseline")
    stacks.deploy(run, ["wimpy-baseline", "wimpy-staging"], what="foundation")
    first, second = calls
    assert "wimpy_stacks.app" in app_of(first) and "--output" in first
    assembly = Path(first[first.index("--output") + 1])
    # From the folder the first wrote, with no context of its own (it is in the assembly).
    assert app_of(second) == str(assembly) and "--context" not in second and "--output" not in second
    assert second[1:3] == ["wimpy-baseline", "wimpy-staging"] and "--exclusively" not in second
    stacks._forget_assemblies()
    assert not assembly.exists()


def test_another_context_synthesizes_again(calls, run):
    stacks.deploy(run, ["wimpy-staging"], what="foundation")
    stacks.deploy(run, ["wimpy-staging-web"], exclusively=True, what="release",
                  context={"version": "v2", "image": "web:v2"})
    stacks.deploy(run, ["wimpy-staging-web"], exclusively=True, what="release",
                  context={"version": "v3", "image": "web:v3"})
    assert ["wimpy_stacks.app" in app_of(call) for call in calls] == [True, True, True]
    assert "version=v3" in calls[2]


def test_an_assembly_the_cli_did_not_write_whole_is_not_reused(calls, run):
    calls.failing = True
    with pytest.raises(WimpyError):
        stacks.deploy(run, ["wimpy-staging"], what="foundation")
    first_folder = Path(calls[0][calls[0].index("--output") + 1])
    assert not first_folder.exists()
    calls.failing = False
    stacks.deploy(run, ["wimpy-staging"], what="foundation")
    assert "wimpy_stacks.app" in app_of(calls[1]) and "--output" in calls[1]
