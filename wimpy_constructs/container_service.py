"""ContainerService: an Auto Scaling group whose instances run one container under systemd.

New instances report to CloudFormation only once the container answers on its health path,
so a rolling update replaces instances batch by batch, never goes below the minimum in
service, and rolls the whole stack back when a batch does not become healthy.
"""

from __future__ import annotations

import aws_cdk as cdk
import jsii
from aws_cdk import aws_autoscaling as autoscaling
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_iam as iam
from constructs import Construct

from . import boot, defaults
from .compliance import acknowledge

# Time between the end of user data's installs and the health wait: Docker install and
# image pull happen inside the signal timeout too.
_BOOT_ALLOWANCE_SECONDS = 120


@jsii.implements(ec2.IConnectable)
class ContainerService(Construct):
    """Instances in private subnets running ``image`` on ``port``, registered in
    ``target_group``.

    :param vpc: the environment's VPC. :param vpc_subnets: where instances go (private).
    :param security_group: the instances' group (from ApplicationAccess).
    :param role: the instance role; the service adds only what its own stack needs
        (signalling this stack).
    :param machine_image: pinned image; a change replaces every instance, so pass a fixed one.
    :param instance_type: e.g. ``t3.small``.
    :param settings: the container to run (image, port, environment, secret parameter
        names, registry login, log group).
    :param target_group: the load balancer's target group the instances join.
    :param health_check_path: what the boot check requests locally before signalling.
    :param min_capacity / max_capacity: group size; there is never a desired capacity, so
        a deploy never resets what scaling decided.
    :param max_batch_size: instances replaced at once. @default 1
    :param signal_timeout: how long a new instance has to become healthy. @default 10 minutes
    :param health_check_grace: time before ELB health counts. @default 5 minutes
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        vpc: ec2.IVpc,
        vpc_subnets: ec2.SubnetSelection,
        security_group: ec2.ISecurityGroup,
        role: iam.IRole,
        machine_image: ec2.IMachineImage,
        instance_type: ec2.InstanceType,
        settings: boot.ContainerSettings,
        target_group: elbv2.IApplicationTargetGroup,
        health_check_path: str,
        min_capacity: int,
        max_capacity: int,
        max_batch_size: int = defaults.MAX_BATCH_SIZE,
        signal_timeout: cdk.Duration = defaults.SIGNAL_TIMEOUT,
        health_check_grace: cdk.Duration = defaults.HEALTH_CHECK_GRACE,
        root_volume_gib: int = defaults.ROOT_VOLUME_GIB,
    ) -> None:
        super().__init__(scope, id_)
        _check_capacity(min_capacity, max_capacity, max_batch_size)
        timeout_seconds = int(signal_timeout.to_seconds())
        if timeout_seconds < 60 + _BOOT_ALLOWANCE_SECONDS // 2:
            raise ValueError(f"signal_timeout must be at least 2 minutes (Docker install and "
                             f"image pull happen within it), got {timeout_seconds}s")
        stack = cdk.Stack.of(self)
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
            health_checks=autoscaling.HealthChecks.with_additional_checks(
                additional_types=[autoscaling.AdditionalHealthCheckType.ELB],
                grace_period=health_check_grace),
            signals=autoscaling.Signals.wait_for_min_capacity(timeout=signal_timeout),
            update_policy=autoscaling.UpdatePolicy.rolling_update(
                max_batch_size=max_batch_size,
                min_instances_in_service=min_capacity,
                pause_time=signal_timeout,
                wait_on_resource_signals=True,
            ),
            group_metrics=[autoscaling.GroupMetrics.all()],
        )
        acknowledge(self.auto_scaling_group, "AS3",
                    "Launch and termination events are in the group's activity history and "
                    "CloudTrail, and deploy failures surface through CloudFormation rollback")
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
