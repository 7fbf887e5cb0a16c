"""LinkedIn's 3-legged OAuth 2.0 (www.linkedin.com/oauth/v2): the consent screen, the token
endpoint (client credentials in the body), programmatic refresh for partner apps (the refresh
token does not rotate and its lifetime keeps counting down), token introspection and revoke;
plus the OpenID Connect userinfo endpoint."""

from __future__ import annotations

import hmac
from typing import Any

import jwt
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from allin.simulator.social.common import (
    SimFailure,
    consent_choice,
    mint,
    pkce_matches,
    redirect,
    redirect_uri_allowed,
)
from allin.simulator.social.linkedin.config import ALL_SCOPES
from allin.simulator.social.linkedin.responses import access_denied, authenticate, state_of
from allin.simulator.social.linkedin.state import Grant, LinkedInState, Token


async def authorize(request: Request) -> Response:
    state = state_of(request)
    q = request.query_params
    redirect_uri = q.get("redirect_uri", "")
    if q.get("client_id") != state.config.client_id or not redirect_uri_allowed(
        state.config.redirect_uris, redirect_uri
    ):
        return HTMLResponse(
            "<!doctype html><title>LinkedIn</title><p>The redirect_uri does not "
            "match the registered value</p>",
            400,
        )
    oauth_state = q.get("state", "")
    scopes = tuple(s for s in q.get("scope", "").replace(",", " ").split(" ") if s)
    if q.get("response_type") != "code":
        return redirect(
            redirect_uri,
            error="invalid_request",
            error_description="response_type must be code",
            state=oauth_state,
        )
    unknown = [s for s in scopes if s not in ALL_SCOPES]
    if not scopes or unknown:
        return redirect(
            redirect_uri,
            error="unauthorized_scope_error",
            error_description=f'Scope "{",".join(unknown)}" is not authorized for your application',
            state=oauth_state,
        )
    choice = consent_choice(request, state.deny_consent)
    if not choice.approve:
        return redirect(
            redirect_uri,
            error="user_cancelled_authorize",
            error_description="The user cancelled the authorization",
            state=oauth_state,
        )
    member = state.find_member(choice.user)
    code = state.codes.issue(
        member.sub,
        scopes,
        redirect_uri,
        state.config.code_ttl,
        q.get("code_challenge"),
        q.get("code_challenge_method", "S256"),
    )
    return redirect(redirect_uri, code=code, state=oauth_state)


def _oauth_error(status: int, error: str, description: str) -> SimFailure:
    return SimFailure(status, {"error": error, "error_description": description})


async def _client_form(state: LinkedInState, request: Request) -> dict[str, str]:
    form = {k: str(v) for k, v in (await request.form()).items()}
    for name in ("client_id", "client_secret"):
        if not form.get(name):
            raise _oauth_error(400, "invalid_request", f'A required parameter "{name}" is missing')
    if form["client_id"] != state.config.client_id or not hmac.compare_digest(
        form["client_secret"], state.config.client_secret
    ):
        raise _oauth_error(401, "invalid_client", "Client authentication failed")
    return form


def _id_token(state: LinkedInState, grant: Grant) -> str:
    """OpenID Connect ID token. LinkedIn signs RS256 with keys from its JWKS; the simulator
    signs HS256 with the client secret (OIDC Core §10.1), so clients can still verify it."""
    member = state.members[grant.member]
    now = int(state.now())
    claims: dict[str, Any] = {
        "iss": "https://www.linkedin.com/oauth",
        "aud": state.config.client_id,
        "sub": member.sub,
        "iat": now,
        "exp": now + 3600,
        "name": f"{member.given_name} {member.family_name}",
        "given_name": member.given_name,
        "family_name": member.family_name,
        "picture": f"https://media.licdn.com/dms/image/{member.sub}/profile.jpg",
        "locale": member.locale,
    }
    if "email" in grant.scopes:
        claims |= {"email": member.email, "email_verified": True}
    return jwt.encode(claims, state.config.client_secret, algorithm="HS256")


def _token_body(state: LinkedInState, access: Token, refresh: Token | None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "access_token": access.value,
        "expires_in": state.config.access_ttl,
        "scope": ",".join(sorted(access.grant.scopes)),
        "token_type": "Bearer",
    }
    if refresh is not None:
        body["refresh_token"] = refresh.value
        body["refresh_token_expires_in"] = max(0, round(refresh.expires_at - state.now()))
    if "openid" in access.grant.scopes:
        body["id_token"] = _id_token(state, access.grant)
    return body


