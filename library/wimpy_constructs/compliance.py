"""Acknowledging a cdk-nag finding, scoped to one construct and one finding, with a reason.

Kept beside the constructs that need it so that any CDK app using them inherits the
acknowledgements (and the reasons a security reviewer will read).
"""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
import jsii
from constructs import IConstruct, IValidation

MIN_REASON_LENGTH = 40


def acknowledge(construct: IConstruct, finding: str, reason: str) -> None:
    """Acknowledge one AwsSolutions finding (e.g. 'S1', or 'IAM5[Resource::...]') on
    `construct` only. A short reason is refused: it is what the reviewer reads."""
    if len(reason) < MIN_REASON_LENGTH:
        raise ValueError(f"acknowledge({finding!r}): reason must explain itself "
                         f"(at least {MIN_REASON_LENGTH} characters), got {reason!r}")
    cdk.Validations.of(construct).acknowledge(
        cdk.Acknowledgment(id=f"AwsSolutions-{finding}", reason=reason)
    )


def acknowledge_wildcard(resource: cdk.CfnResource, arn: str, reason: str) -> None:
    """Acknowledge the IAM5 finding for one wildcard resource `arn` in the policy
    `resource`, and no other. cdk-nag names the finding after the ARN as it appears in the
    synthesized template, which is known only once references are resolved: a bucket from
    another stack becomes an import there. So the finding's name is computed at synthesis
    (a construct validation runs after references are resolved, before the template is
    written), from the same resolution cdk-nag uses."""
    if len(reason) < MIN_REASON_LENGTH:
        raise ValueError(f"acknowledge_wildcard({arn!r}): reason must explain itself "
                         f"(at least {MIN_REASON_LENGTH} characters), got {reason!r}")
    resource.node.add_validation(_WildcardAcknowledgement(resource, arn, reason))


@jsii.implements(IValidation)
class _WildcardAcknowledgement:
    def __init__(self, resource: cdk.CfnResource, arn: str, reason: str) -> None:
        self._resource, self._arn, self._reason = resource, arn, reason

    def validate(self) -> list[str]:
        resolved = cdk.Stack.of(self._resource).resolve(self._arn)
        acknowledge(self._resource, f"IAM5[Resource::{_flatten(resolved)}]", self._reason)
        return []


def _flatten(node: Any) -> str:
    """A resource as cdk-nag names it in an IAM5 finding: its flattenCfnReference (cdk-nag
    3.0.2, src/utils/flatten-cfn-reference.ts, which it does not export), rewritten here."""
    if node is None:
        return ""
    if isinstance(node, str):
        return node.replace("${", "<").replace("}", ">")
    if isinstance(node, dict) and node.get("Fn::Join"):
        delimiter, items = node["Fn::Join"]
        return delimiter.join(_flatten(item) for item in items)
    if isinstance(node, dict) and node.get("Fn::Sub"):
        return _flatten(node["Fn::Sub"])
    if isinstance(node, dict) and node.get("Fn::GetAtt"):
        resource, attribute = node["Fn::GetAtt"]
        return f"<{_flatten(resource)}.{_flatten(attribute)}>"
    if isinstance(node, dict) and node.get("Fn::ImportValue"):
        return _flatten(node["Fn::ImportValue"])
    if isinstance(node, dict) and node.get("Ref"):
        return f"<{_flatten(node['Ref'])}>"
    return json.dumps(node, separators=(",", ":"))
