"""Unit tests for the test-only IAM evaluator in tests/iam_eval.py."""
import pytest

from tests.iam_eval import evaluate

BUCKET = "arn:aws:s3:::b"
OBJ = f"{BUCKET}/production/web/a.txt"


def policy(*statements):
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(action, resource="*", **extra):
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action, resource="*", **extra):
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


# --- actions -----------------------------------------------------------------

def test_exact_action_allowed_and_default_deny():
    p = [policy(allow("s3:GetObject", OBJ))]
    assert evaluate(p, "s3:GetObject", OBJ)
    assert not evaluate(p, "s3:PutObject", OBJ)
    assert not evaluate([], "s3:GetObject", OBJ)


def test_single_statement_dict_and_action_list():
    p = [{"Version": "2012-10-17", "Statement": allow(["s3:GetObject", "s3:PutObject"], OBJ)}]
    assert evaluate(p, "s3:PutObject", OBJ)
    assert not evaluate(p, "s3:DeleteObject", OBJ)


def test_wildcard_actions():
    p = [policy(allow("s3:Get*"), allow("kms:GenerateDataKey*"), allow("sqs:?eleteMessage"))]
    assert evaluate(p, "s3:GetObject", OBJ)
    assert not evaluate(p, "s3:PutObject", OBJ)
    assert evaluate(p, "kms:GenerateDataKeyWithoutPlaintext", "*")
    assert not evaluate(p, "kms:Decrypt", "*")
    assert evaluate(p, "sqs:DeleteMessage", "*")
    assert not evaluate(p, "sqs:DeleteMessageBatch", "*")
    assert evaluate([policy(allow("*"))], "ec2:RunInstances", "*")


def test_actions_are_case_insensitive():
    p = [policy(allow("S3:get*"))]
    assert evaluate(p, "s3:GetObject", OBJ)
    assert evaluate(p, "S3:GETOBJECT", OBJ)


# --- resources ---------------------------------------------------------------

def test_resource_wildcard_with_trailing_slash():
    p = [policy(allow("s3:GetObject", f"{BUCKET}/production/web/*"))]
    assert evaluate(p, "s3:GetObject", f"{BUCKET}/production/web/a.txt")
    assert evaluate(p, "s3:GetObject", f"{BUCKET}/production/web/deep/er/a.txt")
    assert not evaluate(p, "s3:GetObject", f"{BUCKET}/production/web-other/a.txt")
    assert not evaluate(p, "s3:GetObject", f"{BUCKET}/staging/web/a.txt")
    assert not evaluate(p, "s3:GetObject", BUCKET)


def test_pitfall_prefix_without_trailing_slash_matches_sibling_prefixes():
    """`web*` is a string prefix, not a folder: it also grants web2/, web-other/ ..."""
    p = [policy(allow("s3:GetObject", f"{BUCKET}/production/web*"))]
    assert evaluate(p, "s3:GetObject", f"{BUCKET}/production/web2/x")
    assert evaluate(p, "s3:GetObject", f"{BUCKET}/production/web-other/a.txt")


def test_resource_matching_is_case_sensitive_and_star_crosses_colons():
    p = [policy(allow("s3:GetObject", f"{BUCKET}/Production/*"))]
    assert not evaluate(p, "s3:GetObject", f"{BUCKET}/production/x")
    p = [policy(allow("logs:PutLogEvents", "arn:aws:logs:*:123456789012:log-group:/app/*"))]
    assert evaluate(p, "logs:PutLogEvents",
                    "arn:aws:logs:eu-west-1:123456789012:log-group:/app/web:log-stream:s1")
    assert not evaluate(p, "logs:PutLogEvents",
                        "arn:aws:logs:eu-west-1:999999999999:log-group:/app/web:log-stream:s1")


def test_question_mark_matches_exactly_one_character():
    p = [policy(allow("s3:GetObject", f"{BUCKET}/v?/x"))]
    assert evaluate(p, "s3:GetObject", f"{BUCKET}/v1/x")
    assert not evaluate(p, "s3:GetObject", f"{BUCKET}/v10/x")
    assert not evaluate(p, "s3:GetObject", f"{BUCKET}/v/x")


def test_not_resource():
    p = [policy({"Effect": "Allow", "Action": "s3:*", "NotResource": f"{BUCKET}/secret/*"})]
    assert evaluate(p, "s3:GetObject", OBJ)
    assert not evaluate(p, "s3:GetObject", f"{BUCKET}/secret/k")


