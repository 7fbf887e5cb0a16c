"""Login Kit v2: the authorize page, /v2/oauth/token/ (three grants) and /v2/oauth/revoke/."""

from __future__ import annotations

import hashlib
import hmac
import html
import secrets
from collections.abc import Mapping
from urllib.parse import urlencode, urlsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from allin.core.clock import clock
from allin.simulator.open_api.responses import apply_fault, oauth_error, world_of
from allin.simulator.open_api.state import AccessToken, Grant, World

_LOOPBACK = ("localhost", "127.0.0.1")


def redirect_uri_allowed(registered: list[str], uri: str) -> bool:
    """Exact match, or a desktop pattern with a wildcard port (`http://127.0.0.1:*/cb/`)."""
    for pattern in registered:
        if pattern == uri:
            return True
        if ":*" in pattern:
            want, got = urlsplit(pattern.replace(":*", ":1")), urlsplit(uri)
            if (
                got.hostname in _LOOPBACK
                and want.hostname == got.hostname
                and want.scheme == got.scheme
                and want.path == got.path
                and got.port is not None
                and not got.query
            ):
                return True
    return False


def _redirect(uri: str, **params: str) -> RedirectResponse:
    return RedirectResponse(f"{uri}?{urlencode(params)}", status_code=302)


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(
        f"<!doctype html><html><head><title>{html.escape(title)}</title></head>"
        f"<body><h1>{html.escape(title)}</h1>{body}</body></html>",
        status,
    )


async def authorize(request: Request) -> Response:
    world = world_of(request)
    await apply_fault(world, "authorize")
    q = request.query_params
    config = world.config
    if q.get("client_key") != config.client_key:
        # Unknown client: TikTok shows an error page and never redirects anywhere.
        return _page("client_key", "<p>Something went wrong: invalid client_key.</p>", 400)
    redirect_uri = q.get("redirect_uri", "")
    if not redirect_uri_allowed(config.redirect_uris, redirect_uri):
        return _page("redirect_uri", "<p>redirect_uri is not registered.</p>", 400)
    state = q.get("state", "")
    problem = _authorize_problem(world, q.get("response_type"), q, redirect_uri)
    if problem is not None:
        return _redirect(redirect_uri, error=problem[0], error_description=problem[1], state=state)
    requested = tuple(s for s in q.get("scope", "").split(",") if s)
    if config.auto_consent:
        return _consent(world, redirect_uri, state, requested, q.get("code_challenge"))
    return _consent_page(q, requested)


def _authorize_problem(
    world: World, response_type: str | None, params: Mapping[str, str], redirect_uri: str
) -> tuple[str, str] | None:
    if response_type != "code":
        return "unsupported_response_type", "response_type must be code"
    scopes = [s for s in params.get("scope", "").split(",") if s]
    if not scopes:
        return "invalid_request", "scope is required"
    if " " in params.get("scope", ""):
        return "invalid_scope", "scopes are comma-separated"
    unapproved = [s for s in scopes if s not in world.config.approved_scopes]
    if unapproved:
        return "invalid_scope", f"scope not approved: {','.join(unapproved)}"
    challenge = params.get("code_challenge")
    if challenge is not None and params.get("code_challenge_method") != "S256":
        return "invalid_request", "code_challenge_method must be S256"
    if challenge is None and urlsplit(redirect_uri).hostname in _LOOPBACK:
        return "invalid_request", "PKCE is required for desktop redirect URIs"
    return None


def _consent(
    world: World,
    redirect_uri: str,
    state: str,
    requested: tuple[str, ...],
    challenge: str | None,
    granted: tuple[str, ...] | None = None,
) -> Response:
    if world.deny_consent:
        return _redirect(
            redirect_uri,
            error="access_denied",
            error_description="The user denied the request",
            state=state,
        )
    scopes = granted if granted is not None else requested
    if "user.info.basic" in requested and "user.info.basic" not in scopes:
        scopes = ("user.info.basic", *scopes)  # not toggleable
    code = world.new_code(world.current_user, scopes, redirect_uri, challenge)
    return _redirect(redirect_uri, code=code, scopes=",".join(scopes), state=state)


def _consent_page(params: Mapping[str, str], requested: tuple[str, ...]) -> HTMLResponse:
    hidden = "".join(
        f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
        for k, v in params.items()
    )
    boxes = "".join(
        f'<label><input type="checkbox" name="grant" value="{html.escape(s)}" checked>'
        f"{html.escape(s)}</label><br>"
        for s in requested
    )
    form = (
        f'<form method="post" action="/v2/auth/authorize/consent/">{hidden}{boxes}'
        '<button name="decision" value="allow">Authorize</button>'
        '<button name="decision" value="deny">Cancel</button></form>'
    )
    return _page("Authorize app", form)


