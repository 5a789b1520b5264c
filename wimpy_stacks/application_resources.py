"""wimpy-<env>-<app>-resources: what an application needs in an environment before its
first instance starts, and keeps across deploys."""

from __future__ import annotations

from typing import Any, Sequence

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from constructs import Construct

from wimpy_constructs import AlarmTopic, ApplicationAccess

from wimpy_domain import naming

from . import wiring


class ApplicationResourcesStack(cdk.Stack):
    def __init__(self, scope: Construct, id_: str, *, environment: str, app: str,
                 app_port: int, availability_zones: Sequence[str], listener_ports: Sequence[int],
                 database_ports: Sequence[int], secret_parameter_names: Sequence[str],
                 registry_credentials: str = "", registry_port: int = 443,
                 shared_load_balancer: bool = False, **kwargs: Any) -> None:
        super().__init__(scope, id_, **kwargs)
        vpc = ec2.Vpc.from_vpc_attributes(
            self, "Vpc",
            vpc_id=wiring.read(self, naming.environment_parameter(environment, "vpc-id")),
            availability_zones=list(availability_zones),
        )
        master_key = kms.Key.from_key_arn(
            self, "MasterKey", wiring.read(self, naming.baseline_parameter("master-key-arn")))
        storage = s3.Bucket.from_bucket_name(
            self, "Storage", naming.storage_bucket(self.account, self.region))
        repository = ecr.Repository.from_repository_name(self, "Repository", naming.repository(app))
        access = ApplicationAccess(
            self, "Access",
            vpc=vpc,
            storage_bucket=storage,
            storage_prefix=naming.storage_prefix(environment, app),
            master_key=master_key,
            app_port=app_port,
            # Kept in the application's data stack, which outlives this one.
            log_group=logs.LogGroup.from_log_group_name(
                self, "LogGroup", naming.application_log_group(environment, app)),
            repository=repository,
            # Another registry's credentials: an SSM parameter is read like the secrets.
            secret_parameter_names=sorted({*secret_parameter_names, *(
                [registry_credentials] if registry_credentials
                and not registry_credentials.startswith("arn:") else [])}),
            registry_credentials_secret_arn=(registry_credentials
                                             if registry_credentials.startswith("arn:") else None),
            egress_ports=sorted({443, registry_port}),
            listener_ports=listener_ports,
            database_ports=database_ports,
            # The environment's shared load balancer: only its way to this port is ours.
            load_balancer_security_group=ec2.SecurityGroup.from_security_group_id(
                self, "SharedLoadBalancerSecurityGroup",
                wiring.read(self, naming.edge_parameter(environment, "security-group-id")),
                allow_all_outbound=False) if shared_load_balancer else None,
        )
        alarms = AlarmTopic(self, "Alarms", master_key=master_key,
                            display_name=f"Wimpy {app} in {environment}: alarms")
        wiring.publish(self, {
            naming.application_parameter(environment, app, name): value
            for name, value in {
                "load-balancer-security-group-id": access.load_balancer_security_group.security_group_id,
                "instance-security-group-id": access.instance_security_group.security_group_id,
                "database-security-group-id": access.database_security_group.security_group_id,
                "instance-role-arn": access.instance_role.role_arn,
                "log-group-name": access.log_group.log_group_name,
                "alarm-topic-arn": alarms.topic.topic_arn,
            }.items()
        })
