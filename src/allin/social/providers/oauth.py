"""OAuth pieces the providers share: PKCE (RFC 7636, S256), consent URLs, and turning a token
endpoint's answer (RFC 6749 §5.1) into a `TokenSet`."""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Mapping
from datetime import timedelta
from typing import Any
from urllib.parse import quote, urlencode

from allin.core.clock import utcnow
from allin.social.providers.base import TokenSet

_TOKEN_FIELDS = ("access_token", "refresh_token")


def new_code_verifier() -> str:
    """43-128 characters from the unreserved set (RFC 7636 §4.1); 64 random bytes -> 86."""
    return secrets.token_urlsafe(64)


def code_challenge(verifier: str) -> str:
    """BASE64URL(SHA256(verifier)) without padding (RFC 7636 §4.2, S256)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def consent_url(base: str, params: Mapping[str, str]) -> str:
    """Spaces as %20, not '+': X and LinkedIn split `scope` on spaces."""
    return f"{base}?{urlencode(params, quote_via=quote)}"


def _seconds(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return int(value)
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def token_set(
    body: Mapping[str, Any],
    *,
    scope_separator: str | None = " ",
    fallback_scopes: frozenset[str] = frozenset(),
) -> TokenSet:
    """A token endpoint's JSON as a `TokenSet`; `raw` keeps the other fields (never the tokens)."""
    now = utcnow()
    expires_in = _seconds(body.get("expires_in"))
    refresh_in = _seconds(body.get("refresh_token_expires_in"))
    scope = body.get("scope")
    scopes = fallback_scopes
    if isinstance(scope, str) and scope:
        parts = scope.replace(",", " ").split(scope_separator) if scope_separator else [scope]
        scopes = frozenset(p.strip() for p in parts if p.strip())
    refresh = body.get("refresh_token")
    return TokenSet(
        access_token=str(body["access_token"]),
        refresh_token=str(refresh) if refresh else None,
        expires_at=now + timedelta(seconds=expires_in) if expires_in else None,
        refresh_expires_at=now + timedelta(seconds=refresh_in) if refresh_in else None,
        scopes=scopes,
        raw={k: v for k, v in body.items() if k not in _TOKEN_FIELDS},
    )
