"""How long a deploy takes on AWS: the critical path, phase by phase, computed from a
synthesized application-stack template plus stated assumptions.

The template gives what Wimpy configures (the Auto Scaling group's rolling-update policy
and signal timeouts, the target group's health check and deregistration delay, the group's
size); the assumptions give what only a real instance shows (boot, Docker start, image
pull, container start), each with a default that says where it comes from and a flag of
`wimpy plan` to override it. Nothing here calls AWS or imports the CDK.

Rolling (CloudFormation's AutoScalingInstanceRefresh, as Wimpy's templates declare it, or
AutoScalingRollingUpdate with WaitOnResourceSignals): the group is replaced in
ceil(capacity / batch) batches, one after another; each batch

    boots, starts Docker, pulls the image, starts the container and answers locally
    (then completes its launch hook or signals; the hook's heartbeat timeout or the signal
    timeout is the worst case of these four together),
    becomes healthy in the target group (healthy threshold x interval; an instance
    refresh waits its InstanceWarmup instead),
    and the instance it replaces drains (deregistration delay);

then an instance refresh's alarms keep watching for its BakeTime before CloudFormation
calls the update done.

Blue/green: a whole release stack is created (through DNS, a load balancer of its own;
behind the application's long-lived load balancer, none), then every instance in
parallel, healthy in its target group; traffic moves through the canary steps (each
watched for the bake time, and through DNS one TTL more, two at 100%, exactly as
wimpy_cli/release/canary.py waits), then the old release drains.

Rollback: a rolling deploy of the previous version; for blue/green, the kept release
brought back (from zero instances, or warm at its capacity) and traffic moved to it once
it is healthy, as wimpy_cli/release/bluegreen.py does, or the release deployed again when none
is kept.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Mapping, Sequence

from wimpy_cli.errors import ExitCode, WimpyError
from wimpy_cli.release.canary import CanaryPlan
from wimpy_cli.release.watch import AWS_METRICS_LAG_SECONDS

ROLLING = "rolling"
BLUE_GREEN = "blue-green"
STRATEGIES = (ROLLING, BLUE_GREEN)

GROUP_TYPE = "AWS::AutoScaling::AutoScalingGroup"
TARGET_GROUP_TYPE = "AWS::ElasticLoadBalancingV2::TargetGroup"
DEREGISTRATION_KEY = "deregistration_delay.timeout_seconds"

# What AWS uses when a target group leaves a setting out: 30 s interval, healthy after 5,
# unhealthy after 2, 300 s deregistration delay (https://docs.aws.amazon.com/
# elasticloadbalancing/latest/application/target-group-health-checks.html).
ALB_DEFAULT_INTERVAL_SECONDS = 30
ALB_DEFAULT_HEALTHY_THRESHOLD = 5
ALB_DEFAULT_UNHEALTHY_THRESHOLD = 2
ALB_DEFAULT_DEREGISTRATION_SECONDS = 300
# CloudFormation's PauseTime when the rolling update leaves it out: PT5M when
# WaitOnResourceSignals is set, PT0S otherwise (https://docs.aws.amazon.com/
# AWSCloudFormation/latest/UserGuide/aws-attribute-updatepolicy.html).
CFN_DEFAULT_PAUSE_WITH_SIGNALS_SECONDS = 300
CFN_DEFAULT_PAUSE_SECONDS = 0
# CloudFormation's MaxBatchSize when left out. Assumed (AWS documents 1; the peers file
# does not state it).
CFN_DEFAULT_MAX_BATCH_SIZE = 1
# An instance refresh's healthy percentages when left out (Rolling strategy), and a
# lifecycle hook's heartbeat timeout: the CDK's InstanceRefreshOptions and LifecycleHook
# documentation (aws-cdk-lib 2.275).
REFRESH_DEFAULT_MIN_HEALTHY_PERCENT = 100
REFRESH_DEFAULT_MAX_HEALTHY_PERCENT = 110
HOOK_DEFAULT_HEARTBEAT_SECONDS = 3600
LAUNCHING = "autoscaling:EC2_INSTANCE_LAUNCHING"

# library/wimpy_constructs/boot/wimpy-health-wait polls the health path every 2 s (its default
# interval): the container is seen healthy at most one poll after it starts answering.
HEALTH_WAIT_POLL_SECONDS = 2

# Canary defaults (the same as wimpy.yml's deploy.canary and deploy.dns_ttl_seconds).
DEFAULT_CANARY_STEPS: tuple[float, ...] = (10.0, 50.0, 100.0)
DEFAULT_BAKE_SECONDS = 300
DEFAULT_TTL_SECONDS = 60


@dataclass(frozen=True)
class Assumptions:
    """What the template cannot say: how long the parts of a new instance's start take.
    None of these are measured (no instance boots in the emulator); override them with
    what your own deploys show."""

    # From RunInstances to cloud-init running user data on an Amazon Linux 2023 t3
    # instance: assumed, typical of current-generation Nitro instances. --boot-seconds
    boot_seconds: float = 40
    # Starting the image's dockerd (boot.sh): the ECS-optimized Amazon Linux 2023 image
    # carries Docker and the AWS CLI, so nothing is installed. Assumed. A pinned image
    # without them pays `dnf install` (about a minute) inside the 120 s the ContainerService
    # construct allots for install + pull (_BOOT_ALLOWANCE_SECONDS). --install-seconds
    install_seconds: float = 3
    # ECR login and pull of a ~200 MB image from the same region through NAT. Assumed,
    # the rest of the same 120 s allowance. --pull-seconds
    pull_seconds: float = 30
    # `docker run` until the application answers its health path. Assumed (a small web
    # application); the health wait adds up to one 2 s poll. --start-seconds
    start_seconds: float = 5
    # Creating an internet-facing ALB until it is active (blue/green only). Assumed: AWS
    # publishes no figure; a few minutes is usual. --load-balancer-seconds
    load_balancer_seconds: float = 180

    def __post_init__(self) -> None:
        for name, value in asdict(self).items():
            if value < 0:
                raise WimpyError(f"the assumption {name} must be 0 or more seconds, got {value}",
                                 code=ExitCode.USAGE)

    @property
    def instance_ready_seconds(self) -> float:
        """Launch to answering locally: what the signal timeout bounds."""
        return (self.boot_seconds + self.install_seconds + self.pull_seconds
                + self.start_seconds + HEALTH_WAIT_POLL_SECONDS)


@dataclass(frozen=True)
class Rollout:
    """What an application template says about how its instances are replaced."""

    group: str  # the Auto Scaling group's logical id
    min_size: int
    max_size: int
    # UpdatePolicy.AutoScalingRollingUpdate; None when the template has none.
    max_batch_size: int | None
    min_in_service: int | None
    pause_seconds: float | None
    wait_on_signals: bool
    # CreationPolicy.ResourceSignal: how long a new group's instances have to signal.
    creation_timeout_seconds: float | None
    health_interval_seconds: float
    healthy_threshold: int
    unhealthy_threshold: int
    deregistration_delay_seconds: float
    defaulted: tuple[str, ...] = ()  # settings the template left to AWS's defaults
    # An instance refresh (AutoScalingInstanceRefresh): its InstanceWarmup between batches,
    # its BakeTime after the last, and the alarms watched through both.
    refresh: bool = False
    warmup_seconds: float = 0
    bake_seconds: float = 0
    alarms: int = 0


@dataclass(frozen=True)
class Phase:
    name: str
    seconds: float
    formula: str


@dataclass(frozen=True)
class DeployEstimate:
    strategy: str
    capacity: int
    batches: int
    phases: tuple[Phase, ...]
    expected_seconds: float
    worst_seconds: float
    worst_formula: str
    assumptions: Assumptions
    warnings: tuple[str, ...] = ()
    rollbacks: tuple["RollbackEstimate", ...] = ()
    # Rolling: until every request is served by the new version and the old instances are
    # gone, before the bake (the alarms watching what it serves) ends the deploy.
    serving_seconds: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "serving_seconds": self.serving_seconds,
            "rollbacks": [asdict(rollback) for rollback in self.rollbacks],
            "strategy": self.strategy,
            "capacity": self.capacity,
            "batches": self.batches,
            "phases": [asdict(phase) for phase in self.phases],
            "expected_seconds": self.expected_seconds,
            "worst_seconds": self.worst_seconds,
            "worst_formula": self.worst_formula,
            "assumptions": asdict(self.assumptions),
            "warnings": list(self.warnings),
        }


@dataclass(frozen=True)
class RollbackEstimate:
    """How long `wimpy rollback` takes until all traffic is back on the previous version."""

    kept: str  # "zero", "warm", "none" (no kept release), or "rolling"
    configured: bool  # what wimpy.yml chooses
    seconds: float
    formula: str


# -- reading the template ------------------------------------------------------------

_DURATION = re.compile(r"PT(?:([0-9]+)H)?(?:([0-9]+)M)?(?:([0-9]+(?:\.[0-9]+)?)S)?", re.ASCII)


def duration_seconds(value: str, *, what: str) -> float:
    """Seconds in an ISO 8601 duration as CloudFormation writes them (PT10M, PT1H30M)."""
    match = _DURATION.fullmatch(str(value))
    if not match or value == "PT":
        raise WimpyError(f"{what} is {value!r}, not an ISO 8601 duration such as PT10M")
    hours, minutes, seconds = match.groups()
    return int(hours or 0) * 3600 + int(minutes or 0) * 60 + float(seconds or 0)


def _number(value: Any, *, what: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise WimpyError(f"{what} is {value!r}, not a number (a template to estimate must "
                         "have literal values there, not references)") from None


def refresh_batch(min_size: int, min_healthy: int = REFRESH_DEFAULT_MIN_HEALTHY_PERCENT,
                  max_healthy: int = REFRESH_DEFAULT_MAX_HEALTHY_PERCENT) -> int:
    """Instances an instance refresh replaces at once: as many of the group's as its healthy
    range (in percent) leaves room for, at least one. The local data plane rolls so too."""
    return max(1, math.floor(min_size * (max_healthy - min_healthy) / 100))


def serving(value: Any) -> Any:
    """A blue/green release's group size is `Fn::If [ScaledToZero, 0, size]` (none while
    kept idle at zero): the size it has while it serves."""
    if isinstance(value, Mapping) and isinstance(value.get("Fn::If"), list) and len(value["Fn::If"]) == 3:
        return value["Fn::If"][2]
    return value


def _given_or_default(values: Mapping[str, Any], key: str, default: float, *, where: str,
                      defaulted: list[str], default_is: str) -> float:
    """`values[key]` as a number, or `default` noted in `defaulted` as what AWS gives."""
    if key in values:
        return _number(values[key], what=f"{where} {key}")
    defaulted.append(f"{key} ({default_is})")
    return default


def _whole(value: Any, *, what: str) -> int:
    number = _number(value, what=what)
    if number != int(number):
        raise WimpyError(f"{what} is {value!r}, not a whole number")
    return int(number)


def _resources(template: Mapping[str, Any], type_: str) -> dict[str, Mapping[str, Any]]:
    resources = template.get("Resources")
    if not isinstance(resources, Mapping):
        raise WimpyError("the template has no Resources section; give the application "
                         "stack's template (wimpy-<env>-<app>.template.json)")
    return {name: r for name, r in resources.items()
            if isinstance(r, Mapping) and r.get("Type") == type_}


def _one_group(template: Mapping[str, Any]) -> tuple[str, Mapping[str, Any]]:
    groups = _resources(template, GROUP_TYPE)
    if len(groups) != 1:
        found = ", ".join(sorted(groups)) or "none"
        raise WimpyError(f"the template must hold exactly one {GROUP_TYPE} to estimate a "
                         f"deploy (found: {found}); give the application stack's template "
                         "(wimpy-<env>-<app>.template.json)")
    return next(iter(groups.items()))


def _target_group(template: Mapping[str, Any], group: Mapping[str, Any]) -> tuple[str, Mapping[str, Any]]:
    target_groups = _resources(template, TARGET_GROUP_TYPE)
    referenced = [ref.get("Ref") for ref in group.get("Properties", {}).get("TargetGroupARNs", [])
                  if isinstance(ref, Mapping)]
    chosen = [name for name in referenced if name in target_groups]
    if len(chosen) == 1:
        return chosen[0], target_groups[chosen[0]]
    if not chosen and len(target_groups) == 1:
        return next(iter(target_groups.items()))
    found = ", ".join(sorted(target_groups)) or "none"
    raise WimpyError(f"cannot tell which {TARGET_GROUP_TYPE} the Auto Scaling group "
                     f"registers in (found: {found}; the group's TargetGroupARNs name "
                     f"{referenced or 'none'}); the estimate needs exactly one")


def read_rollout(template: Mapping[str, Any]) -> Rollout:
    """The settings a deploy's duration depends on, from an application stack's template;
    WimpyError naming what is missing or not a literal value."""
    group_name, group = _one_group(template)
    properties = group.get("Properties", {})
    where = f"{group_name} ({GROUP_TYPE})"
    for key in ("MinSize", "MaxSize"):
        if key not in properties:
            raise WimpyError(f"{where} has no Properties.{key}")
    min_size = _whole(serving(properties["MinSize"]), what=f"{where} MinSize")
    max_size = _whole(serving(properties["MaxSize"]), what=f"{where} MaxSize")
    defaulted: list[str] = []

    rolling = (group.get("UpdatePolicy") or {}).get("AutoScalingRollingUpdate")
    refresh = (group.get("UpdatePolicy") or {}).get("AutoScalingInstanceRefresh")
    max_batch = min_in_service = pause = None
    wait_on_signals = False
    warmup = bake = 0.0
    alarms = 0
    if isinstance(refresh, Mapping):
        preferences = refresh.get("Preferences") or {}

        def percent(key: str, default: int) -> int:
            return int(_given_or_default(preferences, key, default, where=where, defaulted=defaulted,
                                         default_is=f"the default {default}%"))

        low = percent("MinHealthyPercentage", REFRESH_DEFAULT_MIN_HEALTHY_PERCENT)
        high = percent("MaxHealthyPercentage", REFRESH_DEFAULT_MAX_HEALTHY_PERCENT)
        max_batch = refresh_batch(min_size, low, high)
        min_in_service = math.floor(min_size * low / 100)
        hooks = [hook for hook in properties.get("LifecycleHookSpecificationList", [])
                 if isinstance(hook, Mapping) and hook.get("LifecycleTransition") == LAUNCHING]
        # A launch hook holds each new instance out of service until its boot completes
        # it: the instance refresh's readiness gate, as signals are a rolling update's.
        wait_on_signals = bool(hooks)
        if hooks:
            pause = _number(hooks[0].get("HeartbeatTimeout", HOOK_DEFAULT_HEARTBEAT_SECONDS),
                            what=f"{where} launch hook HeartbeatTimeout")
        warmup = _number(preferences.get("InstanceWarmup", properties.get("HealthCheckGracePeriod", 0)),
                         what=f"{where} InstanceWarmup")
        bake = _number(preferences.get("BakeTime", 0), what=f"{where} BakeTime")
        alarms = len((preferences.get("AlarmSpecification") or {}).get("Alarms", []))
    elif isinstance(rolling, Mapping):
        wait_on_signals = str(rolling.get("WaitOnResourceSignals", False)).lower() == "true"
        if "MaxBatchSize" in rolling:
            max_batch = _whole(rolling["MaxBatchSize"], what=f"{where} MaxBatchSize")
        else:
            max_batch = CFN_DEFAULT_MAX_BATCH_SIZE
            defaulted.append(f"MaxBatchSize (CloudFormation's default {CFN_DEFAULT_MAX_BATCH_SIZE})")
        if max_batch < 1:
            raise WimpyError(f"{where} MaxBatchSize is {max_batch}; it must be at least 1")
        min_in_service = _whole(rolling.get("MinInstancesInService", 0),
                                what=f"{where} MinInstancesInService")
        if "PauseTime" in rolling:
            pause = duration_seconds(rolling["PauseTime"], what=f"{where} PauseTime")
        else:
            pause = CFN_DEFAULT_PAUSE_WITH_SIGNALS_SECONDS if wait_on_signals else CFN_DEFAULT_PAUSE_SECONDS
            defaulted.append(f"PauseTime (CloudFormation's default {pause:g} s)")

    signal = (group.get("CreationPolicy") or {}).get("ResourceSignal")
    creation_timeout = None
    if isinstance(signal, Mapping) and "Timeout" in signal:
        creation_timeout = duration_seconds(signal["Timeout"],
                                            what=f"{where} CreationPolicy.ResourceSignal.Timeout")

    target_name, target_group = _target_group(template, group)
    target = target_group.get("Properties", {})
    tg_where = f"{target_name} ({TARGET_GROUP_TYPE})"

    def setting(key: str, default: int) -> float:
        return _given_or_default(target, key, default, where=tg_where, defaulted=defaulted,
                                 default_is=f"AWS's default {default}")

    interval = setting("HealthCheckIntervalSeconds", ALB_DEFAULT_INTERVAL_SECONDS)
    healthy = int(setting("HealthyThresholdCount", ALB_DEFAULT_HEALTHY_THRESHOLD))
    unhealthy = int(setting("UnhealthyThresholdCount", ALB_DEFAULT_UNHEALTHY_THRESHOLD))
    attributes = {a.get("Key"): a.get("Value") for a in target.get("TargetGroupAttributes", [])
                  if isinstance(a, Mapping)}
    if DEREGISTRATION_KEY in attributes:
        deregistration = _number(attributes[DEREGISTRATION_KEY],
                                 what=f"{tg_where} attribute {DEREGISTRATION_KEY}")
    else:
        deregistration = ALB_DEFAULT_DEREGISTRATION_SECONDS
        defaulted.append(f"{DEREGISTRATION_KEY} (AWS's default {ALB_DEFAULT_DEREGISTRATION_SECONDS})")

    return Rollout(group=group_name, min_size=min_size, max_size=max_size,
                   max_batch_size=max_batch, min_in_service=min_in_service,
                   pause_seconds=pause, wait_on_signals=wait_on_signals,
                   creation_timeout_seconds=creation_timeout,
                   health_interval_seconds=interval, healthy_threshold=healthy,
                   unhealthy_threshold=unhealthy, deregistration_delay_seconds=deregistration,
                   defaulted=tuple(defaulted), refresh=isinstance(refresh, Mapping),
                   warmup_seconds=warmup, bake_seconds=bake, alarms=alarms)


# -- the model -----------------------------------------------------------------------

def _s(seconds: float) -> str:
    return f"{seconds:g} s"


def canary_plan(steps: Sequence[float] = DEFAULT_CANARY_STEPS, bake_seconds: float = DEFAULT_BAKE_SECONDS,
                ttl_seconds: float = DEFAULT_TTL_SECONDS) -> CanaryPlan:
    """The plan wimpy_cli/release/canary.py would run; WimpyError naming the flag if invalid."""
    for flag, value in (("--bake-seconds", bake_seconds), ("--ttl-seconds", ttl_seconds)):
        if value < 0:
            raise WimpyError(f"{flag} {value:g}: give 0 or more seconds", code=ExitCode.USAGE)
    try:
        return CanaryPlan(steps=tuple(float(s) for s in steps), bake_seconds=bake_seconds,
                          ttl_seconds=ttl_seconds)
    except ValueError as error:
        raise WimpyError(f"--steps {','.join(f'{s:g}' for s in steps)}: {error}",
                         code=ExitCode.USAGE,
                         hint="Steps are percentages of traffic that rise strictly and end at "
                              "100, e.g. --steps 10,50,100.") from None


def _capacity(rollout: Rollout, capacity: int | None) -> int:
    if capacity is None:
        return rollout.min_size
    if capacity < 1:
        raise WimpyError(f"--capacity {capacity}: the number of instances to replace must be "
                         "at least 1", code=ExitCode.USAGE)
    return capacity


def _launch_phases(a: Assumptions, times: int, label: str) -> list[Phase]:
    def phase(name: str, each: float, what: str) -> Phase:
        return Phase(name, times * each, f"{label}{_s(each)} {what}")

    return [
        phase("instance boot", a.boot_seconds, "assumed boot (--boot-seconds)"),
        phase("Docker start", a.install_seconds, "assumed start of the image's Docker (--install-seconds)"),
        phase("image pull", a.pull_seconds, "assumed pull (--pull-seconds)"),
        Phase("container start to healthy locally",
              times * (a.start_seconds + HEALTH_WAIT_POLL_SECONDS),
              f"{label}({_s(a.start_seconds)} assumed start (--start-seconds) + "
              f"{HEALTH_WAIT_POLL_SECONDS} s health-wait poll)"),
    ]


def _health_phase(r: Rollout, times: int, label: str) -> Phase:
    if r.refresh:
        return Phase("warm-up before the next batch", times * r.warmup_seconds,
                     f"{label}{_s(r.warmup_seconds)} InstanceWarmup (the instance refresh's wait "
                     "once an instance is in service)")
    each = r.healthy_threshold * r.health_interval_seconds
    return Phase("healthy in the target group", times * each,
                 f"{label}{r.healthy_threshold} healthy checks x {_s(r.health_interval_seconds)} interval")


def estimate_rolling(rollout: Rollout, assumptions: Assumptions = Assumptions(), *,
                     capacity: int | None = None) -> DeployEstimate:
    """A rolling update of `capacity` instances (default: the group's MinSize)."""
    if rollout.max_batch_size is None:
        raise WimpyError(
            f"the Auto Scaling group {rollout.group} has neither "
            "UpdatePolicy.AutoScalingInstanceRefresh nor UpdatePolicy.AutoScalingRollingUpdate: "
            "without one CloudFormation does not replace instances on an update, so there is "
            "no rolling deploy to estimate",
            hint="Estimate the application stack Wimpy synthesizes (wimpy synth --version V), "
                 "or use --strategy blue-green.")
    count = _capacity(rollout, capacity)
    batches = math.ceil(count / rollout.max_batch_size)
    label = f"{batches} batch{'es' if batches != 1 else ''} x "
    a = assumptions
    warnings: list[str] = []
    pause = rollout.pause_seconds or 0
    if rollout.wait_on_signals:
        phases = _launch_phases(a, batches, label)
        if a.instance_ready_seconds > pause:
            warnings.append(
                f"the assumed launch-to-healthy time ({_s(a.instance_ready_seconds)}) is longer "
                f"than the signal timeout (PauseTime {_s(pause)}): such a deploy fails and "
                "rolls back; raise deploy.signal_timeout_seconds or check the assumptions")
        worst_launch, worst_what = pause, (f"{_s(pause)} launch hook timeout" if rollout.refresh
                                           else f"{_s(pause)} signal timeout (PauseTime)")
    elif rollout.refresh:
        phases = _launch_phases(a, batches, label)
        warnings.append(f"the Auto Scaling group {rollout.group} has no launch lifecycle hook: "
                        "an instance refresh counts an instance ready once it is running, "
                        "before its container answers")
        worst_launch, worst_what = a.instance_ready_seconds, f"{_s(a.instance_ready_seconds)} launch"
    else:
        # Without signals CloudFormation waits PauseTime after each batch, whatever the
        # instances are doing: the launch is then PauseTime, expected and worst.
        phases = [Phase("pause (no signals)", batches * pause,
                        f"{label}{_s(pause)} PauseTime (WaitOnResourceSignals is off, so "
                        "nothing waits for the instance to be healthy)")]
        warnings.append("WaitOnResourceSignals is off: CloudFormation moves on after PauseTime "
                        "whether or not the new instances are healthy")
        worst_launch, worst_what = pause, f"{_s(pause)} PauseTime"
    phases.append(_health_phase(rollout, batches, label))
    phases.append(Phase("drain of the replaced instance", batches * rollout.deregistration_delay_seconds,
                        f"{label}{_s(rollout.deregistration_delay_seconds)} deregistration delay"))
    if rollout.bake_seconds:
        phases.append(Phase("bake (alarms watched)", rollout.bake_seconds,
                            f"{_s(rollout.bake_seconds)} BakeTime, {rollout.alarms} alarm"
                            f"{'s' if rollout.alarms != 1 else ''} watched; one firing rolls back"))
    elif rollout.refresh and rollout.alarms:
        warnings.append("BakeTime is 0: the alarms stop watching as the last instance is "
                        "replaced, before its errors can show")
    expected = sum(p.seconds for p in phases)
    health, health_what = ((rollout.warmup_seconds, "warm-up") if rollout.refresh else
                           (rollout.healthy_threshold * rollout.health_interval_seconds,
                            "target-group health"))
    worst = batches * (worst_launch + health + rollout.deregistration_delay_seconds) + rollout.bake_seconds
    worst_formula = (f"{batches} x ({worst_what} + {_s(health)} {health_what} + "
                     f"{_s(rollout.deregistration_delay_seconds)} drain)"
                     + (f" + {_s(rollout.bake_seconds)} bake" if rollout.bake_seconds else ""))
    return DeployEstimate(strategy=ROLLING, capacity=count, batches=batches, phases=tuple(phases),
                          expected_seconds=expected, worst_seconds=worst,
                          worst_formula=worst_formula, assumptions=a, warnings=tuple(warnings),
                          serving_seconds=expected - rollout.bake_seconds)


def estimate_blue_green(rollout: Rollout, assumptions: Assumptions = Assumptions(), *,
                        canary: CanaryPlan | None = None, capacity: int | None = None,
                        through_front: bool = False) -> DeployEstimate:
    """A release stack created beside the live one, the canary, then the old one drained.
    `through_front`: behind the application's long-lived load balancer (deploy.traffic
    load-balancer), so the release creates none and a step needs no DNS wait (give a
    canary plan with no TTL)."""
    plan = canary or canary_plan()
    count = _capacity(rollout, capacity)
    a = assumptions
    warnings: list[str] = []
    load_balancer = 0 if through_front else a.load_balancer_seconds
    phases = [] if through_front else [
        Phase("release stack: load balancer", a.load_balancer_seconds,
              f"{_s(a.load_balancer_seconds)} assumed ALB creation (--load-balancer-seconds)")]
    phases += _launch_phases(a, 1, "")
    # A new group's instances: healthy in the target group (no refresh, so no warm-up).
    phases.append(_health_phase(replace(rollout, refresh=False), 1, ""))
    for step in plan.steps:
        wait = plan.wait_for(step)
        ttls = 2 if step == 100 else 1
        name = "promotion at 100%" if step == 100 else f"canary step {step:g}%"
        phases.append(Phase(name, wait, f"{ttls} x {_s(plan.ttl_seconds)} TTL + "
                                        f"{_s(plan.bake_seconds)} bake" if plan.ttl_seconds else
                            f"{_s(plan.bake_seconds)} bake (listener weights: in effect at once)"))
    phases.append(Phase("drain of the old release", rollout.deregistration_delay_seconds,
                        f"{_s(rollout.deregistration_delay_seconds)} deregistration delay"))
    expected = sum(p.seconds for p in phases)
    timeout = rollout.creation_timeout_seconds
    if timeout is None:
        timeout = a.instance_ready_seconds
        timeout_what = (f"{_s(timeout)} launch (no CreationPolicy.ResourceSignal, so nothing "
                        "bounds it)")
        warnings.append(f"the Auto Scaling group {rollout.group} has no "
                        "CreationPolicy.ResourceSignal: a new release's stack completes before "
                        "its instances are healthy")
    else:
        timeout_what = f"{_s(timeout)} signal timeout (CreationPolicy)"
        if a.instance_ready_seconds > timeout:
            warnings.append(f"the assumed launch-to-healthy time ({_s(a.instance_ready_seconds)}) "
                            f"is longer than the creation signal timeout ({_s(timeout)})")
    canary_total = sum(plan.wait_for(step) for step in plan.steps)
    health = rollout.healthy_threshold * rollout.health_interval_seconds
    # After each step the judge waits for the step's last metric period, up to this long.
    metrics = len(plan.steps) * AWS_METRICS_LAG_SECONDS
    worst = (load_balancer + timeout + health + canary_total + metrics
             + rollout.deregistration_delay_seconds)
    worst_formula = ((f"{_s(a.load_balancer_seconds)} ALB + " if not through_front else "")
                     + f"{timeout_what} + {_s(health)} target-group health + "
                       f"{_s(canary_total)} canary + {len(plan.steps)} x {AWS_METRICS_LAG_SECONDS} s "
                       f"the judge's wait for metrics + {_s(rollout.deregistration_delay_seconds)} drain")
    return DeployEstimate(strategy=BLUE_GREEN, capacity=count, batches=1, phases=tuple(phases),
                          expected_seconds=expected, worst_seconds=worst,
                          worst_formula=worst_formula, assumptions=a, warnings=tuple(warnings))


def estimate_rollbacks(rollout: Rollout, assumptions: Assumptions = Assumptions(), *,
                       strategy: str = ROLLING, through_front: bool = False,
                       ttl_seconds: float = DEFAULT_TTL_SECONDS, keep_releases: int = 1,
                       kept: str = "zero", capacity: int | None = None) -> tuple[RollbackEstimate, ...]:
    """How long a rollback takes until all traffic is on the previous version: for
    blue/green, with the kept release at zero and warm (the one wimpy.yml chooses marked),
    or deployed again when none is kept; for rolling, a rolling deploy of it."""
    a = assumptions
    if strategy == ROLLING:
        again = estimate_rolling(rollout, a, capacity=capacity)
        return (RollbackEstimate("rolling", True, again.expected_seconds,
                                 f"a rolling deploy of the previous version ({_s(again.expected_seconds)}, "
                                 "the deploy estimate above)"),)
    health = rollout.healthy_threshold * rollout.health_interval_seconds
    checked = f"{_s(health)} healthy in its target group ({rollout.healthy_threshold} x {_s(rollout.health_interval_seconds)})"
    # Through DNS clients move within one TTL; listener weights are in effect at once.
    moved, moved_what = ((0, "") if through_front else
                         (ttl_seconds, f" + {_s(ttl_seconds)} TTL for clients to move"))
    zero = a.instance_ready_seconds + health + moved
    rows = [
        RollbackEstimate("zero", kept == "zero" and keep_releases > 0, zero,
                         f"{_s(a.instance_ready_seconds)} instances boot, install, pull and start "
                         f"(the assumptions above) + {checked}{moved_what}"),
        # A warm release behind the front left its listener, so nothing checked it since;
        # through DNS its own load balancer never stopped.
        RollbackEstimate("warm", kept == "warm" and keep_releases > 0,
                         (health if through_front else 0) + moved,
                         (f"{checked} once back in the listener" if through_front else
                          "its own load balancer kept checking it")
                         + (moved_what or " (listener weights: in effect at once)")),
    ]
    if keep_releases == 0:
        again = (0 if through_front else a.load_balancer_seconds) + zero
        rows.append(RollbackEstimate(
            "none", True, again, ("" if through_front else f"{_s(a.load_balancer_seconds)} ALB + ")
            + f"the release stack deployed again: {_s(zero)} as from zero (deploy.keep_releases is 0)"))
    return tuple(rows)


def estimate(template: Mapping[str, Any], *, strategy: str = ROLLING,
             assumptions: Assumptions = Assumptions(), capacity: int | None = None,
             canary: CanaryPlan | None = None, through_front: bool = False,
             keep_releases: int = 1, kept: str = "zero") -> DeployEstimate:
    """The deploy-time estimate of an application stack's template, with its rollbacks."""
    if strategy not in STRATEGIES:
        raise WimpyError(f"--strategy {strategy!r} is not one of {', '.join(STRATEGIES)}",
                         code=ExitCode.USAGE)
    rollout = read_rollout(template)
    if strategy == ROLLING:
        result = estimate_rolling(rollout, assumptions, capacity=capacity)
    else:
        result = estimate_blue_green(rollout, assumptions, canary=canary, capacity=capacity,
                                     through_front=through_front)
    ttl = canary.ttl_seconds if canary is not None else DEFAULT_TTL_SECONDS
    return replace(result, rollbacks=estimate_rollbacks(
        rollout, assumptions, strategy=strategy, through_front=through_front, ttl_seconds=ttl,
        keep_releases=keep_releases, kept=kept, capacity=capacity))


# -- the peers -----------------------------------------------------------------------

@dataclass(frozen=True)
class PeerComparison:
    name: str
    batches: int
    health_seconds: float
    health_formula: str
    drain_seconds: float
    expected_seconds: float
    worst_seconds: float
    sources: str
    assumed: tuple[str, ...] = field(default_factory=tuple)
    note: str = ""


def compare(rollout: Rollout, assumptions: Assumptions = Assumptions(), *,
            capacity: int | None = None) -> list[PeerComparison]:
    """The rolling model evaluated with this template's settings, then with each peer's
    published defaults (wimpy_cli/estimate/peers.py) in their place. Instance boot, install,
    pull and start are the same assumptions for every row: the comparison isolates what
    each tool's defaults decide (batching, health checks, drain, timeout)."""
    from wimpy_cli.estimate.peers import PEERS

    count = _capacity(rollout, capacity)
    rows = [_row("Wimpy (this template)", rollout, assumptions, count,
                 sources="the synthesized template", assumed=rollout.defaulted,
                 note=(f"its {_s(rollout.bake_seconds)} bake, the alarms watched after the last "
                       "instance, is in its times; the other rows count none"
                       if rollout.bake_seconds else ""))]
    for peer in PEERS:
        batch = peer.batch_size(count, rollout.max_batch_size or CFN_DEFAULT_MAX_BATCH_SIZE)
        if peer.timeout_seconds is None:
            timeout = rollout.pause_seconds or CFN_DEFAULT_PAUSE_WITH_SIGNALS_SECONDS
        elif peer.timeout_covers == "container":
            # The peer's timeout bounds only the container becoming healthy; the rest of
            # the launch is held at the assumptions, as in every row.
            timeout = (assumptions.boot_seconds + assumptions.install_seconds
                       + assumptions.pull_seconds + peer.timeout_seconds)
        else:
            timeout = peer.timeout_seconds
        settings = replace(
            rollout, max_batch_size=batch, wait_on_signals=True, pause_seconds=timeout,
            refresh=False, bake_seconds=0, alarms=0,
            health_interval_seconds=peer.health_interval_seconds,
            healthy_threshold=peer.healthy_threshold,
            deregistration_delay_seconds=peer.deregistration_delay_seconds)
        rows.append(_row(peer.name, settings, assumptions, count, sources=peer.sources,
                         assumed=peer.assumed, note=peer.note))
    return rows


def _row(name: str, rollout: Rollout, assumptions: Assumptions, count: int, *, sources: str,
         assumed: Sequence[str] = (), note: str = "") -> PeerComparison:
    result = estimate_rolling(rollout, assumptions, capacity=count)
    return PeerComparison(
        name=name, batches=result.batches,
        health_seconds=rollout.healthy_threshold * rollout.health_interval_seconds,
        health_formula=f"{rollout.healthy_threshold} x {_s(rollout.health_interval_seconds)}",
        drain_seconds=rollout.deregistration_delay_seconds,
        expected_seconds=result.expected_seconds, worst_seconds=result.worst_seconds,
        sources=sources, assumed=tuple(assumed), note=note)


def minutes(seconds: float) -> str:
    """1234 -> '20m34s' (for tables)."""
    whole = int(round(seconds))
    hours, rest = divmod(whole, 3600)
    mins, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{mins:02d}m{secs:02d}s"
    return f"{mins}m{secs:02d}s" if mins else f"{secs}s"
