"""A deploy whose secrets' SSM parameters do not exist is refused before anything changes,
naming each wimpy.yml key and parameter and how to create it: otherwise the instances
would never become healthy, and the deploy would fail only at the signal timeout (on the
local data plane, at the health timeout: 480 s, then rolled back)."""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber

from wimpy_domain.config import load_config
from wimpy_cli.deploy import secrets
from wimpy_cli.errors import ExitCode, WimpyError
from wimpy_cli.targets import Target

CONFIG = """\
app:
  name: vault
  secrets:
    API_TOKEN: /vault/api-token
    DB_PASSWORD: /vault/db-password
account:
  id: "111111111111"
  region: eu-west-1
environments:
  staging:
    cidr: 10.0.0.0/16
    app:
      secrets:
        DB_PASSWORD: /vault/staging/db-password
  production:
    cidr: 10.1.0.0/16
"""


@pytest.fixture(scope="module")
def config(tmp_path_factory):
    path = tmp_path_factory.mktemp("secrets") / "wimpy.yml"
    path.write_text(CONFIG)
    return load_config(path)


@pytest.fixture(scope="module")
def ssm(emulator):
    client = emulator.client("ssm")
    client.put_parameter(Name="/vault/api-token", Value="t", Type="SecureString", Overwrite=True)
    return client


def target(emulator, *, data_plane: bool) -> Target:
    return Target(name="local", client=emulator.client, endpoint=emulator.endpoint,
                  rollout=object() if data_plane else None)


def test_each_missing_parameter_is_named_at_the_key_that_set_it(config, ssm):
    # Staging's own DB_PASSWORD replaces the application's; production reads the app's.
    assert secrets.missing(config, "staging", ssm) == [
        ("environments.staging.app.secrets.DB_PASSWORD", "/vault/staging/db-password")]
    assert secrets.missing(config, "production", ssm) == [
        ("app.secrets.DB_PASSWORD", "/vault/db-password")]
    ssm.put_parameter(Name="/vault/db-password", Value="p", Type="SecureString", Overwrite=True)
    try:
        assert secrets.missing(config, "production", ssm) == []
    finally:
        ssm.delete_parameter(Name="/vault/db-password")


def test_a_deploy_is_refused_with_the_command_that_creates_it(config, ssm, emulator):
    notes = []
    with pytest.raises(WimpyError) as refused:
        secrets.refuse_missing(config, "staging", target(emulator, data_plane=True), note=notes.append)
    assert refused.value.code == ExitCode.USAGE
    assert "environments.staging.app.secrets.DB_PASSWORD: /vault/staging/db-password" in str(refused.value)
    assert "nothing was deployed" in str(refused.value)
    assert (f"aws ssm put-parameter --name /vault/staging/db-password --type SecureString --value '...' "
            f"--region eu-west-1 --endpoint-url {emulator.endpoint}") in refused.value.hint
    assert notes == []


def test_without_the_data_plane_no_instance_reads_them_so_it_is_only_said(config, ssm, emulator):
    notes = []
    secrets.refuse_missing(config, "staging", target(emulator, data_plane=False), note=notes.append)
    assert len(notes) == 1 and "a deploy to AWS would be refused" in notes[0]
    assert "environments.staging.app.secrets.DB_PASSWORD (/vault/staging/db-password)" in notes[0]


def test_an_identity_that_may_not_list_parameters_is_told_it_was_not_checked(config):
    client = boto3.client("ssm", region_name="eu-west-1", aws_access_key_id="x",
                          aws_secret_access_key="x")
    notes = []
    with Stubber(client) as stub:
        stub.add_client_error("describe_parameters", service_error_code="AccessDeniedException")
        secrets.refuse_missing(config, "staging", Target(name="aws", client=lambda service: client),
                               note=notes.append)
    assert len(notes) == 1 and "could not check" in notes[0]
