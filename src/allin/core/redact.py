"""Secrets out of log lines: by header and field name, in URLs' query strings, after `Bearer`.

One pass over the event (nested dicts, lists, header pairs), used as a structlog processor for
our own lines and for the standard library's (uvicorn, httpx). Names are compared lowercased
with `-` read as `_`, so `Set-Cookie`, `set_cookie` and `X-API-Key` all match.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

REDACTED = "[REDACTED]"
SENSITIVE_NAMES = frozenset(
    {
        "authorization",
        "proxy_authorization",
        "cookie",
        "set_cookie",
        "x_api_key",
        "api_key",
        "apikey",
        "password",
        "new_password",
        "current_password",
        "passwd",
        "access_token",
        "refresh_token",
        "id_token",
        "token",
        "code",
        "code_verifier",
        "client_secret",
        "secret",
        "secret_key",
        "signature",
        "fb_exchange_token",
        "input_token",
        "appsecret_proof",
        "oauth_token",
        "oauth_verifier",
    }
)
_SENSITIVE_SUFFIXES = ("_token", "_secret", "_password", "_api_key")
_QUERY_SECRET = re.compile(
    r"(?i)(?P<lead>[?&;](?:" + "|".join(sorted(SENSITIVE_NAMES, key=len, reverse=True)) + r")=)"
    r"[^&#\s\"'<>]+"
)
_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{6,}")
_HEADER_LINE = re.compile(
    r"(?im)\b(authorization|cookie|set-cookie|x-api-key|proxy-authorization)"
    r"(?P<sep>['\"]?\s*[:=,]\s*['\"]?)[^\n'\"]+"
)
_MAX_DEPTH = 6


class Deliberate(str):
    """A value shown on purpose (the development mail backend's link *is* its delivery)."""

    __slots__ = ()


def sensitive(name: str) -> bool:
    key = name.lower().replace("-", "_").strip()
    return key in SENSITIVE_NAMES or key.endswith(_SENSITIVE_SUFFIXES)


def redact_text(text: str) -> str:
    """Query-string secrets, bearer/basic credentials and header lines inside free text."""
    if not text:
        return text
    text = _QUERY_SECRET.sub(lambda m: m.group("lead") + REDACTED, text)
    text = _BEARER.sub(lambda m: f"{m.group(1)} {REDACTED}", text)
    return _HEADER_LINE.sub(lambda m: m.group(1) + m.group("sep") + REDACTED, text)


def redact_value(value: Any, depth: int = 0) -> Any:
    if isinstance(value, Deliberate):
        return str(value)
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, bytes):
        return redact_text(value.decode("latin-1"))
    if depth >= _MAX_DEPTH:
        return value
    if isinstance(value, Mapping):
        return {
            key: REDACTED
            if isinstance(key, str | bytes) and sensitive(_name(key))
            else redact_value(item, depth + 1)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        if len(value) == 2 and isinstance(value[0], str | bytes) and sensitive(_name(value[0])):
            return (value[0], REDACTED)  # a header pair
        return (
            type(value)(redact_value(item, depth + 1) for item in value)
            if isinstance(value, list)
            else tuple(redact_value(item, depth + 1) for item in value)
        )
    return value


def _name(key: str | bytes) -> str:
    return key.decode("latin-1") if isinstance(key, bytes) else key


def redact_event(_: Any, __: str, event_dict: Any) -> Any:
    """structlog processor: every key and value of the event, recursively."""
    for key in list(event_dict):
        if key in ("exc_info", "_record", "_from_structlog"):
            continue
        value = event_dict[key]
        event_dict[key] = REDACTED if sensitive(key) else redact_value(value)
    return event_dict