async def access_token(request: Request) -> Response:
    state = state_of(request)
    fault = await state.faults.before("oauth.token")
    if fault is not None and fault.kind == "error":
        raise _oauth_error(fault.status, "server_error", "Internal server error")
    form = await _client_form(state, request)
    grant_type = form.get("grant_type")
    if grant_type == "authorization_code":
        return JSONResponse(_code_grant(state, form))
    if grant_type == "refresh_token":
        return JSONResponse(_refresh_grant(state, form))
    raise _oauth_error(400, "unsupported_grant_type", "grant_type is not supported")


def _code_grant(state: LinkedInState, form: dict[str, str]) -> dict[str, Any]:
    mismatch = _oauth_error(
        400,
        "invalid_request",
        "Unable to retrieve access token: appid/redirect uri/code "
        "verifier does not match authorization code. Or authorization code expired. Or "
        "external member binding exists",
    )
    code = state.codes.redeem(form.get("code", ""))
    if code is None or code.redirect_uri != form.get("redirect_uri"):
        raise mismatch
    if code.challenge is not None and not pkce_matches(
        form.get("code_verifier", ""), code.challenge, code.challenge_method
    ):
        raise mismatch
    now = state.now()
    grant = Grant(code.user_id, code.scopes, now, now + state.config.refresh_ttl)
    access = state.issue_access(grant)
    refresh = None
    if state.config.partner:
        refresh = Token(mint("AQ", 96), grant, now, grant.refresh_expires_at)
        state.refresh[refresh.value] = refresh
    return _token_body(state, access, refresh)


def _refresh_grant(state: LinkedInState, form: dict[str, str]) -> dict[str, Any]:
    refresh = state.refresh.get(form.get("refresh_token", ""))
    if (
        refresh is None
        or refresh.grant.revoked
        or state.now() >= refresh.expires_at
        or not state.config.partner
    ):
        raise _oauth_error(
            400,
            "invalid_request",
            "The provided authorization grant or refresh token is invalid, expired or revoked.",
        )
    # No rotation: the same refresh token comes back with what is left of its lifetime.
    return _token_body(state, state.issue_access(refresh.grant), refresh)


async def introspect(request: Request) -> Response:
    state = state_of(request)
    form = await _client_form(state, request)
    token = state.access.get(form.get("token", "")) or state.refresh.get(form.get("token", ""))
    if token is None:
        return JSONResponse({"active": False})
    status = "active"
    if token.grant.revoked:
        status = "revoked"
    elif state.now() >= token.expires_at:
        status = "expired"
    return JSONResponse(
        {
            "active": status == "active",
            "client_id": state.config.client_id,
            "authorized_at": int(token.grant.authorized_at),
            "created_at": int(token.created_at),
            "status": status,
            "expires_at": int(token.expires_at),
            "scope": ",".join(sorted(token.grant.scopes)),
            "auth_type": "3L",
        }
    )


async def revoke(request: Request) -> Response:
    state = state_of(request)
    form = await _client_form(state, request)
    token = state.access.get(form.get("token", "")) or state.refresh.get(form.get("token", ""))
    if token is not None:
        token.grant.revoked = True
    return Response(b"", 200)


async def userinfo(request: Request) -> Response:
    state = state_of(request)
    grant = authenticate(state, request)
    if not {"openid", "profile"} <= set(grant.scopes):
        raise access_denied("userinfo.GET.NO_VERSION")
    member = state.members[grant.member]
    body: dict[str, Any] = {
        "sub": member.sub,
        "name": f"{member.given_name} {member.family_name}",
        "given_name": member.given_name,
        "family_name": member.family_name,
        "picture": f"https://media.licdn.com/dms/image/{member.sub}/profile.jpg",
        "locale": {"country": member.locale[3:], "language": member.locale[:2]},
    }
    if "email" in grant.scopes:
        body |= {"email": member.email, "email_verified": True}
    return JSONResponse(body)


async def me(request: Request) -> Response:
    state = state_of(request)
    grant = authenticate(state, request)
    if "r_basicprofile" not in grant.scopes:
        raise access_denied("me.GET.NO_VERSION")
    member = state.members[grant.member]
    return JSONResponse(
        {
            "id": member.sub,
            "localizedFirstName": member.given_name,
            "localizedLastName": member.family_name,
        }
    )
