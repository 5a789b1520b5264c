"""Every wimpy.yml key, its default and what it means: the one list the loader accepts keys
from, and the one the README's reference is checked against."""

from __future__ import annotations

from typing import NamedTuple


class Key(NamedTuple):
    path: str  # dotted; `<name>` stands for a name the user chooses
    default: str
    meaning: str


KEYS: tuple[Key, ...] = (
    Key("app.name", "required", "Application name: lowercase letters, digits and single hyphens, "
        "starting with a letter; `<env>-<app>` must fit the 32 characters AWS allows load "
        "balancer and target group names. Not `network`, nor ending in `-resources`, "
        "`-data` or `-front`: those name Wimpy's own parameters and stacks."),
    Key("app.port", "8080", "Port the container listens on (1-65535)."),
    Key("app.health_check.path", "/health", "Path the load balancer and the boot check request; "
        "must answer 200-399."),
    Key("app.health_check.interval_seconds", "10", "Seconds between checks (5-300)."),
    Key("app.health_check.timeout_seconds", "5", "Seconds to wait for an answer (2-120, "
        "less than the interval)."),
    Key("app.health_check.healthy_threshold", "2", "Passing checks before an instance takes "
        "traffic (2-10)."),
    Key("app.health_check.unhealthy_threshold", "2", "Failing checks before an instance stops "
        "taking traffic (2-10)."),
    Key("app.instance_type", "t3.small", "EC2 instance type; checked against the EC2 API's list."),
    Key("app.capacity.min", "2", "Fewest instances, kept in service during deploys (1-100)."),
    Key("app.capacity.max", "4", "Most instances scaling may reach (at least min, at most 100)."),
    Key("app.environment.<NAME>", "{}", "Plain environment variables for the container. Not "
        "for secrets: these end up in the launch template."),
    Key("app.secrets.<NAME>", "{}", "Environment variables read from SSM Parameter Store when "
        "the container starts; the value is the parameter name (e.g. /hello/db-password)."),
    Key("app.database_ports", "[5432]", "Ports the application may reach in the environment's "
        "database security group."),
    Key("app.deregistration_delay_seconds", "30", "Seconds a leaving instance keeps serving "
        "requests already in flight before it is removed (0-3600)."),
    Key("app.machine_image", "latest ECS-optimized Amazon Linux 2023, recorded at first "
        "deploy", "An AMI id (ami-...) to pin, or empty to let `wimpy deploy` resolve Amazon's "
        "ECS-optimized Amazon Linux 2023 (Docker and the AWS CLI on it, so a boot installs "
        "nothing; its ECS agent is turned off) once and keep it until "
        "`--update-machine-image`. A pinned image without Docker or the AWS CLI gets them from "
        "dnf at every boot (about a minute)."),
    Key("app.scaling.cpu_target_percent", "60", "Average CPU the group scales to hold (10-90)."),
    Key("app.scaling.requests_per_target", "1000", "Requests per instance per minute the group "
        "scales to hold (1-100000)."),
    Key("app.alarms.error_rate_percent", "5", "Share of 5xx answers from the app that raises "
        "the release's error alarm (1-100)."),
    Key("app.alarms.p99_latency_ms", "2000", "p99 response time that raises the latency alarm "
        "(10-60000)."),
    Key("app.alarms.period_seconds", "60", "Length of each alarm's datapoints; an alarm fires "
        "on 2 bad datapoints out of 3 (10, 30 or a multiple of 60 up to 3600; under 60 only on "
        "the local target, AWS's load balancer metrics come once a minute)."),
    Key("build.context", ".", "Docker build context, relative to wimpy.yml."),
    Key("build.dockerfile", "Dockerfile", "Dockerfile path, relative to the context."),
    Key("build.target", "none", "Multi-stage build target."),
    Key("build.args.<NAME>", "{}", "Build arguments (never secrets: they stay in the image "
        "history)."),
    Key("build.push_latest", "false", "Also push the `latest` tag (tags are immutable otherwise)."),
    Key("registry.url", "the app's ECR repository wimpy/<app>", "Another registry's repository, "
        "e.g. ghcr.io/acme/web or localhost:5000/web."),
    Key("registry.username_env", "none", "Environment variable holding that registry's user name."),
    Key("registry.password_env", "none", "Environment variable holding that registry's password "
        "or token (never written to disk or logs)."),
    Key("registry.keep_images", "30", "Images the ECR lifecycle rule keeps (1-1000)."),
    Key("registry.credentials", "none (pulled anonymously)", "Where instances read "
        "registry.url's credentials: an SSM SecureString parameter name (e.g. "
        "/hello/registry) or a Secrets Manager secret ARN in account.region, holding JSON "
        "{\"username\": ..., \"password\": ...} (the format of ECS's private registry "
        "authentication). The instance role may read that one only; the password never "
        "reaches user data, templates, logs or a command line."),
    Key("deploy.strategy", "rolling", "`rolling` (instances replaced in place, rolled back by "
        "CloudFormation on failure) or `blue-green` (a stack per version, traffic moved to it in "
        "watched canary steps)."),
    Key("deploy.traffic", "load-balancer", "Blue/green: how traffic moves between releases. "
        "`load-balancer`: one long-lived load balancer per application and environment whose "
        "listener weights the releases' target groups; a share is exact per request, a step "
        "takes effect in seconds, and no hosted zone is needed. `dns`: a load balancer per "
        "release and weighted Route53 records (needs hosted_zone; each step outlasts DNS "
        "caches). Changing it is a deploy like any other: the canary moves traffic across."),
    Key("deploy.max_batch_size", "all", "Rolling: instances started beside the old ones at "
        "once (1-100), or `all`: the whole group in one batch (surge), as many as "
        "app.capacity.max leaves room for beside app.capacity.min; with max >= 2 x min a "
        "deploy takes one batch whatever the size. Capacity.max must leave room for min plus "
        "one batch."),
    Key("deploy.signal_timeout_seconds", "600", "How long a new instance has to report its "
        "container healthy before the deploy fails and rolls back (120-3600: two minutes are "
        "kept for starting Docker and pulling the image)."),
    Key("deploy.rolling_bake_seconds", "300", "Rolling: how long the application's alarms keep "
        "watching once every instance is replaced (0-172800); an alarm firing during the "
        "replacement or this bake rolls the deploy back. Give it at least the alarms' window "
        "(3 x app.alarms.period_seconds)."),
    Key("deploy.canary.steps", "[10, 50, 100]", "Blue/green: shares of traffic (percent) the new "
        "release takes in turn, rising, ending at 100."),
    Key("deploy.canary.bake_seconds", "300", "Blue/green: how long each step is watched once "
        "clients can see it (0-86400)."),
    Key("deploy.canary.alarms", "[]", "Blue/green: more CloudWatch alarm names that stop a "
        "canary (beside the release's own errors, unhealthy-hosts and p99-latency alarms)."),
    Key("deploy.canary.judge.confidence_percent", "99", "Blue/green: each step compares the "
        "new release's 5xx share and response times with the live release's over the same "
        "window; a degradation fails the step only at this confidence (one-sided, 50-99.99)."),
    Key("deploy.canary.judge.max_error_increase_points", "0.5", "Blue/green: how many "
        "percentage points more 5xx than the live release a step may show before it fails "
        "(0-100; 4xx are the clients' and never count)."),
    Key("deploy.canary.judge.max_latency_increase_percent", "20", "Blue/green: how much "
        "slower (median of the periods' average response time) than the live release a step "
        "may be before it fails (0-1000)."),
    Key("deploy.canary.judge.min_requests", "500", "Blue/green: requests each release needs "
        "in a step's window for the 5xx comparison; with fewer it is inconclusive and the "
        "alarms alone decide (1-10000000)."),
    Key("deploy.keep_releases", "1", "Blue/green: previous releases kept (at the size "
        "deploy.kept_release_capacity says) for a `wimpy rollback` that needs no new stack (0-5)."),
    Key("deploy.kept_release_capacity", "zero", "Blue/green: a kept release's size while idle. "
        "`zero`: no instance, nothing to pay but its alarms (and, with `traffic: dns`, its load "
        "balancer); a rollback waits for instances to boot. `warm`: app.capacity.min instances, "
        "paid as the live ones; a rollback waits only for their health checks. `wimpy plan` "
        "shows the rollback time of each."),
    Key("deploy.dns_ttl_seconds", "60", "How long clients may keep a DNS answer; each traffic "
        "step waits this long before it is judged. On AWS the wait is at least 60 s, the TTL "
        "Route 53 gives an alias to a load balancer (alias records have none of their own); "
        "raise it for clients that cache longer (0-3600)."),
    Key("hooks.before_deploy", "[]", "Shell commands run in order before anything is "
        "deployed, from wimpy.yml's folder through /bin/sh -c, with WIMPY_APP, "
        "WIMPY_ENVIRONMENT, WIMPY_VERSION and WIMPY_IMAGE set; the first to fail stops the "
        "deploy."),
    Key("hooks.after_deploy", "[]", "Shell commands run after the deploy, whatever its "
        "outcome, with WIMPY_URL and WIMPY_OUTCOME (succeeded, failed or rolled-back) as well; "
        "a failure is reported but does not fail a deploy that succeeded."),
    Key("hooks.timeout_seconds", "600", "Seconds each hook command may run before it is "
        "stopped and counted as failed (1-3600)."),
    Key("notifications.slack_webhook_url_env", "none", "Environment variable holding a Slack "
        "(or compatible) incoming webhook URL told of each deploy's start, success, failure "
        "and rollback; the URL itself never goes in wimpy.yml."),
    Key("notifications.sns_topic_arn", "none", "SNS topic told of the same events, e.g. "
        "arn:aws:sns:eu-west-1:123456789012:deploys."),
    Key("notifications.github_repository", "none", "owner/repo: each deploy becomes a GitHub "
        "deployment of the version, with in_progress, success or failure statuses."),
    Key("notifications.github_token_env", "GITHUB_TOKEN", "Environment variable holding the "
        "GitHub token (deployments: write)."),
    Key("notifications.github_api_url", "https://api.github.com", "GitHub's API; for GitHub "
        "Enterprise Server, e.g. https://github.example.com/api/v3."),
    Key("account.id", "required", "The 12-digit AWS account id, quoted."),
    Key("account.region", "eu-west-1", "AWS region of every stack."),
    Key("account.availability_zones", "[<region>a, <region>b]", "Two to six zones of the "
        "region; every environment gets subnets in each."),
    Key("account.log_retention_days", "365", "Retention of CloudTrail's and the application's "
        "log groups, and of the VPC flow logs in the log bucket; one of the values CloudWatch "
        "Logs accepts."),
    Key("hosted_zone.name", "none (HTTP only, no DNS record)", "Route53 hosted zone the "
        "application's records go in, e.g. example.com."),
    Key("hosted_zone.id", "required with hosted_zone.name", "That zone's id, e.g. Z0123456789ABC."),
    Key("profile", "standard", "`lean` for teams that prefer cost to redundancy: every "
        "environment defaults to one NAT instance and, with a hosted zone, to a shared load "
        "balancer (`environments.<name>.load_balancer`). `standard`: a NAT per zone in "
        "production and a load balancer per application. Security is the same in both; "
        "`wimpy cost` prices each choice."),
    Key("environments.<name>.cidr", "staging 10.0.0.0/16, production 10.1.0.0/16", "Private "
        "IPv4 range of the environment's VPC, /16 to /24; no two environments may overlap. "
        "`<name>` is 1-12 lowercase letters and digits, not `baseline` or `registry` (Wimpy's "
        "own stacks)."),
    Key("environments.<name>.domain", "<app>.<zone> in production, <app>.<env>.<zone> "
        "elsewhere", "The application's name in DNS; must be inside hosted_zone.name."),
    Key("environments.<name>.app.instance_type", "app.instance_type", "The application's "
        "instance type in this environment."),
    Key("environments.<name>.app.capacity.min", "app.capacity.min", "Fewest instances in this "
        "environment."),
    Key("environments.<name>.app.capacity.max", "app.capacity.max", "Most instances in this "
        "environment."),
    Key("environments.<name>.app.scaling.cpu_target_percent", "app.scaling.cpu_target_percent",
        "Average CPU the group scales to hold in this environment."),
    Key("environments.<name>.app.scaling.requests_per_target",
        "app.scaling.requests_per_target", "Requests per instance per minute held in this "
        "environment."),
    Key("environments.<name>.app.environment.<NAME>", "app.environment", "Variables added to "
        "app.environment in this environment, or replacing those of the same name."),
    Key("environments.<name>.app.secrets.<NAME>", "app.secrets", "Secrets added to "
        "app.secrets in this environment, or replacing those of the same name (e.g. "
        "API_TOKEN: /hello/staging/api-token); a name is a plain variable or a secret, "
        "never both."),
    Key("environments.<name>.app.machine_image", "app.machine_image", "An AMI id to pin in "
        "this environment (e.g. to try a new image in staging first)."),
    Key("environments.<name>.nat_gateways", "1, or one per zone in production (standard profile)",
        "NATs (gateways or instances, as `nat` says) for the private subnets' egress, each in its own zone "
        "(1 to the number of zones): with one per zone, losing a zone leaves the others' "
        "egress."),
    Key("environments.<name>.load_balancer", "own; shared in the lean profile with a hosted "
        "zone", "`own`: each application has its own load balancer here. `shared`: one load "
        "balancer (stack wimpy-<env>--load-balancer, made by the first deploy) serves every "
        "application in the environment, each reached through a listener rule for its host "
        "name (`domain`) with its own certificate; it saves a load balancer (about $29 a "
        "month) per application after the first. Needs hosted_zone; blue/green then moves "
        "traffic by the rule's weights (`deploy.traffic: load-balancer`)."),
    Key("environments.<name>.nat", "instance", "What carries the instances' egress (image "
        "pulls, AWS APIs, outbound calls; never the requests they serve): `instance`, a NAT "
        "instance (t4g.nano, Amazon Linux 2023, IMDSv2, encrypted, no permissions; about $8 "
        "a month with its address; up to 5 Gbps in bursts; EC2 recovers it on a hardware "
        "fault), or `gateway`, AWS's managed NAT gateway (about $39 a month with its address "
        "plus $0.048 a GB; up to 100 Gbps). `wimpy cost` prices both."),
)


