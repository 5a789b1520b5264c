"""Isolation between applications, proven by evaluating every permission an instance role
holds, not by pattern matching.

For every environment x application, every policy attached to its instance role (the
resources stack's and the service stack's inline policies; managed policies are refused,
since AWS's own would have to be evaluated too) is resolved as CloudFormation would and
evaluated with IAM's rules (tests/iam_eval.py) against every other environment x
application, look-alikes included (`web` vs `web-other`): S3 (objects and listing), SSM
(GetParameter, GetParameters, GetParametersByPath), KMS (directly, via SSM, via S3), ECR,
CloudWatch Logs, CloudFormation signals and Auto Scaling launch hooks. A role reaches what is its own and nothing else.
"""

from __future__ import annotations

import dataclasses
import itertools
from types import MappingProxyType

import pytest

from tests.iam_eval import evaluate

ACCOUNT, REGION = "111111111111", "eu-west-1"
BUCKET = f"arn:aws:s3:::wimpy-storage-{ACCOUNT}-{REGION}"
OTHER_BUCKET = f"arn:aws:s3:::someone-else-{ACCOUNT}-{REGION}"
MASTER_KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/00000000-1111-2222-3333-444444444444"
OTHER_KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/99999999-1111-2222-3333-444444444444"
APPS = ("web", "web-other", "api")
ENVIRONMENTS = ("staging", "production")
PAIRS = list(itertools.product(ENVIRONMENTS, APPS))
OBJECT_ACTIONS = ("s3:GetObject", "s3:PutObject", "s3:DeleteObject")
VIA_SSM, VIA_S3 = f"ssm.{REGION}.amazonaws.com", f"s3.{REGION}.amazonaws.com"


def secret_of(env: str, app: str) -> str:
    """Production reads the application's secret; staging sets its own
    (environments.staging.app.secrets), as a team keeps production's out of staging."""
    return f"/{app}/db-password" if env == "production" else f"/{app}/{env}/db-password"


def with_secrets(config, app: str):
    """`config` for application `app`, its DB_PASSWORD secret per environment."""
    environments = tuple(
        dataclasses.replace(environment, app_settings=MappingProxyType({
            **environment.app_settings, "secrets": {"DB_PASSWORD": secret_of(environment.name, app)}}))
        if environment.name != "production" else environment
        for environment in config.environments)
    return dataclasses.replace(config, environments=environments, app=dataclasses.replace(
        config.app, name=app, secrets=MappingProxyType({"DB_PASSWORD": secret_of("production", app)})))


def parameter_arn(name: str) -> str:
    return f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/{name.lstrip('/')}"


def stack_id(name: str) -> str:
    return f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/{name}/0a1b2c3d"


def resolve(value, template: dict, stack_name: str):
    """Resolve the CloudFormation intrinsics these policies use, as CloudFormation would;
    anything else raises, so nothing unresolved reaches the evaluator."""
    if isinstance(value, list):
        return [resolve(v, template, stack_name) for v in value]
    if not isinstance(value, dict):
        return value
    if set(value) == {"Ref"}:
        name = value["Ref"]
        pseudo = {"AWS::Partition": "aws", "AWS::Region": REGION, "AWS::AccountId": ACCOUNT,
                  "AWS::URLSuffix": "amazonaws.com", "AWS::StackId": stack_id(stack_name)}
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
        return separator.join(resolve(p, template, stack_name) for p in parts)
    return {k: resolve(v, template, stack_name) for k, v in value.items()}


def _attached_to_imported_role(policy: dict, template: dict, env: str, app: str) -> bool:
    """A service stack's policy names the role through the role ARN published in SSM."""
    text = repr(policy["Properties"]["Roles"])
    names = {p["Default"] for key, p in template.get("Parameters", {}).items() if key in text}
    return names == {f"/wimpy/{env}/{app}/instance-role-arn"}


