"""Binding an OAuth flow to the browser that started it (RFC 9700 §4.7, RFC 6749 §10.12).

`state` alone says which AllIN user asked for a connection, so anybody who sends a victim
their own authorization link would receive the victim's platform account. The connect route
therefore also drops a random nonce in an HttpOnly cookie scoped to the callback path and
stores only its digest beside the state. At the callback:

- the cookie matches: the browser that started the flow finished it; link silently;
- it does not (another browser, cookies cleared): never link silently; show a page naming
  the AllIN account the platform account would join, with Confirm (a POST carrying a
  single-use token) and Cancel.

Storage stays with each platform's state store; this module only makes and checks values.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import secrets

from fastapi import Request, Response
from fastapi.responses import HTMLResponse

BINDING_COOKIE = "allin_oauth_binding"
CONFIRM_FIELD = "confirm_token"
_NONCE_BYTES = 32
_CONFIRM_LABEL = b"allin/oauth-confirm/v1:"
_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem}"
    ".warn{background:#fff4e5;border:1px solid #f0b060;padding:1rem;border-radius:.5rem}"
    "button{font-size:1rem;padding:.5rem 1rem;margin-right:.5rem}form{display:inline}"
)
_STYLE_HASH = base64.b64encode(hashlib.sha256(_STYLE.encode()).digest()).decode()
# Nothing loads from elsewhere; the one inline style block is allowed by its hash.
PAGE_CSP = (
    f"default-src 'self'; style-src 'sha256-{_STYLE_HASH}'; script-src 'none'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def issue_binding(response: Response, *, cookie_path: str, secure: bool, max_age: int = 600) -> str:
    """Set the binding cookie on `response`; the nonce's digest goes with the OAuth state.

    SameSite=Lax: the platform's redirect back is a top-level GET navigation, which carries
    Lax cookies, while cross-site subrequests do not.
    """
    nonce = secrets.token_urlsafe(_NONCE_BYTES)
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


def is_https(request: Request) -> bool:
    return request.url.scheme == "https"


def binding_matches(request: Request, stored_digest: str | None) -> bool:
    """True when this browser holds the nonce whose digest was stored (constant time)."""
    nonce = request.cookies.get(BINDING_COOKIE)
    if not nonce or not stored_digest:
        return False
    return hmac.compare_digest(digest(nonce).encode(), stored_digest.encode())


def clear_binding(response: Response, *, cookie_path: str, secure: bool) -> None:
    response.delete_cookie(
        BINDING_COOKIE, path=cookie_path, secure=secure, httponly=True, samesite="lax"
    )


def confirm_token(key: bytes, state: str) -> str:
    """The token the confirmation form posts back: only this server can make it for a state,
    and it is single-use because confirming consumes the state it is derived from."""
    return hmac.new(key, _CONFIRM_LABEL + state.encode(), hashlib.sha256).hexdigest()


def confirm_token_matches(key: bytes, state: str, token: str) -> bool:
    # Bytes: compare_digest refuses non-ASCII str, and the token comes from a form.
    return hmac.compare_digest(confirm_token(key, state).encode(), token.encode())


def confirmation_page(
    *,
    platform: str,
    allin_account: str,
    confirm_url: str,
    cancel_url: str,
    fields: dict[str, str] | None = None,
) -> HTMLResponse:
    """A self-contained page (no outside assets) asking before linking; both buttons POST.

    `fields` are hidden inputs both forms carry (the state, the code, the confirm token).
    """
    hidden = "".join(
        f'<input type="hidden" name="{html.escape(name)}" value="{html.escape(value)}">'
        for name, value in (fields or {}).items()
    )
    who = html.escape(allin_account)
    where = html.escape(platform)
    body = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Confirm {where} connection - AllIN</title>
<style>{_STYLE}</style>
</head><body>
<h1>Connect this {where} account?</h1>
<p class="warn">This connection was started in another browser. Your {where} account will be
linked to the AllIN account <strong id="allin-account">{who}</strong>, which will be able to
read it and publish to it.</p>
<p>If that is not your AllIN account, or you did not start this, choose Cancel.</p>
<form method="post" action="{html.escape(confirm_url)}">{hidden}
<button type="submit" id="confirm">Confirm</button></form>
<form method="post" action="{html.escape(cancel_url)}">{hidden}
<button type="submit" id="cancel">Cancel</button></form>
</body></html>
"""
    headers = {
        **NO_STORE,
        "Content-Security-Policy": PAGE_CSP,
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "no-referrer",
    }
    return HTMLResponse(body, headers=headers)


def outcome_page(*, title: str, message: str, status_code: int = 200) -> HTMLResponse:
    """A plain page closing the flow (cancelled, expired) when no return URL is configured."""
    body = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)} - AllIN</title></head><body>"
        f"<h1>{html.escape(title)}</h1><p>{html.escape(message)}</p></body></html>"
    )
    headers = {**NO_STORE, "Content-Security-Policy": PAGE_CSP, "X-Content-Type-Options": "nosniff"}
    return HTMLResponse(body, status_code=status_code, headers=headers)
