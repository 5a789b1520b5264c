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
        "balancer and target group names."),
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
    Key("account.id", "required", "The 12-digit AWS account id, quoted."),
    Key("account.region", "eu-west-1", "AWS region of every stack."),
    Key("account.availability_zones", "[<region>a, <region>b]", "Two to six zones of the "
        "region; every environment gets subnets in each."),
    Key("account.log_retention_days", "365", "Retention of CloudTrail, flow-log and application "
        "log groups; one of the values CloudWatch Logs accepts."),
    Key("hosted_zone.name", "none (HTTP only, no DNS record)", "Route53 hosted zone the "
        "application's records go in, e.g. example.com."),
    Key("hosted_zone.id", "required with hosted_zone.name", "That zone's id, e.g. Z0123456789ABC."),
    Key("environments.<name>.cidr", "staging 10.0.0.0/16, production 10.1.0.0/16", "Private "
        "IPv4 range of the environment's VPC, /16 to /24; no two environments may overlap."),
    Key("environments.<name>.nat_gateways", "1, or one per zone in production", "NAT gateways "
        "for the private subnets' egress (1 to the number of zones)."),
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
