"""Auth error codes (AUTH_001..AUTH_004 as the platform defines them, then ours in the same
style).

Each is an AppError subclass, so the handlers render the envelope and status.
"""

from __future__ import annotations

from typing import Any

from allin.core.errors import (
    AppError,
    BadRequestError,
    ConflictError,
    ForbiddenError,
    UnauthorizedError,
    ValidationError,
)

_BEARER = {"WWW-Authenticate": "Bearer"}


class InvalidCredentialsError(UnauthorizedError):
    code = "AUTH_001"
    default_message = "Invalid email or password"


class AccountNotVerifiedError(ForbiddenError):
    code = "AUTH_002"
    default_message = "Account not verified: follow the link we emailed you, or ask for a new one"


class AccountSuspendedError(ForbiddenError):
    code = "AUTH_003"
    default_message = "Account suspended"


class InvalidTokenError(UnauthorizedError):
    code = "AUTH_004"
    default_message = "Token expired or invalid"

    def __init__(self, message: str | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("headers", dict(_BEARER))
        super().__init__(message, **kwargs)


class NotAuthenticatedError(UnauthorizedError):
    """No credentials at all (the generic UNAUTHORIZED code)."""

    def __init__(self, message: str | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("headers", dict(_BEARER))
        super().__init__(message, **kwargs)


class EmailTakenError(ConflictError):
    code = "AUTH_005"
    default_message = "An account with this email already exists"


class WeakPasswordError(ValidationError):
    code = "AUTH_006"
    default_message = "Password is too weak"


class InvalidLinkError(BadRequestError):
    code = "AUTH_007"
    default_message = "This link is invalid, expired or already used"


class RefreshReuseError(UnauthorizedError):
    code = "AUTH_008"
    default_message = "Refresh token reuse detected: the session was revoked, sign in again"


class WrongPasswordError(BadRequestError):
    code = "AUTH_009"
    default_message = "Current password is incorrect"


class SetupDoneError(ConflictError):
    code = "AUTH_010"
    default_message = "Setup is already complete"


class AdminRequiredError(ForbiddenError):
    code = "AUTH_011"
    default_message = "Administrator role required"


class SelfLockoutError(ConflictError):
    code = "AUTH_012"
    default_message = "You cannot suspend or demote your own account"


class ApiKeySessionRequiredError(ForbiddenError):
    code = "AUTH_013"
    default_message = "Sign in with your password to manage API keys (an API key cannot)"


class SessionRequiredError(ForbiddenError):
    code = "AUTH_014"
    default_message = "Sign in with your password to manage sessions (an API key cannot)"


class ApiKeyScopeError(ForbiddenError):
    code = "AUTH_015"
    default_message = "This API key lacks the scope this operation needs"


class OriginNotAllowedError(ForbiddenError):
    code = "AUTH_016"
    default_message = "Requests from this origin may not refresh or end sessions"


# Every auth code, for the README and the every-code test.
AUTH_ERRORS: dict[str, type[AppError]] = {
    cls.code: cls
    for cls in (
        InvalidCredentialsError,
        AccountNotVerifiedError,
        AccountSuspendedError,
        InvalidTokenError,
        EmailTakenError,
        WeakPasswordError,
        InvalidLinkError,
        RefreshReuseError,
        WrongPasswordError,
        SetupDoneError,
        AdminRequiredError,
        SelfLockoutError,
        ApiKeySessionRequiredError,
        SessionRequiredError,
        ApiKeyScopeError,
        OriginNotAllowedError,
    )
}
