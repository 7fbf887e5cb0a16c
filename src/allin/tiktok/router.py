"""HTTP routes (seed 003 paths), each a thin call into `TikTokService`.

Every `/{account}` route loads the account for its owner or answers 404 (`owned`), so one user
never learns of another's accounts or publishes. `{account}` only matches a UUID, so the static
paths beside it (`/connect`, `/webhook`, ...) never share a path with `DELETE /{account}`.
The callback and the webhook are public: the one-time OAuth state names the user, and TikTok's
signature authenticates the webhook.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlencode, urlsplit

import anyio
from fastapi import APIRouter, Depends, File, Form, Query, Request, Response, UploadFile, status
from fastapi import Path as PathParam
from fastapi.responses import JSONResponse, RedirectResponse
from sqlalchemy import select

from allin.auth.deps import AdminUser, CurrentUser, owned
from allin.auth.models import User
from allin.core import oauth_binding
from allin.core.config import Settings
from allin.core.deps import DbSession, SettingsDep
from allin.core.domain import provided
from allin.core.errors import AppError, ConflictError, NotFoundError, ValidationError
from allin.core.logging import Category, get_logger
from allin.core.schemas import Envelope, ErrorEnvelope, ok
from allin.social.models import SocialAccount
from allin.tiktok.errors import TikTokError
from allin.tiktok.models import (
    USER_BASIC_FIELDS,
    USER_PROFILE_FIELDS,
    USER_STATS_FIELDS,
    PrivacyLevel,
    UserInfo,
    VideoPage,
    VideoPostInfo,
)
from allin.tiktok.schemas import (
    AccountOut,
    AnalyticsOut,
    BreakerOut,
    BreakersOut,
    ConnectOut,
    DisconnectedOut,
    PublishOut,
    PublishStatusOut,
    RedirectUriOut,
    TikTokStatusOut,
    WebhookAckOut,
)
from allin.tiktok.service import TikTokService
from allin.tiktok.stores import IS_TIKTOK, legacy_status
from allin.tiktok.webhooks import SIGNATURE_HEADER

log = get_logger(Category.TIKTOK)
PREFIX = "/api/integrations/tiktok"
router = APIRouter(prefix=PREFIX, tags=["tiktok"])
admin_router = APIRouter(prefix="/api/admin/tiktok", tags=["admin"])

_UPSTREAM: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorEnvelope, "description": description}
    for code, description in (
        (502, "TikTok failed or answered something unusable"),
        (503, "TikTok unavailable (circuit breaker open); see Retry-After"),
        (504, "TikTok did not answer in time"),
    )
}
_USER_FIELDS = frozenset((*USER_BASIC_FIELDS, *USER_PROFILE_FIELDS, *USER_STATS_FIELDS)) | {
    "avatar_url_100",
    "avatar_large_url",
    "profile_web_link",
}
_COPY_CHUNK = 1 << 20


class TikTokNotConfiguredError(ConflictError):
    code = "TIKTOK_NOT_CONFIGURED"
    default_message = "The TikTok integration is not configured on this server."


ServiceDep = Annotated[TikTokService, provided(TikTokService)]


async def _tiktok_account(
    row: Annotated[SocialAccount, Depends(owned(SocialAccount, "account"))],
) -> SocialAccount:
    if row.platform != "tiktok":
        raise NotFoundError("TikTok account not found")
    return row


AccountDep = Annotated[SocialAccount, Depends(_tiktok_account)]


def account_out(row: SocialAccount) -> AccountOut:
    """The TikTok routes' account shape (kept for existing integrations)."""
    return AccountOut(
        id=row.id,
        open_id=row.platform_user_id,
        display_name=row.display_name,
        avatar_url=row.avatar_url,
        scopes=list(row.scopes or ()),
        status=legacy_status(row),
        connected_at=row.connected_at,
        access_expires_at=row.token_expires_at,
        refresh_expires_at=row.refresh_expires_at,
    )


# --- connecting an account ---


CALLBACK_PATH = f"{PREFIX}/callback"


@router.get(
    "/connect",
    summary="Start connecting a TikTok account (OAuth with PKCE)",
    description=(
        "Also sets an HttpOnly cookie binding the flow to this browser (RFC 9700 §4.7): "
        "a callback finished in another browser asks for confirmation instead of linking."
    ),
)
async def connect(
    request: Request, response: Response, user: CurrentUser, service: ServiceDep
) -> Envelope[ConnectOut]:
    if not service.client.config.configured:
        raise TikTokNotConfiguredError()
    binding = oauth_binding.issue_binding(
        response,
        cookie_path=CALLBACK_PATH,
        secure=oauth_binding.is_https(request),
        max_age=int(service.state_ttl),
    )
    url = await service.start_connect(str(user.id), binding=binding)
    return ok(ConnectOut(authorization_url=url, expires_in=int(service.state_ttl)))


