"""Acknowledging a cdk-nag finding, scoped to one construct and one finding, with a reason.

Kept beside the constructs that need it so that any CDK app using them inherits the
acknowledgements (and the reasons a security reviewer will read).
"""

from __future__ import annotations

import aws_cdk as cdk
import cdk_nag
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
        finding = cdk_nag.NagRules.resolve_resource_from_intrinsic(self._resource, resolved)
        acknowledge(self._resource, f"IAM5[Resource::{finding}]", self._reason)
        return []