def keys_under(section: str) -> tuple[str, ...]:
    """The names directly under `section` (e.g. 'app' -> 'name', 'port', 'health_check')."""
    prefix = section + "."
    names: list[str] = []
    for key in KEYS:
        if key.path.startswith(prefix):
            name = key.path[len(prefix):].split(".")[0]
            if name not in names:
                names.append(name)
    return tuple(names)


# -- what each key's value is, for the JSON Schema (wimpy_domain/config/schema.py) -----------------
# The loader checks more than a schema can say (a zone of the region, a capacity with room
# for a batch, an instance type EC2 sells); these are the checks an editor can make as the
# file is typed. tests/test_schema.py holds each range to the loader's: a value just
# outside is refused by both, the bounds accepted by both.

def _integer(low: int, high: int) -> dict:
    return {"type": "integer", "minimum": low, "maximum": high}


def _number(low: float, high: float) -> dict:
    return {"type": "number", "minimum": low, "maximum": high}


def _one_of(*values: object) -> dict:
    return {"enum": list(values)}


def _text(pattern: str | None = None) -> dict:
    return {"type": "string", **({"pattern": f"^(?:{pattern})$"} if pattern else {})}


_SCALAR = {"type": ["string", "number", "boolean"]}
_PORTS = {"type": "array", "items": _integer(1, 65535)}
_COMMANDS = {"type": "array", "items": {"type": "string", "minLength": 1}}
_PARAMETER = _text(r"/?[A-Za-z0-9_.\-]+(/[A-Za-z0-9_.\-]+)*")
_AMI = {"type": "string", "pattern": r"^(?:ami-[0-9a-f]{8}([0-9a-f]{9})?)?$"}
_INSTANCE_TYPE = _text(r"[a-z][a-z0-9-]*\.[a-z0-9]+")