@router.get(
    "/callback",
    summary="TikTok's redirect after consent (public: the one-time state names the user)",
    responses={
        **_UPSTREAM,
        303: {"description": "To the return URL, when one is configured"},
        200: {
            "description": "The account, or a confirmation page (text/html) when another "
            "browser than the one that called /connect comes back",
            "content": {"text/html": {}},
        },
    },
    response_model=Envelope[AccountOut] | Envelope[RedirectUriOut],
)
async def callback(
    request: Request,
    service: ServiceDep,
    settings: SettingsDep,
    db: DbSession,
    code: str | None = None,
    state: str | None = None,
    scopes: str | None = None,
    error: str | None = None,
    error_description: str | None = None,
) -> Any:
    if code is None and state is None and error is None:
        return ok(
            RedirectUriOut(
                redirect_uri=service.client.config.redirect_uri,
                configured=service.client.config.configured,
            )
        )
    query = {key: value for key, value in request.query_params.items()}
    pending = await service.pending(state or "")
    if (
        pending is not None
        and error is None
        and not oauth_binding.binding_matches(request, pending.binding)
    ):
        return await _confirmation(request, service, db, pending.user_id, query)
    return await _finish(request, service, settings, db, query)


async def _finish(
    request: Request,
    service: TikTokService,
    settings: Settings,
    db: DbSession,
    query: dict[str, str],
) -> Any:
    try:
        connection = await service.complete_callback(query)
    except (TikTokError, AppError) as failure:
        if not settings.tiktok_connect_return_url:
            raise
        return _done(request, _back_to_app(settings, tiktok="error", code=_code_of(failure)))
    if settings.tiktok_connect_return_url:
        return _done(
            request, _back_to_app(settings, tiktok="connected", account=connection.account_id)
        )
    row = await db.get(SocialAccount, uuid.UUID(connection.account_id))
    if row is None:  # disconnected in the instant since
        raise NotFoundError("TikTok account not found")
    return _done(request, JSONResponse(ok(account_out(row)).model_dump(mode="json")))


def _done(request: Request, response: Response) -> Response:
    """The flow is over: the binding cookie has served its purpose."""
    oauth_binding.clear_binding(
        response, cookie_path=CALLBACK_PATH, secure=oauth_binding.is_https(request)
    )
    response.headers.update(oauth_binding.NO_STORE)
    return response


async def _confirmation(
    request: Request,
    service: TikTokService,
    db: DbSession,
    owner: str,
    query: dict[str, str],
) -> Response:
    """Another browser finished this flow: name the AllIN account and ask, never link silently."""
    user = await db.get(User, uuid.UUID(owner))
    state = query.get("state", "")
    fields = {
        "state": state,
        "code": query.get("code", ""),
        "scopes": query.get("scopes", ""),
        oauth_binding.CONFIRM_FIELD: oauth_binding.confirm_token(_confirm_key(service), state),
    }
    log.warning("tiktok callback from another browser: asking for confirmation")
    return oauth_binding.confirmation_page(
        platform="TikTok",
        allin_account=user.email if user is not None else "an unknown account",
        confirm_url=f"{CALLBACK_PATH}/confirm",
        cancel_url=f"{CALLBACK_PATH}/cancel",
        fields=fields,
    )


def _confirm_key(service: TikTokService) -> bytes:
    return service.client.config.pkce_secret


def _checked_confirmation(service: TikTokService, state: str, token: str) -> None:
    if not oauth_binding.confirm_token_matches(_confirm_key(service), state, token):
        raise ValidationError("Invalid confirmation token", code="OAUTH_CONFIRMATION_INVALID")


_CONFIRM_RESPONSES: dict[int | str, dict[str, Any]] = {
    **_UPSTREAM,
    303: {"description": "To the return URL, when one is configured"},
    422: {"model": ErrorEnvelope, "description": "Bad or stale confirmation token"},
}


@router.post(
    "/callback/confirm",
    summary="Link the account after the confirmation page (a callback from another browser)",
    responses=_CONFIRM_RESPONSES,
    response_model=Envelope[AccountOut],
)
async def confirm_callback(
    request: Request,
    service: ServiceDep,
    settings: SettingsDep,
    db: DbSession,
    state: Annotated[str, Form(max_length=128)],
    code: Annotated[str, Form(max_length=2048)],
    confirm_token: Annotated[str, Form(max_length=128)],
    scopes: Annotated[str, Form(max_length=2048)] = "",
) -> Any:
    _checked_confirmation(service, state, confirm_token)
    query = {"state": state, "code": code, "scopes": scopes}
    return await _finish(request, service, settings, db, query)


