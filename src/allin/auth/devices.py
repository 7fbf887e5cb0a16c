"""Known devices: a browser that signed in to an account keeps its own failure count.

Counting failed sign-ins per account alone lets anybody lock the owner out by typing wrong
passwords (ASVS 2.2.1 asks for the opposite). After a successful sign-in the browser gets a
signed, HttpOnly device cookie for that account; failures from browsers without one share the
account's bucket, failures from a known device count in that device's own bucket, so the
owner on their usual device still gets in while strangers stay throttled (OWASP's "device
cookies" scheme). The per-IP limit applies to everybody.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from functools import lru_cache

from fastapi import Request, Response

DEVICE_COOKIE = "allin_device"
DEVICE_COOKIE_PATH = "/api/auth/login"
_LABEL = b"allin/login-device/v1:"
_MAX_AGE = 400 * 24 * 3600  # the longest lifetime browsers keep (RFC 6265bis)


@lru_cache(maxsize=8)
def _key(secret: str) -> bytes:
    return hashlib.sha256(_LABEL + secret.encode()).digest()


def _signature(secret: str, account: str, device: str) -> str:
    message = f"{account}\n{device}".encode()
    return hmac.new(_key(secret), message, hashlib.sha256).hexdigest()


def known_device(request: Request, secret: str, account: str) -> str | None:
    """The device id when this browser signed in to `account` before (signature checked)."""
    value = request.cookies.get(DEVICE_COOKIE, "")
    device, _, signature = value.partition(".")
    if not device or not signature or not value.isascii():
        return None
    expected = _signature(secret, account, device)
    return device if hmac.compare_digest(expected.encode(), signature.encode()) else None


def remember_device(response: Response, secret: str, account: str, *, secure: bool) -> None:
    device = secrets.token_urlsafe(16)
    response.set_cookie(
        DEVICE_COOKIE,
        f"{device}.{_signature(secret, account, device)}",
        max_age=_MAX_AGE,
        path=DEVICE_COOKIE_PATH,
        httponly=True,
        secure=secure,
        samesite="strict",
    )