# --- effects -----------------------------------------------------------------

def test_explicit_deny_beats_allow_in_any_order_and_policy():
    a, d = allow("s3:*", f"{BUCKET}/*"), deny("s3:DeleteObject", f"{BUCKET}/production/*")
    assert not evaluate([policy(a, d)], "s3:DeleteObject", OBJ)
    assert not evaluate([policy(d), policy(a)], "s3:DeleteObject", OBJ)
    assert evaluate([policy(a, d)], "s3:DeleteObject", f"{BUCKET}/staging/a.txt")
    assert evaluate([policy(a, d)], "s3:GetObject", OBJ)


def test_deny_alone_is_not_an_allow():
    assert not evaluate([policy(deny("s3:DeleteObject"))], "s3:GetObject", OBJ)


def test_not_action():
    p = [policy({"Effect": "Allow", "NotAction": ["iam:*", "s3:Delete*"], "Resource": "*"})]
    assert evaluate(p, "s3:GetObject", OBJ)
    assert not evaluate(p, "iam:CreateUser", "*")
    assert not evaluate(p, "s3:DeleteObject", OBJ)
    # NotAction in a Deny denies everything *except* the listed actions
    p2 = [policy(allow("*"), {"Effect": "Deny", "NotAction": "s3:GetObject", "Resource": "*"})]
    assert evaluate(p2, "s3:GetObject", OBJ)
    assert not evaluate(p2, "s3:PutObject", OBJ)


# --- conditions --------------------------------------------------------------

LIST_WEB = policy(allow("s3:ListBucket", BUCKET, Condition={
    "StringLike": {"s3:prefix": ["production/web/", "production/web/*"]}}))


@pytest.mark.parametrize("prefix", ["production/web/", "production/web/sub/"])
def test_string_like_prefix_allowed(prefix):
    assert evaluate([LIST_WEB], "s3:ListBucket", BUCKET, {"s3:prefix": prefix})


@pytest.mark.parametrize("context", [{"s3:prefix": "staging/"}, {"s3:prefix": "production/web2/"},
                                     {"s3:prefix": "production/web"}, {}, None])
def test_string_like_prefix_denied(context):
    assert not evaluate([LIST_WEB], "s3:ListBucket", BUCKET, context)


def test_string_like_is_a_full_match_with_inner_wildcards():
    p = [policy(allow("s3:ListBucket", BUCKET, Condition={
        "StringLike": {"s3:prefix": ["home/*/docs/", "exact"]}}))]
    assert evaluate(p, "s3:ListBucket", BUCKET, {"s3:prefix": "home/alice/docs/"})
    assert not evaluate(p, "s3:ListBucket", BUCKET, {"s3:prefix": "home/alice/photos/"})
    assert evaluate(p, "s3:ListBucket", BUCKET, {"s3:prefix": "exact"})
    assert not evaluate(p, "s3:ListBucket", BUCKET, {"s3:prefix": "exactly"})


def test_condition_keys_are_case_insensitive_values_are_not():
    assert evaluate([LIST_WEB], "s3:ListBucket", BUCKET, {"S3:Prefix": "production/web/"})
    assert not evaluate([LIST_WEB], "s3:ListBucket", BUCKET, {"s3:prefix": "Production/web/"})


def test_string_equals_and_ignore_case():
    eq = [policy(allow("s3:*", Condition={"StringEquals": {"aws:PrincipalTag/team": "Web"}}))]
    ic = [policy(allow("s3:*", Condition={"StringEqualsIgnoreCase": {"aws:PrincipalTag/team": "Web"}}))]
    assert evaluate(eq, "s3:GetObject", OBJ, {"aws:PrincipalTag/team": "Web"})
    assert not evaluate(eq, "s3:GetObject", OBJ, {"aws:PrincipalTag/team": "web"})
    assert evaluate(ic, "s3:GetObject", OBJ, {"aws:PrincipalTag/team": "web"})


