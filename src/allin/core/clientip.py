"""The caller's address: the TCP peer, unless the peer is a proxy named in config.

`X-Forwarded-For` is only a claim; believing it from anyone (or from loopback, where any local
process, tunnel or pass-through proxy can connect) lets each request choose its own address and
so its own rate-limit bucket. Only the proxies in `ALLIN_TRUSTED_PROXIES` (IPs or CIDRs, empty
by default) are believed, and the header is read from the right, skipping those proxies: the
first address no trusted proxy vouches for is the client (RFC 7239 §5.2's reasoning).

The middleware rewrites `scope["client"]` (and the scheme, from `X-Forwarded-Proto`) once, so
every reader (`client_ip`, `request.client`, `request.url`) agrees.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from starlette.types import ASGIApp, Receive, Scope, Send

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
UNKNOWN = "unknown"


def parse_networks(values: Iterable[str]) -> tuple[Network, ...]:
    """IPs and CIDRs; raises ValueError naming a bad entry."""
    networks = []
    for value in values:
        try:
            networks.append(ipaddress.ip_network(value.strip(), strict=False))
        except ValueError as exc:
            raise ValueError(f"not an IP address or CIDR: {value!r}") from exc
    return tuple(networks)


class TrustedProxies:
    def __init__(self, networks: Iterable[Network] = ()) -> None:
        self.networks = tuple(networks)

    def __bool__(self) -> bool:
        return bool(self.networks)

    def trusts(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.networks)

    def client_of(self, peer: str, forwarded_for: str | None) -> str:
        """The client address given the TCP peer and the joined X-Forwarded-For values."""
        if not forwarded_for or not self.trusts(peer):
            return peer
        hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
        for hop in reversed(hops):
            if not _is_ip(hop):
                return peer  # a garbled chain proves nothing
            if not self.trusts(hop):
                return hop
        return hops[0] if hops else peer


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def client_ip(scope: Scope) -> str:
    """The one way to read the caller's address (after `ClientAddressMiddleware`)."""
    client = scope.get("client")
    return str(client[0]) if client else UNKNOWN


def _joined(scope: Scope, name: bytes) -> str | None:
    values = [v.decode("latin-1") for k, v in scope.get("headers", []) if k.lower() == name]
    return ",".join(values) if values else None


class ClientAddressMiddleware:
    """Outermost: replaces the peer by the forwarded client when the peer is trusted."""

    def __init__(self, app: ASGIApp, trusted: TrustedProxies) -> None:
        self.app = app
        self.trusted = trusted

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and self.trusted:
            client = scope.get("client")
            peer = str(client[0]) if client else ""
            if self.trusted.trusts(peer):
                scope = dict(scope)
                address = self.trusted.client_of(peer, _joined(scope, b"x-forwarded-for"))
                scope["client"] = (address, 0)
                proto = (_joined(scope, b"x-forwarded-proto") or "").split(",")[-1].strip()
                if proto in ("http", "https"):
                    secure = proto == "https"
                    if scope["type"] == "websocket":
                        scope["scheme"] = "wss" if secure else "ws"
                    else:
                        scope["scheme"] = proto
        await self.app(scope, receive, send)
