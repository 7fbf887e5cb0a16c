"""The fallback chain: providers in configured order, each behind its own circuit breaker.

Connection errors, timeouts, 5xx, 529, garbage and rejected keys move on to the next provider;
a 429 also puts the provider in a cool-down for its `retry-after`, bounded by
`ai_retry_after_max` so one header cannot shelve a provider for an hour. A 400 is our
request's fault and is not retried elsewhere. A stream falls back only before its first token
reached the caller. Every attempt is logged with provider, model, tokens and latency (the
correlation ID rides along in the log context); the prompt only ever at DEBUG.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from allin.ai.errors import (
    AllProvidersFailedError,
    NoProvidersError,
    ProviderRejectedError,
    StreamInterruptedError,
)
from allin.ai.providers.base import (
    ChatRequest,
    Completion,
    Delta,
    FailureKind,
    Provider,
    ProviderFailure,
    StreamEnd,
)
from allin.core.breaker import BreakerConfig, CircuitBreaker, CircuitState
from allin.core.clock import clock, utcnow
from allin.core.logging import Category, get_logger

log = get_logger(Category.AI)


class _CircuitOpen(Exception):
    pass


def _is_outage(error: BaseException) -> bool:
    return isinstance(error, ProviderFailure) and error.kind is not FailureKind.BAD_REQUEST


def _breaker(name: str, config: BreakerConfig | None) -> CircuitBreaker:
    return CircuitBreaker(
        config, f"ai:{name}", is_failure=_is_outage, open_error=lambda _: _CircuitOpen()
    )


@dataclass
class Slot:
    provider: Provider
    breaker: CircuitBreaker
    cool_until: float = 0.0
    last_success: datetime | None = None
    last_error: str | None = None

    def skip_reason(self) -> str | None:
        """Why this provider is not asked now; None admits the call (a half-open probe)."""
        if clock.monotonic() < self.cool_until:
            return "cooling down after 429"
        try:
            self.breaker.before_call()
        except _CircuitOpen:
            return "circuit open"
        return None

    def release(self) -> None:
        # No verdict (the caller went away): a half-open probe slot must not stay taken.
        self.breaker._release_probe()


@dataclass
class Attempts:
    tried: list[dict[str, Any]] = field(default_factory=list)

    def add(self, slot: Slot, reason: str, status: int | None = None) -> None:
        entry: dict[str, Any] = {"provider": slot.provider.name, "reason": reason}
        if status is not None:
            entry["status"] = status
        self.tried.append(entry)


class ProviderChain:
    def __init__(
        self,
        providers: list[Provider],
        *,
        breaker: BreakerConfig | None = None,
        retry_after_max: float = 30.0,
    ) -> None:
        self.slots = [Slot(p, _breaker(p.name, breaker)) for p in providers]
        self.retry_after_max = retry_after_max

    async def aclose(self) -> None:
        for slot in self.slots:
            await slot.provider.aclose()

    def status(self) -> list[dict[str, Any]]:
        return [
            {
                "name": s.provider.name,
                "kind": s.provider.kind,
                "model": s.provider.model,
                "breaker": s.breaker.state.value,
                "cooling_down": clock.monotonic() < s.cool_until,
                "last_success": s.last_success.isoformat() if s.last_success else None,
                "last_error": s.last_error,
            }
            for s in self.slots
        ]

    def usable(self) -> bool:
        return any(s.breaker.state is not CircuitState.OPEN for s in self.slots)

    async def complete(self, request: ChatRequest, feature: str) -> Completion:
        attempts = Attempts()
        for slot in self._slots():
            reason = slot.skip_reason()
            if reason is not None:
                attempts.add(slot, reason)
                continue
            started = clock.monotonic()
            try:
                result = await slot.provider.complete(request)
            except ProviderFailure as failure:
                self._failed(slot, failure, started, feature, attempts)
                continue
            except BaseException:
                slot.release()
                raise
            self._succeeded(slot, result, started, feature)
            return result
        raise AllProvidersFailedError(attempts.tried)

    async def stream(self, request: ChatRequest, feature: str) -> AsyncIterator[Delta | Completion]:
        """Deltas as they arrive, then the whole answer as a `Completion`."""
        attempts = Attempts()
        for slot in self._slots():
            reason = slot.skip_reason()
            if reason is not None:
                attempts.add(slot, reason)
                continue
            started = clock.monotonic()
            parts: list[str] = []
            try:
                async for item in slot.provider.stream(request):
                    if isinstance(item, StreamEnd):
                        result = Completion(
                            "".join(parts),
                            item.usage,
                            slot.provider.name,
                            slot.provider.model,
                            item.truncated,
                        )
                        self._succeeded(slot, result, started, feature)
                        yield result
                        return
                    parts.append(item.text)
                    yield item
            except ProviderFailure as failure:
                if parts:  # the caller has text already: switching now would splice answers
                    self._failed(slot, failure, started, feature, attempts, fall_back=False)
                    raise StreamInterruptedError(
                        details={"provider": slot.provider.name, "reason": failure.message}
                    ) from None
                self._failed(slot, failure, started, feature, attempts)
                continue
            except BaseException:
                slot.release()
                raise
        raise AllProvidersFailedError(attempts.tried)

    def _slots(self) -> list[Slot]:
        if not self.slots:
            raise NoProvidersError()
        return self.slots

    def _succeeded(self, slot: Slot, result: Completion, started: float, feature: str) -> None:
        slot.breaker.record_success()
        slot.last_success = utcnow()
        slot.last_error = None
        log.info(
            "ai call",
            feature=feature,
            provider=slot.provider.name,
            model=result.model,
            input_tokens=result.usage.input_tokens,
            output_tokens=result.usage.output_tokens,
            latency_ms=round((clock.monotonic() - started) * 1000, 1),
            outcome="ok",
        )

    def _failed(
        self,
        slot: Slot,
        failure: ProviderFailure,
        started: float,
        feature: str,
        attempts: Attempts,
        *,
        fall_back: bool = True,
    ) -> None:
        slot.last_error = failure.message
        if failure.kind is FailureKind.BAD_REQUEST:
            slot.breaker.record_success()  # the provider works; our request was refused
        else:
            slot.breaker.record_failure()
        if failure.kind is FailureKind.RATE_LIMITED:
            wait = min(failure.retry_after or 1.0, self.retry_after_max)
            slot.cool_until = clock.monotonic() + wait
        log.warning(
            "ai call failed",
            feature=feature,
            provider=slot.provider.name,
            model=slot.provider.model,
            status=failure.status,
            failure=failure.kind.value,
            reason=failure.message,
            latency_ms=round((clock.monotonic() - started) * 1000, 1),
        )
        attempts.add(slot, failure.message, failure.status)
        if fall_back and not failure.falls_back:
            raise ProviderRejectedError(
                f"The AI provider refused the request: {failure.message}",
                details={"provider": slot.provider.name, "status": failure.status},
            )
