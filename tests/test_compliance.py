"""Compliance gates: cdk-nag AwsSolutions (what a security review starts from) and
cfn-lint (what CloudFormation would reject), on every stack of the example."""

from __future__ import annotations

import json

import pytest

ACKNOWLEDGED = "aws:cdk:acknowledged-rules"


def synth_with_nag(config, outdir):
    import aws_cdk as cdk
    import cdk_nag

    from tests.conftest import synthesize

    app, stacks = synthesize(config, outdir=str(outdir))
    cdk.Validations.of(app).add_plugins(cdk_nag.AwsSolutionsChecks(app))
    return app, stacks


def nag_findings(outdir) -> list[tuple[str, str, str]]:
    report = json.loads((outdir / "validation-report.json").read_text())
    return [(rule["ruleName"], rule["severity"], c["constructPath"])
            for plugin in report["pluginReports"] for rule in plugin.get("violations", [])
            for c in rule["violatingConstructs"]]


def test_no_unacknowledged_awssolutions_error_or_warning(example_config, tmp_path):
    app, _ = synth_with_nag(example_config, tmp_path)
    app.synth()  # raises ValidationFailed on any unacknowledged finding
    assert nag_findings(tmp_path) == []


def test_the_nag_gate_really_fails_on_a_finding(example_config, tmp_path):
    """Guards the test above: an unencrypted, unlogged bucket must fail synthesis."""
    from aws_cdk import aws_s3 as s3

    app, stacks = synth_with_nag(example_config, tmp_path)
    s3.Bucket(stacks.baseline, "CarelessBucket")
    with pytest.raises(Exception, match="ValidationFailed|Validation failed"):
        app.synth()
    rules = {rule for rule, _, path in nag_findings(tmp_path) if "CarelessBucket" in path}
    assert {"AwsSolutions-S1", "AwsSolutions-S10"} <= rules


def test_each_acknowledgement_is_one_finding_on_one_resource_with_a_reason(example_stacks):
    # Wildcard acknowledgements are named at synthesis, once references are resolved.
    example_stacks.baseline.node.root.synth()
    acknowledgements = []
    for stack in example_stacks.all():
        for construct in stack.node.find_all():
            for entry in construct.node.metadata:
                if entry.type == ACKNOWLEDGED and "AwsSolutions" in str(entry.data):
                    assert len(entry.data) == 1, (construct.node.path, entry.data)
                    ((rule, reason),) = entry.data.items()
                    acknowledgements.append((construct.node.path, rule, reason))
    assert acknowledgements, "expected the known, reasoned acknowledgements"
    for path, rule, reason in acknowledgements:
        assert rule.startswith("Annotation::AwsSolutions-"), rule
        assert len(reason) >= 40, (path, rule, reason)
        if "IAM5" in rule:  # wildcard findings are acknowledged for one exact resource
            assert "[" in rule and rule != "Annotation::AwsSolutions-IAM5", rule
    rules = {(path.split("/", 1)[1], rule.split("AwsSolutions-")[1]) for path, rule, _ in acknowledgements}
    assert ("Baseline/LogBucket", "S1") in rules
    assert ("Access/RegistryLoginPolicy", "IAM5[Resource::*]") in rules
    assert ("Access/SessionManagerPolicy", "IAM5[Resource::*]") in rules
    assert ("Access/SessionManagerPolicy/Resource",
            "IAM5[Resource::arn:aws:ec2:eu-west-1:111111111111:instance/*]") in rules
    assert ("Access/InstanceRole/DefaultPolicy/Resource",
            "IAM5[Resource::arn:aws:s3:::wimpy-storage-111111111111-eu-west-1/production/hello/*]") in rules


@pytest.mark.parametrize("stack", ["wimpy-baseline", "wimpy-staging", "wimpy-production",
                                   "wimpy-staging-hello-resources", "wimpy-production-hello-resources",
                                   "wimpy-staging-hello-data", "wimpy-production-hello-data",
                                   "wimpy-staging-hello", "wimpy-production-hello", "wimpy-registry-hello"])
