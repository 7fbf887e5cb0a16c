"""What every provider's HTTP calls share: the project's HTTP client, a circuit breaker per
platform, retries with backoff for safe steps, and the rule that the irreversible publish call
is sent once.

A safe step (an upload, a status read, a listing) is retried on TRANSIENT and on RATE_LIMITED
errors whose wait is short, honouring the platform's wait. The publish call is never retried
here: a connection that never opened is TRANSIENT (nothing was sent), while a timeout, a broken
connection or a server error after it was sent is UNKNOWN_OUTCOME, for the caller to reconcile
with read-back. URLs are logged without their query string, so nothing secret a platform
expects there can leak into logs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from allin.core.breaker import BreakerConfig, CircuitBreaker
from allin.core.http import create_http_client
from allin.core.logging import Category, get_logger
from allin.core.retry import Retry, RetryPolicy, parse_retry_after
from allin.social.providers.base import ErrorKind, Platform, SocialProviderError

log = get_logger(Category.SOCIAL)

Classifier = Callable[[httpx.Response], SocialProviderError]
Ambiguity = Callable[[SocialProviderError], bool]


def transient_is_ambiguous(error: SocialProviderError) -> bool:
    """By default any transient answer (a 5xx) to a sent publish call leaves it unknown."""
    return error.kind is ErrorKind.TRANSIENT


def safe_step_retry(error: Exception) -> Retry | None:
    """A safe step is tried again after a transient failure, or after a rate limit that names
    its wait (one that does not is surfaced: guessing would only hit the limit again)."""
    if not isinstance(error, SocialProviderError):
        return None
    if error.kind is ErrorKind.RATE_LIMITED and error.retry_after is not None:
        return Retry(error.retry_after)
    if error.kind is ErrorKind.TRANSIENT:
        return Retry(error.retry_after)
    return None


def platform_breaker(platform: Platform, config: BreakerConfig | None = None) -> CircuitBreaker:
    """Counts only the platform's outages (5xx, timeouts, network), never our bad requests."""

    def is_failure(error: BaseException) -> bool:
        return isinstance(error, SocialProviderError) and error.kind in (
            ErrorKind.TRANSIENT,
            ErrorKind.UNKNOWN_OUTCOME,
        )

    def open_error(remaining: float) -> Exception:
        return SocialProviderError(
            f"{platform.value} is failing; calls are paused",
            kind=ErrorKind.TRANSIENT,
            platform=platform,
            retry_after=remaining,
        )

    return CircuitBreaker(
        config, f"social.{platform.value}", is_failure=is_failure, open_error=open_error
    )


def _not_sent(error: httpx.TransportError) -> bool:
    """True when the request surely never reached the platform."""
    return isinstance(error, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)


class Transport:
    """One platform's HTTP: every call goes through the breaker; safe calls also retry."""

    def __init__(
        self,
        platform: Platform,
        classify: Classifier,
        *,
        timeout: float = 15.0,
        retry: RetryPolicy | None = None,
        breaker: CircuitBreaker | None = None,
        client: httpx.AsyncClient | None = None,
        ambiguous: Ambiguity = transient_is_ambiguous,
    ) -> None:
        self.platform = platform
        self.classify = classify
        self.ambiguous = ambiguous
        self.retry = retry or RetryPolicy()
        self.breaker = breaker or platform_breaker(platform)
        self.client = client or create_http_client(timeout=timeout)

    async def aclose(self) -> None:
        await self.client.aclose()

    def _error(self, kind: ErrorKind, message: str) -> SocialProviderError:
        return SocialProviderError(message, kind=kind, platform=self.platform)

    async def _send_once(
        self, method: str, url: str, after_send: ErrorKind, **kwargs: Any
    ) -> httpx.Response:
        where = url.split("?", 1)[0]
        try:
            response = await self.client.request(method, url, **kwargs)
        except httpx.TransportError as exc:
            kind = ErrorKind.TRANSIENT if _not_sent(exc) else after_send
            log.warning(
                "platform call failed",
                platform=self.platform,
                method=method,
                url=where,
                error=type(exc).__name__,
            )
            raise self._error(
                kind, f"{self.platform.value} did not answer ({type(exc).__name__})"
            ) from exc
        log.debug(
            "platform call",
            platform=self.platform,
            method=method,
            url=where,
            status=response.status_code,
        )
        if response.is_success:
            return response
        error = self.classify(response)
        if after_send is not ErrorKind.TRANSIENT and self.ambiguous(error):
            # The platform received the irreversible call and answered with a failure that
            # may not be the whole truth (a 5xx, Meta's transient codes): reconcile first.
            error = SocialProviderError(
                error.message,
                kind=after_send,
                platform=error.platform,
                platform_code=error.platform_code,
                platform_message=error.platform_message,
                http_status=error.http_status,
            )
        log.info(
            "platform refused",
            platform=self.platform,
            method=method,
            url=where,
            status=response.status_code,
            kind=error.kind,
            platform_code=error.platform_code,
        )
        raise error

    async def once(
        self,
        method: str,
        url: str,
        *,
        after_send: ErrorKind = ErrorKind.UNKNOWN_OUTCOME,
        **kwargs: Any,
    ) -> httpx.Response:
        """The irreversible call: sent once. `after_send` is what a failure after sending
        means (UNKNOWN_OUTCOME for a publish; TRANSIENT for a token grant)."""

        async def call() -> httpx.Response:
            return await self._send_once(method, url, after_send, **kwargs)

        return await self.breaker.call(call)

    async def safe(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """A step that may be repeated without harm: retried with backoff."""

        async def call() -> httpx.Response:
            return await self._send_once(method, url, ErrorKind.TRANSIENT, **kwargs)

        return await self.retry.call(lambda: self.breaker.call(call), safe_step_retry)


def json_body(response: httpx.Response) -> Any:
    """The JSON of an answer, or None when it has none (or it is not JSON)."""
    try:
        return response.json()
    except ValueError:
        return None


def retry_after(response: httpx.Response) -> float | None:
    """Seconds to wait from the response's Retry-After header (RFC 9110 section 10.2.3)."""
    return parse_retry_after(response.headers.get("retry-after"))
