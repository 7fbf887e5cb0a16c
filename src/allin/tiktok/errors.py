"""One TikTok error type, and what every documented TikTok error code means for us.

A `TikTokError` is an `AppError`: routes let it propagate and the app's one error handler
answers with the envelope `public()` gives, so routes stay thin.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from allin.core.clock import utcnow
from allin.core.errors import AppError
from allin.core.logging import current_correlation_id, new_correlation_id


class TikTokErrorType(StrEnum):
    """What kind of failure a TikTok error is: decides retries and what the user must do."""

    NETWORK_ERROR = "NETWORK_ERROR"
    TIMEOUT_ERROR = "TIMEOUT_ERROR"
    AUTH_ERROR = "AUTH_ERROR"
    TOKEN_EXPIRED = "TOKEN_EXPIRED"  # noqa: S105 - a type name, not a secret
    INVALID_TOKEN = "INVALID_TOKEN"  # noqa: S105
    INVALID_CREDENTIALS = "INVALID_CREDENTIALS"
    SCOPE_NOT_AUTHORIZED = "SCOPE_NOT_AUTHORIZED"
    RATE_LIMIT_ERROR = "RATE_LIMIT_ERROR"
    QUOTA_EXCEEDED = "QUOTA_EXCEEDED"
    VALIDATION_ERROR = "VALIDATION_ERROR"
    INVALID_PARAM = "INVALID_PARAM"
    API_ERROR = "API_ERROR"
    SERVER_ERROR = "SERVER_ERROR"
    UPLOAD_ERROR = "UPLOAD_ERROR"
    URL_OWNERSHIP_UNVERIFIED = "URL_OWNERSHIP_UNVERIFIED"


T = TikTokErrorType


@dataclass(frozen=True, slots=True)
class ErrorSpec:
    """What one TikTok error code means: its type, whether a retry can help, what to tell a user."""

    type: TikTokErrorType
    retryable: bool
    user_message: str


def _spec(kind: TikTokErrorType, user_message: str, *, retryable: bool = False) -> ErrorSpec:
    return ErrorSpec(kind, retryable, user_message)


_RECONNECT = "Your TikTok connection has expired. Please reconnect your TikTok account."
_TRY_LATER = "TikTok is having trouble right now. Please try again in a few minutes."
_APP_SETUP = "The TikTok integration is not configured correctly. Please contact the administrator."

# OAuth (Login Kit v2) `error` values: https://developers.tiktok.com/doc/oauth-error-handling
OAUTH_ERRORS: dict[str, ErrorSpec] = {
    "access_denied": _spec(T.AUTH_ERROR, "TikTok access was not granted."),
    "invalid_client": _spec(T.INVALID_CREDENTIALS, _APP_SETUP),
    "invalid_grant": _spec(T.TOKEN_EXPIRED, _RECONNECT),
    "invalid_request": _spec(T.INVALID_PARAM, "The TikTok sign-in request was invalid."),
    "invalid_scope": _spec(
        T.SCOPE_NOT_AUTHORIZED, "The app asked TikTok for permissions it is not approved for."
    ),
    "unauthorized_client": _spec(T.INVALID_CREDENTIALS, _APP_SETUP),
    "unsupported_grant_type": _spec(T.INVALID_PARAM, _APP_SETUP),
    "unsupported_response_type": _spec(T.INVALID_PARAM, _APP_SETUP),
    "server_error": _spec(T.SERVER_ERROR, _TRY_LATER, retryable=True),
    "temporarily_unavailable": _spec(T.SERVER_ERROR, _TRY_LATER, retryable=True),
}

# v2 envelope `error.code` values (Display API and Content Posting API).
API_ERRORS: dict[str, ErrorSpec] = {
    "access_token_invalid": _spec(T.INVALID_TOKEN, _RECONNECT),
    "internal_error": _spec(T.SERVER_ERROR, _TRY_LATER, retryable=True),
    "invalid_file_upload": _spec(T.UPLOAD_ERROR, "The file does not meet TikTok's requirements."),
    "invalid_params": _spec(T.INVALID_PARAM, "TikTok rejected the request as invalid."),
    "invalid_param": _spec(T.INVALID_PARAM, "TikTok rejected the request as invalid."),
    "rate_limit_exceeded": _spec(
        T.RATE_LIMIT_ERROR, "Too many requests to TikTok. Please wait a moment.", retryable=True
    ),
    "scope_not_authorized": _spec(
        T.SCOPE_NOT_AUTHORIZED, "Your TikTok account did not grant the permission this needs."
    ),
    "scope_permission_missed": _spec(
        T.SCOPE_NOT_AUTHORIZED, "Your TikTok account did not grant the permission this needs."
    ),
    "spam_risk_too_many_posts": _spec(
        T.QUOTA_EXCEEDED, "You have reached TikTok's daily posting limit. Try again tomorrow."
    ),
    "spam_risk_user_banned_from_posting": _spec(
        T.AUTH_ERROR, "TikTok does not currently allow this account to post. Contact TikTok."
    ),
    "reached_active_user_cap": _spec(
        T.QUOTA_EXCEEDED, "TikTok's daily limit of publishing users for this app is reached."
    ),
    "unaudited_client_can_only_post_to_private_accounts": _spec(
        T.AUTH_ERROR, "This app can only post to private TikTok accounts until TikTok approves it."
    ),
    "url_ownership_unverified": _spec(
        T.URL_OWNERSHIP_UNVERIFIED, "TikTok cannot fetch media from a domain it has not verified."
    ),
    "privacy_level_option_mismatch": _spec(
        T.VALIDATION_ERROR, "Choose one of the privacy options TikTok offers for this account."
    ),
    "spam_risk_too_many_pending_share": _spec(
        T.QUOTA_EXCEEDED, "You have 5 drafts waiting in TikTok. Post or delete them first."
    ),
    "app_version_check_failed": _spec(
        T.VALIDATION_ERROR, "Update the TikTok app on your phone to receive this upload."
    ),
    "invalid_publish_id": _spec(T.INVALID_PARAM, "That TikTok post could not be found."),
    "token_not_authorized_for_specified_publish_id": _spec(
        T.AUTH_ERROR, "That TikTok post belongs to another account."
    ),
    "publish_not_cancellable": _spec(T.API_ERROR, "This TikTok post can no longer be cancelled."),
}

# `fail_reason` values from status/fetch and the post.publish.failed webhook.
FAIL_REASONS: dict[str, ErrorSpec] = {
    "file_format_check_failed": _spec(T.VALIDATION_ERROR, "TikTok does not accept this format."),
    "duration_check_failed": _spec(T.VALIDATION_ERROR, "The video's length is not allowed."),
    "frame_rate_check_failed": _spec(T.VALIDATION_ERROR, "The frame rate must be 23-60 FPS."),
    "picture_size_check_failed": _spec(
        T.VALIDATION_ERROR, "Width and height must be between 360 and 4096 pixels."
    ),
    "internal": _spec(T.SERVER_ERROR, _TRY_LATER, retryable=True),
    "video_pull_failed": _spec(
        T.UPLOAD_ERROR, "TikTok could not download the video.", retryable=True
    ),
    "photo_pull_failed": _spec(
        T.UPLOAD_ERROR, "TikTok could not download the photos.", retryable=True
    ),
    "publish_cancelled": _spec(T.API_ERROR, "The post was cancelled."),
    "auth_removed": _spec(T.AUTH_ERROR, _RECONNECT),
    "spam_risk_too_many_posts": API_ERRORS["spam_risk_too_many_posts"],
    "spam_risk_user_banned_from_posting": API_ERRORS["spam_risk_user_banned_from_posting"],
    "spam_risk_text": _spec(T.VALIDATION_ERROR, "TikTok flagged the caption. Please edit it."),
    "spam_risk": _spec(T.API_ERROR, "TikTok flagged this post as a risk and did not publish it."),
}

# Our own upload and publishing checks, named as TikTok names its checks.
PUBLISH_ERRORS: dict[str, ErrorSpec] = {
    "rate_limit_exceeded": API_ERRORS["rate_limit_exceeded"],
    "access_token_expired": _spec(T.TOKEN_EXPIRED, _RECONNECT),
    "spam_risk_too_many_posts": API_ERRORS["spam_risk_too_many_posts"],
    "spam_risk_user_banned_from_posting": API_ERRORS["spam_risk_user_banned_from_posting"],
    "video_duration_too_short": _spec(T.VALIDATION_ERROR, "The video must be at least 3 seconds."),
    "video_duration_too_long": _spec(T.VALIDATION_ERROR, "The video is longer than allowed."),
    "video_size_too_large": _spec(T.VALIDATION_ERROR, "The video must be at most 4 GB."),
    "video_format_invalid": _spec(
        T.VALIDATION_ERROR, "Use an MP4, MOV or WebM video (H.264, H.265, VP8 or VP9)."
    ),
    "upload_failed": _spec(T.UPLOAD_ERROR, "The upload failed. Please retry.", retryable=True),
    "processing_failed": _spec(
        T.UPLOAD_ERROR, "TikTok could not process the video. Check it and retry.", retryable=True
    ),
    "unaudited_client_in_live_env": _spec(
        T.AUTH_ERROR, "This app is awaiting TikTok's review and cannot post publicly yet."
    ),
}

# Our own codes: transport failures, the upload host's bare HTTP statuses, the breaker.
LOCAL_ERRORS: dict[str, ErrorSpec] = {
    "network_error": _spec(
        T.NETWORK_ERROR, "Could not reach TikTok. Please retry.", retryable=True
    ),
    "timeout": _spec(
        T.TIMEOUT_ERROR, "TikTok took too long to answer. Please retry.", retryable=True
    ),
    "server_error": _spec(T.SERVER_ERROR, _TRY_LATER, retryable=True),
    "http_error": _spec(T.API_ERROR, "TikTok answered with an unexpected error."),
    "invalid_response": _spec(T.API_ERROR, "TikTok answered with something we could not read."),
    "unknown_error": _spec(T.API_ERROR, "TikTok answered with an unexpected error."),
    "circuit_open": _spec(T.SERVER_ERROR, _TRY_LATER),
    "not_configured": _spec(T.INVALID_CREDENTIALS, _APP_SETUP),
    "state_mismatch": _spec(T.AUTH_ERROR, "The TikTok sign-in expired. Please try again."),
    "upload_bad_request": _spec(T.UPLOAD_ERROR, "TikTok rejected part of the upload."),
    "upload_url_expired": _spec(T.UPLOAD_ERROR, "The upload took too long. Please start again."),
    "upload_not_found": _spec(T.UPLOAD_ERROR, "TikTok no longer knows this upload. Start again."),
    "upload_range_mismatch": _spec(
        T.UPLOAD_ERROR, "The upload got out of step; resuming.", retryable=True
    ),
    "publish_outcome_unknown": _spec(
        T.NETWORK_ERROR, "We could not confirm the post. Checking its status instead of resending."
    ),
    "publish_timeout": _spec(T.TIMEOUT_ERROR, "TikTok is still processing the post."),
    "frame_rate_check_failed": FAIL_REASONS["frame_rate_check_failed"],
    "picture_size_check_failed": FAIL_REASONS["picture_size_check_failed"],
}

# One lookup for every code; later tables never override an earlier meaning.
ERROR_SPECS: dict[str, ErrorSpec] = {}
for _table in (API_ERRORS, OAUTH_ERRORS, FAIL_REASONS, PUBLISH_ERRORS, LOCAL_ERRORS):
    for _code, _value in _table.items():
        ERROR_SPECS.setdefault(_code, _value)

UNKNOWN = LOCAL_ERRORS["unknown_error"]

# What our own API answers for each type (AppError semantics).
_APP_STATUS: dict[TikTokErrorType, int] = {
    T.NETWORK_ERROR: 502,
    T.TIMEOUT_ERROR: 504,
    T.AUTH_ERROR: 409,
    T.TOKEN_EXPIRED: 409,
    T.INVALID_TOKEN: 409,
    T.INVALID_CREDENTIALS: 502,
    T.SCOPE_NOT_AUTHORIZED: 409,
    T.RATE_LIMIT_ERROR: 429,
    T.QUOTA_EXCEEDED: 429,
    T.VALIDATION_ERROR: 422,
    T.INVALID_PARAM: 400,
    T.API_ERROR: 502,
    T.SERVER_ERROR: 503,
    T.UPLOAD_ERROR: 502,
    T.URL_OWNERSHIP_UNVERIFIED: 422,
}


def spec_for(code: str) -> ErrorSpec:
    return ERROR_SPECS.get(code, UNKNOWN)


class TikTokError(AppError):
    """A failed TikTok call, with what to log (`message`) and what to show (`user_message`).

    `code` is TikTok's error code and `http_status` TikTok's HTTP status; `public()` gives the
    error our own API answers with (code TIKTOK_<TYPE>, the user-facing message)."""

    code = "TIKTOK_ERROR"
    status_code = 502

    def __init__(
        self,
        code: str,
        message: str | None = None,
        *,
        type: TikTokErrorType | None = None,
        retryable: bool | None = None,
        user_message: str | None = None,
        http_status: int | None = None,
        log_id: str | None = None,
        correlation_id: str | None = None,
        retry_after: float | None = None,
        timestamp: datetime | None = None,
        not_sent: bool = False,
    ) -> None:
        spec = spec_for(code)
        super().__init__(message or code, code=code)
        self.type = type or spec.type
        self.retryable = spec.retryable if retryable is None else retryable
        self.user_message = user_message or spec.user_message
        self.http_status = http_status
        self.status_code = _APP_STATUS[self.type]  # type: ignore[misc]  # ours, by type
        self.log_id = log_id
        self.correlation_id = correlation_id or current_correlation_id() or new_correlation_id()
        self.retry_after = retry_after
        self.timestamp = timestamp or utcnow()
        # True when the request never reached TikTok (connect failure): safe to resend anything.
        self.not_sent = not_sent

    def __repr__(self) -> str:
        return (
            f"TikTokError(code={self.code!r}, type={self.type.value}, status={self.http_status}, "
            f"retryable={self.retryable}, log_id={self.log_id!r})"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "type": self.type.value,
            "message": self.message,
            "user_message": self.user_message,
            "retryable": self.retryable,
            "status_code": self.http_status,
            "log_id": self.log_id,
            "correlation_id": self.correlation_id,
            "timestamp": self.timestamp.isoformat(),
        }

    def public(self) -> AppError:
        """The envelope error our API returns: a 502 for an upstream failure, 429 for a rate
        limit, 409 when the TikTok connection needs the user's attention."""
        headers = {}
        if self.retry_after is not None:
            headers["Retry-After"] = str(max(1, round(self.retry_after)))
        error = AppError(
            self.user_message,
            code=f"TIKTOK_{self.type.value}",
            details={
                "tiktok_code": self.code,
                "retryable": self.retryable,
                "log_id": self.log_id,
                "correlation_id": self.correlation_id,
            },
            headers=headers,
        )
        error.status_code = self.status_code  # type: ignore[misc]
        return error


