"""Publishes one claimed target, or reconciles one whose outcome is unknown.

The order of steps is what keeps a post from going out twice: the row is committed as
PUBLISHING (with `sent_at`) before the platform call, so a crash, timeout or 5xx after it
leaves a row the reconciler must check with the platform (read-back or publish status)
before anything is sent again. Only errors the provider classifies as happening before the
send (TRANSIENT, RATE_LIMITED) are retried, with backoff and the platform's Retry-After.

A rate limit opens a window in the database (`windows`) for the account, or for every account
of the app when the platform limits the whole app; a target held by an open window is not
sent but moved to the window's end, without counting an attempt.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, nullcontext
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from allin.core.clock import clock
from allin.core.config import Settings
from allin.core.logging import Category, bind_correlation_id, get_logger, new_correlation_id
from allin.db.engine import is_sqlite
from allin.posts import queue, windows
from allin.posts.media import MediaStore, media_item, media_links
from allin.posts.models import MediaAsset, Post, PostTarget, RateWindow, TargetStatus
from allin.posts.notify import Notifier
from allin.posts.ports import PublishingAccounts
from allin.posts.rules import rules_for
from allin.posts.validation import validate
from allin.social.providers.base import (
    ErrorKind,
    LimitScope,
    Platform,
    PublishRequest,
    PublishResult,
    PublishState,
    SocialProviderError,
)

log = get_logger(Category.QUEUE)
_FIND_MARGIN = timedelta(seconds=5)  # clock skew between us and the platform
_SWEEP_WINDOWS_EVERY = 60.0  # s; ended windows are already ignored, this only tidies
UNCONFIRMED_CODE = "POST_005"  # the platform never confirmed a send either way


@dataclass(slots=True)
class Outcome:
    status: TargetStatus
    values: dict[str, Any]


class Publisher:
    def __init__(
        self,
        settings: Settings,
        session_factory: async_sessionmaker[AsyncSession],
        accounts: PublishingAccounts,
        media: MediaStore,
        notifier: Notifier,
        owner: str,
    ) -> None:
        self.settings = settings
        self.sessions = session_factory
        self.accounts = accounts
        self.media = media
        self.notifier = notifier
        self.owner = owner
        self.lease = timedelta(seconds=settings.posts_lease_seconds)
        self._windows_swept = float("-inf")
        self.links = media_links(settings)
        self.published = 0
        # SQLite has one writer: queueing our own writes here beats dozens of connections
        # spinning on the file lock (and timing out under a burst).
        self._write_lock = asyncio.Lock() if is_sqlite(settings.effective_database_url) else None

    @asynccontextmanager
    async def writing(self) -> AsyncIterator[AsyncSession]:
        """A write transaction, one at a time on SQLite."""
        async with self._write_lock or nullcontext(), self.sessions() as session, session.begin():
            yield session

    async def run(self, target_id: uuid.UUID) -> TargetStatus | None:
        """Handles one target this publisher holds the lease on."""
        bind_correlation_id(new_correlation_id())
        async with self.sessions() as session:
            target = await session.get(PostTarget, target_id)
            if target is None or target.lease_owner != self.owner:
                return None
            post = await session.get(Post, target.post_id)
            assets = await self._assets(session, post)
        if post is None:
            return None
        try:
            request = self._request(post, target, assets)
        except Exception as exc:  # a broken row must not stop the queue
            return await self._finish(target, Outcome(*self._failed("INTERNAL", str(exc))))
        if target.status == TargetStatus.UNCONFIRMED:
            return await self._reconcile(target, request)
        return await self._publish(target, request, assets)

    async def _assets(self, session: AsyncSession, post: Post | None) -> list[MediaAsset]:
        if post is None or not post.media_ids:
            return []
        ids = [uuid.UUID(value) for value in post.media_ids]
        found = {
            a.id: a for a in await session.scalars(select(MediaAsset).where(MediaAsset.id.in_(ids)))
        }
        return [found[i] for i in ids if i in found]

    def _request(self, post: Post, target: PostTarget, assets: list[MediaAsset]) -> PublishRequest:
        variant = (post.variants or {}).get(target.platform) or {}
        return PublishRequest(
            text=variant.get("text") or post.content,
            media=tuple(media_item(self.media, asset) for asset in assets),
            options=variant.get("options") or {},
            first_comment=variant.get("first_comment"),
            idempotency_key=target.idempotency_key,
        )

    async def _publish(
        self, target: PostTarget, request: PublishRequest, assets: list[MediaAsset]
    ) -> TargetStatus | None:
        now = clock.now()
        platform = Platform(target.platform)
        rules = rules_for(platform, self.accounts.content_rules(platform))
        verdict = validate(request.text, request.media, rules)
        if not verdict.ok:
            first = verdict.problems[0]
            text = "; ".join(problem.message for problem in verdict.problems)
            return await self._finish(target, Outcome(*self._failed(first.code, text)))
        window = await self._window(target, now)
        if window is not None:
            self._log(target, "held by a rate window", scope=window.scope, until=window.until)
            words = self._limit_words(target, window.until, window.scope, window.reason)
            return await self._finish(target, self._rate_limited(window.until, words))
        try:
            provider, credentials = await self.accounts.credentials(target.account_id)
        except SocialProviderError as exc:
            return await self._finish(target, await self._on_error(target, exc, sent=False))
        if provider.pulls_media:
            request = self._with_links(request, assets, now)
        async with self.writing() as session:
            if not await queue.mark_sending(session, target.id, self.owner, now, self.lease):
                return None  # the lease expired; another process owns the row now
        self._log(target, "sending", attempt=target.attempts + 1)
        try:
            result = await provider.publish(credentials, request)
        except SocialProviderError as exc:
            return await self._finish(target, await self._on_error(target, exc, sent=True))
        except Exception as exc:  # after the send, anything means "unknown"
            return await self._finish(
                target, self._unconfirmed(now, f"{type(exc).__name__}: {exc}")
            )
        return await self._finish(target, self._on_result(result, now))

    def _with_links(
        self, request: PublishRequest, assets: list[MediaAsset], now: datetime
    ) -> PublishRequest:
        """Each file with a signed link the platform fetches it from."""
        urls = [self.links.url(asset.id, now.timestamp()) for asset in assets]
        media = zip(request.media, urls, strict=True)
        return replace(request, media=tuple(replace(m, public_url=url) for m, url in media))

    async def _reconcile(self, target: PostTarget, request: PublishRequest) -> TargetStatus | None:
        now = clock.now()
        window = await self._window(target, now)
        if window is not None:  # a read-back is a call too (on LinkedIn it may send again)
            words = self._limit_words(target, window.until, window.scope, window.reason)
            return await self._finish(
                target, self._recheck(target, now, words, at=window.until, count=False)
            )
        try:
            provider, credentials = await self.accounts.credentials(target.account_id)
            since = (target.sent_at or now) - _FIND_MARGIN
            result: PublishResult | None = None
            if target.tracking_id:
                result = await provider.publish_status(credentials, target.tracking_id)
            if result is None or (
                # Published, but the status names no post (an Instagram container that was
                # published by an attempt whose answer was lost): the read-back names it.
                result.state is PublishState.PUBLISHED and not result.platform_post_id
            ):
                result = await provider.find_published(credentials, request, since) or result
        except SocialProviderError as exc:
            if exc.kind in (ErrorKind.AUTH, ErrorKind.REJECTED, ErrorKind.CONFIG):
                return await self._finish(target, await self._on_error(target, exc, sent=False))
            if exc.kind is ErrorKind.RATE_LIMITED:
                # Throttled reads say nothing about the post: ask again once the window
                # ends, without spending one of the checks.
                until, words = await self._open_window(target, exc, now)
                outcome = self._recheck(target, now, words, at=until, count=False)
                return await self._finish(target, outcome)
            return await self._finish(target, self._recheck(target, now, exc.message))
        if result is not None and result.state is PublishState.PUBLISHED:
            self._log(target, "reconciled", found=result.platform_post_id)
            return await self._finish(target, self._on_result(result, now))
        if result is not None:  # still processing at the platform
            return await self._finish(target, self._recheck(target, now, None, result.tracking_id))
        grace = (target.sent_at or now) + timedelta(seconds=self.settings.posts_reconcile_grace)
        if now < grace:
            return await self._finish(target, self._recheck(target, now, None, at=grace))
        self._log(target, "not on the platform: sending again")
        # The grace already passed: send again now (same idempotency key).
        outcome = self._retry(target, now, None, "The platform has no such post", delay=0.0)
        return await self._finish(target, outcome)

    def _on_result(self, result: PublishResult, now: datetime) -> Outcome:
        if result.state is PublishState.PUBLISHED:
            return Outcome(
                TargetStatus.PUBLISHED,
                {
                    "platform_post_id": result.platform_post_id,
                    "platform_url": result.url,
                    "published_at": now,
                    "last_error": None,
                    "last_error_code": None,
                },
            )
        # Accepted and processing: the reconciler polls the tracking id.
        return Outcome(
            TargetStatus.UNCONFIRMED,
            {
                "tracking_id": result.tracking_id,
                "next_attempt_at": now + timedelta(seconds=self.settings.posts_reconcile_interval),
                "last_error": None,
                "last_error_code": None,
            },
        )

    async def _on_error(
        self, target: PostTarget, exc: SocialProviderError, *, sent: bool
    ) -> Outcome:
        now = clock.now()
        words = exc.platform_message or exc.message
        self._log(target, "platform error", kind=exc.kind.value, code=exc.code, detail=words)
        if exc.kind is ErrorKind.AUTH:
            await self.accounts.needs_reconnect(target.account_id, exc)
            return Outcome(*self._failed(exc.code, f"Reconnect the account: {words}"))
        if exc.kind in (ErrorKind.REJECTED, ErrorKind.CONFIG):
            return Outcome(*self._failed(exc.code, words))
        if exc.kind is ErrorKind.UNKNOWN_OUTCOME:
            return self._unconfirmed(now, words)
        if exc.kind is ErrorKind.RATE_LIMITED:
            return self._rate_limited(*await self._open_window(target, exc, now))
        return self._retry(target, now, exc.code, words, retry_after=exc.retry_after)

    def _failed(self, code: str, words: str) -> tuple[TargetStatus, dict[str, Any]]:
        return TargetStatus.FAILED, {"last_error_code": code, "last_error": words}

    def _unconfirmed(self, now: datetime, words: str) -> Outcome:
        return Outcome(
            TargetStatus.UNCONFIRMED,
            {
                "next_attempt_at": now,
                "last_error_code": "SOCIAL_004",
                "last_error": f"No answer after sending; checking the platform ({words})",
            },
        )

    def _recheck(
        self,
        target: PostTarget,
        now: datetime,
        words: str | None,
        tracking_id: str | None = None,
        at: datetime | None = None,
        count: bool = True,
    ) -> Outcome:
        """Asks the platform again later, up to `posts_reconcile_max` times; then the user
        must look: sending again could post twice, giving up silently could lose the post."""
        checks = target.checks + (1 if count else 0)
        if checks >= self.settings.posts_reconcile_max:
            platform = Platform(target.platform).value
            detail = f" (last answer: {words})" if words else ""
            return Outcome(
                *self._failed(
                    UNCONFIRMED_CODE,
                    f"{platform} did not confirm the post after {checks} checks{detail}. "
                    f"Look for it on the {platform} account: if it is not there, retry it.",
                )
            )
        values: dict[str, Any] = {
            "checks": checks,
            "next_attempt_at": at
            or now + timedelta(seconds=self.settings.posts_reconcile_interval),
        }
        if tracking_id:
            values["tracking_id"] = tracking_id
        if words:
            values["last_error"] = words
        return Outcome(TargetStatus.UNCONFIRMED, values)

    async def _window(self, target: PostTarget, now: datetime) -> RateWindow | None:
        """The open rate window holding this target's account, if any (ended ones are swept
        now and then)."""
        async with self.sessions() as session:
            window = await windows.holding(session, target.platform, target.account_id, now)
        if clock.monotonic() - self._windows_swept >= _SWEEP_WINDOWS_EVERY:
            self._windows_swept = clock.monotonic()
            async with self.writing() as session:
                await windows.sweep(session, now)
        return window

    async def _open_window(
        self, target: PostTarget, exc: SocialProviderError, now: datetime
    ) -> tuple[datetime, str]:
        """Opens the window the platform named (the account's or the app's) for every
        process to see; returns its end and the words for the target."""
        until = exc.reset_at or now + timedelta(seconds=self.settings.posts_retry_base)
        until = max(until, now + timedelta(seconds=1))
        scope = exc.scope or LimitScope.ACCOUNT
        words = exc.platform_message or exc.message
        async with self.writing() as session:
            await windows.open_window(
                session, Platform(target.platform), target.account_id, scope, until, words, now
            )
        self._log(target, "rate window opened", scope=scope.value, until=until.isoformat())
        return until, self._limit_words(target, until, scope, words)

    @staticmethod
    def _limit_words(target: PostTarget, until: datetime, scope: str, words: str | None) -> str:
        who = "the app" if scope == LimitScope.APP else "this account"
        text = f"Rate limited by {target.platform} ({who}) until {until.isoformat()}"
        return text + (f": {words}" if words else "")

    def _rate_limited(self, until: datetime, words: str) -> Outcome:
        """Back in the queue at the window's end; no attempt is counted."""
        return Outcome(
            TargetStatus.SCHEDULED,
            {"next_attempt_at": until, "last_error_code": "SOCIAL_003", "last_error": words},
        )

    def _retry(
        self,
        target: PostTarget,
        now: datetime,
        code: str | None,
        words: str,
        retry_after: float | None = None,
        delay: float | None = None,
    ) -> Outcome:
        attempts = target.attempts + (1 if target.status == TargetStatus.SCHEDULED else 0)
        if attempts >= self.settings.posts_max_attempts:
            return Outcome(
                *self._failed(code or "SOCIAL_002", f"Gave up after {attempts} attempts: {words}")
            )
        backoff = min(
            self.settings.posts_retry_max,
            self.settings.posts_retry_base * 2 ** max(0, attempts - 1),
        )
        if delay is None:
            delay = max(backoff, retry_after or 0.0)
        return Outcome(
            TargetStatus.SCHEDULED,
            {
                "next_attempt_at": now + timedelta(seconds=delay),
                "last_error_code": code or "SOCIAL_002",
                "last_error": words,
            },
        )

    async def _finish(self, target: PostTarget, outcome: Outcome) -> TargetStatus | None:
        """Records the outcome and releases the lease. PUBLISHED is recorded whoever holds
        the lease (the platform has the post; that is the truth); anything else only by the
        lease holder."""
        now = clock.now()
        values = {**outcome.values, "status": outcome.status, "updated_at": now}
        values.update(lease_owner=None, lease_expires_at=None)
        condition: list[Any] = [PostTarget.id == target.id]
        if outcome.status is TargetStatus.PUBLISHED:
            condition.append(
                PostTarget.status.in_((TargetStatus.PUBLISHING, TargetStatus.UNCONFIRMED))
            )
        else:
            condition.append(PostTarget.lease_owner == self.owner)
        async with self.writing() as session:
            result = await session.execute(
                update(PostTarget)
                .where(*condition)
                .values(**values)
                .execution_options(synchronize_session=False)
            )
            if not result.rowcount:  # type: ignore[attr-defined]
                return None
            if outcome.status is TargetStatus.FAILED:
                await self.notifier.failed(session, target, str(values.get("last_error")))
        if outcome.status is TargetStatus.PUBLISHED:
            self.published += 1
        self._log(
            target, "outcome", status=outcome.status.value, error=values.get("last_error_code")
        )
        return outcome.status

    def _log(self, target: PostTarget, event: str, **fields: Any) -> None:
        log.info(
            event,
            post_id=str(target.post_id),
            target_id=str(target.id),
            account_id=str(target.account_id),
            platform=target.platform,
            **fields,
        )
