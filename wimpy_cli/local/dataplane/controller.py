"""The local data plane's control loop: every second, read the emulator through its
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

from wimpy_cli.estimate.deploy_time import refresh_batch
from wimpy_cli.local.dataplane import alarms, free_port, group_update_policy, launch_template_version, publish
from wimpy_cli.local.dataplane.balancer import Backend, Balancer, Server
from wimpy_cli.local.dataplane.metrics import KEEP_SECONDS, Dimensions, MetricStore, RequestLog, dimensions, now_second
from wimpy_cli.local.dataplane.groups import Group
from wimpy_cli.local.dataplane.registry import LocalRegistry
from wimpy_cli.local.dataplane.instance import Instance, LaunchSpec, State
from wimpy_cli.local.dataplane.routes import Route, TargetGroup, describe_target_group, read_routes

log = logging.getLogger("wimpy.dataplane")
# A target group's health check settings are asked again after this long: a stack update
# may change them, but not every second (each loop would otherwise ask two more
# questions per target group of an emulator that shares this machine's cores).
TARGET_GROUP_REFRESH_SECONDS = 10.0
# Finished minutes of metrics go to the emulator's CloudWatch this often; the alarms are
# evaluated on every loop, from the data plane's own copy, per second.
SEND_METRICS_SECONDS = 5.0


class DataPlane:
    def __init__(self, client: Callable[[str], Any], environment: dict[str, str],
                 directory: Path, *, interval_seconds: float = 1.0) -> None:
        self._client = client
        self._environment = environment  # the emulator's, for the instance scripts' `aws`
        self.directory = directory
        self._interval = interval_seconds
        self._groups: dict[str, Group] = {}
        self._specs: dict[tuple[str, str], LaunchSpec] = {}
        self._batches: dict[tuple[str, int], int] = {}
        self._balancers: dict[str, Balancer] = {}
        self._published: dict[str, str] = {}
        self._target_groups: dict[str, tuple[float, TargetGroup]] = {}
        self._logs: dict[str, RequestLog] = {}
        self.metrics = MetricStore()
        self._served: set[Dimensions] = set()
        self._metrics_sent = 0.0
        self.registry = LocalRegistry(directory / "registry")
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._counter = 0
        self._prefix = container_prefix(directory)
        self.last_error = ""

    def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.registry.start()
        ssm = self._client("ssm")
        publish.registry(ssm, self.registry.host)
        publish.running(ssm, True)
        self._thread = threading.Thread(target=self._loop, name="dataplane", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Everything it started goes, quickly (the load balancers first: no request is left
        to route), so that `wimpy local stop` is never cut short by its own timeout."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        for balancer in self._balancers.values():
            balancer.stop()
        for log in self._logs.values():
            log.close()
        groups = [threading.Thread(target=group.terminate_all, kwargs={"graceful": False}, daemon=True)
                  for group in self._groups.values()]
        for thread in groups:
            thread.start()
        for thread in groups:
            thread.join()
        self.registry.stop()
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
            for arn in described.get("TargetGroupARNs", []):
                groups_of_target_group.setdefault(arn, []).append(name)
            group = self._groups.setdefault(name, Group(name, self._launcher(name)))
            status = group.step(spec, desired=int(described.get("DesiredCapacity", described["MinSize"])),
                                batch=self._batch(name, int(described["MinSize"])),
                                drain_seconds=self._drain_seconds(described))
            self._publish(f"groups/{name}", status.as_dict())
        for name in set(self._groups) - seen:  # the group was deleted: so are its instances
            threading.Thread(target=self._groups.pop(name).terminate_all, daemon=True).start()
        self._route(groups_of_target_group)
        for group in self._groups.values():
            group.left_balancers()
        self._judge_alarms()
        self._send_metrics()

    def _route(self, groups_of_target_group: dict[str, list[str]]) -> None:
        serving: set[Dimensions] = set()
        for route in read_routes(self._client, self._target_group):
            if route.shares and not any(target_group.arn in groups_of_target_group
                                        for target_group, _ in route.shares):
                continue  # nothing behind it that this data plane runs: no local URL
            # A load balancer forwarding nowhere (a front before its first release) answers
            # 503, as an ALB's fixed response does, from the address it will keep.
            try:
                self._balance(route, groups_of_target_group, serving)
            except Exception as error:  # one name's balancer must not stop the others'
                log.error("data plane: the load balancer for %s: %s", route.name, error)
        # Swapped whole: a reader on another thread (served) never sees it half made.
        self._served = serving

    @property
    def served(self) -> frozenset[Dimensions]:
        """The target groups (as metric dimensions) whose requests and health this data
        plane measures, as of its last loop."""
        return frozenset(self._served)

    def _balance(self, route: Route, groups_of_target_group: dict[str, list[str]],
                 serving: set[Dimensions]) -> None:
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
            folder = self.directory / "balancers" / hashlib.sha256(route.name.encode()).hexdigest()[:12]
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            self._logs[route.name] = RequestLog(folder / "log.sock")
            balancer = Balancer(route.name, folder, self._port_for(route.name), folder / "log.sock")
            self._balancers[route.name] = balancer
        balancer.apply(tuple(backends), exact=route.exact)
        self.metrics.record_requests(self._logs[route.name].take(), {
            _backend_name(tg.name): (_dimensions(tg), dimensions(LoadBalancer=tg.load_balancer_full_name))
            for tg, _ in route.shares})
        self._publish(f"balancers/{route.name}", {"url": balancer.url})
        self._publish_health(balancer, route, groups_of_target_group, serving)

    def _publish_health(self, balancer: Balancer, route: Route,
                        groups_of_target_group: dict[str, list[str]], serving: set[Dimensions]) -> None:
        """Each target group's instances and their health, as an ALB would describe them:
        initial while booting, then as HAProxy's checks see them, draining on the way out."""
        rows = {(r.get("pxname"), r.get("svname")): r.get("status", "") for r in balancer.stats()}
        for target_group, _ in route.shares:
            backend = _backend_name(target_group.name)
            targets = []
            for name in groups_of_target_group.get(target_group.arn, []):
                for instance in self._groups[name].instances if name in self._groups else []:
                    targets.append({"id": instance.id, "port": instance.host_port,
                                    "container": instance.container,
                                    **_target_state(instance.state, rows.get((backend, instance.id), ""))})
            self._publish(publish.target_group_key(target_group.name), {"targets": targets})
            dims = _dimensions(target_group)
            serving.add(dims)
            self.metrics.record_hosts(dims, now_second(),
                                      healthy=sum(t["state"] == "healthy" for t in targets),
                                      unhealthy=sum(t["state"] == "unhealthy" for t in targets))

    def _judge_alarms(self) -> None:
        """Evaluate the alarms on the metrics made here; set each one's state when it changes."""
        if not self._served:
            return
        cloudwatch = self._client("cloudwatch")
        now = now_second()
        for alarm in _pages(cloudwatch, "describe_alarms", "MetricAlarms"):
            found = alarms.evaluate(alarm, self.metrics, self._served, now)
            if found is not None and found.state != alarm["StateValue"]:
                cloudwatch.set_alarm_state(AlarmName=alarm["AlarmName"], StateValue=found.state,
                                           StateReason=found.reason[:1023])

    def _send_metrics(self) -> None:
        if time.monotonic() - self._metrics_sent < SEND_METRICS_SECONDS:
            return
        self._metrics_sent = time.monotonic()
        now = now_second()
        self.metrics.send(self._client("cloudwatch"), before=now)
        self.metrics.forget_before(now - KEEP_SECONDS)

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

    def _batch(self, group: str, min_size: int) -> int:
        """Instances the group's update policy replaces at once, from its stack's template:
        an instance refresh's healthy range (as much of the minimum as it leaves room for),
        or a rolling update's MaxBatchSize."""
        if (group, min_size) not in self._batches:
            batch = 1
            try:
                policy, _ = group_update_policy(self._client("cloudformation"), group)
                if "AutoScalingInstanceRefresh" in policy:
                    preferences = policy["AutoScalingInstanceRefresh"].get("Preferences", {})
                    healthy = {name: int(preferences[key]) for name, key in (
                        ("min_healthy", "MinHealthyPercentage"), ("max_healthy", "MaxHealthyPercentage"))
                        if key in preferences}
                    batch = refresh_batch(min_size, **healthy)
                else:
                    batch = int(policy.get("AutoScalingRollingUpdate", {}).get("MaxBatchSize", 1))
            except Exception:  # a group no stack made: one at a time
                pass
            self._batches[(group, min_size)] = batch
        return self._batches[(group, min_size)]

    def _drain_seconds(self, described: dict) -> float:
        elbv2 = self._client("elbv2")
        return max((self._target_group(elbv2, arn).deregistration_delay_seconds
                    for arn in described.get("TargetGroupARNs", [])), default=0)

    def _launcher(self, group: str) -> Callable[[LaunchSpec], Instance]:
        def launch(spec: LaunchSpec) -> Instance:
            self._counter += 1
            instance_id = f"i-local{self._counter:010d}"
            instance = Instance(instance_id=instance_id, group=group, spec=spec,
                                host_port=free_port(), directory=self.directory / "instances" / instance_id,
                                environment=self._environment, container_prefix=self._prefix,
                                registry=self.registry.host, logs_client=lambda: self._client("logs"))
            instance.start()
            return instance
        return launch

    def _port_for(self, route: str) -> int:
        path = self.directory / "ports.json"
        ports = json.loads(path.read_text()) if path.exists() else {}
        if route not in ports:
            ports[route] = free_port()
            path.write_text(json.dumps(ports, indent=2))
        return int(ports[route])

    def _publish(self, key: str, value: dict) -> None:
        text = json.dumps(value, sort_keys=True)
        if self._published.get(key) != text:
            publish.put(self._client("ssm"), key, text)
            self._published[key] = text