@router.post(
    "/callback/cancel",
    summary="Refuse the link offered by the confirmation page; the state is discarded",
    responses={
        **_CONFIRM_RESPONSES,
        200: {"description": "A page saying nothing was linked", "content": {"text/html": {}}},
    },
    response_model=None,
)
async def cancel_callback(
    request: Request,
    service: ServiceDep,
    settings: SettingsDep,
    state: Annotated[str, Form(max_length=128)],
    confirm_token: Annotated[str, Form(max_length=128)],
    code: Annotated[str, Form(max_length=2048)] = "",
    scopes: Annotated[str, Form(max_length=2048)] = "",
) -> Response:
    _checked_confirmation(service, state, confirm_token)
    await service.states.pop(state)
    if settings.tiktok_connect_return_url:
        return _done(request, _back_to_app(settings, tiktok="cancelled"))
    page = oauth_binding.outcome_page(
        title="Connection cancelled", message="Nothing was linked. You can close this page."
    )
    return _done(request, page)


def _code_of(failure: TikTokError | AppError) -> str:
    return failure.code


def _back_to_app(settings: Settings, **params: str) -> RedirectResponse:
    url = settings.tiktok_connect_return_url
    separator = "&" if urlsplit(url).query else "?"
    return RedirectResponse(url + separator + urlencode(params), status_code=303)


@router.get("/accounts", summary="The caller's connected TikTok accounts")
async def list_accounts(user: CurrentUser, db: DbSession) -> Envelope[list[AccountOut]]:
    rows = await db.scalars(
        select(SocialAccount)
        .where(SocialAccount.owner_id == user.id, IS_TIKTOK)
        .order_by(SocialAccount.connected_at)
    )
    return ok([account_out(row) for row in rows])


@router.delete("/{account:uuid}", summary="Disconnect: revoke at TikTok and forget the account")
async def disconnect(
    account: uuid.UUID, row: AccountDep, service: ServiceDep
) -> Envelope[DisconnectedOut]:
    revoked = await service.disconnect(str(row.id))
    return ok(DisconnectedOut(id=account, revoked=revoked))


# --- reading ---


@router.get("/{account:uuid}/me", summary="The TikTok profile (Display API)", responses=_UPSTREAM)
async def me(
    account: uuid.UUID,
    row: AccountDep,
    service: ServiceDep,
    fields: Annotated[
        str | None, Query(max_length=500, description="Comma list of user fields")
    ] = None,
) -> Envelope[UserInfo]:
    wanted = None
    if fields:
        wanted = [part.strip() for part in fields.split(",") if part.strip()]
        unknown = sorted(set(wanted) - _USER_FIELDS)
        if unknown or not wanted:
            raise ValidationError(
                "Unknown user fields", details={"unknown": unknown, "allowed": sorted(_USER_FIELDS)}
            )
    return ok(await service.me(str(row.id), wanted))


@router.get("/{account:uuid}/videos", summary="The account's public videos", responses=_UPSTREAM)
async def videos(
    account: uuid.UUID,
    row: AccountDep,
    service: ServiceDep,
    cursor: Annotated[int | None, Query(ge=0, description="From the previous page")] = None,
    max_count: Annotated[int, Query(ge=1, le=20)] = 20,
) -> Envelope[VideoPage]:
    return ok(await service.videos(str(row.id), cursor=cursor, max_count=max_count))


@router.get(
    "/{account:uuid}/analytics",
    summary="Views, likes, comments, shares, engagement rate, and daily history",
    responses=_UPSTREAM,
)
async def analytics(
    account: uuid.UUID,
    row: AccountDep,
    service: ServiceDep,
    fresh: Annotated[bool, Query(description="Skip the 5-minute cache")] = False,
    days: Annotated[int, Query(ge=1, le=366, description="History length")] = 30,
) -> Envelope[AnalyticsOut]:
    snapshot = await service.analytics(str(row.id), fresh=fresh)
    history = await service.analytics_history(str(row.id), days)
    return ok(AnalyticsOut.of(snapshot, history))


# --- publishing ---


