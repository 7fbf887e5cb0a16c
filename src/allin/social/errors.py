"""The social accounts' own errors (the platforms' are `SocialProviderError`, SOCIAL_001..005
and CONTENT_003). Each has a stable code for the envelope."""

from __future__ import annotations

from allin.core.errors import AppError


class OAuthStateError(AppError):
    """Unknown, expired, already used, or started by another user."""

    code = "SOCIAL_006"
    status_code = 400
    default_message = (
        "This connection link is no longer valid (expired, already used, or not yours). "
        "Start connecting the account again."
    )


class ConsentDeniedError(AppError):
    code = "SOCIAL_007"
    status_code = 400
    default_message = "The platform did not grant access (consent was declined or failed)."


class BrowserMismatchError(AppError):
    """The callback reached a browser other than the one that started the connection."""

    code = "SOCIAL_008"
    status_code = 403
    default_message = (
        "This connection was started in another browser. Start connecting the account again "
        "from this one."
    )


class PlatformUnavailableError(AppError):
    code = "SOCIAL_009"
    status_code = 404
    default_message = "This platform is not available on this server."


class PlatformNotConfiguredError(AppError):
    code = "SOCIAL_005"
    status_code = 409
    default_message = (
        "This platform is not configured on this server: its app credentials are missing."
    )


class AccountNotFoundError(AppError):
    code = "SOCIAL_010"
    status_code = 404
    default_message = "Social account not found."


class ReconnectRequiredError(AppError):
    """The account's tokens cannot be renewed here: the user must connect it again."""

    code = "SOCIAL_011"
    status_code = 409
    default_message = "This account must be reconnected."


class NoAccountGrantedError(AppError):
    code = "SOCIAL_012"
    status_code = 422
    default_message = "The platform returned no account this login can act as."
