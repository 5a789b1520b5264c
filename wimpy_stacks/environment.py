"""wimpy-<env>: one network per environment."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import aws_cdk as cdk
from aws_cdk import aws_s3 as s3
from constructs import Construct

from wimpy_constructs import EnvironmentNetwork

from wimpy_domain import naming

from . import wiring


class EnvironmentStack(cdk.Stack):
    def __init__(self, scope: Construct, id_: str, *, environment: str, cidr: str,
                 availability_zones: Sequence[str], nat_gateways: int, nat: str,
                 settings: Mapping[str, object],
                 **kwargs: Any) -> None:
        super().__init__(scope, id_, **kwargs)
        wiring.record_settings(self, settings)
        network = EnvironmentNetwork(
            self, "Network",
            cidr=cidr,
            availability_zones=availability_zones,
            nat_gateways=nat_gateways,
            nat=nat,
            # Into the account's log bucket (the baseline's), which expires them.
            flow_log_bucket=s3.Bucket.from_bucket_name(
                self, "LogBucket", naming.log_bucket(self.account, self.region)),
            flow_log_prefix=environment,
        )
        vpc = network.vpc
        wiring.publish(self, {
            naming.environment_parameter(environment, "vpc-id"): vpc.vpc_id,
            naming.environment_parameter(environment, "public-subnet-ids"):
                cdk.Fn.join(",", [s.subnet_id for s in vpc.public_subnets]),
            naming.environment_parameter(environment, "private-subnet-ids"):
                cdk.Fn.join(",", [s.subnet_id for s in vpc.private_subnets]),
            naming.environment_parameter(environment, "isolated-subnet-ids"):
                cdk.Fn.join(",", [s.subnet_id for s in vpc.isolated_subnets]),
            naming.environment_parameter(environment, "public-route-table-ids"):
                cdk.Fn.join(",", [s.route_table.route_table_id for s in vpc.public_subnets]),
            naming.environment_parameter(environment, "private-route-table-ids"):
                cdk.Fn.join(",", [s.route_table.route_table_id for s in vpc.private_subnets]),
        })
