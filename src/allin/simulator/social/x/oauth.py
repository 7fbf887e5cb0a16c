"""X's OAuth 2.0 Authorization Code Flow with PKCE: the consent screen (x.com/i/oauth2/authorize,
also api.x.com/2/oauth2/authorize as the OpenAPI spec names it), /2/oauth2/token (code and
refresh grants, refresh tokens rotate) and /2/oauth2/revoke."""

from __future__ import annotations

import base64
import binascii
import hmac

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from allin.simulator.social.common import (
    SimFailure,
    consent_choice,
    pkce_matches,
    redirect,
    redirect_uri_allowed,
)
from allin.simulator.social.x.config import ALL_SCOPES
from allin.simulator.social.x.responses import problem, state_of
from allin.simulator.social.x.state import Grant, XState


def _error_page(message: str) -> HTMLResponse:
    # X shows its own error page and never redirects to an unregistered callback.
    return HTMLResponse(f"<!doctype html><title>X</title><p>{message}</p>", 400)


async def authorize(request: Request) -> Response:
    state = state_of(request)
    q = request.query_params
    if q.get("client_id") != state.config.client_id:
        return _error_page("Something went wrong. You weren't able to give access to the App.")
    redirect_uri = q.get("redirect_uri", "")
    if not redirect_uri_allowed(state.config.redirect_uris, redirect_uri):
        return _error_page("Something went wrong. You weren't able to give access to the App.")
    oauth_state = q.get("state", "")
    scopes = tuple(s for s in q.get("scope", "").split(" ") if s)
    method = q.get("code_challenge_method", "")
    challenge = q.get("code_challenge", "")
    if (
        q.get("response_type") != "code"
        or not scopes
        or not set(scopes) <= ALL_SCOPES
        or not oauth_state
        or len(oauth_state) > 500
        or not challenge
        or method not in ("S256", "plain")
    ):
        return redirect(redirect_uri, error="invalid_request", state=oauth_state)
    choice = consent_choice(request, state.deny_consent)
    if not choice.approve:
        return redirect(redirect_uri, error="access_denied", state=oauth_state)
    user = state.find_user(choice.user)
    code = state.codes.issue(
        user.id, scopes, redirect_uri, state.config.code_ttl, challenge, method
    )
    return redirect(redirect_uri, state=oauth_state, code=code)


def _oauth_error(status: int, error: str, description: str) -> SimFailure:
    return SimFailure(status, {"error": error, "error_description": description})


def _client_auth(state: XState, request: Request, form: dict[str, str]) -> None:
    """Confidential clients send HTTP Basic; public clients send client_id in the body."""
    config = state.config
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if config.client_secret is None:
        if form.get("client_id") != config.client_id:
            raise _oauth_error(400, "invalid_request", "Missing required parameter [client_id].")
        return
    missing = _oauth_error(401, "unauthorized_client", "Missing valid authorization header")
    if scheme.lower() != "basic":
        raise missing
    try:
        user, _, secret = base64.b64decode(value, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise missing from None
    if user != config.client_id or not hmac.compare_digest(secret, config.client_secret):
        raise missing


async def token(request: Request) -> Response:
    state = state_of(request)
    fault = await state.faults.before("oauth.token")
    if fault is not None and fault.kind == "error":
        raise SimFailure(
            fault.status, problem(state, fault.status, "Service Unavailable", "Service Unavailable")
        )
    if "application/x-www-form-urlencoded" not in request.headers.get("content-type", ""):
        raise _oauth_error(400, "invalid_request", "Missing required parameter [grant_type].")
    form = {k: str(v) for k, v in (await request.form()).items()}
    _client_auth(state, request, form)
    grant_type = form.get("grant_type")
    if grant_type == "authorization_code":
        return JSONResponse(_code_grant(state, form))
    if grant_type == "refresh_token":
        return JSONResponse(_refresh_grant(state, form))
    if grant_type is None:
        raise _oauth_error(400, "invalid_request", "Missing required parameter [grant_type].")
    raise _oauth_error(400, "unsupported_grant_type", "Grant type is not supported.")


def _code_grant(state: XState, form: dict[str, str]) -> dict[str, object]:
    for name in ("code", "redirect_uri", "code_verifier"):
        if not form.get(name):
            raise _oauth_error(400, "invalid_request", f"Missing required parameter [{name}].")
    code = state.codes.redeem(form["code"])
    invalid = _oauth_error(
        400, "invalid_request", "Value passed for the authorization code was invalid."
    )
    if code is None or code.redirect_uri != form["redirect_uri"]:
        raise invalid
    if code.challenge is None or not pkce_matches(
        form["code_verifier"], code.challenge, code.challenge_method
    ):
        raise invalid
    return state.issue(Grant(code.user_id, code.scopes))


def _refresh_grant(state: XState, form: dict[str, str]) -> dict[str, object]:
    current = state.refresh.get(form.get("refresh_token", ""))
    invalid = _oauth_error(400, "invalid_request", "Value passed for the token was invalid.")
    if current is None or current.grant.revoked or state.now() >= current.expires_at:
        raise invalid
    if current.spent:
        # Reuse of a rotated-out refresh token looks like theft: the family may be revoked.
        if state.config.revoke_family_on_reuse:
            current.grant.revoked = True
        raise invalid
    current.spent = True  # rotation: the new refresh token replaces this one
    return state.issue(current.grant)


async def revoke(request: Request) -> Response:
    state = state_of(request)
    form = {k: str(v) for k, v in (await request.form()).items()}
    _client_auth(state, request, form)
    value = form.get("token", "")
    found = state.access.get(value) or state.refresh.get(value)
    if found is not None:
        found.grant.revoked = True  # the access token and its refresh token both stop working
    return JSONResponse({"revoked": True})
