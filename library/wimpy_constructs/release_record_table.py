"""ReleaseRecordTable: where a deploy tool keeps what it must agree on across machines (the
state of every release, and who is deploying), in the account rather than on a laptop.

A DynamoDB table keyed by one string attribute ``id``, encrypted with the given key,
recoverable to any second of the last 35 days, protected from deletion and kept when its
stack is deleted: losing it would lose the history rollback decisions are made from.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kms as kms
from constructs import Construct

from .arguments import check_text


class ReleaseRecordTable(Construct):
    """``table`` is the table.

    :param master_key: the customer-managed key the table is encrypted with.
    :param table_name: the table's name, for tools that must find it before anything else.
        @default a generated name
    """

    def __init__(self, scope: Construct, id_: str, *, master_key: kms.IKey,
                 table_name: str | None = None) -> None:
        super().__init__(scope, id_)
        if table_name is not None:
            check_text("table_name", table_name, pattern=r"[A-Za-z0-9_.-]{3,255}",
                       accepted="3 to 255 letters, digits, '_', '.' or '-' (DynamoDB's table names)")
        self.table = dynamodb.Table(
            self, "Table",
            table_name=table_name,
            partition_key=dynamodb.Attribute(name="id", type=dynamodb.AttributeType.STRING),
            # A few writes per deploy: paying per request costs cents a month.
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
            encryption_key=master_key,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True),
            deletion_protection=True,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
