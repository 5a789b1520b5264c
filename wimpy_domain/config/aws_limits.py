"""What AWS accepts, checked before any AWS call so a typo fails in a second, not halfway
through a CloudFormation update. Each check returns None or the reason, worded to follow
the bad value in a message."""

from __future__ import annotations

import functools
import ipaddress
import json
import math
import os
import re
from pathlib import Path

from .yaml_source import show


class Pattern:
    """A validation pattern, which only ever answers for the whole value, in ASCII.

    `re` lets loose forms through: `$` also matches before a trailing newline, so `match`
    on `^...$` takes 'shop\\n'; and without re.ASCII `\\d` takes full-width digits
    ('１２３456789012') and `\\w` any letter of any script. This offers only `accepts`
    (fullmatch, re.ASCII, text only), so no check can use the loose forms by mistake."""

    __slots__ = ("regex",)

    def __init__(self, pattern: str):
        self.regex = re.compile(pattern, re.ASCII)

    def accepts(self, value: object) -> bool:
        return isinstance(value, str) and self.regex.fullmatch(value) is not None


# Application Load Balancer and target group names: 32 characters, letters, digits, hyphens.
LOAD_BALANCER_NAME_MAX = 32
APP_NAME = Pattern(r"[a-z](?:[a-z0-9]|-(?!-))*(?<!-)")
# Environment names join app names with a hyphen in stack and load balancer names; a hyphen
# inside one would let `prod-eu` + `web` collide with `prod` + `eu-web`.
ENVIRONMENT_NAME = Pattern(r"[a-z][a-z0-9]{0,11}")
ACCOUNT_ID = Pattern(r"[0-9]{12}")
HOSTED_ZONE_ID = Pattern(r"Z[A-Z0-9]{1,31}")
DNS_LABEL = Pattern(r"(?!-)[a-z0-9-]{1,63}(?<!-)")
# POSIX sets no length; 255 is far beyond any real name and keeps messages and the
# instance's env file sane.
VARIABLE_NAME_MAX = 255
VARIABLE_NAME = Pattern(rf"[A-Za-z_][A-Za-z0-9_]{{0,{VARIABLE_NAME_MAX - 1}}}")
SSM_PARAMETER_NAME = Pattern(r"/?[A-Za-z0-9_.\-]+(/[A-Za-z0-9_.\-]+)*")
AMI_ID = Pattern(r"ami-[0-9a-f]{8}([0-9a-f]{9})?")
# Dockerfile stage names; BuildKit allows 128 characters.
BUILD_TARGET = Pattern(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")
# host[:port]/path, as `docker push` accepts (lowercase path components), at most the 255
# characters the distribution spec allows a repository name.
IMAGE_REPOSITORY_MAX = 255
IMAGE_REPOSITORY = Pattern(
    r"[A-Za-z0-9.-]+(:[0-9]+)?/[a-z0-9]+(?:[._-][a-z0-9]+)*(/[a-z0-9]+(?:[._-][a-z0-9]+)*)*")
HEALTH_CHECK_PATH = Pattern(r"/[A-Za-z0-9\-._~!$&'()*+,;=:@%/?]*")
# The characters RFC 3986 allows in a URL, and a length any real API root is far below:
# no space, control character or look-alike letter can hide in a host name.
URL = Pattern(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]{1,2048}")

# The values CloudWatch Logs accepts for a log group's retention.
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096,
                      1827, 2192, 2557, 2922, 3288, 3653)

# Subnet tiers in every environment VPC: public, private with egress, isolated (databases).
SUBNET_TIERS = 3
# The smallest subnet worth having: a /27 leaves 27 usable addresses after AWS reserves 5.
SMALLEST_SUBNET_PREFIX = 27


def _botocore_data(name: str, *more: str) -> dict:
    """Data files that ship with botocore, read without a session, so no AWS profile,
    credential or network is involved (a broken AWS_PROFILE must not break validation).
    Not kept: only the names taken from them are (_aws_names), not the whole EC2 model."""
    import botocore.loaders

    loader = botocore.loaders.create_loader()
    return loader.load_service_model(name, *more) if more else loader.load_data(name)


def _names_from_botocore() -> dict[str, list[str]]:
    return {"regions": sorted(region for partition in _botocore_data("endpoints")["partitions"]
                              for region in partition["regions"]),
            "instance_types": sorted(_botocore_data("ec2", "service-2")["shapes"]["InstanceType"]["enum"])}


def names_cache() -> Path:
    """Where the names read from botocore are kept, one file per botocore version (a new
    botocore brings new regions and instance types): reading its EC2 model costs about
    0.15 s, which every `wimpy validate` would otherwise pay."""
    from importlib.metadata import version

    root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return root / "wimpy" / f"aws-names-botocore-{version('botocore')}.json"


@functools.cache
def _aws_names() -> dict[str, frozenset[str]]:
    path = names_cache()
    try:
        kept = json.loads(path.read_text())
        if all(isinstance(kept.get(key), list) and kept[key] and all(isinstance(n, str) for n in kept[key])
               for key in ("regions", "instance_types")):
            return {key: frozenset(kept[key]) for key in ("regions", "instance_types")}
    except (OSError, ValueError, AttributeError):
        pass
    names = _names_from_botocore()
    try:  # written whole or not at all; a cache that cannot be written is only slower
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(json.dumps(names))
        partial.replace(path)
    except OSError:
        pass
    return {key: frozenset(value) for key, value in names.items()}


def known_regions() -> frozenset[str]:
    """Regions from botocore's endpoint data."""
    return _aws_names()["regions"]


def known_instance_types() -> frozenset[str]:
    """Instance types from the EC2 API model."""
    return _aws_names()["instance_types"]


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
    if not re.fullmatch(re.escape(region) + r"[a-z]", zone, flags=re.ASCII):
        return (f"is not an availability zone of region {region}; "
                f"zones there are named like {region}a")
    return None


def hosted_zone_name_problem(name: str) -> str | None:
    labels = name.rstrip(".").split(".")
    if len(name.rstrip(".")) > 253 or len(labels) < 2:
        return "is not a domain name; write it like example.com"
    for label in labels:
        if not DNS_LABEL.accepts(label):
            return (f"has an invalid label {show(label)}; use lowercase letters, digits and "
                    "hyphens, 1-63 characters, not starting or ending with a hyphen")
    return None
