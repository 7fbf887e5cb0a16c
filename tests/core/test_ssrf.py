"""The SSRF guard: address classification (property tests) and real fetches on loopback."""

from __future__ import annotations

import ipaddress

import pytest
from fastapi import FastAPI
from fastapi.responses import PlainTextResponse, RedirectResponse
from hypothesis import given
from hypothesis import strategies as st

from allin.core.ssrf import SafeFetcher, UnsafeUrlError, UrlFetchError, is_public_address
from tests.support.server import serve

PRIVATE_V4 = [
    "0.0.0.0/8",
    "10.0.0.0/8",
    "100.64.0.0/10",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "224.0.0.0/4",
    "240.0.0.0/4",
]


@st.composite
def inside(draw: st.DrawFn, networks: list[str]) -> ipaddress.IPv4Address:
    network = ipaddress.IPv4Network(draw(st.sampled_from(networks)))
    offset = draw(st.integers(0, network.num_addresses - 1))
    return network.network_address + offset


@given(inside(PRIVATE_V4))
def test_private_v4_refused_plain_mapped_and_nat64(address: ipaddress.IPv4Address) -> None:
    assert not is_public_address(address)
    assert not is_public_address(ipaddress.IPv6Address(f"::ffff:{address}"))
    assert not is_public_address(ipaddress.IPv6Address(int(address) | (0x64FF9B << 96)))


@given(st.integers(0, 2**128 - 1))
def test_v6_loopback_link_local_unique_local_refused(value: int) -> None:
    address = ipaddress.IPv6Address(value)
    special = ("::1/128", "fe80::/10", "fc00::/7", "ff00::/8", "::/128")
    if any(address in ipaddress.IPv6Network(n) for n in special):
        assert not is_public_address(address)


@given(inside(["8.8.0.0/16", "93.184.0.0/16", "151.101.0.0/16"]))
def test_public_v4_allowed(address: ipaddress.IPv4Address) -> None:
    assert is_public_address(address)


@given(inside(["127.0.0.0/8"]))
def test_allow_list_overrides(address: ipaddress.IPv4Address) -> None:
    assert is_public_address(address, [ipaddress.IPv4Network("127.0.0.0/8")])
    assert not is_public_address(address, [ipaddress.IPv4Network("10.0.0.0/8")])


def _site() -> FastAPI:
    app = FastAPI()

    @app.get("/page")
    async def page() -> PlainTextResponse:
        return PlainTextResponse("Sourdough starter guide")

    @app.get("/to-metadata")
    async def to_metadata() -> RedirectResponse:
        return RedirectResponse("http://169.254.169.254/latest/meta-data", 302)

    @app.get("/to-page")
    async def to_page() -> RedirectResponse:
        return RedirectResponse("/page", 302)

    @app.get("/big")
    async def big() -> PlainTextResponse:
        return PlainTextResponse("x" * 5000)

    return app


async def test_loopback_refused_by_default() -> None:
    async with serve(_site()) as url:
        with pytest.raises(UnsafeUrlError):
            await SafeFetcher().fetch(f"{url}/page")


@pytest.mark.parametrize(
    "url",
    [
        "http://localhost/",
        "http://[::1]/",
        "http://10.1.2.3/",
        "http://169.254.169.254/",
        "ftp://example.com/",
        "file:///etc/passwd",
        "http://user:pw@8.8.8.8/",
    ],
)
async def test_refused_urls(url: str) -> None:
    with pytest.raises(UnsafeUrlError):
        await SafeFetcher().fetch(url)


async def test_allowed_fetch_follows_safe_redirects_and_rechecks_each() -> None:
    fetcher = SafeFetcher(allow=["127.0.0.1/32"], max_bytes=1000)
    async with serve(_site()) as url:
        page = await fetcher.fetch(f"{url}/to-page")
        assert page.text == "Sourdough starter guide" and page.url.endswith("/page")
        with pytest.raises(UnsafeUrlError):
            await fetcher.fetch(f"{url}/to-metadata")
        with pytest.raises(UrlFetchError):
            await fetcher.fetch(f"{url}/big")
        with pytest.raises(UrlFetchError):
            await fetcher.fetch(f"{url}/missing")