def test_multiple_keys_and_operators_are_anded():
    p = [policy(allow("s3:*", Condition={
        "StringEquals": {"aws:RequestedRegion": "eu-west-1", "aws:PrincipalAccount": "111"},
        "Bool": {"aws:SecureTransport": "true"}}))]
    ok = {"aws:RequestedRegion": "eu-west-1", "aws:PrincipalAccount": "111", "aws:SecureTransport": "true"}
    assert evaluate(p, "s3:GetObject", OBJ, ok)
    for key in ok:
        assert not evaluate(p, "s3:GetObject", OBJ, {**ok, key: "nope"})


def test_string_not_equals_with_missing_key_is_true():
    p = [policy(deny("s3:*", Condition={"StringNotEquals": {"aws:SourceVpc": "vpc-1"}}),
                allow("s3:*"))]
    assert evaluate(p, "s3:GetObject", OBJ, {"aws:SourceVpc": "vpc-1"})
    assert not evaluate(p, "s3:GetObject", OBJ, {"aws:SourceVpc": "vpc-2"})
    assert not evaluate(p, "s3:GetObject", OBJ, {})  # missing key: negated operator -> true -> Deny


def test_negated_operator_with_multiple_values_means_none_match():
    p = [policy(allow("s3:*", Condition={"StringNotLike": {"s3:prefix": ["staging/*", "dev/*"]}}))]
    assert evaluate(p, "s3:ListBucket", BUCKET, {"s3:prefix": "production/"})
    assert not evaluate(p, "s3:ListBucket", BUCKET, {"s3:prefix": "dev/x"})


def test_if_exists():
    cond = {"StringEqualsIfExists": {"ec2:InstanceType": ["t3.micro", "t3.small"]}}
    p = [policy(allow("ec2:RunInstances", Condition=cond))]
    assert evaluate(p, "ec2:RunInstances", "*", {})
    assert evaluate(p, "ec2:RunInstances", "*", {"ec2:InstanceType": "t3.small"})
    assert not evaluate(p, "ec2:RunInstances", "*", {"ec2:InstanceType": "m5.24xlarge"})
    plain = [policy(allow("ec2:RunInstances", Condition={"StringEquals": cond["StringEqualsIfExists"]}))]
    assert not evaluate(plain, "ec2:RunInstances", "*", {})


def test_null():
    absent = [policy(allow("s3:*", Condition={"Null": {"aws:TokenIssueTime": "true"}}))]
    present = [policy(allow("s3:*", Condition={"Null": {"aws:TokenIssueTime": "false"}}))]
    assert evaluate(absent, "s3:GetObject", OBJ, {})
    assert not evaluate(absent, "s3:GetObject", OBJ, {"aws:TokenIssueTime": "2024-01-01T00:00:00Z"})
    assert evaluate(present, "s3:GetObject", OBJ, {"aws:TokenIssueTime": "2024-01-01T00:00:00Z"})
    assert not evaluate(present, "s3:GetObject", OBJ, {})


def test_bool_secure_transport_deny():
    p = [policy(allow("s3:*"), deny("s3:*", Condition={"Bool": {"aws:SecureTransport": "false"}}))]
    assert evaluate(p, "s3:GetObject", OBJ, {"aws:SecureTransport": "true"})
    assert not evaluate(p, "s3:GetObject", OBJ, {"aws:SecureTransport": "false"})
    assert evaluate(p, "s3:GetObject", OBJ, {})  # missing key: Bool (positive) -> false -> no Deny
    json_bool = [policy(allow("s3:*", Condition={"Bool": {"aws:SecureTransport": True}}))]
    assert evaluate(json_bool, "s3:GetObject", OBJ, {"aws:SecureTransport": "true"})


def test_numeric():
    p = [policy(allow("s3:*", Condition={"NumericLessThanEquals": {"s3:max-keys": "10"}}))]
    assert evaluate(p, "s3:ListBucket", BUCKET, {"s3:max-keys": "10"})
    assert not evaluate(p, "s3:ListBucket", BUCKET, {"s3:max-keys": "11"})
    assert not evaluate(p, "s3:ListBucket", BUCKET, {"s3:max-keys": "lots"})
    assert not evaluate(p, "s3:ListBucket", BUCKET, {})


def test_arn_like_and_arn_not_like():
    p = [policy(allow("sns:Publish", Condition={"ArnLike": {"aws:SourceArn": "arn:aws:s3:::b*"}}),
                deny("sns:Publish", Condition={"ArnNotLike": {"aws:SourceArn": "arn:aws:s3:::*"}}))]
    assert evaluate(p, "sns:Publish", "*", {"aws:SourceArn": "arn:aws:s3:::bucket"})
    assert not evaluate(p, "sns:Publish", "*", {"aws:SourceArn": "arn:aws:s3:::other"})
    assert not evaluate(p, "sns:Publish", "*", {})  # ArnLike false (and ArnNotLike true)


