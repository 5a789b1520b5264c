"""The cost estimate (wimpy_cli/estimate/cost.py) on small hand-written templates and a
hand-written price table with round numbers, so every expected figure is worked out by
hand; the shipped price table; and `wimpy cost` on the example."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from wimpy_cli import reporting
from wimpy_cli.commands.cost import cost
from wimpy_cli.errors import WimpyError
from wimpy_cli.estimate import cost as model
from tests.conftest import EXAMPLE

def _line(usd: float, verified: bool = True) -> dict:
    return {"usd": usd, "source": "round test figure", "verified": verified}


PRICES = {
    "region": "eu-west-1", "currency": "USD", "as_of": "2026-11", "source": "test table",
    "hours_per_month": 100,
    "prices": {key: _line(usd) for key, usd in {
        "nat_gateway_per_hour": 1.0, "nat_gateway_per_gb": 0.5,
        "public_ipv4_per_hour": 0.01, "alb_per_hour": 0.2, "alb_lcu_per_hour": 0.1,
        "ebs_gp3_per_gb_month": 0.1, "kms_key_per_month": 1.0, "kms_per_10k_requests": 0.03,
        "cloudtrail_first_trail": 0.0, "cloudtrail_per_100k_events": 2.0,
        "cloudwatch_logs_ingest_per_gb": 0.5, "cloudwatch_logs_storage_per_gb_month": 0.03,
        "cloudwatch_metric_per_month": 0.3, "cloudwatch_alarm_per_month": 0.1,
        "s3_standard_per_gb_month": 0.02, "route53_zone_per_month": 0.5,
        "route53_per_million_queries": 0.4, "route53_per_million_queries_over_billion": 0.2,
        "ecr_per_gb_month": 0.1, "vended_logs_to_s3_per_gb": 0.25,
    }.items()} | {"nat_gateway_per_hour": {**_line(1.0), "unit": "h"}},
    "instances_per_hour": {"t3.small": _line(0.02), "t3.large": _line(0.08, verified=False)},
}

ASSUME = model.CostAssumptions(
    nat_gb_per_month=10, alb_lcus=1, cloudtrail_gb_per_month=2, cloudtrail_events_per_month=100_000,
    cloudtrail_months_kept=12, kms_requests_per_month=10_000, app_log_gb_per_month=1,
    flow_log_gb_per_month=4, dns_resolvers=10, s3_gb=50, image_gb=0.5,
    detailed_monitoring_metrics=7, deploys_per_month=10)


@pytest.fixture()
def prices(tmp_path: Path) -> model.PriceTable:
    path = tmp_path / "prices.json"
    path.write_text(json.dumps(PRICES))
    return model.load_prices(path)


def network(nats: int = 2, retention: int | None = 365) -> dict:
    resources = {"Flow": {"Type": "AWS::EC2::FlowLog", "Properties": {
        "LogDestinationType": "cloud-watch-logs", "LogGroupName": {"Ref": "FlowLogs"}}},
        "FlowLogs": {"Type": "AWS::Logs::LogGroup",
                     "Properties": {"RetentionInDays": retention} if retention else {}}}
    for index in range(nats):
        resources[f"Eip{index}"] = {"Type": "AWS::EC2::EIP", "Properties": {"Domain": "vpc"}}
        resources[f"Nat{index}"] = {"Type": "AWS::EC2::NatGateway", "Properties": {}}
    return {"Resources": resources}


def application(*, min_size: int = 3, instance_type: str = "t3.small", ttl: int | None = None,
                monitoring: bool = True) -> dict:
    record = ({"TTL": str(ttl), "ResourceRecords": ["1.2.3.4"]} if ttl else
              {"AliasTarget": {"DNSName": {"Fn::GetAtt": ["Alb", "DNSName"]}}})
    return {"Resources": {
        "Alb": {"Type": "AWS::ElasticLoadBalancingV2::LoadBalancer", "Properties": {
            "Type": "application", "Scheme": "internet-facing", "Subnets": ["a", "b"]}},
        "Template": {"Type": "AWS::EC2::LaunchTemplate", "Properties": {"LaunchTemplateData": {
            "InstanceType": instance_type, "Monitoring": {"Enabled": monitoring},
            "BlockDeviceMappings": [{"DeviceName": "/dev/xvda",
                                     "Ebs": {"VolumeSize": 20, "VolumeType": "gp3"}}]}}},
        "Group": {"Type": "AWS::AutoScaling::AutoScalingGroup", "Properties": {
            "MinSize": str(min_size), "MaxSize": "6",
            "LaunchTemplate": {"LaunchTemplateId": {"Ref": "Template"}, "Version": "1"}}},
        "Logs": {"Type": "AWS::Logs::LogGroup",
                 "Properties": {"LogGroupName": "/wimpy/test/app", "RetentionInDays": 30}},
        "Record": {"Type": "AWS::Route53::RecordSet", "Properties": {
            "Name": "app.example.com.", "HostedZoneId": "ZONE1", "Type": "A", **record}},
        "Alarm1": {"Type": "AWS::CloudWatch::Alarm", "Properties": {}},
        "Alarm2": {"Type": "AWS::CloudWatch::Alarm", "Properties": {}},
        "Certificate": {"Type": "AWS::CertificateManager::Certificate", "Properties": {}},
    }}


def baseline(trails: int = 1) -> dict:
    resources = {
        "Key": {"Type": "AWS::KMS::Key", "Properties": {}},
        "TrailLogs": {"Type": "AWS::Logs::LogGroup", "Properties": {"RetentionInDays": 365}},
        "Bucket1": {"Type": "AWS::S3::Bucket", "Properties": {}},
        "Bucket2": {"Type": "AWS::S3::Bucket", "Properties": {}},
        "Repository": {"Type": "AWS::ECR::Repository", "Properties": {
            "RepositoryName": "wimpy/app", "LifecyclePolicy": {"LifecyclePolicyText": json.dumps(
                {"rules": [{"rulePriority": 1, "selection": {
                    "tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 30},
                    "action": {"type": "expire"}}]})}}},
    }
    for index in range(trails):
        resources[f"Trail{index}"] = {"Type": "AWS::CloudTrail::Trail", "Properties": {
            "CloudWatchLogsLogGroupArn": {"Fn::GetAtt": ["TrailLogs", "Arn"]}}}
    return {"Resources": resources}


def lines(estimate: model.CostEstimate, group: str) -> dict[str, float]:
    return {line.item: round(line.monthly, 6) for line in estimate.groups[group]}


def test_an_environment_priced_line_by_line(prices):
    result = model.estimate({"test": {"wimpy-test": network(), "wimpy-test-app": application()}},
                            prices=prices, assumptions=ASSUME)
    got = lines(result, "test")
    assert got["NAT gateways"] == 2 * 1.0 * 100
    assert got["NAT data processed"] == 10 * 0.5
    assert got["Elastic IP addresses (NAT)"] == 2 * 0.01 * 100
    assert got["Application Load Balancers"] == 0.2 * 100
    assert got["Load balancer capacity units"] == 1 * 0.1 * 100
    assert got["Load balancer public IPv4 addresses"] == 2 * 0.01 * 100  # one per subnet
    assert got["EC2 instances (t3.small)"] == 3 * 0.02 * 100  # MinSize, not MaxSize
    assert got["EBS root volumes (gp3)"] == 3 * 20 * 0.1
    assert got["Detailed monitoring"] == round(3 * 7 * 0.3, 6)
    assert got["Logs ingestion (VPC flow logs)"] == 4 * 0.5
    assert got["Logs storage (VPC flow logs)"] == round(4 * 12 * 0.03, 6)  # 365 days = 12 months
    assert got["Logs ingestion (app /wimpy/test/app)"] == 1 * 0.5
    assert got["Logs storage (app /wimpy/test/app)"] == round(1 * (30 / (365 / 12)) * 0.03, 6)
    assert got["CloudWatch alarms"] == round(2 * 0.1, 6)
    assert got["DNS queries (alias record)"] == 0
    assert got["ACM certificates"] == 0
    assert len(got) == 16  # the lines above and no others
    # The zone the record names is charged once, under "account".
    assert lines(result, "account") == {"Route 53 hosted zone": 0.5}
    # By hand: 200 + 5 + 2 + 20 + 10 + 2 + 6 + 6 + 6.3 + 2 + 1.44 + 0.5 + 0.2 = 261.44,
    # plus the app's log storage, 1 GB x (30 days / (365 / 12) days) x 0.03 = 0.0295890...
    assert result.total("test") == pytest.approx(261.44 + 0.03 * 360 / 365)
    assert result.grand_total == pytest.approx(261.44 + 0.03 * 360 / 365 + 0.5)


def test_the_account_baseline(prices):
    result = model.estimate({"account": {"wimpy-baseline": baseline()}}, prices=prices,
                            assumptions=ASSUME)
    got = lines(result, "account")
    assert got["KMS keys"] == 1.0
    assert got["KMS requests"] == 0.03  # 10,000 requests
    assert got["CloudTrail trail (management events)"] == 0  # the first trail is free
    assert "Additional trails" not in got
    assert got["CloudTrail logs in S3"] == round(2 * 12 * 0.02, 6)
    assert got["Logs ingestion (CloudTrail)"] == 2 * 0.5
    assert got["ECR images (wimpy/app)"] == 30 * 0.5 * 0.1
    assert got["S3 storage (2 buckets)"] == 50 * 0.02
    assert "Route 53 hosted zone" not in got  # no record, no zone


def test_a_second_trail_is_charged_per_event(prices):
    got = lines(model.estimate({"account": {"b": baseline(trails=2)}}, prices=prices,
                               assumptions=ASSUME), "account")
    assert got["Additional trails"] == 1 * 100_000 / 100_000 * 2.0


def test_what_the_knobs_change(prices):
    def total(**kwargs) -> float:
        env = network(nats=kwargs.pop("nats", 2))
        return model.estimate({"e": {"n": env, "a": application(**kwargs)}}, prices=prices,
                              assumptions=ASSUME).grand_total

    base = total()
    # The environment above (261.44 + 0.03 x 360/365) and its hosted zone (0.5).
    assert base == pytest.approx(261.94 + 0.03 * 360 / 365)
    assert total(nats=1) == pytest.approx(base - (1.0 + 0.01) * 100)  # a NAT and its address
    assert total(instance_type="t3.large") == pytest.approx(base + 3 * (0.08 - 0.02) * 100)
    assert total(min_size=4) == pytest.approx(base + 0.02 * 100 + 20 * 0.1 + 7 * 0.3)
    assert total(monitoring=False) == pytest.approx(base - 3 * 7 * 0.3)


def test_dns_queries_at_a_ttl_unless_alias(prices):
    got = lines(model.estimate({"e": {"a": application(ttl=60)}}, prices=prices,
                               assumptions=ASSUME), "e")
    # 10 resolvers x (100 h x 3600 s) / 60 s = 60,000 queries x $0.40 per million.
    assert got["DNS queries (TTL 60 s)"] == round(60_000 / 1e6 * 0.4, 6)
    tiered = model._query_cost(1_500_000_000, prices)
    assert tiered == pytest.approx(1000 * 0.4 + 500 * 0.2)


def flow_logs_to(bucket: str, folder: str) -> dict:
    return {"Resources": {"Flow": {"Type": "AWS::EC2::FlowLog", "Properties": {
        "LogDestinationType": "s3", "LogDestination": f"arn:aws:s3:::{bucket}/vpc-flow-logs/{folder}/"}}}}


def log_bucket(name: str, rules: list) -> dict:
    return {"Resources": {"Logs": {"Type": "AWS::S3::Bucket", "Properties": {
        "BucketName": name, "LifecycleConfiguration": {"Rules": rules}}}}}


@pytest.mark.parametrize("rules, months", [
    # The rule for their prefix, in another group's template (the account's bucket).
    ([{"Id": "Old", "NoncurrentVersionExpiration": {"NoncurrentDays": 90}, "Status": "Enabled"},
      {"Id": "Flow", "Prefix": "vpc-flow-logs/", "ExpirationInDays": 730, "Status": "Enabled"}], 24.0),
    # A rule for another prefix, or disabled, does not expire them: a year is shown.
    ([{"Id": "Alb", "Prefix": "alb/", "ExpirationInDays": 30, "Status": "Enabled"}], 12.0),
    ([{"Id": "Flow", "Prefix": "vpc-flow-logs/", "ExpirationInDays": 30, "Status": "Disabled"}], 12.0),
])
def test_flow_logs_in_s3_are_priced_as_vended_logs_kept_as_the_buckets_rule_says(prices, rules, months):
    estimate = model.estimate({"staging": {"wimpy-staging": flow_logs_to("logs-bucket", "staging")},
                               "account": {"wimpy-baseline": log_bucket("logs-bucket", rules)}},
                              prices=prices, assumptions=ASSUME)
    got = {line.item: line.monthly for line in estimate.groups["staging"]}
    assert got == pytest.approx({"Flow logs delivered to S3": 4 * 0.25,
                                 "Flow logs stored in S3": 4 * months * 0.02})
    # Another bucket's rule is not theirs.
    elsewhere = model.estimate({"staging": {"wimpy-staging": flow_logs_to("logs-bucket", "staging")},
                                "account": {"wimpy-baseline": log_bucket("other", rules)}},
                               prices=prices, assumptions=ASSUME)
    assert {line.item: line.monthly for line in elsewhere.groups["staging"]}[
        "Flow logs stored in S3"] == pytest.approx(4 * 12 * 0.02)


def test_log_group_without_retention_is_shown_for_a_year(prices):
    got = lines(model.estimate({"e": {"n": network(retention=None)}}, prices=prices,
                               assumptions=ASSUME), "e")
    assert got["Logs storage (VPC flow logs)"] == round(4 * 12 * 0.03, 6)


def test_blue_green_overlap_window(prices):
    result = model.estimate({"e": {"a": application()}}, prices=prices, assumptions=ASSUME,
                            application_templates={"e": application()},
                            deploy_seconds={"e": (1800, 3600)})
    (overlap,) = result.overlaps
    # A second ALB (0.2/h) + its 2 addresses (0.02/h) + 3 instances (0.06/h) + their
    # volumes (6 $/month / 100 h) + their metrics (6.3 $/month / 100 h); no extra LCUs.
    per_hour = 0.2 + 0.02 + 0.06 + 0.06 + 0.063
    assert overlap.per_hour == pytest.approx(per_hour)
    assert overlap.per_deploy == pytest.approx(per_hour / 2)
    assert overlap.per_deploy_worst == pytest.approx(per_hour)
    assert overlap.per_month == pytest.approx(per_hour / 2 * 10)


def test_an_instance_type_not_in_the_table_names_the_file_to_extend(prices):
    with pytest.raises(WimpyError) as raised:
        model.estimate({"e": {"a": application(instance_type="z9.huge")}}, prices=prices)
    assert "'z9.huge'" in str(raised.value)
    assert prices.path in raised.value.hint and "instances_per_hour" in raised.value.hint


def test_a_broken_price_table_is_refused(tmp_path):
    broken = json.loads(json.dumps(PRICES))
    del broken["prices"]["alb_per_hour"]
    path = tmp_path / "p.json"
    path.write_text(json.dumps(broken))
    with pytest.raises(WimpyError, match="alb_per_hour"):
        model.load_prices(path)
    broken["prices"]["alb_per_hour"] = "cheap"
    path.write_text(json.dumps(broken))
    with pytest.raises(WimpyError, match="prices.alb_per_hour"):
        model.load_prices(path)


def test_the_shipped_price_table():
    table = model.load_prices()
    assert (table.region, table.currency, table.as_of) == ("eu-west-1", "USD", "2026-10")
    assert "transcribed" in table.source and "2026-12-02" in table.source
    assert table.hours_per_month == 730
    # The instance types wimpy.yml's default and the README mention are priced.
    assert table.instance("t3.small") > 0
    assert table.instance("t3.medium") == pytest.approx(2 * table.instance("t3.small"))


def test_the_estimate_reads_literal_counts_only(prices):
    template = application()
    template["Resources"]["Group"]["Properties"]["MinSize"] = {"Ref": "Min"}
    with pytest.raises(WimpyError, match="MinSize"):
        model.estimate({"e": {"a": template}}, prices=prices)


# -- the command ---------------------------------------------------------------------

def test_wimpy_cost_on_the_example():
    app = typer.Typer(pretty_exceptions_enable=False)
    app.command(name="cost")(reporting.reports_errors(cost))

    @app.callback()
    def _root() -> None:
        pass

    result = CliRunner().invoke(app, ["cost", "-c", str(EXAMPLE), "--json",
                                      "--deploys-per-month", "10"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert set(document["groups"]) == {"staging", "production", "account"}
    staging = {line["item"]: line["monthly"] for line in document["groups"]["staging"]["lines"]}
    production = {line["item"]: line["monthly"] for line in document["groups"]["production"]["lines"]}
    account = {line["item"]: line["monthly"] for line in document["groups"]["account"]["lines"]}
    # Worked out by hand from the shipped table's figures (eu-west-1, 2026-10: NAT $0.048/h
    # and $0.048/GB, public IPv4 $0.005/h, ALB $0.0252/h, LCU $0.008/h, t3.small $0.0228/h,
    # gp3 $0.088/GB-month, metric $0.30, alarm $0.10, logs $0.57/GB in and $0.03/GB-month,
    # S3 $0.023/GB-month, KMS $1 a key and $0.03/10k requests, ECR $0.10/GB-month, a zone
    # $0.50), 730 h a month and `wimpy cost`'s default assumptions.
    expected_production = {
        # NAT instances (the default), one per zone: no per-GB charge, unlike a gateway.
        "NAT instances (t4g.nano)": 2 * 0.0046 * 730,  # 6.716
        "NAT instance volumes (gp3)": 2 * 8 * 0.088,  # 1.408
        "NAT instance public IPv4 addresses": 2 * 0.005 * 730,  # 7.3
        "Application Load Balancers": 0.0252 * 730,  # 18.396
        "Load balancer capacity units": 0.5 * 0.008 * 730,  # 2.92
        "Load balancer public IPv4 addresses": 2 * 0.005 * 730,  # 7.3
        "EC2 instances (t3.small)": 2 * 0.0228 * 730,  # 33.288: MinSize 2
        "EBS root volumes (gp3)": 2 * 30 * 0.088,  # 5.28: the ECS-optimized image's 30 GiB
        "Detailed monitoring": 2 * 7 * 0.30,  # 4.2
        # Into the log bucket: vended logs' delivery to S3, then S3 for the 365 days its
        # lifecycle rule keeps them.
        "Flow logs delivered to S3": 5 * 0.285,  # 1.425
        "Flow logs stored in S3": 5 * 12 * 0.023,  # 1.38
        "Logs ingestion (app /wimpy/production/hello)": 2 * 0.57,  # 1.14
        "Logs storage (app /wimpy/production/hello)": 2 * 12 * 0.03,  # 0.72
        "CloudWatch alarms": 3 * 0.10,  # 0.3
        "DNS queries (alias record)": 0.0,
        "ACM certificates": 0.0,
    }
    assert production == pytest.approx(expected_production, abs=1e-6)
    # Staging: one NAT instance, and its own size (environments.staging.app): one t3.micro.
    expected_staging = {
        **{item.replace("production", "staging"): value for item, value in expected_production.items()},
        "NAT instances (t4g.nano)": 1 * 0.0046 * 730,  # 3.358
        "NAT instance volumes (gp3)": 1 * 8 * 0.088,  # 0.704
        "NAT instance public IPv4 addresses": 1 * 0.005 * 730,  # 3.65
        "EC2 instances (t3.micro)": 1 * 0.0114 * 730,  # 8.322
        "EBS root volumes (gp3)": 1 * 30 * 0.088,  # 2.64
        "Detailed monitoring": 1 * 7 * 0.30,  # 2.1
    }
    del expected_staging["EC2 instances (t3.small)"]
    assert staging == pytest.approx(expected_staging, abs=1e-6)
    assert account == pytest.approx({
        "KMS keys": 1.0,
        "KMS requests": 10 * 0.03,  # 100,000 requests: 0.3
        "CloudTrail trail (management events)": 0.0,
        "CloudTrail logs in S3": 1 * 12 * 0.023,  # 0.276
        "Logs ingestion (CloudTrail)": 1 * 0.57,
        "Logs storage (CloudTrail)": 1 * 12 * 0.03,  # 0.36
        "ECR images (wimpy/hello)": 30 * 0.1 * 0.10,  # 0.3
        "S3 storage (2 buckets)": 10 * 0.023,  # 0.23
        "Route 53 hosted zone": 0.5,
    }, abs=1e-6)
    # Production: 6.716 + 1.408 + 7.3 + 18.396 + 2.92 + 7.3 + 33.288 + 5.28 + 4.2 + 1.425
    # + 1.38 + 1.14 + 0.72 + 0.3 = 91.773; staging: one NAT instance less (3.358 + 0.704 +
    # 3.65) and one t3.micro with its volume and metrics (8.322 + 2.64 + 2.1) for two
    # t3.small (33.288 + 5.28 + 4.2): 54.353; the account: 1 + 0.3 + 0.276 + 0.57 + 0.36
    # + 0.3 + 0.23 + 0.5 = 3.536.
    assert {name: group["monthly"] for name, group in document["groups"].items()} == {
        "staging": 54.35, "production": 91.77, "account": 3.54}
    assert document["monthly_total"] == 149.66  # 54.353 + 91.773 + 3.536 = 149.662
    # Two releases overlap during a blue/green deploy: another ALB (0.0252/h), its two
    # addresses (0.01/h), and each environment's instances with their volumes and metrics
    # (per month, over 730 h).
    per_hour = {"production": 0.0252 + 0.01 + 2 * 0.0228 + (5.28 + 4.2) / 730,
                "staging": 0.0252 + 0.01 + 1 * 0.0114 + (2.64 + 2.1) / 730}
    assert [o["environment"] for o in document["blue_green_overlap"]] == ["staging", "production"]
    for overlap in document["blue_green_overlap"]:
        assert overlap["per_hour"] == pytest.approx(per_hour[overlap["environment"]])
        deploy_hours = overlap["expected_seconds"] / 3600
        hourly = per_hour[overlap["environment"]]
        assert overlap["per_deploy"] == pytest.approx(hourly * deploy_hours)
        assert overlap["per_month"] == pytest.approx(hourly * deploy_hours * 10)


@pytest.mark.parametrize("traffic, kept", [("load-balancer", "zero"), ("load-balancer", "warm"),
                                           ("dns", "zero")])
def test_blue_green_prices_the_front_the_live_release_and_the_kept_one_per_mode(tmp_path, traffic, kept):
    """Behind the front, one load balancer per environment (the front's) and a kept release
    pays its alarms, and its instances when warm; through DNS each release, kept ones
    included, has its own load balancer. The overlap of a deploy adds a load balancer only
    through DNS."""
    import yaml

    app = typer.Typer(pretty_exceptions_enable=False)
    app.command(name="cost")(reporting.reports_errors(cost))

    @app.callback()
    def _root() -> None:
        pass

    data = yaml.safe_load((EXAMPLE.parent / "blue-green.yml").read_text())
    data["deploy"].update({"traffic": traffic, "keep_releases": 2, "kept_release_capacity": kept})
    path = tmp_path / "wimpy.yml"
    path.write_text(yaml.safe_dump(data))
    result = CliRunner().invoke(app, ["cost", "-c", str(path), "--env", "production", "--json",
                                      "--deploys-per-month", "10"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    lines = {line["item"]: line["monthly"] for line in document["groups"]["production"]["lines"]}
    alb, addresses = 0.0252 * 730, 2 * 0.005 * 730  # 18.396 and 7.3 a load balancer
    instances = 2 * 0.0228 * 730 + 2 * 30 * 0.088 + 2 * 7 * 0.30  # 33.288 + 5.28 + 4.2
    assert lines["Application Load Balancers"] == pytest.approx(alb)  # the front's or the release's
    assert lines["EC2 instances (t3.small)"] == pytest.approx(2 * 0.0228 * 730)  # the live release
    each = 3 * 0.10 + (instances if kept == "warm" else 0) + (alb + addresses if traffic == "dns" else 0)
    assert lines[f"Kept releases for rollback (2, {kept})"] == pytest.approx(2 * each)
    (overlap,) = document["blue_green_overlap"]
    per_hour = (2 * 0.0228 + (5.28 + 4.2) / 730) + ((0.0252 + 0.01) if traffic == "dns" else 0)
    assert overlap["per_hour"] == pytest.approx(per_hour)


def test_each_choice_is_priced_one_unit_at_a_time():
    """`wimpy cost` prints what each cost choice of wimpy.yml adds a month: a NAT of each
    kind, an instance more of each type, a load balancer (the shipped table's figures)."""
    from wimpy_constructs import defaults

    assert (model.NAT_INSTANCE_TYPE, model.NAT_INSTANCE_ROOT_GIB) == (
        defaults.NAT_INSTANCE_TYPE, defaults.NAT_INSTANCE_ROOT_GIB)
    app = typer.Typer(pretty_exceptions_enable=False)
    app.command(name="cost")(reporting.reports_errors(cost))

    @app.callback()
    def _root() -> None:
        pass

    result = CliRunner().invoke(app, ["cost", "-c", str(EXAMPLE), "--json"])
    assert result.exit_code == 0, result.output
    choices = {line["item"]: line["monthly"] for line in json.loads(result.stdout)["choices"]}
    assert choices == pytest.approx({
        "a NAT gateway (environments.<name>.nat: gateway), each": 0.048 * 730 + 0.005 * 730 + 20 * 0.048,
        "a NAT instance (nat: instance, t4g.nano), each": 0.0046 * 730 + 8 * 0.088 + 0.005 * 730,
        "an instance more (t3.micro; capacity.min + 1)": 0.0114 * 730 + 30 * 0.088 + 7 * 0.30,
        "an instance more (t3.small; capacity.min + 1)": 0.0228 * 730 + 30 * 0.088 + 7 * 0.30,
        "a load balancer (own: per application and environment)": 0.0252 * 730 + 0.5 * 0.008 * 730 + 2 * 0.005 * 730,
        # On a shared one only its own traffic's capacity units are the application's.
        "an application more on a shared load balancer": 0.5 * 0.008 * 730,
    })