@router.post(
    "/{account:uuid}/publish",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Publish a video: an uploaded file (FILE_UPLOAD) or a URL TikTok pulls",
    description=(
        "`mode=direct` posts with the chosen `privacy_level` (required: TikTok forbids a "
        "default); `mode=inbox` sends a draft to the TikTok app. Answers once TikTok has the "
        "video; follow `GET .../publish/{publish_id}` (or the webhooks) until it is final."
    ),
    responses=_UPSTREAM,
)
async def publish(
    account: uuid.UUID,
    row: AccountDep,
    service: ServiceDep,
    settings: SettingsDep,
    file: Annotated[UploadFile | None, File(description="The video")] = None,
    video_url: Annotated[str | None, Form(max_length=2048)] = None,
    mode: Annotated[Literal["direct", "inbox"], Form()] = "direct",
    privacy_level: Annotated[PrivacyLevel | None, Form()] = None,
    title: Annotated[str | None, Form(max_length=2200)] = None,
    disable_comment: Annotated[bool, Form()] = False,
    disable_duet: Annotated[bool, Form()] = False,
    disable_stitch: Annotated[bool, Form()] = False,
    video_cover_timestamp_ms: Annotated[int | None, Form(ge=0)] = None,
    brand_content_toggle: Annotated[bool, Form()] = False,
    brand_organic_toggle: Annotated[bool, Form()] = False,
    is_aigc: Annotated[bool | None, Form()] = None,
) -> Envelope[PublishOut]:
    if (file is None) == (video_url is None):
        raise ValidationError("Send exactly one of `file` or `video_url`")
    post_info = None
    if mode == "direct":
        if privacy_level is None:
            raise ValidationError("A direct post needs `privacy_level` (no default, per TikTok)")
        post_info = VideoPostInfo(
            privacy_level=privacy_level,
            title=title,
            disable_comment=disable_comment,
            disable_duet=disable_duet,
            disable_stitch=disable_stitch,
            video_cover_timestamp_ms=video_cover_timestamp_ms,
            brand_content_toggle=brand_content_toggle,
            brand_organic_toggle=brand_organic_toggle,
            is_aigc=is_aigc,
        )
    if file is not None:
        path = await _receive(file, upload_dir(settings))
        record = await service.publish_upload(str(row.id), path, post_info)
    else:
        assert video_url is not None
        record = await service.publish_url(str(row.id), _checked_url(video_url), post_info)
    return ok(PublishOut.of(record))


def upload_dir(settings: Settings) -> Path:
    return settings.data_dir / "tiktok-uploads"


async def _receive(file: UploadFile, directory: Path) -> Path:
    """Copy the upload where a resumed publish finds it again after a restart."""
    await anyio.Path(directory).mkdir(parents=True, exist_ok=True)
    suffix = Path(file.filename or "").suffix.lower()
    suffix = suffix if re.fullmatch(r"\.[a-z0-9]{1,5}", suffix) else ".video"
    path = directory / f"{uuid.uuid4().hex}{suffix}"
    async with await anyio.open_file(path, "wb") as out:
        while block := await file.read(_COPY_CHUNK):
            await out.write(block)
    await file.close()
    return path


def _checked_url(value: str) -> str:
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError("`video_url` must be an http(s) URL on a domain TikTok verified")
    return value.strip()


@router.get(
    "/{account:uuid}/publish/{publish_id}",
    summary="A publish's state: our journal and TikTok's live status",
    responses=_UPSTREAM,
)
async def publish_status(
    account: uuid.UUID,
    publish_id: Annotated[str, PathParam(max_length=128, description="Ours or TikTok's id")],
    row: AccountDep,
    service: ServiceDep,
) -> Envelope[PublishStatusOut]:
    record = await service.find_publish(str(row.id), publish_id)
    if record is None:
        raise NotFoundError("Publish not found")
    record, live = await service.publish_status(str(row.id), record.id)
    return ok(
        PublishStatusOut(
            publish=PublishOut.of(record), tiktok=TikTokStatusOut.of(live) if live else None
        )
    )


# --- webhooks ---


@router.post(
    "/webhook",
    summary="TikTok's webhook (public; TikTok-Signature verified, duplicates ignored)",
)
async def webhook(request: Request, service: ServiceDep) -> Envelope[WebhookAckOut]:
    body = await request.body()
    outcome = await service.handle_webhook(request.headers.get(SIGNATURE_HEADER), body)
    return ok(WebhookAckOut(received=True, duplicate=outcome.duplicate, event=outcome.event.event))


# --- admin: the circuit breaker ---


def _breakers(service: TikTokService) -> BreakersOut:
    return BreakersOut(
        api=BreakerOut.of(service.client.breaker),
        upload=BreakerOut.of(service.client.upload_breaker),
    )


@admin_router.get("/circuit-breaker", summary="This worker's TikTok circuit breakers")
async def breaker_stats(_: AdminUser, service: ServiceDep) -> Envelope[BreakersOut]:
    return ok(_breakers(service))


@admin_router.post("/circuit-breaker/reset", summary="Close the TikTok circuit breakers now")
async def breaker_reset(_: AdminUser, service: ServiceDep) -> Envelope[BreakersOut]:
    service.client.reset_circuit_breaker()
    return ok(_breakers(service))
