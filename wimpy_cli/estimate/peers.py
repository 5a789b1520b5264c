"""The deploy defaults other tools publish, for `wimpy plan --compare`.

Every number comes from the project's survey of its peers, and each row cites the public
pages that survey read (each tool's documentation or source, at the commit read), so a
user can check them. Where those state no number for something the model needs, the
value is marked in `assumed`,
and the table shows it as assumed. The instance's own start (boot, install, pull,
container start) is Wimpy's assumption for every row: these rows compare what each tool's
defaults decide (batching, health checks, drain, timeout), not the platforms underneath
(Copilot and ECS start tasks, not instances; Beanstalk's default deploys in place).
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class PeerDefaults:
    name: str
    health_interval_seconds: float
    healthy_threshold: int
    deregistration_delay_seconds: float
    # How many instances are replaced at once: "fixed" (batch_value instances), "percent"
    # (batch_value % of capacity, rounded up), "min-healthy" (keep batch_value % in
    # service, at least one at a time), "template" (Wimpy's own MaxBatchSize).
    batch_rule: str
    batch_value: float
    # Worst case per batch (the time a new instance may take to be healthy); None keeps
    # the template's signal timeout.
    timeout_seconds: float | None
    sources: str
    assumed: tuple[str, ...] = ()
    note: str = ""
    # What the timeout bounds: the whole launch ("launch") or only the container
    # becoming healthy once the host is ready ("container").
    timeout_covers: str = "launch"

    def batch_size(self, capacity: int, template_batch: int) -> int:
        if self.batch_rule == "fixed":
            return int(self.batch_value)
        if self.batch_rule == "percent":
            return max(1, math.ceil(capacity * self.batch_value / 100))
        if self.batch_rule == "min-healthy":
            return max(1, capacity - math.ceil(capacity * self.batch_value / 100))
        if self.batch_rule == "template":
            return template_batch
        raise ValueError(f"unknown batch rule {self.batch_rule!r}")


PEERS: tuple[PeerDefaults, ...] = (
    # Section 2 "ALB" [23]: 30 s interval, healthy 5, deregistration 300 s. Section 2
    # "CFN AutoScalingRollingUpdate" [15]: PauseTime PT5M when WaitOnResourceSignals.
    PeerDefaults(
        name="AWS defaults (ALB + CFN rolling update)",
        health_interval_seconds=30, healthy_threshold=5, deregistration_delay_seconds=300,
        batch_rule="template", batch_value=0, timeout_seconds=300,
        sources=("https://docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-health-checks.html; "
                 "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-attribute-updatepolicy.html (AutoScalingRollingUpdate)"),
        note="same MaxBatchSize as the template"),
    # Section 1 "Health checks" and section 2 "ALB" [3]: healthy 5, 30 s interval, 60 s
    # deregistration. Section 1 "Rolling" [1]: `default` = min 100 % / max 200 %, i.e.
    # the whole new set is started at once.
    PeerDefaults(
        name="Copilot",
        health_interval_seconds=30, healthy_threshold=5, deregistration_delay_seconds=60,
        batch_rule="percent", batch_value=100, timeout_seconds=None,
        sources=("https://github.com/aws/copilot-cli/blob/4c858e7/site/content/docs/include/deployment.en.md; "
                 "https://github.com/aws/copilot-cli/blob/4c858e7/site/content/docs/include/http-healthcheck.en.md"),
        assumed=("timeout: the template's (the file states a circuit breaker, no time)",),
        note="ECS on Fargate: tasks, not instances, start"),
    # Section 2 "Elastic Beanstalk" [6][7]: DeploymentPolicy AllAtOnce, BatchSize 100 %,
    # command Timeout 600 s (effective 840 s). Section 1 "Health checks" [6][7]: enhanced
    # health wants 12 OK checks in 2 min, read here as 12 x 10 s.
    PeerDefaults(
        name="Elastic Beanstalk",
        health_interval_seconds=10, healthy_threshold=12, deregistration_delay_seconds=300,
        batch_rule="percent", batch_value=100, timeout_seconds=840,
        sources=("https://docs.aws.amazon.com/elasticbeanstalk/latest/dg/command-options-general.html; "
                 "https://docs.aws.amazon.com/elasticbeanstalk/latest/dg/using-features.rolling-version-deploy.html"),
        assumed=("deregistration delay: AWS's ALB default 300 s (§2 ALB), not stated for EB",
                 "12 checks in 2 min read as 12 x 10 s"),
        note="AllAtOnce deploys in place (downtime), no new instances"),
    # Section 1 "Health checks" and section 2 "Kamal" [10][11]: /up every 1 s, 5 s
    # timeout, deploy_timeout 30 s, drain_timeout 30 s.
    PeerDefaults(
        name="Kamal",
        health_interval_seconds=1, healthy_threshold=1, deregistration_delay_seconds=30,
        batch_rule="percent", batch_value=100, timeout_seconds=30,
        sources=("https://github.com/basecamp/kamal/blob/eee0083/lib/kamal/configuration/docs/proxy.yml; "
                 "https://github.com/basecamp/kamal-proxy/blob/main/internal/server/service.go"),
        assumed=("healthy after 1 check (no threshold stated)",
                 "all hosts at once (boot.limit's default is not stated)"),
        note="a new container per host, not a new host; deploy_timeout bounds the container's start",
        timeout_covers="container"),
    # Section 2 "CodeDeploy predefined configurations" [12]: OneAtATime is the default.
    PeerDefaults(
        name="CodeDeploy (EC2, OneAtATime)",
        health_interval_seconds=30, healthy_threshold=5, deregistration_delay_seconds=300,
        batch_rule="fixed", batch_value=1, timeout_seconds=None,
        sources=("https://docs.aws.amazon.com/codedeploy/latest/userguide/deployment-configurations.html; "
                 "https://docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-health-checks.html"),
        assumed=("health check and drain: AWS's ALB defaults (§2 ALB)",
                 "timeout: the template's (none stated)"),
        note="in place on the same instances"),
    # Section 2 "Instance Refresh defaults" [13]: MinHealthy 90 %, bake time 0.
    PeerDefaults(
        name="ASG Instance Refresh",
        health_interval_seconds=30, healthy_threshold=5, deregistration_delay_seconds=300,
        batch_rule="min-healthy", batch_value=90, timeout_seconds=None,
        sources=("https://docs.aws.amazon.com/autoscaling/ec2/userguide/understand-instance-refresh-default-values.html; "
                 "https://docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-health-checks.html"),
        assumed=("health check and drain: AWS's ALB defaults (§2 ALB)",
                 "timeout: the template's (warmup has no stated default)")),
)
