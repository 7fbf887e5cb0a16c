"""Binding an OAuth flow to the browser that started it (RFC 9700 §4.7, RFC 6749 §10.12).

The state names the AllIN user who asked; a random nonce in an HttpOnly cookie scoped to the
callback path names the browser (only its digest is stored beside the state). When the callback
arrives without it, nothing is linked silently: a page names the AllIN account the platform
account would join and asks (Confirm posts a token only this server can make for that state).
"""

from __future__ import annotations

import hashlib
import hmac
import html
import secrets

from fastapi import Request, Response
from fastapi.responses import HTMLResponse

BINDING_COOKIE = "allin_oauth_binding"
CONFIRM_FIELD = "confirm_token"
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
_CONFIRM_LABEL = b"allin/oauth-confirm/v1:"
PAGE_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def issue_binding(response: Response, *, cookie_path: str, secure: bool, max_age: int = 600) -> str:
    """Sets the cookie; returns the digest to keep with the state. SameSite=Lax: the platform's
    redirect back is a top-level GET, which carries it."""
    nonce = secrets.token_urlsafe(32)
    response.set_cookie(
        BINDING_COOKIE,
        nonce,
        max_age=max_age,
        path=cookie_path,
        secure=secure,
        httponly=True,
        samesite="lax",
    )
    response.headers.update(NO_STORE)
    return digest(nonce)


def binding_matches(request: Request, stored_digest: str | None) -> bool:
    nonce = request.cookies.get(BINDING_COOKIE)
    if not nonce or not stored_digest:
        return False
    return hmac.compare_digest(digest(nonce), stored_digest)


def clear_binding(response: Response, *, cookie_path: str, secure: bool) -> None:
    response.delete_cookie(
        BINDING_COOKIE, path=cookie_path, secure=secure, httponly=True, samesite="lax"
    )


def confirm_token(key: bytes, state: str) -> str:
    """Single use because confirming consumes the state it is derived from."""
    return hmac.new(key, _CONFIRM_LABEL + state.encode(), hashlib.sha256).hexdigest()


def confirm_token_matches(key: bytes, state: str, token: str) -> bool:
    return hmac.compare_digest(confirm_token(key, state), token)


def confirmation_page(
    *,
    platform: str,
    allin_account: str,
    confirm_url: str,
    cancel_url: str,
    fields: dict[str, str] | None = None,
) -> HTMLResponse:
    """Asks before linking; both buttons POST the hidden `fields`."""
    hidden = "".join(
        f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
        for k, v in (fields or {}).items()
    )
    where, who = html.escape(platform), html.escape(allin_account)
    body = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>Confirm {where} connection - AllIN</title></head><body>"
        f"<h1>Connect this {where} account?</h1>"
        f"<p>This connection was started in another browser. Your {where} account will be "
        f'linked to the AllIN account <strong id="allin-account">{who}</strong>, which will be '
        "able to read it and publish to it. If that is not you, choose Cancel.</p>"
        f'<form method="post" action="{html.escape(confirm_url)}">{hidden}'
        '<button type="submit" id="confirm">Confirm</button></form>'
        f'<form method="post" action="{html.escape(cancel_url)}">{hidden}'
        '<button type="submit" id="cancel">Cancel</button></form></body></html>'
    )
    headers = {**NO_STORE, "Content-Security-Policy": PAGE_CSP, "X-Frame-Options": "DENY"}
    return HTMLResponse(body, headers=headers)
