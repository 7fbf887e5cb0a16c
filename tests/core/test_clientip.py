"""Which address is the client: the peer, unless the peer is a trusted proxy."""

from __future__ import annotations

import ipaddress

from hypothesis import given
from hypothesis import strategies as st

from allin.core.clientip import TrustedProxies, parse_networks

PROXIES = TrustedProxies(parse_networks(["10.0.0.0/8", "::1"]))


def test_untrusted_peer_is_the_client() -> None:
    assert PROXIES.client_of("192.0.2.7", "203.0.113.1") == "192.0.2.7"
    assert TrustedProxies().client_of("127.0.0.1", "203.0.113.1") == "127.0.0.1"


def test_rightmost_untrusted_hop_wins() -> None:
    assert PROXIES.client_of("10.1.1.1", "198.51.100.2, 203.0.113.1, 10.2.2.2") == "203.0.113.1"
    assert PROXIES.client_of("::1", "10.1.1.1, 10.2.2.2") == "10.1.1.1"
    assert PROXIES.client_of("10.1.1.1", "203.0.113.1, not-an-ip") == "10.1.1.1"
    assert PROXIES.client_of("10.1.1.1", None) == "10.1.1.1"


@given(st.ip_addresses(), st.lists(st.ip_addresses(), max_size=5))
def test_an_untrusted_peer_never_gets_a_forwarded_address(
    peer: ipaddress.IPv4Address | ipaddress.IPv6Address,
    chain: list[ipaddress.IPv4Address | ipaddress.IPv6Address],
) -> None:
    forwarded = ", ".join(str(hop) for hop in chain)
    result = PROXIES.client_of(str(peer), forwarded)
    if not PROXIES.trusts(str(peer)):
        assert result == str(peer)
    else:
        assert result == str(peer) or result in {str(hop) for hop in chain}
