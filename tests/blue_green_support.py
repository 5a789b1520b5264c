"""What the blue/green tests share (tests/test_blue_green*.py): a fake clock, an application
of each test's own on the emulator (`site`), and the states tests start from (`v1_live`,
`v2_promoted`, `paused_canary`). Each module's tests share one application whose
foundation is deployed once; `site` removes every release, record and alarm an earlier
test left, so each test runs alone and in any order. The tests are split in two files so that pytest-xdist can run
them on both cores (each file goes to one worker)."""

from __future__ import annotations

import contextlib
import hashlib
import json  # noqa: F401 - for the tests that import * from here
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from wimpy_domain import naming
from wimpy_cli.errors import ExitCode  # noqa: F401 - for the tests that import * from here
from wimpy_cli.main import app as wimpy
from wimpy_cli.phases import Phases
from tests.conftest import EXAMPLE

runner = CliRunner()
ENV = "staging"


class FakeClock:
    """Advances on sleep; `on_sleep` lets a test act during a bake (e.g. raise an alarm)."""

    def __init__(self):
        self.time, self.slept, self.on_sleep = 0.0, 0.0, None

    def now(self):
        return self.time

    def sleep(self, seconds):
        self.time += seconds
        self.slept += seconds
        if self.on_sleep:
            self.on_sleep(self.time)


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture(autouse=True)
def no_real_waiting(monkeypatch):
    """Commands run with the system clock: make it a fake one that records its waits and
    advances by them, so bakes and drains take no real time."""
    from wimpy_cli.release.canary import SystemClock

    waited: list[float] = []
    monkeypatch.setattr(SystemClock, "sleep", lambda self, seconds: waited.append(seconds))
    monkeypatch.setattr(SystemClock, "now", lambda self: sum(waited))
    return waited


@dataclass
class Site:
    """One application, configured for blue/green, in the module's emulator."""

    app: str
    config_path: Path
    config: Any
    target: Any
    run: Any
    clock: Any
    emulator: Any
    templates: Path
    traffic: str = "load-balancer"  # the module's deploy.traffic (its TRAFFIC, if it sets one)

    @property
    def full(self) -> int:
        """The weight that gives a release all the traffic: Route53's or a listener's most."""
        return 255 if self.traffic == "dns" else 999

    def split(self, percent: float):
        from wimpy_cli.release.weights import split_for

        return split_for(percent, self.full)

    def stack(self, version: str) -> str:
        from wimpy_domain import naming
        from wimpy_cli.release.names import release_name

        return naming.release_stack(ENV, self.app, release_name(version))

    def image(self, version: str) -> str:
        return f"111111111111.dkr.ecr.eu-west-1.amazonaws.com/wimpy/{self.app}:{version}"

    def deploy(self, version: str, *, cached: bool = False, **kwargs) -> dict:
        """What `wimpy deploy` does once the foundation is there: the image named in the
        emulator's registry, then the release deployed under the lock and the record.
        `cached`: the release stack from the template the real CDK CLI made at the module's
        start (tests/fault_support.py), for the states tests start from; what a test is
        about is deployed through the CDK CLI."""
        from unittest import mock

        from wimpy_cli.deploy import stacks
        from wimpy_cli.local.images import register_named_image
        from tests.fault_support import deploy_from_templates

        register_named_image(self.target, self.config, version)
        replaced = (mock.patch.object(stacks, "deploy", deploy_from_templates(self.templates))
                    if cached else contextlib.nullcontext())
        with replaced, self.releases(f"deploy {version}") as releases:
            return releases.deploy(version=version, image=self.image(version), **kwargs)

    @contextmanager
    def releases(self, what: str):
        """The BlueGreen a command builds, holding the lock with the record read."""
        from wimpy_cli.release.bluegreen import BlueGreen
        from wimpy_cli.release.session import release_session

        with release_session(self.target.client("dynamodb"), env=ENV, app=self.app, what=what) as session:
            yield BlueGreen(config=self.config, config_path=self.config_path, env=ENV,
                            target=self.target, phases=Phases(), run=self.run, session=session,
                            clock=self.clock)

    def record(self):
        from wimpy_cli.release.session import read_record

        return read_record(self.target.client("dynamodb"), env=ENV, app=self.app)

    def weights(self) -> dict[str, int]:
        """Release stack -> the weight it really has: its Route53 record's (dns), or what
        the front's listener gives its target group (load-balancer; a release the listener
        does not forward to has none)."""
        if self.traffic != "dns":
            return self.listener_weights()
        route53 = self.emulator.client("route53")
        (zone,) = route53.list_hosted_zones_by_name(DNSName="example.com")["HostedZones"]
        records = route53.list_resource_record_sets(HostedZoneId=zone["Id"])["ResourceRecordSets"]
        return {r["SetIdentifier"]: r["Weight"] for r in records
                if r["Name"] == f"{self.app}.{ENV}.example.com." and "SetIdentifier" in r}

    def listener_weights(self) -> dict[str, int]:
        return listener_weights_by_stack(self.emulator, self.app)

    def live(self) -> dict[str, int]:
        return {stack: weight for stack, weight in self.weights().items() if weight}

    def release_stacks(self) -> list[str]:
        from wimpy_domain import naming

        prefix = naming.release_stack(ENV, self.app, "")
        stacks = self.emulator.client("cloudformation").describe_stacks()["Stacks"]
        return sorted(s["StackName"] for s in stacks if s["StackName"].startswith(prefix))

    def parameters(self, stack: str) -> dict[str, str]:
        (described,) = self.emulator.client("cloudformation").describe_stacks(StackName=stack)["Stacks"]
        return {p["ParameterKey"]: p["ParameterValue"] for p in described["Parameters"]}

    def wimpy(self, command: str, *args: str):
        return runner.invoke(wimpy, [command, "-c", str(self.config_path), "--env", ENV, "--local",
                                     *args])


