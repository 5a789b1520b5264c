"""What AWS accepts, checked before any AWS call so a typo fails in a second, not halfway
through a CloudFormation update. Each check returns None or the reason, worded to follow
the bad value in a message."""

from __future__ import annotations

import functools
import ipaddress
import math
import re

# Application Load Balancer and target group names: 32 characters, letters, digits, hyphens.
LOAD_BALANCER_NAME_MAX = 32
APP_NAME = re.compile(r"^[a-z](?:[a-z0-9]|-(?!-))*(?<!-)$")
# Environment names join app names with a hyphen in stack and load balancer names; a hyphen
# inside one would let `prod-eu` + `web` collide with `prod` + `eu-web`.
ENVIRONMENT_NAME = re.compile(r"^[a-z][a-z0-9]{0,11}$")
ACCOUNT_ID = re.compile(r"^\d{12}$")
HOSTED_ZONE_ID = re.compile(r"^Z[A-Z0-9]{1,31}$")
DNS_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
VARIABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
SSM_PARAMETER_NAME = re.compile(r"^/?[A-Za-z0-9_.\-]+(/[A-Za-z0-9_.\-]+)*$")
AMI_ID = re.compile(r"^ami-[0-9a-f]{8}([0-9a-f]{9})?$")
BUILD_TARGET = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
# host[:port]/path, as `docker push` accepts (lowercase path components).
IMAGE_REPOSITORY = re.compile(
    r"^[A-Za-z0-9.-]+(:\d+)?/[a-z0-9]+(?:[._-][a-z0-9]+)*(/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$")
HEALTH_CHECK_PATH = re.compile(r"^/[A-Za-z0-9\-._~!$&'()*+,;=:@%/?]*$")

# The values CloudWatch Logs accepts for a log group's retention.
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096,
                      1827, 2192, 2557, 2922, 3288, 3653)

# Subnet tiers in every environment VPC: public, private with egress, isolated (databases).
SUBNET_TIERS = 3
# The smallest subnet worth having: a /27 leaves 27 usable addresses after AWS reserves 5.
SMALLEST_SUBNET_PREFIX = 27


@functools.cache
def _botocore_data(name: str, *more: str) -> dict:
    """Data files that ship with botocore, read without a session, so no AWS profile,
    credential or network is involved (a broken AWS_PROFILE must not break validation)."""
    import botocore.loaders

    loader = botocore.loaders.create_loader()
    return loader.load_service_model(name, *more) if more else loader.load_data(name)


@functools.cache
def known_regions() -> frozenset[str]:
    """Regions from botocore's endpoint data."""
    return frozenset(region for partition in _botocore_data("endpoints")["partitions"]
                     for region in partition["regions"])


@functools.cache
def known_instance_types() -> frozenset[str]:
    """Instance types from the EC2 API model."""
    return frozenset(_botocore_data("ec2", "service-2")["shapes"]["InstanceType"]["enum"])


def subnet_prefix(vpc_prefix: int, zone_count: int) -> int:
    """Prefix length of each subnet when a VPC is split evenly into tiers x zones."""
    return vpc_prefix + math.ceil(math.log2(SUBNET_TIERS * zone_count))


def cidr_problem(text: str, zone_count: int) -> str | None:
    try:
        network = ipaddress.IPv4Network(text, strict=True)
    except ipaddress.NetmaskValueError:
        return "has an invalid prefix length; write it like 10.0.0.0/16"
    except ValueError as exc:
        if "has host bits set" in str(exc):
            fixed = ipaddress.IPv4Network(text, strict=False)
            return f"has host bits set; did you mean {fixed}?"
        return "is not an IPv4 CIDR block; write it like 10.0.0.0/16"
    if not network.is_private or network.is_loopback or network.is_link_local:
        return ("is not a private range; use part of 10.0.0.0/8, 172.16.0.0/12 "
                "or 192.168.0.0/16")
    if not 16 <= network.prefixlen <= 24:
        return "must be between /16 and /24 (the VPC sizes this tool plans subnets for)"
    needed = subnet_prefix(network.prefixlen, zone_count)
    if needed > SMALLEST_SUBNET_PREFIX:
        widest = SMALLEST_SUBNET_PREFIX - (needed - network.prefixlen)
        return (f"is too small for {SUBNET_TIERS} subnet tiers in {zone_count} availability "
                f"zones (each would be /{needed}); use /{widest} or larger")
    return None


def zone_problem(zone: str, region: str) -> str | None:
    if not re.fullmatch(re.escape(region) + r"[a-z]", zone):
        return (f"is not an availability zone of region {region}; "
                f"zones there are named like {region}a")
    return None


def hosted_zone_name_problem(name: str) -> str | None:
    labels = name.rstrip(".").split(".")
    if len(name.rstrip(".")) > 253 or len(labels) < 2:
        return "is not a domain name; write it like example.com"
    for label in labels:
        if not DNS_LABEL.match(label):
            return (f"has an invalid label '{label}'; use lowercase letters, digits and "
                    "hyphens, 1-63 characters, not starting or ending with a hyphen")
    return None