@pytest.fixture(scope="module")
def role_policies(example_config) -> dict[tuple[str, str], list[dict]]:
    """(env, app) -> every resolved policy document attached to its instance role."""
    from aws_cdk.assertions import Template

    from tests.conftest import synthesize

    policies = {}
    for app in APPS:
        _, stacks = synthesize(with_secrets(example_config, app))
        for env in ENVIRONMENTS:
            resources = stacks.application_resources[env]
            template = Template.from_stack(resources).to_json()
            (role_id,) = [k for k, r in template["Resources"].items() if r["Type"] == "AWS::IAM::Role"]
            role = template["Resources"][role_id]["Properties"]
            # Managed policies would have to be evaluated too, and AWS's change under us.
            assert "ManagedPolicyArns" not in role and "Policies" not in role, role
            assert not [r for r in template["Resources"].values()
                        if r["Type"] == "AWS::IAM::ManagedPolicy"]
            documents = [resolve(r["Properties"]["PolicyDocument"], template, resources.stack_name)
                         for r in template["Resources"].values()
                         if r["Type"] == "AWS::IAM::Policy" and {"Ref": role_id} in r["Properties"]["Roles"]]
            service = stacks.services[env]
            service_template = Template.from_stack(service).to_json()
            service_policies = [r for r in service_template["Resources"].values()
                                if r["Type"] == "AWS::IAM::Policy"]
            assert all(_attached_to_imported_role(p, service_template, env, app)
                       for p in service_policies)
            assert not [r for r in service_template["Resources"].values()
                        if r["Type"] in ("AWS::IAM::ManagedPolicy", "AWS::IAM::Role")]
            documents += [resolve(p["Properties"]["PolicyDocument"], service_template, service.stack_name)
                          for p in service_policies]
            policies[(env, app)] = documents
    return policies


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
def test_secrets_are_readable_only_by_their_own_application(role_policies, owner):
    policies = role_policies[owner]
    env, app = owner
    for target in PAIRS:
        arn = parameter_arn(secret_of(*target))
        # Each environment's role reads its own secrets only: staging not production's.
        expected = target == owner
        for action in ("ssm:GetParameter", "ssm:GetParameters"):
            assert evaluate(policies, action, arn) is expected, (owner, action, arn)
        # Wimpy's own records of every application stay out of reach, its own included.
        for name in ("deploy-lock", "history", "canary", "machine-image"):
            wimpy_arn = parameter_arn(f"/wimpy/{target[0]}/{target[1]}/{name}")
            assert not evaluate(policies, "ssm:GetParameter", wimpy_arn), (owner, wimpy_arn)
    for path in ("/", f"/{app}", f"/{app}/", "/wimpy", f"/wimpy/{env}/{app}"):
        arn = parameter_arn(path) if path != "/" else f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/"
        assert not evaluate(policies, "ssm:GetParametersByPath", arn), (owner, path)
    for action in ("ssm:PutParameter", "ssm:DeleteParameter", "ssm:DescribeParameters",
                   "ssm:SendCommand", "ssm:StartSession", "secretsmanager:GetSecretValue"):
        assert not evaluate(policies, action, "*"), (owner, action)
        assert not evaluate(policies, action, parameter_arn(secret_of(env, app))), (owner, action)


@pytest.mark.parametrize("owner", PAIRS, ids=lambda p: "/".join(p))
def test_the_master_key_is_usable_only_through_ssm_for_its_secrets_and_s3_for_its_bucket(
        role_policies, owner):
    policies = role_policies[owner]
    env, app = owner
    for action in ("kms:Decrypt", "kms:GenerateDataKey", "kms:Encrypt", "kms:ReEncryptFrom",
                   "kms:CreateGrant", "kms:DescribeKey", "kms:GenerateDataKeyWithoutPlaintext"):
        # Directly, with no service in between: never, whatever context is claimed.
        for context in ({}, {"kms:EncryptionContext:PARAMETER_ARN": parameter_arn(secret_of(env, app))},
                        {"kms:EncryptionContext:aws:s3:arn": BUCKET}):
            assert not evaluate(policies, action, MASTER_KEY, context), (owner, action, context)
    for target in PAIRS:
        via_ssm = {"kms:ViaService": VIA_SSM,
                   "kms:EncryptionContext:PARAMETER_ARN": parameter_arn(secret_of(*target))}
        assert evaluate(policies, "kms:Decrypt", MASTER_KEY, via_ssm) is (target == owner), (owner, target)
        assert not evaluate(policies, "kms:Decrypt", OTHER_KEY, via_ssm)
        assert not evaluate(policies, "kms:Encrypt", MASTER_KEY, via_ssm)
    wimpy_record = {"kms:ViaService": VIA_SSM, "kms:EncryptionContext:PARAMETER_ARN":
                    parameter_arn(f"/wimpy/{owner[0]}/{app}/deploy-lock")}
    assert not evaluate(policies, "kms:Decrypt", MASTER_KEY, wimpy_record)
    for action in ("kms:Decrypt", "kms:GenerateDataKey"):
        own_bucket = {"kms:ViaService": VIA_S3, "kms:EncryptionContext:aws:s3:arn": BUCKET}
        assert evaluate(policies, action, MASTER_KEY, own_bucket), (owner, action)
        assert not evaluate(policies, action, OTHER_KEY, own_bucket)
        for context in ({"kms:ViaService": VIA_S3, "kms:EncryptionContext:aws:s3:arn": OTHER_BUCKET},
                        {"kms:ViaService": VIA_S3},
                        {"kms:ViaService": f"secretsmanager.{REGION}.amazonaws.com",
                         "kms:EncryptionContext:aws:s3:arn": BUCKET}):
            assert not evaluate(policies, action, MASTER_KEY, context), (owner, action, context)


@pytest.mark.parametrize("owner", PAIRS, ids=lambda p: "/".join(p))
def test_images_only_from_its_own_repository(role_policies, owner):
    policies = role_policies[owner]
    for target in APPS:
        repository = f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/wimpy/{target}"
        for action in ("ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"):
            assert evaluate(policies, action, repository) is (target == owner[1]), (owner, target)
        for action in ("ecr:PutImage", "ecr:InitiateLayerUpload", "ecr:DeleteRepository",
                       "ecr:SetRepositoryPolicy"):
            assert not evaluate(policies, action, repository), (owner, action)
    # The login token is account-wide by AWS's design; pulling is what is scoped.
    assert evaluate(policies, "ecr:GetAuthorizationToken", "*")