def listener_weights_by_stack(emulator, app: str) -> dict[str, int]:
    """Release stack -> its weight in the application's front listener, as the load
    balancer has it ({} with no front)."""
    from wimpy_cli.deploy import outcome
    from wimpy_cli.release.routing import listener_weights

    cloudformation = emulator.client("cloudformation")
    front = outcome.read(cloudformation, naming.front_stack(ENV, app))
    if front is None:
        return {}
    stacks = {o["OutputValue"]: s["StackName"]
              for page in cloudformation.get_paginator("describe_stacks").paginate() for s in page["Stacks"]
              for o in s.get("Outputs", []) if o["OutputKey"] == "TargetGroupArn"}
    return {stacks.get(group, group): weight for group, weight in
            listener_weights(emulator.client("elbv2"), front.outputs["LoadBalancerArn"])}


@pytest.fixture(scope="module")
def site_foundation(emulator, tmp_path_factory, request):
    """The module's application (configured for blue/green) with its foundation deployed
    once by the real CDK CLI: (name, config path)."""
    from wimpy_cli import targets
    from wimpy_cli.commands.common import load
    from wimpy_cli.deploy import stacks
    from wimpy_cli.deploy.foundation import deploy_foundation

    name = "bg" + hashlib.sha256(request.node.name.encode()).hexdigest()[:8]
    traffic = getattr(request.module, "TRAFFIC", "load-balancer")
    data = yaml.safe_load(EXAMPLE.read_text())
    data["app"]["name"] = name
    data["app"]["deregistration_delay_seconds"] = 30
    data["deploy"] = {"strategy": "blue-green", "traffic": traffic, "keep_releases": 1, "dns_ttl_seconds": 60,
                      "canary": {"steps": [10, 50, 100], "bake_seconds": 300}}
    config_path = tmp_path_factory.mktemp("site") / "wimpy.yml"
    config_path.write_text(yaml.safe_dump(data))
    config = load(config_path, [ENV])
    phases = Phases()
    templates = config_path.parent / "templates"
    templates.mkdir()
    with targets.open_target(config, local=True, phases=phases) as target:
        run = stacks.StackDeploy(config_path=config_path, environment=ENV, target=target,
                                 show=lambda line: None)
        deploy_foundation(run, config, phases)
        _keep_a_release_template(target, run, config, name, templates)
    return name, config_path, templates, traffic


def _keep_a_release_template(target, run, config, name: str, templates: Path) -> None:
    """A release stack made by the real CDK CLI for the placeholder version, its template
    kept for `Site.deploy(cached=True)`, then the stack removed."""
    from wimpy_cli.deploy import machine_image, stacks
    from wimpy_cli.release.bluegreen import delete_release
    from tests.fault_support import PLACEHOLDER, RELEASE_PLACEHOLDER

    stack = naming.release_stack(ENV, name, RELEASE_PLACEHOLDER)
    ami, _ = machine_image.choose(ssm=target.client("ssm"), ec2=target.client("ec2"), env=ENV,
                                  app=name, instance_type=config.app.instance_type,
                                  pinned=config.app.machine_image, update=False)
    image = f"111111111111.dkr.ecr.eu-west-1.amazonaws.com/wimpy/{name}:{PLACEHOLDER}"
    stacks.deploy(run, [stack], exclusively=True, what=f"Deploying {stack}",
                  context={"version": PLACEHOLDER, "image": image, "machine_image": ami,
                           "release": RELEASE_PLACEHOLDER})
    cloudformation = target.client("cloudformation")
    body = cloudformation.get_template(StackName=stack)["TemplateBody"]
    (templates / "release.json").write_text(json.dumps(
        {"stack": stack, "template": body if isinstance(body, str) else json.dumps(body)}))
    delete_release(cloudformation, target.client("elbv2"), stack)


