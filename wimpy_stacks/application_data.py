"""wimpy-<env>-<app>-data: what an application keeps in an environment whatever happens to
its other stacks. `wimpy destroy` never deletes it, so a later deploy finds its log group
again instead of failing on the name the kept group still holds."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from wimpy_domain import naming

from . import wiring


class ApplicationDataStack(cdk.Stack):
    def __init__(self, scope: Construct, id_: str, *, environment: str, app: str,
                 log_retention: logs.RetentionDays, **kwargs: Any) -> None:
        super().__init__(scope, id_, **kwargs)
        master_key = kms.Key.from_key_arn(
            self, "MasterKey", wiring.read(self, naming.baseline_parameter("master-key-arn")))
        self.log_group = logs.LogGroup(
            self, "LogGroup",
            log_group_name=naming.application_log_group(environment, app),
            retention=log_retention,
            encryption_key=master_key,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