def test_for_any_value():
    p = [policy(allow("s3:*", Condition={"ForAnyValue:StringEquals": {"aws:TagKeys": ["env", "team"]}}))]
    assert evaluate(p, "s3:GetObject", OBJ, {"aws:TagKeys": ["owner", "team"]})
    assert not evaluate(p, "s3:GetObject", OBJ, {"aws:TagKeys": ["owner", "cost"]})
    assert not evaluate(p, "s3:GetObject", OBJ, {})  # missing key -> false


def test_for_all_values():
    p = [policy(allow("s3:*", Condition={"ForAllValues:StringEquals": {"aws:TagKeys": ["env", "team"]}}))]
    assert evaluate(p, "s3:GetObject", OBJ, {"aws:TagKeys": ["env", "team"]})
    assert evaluate(p, "s3:GetObject", OBJ, {"aws:TagKeys": "env"})
    assert not evaluate(p, "s3:GetObject", OBJ, {"aws:TagKeys": ["env", "owner"]})
    assert evaluate(p, "s3:GetObject", OBJ, {})  # missing key -> vacuously true (the AWS pitfall)


def test_for_all_values_with_negated_operator():
    p = [policy(allow("s3:*", Condition={"ForAllValues:StringNotEquals": {"aws:TagKeys": ["admin"]}}))]
    assert evaluate(p, "s3:GetObject", OBJ, {"aws:TagKeys": ["env", "team"]})
    assert not evaluate(p, "s3:GetObject", OBJ, {"aws:TagKeys": ["env", "admin"]})


# --- refusing what it does not understand ------------------------------------

@pytest.mark.parametrize("statement", [
    allow({"Fn::Join": ["", ["s3:", "GetObject"]]}),
    allow("s3:GetObject", {"Fn::GetAtt": ["Bucket", "Arn"]}),
    allow("s3:GetObject", [BUCKET, {"Ref": "Bucket"}]),
    allow("s3:GetObject", "${Token[TOKEN.123]}/*"),
    allow("s3:*", Condition={"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}),
    allow("s3:*", Condition={"Fn::If": ["IsProd", {}, {}]}),
    {"Fn::If": ["IsProd", allow("s3:*"), {"Ref": "AWS::NoValue"}]},
])
def test_unresolved_token_raises(statement):
    with pytest.raises(ValueError, match="unresolved token"):
        evaluate([policy(statement)], "s3:GetObject", OBJ)


@pytest.mark.parametrize("operator", ["DateGreaterThan", "StringEqualz", "IpAddress", "ForAnyValue:Null"])
def test_unknown_operator_raises(operator):
    p = [policy(allow("s3:*", Condition={operator: {"aws:SomeKey": "x"}}))]
    with pytest.raises(ValueError, match=operator):
        evaluate(p, "s3:GetObject", OBJ, {"aws:SomeKey": "x"})


def test_unsupported_input_raises_even_after_a_matching_deny():
    p = [policy(deny("s3:*"), allow("s3:*", Condition={"DateLessThan": {"aws:CurrentTime": "2030"}}))]
    with pytest.raises(ValueError, match="DateLessThan"):
        evaluate(p, "s3:GetObject", OBJ)


@pytest.mark.parametrize("statement", [
    {"Effect": "allow", "Action": "s3:*", "Resource": "*"},
    {"Effect": "Allow", "Action": "s3:*"},
    {"Effect": "Allow", "Action": "s3:*", "NotAction": "iam:*", "Resource": "*"},
    {"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Conditions": {}},
    allow("s3:*", "arn:aws:s3:::b/${aws:username}/*"),
])
def test_malformed_or_unsupported_statements_raise(statement):
    with pytest.raises(ValueError):
        evaluate([policy(statement)], "s3:GetObject", OBJ)


def test_principal_is_ignored():
    p = [policy(allow("s3:GetObject", OBJ, Principal={"AWS": "arn:aws:iam::111:root"}))]
    assert evaluate(p, "s3:GetObject", OBJ)