def container_prefix(directory: Path) -> str:
    """The names of a data plane's containers start with this: the machine and its folder,
    the whole path's digest too: two data planes whose folders end alike (two emulators'
    state folders, two test workers' dataplane0) number their instances alike, and one's
    `docker rm --force` of a name would remove the other's container."""
    import hashlib

    digest = hashlib.sha256(str(directory.resolve()).encode()).hexdigest()[:8]
    return f"wimpy-local-{socket.gethostname()[:8]}-{directory.name[-8:]}-{digest}-"


def _pages(client: Any, operation: str, key: str) -> list[dict]:
    return [item for page in client.get_paginator(operation).paginate() for item in page[key]]


def _target_state(state: State, checked: str) -> dict[str, str]:
    """DescribeTargetHealth's State, Reason and Description for an instance in `state`
    whose server HAProxy reports as `checked` ("UP", "DOWN", "UP 1/2"...; "" if absent)."""
    if state is State.BOOTING or (state is State.IN_SERVICE and not checked):
        return {"state": "initial", "reason": "Elb.RegistrationInProgress",
                "description": "Target registration is in progress"}
    if state is State.DRAINING:
        return {"state": "draining", "reason": "Target.DeregistrationInProgress",
                "description": "Target deregistration is in progress"}
    if state is State.IN_SERVICE and checked.startswith("UP"):
        return {"state": "healthy"}
    return {"state": "unhealthy", "reason": "Target.FailedHealthChecks",
            "description": f"Health checks failed (HAProxy: {checked or state.value})"}


def _dimensions(target_group: TargetGroup) -> Dimensions:
    return dimensions(LoadBalancer=target_group.load_balancer_full_name, TargetGroup=target_group.full_name)


def _backend_name(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)

