"""Where each release meets its traffic, and moving traffic between two releases.

A release stack either has its own load balancer and a weighted Route53 record (DNS
mode; the rolling stack too), or only a target group that the application's front stack
(one long-lived load balancer, wimpy_stacks/front.py) forwards to by listener weights
(load-balancer mode). Its `Traffic` output says which; stacks made before the output
existed are DNS mode.

Between two releases behind the front, a share is the listener's weights (0-999): exact
per request, in effect in seconds. Otherwise the share is DNS weights (0-255) between the
two entries, a release's own record or the front's: that is how an application moves
from one mode to the other, and why such a move needs a hosted zone.

Every change sets values, never adds to them, so doing one again is harmless."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from wimpy_domain import naming
from wimpy_cli.deploy import outcome
from wimpy_cli.errors import WimpyError

from . import traffic
from .weights import DNS_MAX_WEIGHT, LISTENER_MAX_WEIGHT, Split, split_for

LOAD_BALANCER, DNS = "load-balancer", "dns"
# The front stack's listener slots (wimpy_stacks/front.py): the first serves whenever the
# listener forwards at all; the second holds the release coming or going.
_SLOTS = (("LiveTargetGroupArn", "LiveWeight"), ("CanaryTargetGroupArn", "CanaryWeight"))


@dataclass(frozen=True)
class Entry:
    """What clients reach a release through: the stack whose weighted record (if any)
    points at the load balancer serving it."""

    stack: str
    behind_front: bool


class Router:
    def __init__(self, cloudformation: Any, *, env: str, app: str, has_zone: bool) -> None:
        self.cloudformation, self.env, self.app, self.has_zone = cloudformation, env, app, has_zone
        self.front = naming.front_stack(env, app)

    # -- reading ---------------------------------------------------------------------------

    def _outputs(self, stack: str) -> dict[str, str]:
        found = outcome.read(self.cloudformation, stack)
        return found.outputs if found is not None else {}

    def behind_front(self, stack: str) -> bool:
        return self._outputs(stack).get("Traffic") == LOAD_BALANCER

    def entry(self, stack: str) -> Entry:
        return Entry(self.front, True) if self.behind_front(stack) else Entry(stack, False)

    def same_listener(self, new_stack: str, old_stack: str | None) -> bool:
        """Both releases behind the front: traffic moves by listener weights alone."""
        return old_stack is not None and self.behind_front(new_stack) and self.behind_front(old_stack)

    def url(self, stack: str) -> str:
        return self._outputs(self.entry(stack).stack).get("Url", "")

    def target_group(self, stack: str) -> str:
        return self._outputs(stack).get("TargetGroupArn", "")

    def front_slots(self) -> list[tuple[str, int]]:
        """The front listener's (target group ARN, weight) pairs in use, live slot first."""
        found = outcome.read(self.cloudformation, self.front)
        if found is None:
            return []
        parameters = found.parameters
        return [(parameters[arn], int(parameters.get(weight) or 0)) for arn, weight in _SLOTS
                if parameters.get(arn)]

    def split_for(self, new_stack: str, old_stack: str | None, percent: float) -> Split:
        most = LISTENER_MAX_WEIGHT if self.same_listener(new_stack, old_stack) else DNS_MAX_WEIGHT
        return split_for(percent, most)

    def refuse_unmovable(self, new_mode: str, live_stack: str | None) -> None:
        """Traffic between a release behind the front and one that is not moves by DNS: with
        no hosted zone the two have different addresses, and clients would be left on the
        old one. Said before anything is made."""
        if live_stack is None or self.has_zone:
            return
        if (new_mode == LOAD_BALANCER) != self.behind_front(live_stack):
            where = "the application's load balancer" if new_mode == LOAD_BALANCER else "its own load balancer"
            raise WimpyError(
                f"{live_stack} serves from {self._outputs(live_stack).get('Url') or 'another address'}; "
                f"a release behind {where} would serve from another address, and without "
                "hosted_zone there is no name to move clients between them. Nothing was changed.",
                hint="Add hosted_zone to wimpy.yml (the move is then a canary of DNS weights), "
                     "or keep deploy.traffic and deploy.strategy as they were deployed.")

    # -- moving ----------------------------------------------------------------------------

    def attach(self, stack: str, *, beside: str | None) -> None:
        """Put a release behind the front with no traffic, so its targets are health checked
        (a target group no listener forwards to is never checked): beside the live release
        when that is behind the front too, else as the front's only one (the front then
        takes no traffic: its record's weight is 0 while another entry serves)."""
        if not self.behind_front(stack):
            return
        group = self.target_group(stack)
        if beside is not None and self.behind_front(beside):
            live = self.target_group(beside)
            weight = next((w for arn, w in self.front_slots() if arn == live), LISTENER_MAX_WEIGHT)
            self._set_front([(live, weight), (group, 0)])
        else:
            self._set_front([(group, LISTENER_MAX_WEIGHT)])

    def set_split(self, new_stack: str, old_stack: str | None, split: Split) -> None:
        """The new release's share first, then the old one's, so the old release never drops
        before the new one has picked up its share."""
        if self.same_listener(new_stack, old_stack):
            self._set_front([(self.target_group(old_stack), split.old),
                             (self.target_group(new_stack), split.new)])
            return
        new, old = self.entry(new_stack), self.entry(old_stack) if old_stack else None
        if new.behind_front:
            self.attach(new_stack, beside=None)
        self._set_record(new.stack, split.new)
        if old is not None and old.stack != new.stack:
            self._set_record(old.stack, split.old)

    def all_to(self, stack: str, *, away_from: str | None) -> None:
        self.set_split(stack, away_from, Split(DNS_MAX_WEIGHT if not self.same_listener(stack, away_from)
                                               else LISTENER_MAX_WEIGHT, 0))

    def detach(self, stack: str) -> None:
        """Take a release that serves nothing out of the front's listener (a target group a
        listener forwards to cannot be deleted), and its own record's weight to 0."""
        self._set_record(stack, 0)
        group = self.target_group(stack)
        slots = self.front_slots()
        if group and any(arn == group for arn, _ in slots):
            # What is left is alone in the listener: it takes everything the listener gets.
            self._set_front([(arn, LISTENER_MAX_WEIGHT) for arn, _ in slots if arn != group][:1])

    def wait_seconds(self, stack: str, live_stack: str | None, *, dns_seconds: int) -> int:
        """How long clients may still be sent to `stack` after it got weight 0: the DNS
        caches' time when it was reached through another entry than the live release."""
        if live_stack is not None and self.entry(stack) == self.entry(live_stack):
            return 0
        return dns_seconds

    def _set_front(self, slots: list[tuple[str, int]]) -> None:
        values: dict[str, str] = {}
        for index, (arn_key, weight_key) in enumerate(_SLOTS):
            arn, weight = slots[index] if index < len(slots) else ("", 0)
            values[arn_key], values[weight_key] = arn, str(weight)
        traffic.update_parameters(self.cloudformation, self.front, values)

    def _set_record(self, stack: str, weight: int) -> None:
        if _has_parameter(self.cloudformation, stack, "TrafficWeight"):
            traffic.update_parameters(self.cloudformation, stack, {"TrafficWeight": str(weight)})