async def consent(request: Request) -> Response:
    world = world_of(request)
    form = await request.form()
    redirect_uri = str(form.get("redirect_uri", ""))
    if not redirect_uri_allowed(world.config.redirect_uris, redirect_uri):
        return _page("redirect_uri", "<p>redirect_uri is not registered.</p>", 400)
    state = str(form.get("state", ""))
    requested = tuple(s for s in str(form.get("scope", "")).split(",") if s)
    if form.get("decision") != "allow":
        return _redirect(
            redirect_uri, error="access_denied", error_description="User cancelled", state=state
        )
    granted = tuple(str(s) for s in form.getlist("grant") if str(s) in requested)
    challenge = form.get("code_challenge")
    return _consent(
        world, redirect_uri, state, requested, str(challenge) if challenge else None, granted
    )


async def token(request: Request) -> Response:
    world = world_of(request)
    await apply_fault(world, "token")
    if "application/x-www-form-urlencoded" not in request.headers.get("content-type", ""):
        return oauth_error(world, "invalid_request", "Content-Type must be form-urlencoded")
    form = {k: str(v) for k, v in (await request.form()).items()}
    if not form.get("client_key"):
        return oauth_error(world, "invalid_request", "Client key is missed in request.")
    if not form.get("client_secret"):
        return oauth_error(world, "invalid_request", "Client secret is missed in request.")
    if form["client_key"] != world.config.client_key or not hmac.compare_digest(
        form["client_secret"], world.config.client_secret
    ):
        return oauth_error(world, "invalid_client", "Client key or secret is invalid.")
    grant_type = form.get("grant_type")
    if grant_type == "authorization_code":
        return _code_grant(world, form)
    if grant_type == "refresh_token":
        return _refresh_grant(world, form)
    if grant_type == "client_credentials":
        return JSONResponse(world.client_token())
    return oauth_error(world, "unsupported_grant_type", "grant_type is not supported.")


def _code_grant(world: World, form: dict[str, str]) -> Response:
    code = world.codes.get(form.get("code", ""))
    if code is None:
        return oauth_error(world, "invalid_grant", "Authorization code is invalid.")
    if code.used:
        return oauth_error(world, "invalid_grant", "Authorization code has been used.")
    if clock.monotonic() >= code.expires:
        return oauth_error(world, "invalid_grant", "Authorization code is expired.")
    if form.get("redirect_uri") != code.redirect_uri:
        return oauth_error(
            world,
            "invalid_request",
            "Redirect_uri is not matched with the uri when requesting code.",
        )
    if code.challenge is not None:
        verifier = form.get("code_verifier", "")
        expected = hashlib.sha256(verifier.encode()).hexdigest()
        if not 43 <= len(verifier) <= 128 or not hmac.compare_digest(expected, code.challenge):
            return oauth_error(
                world, "invalid_request", "Code verifier or code challenge is invalid."
            )
    code.used = True
    return JSONResponse(world.issue(Grant(code.open_id, code.scopes)))


def _refresh_grant(world: World, form: dict[str, str]) -> Response:
    current = world.refresh.get(form.get("refresh_token", ""))
    if current is None or current.dead or current.grant.revoked:
        return oauth_error(world, "invalid_grant", "Refresh token is invalid.")
    if clock.monotonic() >= current.expires:
        return oauth_error(world, "invalid_grant", "Refresh token is expired.")
    if world.config.token_profile.always_rotate:
        current.dead = True  # the old one stops working once a new one is issued
        return JSONResponse(world.issue(current.grant))
    access = "act." + secrets.token_urlsafe(32)
    world.access[access] = AccessToken(
        access, current.grant, clock.monotonic() + world.config.token_profile.access_ttl
    )
    return JSONResponse(world.token_body(access, current.token, current.grant))


async def revoke(request: Request) -> Response:
    world = world_of(request)
    await apply_fault(world, "revoke")
    form = {k: str(v) for k, v in (await request.form()).items()}
    if (
        form.get("client_key") != world.config.client_key
        or form.get("client_secret") != world.config.client_secret
    ):
        return oauth_error(world, "invalid_client", "Client key or secret is invalid.")
    access = world.access.get(form.get("token", ""))
    if access is None or access.grant is None:
        return oauth_error(world, "invalid_request", "The token is invalid.")
    if not access.grant.revoked:
        world.remove_authorization(access.grant.open_id, reason=5)
    return JSONResponse({})
