"""The authentication and authorization dependencies every router uses.

    from allin.auth.deps import AdminUser, CurrentUser, OptionalUser, owned_or_404

    @router.get("/api/posts/{post_id}")
    async def get_post(post_id: UUID, user: CurrentUser, db: DbSession) -> ...:
        post = await owned_or_404(db, Post, post_id, user)

Credentials: `Authorization: Bearer <JWT access token | API key>` or `x-api-key: <API key>`.
No credentials -> 401 UNAUTHORIZED; bad, expired or revoked ones -> 401 AUTH_004;
a suspended / unverified account -> 403 AUTH_003 / AUTH_002; not an admin -> 403 AUTH_011;
an API key without the route's scope -> 403 AUTH_015; an API key on session routes -> AUTH_014.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal, TypeVar

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import inspect, select
from sqlalchemy.ext.asyncio import AsyncSession

from allin.auth.api_keys import authenticate_api_key, looks_like_api_key
from allin.auth.errors import (
    AccountNotVerifiedError,
    AccountSuspendedError,
    AdminRequiredError,
    ApiKeyScopeError,
    ApiKeySessionRequiredError,
    InvalidTokenError,
    NotAuthenticatedError,
    SessionRequiredError,
)
from allin.auth.models import ApiKey, KeyScope, User, UserStatus
from allin.auth.runtime import auth_runtime
from allin.auth.service import AuthService
from allin.auth.sessions import SessionStore
from allin.auth.tokens import decode_access_token
from allin.core.clock import utcnow
from allin.core.deps import DbSession, SettingsDep
from allin.core.errors import AppError, NotFoundError

_bearer = HTTPBearer(auto_error=False, description="JWT access token or API key")
_api_key_header = APIKeyHeader(name="x-api-key", auto_error=False, description="API key")

M = TypeVar("M")


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling and how: a login session (JWT) or an API key."""

    user: User
    method: Literal["jwt", "api_key"]
    session_id: uuid.UUID | None = None
    api_key: ApiKey | None = None


def get_session_store(request: Request, db: DbSession) -> SessionStore:
    return auth_runtime(request.app).session_store(db)


SessionStoreDep = Annotated[SessionStore, Depends(get_session_store)]


def get_auth_service(
    request: Request, db: DbSession, settings: SettingsDep, store: SessionStoreDep
) -> AuthService:
    runtime = auth_runtime(request.app)
    return AuthService(db, settings, store, runtime.passwords, runtime.mailer)


AuthServiceDep = Annotated[AuthService, Depends(get_auth_service)]


async def resolve_principal(
    db: DbSession,
    settings: SettingsDep,
    store: SessionStoreDep,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
    x_api_key: Annotated[str | None, Security(_api_key_header)],
) -> Principal | None:
    raw = bearer.credentials if bearer is not None else x_api_key
    if not raw:
        return None
    if looks_like_api_key(raw):
        key = await authenticate_api_key(db, raw)
        if key is None:
            raise InvalidTokenError("API key invalid, expired or revoked")
        return Principal(key.user, "api_key", api_key=key)
    claims = decode_access_token(settings, raw)
    user = await db.get(User, claims.user_id)
    if user is None:
        raise InvalidTokenError("Access token invalid")
    # A revoked session (logout, reuse, password reset, suspension) kills its access
    # tokens at once, not only when they expire (ASVS 7.4.1).
    session = await store.get(claims.session_id)
    if session is None or session.user_id != user.id or not session.is_active(utcnow()):
        raise InvalidTokenError("Session revoked or expired")
    _require_usable(user)
    return Principal(user, "jwt", session_id=session.id)


def _require_usable(user: User) -> None:
    if user.status == UserStatus.SUSPENDED:
        raise AccountSuspendedError()
    if user.status != UserStatus.ACTIVE:
        raise AccountNotVerifiedError()


_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_SCOPE_CHECKED = "allin_key_scope_checked"


def _require_key_scope(principal: Principal, scope: KeyScope) -> None:
    key = principal.api_key
    if principal.method == "api_key" and (key is None or scope.value not in (key.scopes or ())):
        raise ApiKeyScopeError(
            f"This API key lacks the `{scope.value}` scope", details={"required": scope.value}
        )


