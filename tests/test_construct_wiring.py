"""The construct library's typed wiring, as another team's CDK app uses it: a value given
once (the port, the health path, the secrets) is derived everywhere else, services share a
role, a worker runs without a load balancer, grants give a consumer what it needs, and
inputs that contradict each other are refused with the argument's name, at synthesis."""

from __future__ import annotations

import json

import pytest

REGION = "eu-west-1"
SECRET = "/shop/production/db-password"


@pytest.fixture
def app_parts():
    """A stack of the consumer's own with its own VPC, key and bucket, and the
    application's access made from them."""
    import aws_cdk as cdk
    from aws_cdk import aws_ec2 as ec2
    from aws_cdk import aws_ecr as ecr
    from aws_cdk import aws_kms as kms
    from aws_cdk import aws_s3 as s3

    from wimpy_constructs import ApplicationAccess

    app = cdk.App()
    stack = cdk.Stack(app, "Shop", env=cdk.Environment(account="123456789012", region=REGION))
    # The consumer's own resources, held to cdk-nag's bar too.
    vpc = ec2.Vpc(stack, "Vpc", availability_zones=[f"{REGION}a", f"{REGION}b"],
                  restrict_default_security_group=False, flow_logs={"All": ec2.FlowLogOptions()})
    bucket = s3.Bucket(stack, "Bucket", enforce_ssl=True, server_access_logs_prefix="access/",
                       encryption=s3.BucketEncryption.S3_MANAGED)
    access = ApplicationAccess(
        stack, "Access", vpc=vpc, storage_bucket=bucket, storage_prefix="production/shop",
        master_key=kms.Key(stack, "Key", enable_key_rotation=True), app_port=8080,
        repository=ecr.Repository(stack, "Repository"), secret_parameter_names=[SECRET])
    return app, stack, vpc, access


def service(stack, vpc, id_="Web", **kwargs):
    import aws_cdk as cdk
    from aws_cdk import aws_ec2 as ec2

    from wimpy_constructs import ContainerService

    arguments = dict(vpc=vpc, vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
                     machine_image=ec2.MachineImage.generic_linux({REGION: "ami-0123456789abcdef0"}),
                     instance_type=ec2.InstanceType("t3.small"), min_capacity=1, max_capacity=2,
                     signal_timeout=cdk.Duration.minutes(5))
    return ContainerService(stack, id_, **{**arguments, **kwargs})


def target_group(stack, vpc, id_="Targets", port=8080, path="/health"):
    from wimpy_constructs import health_checked_target_group

    return health_checked_target_group(stack, id_, vpc=vpc, app_port=port, health_check_path=path)


def boot_script(stack, construct_id: str) -> str:
    from aws_cdk.assertions import Template

    template = Template.from_stack(stack).to_json()
    (launch_template,) = [r for key, r in template["Resources"].items()
                          if r["Type"] == "AWS::EC2::LaunchTemplate" and key.startswith(construct_id)]
    user_data = launch_template["Properties"]["LaunchTemplateData"]["UserData"]["Fn::Base64"]
    parts = user_data["Fn::Join"][1] if isinstance(user_data, dict) else [user_data]
    return "".join(part if isinstance(part, str) else json.dumps(part) for part in parts)


def test_the_port_health_path_log_group_and_region_are_given_once(app_parts):
    from wimpy_constructs import ContainerSettings

    _, stack, vpc, access = app_parts
    web = service(stack, vpc, access=access, target_group=target_group(stack, vpc),
                  settings=ContainerSettings(app="shop", image="registry.example/shop:1", port=8080,
                                             secrets={"DB_PASSWORD": SECRET}, registry_login="ecr"))
    script = boot_script(stack, "Web")
    # The health path is the target group's; the region the stack's; the log group access's.
    assert "health_url=http://127.0.0.1:8080/health" in script
    assert "region=eu-west-1" in script
    assert "awslogs-group=" in script and access.log_group.node.default_child is not None
    assert web.settings.region == REGION
    assert web.connections.security_groups == [access.instance_security_group]


