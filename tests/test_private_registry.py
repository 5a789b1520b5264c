"""A private registry other than ECR (registry.url with registry.credentials): instances
log in with credentials kept in SSM (SecureString) or Secrets Manager, which only their own
role may read, through an egress rule for the registry's port; the password reaches Docker
on stdin only. The login itself runs for real: the container script against a registry
with htpasswd auth and the Docker engine."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess

import pytest
import yaml

from wimpy_domain.config import ConfigError, load_config
from tests.iam_eval import evaluate
from tests.test_instance_runtime import build_and_push, free_port, settings_for, write_conf
from wimpy_constructs import boot

ACCOUNT, REGION = "111111111111", "eu-west-1"
SECRET_ARN = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:hello/registry-AbC123"


def write(write_config, **registry):
    data = {"app": {"name": "hello"}, "account": {"id": ACCOUNT, "region": REGION},
            "registry": {"url": "registry.example.com:5000/acme/hello", **registry}}
    return write_config(yaml.safe_dump(data))


def problems(path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return [str(problem) for problem in caught.value.problems]


# -- wimpy.yml -------------------------------------------------------------------------

def test_credentials_name_a_parameter_or_a_secret_and_the_port_comes_from_the_url(write_config):
    config = load_config(write(write_config, credentials="/hello/registry"))
    assert (config.registry.credentials, config.registry.host, config.registry.port) == (
        "/hello/registry", "registry.example.com:5000", 5000)
    config = load_config(write(write_config, credentials=SECRET_ARN, url="ghcr.io/acme/hello"))
    assert (config.registry.credentials, config.registry.port) == (SECRET_ARN, 443)


@pytest.mark.parametrize("registry, expected", [
    ({"credentials": SECRET_ARN.replace(REGION, "us-east-1")},
     "is in us-east-1 of account 111111111111; instances read it in account.region (eu-west-1)"),
    ({"credentials": SECRET_ARN.replace(ACCOUNT, "222222222222")}, "of account 222222222222"),
    ({"credentials": SECRET_ARN.removesuffix("-AbC123")},
     "is not a Secrets Manager secret's full ARN (with the 6 characters AWS adds"),
    ({"credentials": "user:hunter 2"}, "registry.credentials: 'user:hunter 2' is not an SSM parameter name"),
    ({"credentials": "/hello/registry", "url": None},
     "registry.credentials: is only for registry.url; instances log in to ECR with their role"),
])
def test_bad_credentials_are_refused_naming_the_key(write_config, registry, expected):
    if registry.get("url", "") is None:
        registry = {**registry, "url": ""}
    [problem] = problems(write(write_config, **registry))
    assert expected in problem


# -- the stacks ------------------------------------------------------------------------

def synthesized(example_config, credentials: str):
    from aws_cdk.assertions import Template

    from tests.conftest import synthesize
    from tests.test_role_isolation import resolve

    config = dataclasses.replace(example_config, registry=dataclasses.replace(
        example_config.registry, url="registry.example.com:5000/acme/hello", credentials=credentials))
    _, stacks = synthesize(config)
    resources = Template.from_stack(stacks.application_resources["production"]).to_json()
    service = Template.from_stack(stacks.services["production"]).to_json()
    policies = [resolve(r["Properties"]["PolicyDocument"], resources, "wimpy-production-hello-resources")
                for r in resources["Resources"].values() if r["Type"] == "AWS::IAM::Policy"]
    return resources, service, policies


@pytest.mark.parametrize("credentials", ["/hello/registry", SECRET_ARN])
def test_the_role_reads_those_credentials_only_and_reaches_the_registry_port(example_config, credentials):
    resources, service, policies = synthesized(example_config, credentials)
    parameter = f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/hello/registry"
    if credentials.startswith("/"):
        assert evaluate(policies, "ssm:GetParameter", parameter)
        assert not evaluate(policies, "secretsmanager:GetSecretValue", SECRET_ARN)
    else:
        assert evaluate(policies, "secretsmanager:GetSecretValue", SECRET_ARN)
        assert not evaluate(policies, "ssm:GetParameter", parameter)
    for other in (SECRET_ARN.replace("AbC123", "XyZ789"), SECRET_ARN.replace("registry", "registry-other"),
                  f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:*"):
        assert not evaluate(policies, "secretsmanager:GetSecretValue", other), other
    for action in ("secretsmanager:ListSecrets", "secretsmanager:PutSecretValue",
                   "secretsmanager:DescribeSecret"):
        assert not evaluate(policies, action, SECRET_ARN), action
    egress = sorted((rule["FromPort"], rule["ToPort"])
                    for r in resources["Resources"].values()
                    if r["Type"] == "AWS::EC2::SecurityGroupEgress"
                    or (r["Type"] == "AWS::EC2::SecurityGroup"
                        and "instances" in r["Properties"]["GroupDescription"])
                    for rule in ([r["Properties"]] if r["Type"] == "AWS::EC2::SecurityGroupEgress"
                                 else r["Properties"].get("SecurityGroupEgress", []))
                    if rule.get("CidrIp") == "0.0.0.0/0")
    assert egress == [(443, 443), (5000, 5000)]
    user_data = json.dumps(service)
    assert "REGISTRY_LOGIN=credentials" in user_data
    assert f"REGISTRY_CREDENTIALS={credentials}" in user_data


# -- the login, for real ----------------------------------------------------------------

FAKE_AWS = """#!/bin/bash
# Answers the credentials read as the real CLI would: the document, as text.
echo "$*" >> {calls}
case "$1 $2" in
  "ssm get-parameter"|"secretsmanager get-secret-value") cat {document} ;;
  *) exit 1 ;;