class CircuitOpenError(TikTokError):
    """The breaker is OPEN: the call was not attempted."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(
            "circuit_open",
            "TikTok circuit breaker is OPEN; call not attempted",
            retry_after=retry_after,
        )


def error_from_oauth_body(body: Any, status_code: int) -> TikTokError:
    """The OAuth endpoints' flat `{error, error_description, log_id}` (sent with 200 or 4xx)."""
    if not isinstance(body, dict) or not isinstance(body.get("error"), str):
        return error_from_status(status_code)
    code = body["error"]
    description = body.get("error_description")
    return TikTokError(
        code,
        f"{code}: {description}" if description else code,
        http_status=status_code,
        log_id=_str_or_none(body.get("log_id")),
    )


def envelope_error(body: Any) -> dict[str, Any] | None:
    """The `error` object of a v2 envelope if it reports a failure, else None."""
    if not isinstance(body, dict):
        return None
    error = body.get("error")
    if not isinstance(error, dict) or error.get("code") in (None, "ok"):
        return None
    return error


def error_from_envelope(
    body: Any, status_code: int, retry_after: float | None = None
) -> TikTokError:
    """A v2 `{data, error:{code,message,log_id}}` failure (may come with HTTP 200)."""
    error = envelope_error(body)
    if error is None:
        return error_from_status(status_code, retry_after=retry_after)
    code = str(error["code"])
    message = error.get("message") or code
    return TikTokError(
        code,
        f"{code}: {message}",
        http_status=status_code,
        log_id=_str_or_none(error.get("log_id")),
        retry_after=retry_after if code == "rate_limit_exceeded" else None,
    )


def error_from_status(status_code: int, *, retry_after: float | None = None) -> TikTokError:
    """A failure with no readable TikTok code: judged by the HTTP status alone."""
    if status_code == 429:
        code = "rate_limit_exceeded"
    elif status_code == 401:
        code = "access_token_invalid"
    elif status_code >= 500:
        code = "server_error"
    else:
        code = "http_error"
    return TikTokError(
        code,
        f"TikTok answered HTTP {status_code}",
        http_status=status_code,
        retry_after=retry_after,
    )


def error_for_fail_reason(reason: str, publish_id: str) -> TikTokError:
    return TikTokError(reason, f"publish {publish_id} failed: {reason}")


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
