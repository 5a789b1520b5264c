"""The emulator's DescribeTargetHealth, answered from what the local data plane's load
balancer sees when one runs: its instances of the target group, each `initial` while it
boots, `healthy` or `unhealthy` by HAProxy's health checks once in service, `draining`
while its deregistration delay runs. moto says `healthy` of every registered instance,
since none of its instances runs anything; with the data plane running, a deploy's checks
(a canary's "no healthy target", a rollback waiting for its release to come back) and
`wimpy status` then read the real health through the same AWS call as on AWS.

With a data plane, a target group no listener forwards to says `unused` of its targets,
as AWS does (its targets are not health checked at all), and one a listener has just been
pointed at says `initial` until the data plane's next look. Without a data plane, moto
answers as before.
"""

from __future__ import annotations

import json
from typing import Any, Callable

from wimpy_cli.local.dataplane import publish


def describe_target_health(original: Callable[..., Any]) -> Callable[..., Any]:
    def describe(self: Any, target_group_arn: str, targets: list[dict[str, Any]]) -> Any:
        from moto.elbv2.models import FakeHealthStatus

        group = self.target_groups.get(target_group_arn)
        if group is None or not publish.running_in_emulator(self.account_id, self.region_name):
            return original(self, target_group_arn, targets)
        if not group.load_balancer_arns:
            return [FakeHealthStatus(t.instance_id, t.port, "traffic-port", "unused", "Target.NotInUse",
                                     "Target group is not configured to receive traffic from the load balancer")
                    for t in original(self, target_group_arn, targets)]
        seen = publish.in_emulator(self.account_id, self.region_name, publish.target_group_key(group.name))
        if not seen:
            return [FakeHealthStatus(t.instance_id, t.port, "traffic-port", "initial", "Elb.RegistrationInProgress",
                                     "Target registration is in progress")
                    for t in original(self, target_group_arn, targets)]
        wanted = {t["Id"] for t in targets}
        return [FakeHealthStatus(t["id"], str(t["port"]), "traffic-port", t["state"],
                                 t.get("reason"), t.get("description"))
                for t in json.loads(seen).get("targets", [])
                if not wanted or t["id"] in wanted]
    return describe