def test_two_services_share_one_role_and_a_worker_runs_without_a_load_balancer(app_parts):
    """Each service adds its own policy to the shared role, named after its stack and
    itself, and waits for it; a worker has no target group, EC2 health only, and its boot
    waits for its container to run. cdk-nag's AwsSolutions checks find nothing."""
    import aws_cdk as cdk
    import cdk_nag
    from aws_cdk.assertions import Template

    from wimpy_constructs import ContainerSettings

    app, stack, vpc, access = app_parts
    for id_ in ("Web", "Admin"):
        service(stack, vpc, id_=id_, access=access, target_group=target_group(stack, vpc, id_ + "Targets"),
                settings=ContainerSettings(app=id_.lower(), image="registry.example/shop:1", port=8080))
    worker = service(stack, vpc, id_="Worker", access=access,
                     settings=ContainerSettings(app="jobs", image="registry.example/shop:1"))
    cdk.Validations.of(app).add_plugins(cdk_nag.AwsSolutionsChecks(app))
    app.synth()  # fails on any unacknowledged finding

    template = Template.from_stack(stack).to_json()["Resources"]
    policies = {key: r["Properties"] for key, r in template.items() if r["Type"] == "AWS::IAM::Policy"
                and key.startswith(("Web", "Admin", "Worker"))}
    assert len(policies) == 3 and len({p["PolicyName"] for p in policies.values()}) == 3
    role = {"Ref": stack.get_logical_id(access.instance_role.node.default_child)}
    assert all(p["Roles"] == [role] for p in policies.values())
    groups = {key: r for key, r in template.items() if r["Type"] == "AWS::AutoScaling::AutoScalingGroup"}
    for key, group in groups.items():
        own = next(k for k in policies if k.startswith(key[:3]))
        assert own in group["DependsOn"], (key, group["DependsOn"])
    (worker_group,) = [g for k, g in groups.items() if k.startswith("Worker")]
    assert worker_group["Properties"]["HealthCheckType"] == "EC2"
    assert "TargetGroupARNs" not in worker_group["Properties"]
    assert "health_url=container:jobs" in boot_script(stack, "Worker")
    assert "PORT=''" in boot_script(stack, "Worker")
    with pytest.raises(ValueError, match="scale_on_requests needs a target_group"):
        worker.scale_on_requests(600)


