"""One Auto Scaling group of the local data plane: as many instances in service as the
group asks for, replaced batch by batch when its launch template changes.

The emulator records the group's size and launch template but never acts on them; this
does what Auto Scaling and CloudFormation's AutoScalingInstanceRefresh (minimum healthy
100%, a launch lifecycle hook the boot script completes, as Wimpy's stacks declare it) or
AutoScalingRollingUpdate (WaitOnResourceSignals, MinInstancesInService at the minimum) do
on AWS (the refresh's alarms and bake time are wimpy_cli/local/rollout.py's):

- a batch of new instances starts beside the old ones, so the minimum stays in service;
- an instance is in service once `wimpy-health-wait` succeeds (the boot script then
  completes its launch hook and signals);
- only then does a batch of old instances leave the load balancer, and each is stopped
  once the target group's deregistration delay has passed since the balancer stopped
  sending it requests (`left_balancers`, once HAProxy runs without it);
- a new instance that signals failure (not healthy within the signal timeout) stops the
  update: no further batch starts, the new instances stop, the old ones keep serving, and
  the group reports the failure for its launch template version, as the stack update
  would fail with it on AWS.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass
from typing import Callable

from wimpy_cli.local.dataplane.instance import Instance, LaunchSpec, State


@dataclass(frozen=True)
class GroupStatus:
    """What the group reports for its current launch template version."""

    version: str
    state: str  # "in-progress", "complete" or "failed"
    desired: int
    in_service: int
    reason: str = ""

    def as_dict(self) -> dict:
        return {"version": self.version, "state": self.state, "desired": self.desired,
                "in_service": self.in_service, "reason": self.reason}


class Group:
    def __init__(self, name: str, launch: Callable[[LaunchSpec], Instance],
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.name = name
        self._launch = launch
        self._clock = clock
        self.instances: list[Instance] = []
        self.failed: dict[str, str] = {}  # launch template version -> why its update failed
        # Draining instances still in the balancer as last applied -> their drain time.
        self._leaving: dict[str, float] = {}

    def in_service(self) -> list[Instance]:
        return [i for i in self.instances if i.state is State.IN_SERVICE]

    def step(self, spec: LaunchSpec, *, desired: int, batch: int, drain_seconds: float) -> GroupStatus:
        """Move one step towards `desired` instances of `spec`; never blocks."""
        self._finish_draining()
        for instance in [i for i in self.instances if i.state is State.FAILED]:
            self.failed.setdefault(instance.version, instance.reason)
            self._stop(instance)
        live = [i for i in self.instances if i.state in (State.BOOTING, State.IN_SERVICE)]
        current = [i for i in live if i.version == spec.version]
        old = [i for i in live if i.version != spec.version]
        if spec.version in self.failed:
            for instance in current:
                self._stop(instance)
            return GroupStatus(spec.version, "failed", desired, 0, self.failed[spec.version])
        if any(i.state is State.BOOTING for i in current):
            return self._status(spec, desired, current, old)
        if old:
            surplus = len(current) + len(old) - desired
            if surplus > 0:
                # Booting old instances first: they serve nobody yet.
                old.sort(key=lambda i: i.state is State.IN_SERVICE)
                for instance in old[:min(batch, surplus)]:
                    self._drain(instance, drain_seconds)
            else:
                self._start(spec, min(batch, desired - len(current)))
        elif len(current) < desired:
            self._start(spec, desired - len(current))
        elif len(current) > desired:
            for instance in current[desired:]:
                self._drain(instance, drain_seconds)
        return self._status(spec, desired, current, old)

    def _status(self, spec: LaunchSpec, desired: int, current: list[Instance],
                old: list[Instance]) -> GroupStatus:
        in_service = sum(i.state is State.IN_SERVICE for i in current)
        done = not old and in_service == desired == len(current)
        return GroupStatus(spec.version, "complete" if done else "in-progress", desired, in_service)

    def _start(self, spec: LaunchSpec, count: int) -> None:
        for _ in range(count):
            self.instances.append(self._launch(spec))

    def _drain(self, instance: Instance, seconds: float) -> None:
        if instance.state is State.BOOTING:  # never took a request
            self._stop(instance)
        else:
            # Its drain time counts from when the balancer stops sending it requests: on a
            # loaded machine HAProxy's reload can take a good part of a short delay.
            instance.drain(math.inf)
            self._leaving[instance.id] = seconds

    def left_balancers(self) -> None:
        """The balancers now run without the instances drained since the last call: their
        deregistration delay starts."""
        for instance in self.instances:
            if instance.id in self._leaving:
                instance.drain_until = self._clock() + self._leaving.pop(instance.id)

    def _finish_draining(self) -> None:
        for instance in list(self.instances):  # _stop removes from the list
            if instance.state is State.DRAINING and self._clock() >= instance.drain_until:
                self._stop(instance)

    def _stop(self, instance: Instance) -> None:
        """Stop in the background (docker stop waits for the container), and forget it."""
        self.instances.remove(instance)
        threading.Thread(target=instance.terminate, name=f"{instance.id}-stop", daemon=True).start()

    def terminate_all(self, *, graceful: bool = True) -> None:
        """Stop every instance, all at once: each waits for its container's stop timeout, or
        (not `graceful`: the data plane is going away) its container is removed at once."""
        stopping = [threading.Thread(target=instance.terminate if graceful else instance.discard, daemon=True)
                    for instance in self.instances]
        self.instances.clear()
        for thread in stopping:
            thread.start()
        for thread in stopping:
            thread.join()
