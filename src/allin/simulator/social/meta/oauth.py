"""Facebook Login: the OAuth dialog, /oauth/access_token (code exchange, fb_exchange_token for a
60-day token, client_credentials), /debug_token, /me, /me/accounts (non-expiring Page tokens)
and DELETE /me/permissions."""

from __future__ import annotations

import hmac
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from allin.simulator.social.common import consent_choice, redirect, redirect_uri_allowed
from allin.simulator.social.meta.responses import Ctx, dead_token, graph_error, param_error
from allin.simulator.social.meta.state import MetaState, Token


def dialog(state: MetaState, request: Request, ctx: Ctx) -> Response:
    redirect_uri = ctx.text("redirect_uri")
    if ctx.text("client_id") != state.config.app_id or not redirect_uri_allowed(
        state.config.redirect_uris, redirect_uri
    ):
        return HTMLResponse(
            "<!doctype html><title>Facebook</title><p>URL Blocked: This "
            "redirect failed because the redirect URI is not whitelisted in "
            "the app's Client OAuth Settings.</p>",
            400,
        )
    oauth_state = ctx.text("state")
    choice = consent_choice(request, state.deny_consent)
    if not choice.approve:
        return redirect(
            redirect_uri,
            error="access_denied",
            error_code="200",
            error_description="Permissions error",
            error_reason="user_denied",
            state=oauth_state,
        )
    user = state.users.get(choice.user or "") or next(iter(state.users.values()))
    scopes = tuple(s for s in ctx.text("scope").replace(" ", ",").split(",") if s)
    code = state.codes.issue(user.id, scopes, redirect_uri, state.config.code_ttl)
    return redirect(redirect_uri, code=code, state=oauth_state)


def _client(state: MetaState, ctx: Ctx) -> None:
    if ctx.text("client_id") != state.config.app_id:
        raise graph_error(400, 101, "Error validating application. Invalid application ID.")
    if not hmac.compare_digest(ctx.text("client_secret"), state.config.app_secret):
        raise graph_error(400, 1, "Error validating client secret.")


def _token_body(token: Token, state: MetaState) -> dict[str, Any]:
    body: dict[str, Any] = {"access_token": token.value, "token_type": "bearer"}
    if token.expires_at:
        body["expires_in"] = round(token.expires_at - state.now())
    return body


def access_token(state: MetaState, ctx: Ctx) -> dict[str, Any]:
    _client(state, ctx)
    grant_type = ctx.text("grant_type")
    if grant_type == "fb_exchange_token":
        short = state.tokens.get(ctx.text("fb_exchange_token"))
        if short is None or short.kind != "USER":
            raise graph_error(400, 190, "Invalid OAuth access token - Cannot parse access token")
        if short.dead_subcode is not None or short.expired(state.now()):
            raise dead_token(state, short)  # an expired token cannot be exchanged
        long = state.mint_token("USER", short.user_id, short.scopes, state.config.long_token_ttl)
        return _token_body(long, state)
    if grant_type == "client_credentials":
        return {
            "access_token": f"{state.config.app_id}|{state.config.app_secret}",
            "token_type": "bearer",
        }
    if not ctx.text("code"):
        raise param_error("Missing authorization code")
    code = state.codes.redeem(ctx.text("code"))
    if code is None:
        raise param_error("This authorization code has been used.", 36009)
    if code.redirect_uri != ctx.text("redirect_uri"):
        raise param_error(
            "Error validating verification code. Please make sure your "
            "redirect_uri is identical to the one you used in the OAuth dialog "
            "request",
            36008,
        )
    token = state.mint_token("USER", code.user_id, code.scopes, state.config.short_token_ttl)
    return _token_body(token, state)


def debug_token(state: MetaState, ctx: Ctx) -> dict[str, Any]:
    inspector = ctx.text("access_token")
    if inspector != f"{state.config.app_id}|{state.config.app_secret}" and (
        inspector not in state.tokens
    ):
        raise graph_error(400, 190, "Invalid OAuth access token - Cannot parse access token")
    token = state.tokens.get(ctx.text("input_token"))
    if token is None:
        return {
            "data": {
                "error": {
                    "code": 190,
                    "message": "Invalid OAuth access token - Cannot parse access token",
                },
                "is_valid": False,
                "scopes": [],
            }
        }
    data: dict[str, Any] = {
        "app_id": state.config.app_id,
        "type": token.kind,
        "application": "AllIN",
        "data_access_expires_at": int(token.issued_at + state.config.data_access_ttl),
        "expires_at": int(token.expires_at),
        "is_valid": token.dead_subcode is None and not token.expired(state.now()),
        "issued_at": int(token.issued_at),
        "scopes": list(token.scopes),
        "granular_scopes": [{"scope": s} for s in token.scopes],
        "user_id": token.user_id,
    }
    if token.page_id is not None:
        data["profile_id"] = token.page_id
    if not data["is_valid"]:
        failure = dead_token(state, token).body or {}
        error = failure["error"]
        data["error"] = {
            "code": 190,
            "message": error["message"],
            "subcode": error.get("error_subcode"),
        }
    return {"data": data}


def me(state: MetaState, ctx: Ctx) -> dict[str, Any]:
    token = ctx.user
    if token.kind == "PAGE" and token.page_id is not None:
        page = state.pages[token.page_id]
        return {"id": page.id, "name": page.name}
    if token.kind != "USER":
        raise graph_error(
            400,
            2500,
            "An active access token must be used to query information about the current user.",
        )
    user = state.users[token.user_id]
    body = {"id": user.id, "name": user.name}
    return {k: v for k, v in body.items() if k in (ctx.fields() or {"id", "name"})}


def accounts(state: MetaState, ctx: Ctx) -> dict[str, Any]:
    token = ctx.user
    if token.kind != "USER":
        raise graph_error(
            400,
            2500,
            "An active access token must be used to query information about the current user.",
        )
    if "pages_show_list" not in token.scopes:
        return {"data": []}  # without the permission no Page is listed
    fields = ctx.fields() or {"access_token", "category", "name", "id", "tasks"}
    data = []
    for page_id in state.users[token.user_id].pages:
        page = state.pages[page_id]
        row: dict[str, Any] = {
            "access_token": state.page_token(token, page_id).value,
            "category": page.category,
            "name": page.name,
            "id": page.id,
            "tasks": ["ADVERTISE", "ANALYZE", "CREATE_CONTENT", "MESSAGING", "MODERATE", "MANAGE"],
        }
        if page.instagram_id is not None:
            row["instagram_business_account"] = {"id": page.instagram_id}
        data.append({k: v for k, v in row.items() if k in fields})
    paging = {"cursors": {"before": "QVFIUmxtX0", "after": "QVFIUmxtX0"}}
    return {"data": data, "paging": paging}


def delete_permissions(state: MetaState, ctx: Ctx) -> dict[str, Any]:
    """The user (through the app) removes the app: every token of theirs dies (190/458)."""
    if ctx.user.kind != "USER":
        raise graph_error(
            400,
            2500,
            "An active access token must be used to query information about the current user.",
        )
    state.invalidate_user(ctx.user.user_id, 458)
    return {"success": True}
