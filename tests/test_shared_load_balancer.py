"""One load balancer for an environment's applications (`environments.<name>.load_balancer:
shared`, the lean profile's default with a hosted zone): what wimpy.yml accepts, what the
stacks hold, and two applications deployed through it on the local data plane, each
reached by its host name's rule, one of them moved by a canary under load."""

from __future__ import annotations

import json

import pytest
import yaml
from typer.testing import CliRunner

from wimpy_domain import naming
from wimpy_domain.config import ConfigError, load_config
from wimpy_cli.main import app
from tests.conftest import IMAGE, MACHINE_IMAGE, cdk_context
from tests.data_plane_support import LoadGenerator, set_version, write_app
from tests.test_local_data_plane import data_plane, deploy, wait_for_answer  # noqa: F401 (a fixture)

runner = CliRunner()
ENV = "staging"
LISTENER_RULE = "AWS::ElasticLoadBalancingV2::ListenerRule"
LOAD_BALANCER = "AWS::ElasticLoadBalancingV2::LoadBalancer"

LEAN = {
    "profile": "lean",
    "app": {"name": "shop", "port": 3000},
    "account": {"id": "111111111111", "region": "eu-west-1",
                "availability_zones": ["eu-west-1a", "eu-west-1b"]},
    "hosted_zone": {"name": "example.com", "id": "Z0123456789ABC"},
    "environments": {"staging": {"cidr": "10.0.0.0/16"}, "production": {"cidr": "10.1.0.0/16"}},
}


def lean(write_config, **changes):
    data = json.loads(json.dumps(LEAN))
    for section, values in changes.items():
        if values is None:
            data.pop(section)
        else:
            data[section] = {**data.get(section, {}), **values}
    return write_config(yaml.safe_dump(data, sort_keys=False))


def problems(path) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    return [str(problem) for problem in raised.value.problems]


# -- wimpy.yml ---------------------------------------------------------------------------

def test_the_lean_profile_shares_a_load_balancer_and_one_nat_in_every_environment(write_config):
    config = load_config(lean(write_config))
    assert [(e.name, e.load_balancer, e.nat_gateways, e.nat) for e in config.environments] == [
        ("staging", "shared", 1, "instance"), ("production", "shared", 1, "instance")]
    standard = load_config(write_config(
        yaml.safe_dump({k: v for k, v in LEAN.items() if k != "profile"}, sort_keys=False),
        name="standard.yml"))
    assert [(e.load_balancer, e.nat_gateways) for e in standard.environments] == [("own", 1), ("own", 2)]


def test_an_environment_keeps_its_own_choice_in_the_lean_profile(write_config):
    config = load_config(lean(write_config, environments={
        "production": {"cidr": "10.1.0.0/16", "load_balancer": "own", "nat_gateways": 2}}))
    production = config.environment("production")
    assert (production.load_balancer, production.nat_gateways) == ("own", 2)
    assert config.environment("staging").load_balancer == "shared"


def test_without_a_hosted_zone_the_lean_profile_keeps_a_load_balancer_per_application(write_config):
    config = load_config(lean(write_config, hosted_zone=None))
    assert {e.load_balancer for e in config.environments} == {"own"}


def test_a_shared_load_balancer_without_a_hosted_zone_is_refused_at_its_key(write_config):
    found = problems(lean(write_config, hosted_zone=None, profile=None, environments={
        "staging": {"cidr": "10.0.0.0/16", "load_balancer": "shared"}}))
    assert len(found) == 1 and "environments.staging.load_balancer: 'shared' needs hosted_zone" in found[0], found


def test_an_unknown_profile_and_load_balancer_name_the_values_accepted(write_config):
    path = write_config(yaml.safe_dump({**LEAN, "profile": "cheap", "environments": {
        "staging": {"cidr": "10.0.0.0/16", "load_balancer": "one"}}}, sort_keys=False))
    found = problems(path)
    assert any("profile: 'cheap' is not a profile; use standard" in line and "or lean" in line
               for line in found), found
    assert any("environments.staging.load_balancer: 'one' is not a load balancer choice; use own"
               in line and "or shared" in line for line in found), found


def test_blue_green_through_dns_on_a_shared_load_balancer_is_refused(write_config):
    found = problems(lean(write_config, deploy={"strategy": "blue-green", "traffic": "dns"}))
    assert len(found) == 1, found
    assert "deploy.traffic: 'dns' gives each release its own load balancer" in found[0]
    assert "environments.staging.load_balancer, environments.production.load_balancer" in found[0]