def _principal_required(
    request: Request,
    principal: Annotated[Principal | None, Depends(resolve_principal)],
) -> Principal:
    """Any authenticated caller. An API key, unless the route named its scope with
    `RequireScope`, needs `read` to read and `account` to change anything."""
    if principal is None:
        raise NotAuthenticatedError()
    if principal.method == "api_key" and not getattr(request.state, _SCOPE_CHECKED, False):
        needed = KeyScope.READ if request.method in _SAFE_METHODS else KeyScope.ACCOUNT
        _require_key_scope(principal, needed)
    return principal


class RequireScope:
    """The scope an API key needs for this route (a login session may do anything):

        @router.post("/publish", dependencies=[Depends(RequireScope(KeyScope.PUBLISH))])

    List it in the decorator's `dependencies`, which run before the route's parameters, so
    it replaces the default rule (`read` for GET, `account` otherwise)."""

    def __init__(self, scope: KeyScope) -> None:
        self.scope = scope

    async def __call__(
        self,
        request: Request,
        principal: Annotated[Principal | None, Depends(resolve_principal)],
    ) -> None:
        if principal is None:
            raise NotAuthenticatedError()
        _require_key_scope(principal, self.scope)
        setattr(request.state, _SCOPE_CHECKED, True)


def _login_only(error: type[AppError]) -> Callable[..., Principal]:
    def check(principal: Annotated[Principal | None, Depends(resolve_principal)]) -> Principal:
        if principal is None:
            raise NotAuthenticatedError()
        if principal.method != "jwt":
            raise error()
        return principal

    return check


def _optional_user(
    principal: Annotated[Principal | None, Depends(resolve_principal)],
) -> User | None:
    return principal.user if principal is not None else None


def _current_user(principal: Annotated[Principal, Depends(_principal_required)]) -> User:
    return principal.user


def _admin_user(user: Annotated[User, Depends(_current_user)]) -> User:
    if not user.is_admin:
        raise AdminRequiredError()
    return user


OptionalPrincipal = Annotated[Principal | None, Depends(resolve_principal)]
CurrentPrincipal = Annotated[Principal, Depends(_principal_required)]
# A password login only (sessions: an API key must not sign its owner out or list IPs).
SessionPrincipal = Annotated[Principal, Depends(_login_only(SessionRequiredError))]
# The same for API key management: a leaked key must not mint or revoke keys.
KeyManagerPrincipal = Annotated[Principal, Depends(_login_only(ApiKeySessionRequiredError))]
OptionalUser = Annotated[User | None, Depends(_optional_user)]
CurrentUser = Annotated[User, Depends(_current_user)]
AdminUser = Annotated[User, Depends(_admin_user)]


async def owned_or_404(session: AsyncSession, model: type[M], object_id: Any, user: User) -> M:
    """The `model` row with primary key `object_id` whose `owner_id` (or `user_id`) is the
    caller; NotFoundError otherwise, never 403, so other users' objects stay invisible."""
    mapper = inspect(model)
    owner = mapper.columns.get("owner_id")
    if owner is None:
        owner = mapper.columns.get("user_id")
    if owner is None:
        raise TypeError(f"{model.__name__} has no owner_id or user_id column")
    (pk,) = mapper.primary_key
    try:
        key = _coerce(pk.type.python_type, object_id)
    except (TypeError, ValueError):
        raise NotFoundError(f"{model.__name__} not found") from None
    row = await session.scalar(select(model).where(pk == key, owner == user.id))
    if row is None:
        raise NotFoundError(f"{model.__name__} not found")
    return row


def _coerce(python_type: type[Any], value: Any) -> Any:
    if isinstance(value, python_type):
        return value
    if python_type is uuid.UUID:
        return uuid.UUID(str(value))
    return python_type(value)


def owned(model: type[M], path_param: str) -> Callable[..., Awaitable[M]]:
    """A dependency that loads `model` by the path parameter for its owner, or 404:

    PostDep = Annotated[Post, Depends(owned(Post, "post_id"))]
    """

    async def load(request: Request, db: DbSession, user: CurrentUser) -> M:
        return await owned_or_404(db, model, request.path_params.get(path_param), user)

    return load