esac
"""


@pytest.mark.parametrize("credentials", ["/hello/registry", SECRET_ARN])
def test_prepare_logs_in_with_the_stored_credentials_and_pulls(tmp_path, docker_client, auth_registry,
                                                               credentials):
    port = free_port()
    name = f"wimpy-private-{port}"
    folder = tmp_path / "app"
    folder.mkdir()
    image = build_and_push(docker_client, auth_registry, folder / "build",
                           name="private", port=port, healthy=True)
    user, password = auth_registry.auth_config["username"], auth_registry.auth_config["password"]
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    document = tmp_path / "credentials.json"
    document.write_text(json.dumps({"username": user, "password": password}))
    (bin_dir / "aws").write_text(FAKE_AWS.format(calls=tmp_path / "calls", document=document))
    (bin_dir / "aws").chmod(0o755)
    settings = boot.ContainerSettings(**{**settings_for(image, port, name).__dict__, "secrets": {},
                                         "registry_login": "credentials",
                                         "registry_credentials": credentials})
    conf, _ = write_conf(tmp_path, settings)
    env = {**os.environ, "WIMPY_CONF": str(conf), "PATH": f"{bin_dir}:{os.environ['PATH']}",
           # docker login writes its credentials here, not in this machine's own config
           "DOCKER_CONFIG": str(tmp_path / "docker-config")}
    result = subprocess.run(["bash", str(boot.CONTAINER_SCRIPT), "prepare"], env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert docker_client.images.get(image)  # pulled from the registry that wants a login
    calls = (tmp_path / "calls").read_text().split()
    assert (credentials in calls) and ("--with-decryption" in calls) is credentials.startswith("/")
    assert password not in result.stdout + result.stderr + (tmp_path / "calls").read_text()
    docker_client.images.remove(image, force=True)


def test_the_registry_refuses_an_anonymous_pull(tmp_path, docker_client, auth_registry):
    """Guards the test above: without the login the same pull fails."""
    port = free_port()
    image = build_and_push(docker_client, auth_registry, tmp_path / "build",
                           name="private-anonymous", port=port, healthy=True)
    settings = boot.ContainerSettings(**{**settings_for(image, port, "n").__dict__, "secrets": {}})
    conf, _ = write_conf(tmp_path, settings)
    env = {**os.environ, "WIMPY_CONF": str(conf), "DOCKER_CONFIG": str(tmp_path / "docker-config")}
    result = subprocess.run(["bash", str(boot.CONTAINER_SCRIPT), "prepare"], env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert "no basic auth credentials" in result.stderr or "unauthorized" in result.stderr.lower()
