"""Acknowledging a cdk-nag finding, scoped to one construct and one finding, with a reason.

Kept beside the constructs that need it so that any CDK app using them inherits the
acknowledgements (and the reasons a security reviewer will read).
"""

from __future__ import annotations

import aws_cdk as cdk
from constructs import IConstruct

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
