"""wimpy-baseline: once per account and region."""

from __future__ import annotations

from typing import Any, Mapping

import aws_cdk as cdk
from aws_cdk import aws_logs as logs
from constructs import Construct

from wimpy_constructs import AccountBaseline, ReleaseRecordTable

from wimpy_domain import naming

from . import wiring


class BaselineStack(cdk.Stack):
    def __init__(self, scope: Construct, id_: str, *, log_retention: logs.RetentionDays,
                 flow_log_retention_days: int, settings: Mapping[str, object], **kwargs: Any) -> None:
        super().__init__(scope, id_, **kwargs)
        wiring.record_settings(self, settings)
        baseline = AccountBaseline(
            self, "Baseline",
            log_retention=log_retention,
            master_key_alias=naming.master_key_alias(),
            flow_log_retention_days=flow_log_retention_days,
            log_bucket_name=naming.log_bucket(self.account, self.region),
            storage_bucket_name=naming.storage_bucket(self.account, self.region),
        )
        # Every application's release record and deploy lock (wimpy_cli/release/store.py).
        ReleaseRecordTable(self, "ReleaseRecord", master_key=baseline.master_key,
                           table_name=naming.release_record_table())
        wiring.publish(self, {
            naming.baseline_parameter("master-key-arn"): baseline.master_key.key_arn,
        })