TYPES: dict[str, dict] = {
    "app.name": _text(r"[a-z](?:[a-z0-9]|-(?!-))*(?<!-)"),
    "app.port": _integer(1, 65535),
    "app.health_check.path": _text(r"/[A-Za-z0-9\-._~!$&'()*+,;=:@%/?]*"),
    "app.health_check.interval_seconds": _integer(5, 300),
    "app.health_check.timeout_seconds": _integer(2, 120),
    "app.health_check.healthy_threshold": _integer(2, 10),
    "app.health_check.unhealthy_threshold": _integer(2, 10),
    "app.instance_type": _INSTANCE_TYPE,
    "app.capacity.min": _integer(1, 100),
    # At least min, and room beside it for a batch: never under 2.
    "app.capacity.max": _integer(2, 100),
    "app.environment.<NAME>": _SCALAR,
    "app.secrets.<NAME>": _PARAMETER,
    "app.database_ports": _PORTS,
    "app.deregistration_delay_seconds": _integer(0, 3600),
    "app.machine_image": _AMI,
    "app.scaling.cpu_target_percent": _integer(10, 90),
    "app.scaling.requests_per_target": _integer(1, 100000),
    "app.alarms.error_rate_percent": _integer(1, 100),
    "app.alarms.p99_latency_ms": _integer(10, 60000),
    # 10, 30 or a multiple of 60 up to 3600.
    "app.alarms.period_seconds": {"anyOf": [_one_of(10, 30), {"type": "integer", "multipleOf": 60,
                                                              "minimum": 60, "maximum": 3600}]},
    "build.context": _text(),
    "build.dockerfile": _text(),
    "build.target": _text(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}"),
    "build.args.<NAME>": _SCALAR,
    "build.push_latest": {"type": "boolean"},
    "registry.url": _text(),
    "registry.username_env": _text(r"[A-Za-z_][A-Za-z0-9_]*"),
    "registry.password_env": _text(r"[A-Za-z_][A-Za-z0-9_]*"),
    "registry.keep_images": _integer(1, 1000),
    "registry.credentials": _text(),
    "deploy.strategy": _one_of("rolling", "blue-green"),
    "deploy.traffic": _one_of("load-balancer", "dns"),
    "deploy.max_batch_size": {"anyOf": [_one_of("all"), _integer(1, 100)]},
    "deploy.signal_timeout_seconds": _integer(120, 3600),
    "deploy.rolling_bake_seconds": _integer(0, 172800),
    "deploy.canary.steps": {"type": "array", "minItems": 1,
                            "items": {"type": "number", "exclusiveMinimum": 0, "maximum": 100}},
    "deploy.canary.bake_seconds": _integer(0, 86400),
    "deploy.canary.alarms": {"type": "array",
                             "items": {"type": "string", "minLength": 1, "maxLength": 255}},
    "deploy.canary.judge.confidence_percent": _number(50, 99.99),
    "deploy.canary.judge.max_error_increase_points": _number(0, 100),
    "deploy.canary.judge.max_latency_increase_percent": _number(0, 1000),
    "deploy.canary.judge.min_requests": _integer(1, 10_000_000),
    "deploy.keep_releases": _integer(0, 5),
    "deploy.kept_release_capacity": _one_of("zero", "warm"),
    "deploy.dns_ttl_seconds": _integer(0, 3600),
    "hooks.before_deploy": _COMMANDS,
    "hooks.after_deploy": _COMMANDS,
    "hooks.timeout_seconds": _integer(1, 3600),
    "notifications.slack_webhook_url_env": _text(r"[A-Za-z_][A-Za-z0-9_]*"),
    "notifications.sns_topic_arn": _text(r"arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}"),
    "notifications.github_repository": _text(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+"),
    "notifications.github_token_env": _text(r"[A-Za-z_][A-Za-z0-9_]*"),
    "notifications.github_api_url": _text(r"https?://\S+"),
    # Quoted: unquoted, YAML reads it as a number and drops leading zeros.
    "account.id": _text(r"[0-9]{12}"),
    "account.region": _text(r"[a-z]{2}(-[a-z]+)+-[0-9]"),
    "account.availability_zones": {"type": "array", "minItems": 2, "maxItems": 6, "uniqueItems": True,
                                   "items": _text(r"[a-z]{2}(-[a-z]+)+-[0-9][a-z]")},
    "account.log_retention_days": _one_of(1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545,
                                          731, 1096, 1827, 2192, 2557, 2922, 3288, 3653),
    "hosted_zone.name": _text(),
    "hosted_zone.id": _text(r"(/hostedzone/)?Z[A-Z0-9]{1,31}"),
    "profile": _one_of("standard", "lean"),
    "environments.<name>.cidr": _text(r"[0-9]{1,3}(\.[0-9]{1,3}){3}/(1[6-9]|2[0-4])"),
    "environments.<name>.domain": _text(),
    "environments.<name>.app.instance_type": _INSTANCE_TYPE,
    "environments.<name>.app.capacity.min": _integer(1, 100),
    "environments.<name>.app.capacity.max": _integer(2, 100),
    "environments.<name>.app.scaling.cpu_target_percent": _integer(10, 90),
    "environments.<name>.app.scaling.requests_per_target": _integer(1, 100000),
    "environments.<name>.app.environment.<NAME>": _SCALAR,
    "environments.<name>.app.secrets.<NAME>": _PARAMETER,
    "environments.<name>.app.machine_image": _AMI,
    "environments.<name>.nat_gateways": _integer(1, 6),
    "environments.<name>.load_balancer": _one_of("own", "shared"),
    "environments.<name>.nat": _one_of("instance", "gateway"),
}
