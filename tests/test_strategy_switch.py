"""Moving a running application from one strategy to the other, against the AWS emulator
over HTTP (real CDK CLI, boto3): all traffic ends on the new strategy's release, the old
strategy's stacks are retired, and `status` agrees. Waits run on a fake clock."""

from __future__ import annotations

import json

import pytest
import yaml
from typer.testing import CliRunner

from wimpy_cli.main import app
from tests.conftest import EXAMPLE

runner = CliRunner()


@pytest.fixture(autouse=True)
def no_real_waiting(monkeypatch):
    from wimpy_cli.release.canary import SystemClock

    waited: list[float] = []
    monkeypatch.setattr(SystemClock, "sleep", lambda self, seconds: waited.append(seconds))
    monkeypatch.setattr(SystemClock, "now", lambda self: sum(waited))
    return waited


def write_config(folder, strategy: str):
    data = yaml.safe_load(EXAMPLE.read_text())
    data["deploy"] = {"strategy": strategy, "keep_releases": 1, "dns_ttl_seconds": 60,
                      "canary": {"steps": [10, 100], "bake_seconds": 60}}
    path = folder / f"{strategy}.yml"
    path.write_text(yaml.safe_dump(data))
    return path


def deploy(config, version):
    result = runner.invoke(app, ["deploy", "-c", str(config), "--env", "staging", "--local",
                                 "--version", version])
    assert result.exit_code == 0, result.output


def weights(emulator) -> dict[str, int]:
    """set identifier (the stack) -> Route53 weight of the application's record."""
    route53 = emulator.client("route53")
    (zone,) = [z for z in route53.list_hosted_zones()["HostedZones"] if z["Name"] == "example.com."]
    records = route53.list_resource_record_sets(HostedZoneId=zone["Id"])["ResourceRecordSets"]
    return {r["SetIdentifier"]: r["Weight"] for r in records if "SetIdentifier" in r}


def listener(emulator) -> dict[str, int]:
    from tests.blue_green_support import listener_weights_by_stack

    return listener_weights_by_stack(emulator, "hello")


def live_stacks(emulator) -> set[str]:
    cloudformation = emulator.client("cloudformation")
    return {s["StackName"] for page in cloudformation.get_paginator("describe_stacks").paginate()
            for s in page["Stacks"] if s["StackName"].startswith("wimpy-staging-hello")
            and not s["StackName"].endswith(("-resources", "-data", "-front"))}


def test_rolling_to_blue_green_and_back_moves_all_traffic(emulator, tmp_path, no_real_waiting):
    rolling, blue_green = write_config(tmp_path, "rolling"), write_config(tmp_path, "blue-green")

    deploy(rolling, "v1.0.0")
    assert live_stacks(emulator) == {"wimpy-staging-hello"}

    # To blue/green: the rolling stack is the canary's baseline, then retired.
    result = runner.invoke(app, ["deploy", "-c", str(blue_green), "--env", "staging", "--local",
                                 "--version", "v2.0.0"])
    assert result.exit_code == 0, result.output
    (release,) = live_stacks(emulator)
    assert release.startswith("wimpy-staging-hello--v2-0-0-")
    # Behind the application's load balancer (deploy.traffic's default), whose record took
    # the name's traffic from the rolling stack's record by DNS weights.
    assert weights(emulator) == {"wimpy-staging-hello-front": 255}
    assert listener(emulator) == {release: 999}
    # The canary ran against the rolling stack, and its steps were watched for their TTL
    # and bake (10% for 60 + 60 s, 100% for 2 x 60 + 60 s), then the retirement waited.
    assert "v2.0.0 against v1.0.0 (wimpy-staging-hello)" in result.output, result.output
    assert sum(no_real_waiting) >= 120 + 180
    status = runner.invoke(app, ["status", "-c", str(blue_green), "--env", "staging", "--local", "--json"])
    assert status.exit_code == 0, status.output
    rows = json.loads(status.stdout)["releases"]
    assert {r["stack"]: r["share"] for r in rows} == {release: 100.0}
    # No instance boots in the emulator: status does not claim any is in service or healthy.
    assert [(r["instances"], r["health"]) for r in rows] == [(None, None)]

    # And back to rolling: the new rolling stack takes everything once healthy.
    result = runner.invoke(app, ["deploy", "-c", str(rolling), "--env", "staging", "--local",
                                 "--version", "v3.0.0"])
    assert result.exit_code == 0, result.output
    assert live_stacks(emulator) == {"wimpy-staging-hello"}
    # The blue/green load balancer went with its last release.
    assert weights(emulator) == {"wimpy-staging-hello": 255}
    assert listener(emulator) == {}