@pytest.fixture
def site(emulator, site_foundation, clock):
    """The module's application with no release yet: whatever an earlier test left (its
    release stacks, its record and lock, its alarms) is removed first, so each test starts
    from the same state whatever ran before it."""
    from wimpy_cli import targets
    from wimpy_cli.commands.common import load
    from wimpy_cli.deploy import stacks
    from wimpy_cli.release.bluegreen import delete_release

    name, config_path, templates, traffic = site_foundation
    config = load(config_path, [ENV])
    with targets.open_target(config, local=True, phases=Phases()) as target:
        run = stacks.StackDeploy(config_path=config_path, environment=ENV, target=target,
                                 show=lambda line: None)
        found = Site(app=name, config_path=config_path, config=config, target=target, run=run,
                     clock=clock, emulator=emulator, templates=templates, traffic=traffic)
        cloudformation = emulator.client("cloudformation")
        front = naming.front_stack(ENV, name)
        if traffic != "dns":  # nothing behind the front's listener: its groups can go
            from wimpy_cli.release.traffic import update_parameters

            update_parameters(cloudformation, front, {"LiveTargetGroupArn": "", "CanaryTargetGroupArn": "",
                                                      "TrafficWeight": "0"})
        for stack in found.release_stacks():
            delete_release(cloudformation, emulator.client("elbv2"), stack)
        dynamodb = emulator.client("dynamodb")
        for kind in ("record", "lock"):
            dynamodb.delete_item(TableName=naming.release_record_table(),
                                 Key={"id": {"S": f"{kind}:{ENV}/{name}"}})
        cloudwatch = emulator.client("cloudwatch")
        alarms = [a["AlarmName"] for a in cloudwatch.describe_alarms(
            AlarmNamePrefix=naming.release_stack(ENV, name, ""))["MetricAlarms"]]
        if alarms:
            cloudwatch.delete_alarms(AlarmNames=alarms)
        yield found


@pytest.fixture
def v1_live(site) -> str:
    """v1.0.0 deployed, taking all traffic; returns its stack."""
    result = site.deploy("v1.0.0", cached=True)
    assert result["status"] == "live", result
    return result["stack"]


@pytest.fixture
def v2_promoted(site, v1_live) -> tuple[str, str]:
    """v2.0.0 canaried and promoted over v1.0.0, which is kept at zero; (v1, v2) stacks."""
    result = site.deploy("v2.0.0", cached=True)
    assert result["status"] == "promoted", result
    return v1_live, result["stack"]


@pytest.fixture
def paused_canary(site, v1_live) -> tuple[str, str]:
    """v4.0.0 deployed with --manual over the live v1.0.0: paused at its first step
    (10 %); (v1, v4) stacks."""
    result = site.deploy("v4.0.0", manual=True, cached=True)
    assert (result["status"], result["share"]) == ("paused", 10.0), result
    return v1_live, result["stack"]


@pytest.fixture
def weights_at_each_step(site, monkeypatch) -> list[dict[str, int]]:
    """The weights (Route53's or the listener's, as `site.weights`) after every traffic
    step of a canary."""
    from wimpy_cli.release import routing

    seen: list[dict[str, int]] = []
    set_split = routing.Router.set_split

    def recording(self, new_stack, old_stack, split):
        set_split(self, new_stack, old_stack, split)
        seen.append(site.weights())
    monkeypatch.setattr(routing.Router, "set_split", recording)
    return seen


def create_release_alarm(emulator, stack, suffix="errors"):
    """The emulator skips AWS::CloudWatch::Alarm in templates: create the alarm the
    template declares, under the same name, through the API."""
    emulator.client("cloudwatch").put_metric_alarm(
        AlarmName=f"{stack}-{suffix}", MetricName="HTTPCode_Target_5XX_Count",
        Namespace="AWS/ApplicationELB", Statistic="Sum", Period=60, EvaluationPeriods=3,
        Threshold=5, ComparisonOperator="GreaterThanThreshold")