@pytest.mark.parametrize("owner", PAIRS, ids=lambda p: "/".join(p))
def test_logs_only_to_its_own_log_group(role_policies, owner):
    policies = role_policies[owner]
    for target in PAIRS:
        stream = (f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/wimpy/{target[0]}/{target[1]}"
                  ":log-stream:i-0123")
        assert evaluate(policies, "logs:PutLogEvents", stream) is (target == owner)
        group = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/wimpy/{target[0]}/{target[1]}:*"
        assert not evaluate(policies, "logs:DeleteLogGroup", group)
        assert not evaluate(policies, "logs:GetLogEvents", stream)


@pytest.fixture(scope="module")
def group_logical_id(example_stacks) -> str:
    """The Auto Scaling group's logical id: the same in every application's stack, and part
    of the name CloudFormation gives the group (<stack>-<logical id>-<suffix>)."""
    from aws_cdk.assertions import Template

    resources = Template.from_stack(example_stacks.services["production"]).to_json()["Resources"]
    (logical_id,) = [k for k, r in resources.items() if r["Type"] == "AWS::AutoScaling::AutoScalingGroup"]
    return logical_id


@pytest.mark.parametrize("owner", PAIRS, ids=lambda p: "/".join(p))
def test_completes_the_launch_hook_of_its_own_group_only(role_policies, group_logical_id, owner):
    """The boot script lets its instance into service; no role may do so for another
    application's group (look-alike names included), nor touch its own group otherwise."""
    policies = role_policies[owner]
    for target in PAIRS:
        for stack in (f"wimpy-{target[0]}-{target[1]}", f"wimpy-{target[0]}-{target[1]}--v2"):
            group = (f"arn:aws:autoscaling:{REGION}:{ACCOUNT}:autoScalingGroup:0a1b2c3d-4e5f:"
                     f"autoScalingGroupName/{stack}-{group_logical_id}-1A2B3C4D5E6F")
            allowed = target == owner and "--" not in stack  # this role's rolling stack
            assert evaluate(policies, "autoscaling:CompleteLifecycleAction", group) is allowed, (owner, stack)
            for action in ("autoscaling:UpdateAutoScalingGroup", "autoscaling:SetDesiredCapacity",
                           "autoscaling:TerminateInstanceInAutoScalingGroup",
                           "autoscaling:PutLifecycleHook", "autoscaling:RecordLifecycleActionHeartbeat"):
                assert not evaluate(policies, action, group), (owner, action)


@pytest.mark.parametrize("owner", PAIRS, ids=lambda p: "/".join(p))
def test_signals_only_its_own_stack_and_touches_no_load_balancer(role_policies, owner):
    policies = role_policies[owner]
    for target in PAIRS:
        stack = stack_id(f"wimpy-{target[0]}-{target[1]}")
        assert evaluate(policies, "cloudformation:SignalResource", stack) is (target == owner)
    target_group = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:targetgroup/x/0123"
    for action in ("elasticloadbalancing:DeregisterTargets", "elasticloadbalancing:RegisterTargets",
                   "elasticloadbalancing:ModifyListener", "autoscaling:SetDesiredCapacity"):
        assert not evaluate(policies, action, target_group), (owner, action)
        assert not evaluate(policies, action, "*"), (owner, action)


@pytest.mark.parametrize("owner", PAIRS, ids=lambda p: "/".join(p))
def test_session_manager_works_and_grants_nothing_more(role_policies, owner):
    policies = role_policies[owner]
    instance = f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/i-0123456789abcdef0"
    assert evaluate(policies, "ssm:UpdateInstanceInformation", instance)
    for action in ("ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel",
                   "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel"):
        assert evaluate(policies, action, "*"), action
    for action in ("iam:PassRole", "sts:AssumeRole", "ec2:RunInstances", "ec2:TerminateInstances",
                   "ec2:DescribeInstances", "ssm:GetDocument", "ssm:ListAssociations",
                   "ec2messages:GetMessages", "s3:ListAllMyBuckets", "kms:ListKeys"):
        assert not evaluate(policies, action, "*"), (owner, action)


@pytest.mark.parametrize("owner", PAIRS, ids=lambda p: "/".join(p))
def test_bucket_wide_and_destructive_actions_are_denied(role_policies, owner):
    policies = role_policies[owner]
    env, app = owner
    for action in ("s3:PutBucketPolicy", "s3:DeleteBucket", "s3:PutObjectAcl", "s3:GetBucketAcl",
                   "s3:ListAllMyBuckets"):
        assert not evaluate(policies, action, BUCKET)
        assert not evaluate(policies, action, f"{BUCKET}/{env}/{app}/x")