# -- the stacks --------------------------------------------------------------------------

def synthesized(path, *, release_name=None):
    import aws_cdk as cdk
    from aws_cdk.assertions import Template

    from wimpy_stacks.composition import Release, build_stacks

    app_ = cdk.App(context=cdk_context())
    stacks = build_stacks(app_, load_config(path), environments=["production"], release=Release(
        version="v1", image=IMAGE, machine_image_id=MACHINE_IMAGE, name=release_name))
    return stacks, {stack.stack_name: Template.from_stack(stack).to_json() for stack in stacks.all()}


def resources(template, type_):
    return [r for r in template["Resources"].values() if r["Type"] == type_]


@pytest.fixture(scope="module")
def rolling_on_shared(tmp_path_factory):
    path = tmp_path_factory.mktemp("lean") / "wimpy.yml"
    path.write_text(yaml.safe_dump(LEAN))
    return synthesized(path)


def test_the_environment_has_the_only_load_balancer_and_it_reaches_no_instance_by_itself(rolling_on_shared):
    stacks, templates = rolling_on_shared
    edge = templates[naming.edge_stack("production")]
    assert [name for name, t in templates.items() if resources(t, LOAD_BALANCER)] == [
        naming.edge_stack("production")]
    balancer = resources(edge, LOAD_BALANCER)[0]["Properties"]
    assert balancer["Scheme"] == "internet-facing"
    attributes = {a["Key"]: a["Value"] for a in balancer["LoadBalancerAttributes"]}
    assert attributes["deletion_protection.enabled"] == "true"
    assert attributes["routing.http.drop_invalid_header_fields.enabled"] == "true"
    group = resources(edge, "AWS::EC2::SecurityGroup")[0]["Properties"]
    assert sorted(rule["FromPort"] for rule in group["SecurityGroupIngress"]) == [80, 443]
    # Nothing may leave it but what each application's stack adds (the 255.255.255.255/32
    # rule is CDK's way of writing "no egress").
    assert [rule["CidrIp"] for rule in group["SecurityGroupEgress"]] == ["255.255.255.255/32"]
    https = next(r["Properties"] for r in resources(edge, "AWS::ElasticLoadBalancingV2::Listener")
                 if r["Properties"]["Protocol"] == "HTTPS")
    assert https["DefaultActions"][0]["FixedResponseConfig"]["StatusCode"] == "404"


def test_the_application_adds_a_rule_for_its_host_its_certificate_and_a_way_to_its_port_only(
        rolling_on_shared):
    _, templates = rolling_on_shared
    service = templates[naming.rolling_stack("production", "shop")]
    rule = resources(service, LISTENER_RULE)[0]["Properties"]
    assert rule["Conditions"] == [{"Field": "host-header",
                                   "HostHeaderConfig": {"Values": ["shop.example.com"]}}]
    assert rule["Priority"] == naming.listener_rule_priority("shop")
    assert rule["Actions"][0]["Type"] == "forward"
    assert len(resources(service, "AWS::ElasticLoadBalancingV2::ListenerCertificate")) == 1
    assert resources(service, "AWS::CertificateManager::Certificate")[0]["Properties"]["DomainName"] == \
        "shop.example.com"
    access = templates[naming.application_resources_stack("production", "shop")]
    # No load balancer group of its own: the shared one's, opened to this app's port alone.
    assert len(resources(access, "AWS::EC2::SecurityGroup")) == 2  # instances, databases
    ingress = resources(access, "AWS::EC2::SecurityGroupIngress")
    egress = resources(access, "AWS::EC2::SecurityGroupEgress")
    from_balancer = [r["Properties"] for r in ingress if "SourceSecurityGroupId" in r["Properties"]
                     and r["Properties"]["FromPort"] == 3000]
    assert len(from_balancer) == 1 and from_balancer[0]["ToPort"] == 3000
    to_app = [r["Properties"] for r in egress if r["Properties"].get("FromPort") == 3000]
    assert len(to_app) == 1 and "DestinationSecurityGroupId" in to_app[0]
    assert not any(r["Properties"].get("CidrIp") == "0.0.0.0/0" for r in ingress)


