"""ContainerService: an Auto Scaling group whose instances run one container under systemd.

A new instance joins the load balancer only once its container answers on its health path
(a launch lifecycle hook its boot script completes), and tells CloudFormation so when the
group is created (a creation signal). A change of launch template is an instance refresh
(CloudFormation's AutoScalingInstanceRefresh update policy): a batch of new instances
starts beside the old ones, the minimum stays in service, and, once `guard_rollouts` names
the application's alarms, the refresh fails and the stack rolls back when one of them fires
during it or within the bake time after it.
"""

from __future__ import annotations

import dataclasses

import aws_cdk as cdk
import jsii
from aws_cdk import aws_autoscaling as autoscaling
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_iam as iam
from constructs import Construct

from . import boot, defaults
from .application_access import ApplicationAccess, parameter_path
from .compliance import acknowledge, acknowledge_wildcard

# Time between the end of user data's installs and the health wait: Docker install and
# image pull happen inside the signal timeout too.
_BOOT_ALLOWANCE_SECONDS = 120
# The launch lifecycle hook the boot script completes once the container answers.
READY_HOOK = boot.READY_HOOK
# An instance refresh watches at most this many alarms (AlarmSpecification).
MAX_ROLLOUT_ALARMS = 10


@jsii.implements(ec2.IConnectable)
class ContainerService(Construct):
    """Instances in private subnets running ``settings.image`` on ``settings.port``,
    registered in ``target_group``; without one, a worker that serves no request.

    :param vpc: the environment's VPC. :param vpc_subnets: where instances go (private).
    :param access: the application's ApplicationAccess in this app: the instances' group,
        role and log group come from it, and ``settings`` is checked against it (the port
        it opens, the secrets its role may read, its registry). Or give:
    :param security_group: the instances' group, and
    :param role: the instance role (for instance, both imported from another stack). The
        service adds only what its own instances need: completing this group's launch hook,
        in a policy of its own (several services may share a role), and signalling this
        stack (which the group grants itself).
    :param machine_image: pinned Linux image; a change replaces every instance, so pass a
        fixed one.
    :param instance_type: e.g. ``t3.small``.
    :param settings: the container to run (image, port, environment, secret parameter
        names, registry login). Its ``region`` defaults to the stack's, its ``log_group``
        to ``access``'s.
    :param target_group: the load balancer's target group the instances join, on
        ``settings.port``. @default none: a worker, healthy once its container runs
    :param health_check_path: what the boot check requests locally before signalling.
        @default the target group's health check path
    :param min_capacity / max_capacity: group size; there is never a desired capacity, so
        a deploy never resets what scaling decided.
    :param max_batch_size: instances started beside the old ones at once in a refresh
        (up to the minimum capacity: the refresh's maximum healthy share is at most 200%).
        @default 1
    :param signal_timeout: how long a new instance has to become healthy. @default 10 minutes
    :param health_check_grace: time before ELB health counts. @default 5 minutes
    :param instance_warmup: time a refresh waits once an instance joined the load balancer
        before the next batch: its health checks' healthy threshold. @default 20 seconds
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        vpc: ec2.IVpc,
        vpc_subnets: ec2.SubnetSelection,
        machine_image: ec2.IMachineImage,
        instance_type: ec2.InstanceType,
        settings: boot.ContainerSettings,
        min_capacity: int,
        max_capacity: int,
        access: ApplicationAccess | None = None,
        security_group: ec2.ISecurityGroup | None = None,
        role: iam.IRole | None = None,
        target_group: elbv2.IApplicationTargetGroup | None = None,
        health_check_path: str | None = None,
        max_batch_size: int = defaults.MAX_BATCH_SIZE,
        signal_timeout: cdk.Duration = defaults.SIGNAL_TIMEOUT,
        health_check_grace: cdk.Duration = defaults.HEALTH_CHECK_GRACE,
        root_volume_gib: int = defaults.ROOT_VOLUME_GIB,
        instance_warmup: cdk.Duration = defaults.INSTANCE_WARMUP,
    ) -> None:
        super().__init__(scope, id_)
        _check_capacity(min_capacity, max_capacity, max_batch_size)
        timeout_seconds = int(signal_timeout.to_seconds())
        if timeout_seconds < 60 + _BOOT_ALLOWANCE_SECONDS // 2:
            raise ValueError(f"signal_timeout must be at least 2 minutes (Docker install and "
                             f"image pull happen within it), got {timeout_seconds}s")
        stack = cdk.Stack.of(self)
        security_group, role = _instance_identity(access, security_group, role)
        settings = _completed(settings, access, region=stack.region)
        health_check_path = _health_check_path(settings, target_group, health_check_path)
        _check_linux(machine_image, stack)
        self.settings = settings

        self.user_data = ec2.UserData.for_linux(shebang="#!/bin/bash")
        self.launch_template = ec2.LaunchTemplate(
            self, "LaunchTemplate",
            machine_image=machine_image,
            instance_type=instance_type,
            role=role,
            security_group=security_group,
            user_data=self.user_data,  # filled in below, once the group's id exists
            require_imdsv2=True,
            # The container is one network hop further than the host: it needs 2 hops to
            # reach the instance metadata service for the instance role's credentials.
            http_put_response_hop_limit=2,
            # The boot script reads its group's name from the instance's tags.
            instance_metadata_tags=True,
            detailed_monitoring=True,
            block_devices=[ec2.BlockDevice(
                device_name="/dev/xvda",
                volume=ec2.BlockDeviceVolume.ebs(root_volume_gib, encrypted=True,
                                                 volume_type=ec2.EbsDeviceVolumeType.GP3,
                                                 delete_on_termination=True))],
        )
        self.auto_scaling_group = autoscaling.AutoScalingGroup(
            self, "Group",
            vpc=vpc,
            vpc_subnets=vpc_subnets,
            launch_template=self.launch_template,
            min_capacity=min_capacity,
            max_capacity=max_capacity,
            # Behind a load balancer, an instance it finds unhealthy is replaced; a worker's
            # health is its instance's.
            health_checks=autoscaling.HealthChecks.with_additional_checks(
                additional_types=[autoscaling.AdditionalHealthCheckType.ELB],
                grace_period=health_check_grace) if target_group is not None
            else autoscaling.HealthChecks.ec2(grace_period=health_check_grace),
            signals=autoscaling.Signals.wait_for_min_capacity(timeout=signal_timeout),
            group_metrics=[autoscaling.GroupMetrics.all()],
        )
        self._refresh = dict(
            strategy="Rolling",
            min_healthy_percentage=100,
            # A batch of new instances beside the minimum: 100% + the batch's share of it.
            max_healthy_percentage=min(200, 100 + -(-100 * max_batch_size // min_capacity)),
            instance_warmup=int(instance_warmup.to_seconds()),
            skip_matching=False,
        )
        self._render_update_policy()
        group = self.auto_scaling_group.node.default_child
        # Inline (not an AWS::AutoScaling::LifecycleHook resource) so that it holds for the
        # very first instances. A boot that gives up joins anyway: the load balancer finds
        # it unhealthy and the unhealthy-hosts alarm fails the refresh within minutes, where
        # an abandoned instance would be relaunched until the refresh times out (an hour).
        group.lifecycle_hook_specification_list = [
            autoscaling.CfnAutoScalingGroup.LifecycleHookSpecificationProperty(
                lifecycle_hook_name=READY_HOOK,
                lifecycle_transition="autoscaling:EC2_INSTANCE_LAUNCHING",
                heartbeat_timeout=timeout_seconds,
                default_result="CONTINUE")]
        # Only this group: its name is CloudFormation's <stack>-<logical id>-<suffix>.
        this_group = stack.format_arn(
            service="autoscaling", resource="autoScalingGroup",
            resource_name=f"*:autoScalingGroupName/{stack.stack_name}-{stack.get_logical_id(group)}-*",
            arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME)
        # A policy of this service's own (not the role's default one), so that services
        # sharing a role each add theirs. Inline policies are named per role: the name
        # carries this stack's, so another stack's service on the same role (another
        # release) never replaces this one.
        policy = iam.Policy(self, "InstancePolicy", roles=[role], policy_name=cdk.Names.unique_resource_name(
            self, max_length=120, separator="-") + "-instance", statements=[
            iam.PolicyStatement(actions=["autoscaling:CompleteLifecycleAction"], resources=[this_group])])
        acknowledge_wildcard(
            policy.node.default_child, this_group,
            "The group's name ends in a suffix CloudFormation generates; the wildcards "
            "stand for that suffix and the group's id, not for other groups")
        # Both policies exist before the first instance boots: this one, and the role's
        # own where the group's creation signal (cloudformation:SignalResource on this
        # stack) is granted by the group itself.
        self.auto_scaling_group.node.add_dependency(policy)
        for signal_policy in role.node.children:  # a Role's DefaultPolicy, an imported role's
            if isinstance(signal_policy, iam.Policy):
                self.auto_scaling_group.node.add_dependency(signal_policy)
        acknowledge(self.auto_scaling_group, "AS3",
                    "Launch and termination events are in the group's activity history and "
                    "CloudTrail, and deploy failures surface through CloudFormation rollback")
        if target_group is not None:
            target_group.add_target(self.auto_scaling_group)
        self.target_group = target_group
        self.connections = ec2.Connections(security_groups=[security_group])

        group = self.auto_scaling_group.node.default_child
        user_data = boot.boot_script(
            settings=settings,
            stack_name=stack.stack_name,
            signal_resource=stack.get_logical_id(group),
            health_path=health_check_path,
            health_timeout_seconds=timeout_seconds - _BOOT_ALLOWANCE_SECONDS,
            start_timeout_seconds=timeout_seconds,
        )
        shebang, _, body = user_data.partition("\n")
        assert shebang == "#!/bin/bash", shebang
        self.user_data.add_commands(body)

    def guard_rollouts(self, alarms: list[cloudwatch.IAlarm], *, bake_time: cdk.Duration) -> None:
        """An instance refresh fails, and CloudFormation rolls the stack back, when one of
        `alarms` goes into ALARM while instances are replaced or for `bake_time` after: the
        errors a version makes only once it serves are caught, not only a failed boot."""
        if not 1 <= len(alarms) <= MAX_ROLLOUT_ALARMS:
            raise ValueError(f"alarms must name 1 to {MAX_ROLLOUT_ALARMS} alarms (an instance "
                             f"refresh watches at most {MAX_ROLLOUT_ALARMS}), got {len(alarms)}")
        seconds = int(bake_time.to_seconds())
        if not 0 <= seconds <= 172800:
            raise ValueError(f"bake_time must be between 0 s and 48 h, got {seconds} s")
        self._refresh.update(alarm_names=[alarm.alarm_name for alarm in alarms], bake_time=seconds)
        self._render_update_policy()

    def _render_update_policy(self) -> None:
        settings = dict(self._refresh)
        alarm_names = settings.pop("alarm_names", None)
        preferences = cdk.CfnAutoScalingInstanceRefreshPreferences(
            **{key: value for key, value in settings.items() if key != "strategy"},
            alarm_specification=cdk.CfnAutoScalingInstanceRefreshAlarmSpecification(
                alarms=alarm_names) if alarm_names else None)
        group = self.auto_scaling_group.node.default_child
        group.cfn_options.update_policy = cdk.CfnUpdatePolicy(
            auto_scaling_instance_refresh=cdk.CfnAutoScalingInstanceRefresh(
                strategy=settings["strategy"], preferences=preferences),
            # Scaling decides the desired size, never a deploy (as the group's own default).
            auto_scaling_scheduled_action=cdk.CfnAutoScalingScheduledAction(
                ignore_unmodified_group_size_properties=True))

    def scale_to_zero_when(self, condition: cdk.CfnCondition) -> None:
        """While `condition` holds, the group keeps no instance: a release kept for rollback
        costs nothing but its load balancer, and comes back by flipping the condition. The
        maximum stays 1, above the minimum, as target tracking requires; with no traffic
        (weight 0) and no instance, no metric asks it to grow."""
        group = self.auto_scaling_group.node.default_child
        group.add_property_override("MinSize", cdk.Fn.condition_if(condition.logical_id, "0", group.min_size))
        group.add_property_override("MaxSize", cdk.Fn.condition_if(condition.logical_id, "1", group.max_size))

    def scale_on_cpu(self, percent: int) -> None:
        self.auto_scaling_group.scale_on_cpu_utilization("Cpu", target_utilization_percent=percent)

    def scale_on_requests(self, per_minute: int, *, load_balancer_full_name: str | None = None) -> None:
        """Track requests per instance. The target group's load balancer names the metric:
        found from the group when a listener in this stack forwards to it, or given as
        ``load_balancer_full_name`` (``app/<name>/<id>``) when the load balancer is another
        stack's (a TrafficSplit's)."""
        if self.target_group is None:
            raise ValueError("scale_on_requests needs a target_group: a worker answers no "
                             "request; scale it on CPU (scale_on_cpu)")
        if load_balancer_full_name is not None:
            autoscaling.TargetTrackingScalingPolicy(
                self.auto_scaling_group, "ScalingPolicyRequests",
                auto_scaling_group=self.auto_scaling_group, target_value=per_minute,
                predefined_metric=autoscaling.PredefinedMetric.ALB_REQUEST_COUNT_PER_TARGET,
                resource_label=f"{load_balancer_full_name}/{self.target_group.target_group_full_name}")
            return
        policy = self.auto_scaling_group.scale_on_request_count(
            "Requests", target_requests_per_minute=per_minute)
        # CDK adds DependsOn the listeners, which the policy's metric label already
        # references; cfn-lint (W3005) rightly calls that redundant.
        policy.node.default_child.add_deletion_override("DependsOn")


def _check_capacity(low: int, high: int, batch: int) -> None:
    if not 1 <= low <= high:
        raise ValueError(f"min_capacity must be between 1 and max_capacity ({high}), got {low}")
    if high < low + batch:
        raise ValueError(f"max_capacity ({high}) must be at least min_capacity + max_batch_size "
                         f"({low} + {batch}) so a batch can be replaced with min_capacity in service")

def _instance_identity(access: ApplicationAccess | None, security_group: ec2.ISecurityGroup | None,
                       role: iam.IRole | None) -> tuple[ec2.ISecurityGroup, iam.IRole]:
    if access is not None:
        if security_group is not None or role is not None:
            raise ValueError("give access (an ApplicationAccess) or security_group and role, "
                             "not both: access already names the instances' group and role")
        return access.instance_security_group, access.instance_role
    missing = [name for name, value in (("security_group", security_group), ("role", role))
               if value is None]
    if missing:
        raise ValueError(f"{' and '.join(missing)} required without access (an "
                         "ApplicationAccess, which names both)")
    return security_group, role


def _completed(settings: boot.ContainerSettings, access: ApplicationAccess | None, *,
               region: str) -> boot.ContainerSettings:
    """``settings`` with what is derived filled in, checked against ``access``."""
    log_group = settings.log_group or (access.log_group.log_group_name if access else "")
    if not log_group:
        raise ValueError("settings.log_group is required without access (an ApplicationAccess, "
                         "whose log group the container then writes to)")
    if access is not None:
        if settings.port is not None and settings.port != access.app_port:
            raise ValueError(f"settings.port is {settings.port}, but access opens port "
                             f"{access.app_port} to the load balancer: give both the same port")
        unreadable = sorted(name for name in settings.secrets.values()
                            if parameter_path(name) not in access.readable_secret_names)
        if unreadable:
            raise ValueError(f"settings.secrets names SSM parameters the instance role may not "
                             f"read: {', '.join(unreadable)}; add them to access's "
                             "secret_parameter_names")
        if settings.registry_login == "ecr" and access.repository is None:
            raise ValueError("settings.registry_login is 'ecr', but access has no repository "
                             "to pull from: pass repository= to ApplicationAccess")
    return dataclasses.replace(settings, region=settings.region or region, log_group=log_group)


def _health_check_path(settings: boot.ContainerSettings, target_group: elbv2.IApplicationTargetGroup | None,
                       given: str | None) -> str | None:
    """The path the boot check requests: the target group's, so an instance joins only
    once the load balancer will find it healthy. None for a worker (no target group)."""
    if target_group is None:
        if given is not None:
            raise ValueError("health_check_path needs a target_group: a worker is healthy once "
                             "its container runs")
        return None
    if settings.port is None:
        raise ValueError("settings.port is required with a target_group: the port the "
                         "container listens on, where the load balancer sends requests")
    cfn = target_group.node.default_child
    if isinstance(cfn, elbv2.CfnTargetGroup):
        port = cfn.port
        if isinstance(port, (int, float)) and int(port) != settings.port:
            raise ValueError(f"target_group sends to port {int(port)}, but settings.port is "
                             f"{settings.port}: give both the same port")
    if isinstance(target_group, elbv2.ApplicationTargetGroup):
        path = target_group.health_check.path if target_group.health_check else None
        if path is None:
            path = "/"  # the load balancer's default
        if not cdk.Token.is_unresolved(path):
            if given is not None and given != path:
                raise ValueError(f"health_check_path is {given!r}, but target_group checks "
                                 f"{path!r}: leave health_check_path out to use the target group's")
            return path
    if given is None:
        raise ValueError("health_check_path is required with a target_group imported from "
                         "elsewhere (its health check path is not known here)")
    if not given.startswith("/"):
        raise ValueError(f"health_check_path must start with '/', got {given!r}")
    return given


def _check_linux(machine_image: ec2.IMachineImage, stack: cdk.Stack) -> None:
    """The boot script is bash for systemd on Linux; a Windows image would never signal."""
    os_type = machine_image.get_image(stack).os_type
    if os_type != ec2.OperatingSystemType.LINUX:
        raise ValueError(f"machine_image must be a Linux image (the boot script is bash, run "
                         f"by cloud-init, and the container runs under systemd), got a "
                         f"{os_type.name.lower()} one")
