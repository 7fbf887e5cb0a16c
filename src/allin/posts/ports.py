"""What the posts domain needs from the social accounts domain, as a port.

The composition layer wires it to the accounts service, so posts never reach into how
accounts, tokens or providers are stored.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from allin.social.providers.base import (
    AccountCredentials,
    ContentRules,
    ErrorKind,
    Platform,
    SocialProvider,
    SocialProviderError,
)


@dataclass(frozen=True, slots=True)
class AccountRef:
    id: uuid.UUID
    owner_id: uuid.UUID
    platform: Platform
    name: str | None = None


class PublishingAccounts(Protocol):
    async def account(self, account_id: uuid.UUID) -> AccountRef | None:
        """The connected account, or None when it does not exist (any more)."""

    async def credentials(self, account_id: uuid.UUID) -> tuple[SocialProvider, AccountCredentials]:
        """The account's provider and fresh credentials; raises SocialProviderError (AUTH
        when the user must reconnect)."""

    async def needs_reconnect(self, account_id: uuid.UUID, error: SocialProviderError) -> None:
        """Marks the account as needing the user to reconnect it."""

    def content_rules(self, platform: Platform) -> ContentRules | None:
        """The registered provider's rules for `platform`, if one is registered."""


class NoAccounts:
    """Stands in until an accounts service is wired: no account exists, nothing publishes."""

    async def account(self, account_id: uuid.UUID) -> AccountRef | None:
        return None

    async def credentials(self, account_id: uuid.UUID) -> tuple[SocialProvider, AccountCredentials]:
        raise SocialProviderError(
            "No social accounts service is configured",
            kind=ErrorKind.CONFIG,
            platform=Platform.X,
        )

    async def needs_reconnect(self, account_id: uuid.UUID, error: SocialProviderError) -> None:
        return None

    def content_rules(self, platform: Platform) -> ContentRules | None:
        return None


@dataclass(frozen=True, slots=True)
class Due:
    """A target row that becomes due for publishing at `at` (UTC)."""

    target_id: uuid.UUID
    at: datetime


class QueueWaker(Protocol):
    """Tells the queue's executor about rows just committed as due at some time: the
    embedded dispatcher looks at the queue now, the procrastinate queue defers a job for
    each row's due time. Called after the commit, so the executor sees the rows."""

    async def due(self, targets: Sequence[Due]) -> None: ...


class NoWaker:
    """No executor in this process: the queue's own polling finds the rows."""

    async def due(self, targets: Sequence[Due]) -> None:
        return None
