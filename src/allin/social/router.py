"""HTTP routes of the social accounts, each a thin call into `SocialAccountsService`.

Every `/accounts/{id}` route answers only the account's owner (others get 404, as if it did not
exist). The callback is public, as the platform's redirect is: the single-use state names the
user, and the binding cookie names the browser that started the connection.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Form, Query, Request, Response
from fastapi.responses import RedirectResponse

from allin.auth.deps import AdminUser, CurrentUser, OptionalUser
from allin.auth.models import User
from allin.core import oauth_binding
from allin.core.config import SOCIAL_CALLBACK_PATH, Settings, social_callback_path
from allin.core.deps import DbSession, SettingsDep
from allin.core.domain import provided
from allin.core.errors import AppError, ValidationError
from allin.core.schemas import Envelope, ok
from allin.core.units import parse_duration
from allin.social.errors import BrowserMismatchError, OAuthStateError
from allin.social.models import SocialAccount
from allin.social.providers.base import Platform
from allin.social.registry import parse_platform
from allin.social.schemas import (
    PLATFORM_NAMES,
    AccountOut,
    ConnectOut,
    DisconnectedOut,
    ProviderOut,
    RefreshFailureOut,
    RefreshReportOut,
)
from allin.social.service import Attempt, SocialAccountsService

PREFIX = "/api/social"
router = APIRouter(prefix=PREFIX, tags=["social"])
admin_router = APIRouter(prefix="/api/admin/social", tags=["admin"])

ServiceDep = Annotated[SocialAccountsService, provided(SocialAccountsService)]


CALLBACK = SOCIAL_CALLBACK_PATH.removeprefix(PREFIX)


def _callback_path(platform: Platform) -> str:
    return social_callback_path(platform.value)


def _secure(request: Request, settings: Settings) -> bool:
    return request.url.scheme == "https" or settings.effective_public_url().startswith("https:")


def _confirm_key(settings: Settings) -> bytes:
    secret = settings.resolved_secret_key().get_secret_value().encode()
    return hashlib.sha256(b"allin/social-oauth-confirm:" + secret).digest()


def _account_out(service: SocialAccountsService, row: SocialAccount) -> AccountOut:
    return AccountOut.of(row, can_refresh=service.can_refresh(row))


def _local_path(value: str | None) -> str | None:
    """Where to send the browser after the callback: a path on this server only, so the
    callback can never be used to redirect elsewhere."""
    if value is None:
        return None
    parts = urlsplit(value)
    if not value.startswith("/") or value.startswith("//") or "\\" in value or parts.netloc:
        raise ValidationError("return_to must be a path on this server, such as /accounts")
    return value


# --- platforms ---


@router.get("/providers", summary="Every platform: available, configured, scopes")
async def providers(user: CurrentUser, service: ServiceDep) -> Envelope[list[ProviderOut]]:
    registry = service.registry
    out = []
    for platform in Platform:
        config = registry.configs[platform]
        available, configured = registry.available(platform), registry.configured(platform)
        provider = registry.get(platform) if configured else None
        out.append(
            ProviderOut(
                platform=platform.value,
                name=PLATFORM_NAMES[platform.value],
                available=available,
                configured=configured,
                status="configured"
                if configured
                else ("not configured" if available else "not available"),
                scopes=list(config.scopes),
                uses_pkce=provider.uses_pkce if provider else None,
                can_refresh=provider.can_refresh if provider else None,
                redirect_uri=config.redirect_uri,
                connect_url=f"{PREFIX}/accounts/{platform.value}/connect",
            )
        )
    return ok(out)


# --- connecting ---


@router.get("/accounts/{platform}/connect", summary="Start connecting an account (OAuth)")
async def connect(
    platform: str,
    request: Request,
    response: Response,
    user: CurrentUser,
    service: ServiceDep,
    settings: SettingsDep,
    return_to: Annotated[
        str | None, Query(max_length=500, description="Path to return to afterwards")
    ] = None,
) -> Envelope[ConnectOut]:
    chosen = parse_platform(platform)
    service.registry.get(chosen)  # not available / not configured: the envelope error
    ttl = int(service.state_ttl.total_seconds())
    binding = oauth_binding.issue_binding(
        response,
        cookie_path=_callback_path(chosen),
        secure=_secure(request, settings),
        max_age=ttl,
    )
    url = await service.start_connect(
        user.id, chosen, binding_digest=binding, return_url=_local_path(return_to)
    )
    return ok(ConnectOut(platform=chosen.value, authorization_url=url, expires_in=ttl))


@router.get(
    CALLBACK,
    summary="The platform's redirect after consent (public: the state names the user)",
    response_model=Envelope[list[AccountOut]],
)
async def callback(
    platform: str,
    request: Request,
    service: ServiceDep,
    settings: SettingsDep,
    db: DbSession,
    user: OptionalUser,
    state: str | None = None,
    code: str | None = None,
    error: str | None = None,
    error_description: str | None = None,
) -> Any:
    chosen = parse_platform(platform)
    attempt = await service.peek_attempt(chosen, state)
    if user is not None and user.id != attempt.user_id:
        raise OAuthStateError()  # someone else's connection link
    if error or not code or oauth_binding.binding_matches(request, attempt.binding_digest):
        return await _finish(service, settings, attempt, code, error, error_description)
    owner = await db.get(User, attempt.user_id)
    base = _callback_path(chosen)
    return oauth_binding.confirmation_page(
        platform=PLATFORM_NAMES[chosen.value],
        allin_account=owner.email if owner is not None else str(attempt.user_id),
        confirm_url=f"{base}/confirm",
        cancel_url=f"{base}/cancel",
        fields={
            "state": attempt.state,
            "code": code,
            oauth_binding.CONFIRM_FIELD: oauth_binding.confirm_token(
                _confirm_key(settings), attempt.state
            ),
        },
    )


@router.post(
    f"{CALLBACK}/confirm",
    summary="Link the account after the person confirmed on the confirmation page",
    response_model=Envelope[list[AccountOut]],
)
async def confirm(
    platform: str,
    service: ServiceDep,
    settings: SettingsDep,
    state: Annotated[str, Form(max_length=500)],
    code: Annotated[str, Form(max_length=2000)],
    confirm_token: Annotated[str, Form(max_length=200)],
) -> Any:
    chosen = parse_platform(platform)
    if not oauth_binding.confirm_token_matches(_confirm_key(settings), state, confirm_token):
        raise BrowserMismatchError()
    attempt = await service.peek_attempt(chosen, state)
    return await _finish(service, settings, attempt, code, None, None)


@router.post(
    f"{CALLBACK}/cancel",
    summary="Drop a connection the person did not confirm",
)
async def cancel(
    platform: str,
    service: ServiceDep,
    state: Annotated[str, Form(max_length=500)],
) -> Any:
    attempt = await service.consume_attempt(parse_platform(platform), state)
    if attempt.return_url:
        return _back(attempt, social="cancelled")
    return ok({"cancelled": True})


async def _finish(
    service: SocialAccountsService,
    settings: Settings,
    attempt: Attempt,
    code: str | None,
    error: str | None,
    error_description: str | None,
) -> Any:
    try:
        attempt = await service.consume_attempt(attempt.platform, attempt.state)
        rows = await service.finish_connect(
            attempt, code=code, error=error, error_description=error_description
        )
    except AppError as failure:
        if attempt.return_url:
            return _back(attempt, social="error", code=failure.code)
        raise
    if attempt.return_url:
        return _back(attempt, social="connected", accounts=",".join(str(r.id) for r in rows))
    response = ok([_account_out(service, row) for row in rows])
    return response


def _back(attempt: Attempt, **params: str) -> RedirectResponse:
    url = attempt.return_url or "/"
    separator = "&" if urlsplit(url).query else "?"
    query = urlencode({"platform": attempt.platform.value, **params})
    redirect = RedirectResponse(url + separator + query, status_code=303)
    oauth_binding.clear_binding(
        redirect, cookie_path=_callback_path(attempt.platform), secure=False
    )
    return redirect


# --- accounts ---


@router.get("/accounts", summary="The caller's connected accounts, every platform")
async def list_accounts(user: CurrentUser, service: ServiceDep) -> Envelope[list[AccountOut]]:
    rows = await service.list_accounts(user.id)
    return ok([_account_out(service, row) for row in rows])


@router.get("/accounts/{account_id:uuid}", summary="One connected account")
async def get_account(
    account_id: uuid.UUID, user: CurrentUser, service: ServiceDep
) -> Envelope[AccountOut]:
    return ok(_account_out(service, await service.get_account(account_id, user.id)))


@router.delete(
    "/accounts/{account_id:uuid}", summary="Disconnect: revoke at the platform, then forget"
)
async def delete_account(
    account_id: uuid.UUID, user: CurrentUser, service: ServiceDep
) -> Envelope[DisconnectedOut]:
    await service.get_account(account_id, user.id)
    revoked = await service.disconnect(account_id)
    return ok(DisconnectedOut(id=account_id, revoked=revoked))


@router.put("/accounts/{account_id:uuid}/refresh", summary="Refresh the account's token now")
async def refresh_account(
    account_id: uuid.UUID, user: CurrentUser, service: ServiceDep
) -> Envelope[AccountOut]:
    await service.get_account(account_id, user.id)
    row = await service.refresh_account(account_id, force=True)
    return ok(_account_out(service, row))


@router.get(
    "/accounts/{account_id:uuid}/creator-info",
    summary="TikTok: the creator's nickname, privacy options, disabled interactions, max duration",
)
async def creator_info(
    account_id: uuid.UUID, user: CurrentUser, service: ServiceDep
) -> Envelope[dict[str, Any]]:
    await service.get_account(account_id, user.id)
    return ok(await service.creator_info(account_id))


# --- admin ---


@admin_router.post("/refresh", summary="Refresh every expired or soon expiring account")
async def refresh_all(
    admin: AdminUser,
    service: ServiceDep,
    expiring_within: Annotated[
        str, Query(max_length=32, description="e.g. 1d, 6h, 30m (default 1d)")
    ] = "1d",
) -> Envelope[RefreshReportOut]:
    try:
        within = parse_duration(expiring_within)
    except ValueError as exc:
        raise ValidationError(str(exc)) from None
    report = await service.refresh_expiring(within if within > timedelta(0) else timedelta(0))
    lifecycle = await service.remind_and_expire()
    return ok(
        RefreshReportOut(
            refreshed=report.refreshed,
            failed=[RefreshFailureOut(id=a, code=c, message=m) for a, c, m in report.failed],
            reminded=lifecycle.reminded,
            expired=lifecycle.expired,
        )
    )
