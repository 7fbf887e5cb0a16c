"""Login Kit v2, sans-I/O: the authorize URL, PKCE (hex S256, TikTok's variant), the callback.

TikTok deviates from generic OAuth: `client_key` not `client_id`, comma-separated scopes, and a
**hex** SHA-256 code challenge instead of RFC 7636's base64url.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable, Mapping
from urllib.parse import unquote, urlencode

from allin.tiktok.errors import TikTokError
from allin.tiktok.models import CallbackResult

AUTHORIZE_PATH = "/v2/auth/authorize/"
TOKEN_PATH = "/v2/oauth/token/"  # noqa: S105 - a URL path
REVOKE_PATH = "/v2/oauth/revoke/"
_PKCE_LABEL = b"allin/tiktok-pkce-verifier/v1:"


def new_state() -> str:
    """A one-time CSRF state: 32 random bytes as 64 hex characters."""
    return secrets.token_hex(32)


def code_verifier_for(state: str, secret: bytes) -> str:
    """The PKCE verifier bound to one state: 64 hex chars (within 43..128, unreserved set).

    Deriving it (HMAC keyed by the instance secret) instead of storing it means the stored
    state alone is enough to finish the flow, and it is new for every request as required.
    """
    return hmac.new(secret, _PKCE_LABEL + state.encode(), hashlib.sha256).hexdigest()


def code_challenge(verifier: str) -> str:
    """TikTok's S256: hex(SHA-256(verifier)), not base64url."""
    return hashlib.sha256(verifier.encode("ascii")).hexdigest()


def build_authorization_url(
    auth_url: str,
    *,
    client_key: str,
    scopes: Iterable[str],
    redirect_uri: str,
    state: str,
    challenge: str | None = None,
    disable_auto_auth: bool | None = None,
) -> str:
    params = {
        "client_key": client_key,
        "scope": ",".join(scopes),
        "redirect_uri": redirect_uri,
        "state": state,
        "response_type": "code",
    }
    if challenge is not None:
        params["code_challenge"] = challenge
        params["code_challenge_method"] = "S256"
    if disable_auto_auth is not None:
        params["disable_auto_auth"] = "1" if disable_auto_auth else "0"
    return auth_url.rstrip("/") + AUTHORIZE_PATH + "?" + urlencode(params)


def decode_code(code: str) -> str:
    """The token call needs the code URL-decoded (sample codes contain `*` and `!`)."""
    return unquote(code)


def parse_callback(query: Mapping[str, str], expected_state: str | None = None) -> CallbackResult:
    """Read the redirect's query: `code, scopes, state` or `error, error_description, state`."""
    state = query.get("state", "")
    matches = expected_state is None or hmac.compare_digest(state.encode(), expected_state.encode())
    if not matches:
        raise TikTokError("state_mismatch", "OAuth state does not match the one we issued")
    if "error" in query:
        code = query["error"] or "access_denied"
        description = query.get("error_description")
        raise TikTokError(code, f"{code}: {description}" if description else code)
    if not query.get("code"):
        raise TikTokError("invalid_request", "callback carries neither code nor error")
    return CallbackResult(code=query["code"], state=state, scopes=query.get("scopes", ""))
