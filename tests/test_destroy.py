"""`wimpy destroy` against the AWS emulator over HTTP (real CDK CLI, boto3): it removes what
runs, keeps the data, says what is left and what it costs, and a deploy afterwards simply
works, also after `--network` took the environment's network down. Applications sharing
an environment keep each other's network."""

from __future__ import annotations

import json

import pytest
import yaml
from typer.testing import CliRunner

from wimpy_cli.errors import ExitCode
from wimpy_cli.main import app
from tests.conftest import EXAMPLE

runner = CliRunner()


@pytest.fixture
def configs(tmp_path):
    """hello and a second application, other, in the same account and environments."""
    data = yaml.safe_load(EXAMPLE.read_text())
    hello = tmp_path / "hello.yml"
    hello.write_text(yaml.safe_dump(data))
    data["app"]["name"] = "other"
    other = tmp_path / "other.yml"
    other.write_text(yaml.safe_dump(data))
    return hello, other


def wimpy(*args):
    return runner.invoke(app, [*args, "--local"])


def stacks(emulator) -> set[str]:
    return {s["StackName"] for page in emulator.client("cloudformation").get_paginator(
        "describe_stacks").paginate() for s in page["Stacks"]}


def test_destroy_keeps_data_says_what_is_left_and_a_deploy_afterwards_works(emulator, configs):
    hello, other = configs
    assert wimpy("deploy", "-c", str(hello), "--env", "staging", "--version", "v1").exit_code == 0
    logs = emulator.client("logs")
    logs.create_log_stream(logGroupName="/wimpy/staging/hello", logStreamName="i-0123")

    refused = runner.invoke(app, ["destroy", "-c", str(hello), "--env", "staging", "--local"], input="")
    assert refused.exit_code == ExitCode.USAGE and "add --yes" in refused.output
    assert "wimpy-staging-hello" in stacks(emulator)

    result = wimpy("destroy", "-c", str(hello), "--env", "staging", "--yes", "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert sorted(document["deleted"]) == ["wimpy-staging-hello", "wimpy-staging-hello-resources"]
    left = {item["stack"]: item for item in document["left"]}
    assert set(left) == {"wimpy-staging", "wimpy-staging-hello-data", "wimpy-baseline"}
    # Staging has one NAT instance: (0.0046 $/h t4g.nano + 0.005 $/h its address) x 730 h
    # + 8 GB x 0.088 $ = 7.712 $.
    assert left["wimpy-staging"]["monthly_usd"] == pytest.approx(7.71)
    assert "1 NAT instance(s)" in left["wimpy-staging"]["what"]
    assert left["wimpy-staging"]["remove"] == f"wimpy destroy --env staging -c {hello} --network --local"
    assert left["wimpy-baseline"]["monthly_usd"] == pytest.approx(1.0)  # the master key
    buckets = {b["Name"] for b in emulator.client("s3").list_buckets()["Buckets"]}
    assert "wimpy-storage-111111111111-eu-west-1" in buckets
    streams = logs.describe_log_streams(logGroupName="/wimpy/staging/hello")["logStreams"]
    assert [s["logStreamName"] for s in streams] == ["i-0123"]  # kept, with its streams

    # Deploying again needs nothing deleted by hand.
    again = wimpy("deploy", "-c", str(hello), "--env", "staging", "--version", "v2")
    assert again.exit_code == 0, again.output
    assert logs.describe_log_streams(logGroupName="/wimpy/staging/hello")["logStreams"]


def test_destroy_network_waits_for_the_other_applications_and_keeps_data(emulator, configs):
    hello, other = configs
    for config in (hello, other):
        result = wimpy("deploy", "-c", str(config), "--env", "staging", "--version", "v1")
        assert result.exit_code == 0, result.output

    refused = wimpy("destroy", "-c", str(hello), "--env", "staging", "--network", "--yes")
    assert refused.exit_code == ExitCode.USAGE, refused.output
    assert "wimpy-staging is also used by wimpy-staging-other" in refused.output
    assert "wimpy-staging-hello" in stacks(emulator)  # nothing was deleted

    assert wimpy("destroy", "-c", str(other), "--env", "staging", "--yes").exit_code == 0
    result = wimpy("destroy", "-c", str(hello), "--env", "staging", "--network", "--yes", "--json")
    assert result.exit_code == 0, result.output
    assert "wimpy-staging" in json.loads(result.stdout)["deleted"]
    remaining = stacks(emulator)
    assert "wimpy-staging" not in remaining
    assert {"wimpy-staging-hello-data", "wimpy-staging-other-data", "wimpy-baseline"} <= remaining

    again = wimpy("deploy", "-c", str(hello), "--env", "staging", "--version", "v3")
    assert again.exit_code == 0, again.output
    assert {"wimpy-staging", "wimpy-staging-hello"} <= stacks(emulator)


def test_a_log_group_no_stack_keeps_stops_the_deploy_before_anything_changes(emulator, configs):
    """A group of the application's log group name that no Wimpy stack keeps (hand-made, or
    left by a Wimpy from before the data stack): creating the data stack would fail half-way
    on the name, so the deploy says so first, with a command that reaches the target."""
    hello, _ = configs
    data = yaml.safe_load(hello.read_text())
    data["app"]["name"] = "stray"
    stray = hello.parent / "stray.yml"
    stray.write_text(yaml.safe_dump(data))
    emulator.client("logs").create_log_group(logGroupName="/wimpy/staging/stray")
    before = stacks(emulator)
    result = wimpy("deploy", "-c", str(stray), "--env", "staging", "--version", "v1")
    assert result.exit_code == ExitCode.FAILED, result.output
    assert "the log group /wimpy/staging/stray exists but no stack of Wimpy's keeps it" in result.output
    assert "nothing was deployed" in result.output
    assert f"--endpoint-url {emulator.endpoint}" in result.output
    # Nothing of the app; on the account's first deploy, only the shared baseline (the
    # release record, where the lock the check runs under lives).
    assert stacks(emulator) - before <= {"wimpy-baseline"}
