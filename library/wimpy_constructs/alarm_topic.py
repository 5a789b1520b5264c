"""AlarmTopic: where an application's alarms go, so an alarm pages someone even when no
deploy is watching it.

An SNS topic encrypted with the master key, reachable only over TLS, that CloudWatch
alarms of this account may publish to. People and tools subscribe to it (email, chat,
an incident tool); Wimpy's own deploy watch reads the alarms directly.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct

from .arguments import check_text


class AlarmTopic(Construct):
    """An encrypted SNS topic for alarms. ``topic`` is the topic.

    :param master_key: the key the topic's messages are encrypted with. Its key policy must
        let ``cloudwatch.amazonaws.com`` use it (AccountBaseline's master key does).
    :param display_name: shown in notifications. @default none
    """

    def __init__(self, scope: Construct, id_: str, *, master_key: kms.IKey,
                 display_name: str | None = None) -> None:
        super().__init__(scope, id_)
        if display_name is not None:
            check_text("display_name", display_name, pattern=r"[^\x00-\x1f]{1,100}",
                       accepted="1 to 100 characters (SNS's limit)")
        stack = cdk.Stack.of(self)
        self.topic = sns.Topic(self, "Topic", master_key=master_key, enforce_ssl=True,
                               display_name=display_name)
        # enforce_ssl gives the topic a policy of its own, which replaces SNS's default one:
        # say explicitly that alarms of this account may publish.
        self.topic.add_to_resource_policy(iam.PolicyStatement(
            sid="AllowAlarmsOfThisAccount",
            principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
            actions=["sns:Publish"],
            resources=[self.topic.topic_arn],
            conditions={"StringEquals": {"aws:SourceAccount": stack.account}},
        ))
