"""Two applications, two wimpy.yml files, one account: they share the baseline and the
environments' networks. A deploy whose wimpy.yml disagrees with the deployed foundation
stops before changing anything and names every key that differs; `wimpy baseline` is the
explicit act that changes the foundation. Against the AWS emulator over HTTP."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from wimpy_cli.errors import ExitCode
from wimpy_cli.main import app
from tests.conftest import EXAMPLE

runner = CliRunner()


def write(folder, name, **changes):
    data = yaml.safe_load(EXAMPLE.read_text())
    data["app"]["name"] = name
    for path, value in changes.items():
        *parents, key = path.split(".")
        node = data
        for parent in parents:
            node = node.setdefault(parent, {})
        node[key] = value
    path = folder / f"{name}.yml"
    path.write_text(yaml.safe_dump(data))
    return path


def settings(emulator, stack):
    outputs = emulator.client("cloudformation").describe_stacks(StackName=stack)["Stacks"][0]["Outputs"]
    return json.loads(next(o["OutputValue"] for o in outputs if o["OutputKey"] == "Settings"))


def stack_names(emulator):
    return {s["StackName"] for s in emulator.client("cloudformation").describe_stacks()["Stacks"]}


def test_a_second_app_that_disagrees_stops_before_changing_the_shared_foundation(emulator, tmp_path):
    first = write(tmp_path, "hello")
    result = runner.invoke(app, ["deploy", "-c", str(first), "--env", "staging", "--local", "--version", "v1"])
    assert result.exit_code == 0, result.output
    assert settings(emulator, "wimpy-staging")["environments.staging.cidr"] == "10.0.0.0/16"
    before = settings(emulator, "wimpy-baseline")

    second = write(tmp_path, "other", **{"environments.staging.cidr": "10.9.0.0/16",
                                          "environments.staging.nat_gateways": 2,
                                          "account.log_retention_days": 30})
    result = runner.invoke(app, ["deploy", "-c", str(second), "--env", "staging", "--local", "--version", "v1"])
    assert result.exit_code == ExitCode.INVALID_CONFIG, result.output
    assert "nothing was changed" in result.output
    for line in (f"environments.staging.cidr: {second} says 10.9.0.0/16, but wimpy-staging was deployed with 10.0.0.0/16",
                 f"environments.staging.nat_gateways: {second} says 2, but wimpy-staging was deployed with 1",
                 f"account.log_retention_days: {second} says 30, but wimpy-baseline was deployed with 365"):
        assert line in result.output, result.output
    assert "wimpy baseline" in result.output
    assert settings(emulator, "wimpy-baseline") == before
    assert not {s for s in stack_names(emulator) if "other" in s}  # not even its registry

    # An application that agrees deploys beside the first.
    agreeing = write(tmp_path, "third")
    result = runner.invoke(app, ["deploy", "-c", str(agreeing), "--env", "staging", "--local", "--version", "v1"])
    assert result.exit_code == 0, result.output

    # Changing the shared foundation is an explicit act.
    retention = write(tmp_path, "other", **{"account.log_retention_days": 30})
    result = runner.invoke(app, ["baseline", "-c", str(retention), "--env", "staging", "--local"])
    assert result.exit_code == 0, result.output
    assert settings(emulator, "wimpy-baseline")["account.log_retention_days"] == 30
    result = runner.invoke(app, ["deploy", "-c", str(retention), "--env", "staging", "--local", "--version", "v1"])
    assert result.exit_code == 0, result.output


def test_the_foundation_fingerprint_changes_with_anything_its_templates_depend_on(tmp_path):
    """A deploy skips the foundation only when its fingerprint is the one recorded: any
    change to wimpy.yml, the environment or the target's context makes another."""
    from types import SimpleNamespace

    from wimpy_domain.config import load_config
    from wimpy_cli.deploy.foundation import fingerprint
    from tests.conftest import EXAMPLE

    def run(environment="staging", context=None):
        return SimpleNamespace(environment=environment,
                               target=SimpleNamespace(context=context or {}))

    config = load_config(EXAMPLE)
    same = fingerprint(config, run())
    assert fingerprint(config, run()) == same
    changed = tmp_path / "wimpy.yml"
    changed.write_text(EXAMPLE.read_text().replace("port: 8080", "port: 8081"))
    assert "port: 8081" in changed.read_text()
    assert fingerprint(load_config(changed), run()) != same
    assert fingerprint(config, run(environment="production")) != same
    assert fingerprint(config, run(context={"hosted_zone_id": "Z1"})) != same


def test_the_foundation_fingerprint_covers_the_construct_library_wherever_it_is_installed(tmp_path, monkeypatch):
    """The library is a distribution of its own (library/ here, site-packages once
    installed): its code is found where Python imports it from, and a change to it makes
    another fingerprint."""
    import importlib.util
    import shutil
    from types import SimpleNamespace

    import wimpy_cli.deploy.foundation as foundation
    from tests.conftest import EXAMPLE
    from wimpy_domain.config import load_config

    config = load_config(EXAMPLE)
    run = SimpleNamespace(environment="staging", target=SimpleNamespace(context={}))
    installed = tmp_path / "site-packages" / "wimpy_constructs"
    shutil.copytree(Path(importlib.util.find_spec("wimpy_constructs").origin).parent, installed,
                    ignore=shutil.ignore_patterns("__pycache__"))
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *rest: SimpleNamespace(
        origin=str(installed / "__init__.py")) if name == "wimpy_constructs" else real_find_spec(name, *rest))
    same = foundation.fingerprint(config, run)
    boot_script = installed / "boot" / "boot.sh"
    boot_script.write_text(boot_script.read_text() + "\n# changed\n")
    assert foundation.fingerprint(config, run) != same


class _Deployed:
    """CloudFormation as describe_stacks answers for stacks deployed with these settings."""

    def __init__(self, settings_by_stack):
        self.settings_by_stack = settings_by_stack

    def describe_stacks(self, StackName):  # noqa: N803 (boto3's name)
        return {"Stacks": [{"StackName": StackName, "StackStatus": "UPDATE_COMPLETE", "Outputs": [
            {"OutputKey": "Settings", "OutputValue": json.dumps(self.settings_by_stack[StackName])}]}]}


def test_a_network_deployed_before_nat_was_recorded_is_not_swapped_for_nat_instances_unasked():
    """Such a network has NAT gateways: a wimpy.yml that leaves `nat` at its new default
    (instance) disagrees with it, and the deploy stops naming the key, rather than replace
    the gateways with instances as a side effect."""
    from wimpy_domain.config import load_config
    from wimpy_cli.deploy.foundation import differences

    config = load_config(EXAMPLE)
    recorded = {key: value for key, value in config.environment_settings("production").items()
                if not key.endswith(".nat")}
    deployed = _Deployed({"wimpy-baseline": config.baseline_settings(), "wimpy-production": recorded})
    assert differences(config, "production", deployed) == [
        f"environments.production.nat: {config.source} says instance, but wimpy-production was "
        "deployed with gateway"]
    # Recorded since: the same value is no difference.
    deployed.settings_by_stack["wimpy-production"] = config.environment_settings("production")
    assert differences(config, "production", deployed) == []
