"""The local data plane's control loop: every half second, read the emulator through its
AWS API (Auto Scaling groups, launch templates, load balancers, target groups, Route53),
move each group one step towards what it asks for, and point each load balancer at the
instances in service. What it did is published back into the emulator's SSM, under
/wimpy/local/dataplane/, for the commands to read: each group's progress on its launch
template version (which a local deploy waits for, as CloudFormation waits for signals)
and each route's local URL.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import socket
import threading
import time
import traceback
from pathlib import Path
from typing import Any, Callable

from wimpy_constructs.boot import read_boot_script

from cli.local.dataplane import launch_template_version, publish
from cli.local.dataplane.balancer import Backend, Balancer, Server
from cli.local.dataplane.groups import Group
from cli.local.dataplane.instance import Instance, LaunchSpec
from cli.local.dataplane.routes import Route, TargetGroup, describe_target_group, read_routes

log = logging.getLogger("wimpy.dataplane")
# A target group's health check settings are asked again after this long: a stack update
# may change them, but not every half second (each loop would otherwise ask two more
# questions per target group of an emulator that shares this machine's cores).
TARGET_GROUP_REFRESH_SECONDS = 10.0


class DataPlane:
    def __init__(self, client: Callable[[str], Any], environment: dict[str, str],
                 directory: Path, *, interval_seconds: float = 0.5) -> None:
        self._client = client
        self._environment = environment  # the emulator's, for the instance scripts' `aws`
        self.directory = directory
        self._interval = interval_seconds
        self._groups: dict[str, Group] = {}
        self._specs: dict[tuple[str, str], LaunchSpec] = {}
        self._batches: dict[str, int] = {}
        self._balancers: dict[str, Balancer] = {}
        self._published: dict[str, str] = {}
        self._target_groups: dict[str, tuple[float, TargetGroup]] = {}
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._counter = 0
        self._prefix = f"wimpy-local-{socket.gethostname()[:8]}-{directory.name[-8:]}-"
        self.last_error = ""

    def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        publish.running(self._client("ssm"), True)
        self._thread = threading.Thread(target=self._loop, name="dataplane", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        groups = [threading.Thread(target=group.terminate_all, daemon=True)
                  for group in self._groups.values()]
        for thread in groups:
            thread.start()
        for thread in groups:
            thread.join()
        for balancer in self._balancers.values():
            balancer.stop()
        try:
            publish.running(self._client("ssm"), False)
        except Exception:  # the emulator may be stopping too: nothing left to tell
            pass

    def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                self.reconcile()
                self.last_error = ""
            except Exception as error:  # the loop must outlive one bad read; say why
                message = f"{type(error).__name__}: {error}"
                if message != self.last_error:
                    log.error("data plane: %s\n%s", message, traceback.format_exc())
                self.last_error = message
            self._stopping.wait(self._interval)

    def reconcile(self) -> None:
        autoscaling = self._client("autoscaling")
        seen: set[str] = set()
        groups_of_target_group: dict[str, list[str]] = {}
        for described in _pages(autoscaling, "describe_auto_scaling_groups", "AutoScalingGroups"):
            name = described["AutoScalingGroupName"]
            spec = self._spec(described)
            if spec is None:
                continue
            seen.add(name)
            if spec.unreachable_image:
                self._publish(f"groups/{name}", {"version": spec.version, "state": "not-run",
                                                 "desired": 0, "in_service": 0,
                                                 "reason": spec.unreachable_image})
                continue
            for arn in described.get("TargetGroupARNs", []):
                groups_of_target_group.setdefault(arn, []).append(name)
            group = self._groups.setdefault(name, Group(name, self._launcher(name)))
            status = group.step(spec, desired=int(described.get("DesiredCapacity", described["MinSize"])),
                                batch=self._batch(name), drain_seconds=self._drain_seconds(described))
            self._publish(f"groups/{name}", status.as_dict())
        for name in set(self._groups) - seen:  # the group was deleted: so are its instances
            threading.Thread(target=self._groups.pop(name).terminate_all, daemon=True).start()
        self._route(groups_of_target_group)

    def _route(self, groups_of_target_group: dict[str, list[str]]) -> None:
        for route in read_routes(self._client, self._target_group):
            if not any(target_group.arn in groups_of_target_group for target_group, _ in route.shares):
                continue  # nothing behind it that this data plane runs: no local URL
            try:
                self._balance(route, groups_of_target_group)
            except Exception as error:  # one name's balancer must not stop the others'
                log.error("data plane: the load balancer for %s: %s", route.name, error)

    def _balance(self, route: Route, groups_of_target_group: dict[str, list[str]]) -> None:
        backends = []
        for target_group, weight in route.shares:
            servers = tuple(Server(i.id, i.host_port)
                            for name in groups_of_target_group.get(target_group.arn, [])
                            if name in self._groups
                            for i in self._groups[name].in_service())
            backends.append(Backend(_backend_name(target_group.name), weight,
                                    target_group.health, servers))
        balancer = self._balancers.get(route.name)
        if balancer is None:
            # A short folder: HAProxy's socket path must fit in 108 bytes.
            folder = hashlib.sha256(route.name.encode()).hexdigest()[:12]
            balancer = Balancer(route.name, self.directory / "balancers" / folder,
                                self._port_for(route.name))
            self._balancers[route.name] = balancer
        balancer.apply(tuple(backends))
        self._publish(f"balancers/{route.name}", {"url": balancer.url})
        self._publish_health(balancer, route)

    def _publish_health(self, balancer: Balancer, route: Route) -> None:
        """Each target group's servers as HAProxy's health checks see them."""
        rows = balancer.stats()
        for target_group, _ in route.shares:
            backend = _backend_name(target_group.name)
            servers = [r for r in rows if r.get("pxname") == backend
                       and r.get("svname") not in ("FRONTEND", "BACKEND")]
            self._publish(f"target-groups/{target_group.name}", {
                "healthy": sum(r.get("status", "").startswith("UP") for r in servers),
                "total": len(servers)})

    def _target_group(self, elbv2: Any, arn: str) -> TargetGroup:
        now = time.monotonic()
        cached = self._target_groups.get(arn)
        if cached is None or now - cached[0] > TARGET_GROUP_REFRESH_SECONDS:
            cached = (now, describe_target_group(elbv2, arn))
            self._target_groups[arn] = cached
        return cached[1]

    def _spec(self, described: dict) -> LaunchSpec | None:
        template = described.get("LaunchTemplate")
        if not template:
            return None
        key = (template["LaunchTemplateId"], str(template.get("Version", "$Latest")))
        if key not in self._specs:
            version = launch_template_version(self._client("ec2"), template)
            user_data = version["LaunchTemplateData"].get("UserData", "")
            try:
                boot = read_boot_script(base64.b64decode(user_data).decode())
            except ValueError:
                return None  # not an instance Wimpy's boot script starts
            self._specs[key] = LaunchSpec.from_boot(str(version["VersionNumber"]), boot)
        return self._specs[key]

    def _batch(self, group: str) -> int:
        """MaxBatchSize of the group's AutoScalingRollingUpdate, from its stack's template."""
        if group not in self._batches:
            cloudformation = self._client("cloudformation")
            batch = 1
            try:
                resource = cloudformation.describe_stack_resources(PhysicalResourceId=group)["StackResources"][0]
                template = cloudformation.get_template(StackName=resource["StackName"])["TemplateBody"]
                if isinstance(template, str):
                    template = json.loads(template)
                policy = template["Resources"][resource["LogicalResourceId"]].get("UpdatePolicy", {})
                batch = int(policy.get("AutoScalingRollingUpdate", {}).get("MaxBatchSize", 1))
            except Exception:  # a group no stack made: one at a time
                pass
            self._batches[group] = batch
        return self._batches[group]

    def _drain_seconds(self, described: dict) -> float:
        elbv2 = self._client("elbv2")
        return max((self._target_group(elbv2, arn).deregistration_delay_seconds
                    for arn in described.get("TargetGroupARNs", [])), default=0)

    def _launcher(self, group: str) -> Callable[[LaunchSpec], Instance]:
        def launch(spec: LaunchSpec) -> Instance:
            self._counter += 1
            instance_id = f"i-local{self._counter:010d}"
            instance = Instance(instance_id=instance_id, group=group, spec=spec,
                                host_port=_free_port(), directory=self.directory / "instances" / instance_id,
                                environment=self._environment, container_prefix=self._prefix)
            instance.start()
            return instance
        return launch

    def _port_for(self, route: str) -> int:
        path = self.directory / "ports.json"
        ports = json.loads(path.read_text()) if path.exists() else {}
        if route not in ports:
            ports[route] = _free_port()
            path.write_text(json.dumps(ports, indent=2))
        return int(ports[route])

    def _publish(self, key: str, value: dict) -> None:
        text = json.dumps(value, sort_keys=True)
        if self._published.get(key) != text:
            publish.put(self._client("ssm"), key, text)
            self._published[key] = text


def _pages(client: Any, operation: str, key: str) -> list[dict]:
    return [item for page in client.get_paginator(operation).paginate() for item in page[key]]


def _backend_name(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
