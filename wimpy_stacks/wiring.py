"""Small adapters between the frozen config and CDK types, and the SSM parameters that
connect stacks without exports."""

from __future__ import annotations

import re
from typing import Mapping, Sequence

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_logs as logs
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from wimpy_domain import naming

_RETENTION = {
    1: logs.RetentionDays.ONE_DAY, 3: logs.RetentionDays.THREE_DAYS,
    5: logs.RetentionDays.FIVE_DAYS, 7: logs.RetentionDays.ONE_WEEK,
    14: logs.RetentionDays.TWO_WEEKS, 30: logs.RetentionDays.ONE_MONTH,
    60: logs.RetentionDays.TWO_MONTHS, 90: logs.RetentionDays.THREE_MONTHS,
    120: logs.RetentionDays.FOUR_MONTHS, 150: logs.RetentionDays.FIVE_MONTHS,
    180: logs.RetentionDays.SIX_MONTHS, 365: logs.RetentionDays.ONE_YEAR,
    400: logs.RetentionDays.THIRTEEN_MONTHS, 545: logs.RetentionDays.EIGHTEEN_MONTHS,
    731: logs.RetentionDays.TWO_YEARS, 1096: logs.RetentionDays.THREE_YEARS,
    1827: logs.RetentionDays.FIVE_YEARS, 2192: logs.RetentionDays.SIX_YEARS,
    2557: logs.RetentionDays.SEVEN_YEARS, 2922: logs.RetentionDays.EIGHT_YEARS,
    3288: logs.RetentionDays.NINE_YEARS, 3653: logs.RetentionDays.TEN_YEARS,
}


def retention(days: int) -> logs.RetentionDays:
    """The CDK enum member for a retention the config validated (account.log_retention_days)."""
    return _RETENTION[days]


def publish(scope: Construct, values: Mapping[str, str]) -> None:
    """Write each value to the SSM parameter named by its key, for later stacks to read.

    The construct id comes from the parameter's name, so adding a parameter never renames
    (and so replaces) the others: a replacement would collide with the name it frees."""
    for name, value in values.items():
        construct_id = "Parameter" + "".join(part.title() for part in re.split(r"[^A-Za-z0-9]+", name))
        ssm.StringParameter(scope, construct_id, parameter_name=name, string_value=value,
                            description="Written by Wimpy; read by other Wimpy stacks at deploy time")


SETTINGS_OUTPUT = "Settings"


def record_settings(stack: Construct, settings: Mapping[str, object]) -> None:
    """The wimpy.yml values a shared stack was built from, as a stack output, so that a
    deploy from another application's wimpy.yml can tell it disagrees before changing it."""
    import json

    from aws_cdk import CfnOutput

    CfnOutput(stack, SETTINGS_OUTPUT, value=json.dumps(dict(settings), sort_keys=True),
              description="The wimpy.yml values this shared stack was built from")


def read(scope: Construct, name: str) -> str:
    """A token for the SSM parameter's value, resolved by CloudFormation at deploy time."""
    return ssm.StringParameter.value_for_string_parameter(scope, name)


def environment_vpc(scope: Construct, environment: str, availability_zones: Sequence[str], *,
                    public: bool = False, private: bool = False) -> ec2.IVpc:
    """The environment's VPC (wimpy_stacks/environment.py), with its public and private subnets
    when the stack places something in them, from the parameters the network writes."""
    def subnets(key: str) -> list[str]:
        return cdk.Fn.split(",", read(scope, naming.environment_parameter(environment, key)),
                            len(availability_zones))

    vpc = ec2.Vpc.from_vpc_attributes(
        scope, "Vpc", vpc_id=read(scope, naming.environment_parameter(environment, "vpc-id")),
        availability_zones=list(availability_zones),
        public_subnet_ids=subnets("public-subnet-ids") if public else None,
        private_subnet_ids=subnets("private-subnet-ids") if private else None)
    for subnet in vpc.public_subnets + vpc.private_subnets:
        cdk.Annotations.of(subnet).acknowledge_warning(
            "@aws-cdk/aws-ec2:noSubnetRouteTableId",
            "This stack places resources in subnets and never reads their route tables")
    return vpc