def test_grants_give_another_principal_the_applications_secrets_images_and_logs(app_parts):
    import aws_cdk as cdk
    import cdk_nag
    from aws_cdk import aws_iam as iam
    from aws_cdk.assertions import Template

    app, stack, _, access = app_parts
    job = iam.Role(stack, "Job", assumed_by=iam.ServicePrincipal("ecs-tasks.amazonaws.com"))
    access.grant_read_secrets(job)  # the application's own secrets, by default
    access.grant_pull(job)
    access.grant_write_logs(job)
    cdk.Validations.of(app).add_plugins(cdk_nag.AwsSolutionsChecks(app))
    app.synth()
    job_ref = {"Ref": stack.get_logical_id(job.node.default_child)}
    statements = [s for r in Template.from_stack(stack).to_json()["Resources"].values()
                  if r["Type"] == "AWS::IAM::Policy" and r["Properties"]["Roles"] == [job_ref]
                  for s in r["Properties"]["PolicyDocument"]["Statement"]]
    actions = {a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert {"ssm:GetParameter", "ssm:GetParameters", "kms:Decrypt", "ecr:BatchGetImage",
            "ecr:GetAuthorizationToken", "logs:CreateLogStream", "logs:PutLogEvents"} <= actions
    secrets = [s for s in statements if "ssm:GetParameter" in s["Action"]]
    assert json.dumps(secrets).count("parameter/shop/production/db-password") == 1
    assert "parameter/*" not in json.dumps(secrets)


def test_grant_pull_without_a_repository_says_what_to_pass():
    import aws_cdk as cdk
    from aws_cdk import aws_ec2 as ec2
    from aws_cdk import aws_iam as iam
    from aws_cdk import aws_kms as kms
    from aws_cdk import aws_s3 as s3

    from wimpy_constructs import ApplicationAccess

    stack = cdk.Stack(cdk.App(), "S", env=cdk.Environment(account="123456789012", region=REGION))
    vpc = ec2.Vpc(stack, "Vpc", availability_zones=[f"{REGION}a", f"{REGION}b"],
                  restrict_default_security_group=False)
    access = ApplicationAccess(stack, "Access", vpc=vpc, storage_bucket=s3.Bucket(stack, "B"),
                               storage_prefix="p/web", master_key=kms.Key(stack, "K"), app_port=80)
    with pytest.raises(ValueError, match="grant_pull needs the application's ECR repository: pass repository="):
        access.grant_pull(iam.Role(stack, "R", assumed_by=iam.ServicePrincipal("ec2.amazonaws.com")))


@pytest.mark.parametrize("case, message", [
    ("port the security group does not open", r"settings.port is 9090, but access opens port 8080"),
    ("secret the role cannot read", r"settings.secrets names SSM parameters the instance role may not "
                                    r"read: /shop/production/other"),
    ("target group on another port", r"target_group sends to port 9090, but settings.port is 8080"),
    ("health path unlike the target group's", r"health_check_path is '/ready', but target_group checks '/health'"),
    ("windows image", r"machine_image must be a Linux image"),
    ("role and access both", r"give access \(an ApplicationAccess\) or security_group and role, not both"),
    ("no role at all", r"security_group and role required without access"),
    ("a worker given a health path", r"health_check_path needs a target_group"),
    ("a target group without a port", r"settings.port is required with a target_group"),
    ("ecr without a repository", r"settings.registry_login is 'ecr', but access has no repository"),
])
def test_inputs_that_contradict_each_other_are_refused_by_name(app_parts, case, message):
    from aws_cdk import aws_ec2 as ec2

    from wimpy_constructs import ApplicationAccess, ContainerSettings

    _, stack, vpc, access = app_parts
    settings = ContainerSettings(app="shop", image="registry.example/shop:1", port=8080)
    arguments = dict(access=access, target_group=target_group(stack, vpc), settings=settings)
    if case == "port the security group does not open":
        arguments.update(settings=ContainerSettings(app="shop", image="x:1", port=9090),
                         target_group=target_group(stack, vpc, "Other", port=9090))
    elif case == "secret the role cannot read":
        arguments.update(settings=ContainerSettings(app="shop", image="x:1", port=8080,
                                                    secrets={"OTHER": "/shop/production/other"}))
    elif case == "target group on another port":
        arguments.update(target_group=target_group(stack, vpc, "Other", port=9090))
    elif case == "health path unlike the target group's":
        arguments.update(health_check_path="/ready")
    elif case == "windows image":
        arguments.update(machine_image=ec2.MachineImage.generic_windows({REGION: "ami-0123456789abcdef0"}))
    elif case == "role and access both":
        arguments.update(role=access.instance_role)
    elif case == "no role at all":
        arguments.update(access=None)
    elif case == "a worker given a health path":
        arguments.update(target_group=None, health_check_path="/health")
    elif case == "a target group without a port":
        arguments.update(settings=ContainerSettings(app="shop", image="x:1"))
    elif case == "ecr without a repository":
        bare = ApplicationAccess(stack, "Bare", vpc=vpc, storage_bucket=access._storage_bucket,
                                 storage_prefix="production/bare", master_key=access._master_key,
                                 app_port=8080)
        arguments.update(access=bare, settings=ContainerSettings(app="shop", image="x:1", port=8080,
                                                                 registry_login="ecr"))
    with pytest.raises(ValueError, match=message):
        service(stack, vpc, **arguments)


@pytest.mark.parametrize("kwargs, message", [
    ({"app": "my app"}, r"settings.app must be 1-64 letters"),
    ({"app": "web\n"}, r"settings.app must be 1-64 letters"),  # `$` would let it through
    ({"port": 0}, r"settings.port must be a port from 1 to 65535 \(or None for a worker\), got 0"),
    ({"port": "8080"}, r"settings.port must be a port from 1 to 65535"),
    ({"secrets": "DB=/x"}, r"settings.environment and settings.secrets must be mappings"),
    ({"registry_login": "docker"}, r"settings.registry_login must be ecr, credentials or none, got 'docker'"),
])
def test_container_settings_refuse_bad_values_by_name(kwargs, message):
    from wimpy_constructs import ContainerSettings

    with pytest.raises(ValueError, match=message):
        ContainerSettings(**{"app": "shop", "image": "x:1", **kwargs})


@pytest.mark.parametrize("make, message", [
    ("target group port", r"app_port must be a port from 1 to 65535, got 70000"),
    ("log prefix with a slash", r"access_log_prefix must be a folder path like 'alb/web' .* got '/alb/web'"),
    ("log prefix with AWSLogs", r"access_log_prefix must be .* got 'alb/AWSLogs'"),
    ("alarm prefix", r"alarm_name_prefix must be 1 to 230 printable ASCII characters"),
    ("table name", r"table_name must be 3 to 255 letters, digits, '_', '.' or '-' .* got 'my table'"),
    ("set identifier", r"set_identifier must be 1 to 128 characters"),
    ("display name", r"display_name must be 1 to 100 characters"),
])
def test_values_cloudformation_would_refuse_half_way_are_refused_at_synthesis(app_parts, make, message):
    """Each would otherwise fail only when CloudFormation reaches the resource, with the
    stack half made; here they are refused with the argument's name before anything."""
    from aws_cdk import aws_elasticloadbalancingv2 as elbv2
    from aws_cdk import aws_kms as kms
    from aws_cdk import aws_route53 as route53
    from aws_cdk import aws_s3 as s3
    from aws_cdk import aws_sns as sns

    from wimpy_constructs import (AlarmTopic, PublicLoadBalancer, ReleaseRecordTable, ServiceAlarms,
                                  WeightedAliasRecord)

    _, stack, vpc, access = app_parts
    logs = s3.Bucket.from_bucket_name(stack, "Logs", "shop-logs")
    with pytest.raises(ValueError, match=message):
        if make == "target group port":
            target_group(stack, vpc, port=70000)
        elif make.startswith("log prefix"):
            PublicLoadBalancer(stack, "Web", vpc=vpc, security_group=access.load_balancer_security_group,
                               access_log_bucket=logs, app_port=8080,
                               access_log_prefix="/alb/web" if "slash" in make else "alb/AWSLogs")
        elif make == "alarm prefix":
            ServiceAlarms(stack, "Alarms", target_group=target_group(stack, vpc), alarm_name_prefix="x" * 231,
                          notify=[sns.Topic(stack, "Topic")])
        elif make == "table name":
            ReleaseRecordTable(stack, "Record", master_key=kms.Key(stack, "TableKey"), table_name="my table")
        elif make == "set identifier":
            zone = route53.HostedZone.from_hosted_zone_attributes(
                stack, "Zone", hosted_zone_id="Z0123456789ABCDEFGHIJ", zone_name="shop.example.com")
            balancer = elbv2.ApplicationLoadBalancer(stack, "Balancer", vpc=vpc)
            WeightedAliasRecord(stack, "Record", zone=zone, record_name="www.shop.example.com",
                                load_balancer=balancer, weight=1, set_identifier="x" * 129)
        elif make == "display name":
            AlarmTopic(stack, "Topic", master_key=kms.Key(stack, "TopicKey"), display_name="x" * 101)