def test_blue_green_on_a_shared_load_balancer_weights_its_releases_in_its_rule(tmp_path):
    path = tmp_path / "wimpy.yml"
    path.write_text(yaml.safe_dump({**LEAN, "deploy": {"strategy": "blue-green"}}))
    stacks, templates = synthesized(path, release_name="v1")
    front = templates[naming.front_stack("production", "shop")]
    assert not resources(front, LOAD_BALANCER)
    actions = resources(front, LISTENER_RULE)[0]["Properties"]["Actions"]
    forward = actions[0]["Fn::If"][1]
    assert forward["Type"] == "forward"
    assert forward["ForwardConfig"]["TargetGroups"][0] == {
        "TargetGroupArn": {"Ref": "LiveTargetGroupArn"}, "Weight": {"Ref": "LiveWeight"}}
    assert not resources(templates[naming.release_stack("production", "shop", "v1")], LOAD_BALANCER)


def test_the_lean_example_has_one_load_balancer_and_one_nat_per_environment_and_costs_less(tmp_path):
    from tests.conftest import EXAMPLE

    def cost(path):
        result = runner.invoke(app, ["cost", "-c", str(path), "--json"])
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    document = cost(EXAMPLE.parent / "lean.yml")
    for environment in ("staging", "production"):
        lines = {line["item"]: line for line in document["groups"][environment]["lines"]}
        assert lines["Application Load Balancers"]["monthly"] == pytest.approx(0.0252 * 730)
        assert lines["NAT instances (t4g.nano)"]["monthly"] == pytest.approx(0.0046 * 730)
    # Against examples/hello: a NAT instance fewer in production and smaller instances.
    assert cost(EXAMPLE)["monthly_total"] - document["monthly_total"] > 35


# -- through the local data plane ----------------------------------------------------------

def lean_app(folder, name: str, version: str, **settings):
    config = write_app(folder, app=name, **settings)
    data = yaml.safe_load(config.read_text())
    config.write_text(yaml.safe_dump({"profile": "lean", **data}, sort_keys=False))
    set_version(folder, version)
    result = deploy(config, version)
    assert result.exit_code == 0, result.output
    url = json.loads(result.stdout)["url"]
    wait_for_answer(url, version)
    return folder, config, url


@pytest.fixture(scope="module")
def two_apps(data_plane, registry, tmp_path_factory):  # noqa: F811 (the fixture imported above)
    alpha = lean_app(tmp_path_factory.mktemp("alpha"), "alpha", "alpha1")
    beta = lean_app(tmp_path_factory.mktemp("beta"), "beta", "beta1", registry=registry.host,
                    strategy="blue-green")
    return alpha, beta


def shared_balancer(emulator):
    from wimpy_cli.deploy import outcome

    found = outcome.read(emulator.client("cloudformation"), naming.edge_stack(ENV))
    assert found is not None and found.succeeded
    return found.outputs["LoadBalancerArn"]


def test_two_applications_share_one_load_balancer_each_reached_by_its_host_name(two_apps, emulator):
    from wimpy_cli.deploy import outcome
    from wimpy_cli.release.routing import listener_weights
    from wimpy_cli.release.session import read_record

    cloudformation, elbv2 = emulator.client("cloudformation"), emulator.client("elbv2")
    arn = shared_balancer(emulator)
    assert [b["LoadBalancerArn"] for b in elbv2.describe_load_balancers()["LoadBalancers"]] == [arn]
    alpha_group = outcome.read(cloudformation, naming.rolling_stack(ENV, "alpha")).outputs["TargetGroupArn"]
    beta_live = read_record(emulator.client("dynamodb"), env=ENV, app="beta").live()
    beta_group = outcome.read(cloudformation, beta_live.stack).outputs["TargetGroupArn"]
    assert listener_weights(elbv2, arn, "alpha.staging.example.com") == [(alpha_group, 1)]
    assert listener_weights(elbv2, arn, "beta.staging.example.com") == [(beta_group, 999)]
    assert listener_weights(elbv2, arn, "gamma.staging.example.com") == []  # the 404
    https = next(listener for listener in elbv2.describe_listeners(LoadBalancerArn=arn)["Listeners"]
                 if listener["Protocol"] == "HTTPS")
    # The environment's default certificate and each application's own.
    assert len(elbv2.describe_listener_certificates(ListenerArn=https["ListenerArn"])["Certificates"]) == 3
    (_, _, alpha_url), (_, _, beta_url) = two_apps
    wait_for_answer(alpha_url, "alpha1", timeout=5)
    wait_for_answer(beta_url, beta_live.version, timeout=5)