def test_cfn_lint_reports_nothing(templates, stack):
    from cfnlint.api import ManualArgs, lint

    matches = lint(json.dumps(templates[stack]), config=ManualArgs(regions=["eu-west-1"]))
    assert [f"{m.rule.id} {m.message}" for m in matches] == []


def test_cfn_lint_would_catch_a_broken_template(templates):
    """Guards the test above: the linter is live and reads our templates."""
    from cfnlint.api import ManualArgs, lint

    broken = json.loads(json.dumps(templates["wimpy-staging"]))
    vpc = next(r for r in broken["Resources"].values() if r["Type"] == "AWS::EC2::VPC")
    vpc["Properties"]["CidrBlock"] = "10.0.0.0/33"
    matches = lint(json.dumps(broken), config=ManualArgs(regions=["eu-west-1"]))
    assert any(m.rule.id.startswith("E") for m in matches)


def test_offline_synthesis_needs_no_lookup(example_stacks):
    """A context lookup (e.g. the region's zones) fails synthesis without credentials; it
    shows up as an error annotation on the stack."""
    from aws_cdk.assertions import Annotations, Match

    for stack in example_stacks.all():
        assert Annotations.from_stack(stack).find_error("*", Match.any_value()) == [], stack.stack_name


def _resources(templates, kind):
    return [(stack, logical_id, resource) for stack, template in templates.items()
            for logical_id, resource in template["Resources"].items() if resource["Type"] == kind]


def test_every_store_is_encrypted_with_the_master_key(templates):
    """Log groups (the application's, flow logs, the trail's copy), image repositories and
    alarm topics: each names a KMS key, and it is the master key (read from SSM or made in
    the baseline), never an AWS-owned default."""
    master_key = ("/wimpy/baseline/master-key-arn", "BaselineMasterKey")
    kinds = {"AWS::Logs::LogGroup": lambda p: p.get("KmsKeyId"),
             "AWS::ECR::Repository": lambda p: (p.get("EncryptionConfiguration", {}).get("EncryptionType") == "KMS"
                                                and p["EncryptionConfiguration"].get("KmsKey")),
             "AWS::SNS::Topic": lambda p: p.get("KmsMasterKeyId")}
    for kind, key_of in kinds.items():
        found = _resources(templates, kind)
        assert found, kind
        for stack, logical_id, resource in found:
            key = key_of(resource["Properties"])
            assert key, (stack, logical_id, kind)
            reference = json.dumps(key)
            parameters = templates[stack].get("Parameters", {})
            names = {parameters[ref]["Default"] for ref in parameters if ref in reference}
            assert names & {master_key[0]} or master_key[1] in reference, (stack, logical_id, key)


def test_every_alarm_notifies_its_application_topic(templates):
    alarms = _resources(templates, "AWS::CloudWatch::Alarm")
    assert alarms
    for stack, logical_id, alarm in alarms:
        properties = alarm["Properties"]
        for actions in ("AlarmActions", "OKActions"):
            (topic,) = properties[actions]
            parameter = templates[stack]["Parameters"][topic["Ref"]]["Default"]
            assert parameter.endswith("/hello/alarm-topic-arn"), (stack, logical_id, parameter)


def test_alarm_topics_take_only_tls_and_this_accounts_alarms(templates):
    policies = [p for _, _, p in _resources(templates, "AWS::SNS::TopicPolicy")]
    assert len(policies) == 2  # one per environment's application
    for policy in policies:
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        assert any(s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
                   for s in statements)
        (publish,) = [s for s in statements if s["Effect"] == "Allow"]
        assert publish["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
        assert publish["Action"] == "sns:Publish"
        assert publish["Condition"] == {"StringEquals": {"aws:SourceAccount": "111111111111"}}
