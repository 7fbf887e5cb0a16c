"""HTTP endpoints: /api/auth/*, /api/user/profile, /api/admin/users."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Cookie, Depends, Query, Request, Response, status
from sqlalchemy import func, select

from allin.auth import api_keys as keys
from allin.auth.deps import (
    AdminUser,
    AuthServiceDep,
    CurrentPrincipal,
    CurrentUser,
    KeyManagerPrincipal,
    SessionPrincipal,
    SessionStoreDep,
    owned_or_404,
)
from allin.auth.devices import known_device, remember_device
from allin.auth.email import public_url
from allin.auth.errors import (
    InvalidCredentialsError,
    InvalidTokenError,
    OriginNotAllowedError,
    SelfLockoutError,
)
from allin.auth.models import ApiKey, Role, User, UserStatus
from allin.auth.schemas import (
    AdminCreateUserRequest,
    AdminUpdateUserRequest,
    ApiKeyCreatedOut,
    ApiKeyOut,
    ApiKeySummary,
    AuthInfo,
    ChangePasswordRequest,
    CreateApiKeyRequest,
    EmailRequest,
    LoginRequest,
    MessageOut,
    ProfileOut,
    RefreshRequest,
    RegisterOut,
    RegisterRequest,
    ResetPasswordRequest,
    RevokedOut,
    SessionOut,
    SetupRequest,
    SetupStatusOut,
    TokenRequest,
    TokensOut,
    UpdateMeRequest,
    UserOut,
)
from allin.auth.service import TokenPair, normalise_email
from allin.core.clientip import client_ip as core_client_ip
from allin.core.clock import utcnow
from allin.core.config import Settings
from allin.core.deps import DbSession, SettingsDep
from allin.core.errors import BadRequestError, NotFoundError
from allin.core.ratelimit import RateLimiterDep
from allin.core.schemas import Envelope, ErrorEnvelope, PageMeta, ok

auth_router = APIRouter(prefix="/api/auth", tags=["auth"])
profile_router = APIRouter(prefix="/api/user", tags=["auth"])
admin_router = APIRouter(prefix="/api/admin/users", tags=["admin"])

REFRESH_COOKIE = "allin_refresh"
_COOKIE_PATH = "/api/auth"
_EMAIL_SENT = "If the address belongs to an account that needs it, we have sent an email."
RefreshCookie = Annotated[str | None, Cookie(alias=REFRESH_COOKIE, include_in_schema=False)]


def client_ip(request: Request) -> str:
    return core_client_ip(request.scope)


def _user_agent(request: Request) -> str | None:
    return request.headers.get("user-agent")


def _tokens(settings: Settings, pair: TokenPair, response: Response) -> TokensOut:
    now = utcnow()
    refresh = pair.refresh
    if settings.refresh_cookie:
        response.set_cookie(
            REFRESH_COOKIE,
            refresh.refresh_token,
            max_age=max(1, int((refresh.expires_at - now).total_seconds())),
            path=_COOKIE_PATH,
            httponly=True,
            secure=public_url(settings).startswith("https://"),
            samesite="strict",
        )
    return TokensOut(
        access_token=pair.access_token,
        expires_in=int((pair.access_expires_at - now).total_seconds()),
        expires_at=pair.access_expires_at,
        refresh_token=refresh.refresh_token,
        refresh_expires_in=int((refresh.expires_at - now).total_seconds()),
        refresh_expires_at=refresh.expires_at,
        session_id=refresh.session.id,
        user=UserOut.model_validate(pair.user),
    )


# --- sign-up and email links ----------------------------------------------------


@auth_router.post("/register", status_code=status.HTTP_201_CREATED)
async def register(
    body: RegisterRequest,
    request: Request,
    service: AuthServiceDep,
    settings: SettingsDep,
    limiter: RateLimiterDep,
) -> Envelope[RegisterOut]:
    await limiter.enforce("auth.register:ip", client_ip(request), settings.rate_limit_register_ip)
    user = await service.register(body.email, body.password, body.display_name)
    return ok(
        RegisterOut(
            user=UserOut.model_validate(user),
            verification_required=True,
            message="Account created: follow the link we emailed you to activate it.",
        )
    )


@auth_router.post("/verify-email")
async def verify_email(body: TokenRequest, service: AuthServiceDep) -> Envelope[UserOut]:
    return ok(UserOut.model_validate(await service.verify_email(body.token)))


async def _limit_email_action(
    limiter: RateLimiterDep, settings: Settings, scope: str, ip: str, email: str
) -> None:
    await limiter.enforce(f"{scope}:ip", ip, settings.rate_limit_email_ip)
    await limiter.enforce(
        f"{scope}:account", normalise_email(email), settings.rate_limit_email_account
    )


@auth_router.post("/resend-verification", status_code=status.HTTP_202_ACCEPTED)
async def resend_verification(
    body: EmailRequest,
    request: Request,
    service: AuthServiceDep,
    settings: SettingsDep,
    limiter: RateLimiterDep,
) -> Envelope[MessageOut]:
    await _limit_email_action(limiter, settings, "auth.resend", client_ip(request), body.email)
    await service.resend_verification(body.email)
    return ok(MessageOut(message=_EMAIL_SENT))


@auth_router.post("/forgot-password", status_code=status.HTTP_202_ACCEPTED)
async def forgot_password(
    body: EmailRequest,
    request: Request,
    service: AuthServiceDep,
    settings: SettingsDep,
    limiter: RateLimiterDep,
) -> Envelope[MessageOut]:
    await _limit_email_action(limiter, settings, "auth.forgot", client_ip(request), body.email)
    await service.forgot_password(body.email)
    return ok(MessageOut(message=_EMAIL_SENT))


@auth_router.post("/reset-password")
async def reset_password(
    body: ResetPasswordRequest, service: AuthServiceDep
) -> Envelope[MessageOut]:
    await service.reset_password(body.token, body.new_password)
    return ok(MessageOut(message="Password changed; every session was signed out. Sign in again."))


# --- sessions ---------------------------------------------------------------------


@auth_router.post("/login")
async def login(
    body: LoginRequest,
    request: Request,
    response: Response,
    service: AuthServiceDep,
    settings: SettingsDep,
    limiter: RateLimiterDep,
) -> Envelope[TokensOut]:
    await limiter.enforce("auth.login:ip", client_ip(request), settings.rate_limit_login_ip)
    # Per account, only failures count (OWASP), keyed by the address as typed, so the
    # answer is the same whether or not the account exists. A device that signed in to
    # this account before counts apart, so strangers' failures cannot lock the owner out.
    account, account_limit = normalise_email(body.email), settings.rate_limit_login_account
    secret = settings.resolved_secret_key().get_secret_value()
    device = known_device(request, secret, account)
    scope, key = (
        ("auth.login:device", f"{account}\n{device}") if device else ("auth.login:account", account)
    )
    (await limiter.test(scope, key, account_limit)).raise_if_limited(
        "Too many failed sign-ins for this account, try again later"
    )
    try:
        pair = await service.login(
            body.email, body.password, user_agent=_user_agent(request), ip=client_ip(request)
        )
    except InvalidCredentialsError:
        await limiter.hit(scope, key, account_limit)
        raise
    await limiter.reset(scope, key, account_limit)
    remember_device(response, secret, account, secure=request.url.scheme == "https")
    return ok(_tokens(settings, pair, response))


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def checked_origin(request: Request, settings: SettingsDep) -> None:
    """Browsers name the page that sent a request in `Origin`; the refresh cookie rides
    along with it, so only this site and the configured origins may refresh or sign out
    (a request without the header is not from a browser page, and carries no cookie risk)."""
    origin = request.headers.get("origin")
    if origin is None:
        return
    allowed = {
        _origin_of(str(request.base_url)),
        _origin_of(public_url(settings)),
        *(o.rstrip("/").lower() for o in settings.cors_origins),
    }
    if origin.rstrip("/").lower() not in allowed:
        raise OriginNotAllowedError()


@auth_router.post(
    "/refresh",
    dependencies=[Depends(checked_origin)],
    responses={403: {"model": ErrorEnvelope, "description": "Origin not allowed"}},
)
async def refresh(
    response: Response,
    service: AuthServiceDep,
    settings: SettingsDep,
    cookie: RefreshCookie = None,
    body: RefreshRequest | None = None,
) -> Envelope[TokensOut]:
    token = (body.refresh_token if body else None) or cookie
    if not token:
        raise InvalidTokenError("Refresh token missing")
    return ok(_tokens(settings, await service.refresh(token), response))


@auth_router.post(
    "/logout",
    dependencies=[Depends(checked_origin)],
    responses={403: {"model": ErrorEnvelope, "description": "Origin not allowed"}},
)
async def logout(
    principal: CurrentPrincipal, response: Response, service: AuthServiceDep
) -> Envelope[MessageOut]:
    if principal.session_id is not None:
        await service.logout(principal.session_id)
    response.delete_cookie(REFRESH_COOKIE, path=_COOKIE_PATH)
    return ok(MessageOut(message="Signed out"))


@auth_router.get("/sessions")
async def list_sessions(
    principal: SessionPrincipal, store: SessionStoreDep
) -> Envelope[list[SessionOut]]:
    sessions = await store.list_active(principal.user.id)
    return ok(
        [
            SessionOut(
                id=s.id,
                user_agent=s.user_agent,
                ip=s.ip,
                created_at=s.created_at,
                last_used_at=s.last_used_at,
                expires_at=s.expires_at,
                current=s.id == principal.session_id,
            )
            for s in sessions
        ]
    )


@auth_router.delete("/sessions")
async def revoke_sessions(
    principal: SessionPrincipal,
    store: SessionStoreDep,
    include_current: Annotated[bool, Query(description="Also sign out this session")] = False,
) -> Envelope[RevokedOut]:
    keep = None if include_current else principal.session_id
    count = await store.revoke_all(principal.user.id, reason="user_revoked", keep=keep)
    return ok(RevokedOut(revoked=count))


@auth_router.delete("/sessions/{session_id}")
async def revoke_session(
    session_id: uuid.UUID, principal: SessionPrincipal, store: SessionStoreDep
) -> Envelope[RevokedOut]:
    session = await store.get(session_id)
    if session is None or session.user_id != principal.user.id:
        raise NotFoundError("Session not found")
    return ok(RevokedOut(revoked=int(await store.revoke(session_id, reason="user_revoked"))))


# --- the signed-in account --------------------------------------------------------


@auth_router.get("/me")
async def me(user: CurrentUser) -> Envelope[UserOut]:
    return ok(UserOut.model_validate(user))


@auth_router.patch("/me")
async def update_me(body: UpdateMeRequest, user: CurrentUser) -> Envelope[UserOut]:
    if body.display_name is not None:
        user.display_name = body.display_name
    return ok(UserOut.model_validate(user))


@auth_router.post("/change-password")
async def change_password(
    body: ChangePasswordRequest, principal: SessionPrincipal, service: AuthServiceDep
) -> Envelope[RevokedOut]:
    revoked = await service.change_password(
        principal.user, body.current_password, body.new_password, keep_session=principal.session_id
    )
    return ok(RevokedOut(revoked=revoked))


# --- API keys ---------------------------------------------------------------------


def _key_out(key: ApiKey) -> ApiKeyOut:
    return ApiKeyOut(
        id=key.id,
        name=key.name,
        prefix=key.prefix,
        scopes=sorted(key.scopes or ()),
        status=keys.key_status(key),
        created_at=key.created_at,
        expires_at=key.expires_at,
        last_used_at=key.last_used_at,
        revoked_at=key.revoked_at,
    )


@auth_router.post("/api-keys", status_code=status.HTTP_201_CREATED)
async def create_api_key(
    body: CreateApiKeyRequest, principal: KeyManagerPrincipal, db: DbSession
) -> Envelope[ApiKeyCreatedOut]:
    if body.expires_at is not None and body.expires_in_days is not None:
        raise BadRequestError("Give expires_at or expires_in_days, not both")
    expires = body.expires_at
    if body.expires_in_days is not None:
        expires = utcnow() + timedelta(days=body.expires_in_days)
    if expires is not None and (expires.tzinfo is None or expires <= utcnow()):
        raise BadRequestError("expires_at must be a future time with a timezone")
    key, raw = await keys.create_api_key(
        db, principal.user, body.name, expires, scopes=[scope.value for scope in body.scopes]
    )
    return ok(ApiKeyCreatedOut(**_key_out(key).model_dump(), key=raw))


@auth_router.get("/api-keys")
async def list_api_keys(user: CurrentUser, db: DbSession) -> Envelope[list[ApiKeyOut]]:
    return ok([_key_out(key) for key in await keys.list_api_keys(db, user)])


@auth_router.delete("/api-keys/{key_id}")
async def revoke_api_key(
    key_id: uuid.UUID, principal: KeyManagerPrincipal, db: DbSession
) -> Envelope[ApiKeyOut]:
    key = await owned_or_404(db, ApiKey, key_id, principal.user)
    if key.revoked_at is None:
        key.revoked_at = utcnow()
    return ok(_key_out(key))


@profile_router.get("/profile")
async def profile(principal: CurrentPrincipal, db: DbSession) -> Envelope[ProfileOut]:
    """Check API key status: the caller, how it authenticated, its keys."""
    all_keys = await keys.list_api_keys(db, principal.user)
    active = sum(1 for key in all_keys if keys.key_status(key) == "active")
    used = _key_out(principal.api_key) if principal.api_key is not None else None
    return ok(
        ProfileOut(
            user=UserOut.model_validate(principal.user),
            auth=AuthInfo(method=principal.method, api_key=used),
            api_keys=ApiKeySummary(total=len(all_keys), active=active),
        )
    )


# --- first run --------------------------------------------------------------------


@auth_router.get("/setup")
async def setup_status(service: AuthServiceDep, settings: SettingsDep) -> Envelope[SetupStatusOut]:
    return ok(
        SetupStatusOut(
            needs_setup=await service.needs_setup(), email_backend=settings.email_backend
        )
    )


@auth_router.post("/setup", status_code=status.HTTP_201_CREATED)
async def setup(
    body: SetupRequest,
    request: Request,
    service: AuthServiceDep,
    settings: SettingsDep,
    limiter: RateLimiterDep,
) -> Envelope[RegisterOut]:
    await limiter.enforce("auth.register:ip", client_ip(request), settings.rate_limit_register_ip)
    user = await service.setup(body.email, body.password, body.display_name)
    pending = user.status == UserStatus.PENDING_VERIFICATION
    message = (
        "Administrator created: follow the link we emailed you to activate it."
        if pending
        else "Administrator created: sign in."
    )
    return ok(
        RegisterOut(
            user=UserOut.model_validate(user), verification_required=pending, message=message
        )
    )


# --- admin ------------------------------------------------------------------------


async def _user_or_404(db: DbSession, user_id: uuid.UUID) -> User:
    user = await db.get(User, user_id)
    if user is None:
        raise NotFoundError("User not found")
    return user


@admin_router.get("")
async def admin_list_users(
    _: AdminUser,
    db: DbSession,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    status_filter: Annotated[UserStatus | None, Query(alias="status")] = None,
    q: Annotated[str | None, Query(max_length=254, description="email contains")] = None,
) -> Envelope[list[UserOut]]:
    query = select(User)
    if status_filter is not None:
        query = query.where(User.status == status_filter)
    if q:
        query = query.where(User.email.contains(q.lower(), autoescape=True))
    total = await db.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await db.scalars(
        query.order_by(User.created_at, User.email).offset((page - 1) * limit).limit(limit)
    )
    return ok(
        [UserOut.model_validate(u) for u in rows], PageMeta(page=page, limit=limit, total=total)
    )


@admin_router.post("", status_code=status.HTTP_201_CREATED)
async def admin_create_user(
    body: AdminCreateUserRequest, _: AdminUser, service: AuthServiceDep
) -> Envelope[UserOut]:
    user = await service.create_user(
        body.email, body.password, body.display_name, role=body.role, active=body.active
    )
    return ok(UserOut.model_validate(user))


@admin_router.get("/{user_id}")
async def admin_get_user(user_id: uuid.UUID, _: AdminUser, db: DbSession) -> Envelope[UserOut]:
    return ok(UserOut.model_validate(await _user_or_404(db, user_id)))


@admin_router.patch("/{user_id}")
async def admin_update_user(
    user_id: uuid.UUID,
    body: AdminUpdateUserRequest,
    admin: AdminUser,
    db: DbSession,
    service: AuthServiceDep,
) -> Envelope[UserOut]:
    user = await _user_or_404(db, user_id)
    if user.id == admin.id and (
        (body.role is not None and body.role != Role.ADMIN)
        or (body.status is not None and body.status != UserStatus.ACTIVE)
    ):
        raise SelfLockoutError()
    if body.display_name is not None:
        user.display_name = body.display_name
    if body.role is not None:
        user.role = body.role
    if body.plan is not None:
        user.plan = body.plan
    if body.status is not None and body.status != user.status:
        await service.set_status(user, body.status)
    return ok(UserOut.model_validate(user))


@admin_router.post("/{user_id}/suspend")
async def admin_suspend_user(
    user_id: uuid.UUID, admin: AdminUser, db: DbSession, service: AuthServiceDep
) -> Envelope[UserOut]:
    user = await _user_or_404(db, user_id)
    if user.id == admin.id:
        raise SelfLockoutError()
    await service.set_status(user, UserStatus.SUSPENDED)
    return ok(UserOut.model_validate(user))


@admin_router.post("/{user_id}/activate")
async def admin_activate_user(
    user_id: uuid.UUID, _: AdminUser, db: DbSession, service: AuthServiceDep
) -> Envelope[UserOut]:
    user = await _user_or_404(db, user_id)
    await service.set_status(user, UserStatus.ACTIVE)
    return ok(UserOut.model_validate(user))
