"""Every documented TikTok error code maps to a type, a retry decision and a user message."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from allin.core.retry import parse_retry_after
from allin.tiktok.errors import (
    API_ERRORS,
    ERROR_SPECS,
    FAIL_REASONS,
    LOCAL_ERRORS,
    OAUTH_ERRORS,
    PUBLISH_ERRORS,
    CircuitOpenError,
    TikTokError,
    TikTokErrorType,
    error_for_fail_reason,
    error_from_envelope,
    error_from_oauth_body,
    error_from_status,
)

T = TikTokErrorType

# (code, type, retryable) for every code in the reference (§1.7, §2.1, §3.x) and seed 003.
EXPECTED: list[tuple[str, TikTokErrorType, bool]] = [
    # OAuth (§1.7)
    ("access_denied", T.AUTH_ERROR, False),
    ("invalid_client", T.INVALID_CREDENTIALS, False),
    ("invalid_grant", T.TOKEN_EXPIRED, False),
    ("invalid_request", T.INVALID_PARAM, False),
    ("invalid_scope", T.SCOPE_NOT_AUTHORIZED, False),
    ("unauthorized_client", T.INVALID_CREDENTIALS, False),
    ("unsupported_grant_type", T.INVALID_PARAM, False),
    ("unsupported_response_type", T.INVALID_PARAM, False),
    ("server_error", T.SERVER_ERROR, True),
    ("temporarily_unavailable", T.SERVER_ERROR, True),
    # v2 envelope (§2.1)
    ("access_token_invalid", T.INVALID_TOKEN, False),
    ("internal_error", T.SERVER_ERROR, True),
    ("invalid_file_upload", T.UPLOAD_ERROR, False),
    ("invalid_params", T.INVALID_PARAM, False),
    ("invalid_param", T.INVALID_PARAM, False),
    ("rate_limit_exceeded", T.RATE_LIMIT_ERROR, True),
    ("scope_not_authorized", T.SCOPE_NOT_AUTHORIZED, False),
    ("scope_permission_missed", T.SCOPE_NOT_AUTHORIZED, False),
    # Content Posting (§3.1-3.7)
    ("spam_risk_too_many_posts", T.QUOTA_EXCEEDED, False),
    ("spam_risk_user_banned_from_posting", T.AUTH_ERROR, False),
    ("reached_active_user_cap", T.QUOTA_EXCEEDED, False),
    ("unaudited_client_can_only_post_to_private_accounts", T.AUTH_ERROR, False),
    ("url_ownership_unverified", T.URL_OWNERSHIP_UNVERIFIED, False),
    ("privacy_level_option_mismatch", T.VALIDATION_ERROR, False),
    ("spam_risk_too_many_pending_share", T.QUOTA_EXCEEDED, False),
    ("app_version_check_failed", T.VALIDATION_ERROR, False),
    ("invalid_publish_id", T.INVALID_PARAM, False),
    ("token_not_authorized_for_specified_publish_id", T.AUTH_ERROR, False),
    ("publish_not_cancellable", T.API_ERROR, False),
    # fail_reason values (§3.7)
    ("file_format_check_failed", T.VALIDATION_ERROR, False),
    ("duration_check_failed", T.VALIDATION_ERROR, False),
    ("frame_rate_check_failed", T.VALIDATION_ERROR, False),
    ("picture_size_check_failed", T.VALIDATION_ERROR, False),
    ("internal", T.SERVER_ERROR, True),
    ("video_pull_failed", T.UPLOAD_ERROR, True),
    ("photo_pull_failed", T.UPLOAD_ERROR, True),
    ("publish_cancelled", T.API_ERROR, False),
    ("auth_removed", T.AUTH_ERROR, False),
    ("spam_risk_text", T.VALIDATION_ERROR, False),
    ("spam_risk", T.API_ERROR, False),
    # seed 003's table
    ("access_token_expired", T.TOKEN_EXPIRED, False),
    ("video_duration_too_short", T.VALIDATION_ERROR, False),
    ("video_duration_too_long", T.VALIDATION_ERROR, False),
    ("video_size_too_large", T.VALIDATION_ERROR, False),
    ("video_format_invalid", T.VALIDATION_ERROR, False),
    ("upload_failed", T.UPLOAD_ERROR, True),
    ("processing_failed", T.UPLOAD_ERROR, True),
    ("unaudited_client_in_live_env", T.AUTH_ERROR, False),
    # the upload host's bare statuses and our transport failures
    ("upload_bad_request", T.UPLOAD_ERROR, False),
    ("upload_url_expired", T.UPLOAD_ERROR, False),
    ("upload_not_found", T.UPLOAD_ERROR, False),
    ("upload_range_mismatch", T.UPLOAD_ERROR, True),
    ("network_error", T.NETWORK_ERROR, True),
    ("timeout", T.TIMEOUT_ERROR, True),
]


@pytest.mark.parametrize(("code", "kind", "retryable"), EXPECTED)
def test_every_code_is_mapped(code: str, kind: TikTokErrorType, retryable: bool) -> None:
    assert code in ERROR_SPECS
    error = TikTokError(code)
    assert (error.type, error.retryable) == (kind, retryable)
    assert error.user_message and code not in error.user_message
    assert error.correlation_id
    assert 400 <= error.public().status_code < 600


def test_tables_are_covered_by_the_expectations() -> None:
    listed = {code for code, _, _ in EXPECTED}
    for table in (OAUTH_ERRORS, API_ERRORS, FAIL_REASONS, PUBLISH_ERRORS):
        assert set(table) <= listed
    assert set(LOCAL_ERRORS) - listed <= {
        "server_error",
        "http_error",
        "invalid_response",
        "unknown_error",
        "circuit_open",
        "not_configured",
        "state_mismatch",
        "publish_outcome_unknown",
        "publish_timeout",
    }


def test_every_seed_type_is_used() -> None:
    used = {spec.type for spec in ERROR_SPECS.values()}
    assert used == set(TikTokErrorType)


def test_unknown_code_is_api_error() -> None:
    error = TikTokError("brand_new_code", "something")
    assert error.type is T.API_ERROR and not error.retryable


def test_oauth_body() -> None:
    body = {
        "error": "invalid_request",
        "error_description": "Client secret is missed in request.",
        "log_id": "202206221854370101130062072500FFA2",
    }
    error = error_from_oauth_body(body, 200)
    assert error.code == "invalid_request"
    assert error.http_status == 200
    assert error.log_id == "202206221854370101130062072500FFA2"
    assert "Client secret" in error.message
    assert error_from_oauth_body("not json", 502).code == "server_error"


def test_envelope_with_200_and_rate_limit() -> None:
    body = {"data": {}, "error": {"code": "spam_risk_too_many_posts", "message": "", "log_id": "x"}}
    assert error_from_envelope(body, 200).type is T.QUOTA_EXCEEDED
    limited = {
        "data": {},
        "error": {"code": "rate_limit_exceeded", "message": "slow", "log_id": "y"},
    }
    error = error_from_envelope(limited, 429, retry_after=7)
    assert error.retry_after == 7 and error.http_status == 429
    assert error.public().headers["Retry-After"] == "7"
    assert error.public().status_code == 429


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (429, "rate_limit_exceeded"),
        (401, "access_token_invalid"),
        (503, "server_error"),
        (418, "http_error"),
    ],
)
def test_status_only(status: int, code: str) -> None:
    assert error_from_status(status).code == code


def test_retry_after_forms() -> None:
    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("5") == 5.0
    assert parse_retry_after("Thu, 01 Jan 2026 12:00:30 GMT", now) == 30.0
    assert parse_retry_after("Thu, 01 Jan 2026 11:00:00 GMT", now) == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_app_error_envelope_fields() -> None:
    error = TikTokError("access_token_invalid", "expired", http_status=401, log_id="L1")
    app_error = error.public()
    assert app_error.code == "TIKTOK_INVALID_TOKEN"
    assert app_error.status_code == 409  # our user is fine; their TikTok link needs attention
    assert app_error.details["tiktok_code"] == "access_token_invalid"
    assert app_error.details["log_id"] == "L1"
    assert error.to_dict()["type"] == "INVALID_TOKEN"


def test_fail_reason_and_breaker_errors() -> None:
    assert error_for_fail_reason("auth_removed", "p1").type is T.AUTH_ERROR
    open_error = CircuitOpenError(retry_after=12.5)
    assert open_error.code == "circuit_open" and open_error.retry_after == 12.5
