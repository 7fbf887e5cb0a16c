"""Every LIVE error is an AppError with a stable code and status."""

from __future__ import annotations

import pytest

from allin.core.errors import AppError
from allin.live.errors import (
    AgeRestrictedError,
    InvalidResponseError,
    InvalidUsernameError,
    LiveError,
    NetworkError,
    SignProviderError,
    SignRateLimitedError,
    UserNotFoundError,
    UserOfflineError,
    WebSocketRejectedError,
)


@pytest.mark.parametrize(
    ("error", "code", "status"),
    [
        (InvalidUsernameError("a b"), "LIVE_INVALID_USERNAME", 400),
        (UserNotFoundError("x"), "LIVE_USER_NOT_FOUND", 404),
        (UserOfflineError("x"), "LIVE_USER_OFFLINE", 409),
        (AgeRestrictedError("x"), "LIVE_AGE_RESTRICTED", 403),
        (InvalidResponseError(), "LIVE_INVALID_RESPONSE", 502),
        (SignProviderError(reason="EMPTY_COOKIES"), "LIVE_SIGN_PROVIDER_ERROR", 502),
        (SignRateLimitedError(retry_after=3.2), "LIVE_SIGN_RATE_LIMITED", 429),
        (WebSocketRejectedError("DEVICE_BLOCKED", "415"), "LIVE_WEBSOCKET_REJECTED", 502),
        (NetworkError(), "LIVE_NETWORK_ERROR", 503),
    ],
)
def test_codes_and_statuses(error: LiveError, code: str, status: int) -> None:
    assert isinstance(error, AppError) and isinstance(error, LiveError)
    assert (error.code, error.status_code) == (code, status)
    assert error.message


def test_details_carry_what_callers_need() -> None:
    assert UserOfflineError("someone").details == {"username": "someone"}
    assert "@someone" in UserOfflineError("someone").message
    limited = SignRateLimitedError(retry_after=3.2, limit_label="minute")
    assert isinstance(limited, SignProviderError)
    assert limited.headers == {"Retry-After": "3"}
    assert limited.details["retry_after"] == 3.2 and limited.reason == "RATE_LIMIT"
    rejected = WebSocketRejectedError("illegal secret key", "417")
    assert rejected.details == {
        "handshake_msg": "illegal secret key",
        "handshake_status": "417",
        "http_status": 200,
    }
    assert "illegal secret key" in rejected.message
