"""Which URLs the signer accepts, and query-string surgery that keeps the caller's bytes."""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

TIKTOK_DOMAIN = "tiktok.com"
_DEFAULT_PORTS = {"http": 80, "https": 443}
_HOST_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")


class InvalidTikTokUrl(ValueError):
    """The URL is not an http(s) URL on tiktok.com or one of its subdomains."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"Invalid TikTok URL: {reason}")
        self.url = url
        self.reason = reason


def is_tiktok_host(host: str) -> bool:
    """``tiktok.com`` itself or a syntactically valid subdomain of it (lower case)."""
    if host == TIKTOK_DOMAIN:
        return True
    suffix = "." + TIKTOK_DOMAIN
    if not host.endswith(suffix):
        return False
    labels = host[: -len(suffix)].split(".")
    return all(_HOST_LABEL.fullmatch(label) for label in labels)


def _reject_characters(url: str) -> None:
    # Browsers read "\" as "/" and strip tabs/newlines, so such URLs could reach a host
    # other than the one urlsplit reports.
    for char in url:
        if char == "\\" or char.isspace() or ord(char) < 0x20 or ord(char) == 0x7F:
            raise InvalidTikTokUrl(url, f"contains a forbidden character {char!r}")


def validate_tiktok_url(url: str) -> str:
    """Return ``url`` unchanged if it is an http(s) URL on TikTok, else raise.

    Rejected: other schemes, credentials (``user@host``), ports other than the scheme's
    default, hosts that merely contain ``tiktok.com`` (``tiktok.com.evil.org``), and
    whitespace, control characters or backslashes anywhere in the URL.
    """
    if not url:
        raise InvalidTikTokUrl(url, "empty URL")
    _reject_characters(url)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise InvalidTikTokUrl(url, f"unparsable URL ({exc})") from exc
    if parts.scheme not in _DEFAULT_PORTS:
        raise InvalidTikTokUrl(url, "scheme must be http or https")
    if "@" in parts.netloc:
        raise InvalidTikTokUrl(url, "credentials in the URL are not allowed")
    host = parts.hostname
    if not host or not parts.netloc.isascii() or not is_tiktok_host(host):
        raise InvalidTikTokUrl(url, f"host {host!r} is not tiktok.com or a subdomain of it")
    if port is not None and port != _DEFAULT_PORTS[parts.scheme]:
        raise InvalidTikTokUrl(url, f"port {port} is not allowed")
    return url


def param_name(piece: str) -> str:
    """Decoded name of one ``name=value`` piece of a query string."""
    return unquote(piece.partition("=")[0].replace("+", " "))


def without_params(query: str, names: frozenset[str]) -> list[str]:
    """The query's non-empty pieces, in order and as written, minus those named ``names``."""
    return [piece for piece in query.split("&") if piece and param_name(piece) not in names]
