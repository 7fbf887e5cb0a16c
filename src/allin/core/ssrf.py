"""Fetching a URL a user gave us without letting it reach our own network (SSRF).

Every address the host name resolves to must be public (not private, loopback, link-local,
shared, multicast, reserved or unspecified; IPv4-mapped/NAT64 IPv6 judged by the IPv4 inside).
The connection then goes to the checked address itself (Host header and TLS SNI keep the
name), so a second DNS answer cannot swap in an internal one, and every redirect hop is
checked again. Networks an operator trusts can be allowed explicitly.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit, urlunsplit

import httpx

from allin.core.errors import AppError, UpstreamError
from allin.core.http import create_http_client

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_REDIRECTS = frozenset({301, 302, 303, 307, 308})


class UnsafeUrlError(AppError):
    code = "UNSAFE_URL"
    status_code = 422
    default_message = "This URL cannot be fetched"


class UrlFetchError(UpstreamError):
    code = "URL_FETCH_FAILED"
    default_message = "The URL could not be fetched"


def _embedded_v4(address: IPAddress) -> IPAddress:
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address in _NAT64:
            return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address


def is_public_address(address: IPAddress, allow: Iterable[IPNetwork] = ()) -> bool:
    if any(address in network for network in allow):
        return True
    inner = _embedded_v4(address)
    if inner is not address:
        return is_public_address(inner, allow)
    return address.is_global and not address.is_multicast


@dataclass(frozen=True, slots=True)
class FetchedPage:
    url: str  # after redirects
    content_type: str
    text: str


class SafeFetcher:
    def __init__(
        self,
        *,
        allow: Iterable[str] = (),
        timeout: float = 10.0,
        max_bytes: int = 2_000_000,
        max_redirects: int = 5,
    ) -> None:
        self.allow: tuple[IPNetwork, ...] = tuple(ipaddress.ip_network(n) for n in allow)
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.max_redirects = max_redirects

    async def resolve(self, host: str, port: int) -> IPAddress:
        """The first address of `host`, once every address it has is known to be public."""
        try:
            literal: IPAddress | None = ipaddress.ip_address(host.strip("[]"))
        except ValueError:
            literal = None
        if literal is not None:
            addresses = [literal]
        else:
            try:
                infos = await asyncio.get_running_loop().getaddrinfo(
                    host, port, type=socket.SOCK_STREAM
                )
            except (OSError, UnicodeError):
                raise UnsafeUrlError(f"The host {host!r} does not resolve") from None
            addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
        if not addresses:
            raise UnsafeUrlError(f"The host {host!r} does not resolve")
        for address in addresses:
            if not is_public_address(address, self.allow):
                raise UnsafeUrlError(
                    "The URL points at a private or reserved address",
                    details={"host": host, "address": str(address)},
                )
        return addresses[0]

    async def fetch(self, url: str) -> FetchedPage:
        async with create_http_client(timeout=self.timeout) as http:
            for _ in range(self.max_redirects + 1):
                response_url, response = await self._one(http, url)
                if response is None:
                    url = response_url
                    continue
                return response
        raise UrlFetchError("Too many redirects")

    async def _one(self, http: httpx.AsyncClient, url: str) -> tuple[str, FetchedPage | None]:
        parts = urlsplit(url)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise UnsafeUrlError("Only http and https URLs can be fetched")
        if parts.username or parts.password:
            raise UnsafeUrlError("URLs with credentials are not fetched")
        port = parts.port or (443 if parts.scheme == "https" else 80)
        address = await self.resolve(parts.hostname, port)
        shown = f"[{address}]" if address.version == 6 else str(address)
        pinned = urlunsplit((parts.scheme, f"{shown}:{port}", parts.path or "/", parts.query, ""))
        host_header = parts.netloc.rsplit("@", 1)[-1]
        request = http.build_request(
            "GET",
            pinned,
            headers={"Host": host_header, "Accept": "text/html, text/plain;q=0.9, */*;q=0.1"},
            extensions={"sni_hostname": parts.hostname},
        )
        try:
            response = await http.send(request, stream=True)
        except httpx.HTTPError as exc:
            raise UrlFetchError(f"The URL could not be fetched: {type(exc).__name__}") from None
        try:
            if response.status_code in _REDIRECTS and "location" in response.headers:
                return urljoin(url, response.headers["location"]), None
            if response.status_code >= 400:
                raise UrlFetchError(f"The URL answered HTTP {response.status_code}")
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body.extend(chunk)
                if len(body) > self.max_bytes:
                    raise UrlFetchError("The page is too large to use as a source")
            encoding = response.encoding or "utf-8"
            text = bytes(body).decode(encoding, errors="replace")
            return url, FetchedPage(url, response.headers.get("content-type", ""), text)
        finally:
            await response.aclose()
