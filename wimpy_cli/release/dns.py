"""How long clients may keep using an old DNS answer, which is how long a traffic change
through weighted records takes to reach them all.

Route 53 answers an alias record with the TTL of its target, and for a load balancer that
is 60 seconds, whatever the record says (alias records have no TTL of their own).
`deploy.dns_ttl_seconds` can only raise that wait, for clients that cache longer than
they are told (JVMs may cache for far longer). The local target has no resolver: the
configured value is the whole wait there.
"""

from __future__ import annotations

# The TTL Route 53 gives an alias record that points at an Application Load Balancer.
ALIAS_TO_LOAD_BALANCER_TTL_SECONDS = 60


def client_cache_seconds(configured: int, *, local: bool) -> int:
    """The wait that outlasts every client's DNS cache, on AWS or on the local target."""
    return configured if local else max(configured, ALIAS_TO_LOAD_BALANCER_TTL_SECONDS)


def retire_wait_seconds(dns_ttl_seconds: int, drain_seconds: int, *, local: bool) -> int:
    """How long a release that no longer gets traffic must still be left alone: two client
    cache lifetimes (every client has moved off it) plus the load balancer's drain time."""
    return 2 * client_cache_seconds(dns_ttl_seconds, local=local) + drain_seconds