def refuse_a_switch_on_a_shared_load_balancer(config: Any, env: str, cloudformation: Any) -> None:
    """Moving an application between rolling and blue/green is a canary of DNS weights
    between its two entrances (wimpy_cli/deploy/rolling.py, wimpy_cli/release/bluegreen.py). On the
    environment's shared load balancer both records lead to the same place, where the host
    name's rule decides, so no weight would move a request, and the second rule could not
    even be made (one priority per application). Said before anything changes."""
    from wimpy_cli.release import inventory

    if not config.shares_a_load_balancer(env):
        return
    app = config.app.name
    if config.deploy.strategy == "blue-green":
        other = [naming.rolling_stack(env, app)] if outcome.read(
            cloudformation, naming.rolling_stack(env, app)) is not None else []
    else:
        other = [release.stack for release in inventory.releases(cloudformation, env, app)]
    if other:
        raise WimpyError(
            f"{app} runs in {env} with the other strategy ({', '.join(other)}); on the "
            "environment's shared load balancer its host name's rule, not DNS weights, decides "
            "where requests go, so no canary could move them. Nothing was changed.",
            hint="Keep deploy.strategy as it was deployed; or give the environment "
                 "load_balancer: own for the switch (DNS weights then move traffic); or "
                 "`wimpy destroy` the application and deploy it again (a pause in service).")


def listener_weights(elbv2: Any, load_balancer_arn: str, host: str | None = None) -> list[tuple[str, int]]:
    """The target groups a load balancer's serving listener forwards to, with their weights,
    as the load balancer has them (the HTTPS listener's when there is one: the HTTP one then
    only redirects to it). With `host`, what a request for that host name gets: the
    forward of the rule whose host-header condition names it (an application on a shared
    load balancer), or else the default. Empty when it forwards nowhere (it answers 503)."""
    listeners = sorted(elbv2.describe_listeners(LoadBalancerArn=load_balancer_arn)["Listeners"],
                       key=lambda listener: listener.get("Protocol") != "HTTPS")
    for listener in listeners:
        actions = listener.get("DefaultActions", [])
        if host is not None:
            rule = _rule_for_host(elbv2, listener["ListenerArn"], host)
            actions = rule["Actions"] if rule is not None else actions
        forwarded = _forwarded(actions)
        if forwarded is not None:
            return forwarded
    return []


def _rule_for_host(elbv2: Any, listener_arn: str, host: str) -> dict | None:
    """The first rule by priority whose host-header condition names `host` exactly (Wimpy's
    rules name one host each, without wildcards)."""
    rules = [rule for rule in elbv2.describe_rules(ListenerArn=listener_arn)["Rules"]
             if not rule.get("IsDefault")]
    for rule in sorted(rules, key=lambda rule: int(rule["Priority"])):
        for condition in rule.get("Conditions", []):
            if condition.get("Field") != "host-header":
                continue
            values = condition.get("HostHeaderConfig", {}).get("Values") or condition.get("Values", [])
            if host.lower().rstrip(".") in (value.lower() for value in values):
                return rule
    return None


def _forwarded(actions: list[dict]) -> list[tuple[str, int]] | None:
    for action in actions:
        if action.get("Type") != "forward":
            continue
        weighted = action.get("ForwardConfig", {}).get("TargetGroups")
        if weighted:
            return [(g["TargetGroupArn"], int(g.get("Weight", 1))) for g in weighted]
        return [(action["TargetGroupArn"], 1)]
    return None


def _has_parameter(cloudformation: Any, stack: str, name: str) -> bool:
    found = outcome.read(cloudformation, stack)
    return found is not None and name in found.parameters
