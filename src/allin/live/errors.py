"""Typed errors of the LIVE client. Each has a stable code so callers (and the API) can branch."""

from __future__ import annotations

from typing import Any

from allin.core.errors import AppError


class LiveError(AppError):
    """Base of every LIVE client error."""

    code = "LIVE_ERROR"
    status_code = 502
    default_message = "TikTok LIVE error"


class InvalidUsernameError(LiveError):
    code = "LIVE_INVALID_USERNAME"
    status_code = 400
    default_message = "Not a valid TikTok username"

    def __init__(self, value: str, message: str | None = None) -> None:
        super().__init__(
            message or f"Not a valid TikTok username: {value!r}", details={"value": value}
        )
        self.value = value


class _UserError(LiveError):
    def __init__(self, username: str, message: str | None = None) -> None:
        super().__init__(
            message or f"{self.default_message}: @{username}", details={"username": username}
        )
        self.username = username


class UserNotFoundError(_UserError):
    code = "LIVE_USER_NOT_FOUND"
    status_code = 404
    default_message = "TikTok user not found"


class UserOfflineError(_UserError):
    code = "LIVE_USER_OFFLINE"
    status_code = 409
    default_message = "The user is not live"


class AgeRestrictedError(_UserError):
    """TikTok shows this LIVE only to signed-in adults; a session would be needed."""

    code = "LIVE_AGE_RESTRICTED"
    status_code = 403
    default_message = "The LIVE is age-restricted"


class InvalidResponseError(LiveError):
    """TikTok (or the sign provider) answered something we cannot use."""

    code = "LIVE_INVALID_RESPONSE"
    default_message = "Unexpected response from TikTok"


class SignProviderError(LiveError):
    """The EulerStream-compatible sign provider failed. `reason` is one of
    SIGN_NOT_200, EMPTY_PAYLOAD, EMPTY_COOKIES, PREMIUM_ENDPOINT, RATE_LIMIT."""

    code = "LIVE_SIGN_PROVIDER_ERROR"
    default_message = "The sign provider failed"

    def __init__(
        self,
        message: str | None = None,
        *,
        reason: str = "SIGN_NOT_200",
        status: int | None = None,
        request_id: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        details: dict[str, Any] = {"reason": reason, "status": status, "request_id": request_id}
        super().__init__(message, details=details, headers=headers)
        self.reason = reason
        self.status = status
        self.request_id = request_id


class SignRateLimitedError(SignProviderError):
    """HTTP 429 from the sign provider; `retry_after` is in seconds."""

    code = "LIVE_SIGN_RATE_LIMITED"
    status_code = 429
    default_message = "The sign provider rate-limited us"

    def __init__(
        self,
        message: str | None = None,
        *,
        retry_after: float,
        limit_label: str | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(
            message,
            reason="RATE_LIMIT",
            status=429,
            request_id=request_id,
            headers={"Retry-After": str(max(1, round(retry_after)))},
        )
        self.retry_after = retry_after
        self.limit_label = limit_label
        self.details["retry_after"] = retry_after
        self.details["limit_label"] = limit_label


class WebSocketRejectedError(LiveError):
    """TikTok answered the WebSocket upgrade with HTTP 200 (not 101) and Handshake-* headers."""

    code = "LIVE_WEBSOCKET_REJECTED"
    default_message = "TikTok rejected the WebSocket"

    def __init__(
        self, handshake_msg: str, handshake_status: str, *, http_status: int = 200
    ) -> None:
        super().__init__(
            f"TikTok rejected the WebSocket: {handshake_msg or 'no reason'} ({handshake_status})",
            details={
                "handshake_msg": handshake_msg,
                "handshake_status": handshake_status,
                "http_status": http_status,
            },
        )
        self.handshake_msg = handshake_msg
        self.handshake_status = handshake_status
        self.http_status = http_status


class NetworkError(LiveError):
    code = "LIVE_NETWORK_ERROR"
    status_code = 503
    default_message = "Network error while talking to TikTok"
