"""Which address a request came from, for counting wrong passwords.

``X-Forwarded-For`` is whatever the sender wrote, so it is believed only from a proxy the
operator named in ``$OBEYA_TRUSTED_PROXIES`` (comma-separated addresses or networks, e.g.
``10.0.0.5, 10.1.0.0/16``; default: none, the socket's peer is the address). From such a
proxy, the header is read from the right, skipping the trusted proxies, and the first other
address is the client's: entries to its left were written by the client and prove nothing.

The server must not rewrite the peer itself from the header (uvicorn does so for loopback
peers unless started with ``proxy_headers=False``), or a forged header reaches this module as
the peer.
"""

from __future__ import annotations

import ipaddress
import os
from functools import lru_cache

from obeya.errors import InputError

TRUSTED_PROXIES_VARIABLE = "OBEYA_TRUSTED_PROXIES"
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def _parse(configured: str) -> tuple[Network, ...]:
    networks = []
    for part in configured.split(","):
        if not part.strip():
            continue
        try:
            networks.append(ipaddress.ip_network(part.strip(), strict=False))
        except ValueError:
            raise InputError(
                f"{TRUSTED_PROXIES_VARIABLE}: {part.strip()!r} is not an address or network"
            ) from None
    return tuple(networks)


def trusted_proxies() -> tuple[Network, ...]:
    """The proxies named in ``$OBEYA_TRUSTED_PROXIES`` (read at each call; parsed once)."""
    return _parse(os.environ.get(TRUSTED_PROXIES_VARIABLE, ""))


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def _trusted(address: str, proxies: tuple[Network, ...]) -> bool:
    ip = _ip(address)
    return ip is not None and any(ip in network for network in proxies)


def client_address(
    peer: str | None, forwarded_for: list[str], proxies: tuple[Network, ...] | None = None
) -> str:
    """The client's address: ``peer`` (the socket's), unless it is a trusted proxy; then the
    right-most address of the ``X-Forwarded-For`` headers that is not a trusted proxy (the
    peer if the header names none, or something that is not an address)."""
    proxies = trusted_proxies() if proxies is None else proxies
    peer = peer or "unknown"
    if not proxies or not _trusted(peer, proxies):
        return peer
    hops = [hop.strip() for header in forwarded_for for hop in header.split(",")]
    for hop in reversed([h for h in hops if h]):
        if _trusted(hop, proxies):
            continue
        ip = _ip(hop)
        return peer if ip is None else str(ip)
    return peer


def over_https(
    scheme: str,
    peer: str | None,
    forwarded_proto: str | None,
    proxies: tuple[Network, ...] | None = None,
) -> bool:
    """Whether the client reached us over https: the request's scheme, or a trusted proxy's
    ``X-Forwarded-Proto`` (the proxy ended the TLS). Decides the cookie's ``Secure`` flag."""
    if scheme == "https":
        return True
    proxies = trusted_proxies() if proxies is None else proxies
    if not proxies or not peer or not _trusted(peer, proxies):
        return False
    return (forwarded_proto or "").split(",")[0].strip().lower() == "https"
