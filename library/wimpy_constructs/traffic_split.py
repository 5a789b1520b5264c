"""TrafficSplit: one listener of a long-lived load balancer forwarding to the target groups
of an application's releases, each with a weight. A share is then exact per request and a
change takes effect in seconds, with no DNS cache to outlast.

The releases are not in the listener's stack (each is its own stack, made and deleted
as versions come and go), so each slot is a target group ARN and a weight given as
tokens, typically stack parameters: moving traffic is then a parameter-only update of
one stack, which CloudFormation's template always agrees with (no drift to undo a shift).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import aws_cdk as cdk
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from constructs import Construct

from .public_load_balancer import NO_RELEASE_MESSAGE

MAX_WEIGHT = 999  # a listener's forward action takes weights 0-999 per target group


@dataclass(frozen=True)
class TrafficSlot:
    """A target group ARN (empty: the slot is unused) and its weight (0-999)."""

    target_group_arn: str
    weight: int | float


class TrafficSplit(Construct):
    """The listener's default action: forward to every used slot by weight; with the first
    slot unused, a 503 saying no release is in service.

    :param listener: the listener that serves (PublicLoadBalancer's ``serving_listener``).
    :param slots: at most 5 (the forward action's limit); the first must be used for any
        other to be.
    """

    def __init__(self, scope: Construct, id_: str, *, listener: elbv2.ApplicationListener,
                 slots: Sequence[TrafficSlot]) -> None:
        super().__init__(scope, id_)
        listener.node.default_child.add_property_override("DefaultActions", weighted_actions(self, slots))


def weighted_actions(scope: Construct, slots: Sequence[TrafficSlot]) -> list:
    """The actions (a listener's default ones, or a rule's) that forward to every used slot
    by weight, or answer 503 with the first slot unused; their conditions go in `scope`."""
    if not 1 <= len(slots) <= 5:
        raise ValueError(f"slots must hold 1 to 5 target groups (a forward action's limit), "
                         f"got {len(slots)}")
    for slot in slots:
        if isinstance(slot.weight, int) and not 0 <= slot.weight <= MAX_WEIGHT:
            raise ValueError(f"a slot's weight must be 0-{MAX_WEIGHT}, got {slot.weight}")
    used = [cdk.CfnCondition(scope, f"Slot{index}Used", expression=cdk.Fn.condition_not(
        cdk.Fn.condition_equals(slot.target_group_arn, ""))) for index, slot in enumerate(slots)]
    entries = [{"TargetGroupArn": slot.target_group_arn, "Weight": slot.weight} for slot in slots]
    # The forward action is only taken with the first slot used: it needs no condition.
    groups = [entries[0], *(cdk.Fn.condition_if(condition.logical_id, entry, cdk.Aws.NO_VALUE)
                            for condition, entry in zip(used[1:], entries[1:]))]
    forward = {"Type": "forward", "ForwardConfig": {"TargetGroups": groups}}
    unavailable = {"Type": "fixed-response", "FixedResponseConfig": {
        "StatusCode": "503", "ContentType": "text/plain", "MessageBody": NO_RELEASE_MESSAGE}}
    return [cdk.Fn.condition_if(used[0].logical_id, forward, unavailable)]
