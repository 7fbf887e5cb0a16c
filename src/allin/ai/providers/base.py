"""What the chain needs from a provider, and how provider failures are classified."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class ChatRequest:
    system: str
    user: str
    max_tokens: int
    json_schema: dict[str, Any] | None = None  # ask for JSON of this shape
    schema_name: str = "answer"


@dataclass(frozen=True, slots=True)
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0

    @property
    def total(self) -> int:
        return self.input_tokens + self.output_tokens


@dataclass(frozen=True, slots=True)
class Completion:
    text: str
    usage: Usage
    provider: str
    model: str
    truncated: bool = False


@dataclass(frozen=True, slots=True)
class Delta:
    text: str


@dataclass(slots=True)
class StreamEnd:
    usage: Usage = field(default_factory=Usage)
    truncated: bool = False


class FailureKind(StrEnum):
    UNAVAILABLE = "unavailable"  # connection, timeout, 5xx, 529, garbage: try the next one
    RATE_LIMITED = "rate_limited"  # 429: cool down (bounded retry-after), try the next one
    REJECTED_KEY = "rejected_key"  # 401/402/403/404: this provider's set-up, try the next one
    BAD_REQUEST = "bad_request"  # 400/413/422: our request; another provider would refuse too


class ProviderFailure(Exception):
    def __init__(
        self,
        kind: FailureKind,
        message: str,
        *,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.status = status
        self.retry_after = retry_after

    @property
    def falls_back(self) -> bool:
        return self.kind is not FailureKind.BAD_REQUEST


def failure_for_status(status: int, message: str, retry_after: float | None) -> ProviderFailure:
    if status == 429:
        return ProviderFailure(
            FailureKind.RATE_LIMITED, message, status=status, retry_after=retry_after
        )
    if status in (400, 413, 422):
        return ProviderFailure(FailureKind.BAD_REQUEST, message, status=status)
    if status in (401, 402, 403, 404):
        return ProviderFailure(FailureKind.REJECTED_KEY, message, status=status)
    return ProviderFailure(FailureKind.UNAVAILABLE, message, status=status)


def parse_retry_after(headers: Any) -> float | None:
    """`retry-after-ms` or `retry-after` (seconds) as sent with a 429; None when absent."""
    if headers is None:
        return None
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        raw = headers.get(name)
        if raw is None:
            continue
        try:
            value = float(raw) * scale
        except ValueError:
            continue
        if value >= 0:
            return value
    return None


class Provider(Protocol):
    name: str
    kind: str
    model: str

    async def complete(self, request: ChatRequest) -> Completion: ...

    def stream(self, request: ChatRequest) -> AsyncIterator[Delta | StreamEnd]: ...

    async def aclose(self) -> None: ...
