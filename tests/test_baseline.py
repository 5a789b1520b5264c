"""The account baseline: an audit trail that cannot be quietly altered, the master key,
and buckets that are private, encrypted, versioned, TLS-only and retained."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def baseline(example_stacks):
    from aws_cdk.assertions import Template

    return Template.from_stack(example_stacks.baseline)


def resources_of(template, type_):
    return template.find_resources(type_)


def test_trail_is_multi_region_validated_encrypted_and_in_cloudwatch(baseline):
    from aws_cdk.assertions import Match

    baseline.has_resource_properties("AWS::CloudTrail::Trail", {
        "IsMultiRegionTrail": True,
        "IncludeGlobalServiceEvents": True,
        "EnableLogFileValidation": True,
        "IsLogging": True,
        "KMSKeyId": {"Fn::GetAtt": [Match.string_like_regexp("MasterKey"), "Arn"]},
        "CloudWatchLogsLogGroupArn": {"Fn::GetAtt": [Match.string_like_regexp("TrailLogGroup"), "Arn"]},
        "S3BucketName": {"Ref": Match.string_like_regexp("LogBucket")},
    })


def test_trail_log_group_has_retention_encryption_and_is_kept(baseline):
    from aws_cdk.assertions import Match

    baseline.has_resource("AWS::Logs::LogGroup", {
        "Properties": {"RetentionInDays": 365,
                       "KmsKeyId": {"Fn::GetAtt": [Match.string_like_regexp("MasterKey"), "Arn"]}},
        "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain",
    })


def test_master_key_rotates_has_an_alias_and_is_kept(baseline):
    baseline.has_resource("AWS::KMS::Key", {
        "Properties": {"EnableKeyRotation": True},
        "DeletionPolicy": "Retain",
    })
    baseline.has_resource_properties("AWS::KMS::Alias", {"AliasName": "alias/wimpy/master"})


def test_master_key_lets_cloudtrail_and_logs_in_only_for_this_account(baseline):
    (key,) = resources_of(baseline, "AWS::KMS::Key").values()
    statements = {s.get("Sid"): s for s in key["Properties"]["KeyPolicy"]["Statement"]}
    trail = statements["AllowCloudTrailToEncryptLogs"]
    assert trail["Principal"] == {"Service": "cloudtrail.amazonaws.com"}
    assert trail["Condition"]["StringEquals"] == {"aws:SourceAccount": "111111111111"}
    logs = statements["AllowCloudWatchLogsOfThisAccount"]
    assert logs["Condition"]["ArnLike"] == {
        "kms:EncryptionContext:aws:logs:arn": "arn:aws:logs:eu-west-1:111111111111:log-group:*"}
    alarms = statements["AllowAlarmsOfThisAccountToPublishEncrypted"]
    assert alarms["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert alarms["Action"] == ["kms:Decrypt", "kms:GenerateDataKey*"]
    assert alarms["Condition"] == {"StringEquals": {"aws:SourceAccount": "111111111111"}}


@pytest.mark.parametrize("bucket_name", ["wimpy-logs-111111111111-eu-west-1",
                                         "wimpy-storage-111111111111-eu-west-1"])
def test_buckets_are_private_versioned_encrypted_and_retained(baseline, bucket_name):
    buckets = {b["Properties"]["BucketName"]: b for b in resources_of(baseline, "AWS::S3::Bucket").values()}
    bucket = buckets[bucket_name]
    props = bucket["Properties"]
    assert bucket["DeletionPolicy"] == "Retain" and bucket["UpdateReplacePolicy"] == "Retain"
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True, "BlockPublicPolicy": True,
        "IgnorePublicAcls": True, "RestrictPublicBuckets": True}
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"]


def test_storage_bucket_uses_the_master_key_and_logs_access(baseline):
    from aws_cdk.assertions import Match

    baseline.has_resource_properties("AWS::S3::Bucket", {
        "BucketName": "wimpy-storage-111111111111-eu-west-1",
        "BucketEncryption": {"ServerSideEncryptionConfiguration": [{
            "BucketKeyEnabled": True,
            "ServerSideEncryptionByDefault": {
                "SSEAlgorithm": "aws:kms",
                "KMSMasterKeyID": {"Fn::GetAtt": [Match.string_like_regexp("MasterKey"), "Arn"]}},
        }]},
        "LoggingConfiguration": {"DestinationBucketName": {"Ref": Match.string_like_regexp("LogBucket")},
                                 "LogFilePrefix": "s3-access/storage/"},
    })


def test_log_bucket_is_sse_s3_so_load_balancers_can_write_to_it(baseline):
    baseline.has_resource_properties("AWS::S3::Bucket", {
        "BucketName": "wimpy-logs-111111111111-eu-west-1",
        "BucketEncryption": {"ServerSideEncryptionConfiguration": [
            {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]},
    })


LOG_BUCKET_ARN = "arn:aws:s3:::wimpy-logs-111111111111-eu-west-1"


def delivery_statements(baseline):
    """The log bucket policy's statements for the log delivery service, the bucket's ARN
    resolved."""
    import json

    (policy,) = [p for p in resources_of(baseline, "AWS::S3::BucketPolicy").values()
                 if "delivery.logs.amazonaws.com" in json.dumps(p)]
    text = json.dumps([s for s in policy["Properties"]["PolicyDocument"]["Statement"]
                       if s.get("Principal") == {"Service": "delivery.logs.amazonaws.com"}])
    arn = json.dumps({"Fn::GetAtt": [next(name for name in resources_of(baseline, "AWS::S3::Bucket")
                                          if "LogBucket" in name), "Arn"]})
    statements = json.loads(text.replace(arn, json.dumps(LOG_BUCKET_ARN)))
    for statement in statements:  # Fn::Join of the ARN and a path, joined
        if isinstance(statement["Resource"], dict):
            statement["Resource"] = "".join(statement["Resource"]["Fn::Join"][1])
    return statements


FLOW_LOG_OBJECT = (f"{LOG_BUCKET_ARN}/vpc-flow-logs/staging/AWSLogs/111111111111/vpcflowlogs/"
                   "eu-west-1/2026/12/02/111111111111_vpcflowlogs_eu-west-1_fl-1_20261202T0000Z_a.log.gz")
DELIVERY = {"aws:SourceAccount": "111111111111", "s3:x-amz-acl": "bucket-owner-full-control",
            "aws:SourceArn": "arn:aws:logs:eu-west-1:111111111111:*"}


@pytest.mark.parametrize("action, resource, context, allowed", [
    ("s3:PutObject", FLOW_LOG_OBJECT, DELIVERY, True),
    ("s3:GetBucketAcl", LOG_BUCKET_ARN, DELIVERY, True),
    ("s3:ListBucket", LOG_BUCKET_ARN, DELIVERY, True),
    # For another account (the confused deputy), or without handing the object over.
    ("s3:PutObject", FLOW_LOG_OBJECT, {**DELIVERY, "aws:SourceAccount": "222222222222"}, False),
    ("s3:PutObject", FLOW_LOG_OBJECT, {**DELIVERY, "aws:SourceArn": "arn:aws:logs:eu-west-1:222222222222:*"}, False),
    ("s3:PutObject", FLOW_LOG_OBJECT, {**DELIVERY, "s3:x-amz-acl": "private"}, False),
    ("s3:GetBucketAcl", LOG_BUCKET_ARN, {**DELIVERY, "aws:SourceAccount": "222222222222"}, False),
    # Anywhere else in the bucket: the trail's logs, the load balancers', another account's folder.
    ("s3:PutObject", f"{LOG_BUCKET_ARN}/AWSLogs/111111111111/CloudTrail/x.json.gz", DELIVERY, False),
    ("s3:PutObject", f"{LOG_BUCKET_ARN}/alb/staging/web/x.log.gz", DELIVERY, False),
    ("s3:PutObject", f"{LOG_BUCKET_ARN}/vpc-flow-logs/staging/AWSLogs/222222222222/x.log.gz", DELIVERY, False),
    # Nothing but writing.
    ("s3:GetObject", FLOW_LOG_OBJECT, DELIVERY, False),
    ("s3:DeleteObject", FLOW_LOG_OBJECT, DELIVERY, False),
    ("s3:PutBucketPolicy", LOG_BUCKET_ARN, DELIVERY, False),
])
def test_the_log_delivery_service_may_only_write_this_accounts_flow_logs(baseline, action, resource,
                                                                          context, allowed):
    from tests.iam_eval import evaluate

    assert evaluate([{"Statement": delivery_statements(baseline)}], action, resource, context) is allowed


def test_flow_logs_expire_after_the_log_retention_and_nothing_else_does(baseline):
    (bucket,) = [b for name, b in resources_of(baseline, "AWS::S3::Bucket").items() if "LogBucket" in name]
    rules = bucket["Properties"]["LifecycleConfiguration"]["Rules"]
    expiring = [r for r in rules if "ExpirationInDays" in r]
    assert expiring == [{"Id": "ExpireFlowLogs", "Prefix": "vpc-flow-logs/", "ExpirationInDays": 365,
                         "Status": "Enabled"}]


def test_every_bucket_denies_requests_without_tls(baseline):
    policies = resources_of(baseline, "AWS::S3::BucketPolicy").values()
    assert len(policies) == 2
    for policy in policies:
        denies = [s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Deny"]
        assert any(s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
                   and s["Action"] == "s3:*" for s in denies)


def test_baseline_publishes_the_master_key_for_other_stacks(baseline):
    from aws_cdk.assertions import Match

    baseline.has_resource_properties("AWS::SSM::Parameter", {
        "Name": "/wimpy/baseline/master-key-arn",
        "Value": {"Fn::GetAtt": [Match.string_like_regexp("MasterKey"), "Arn"]},
    })
    assert "Outputs" not in baseline.to_json() or not any(
        "Export" in o for o in baseline.to_json()["Outputs"].values())
