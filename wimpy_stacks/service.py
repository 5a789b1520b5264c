"""wimpy-<env>-<app> (rolling) or wimpy-<env>-<app>--<release> (blue/green): the instances
running one version, their target group, scaling and alarms; with its own load balancer
and weighted DNS record, or (`behind_front`) behind the application's long-lived load
balancer (wimpy_stacks/front.py), whose listener weights decide its traffic. Everything shared
with other releases is read from SSM at deploy time."""

from __future__ import annotations

from typing import Any, Sequence

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_route53 as route53
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from constructs import Construct

from wimpy_domain import naming
from wimpy_domain.config.model import AppConfig, DeployConfig, EnvironmentConfig, HostedZoneConfig
from wimpy_constructs import ContainerService, PublicLoadBalancer, ServiceAlarms, WeightedAliasRecord
from wimpy_constructs.boot import ContainerSettings
from wimpy_constructs.target_group import health_checked_target_group

from . import wiring
from .edge import enter_through_shared


class ServiceStack(cdk.Stack):
    def __init__(self, scope: Construct, id_: str, *, app: AppConfig, environment: EnvironmentConfig,
                 deploy: DeployConfig, hosted_zone: HostedZoneConfig | None,
                 availability_zones: tuple[str, ...], image: str, registry_login: str,
                 registry_credentials: str = "",
                 machine_image_id: str, initial_weight: int, version: str,
                 scalable_to_zero: bool = False, extra_alarm_topic_arns: Sequence[str] = (),
                 behind_front: bool = False, **kwargs: Any) -> None:
        # On the environment's shared load balancer, a rolling stack is its own entrance: a
        # rule there and a record pointing at it (wimpy_stacks/edge.py), instead of its own one.
        shared = environment.shares_a_load_balancer and not behind_front
        super().__init__(scope, id_, **kwargs)
        env, name = environment.name, app.name

        def parameter(key: str) -> str:
            return wiring.read(self, naming.application_parameter(env, name, key))

        # Behind the front stack's or the shared load balancer, a release has nothing in
        # public subnets.
        vpc = wiring.environment_vpc(self, env, availability_zones,
                                     public=not (behind_front or shared), private=True)
        # Imported immutable: the resources stack owns these groups' rules; adding rules here
        # would duplicate them (and AWS refuses duplicate rules).
        instance_group = ec2.SecurityGroup.from_security_group_id(
            self, "InstanceSecurityGroup", parameter("instance-security-group-id"),
            mutable=False, allow_all_outbound=False)
        role = iam.Role.from_role_arn(self, "InstanceRole", parameter("instance-role-arn"))
        zone = (route53.HostedZone.from_hosted_zone_attributes(
            self, "Zone", hosted_zone_id=hosted_zone.id, zone_name=hosted_zone.name)
            if hosted_zone else None)

        health = dict(
            health_check_interval=cdk.Duration.seconds(app.health_check.interval_seconds),
            health_check_timeout=cdk.Duration.seconds(app.health_check.timeout_seconds),
            healthy_threshold=app.health_check.healthy_threshold,
            unhealthy_threshold=app.health_check.unhealthy_threshold,
            deregistration_delay=cdk.Duration.seconds(app.deregistration_delay_seconds))
        weight = cdk.CfnParameter(
            self, "TrafficWeight", type="Number", default=initial_weight, min_value=0,
            max_value=255, description="Route53 weight of this release's record (0-255); "
                                       "changing it moves traffic without a new template",
        ) if zone is not None and not behind_front else None
        entrance = None
        if behind_front or shared:
            load_balancer = None
            target_group = health_checked_target_group(
                self, "Targets", vpc=vpc, app_port=app.port, health_check_path=app.health_check.path,
                **health)
            if shared:
                entrance = enter_through_shared(self, environment=environment, app=name, zone=zone,
                                                weight=weight.value_as_number, target_group=target_group)
                front_name = entrance.full_name
            else:
                # The front stack's load balancer: its name is the alarms' and scaling's dimension.
                front_name = parameter("load-balancer-full-name")
        else:
            load_balancer = PublicLoadBalancer(
                self, "Web",
                vpc=vpc,
                # Imported immutable, as the instances' group below.
                security_group=ec2.SecurityGroup.from_security_group_id(
                    self, "LoadBalancerSecurityGroup", parameter("load-balancer-security-group-id"),
                    mutable=False, allow_all_outbound=False),
                app_port=app.port,
                health_check_path=app.health_check.path,
                access_log_bucket=s3.Bucket.from_bucket_name(
                    self, "LogBucket", naming.log_bucket(self.account, self.region)),
                access_log_prefix=f"alb/{env}/{name}",
                domain_name=environment.domain if zone is not None else None,
                hosted_zone=zone,
                deletion_protection=env == "production",
                **health,
            )
            target_group, front_name = load_balancer.target_group, None
        settings = ContainerSettings(
            app=name,
            image=image,
            port=app.port,
            environment={
                **app.environment,
                "APP_NAME": name,
                "ENVIRONMENT": env,
                "PORT": str(app.port),
                "AWS_REGION": self.region,
                "S3_BUCKET": naming.storage_bucket(self.account, self.region),
                "S3_PREFIX": naming.storage_prefix(env, name) + "/",
                "KMS_MASTER_KEY": wiring.read(self, naming.baseline_parameter("master-key-arn")),
            },
            secrets=app.secrets,
            region=self.region,
            registry_login=registry_login,
            registry_credentials=registry_credentials,
            log_group=naming.application_log_group(env, name),
            stop_timeout_seconds=app.deregistration_delay_seconds + 30,
        )
        service = ContainerService(
            self, "Service",
            vpc=vpc,
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
            security_group=instance_group,
            role=role,
            machine_image=ec2.MachineImage.generic_linux({self.region: machine_image_id}),
            instance_type=ec2.InstanceType(app.instance_type),
            settings=settings,
            # The boot check requests the target group's own health check path.
            target_group=target_group,
            min_capacity=app.capacity.min,
            max_capacity=app.capacity.max,
            max_batch_size=deploy.batch_for(app.capacity),
            signal_timeout=cdk.Duration.seconds(deploy.signal_timeout_seconds),
            health_check_grace=cdk.Duration.seconds(deploy.signal_timeout_seconds),
            # Joined the load balancer: healthy once its checks pass this many times.
            instance_warmup=cdk.Duration.seconds(
                app.health_check.interval_seconds * app.health_check.healthy_threshold),
        )
        if scalable_to_zero:
            capacity = cdk.CfnParameter(
                self, "Capacity", type="String", default="on", allowed_values=["on", "off"],
                description="off scales this release to zero instances (kept for rollback)")
            service.scale_to_zero_when(cdk.CfnCondition(
                self, "ScaledToZero", expression=cdk.Fn.condition_equals(capacity.value_as_string, "off")))
        service.scale_on_cpu(app.scaling.cpu_target_percent)
        service.scale_on_requests(app.scaling.requests_per_target, load_balancer_full_name=front_name)
        # The application's alarm topic (from its resources stack), and the account's
        # notification topic when wimpy.yml names one.
        alarm_topics = [sns.Topic.from_topic_arn(self, "AlarmTopic", parameter("alarm-topic-arn")),
                        *(sns.Topic.from_topic_arn(self, f"NotificationTopic{index}", arn)
                          for index, arn in enumerate(extra_alarm_topic_arns))]
        alarms = ServiceAlarms(self, "Alarms", target_group=target_group, load_balancer_full_name=front_name,
                               alarm_name_prefix=self.stack_name, notify=alarm_topics,
                               error_rate_percent=app.alarms.error_rate_percent,
                               p99_latency=cdk.Duration.millis(app.alarms.p99_latency_ms),
                               period=cdk.Duration.seconds(app.alarms.period_seconds))
        # A rolling deploy (a new launch template) is rolled back when these fire during
        # it or within the bake after it. A blue/green release is judged by its canary
        # instead, but its group is guarded alike should its template ever change.
        service.guard_rollouts(alarms.alarms, bake_time=cdk.Duration.seconds(deploy.rolling_bake_seconds))

        if load_balancer is not None and zone is not None:
            WeightedAliasRecord(self, "Dns", zone=zone, record_name=environment.domain,
                                load_balancer=load_balancer.load_balancer,
                                weight=weight.value_as_number, set_identifier=self.stack_name)
        if load_balancer is not None:
            cdk.CfnOutput(self, "Url", value=load_balancer.url)
            cdk.CfnOutput(self, "LoadBalancerDnsName",
                          value=load_balancer.load_balancer.load_balancer_dns_name)
        elif entrance is not None:
            cdk.CfnOutput(self, "Url", value=entrance.url)
            cdk.CfnOutput(self, "LoadBalancerDnsName",
                          value=entrance.load_balancer.load_balancer_dns_name)
        # How traffic reaches it: the front stack's listener, or its own load balancer.
        cdk.CfnOutput(self, "Traffic", value="load-balancer" if behind_front else "dns")
        cdk.CfnOutput(self, "Image", value=image)
        # Read back by `wimpy status` and the release inventory (with the version below).
        cdk.CfnOutput(self, "Application", value=name)
        cdk.CfnOutput(self, "TargetGroupArn", value=target_group.target_group_arn)
        # The version is an output, not a tag: a tag would change every resource each deploy.
        cdk.CfnOutput(self, "Version", value=version)
