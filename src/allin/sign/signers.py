"""The interface every signer (algorithm, browser, upstream) implements."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable


@dataclass(frozen=True, slots=True)
class SignedUrl:
    """A TikTok URL with its signature parameters, as the sign API returns them.

    ``signed_url`` already carries ``msToken`` and ``X-Bogus``; ``x_tt_params`` is the
    value for the ``x-tt-params`` request header; ``user_agent`` is the exact UA the
    signature is bound to (the request must be sent with it).
    """

    signed_url: str
    x_bogus: str
    ms_token: str
    x_tt_params: str
    user_agent: str
    signature: str


@runtime_checkable
class Signer(Protocol):
    """Signs TikTok web URLs. Implementations differ in how (pure code, browser, upstream)."""

    name: str

    async def sign_url(
        self,
        url: str,
        *,
        user_agent: str | None = None,
        now: Callable[[], float] | None = None,
    ) -> SignedUrl:
        """Return ``url`` signed for ``user_agent`` at time ``now()`` (seconds)."""
        ...

    async def ready(self) -> bool:
        """Whether the signer can sign right now."""
        ...


class SignerError(Exception):
    """A signer failed to sign. ``status`` is the HTTP status the API reports for it."""

    status: int = 502

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status


class SignerUnavailable(SignerError):
    """The signer is not ready (browser not started, every upstream down) or is saturated."""

    status = 503
