"""Prefix isolation, proven by evaluation rather than pattern matching.

For every environment x application, the synthesized instance-role policies (tokens
resolved) are evaluated with IAM's rules (tests/iam_eval.py) against every other
environment x application prefix, including look-alikes (`web` vs `web-other`): a role
reaches its own `<env>/<app>/` objects, with the KMS use SSE-KMS needs, and nothing else,
and lists only its own prefix.

The role also carries AWS's AmazonSSMManagedInstanceCore, which grants no S3 or KMS data
access (ssm, ssmmessages, ec2messages only), so the inline policies decide the question.
"""

from __future__ import annotations

import dataclasses
import itertools

import pytest

from tests.iam_eval import evaluate

ACCOUNT, REGION = "111111111111", "eu-west-1"
BUCKET = f"arn:aws:s3:::wimpy-storage-{ACCOUNT}-{REGION}"
MASTER_KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/00000000-1111-2222-3333-444444444444"
OTHER_KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/99999999-1111-2222-3333-444444444444"
APPS = ("web", "web-other", "api")
ENVIRONMENTS = ("staging", "production")
OBJECT_ACTIONS = ("s3:GetObject", "s3:PutObject", "s3:DeleteObject")


def resolve(value, template: dict):
    """Resolve the CloudFormation intrinsics these policies use, as CloudFormation would;
    anything else raises, so nothing unresolved reaches the evaluator."""
    if isinstance(value, list):
        return [resolve(v, template) for v in value]
    if not isinstance(value, dict):
        return value
    if set(value) == {"Ref"}:
        name = value["Ref"]
        pseudo = {"AWS::Partition": "aws", "AWS::Region": REGION, "AWS::AccountId": ACCOUNT}
        if name in pseudo:
            return pseudo[name]
        parameter = template["Parameters"][name]
        if parameter["Default"] == "/wimpy/baseline/master-key-arn":
            return MASTER_KEY
        raise AssertionError(f"unexpected parameter {parameter}")
    if set(value) == {"Fn::GetAtt"}:
        logical_id, attribute = value["Fn::GetAtt"]
        resource = template["Resources"][logical_id]
        if resource["Type"] == "AWS::Logs::LogGroup" and attribute == "Arn":
            return f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{resource['Properties']['LogGroupName']}:*"
        raise AssertionError(f"unexpected GetAtt {value}")
    if set(value) == {"Fn::Join"}:
        separator, parts = value["Fn::Join"]
        return separator.join(resolve(p, template) for p in parts)
    return {k: resolve(v, template) for k, v in value.items()}


@pytest.fixture(scope="module")
def role_policies(example_config) -> dict[tuple[str, str], list[dict]]:
    """(env, app) -> the resolved inline policy documents attached to its instance role."""
    from aws_cdk.assertions import Template

    from tests.conftest import synthesize

    policies = {}
    for app in APPS:
        config = dataclasses.replace(example_config, app=dataclasses.replace(example_config.app, name=app))
        _, stacks = synthesize(config)
        for env in ENVIRONMENTS:
            template = Template.from_stack(stacks.application_resources[env]).to_json()
            (role_id,) = [k for k, r in template["Resources"].items() if r["Type"] == "AWS::IAM::Role"]
            documents = [resolve(r["Properties"]["PolicyDocument"], template)
                         for r in template["Resources"].values()
                         if r["Type"] == "AWS::IAM::Policy"
                         and {"Ref": role_id} in r["Properties"]["Roles"]]
            assert len(documents) == 2  # the default policy and the registry login policy
            policies[(env, app)] = documents
    return policies


PAIRS = list(itertools.product(ENVIRONMENTS, APPS))


@pytest.mark.parametrize("owner", PAIRS, ids=lambda p: "/".join(p))
def test_each_role_reaches_its_own_prefix_and_no_other(role_policies, owner):
    policies = role_policies[owner]
    for target in PAIRS:
        key = f"{BUCKET}/{target[0]}/{target[1]}/reports/2026.csv"
        for action in OBJECT_ACTIONS:
            assert evaluate(policies, action, key) is (target == owner), (owner, action, key)
        listed = evaluate(policies, "s3:ListBucket", BUCKET, {"s3:prefix": f"{target[0]}/{target[1]}/"})
        assert listed is (target == owner), (owner, "ListBucket", target)


@pytest.mark.parametrize("owner", PAIRS, ids=lambda p: "/".join(p))
def test_look_alikes_and_the_rest_of_the_bucket_are_out_of_reach(role_policies, owner):
    policies = role_policies[owner]
    env, app = owner
    for key in (f"{env}/{app}", f"{env}/{app}-other/x", f"{env}/{app}x/x", f"{env}/x",
                f"{app}/{env}/x", "x", f"{env}/{app.upper()}/x"):
        for action in OBJECT_ACTIONS:
            assert not evaluate(policies, action, f"{BUCKET}/{key}"), (owner, action, key)
    for prefix in (None, "", f"{env}/", f"{env}/{app}", f"{env}/{app}-other/"):
        context = {} if prefix is None else {"s3:prefix": prefix}
        assert not evaluate(policies, "s3:ListBucket", BUCKET, context), (owner, prefix)
    # Listing deeper inside its own prefix is fine.
    assert evaluate(policies, "s3:ListBucket", BUCKET, {"s3:prefix": f"{env}/{app}/reports/"})


@pytest.mark.parametrize("owner", PAIRS, ids=lambda p: "/".join(p))
def test_sse_kms_works_with_the_master_key_only(role_policies, owner):
    policies = role_policies[owner]
    for action in ("kms:Decrypt", "kms:GenerateDataKey"):
        assert evaluate(policies, action, MASTER_KEY)
        assert not evaluate(policies, action, OTHER_KEY)
    assert not evaluate(policies, "kms:ReEncryptFrom", MASTER_KEY)
    assert not evaluate(policies, "kms:CreateGrant", MASTER_KEY)


@pytest.mark.parametrize("owner", PAIRS, ids=lambda p: "/".join(p))
def test_bucket_wide_and_destructive_actions_are_denied(role_policies, owner):
    policies = role_policies[owner]
    env, app = owner
    for action in ("s3:PutBucketPolicy", "s3:DeleteBucket", "s3:PutObjectAcl", "s3:GetBucketAcl",
                   "s3:ListAllMyBuckets"):
        assert not evaluate(policies, action, BUCKET)
        assert not evaluate(policies, action, f"{BUCKET}/{env}/{app}/x")


@pytest.mark.parametrize("owner", PAIRS, ids=lambda p: "/".join(p))
def test_logs_only_to_its_own_log_group(role_policies, owner):
    policies = role_policies[owner]
    for target in PAIRS:
        stream = (f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/wimpy/{target[0]}/{target[1]}"
                  ":log-stream:i-0123")
        assert evaluate(policies, "logs:PutLogEvents", stream) is (target == owner)