def test_a_canary_on_the_shared_load_balancer_fails_no_request_of_either_application(two_apps, tmp_path):
    (_, _, alpha_url), (beta_folder, beta_config, beta_url) = two_apps
    (tmp_path / "alpha").mkdir()
    (tmp_path / "beta").mkdir()
    alpha_load = LoadGenerator(alpha_url, tmp_path / "alpha", pace_ms=10)
    beta_load = LoadGenerator(beta_url, tmp_path / "beta", pace_ms=8)
    try:
        set_version(beta_folder, "beta2")
        result = deploy(beta_config, "beta2")
        assert result.exit_code == 0, result.output
    finally:
        alpha_seen, beta_seen = alpha_load.stop(), beta_load.stop()
    assert beta_seen.requests > 100 and alpha_seen.requests > 100, (alpha_seen, beta_seen)
    assert beta_seen.failed == 0 and alpha_seen.failed == 0, (alpha_seen, beta_seen)
    assert {body for _, body in beta_seen.seen} == {"beta1", "beta2"}
    assert {body for _, body in alpha_seen.seen} == {"alpha1"}
    wait_for_answer(beta_url, "beta2", timeout=5)


def test_switching_strategy_on_a_shared_load_balancer_is_refused_before_anything_changes(two_apps, emulator):
    (alpha_folder, alpha_config, alpha_url), _ = two_apps
    data = yaml.safe_load(alpha_config.read_text())
    switched = alpha_folder / "blue-green.yml"
    switched.write_text(yaml.safe_dump({**data, "deploy": {**data["deploy"], "strategy": "blue-green"}}))
    set_version(alpha_folder, "alpha2")
    result = deploy(switched, "alpha2")
    assert result.exit_code != 0
    assert "shared load balancer" in result.stderr and "Nothing was changed" in result.stderr, result.stderr
    assert "Traceback" not in result.output
    wait_for_answer(alpha_url, "alpha1", timeout=5)
    from wimpy_cli.deploy import outcome
    assert outcome.read(emulator.client("cloudformation"), naming.front_stack(ENV, "alpha")) is None


def test_destroying_one_application_leaves_the_others_and_the_shared_load_balancer(
        two_apps, emulator, tmp_path):
    from wimpy_cli.release.routing import listener_weights

    (_, alpha_config, alpha_url), _ = two_apps
    _, gamma_config, _ = lean_app(tmp_path / "gamma", "gamma", "gamma1")
    elbv2 = emulator.client("elbv2")
    arn = shared_balancer(emulator)
    https = next(listener for listener in elbv2.describe_listeners(LoadBalancerArn=arn)["Listeners"]
                 if listener["Protocol"] == "HTTPS")

    def certificates() -> int:
        return len(elbv2.describe_listener_certificates(ListenerArn=https["ListenerArn"])["Certificates"])

    with_gamma = certificates()
    assert listener_weights(elbv2, arn, "gamma.staging.example.com") != []
    result = runner.invoke(app, ["destroy", "-c", str(gamma_config), "--env", ENV, "--local", "--yes"])
    assert result.exit_code == 0, result.output
    # What is left names the shared load balancer and its fixed monthly price.
    assert f"{naming.edge_stack(ENV)}: the load balancer the environment's applications share" in result.output
    assert f"(${(0.0252 + 2 * 0.005) * 730:,.2f}/month" in result.output
    assert shared_balancer(emulator) == arn
    assert listener_weights(elbv2, arn, "gamma.staging.example.com") == []  # its rule went with it
    assert certificates() == with_gamma - 1  # and its certificate
    wait_for_answer(alpha_url, "alpha1", timeout=10)
    # The network (and its load balancer) still serve the others: destroying it is refused,
    # naming them and not the load balancer, which is the network's.
    refused = runner.invoke(app, ["destroy", "-c", str(gamma_config), "--env", ENV, "--local",
                                  "--yes", "--network"])
    assert refused.exit_code != 0 and "wimpy-staging-alpha" in refused.output, refused.output
    assert naming.edge_stack(ENV) not in refused.output
