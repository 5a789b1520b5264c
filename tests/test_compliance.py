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
    assert ("Access/InstanceRole/DefaultPolicy/Resource",
            "IAM5[Resource::arn:aws:s3:::wimpy-storage-111111111111-eu-west-1/production/hello/*]") in rules


@pytest.mark.parametrize("stack", ["wimpy-baseline", "wimpy-staging", "wimpy-production",
                                   "wimpy-staging-hello-resources", "wimpy-production-hello-resources",
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
