"""Secure by default: whether an address is loopback-only, and the refusal ``serve`` gives without authentication."""

from __future__ import annotations

import ipaddress

LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


def is_loopback(host: str) -> bool:
    """True when listening on ``host`` is reachable from this machine only (127.0.0.0/8, ::1, localhost)."""
    name = host.strip().strip("[]").lower()
    if name in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:  # another host name: it may resolve to anything, so it counts as exposed
        return False


def exposure_problem(host: str, auth_configured: bool) -> str | None:
    """Why serving on ``host`` must be refused (beyond loopback without any user or token), or None."""
    if auth_configured or is_loopback(host):
        return None
    return (
        f"refusing to listen on {host}: it is reachable beyond this machine and no user or API token exists yet. "
        "Create an admin first (`factorytwin users add NAME --role admin`), or listen on 127.0.0.1."
    )
