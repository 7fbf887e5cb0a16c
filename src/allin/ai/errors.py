"""The AI domain's errors, each with a stable code (documented in the README)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from allin.core.errors import AppError


class AllProvidersFailedError(AppError):
    code = "AI_001"
    status_code = 503
    default_message = "No AI provider could answer; try again shortly"

    def __init__(self, tried: list[dict[str, Any]]) -> None:
        super().__init__(details={"tried": tried})


class OutOfCreditsError(AppError):
    code = "AI_002"
    status_code = 402
    default_message = "AI credits for this month are used up"

    def __init__(self, resets_at: datetime, allowance: int) -> None:
        when = resets_at.astimezone(UTC).isoformat().replace("+00:00", "Z")
        super().__init__(
            f"AI credits for this month are used up; they reset at {when}",
            details={"resets_at": when, "allowance": allowance},
        )


class ProviderRejectedError(AppError):
    code = "AI_003"
    status_code = 502
    default_message = "The AI provider refused the request"


class MalformedAnswerError(AppError):
    code = "AI_004"
    status_code = 502
    default_message = "The AI answer did not have the expected shape (retried once)"


class ContentTooLargeError(AppError):
    code = "AI_005"
    status_code = 413
    default_message = "The content is longer than the AI assistant accepts"


class NoProvidersError(AppError):
    code = "AI_006"
    status_code = 503
    default_message = "No AI provider is configured (ALLIN_AI_PROVIDERS)"


class StreamInterruptedError(AppError):
    code = "AI_007"
    status_code = 502
    default_message = "The AI provider stopped in the middle of its answer; nothing was charged"
