"""Composing, validating, scheduling and managing posts for their owner."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from allin.core.clock import clock
from allin.core.config import Settings
from allin.core.deps import after_commit
from allin.posts.errors import (
    AccountNotFoundError,
    ContentInvalidError,
    MediaNotFoundError,
    NoFreeSlotError,
    PostNotFoundError,
    PostStateError,
    ScheduleInPastError,
)
from allin.posts.media import MediaStore, media_item
from allin.posts.models import (
    MediaAsset,
    Notification,
    Post,
    PostingPreferences,
    PostingSlot,
    PostTarget,
    TargetStatus,
)
from allin.posts.ports import AccountRef, Due, NoWaker, PublishingAccounts, QueueWaker
from allin.posts.rules import rules_for
from allin.posts.scheduling import next_free_slot, to_local, to_utc, zone
from allin.posts.schemas import (
    PostIn,
    PostOut,
    PostUpdate,
    ProblemOut,
    ScheduleIn,
    TargetOut,
    ValidateIn,
    Variant,
    VerdictOut,
)
from allin.posts.validation import validate
from allin.social.providers.base import ContentRules, MediaItem, Platform

# Targets in these states may still be edited, rescheduled or cancelled.
EDITABLE = (TargetStatus.DRAFT, TargetStatus.SCHEDULED, TargetStatus.FAILED)
_PAST_TOLERANCE = timedelta(minutes=1)


class PostsService:
    def __init__(
        self,
        settings: Settings,
        accounts: PublishingAccounts,
        media: MediaStore,
        waker: QueueWaker | None = None,
    ) -> None:
        self.settings = settings
        self.accounts = accounts
        self.media = media
        self.waker = waker or NoWaker()

    def _wake_after_commit(self, session: AsyncSession, due: Sequence[Due]) -> None:
        """The queue hears of the rows once they are committed (a job deferred before the
        commit could run before the row is visible, or for a row rolled back)."""
        if due:
            targets = tuple(due)
            after_commit(session, "posts-queue-wake", lambda: self.waker.due(targets))

    # --- compose ---

    def rules(self, platform: Platform) -> ContentRules:
        return rules_for(platform, self.accounts.content_rules(platform))

    async def owned_accounts(
        self, owner_id: uuid.UUID, ids: Sequence[uuid.UUID]
    ) -> list[AccountRef]:
        refs = []
        for account_id in dict.fromkeys(ids):
            ref = await self.accounts.account(account_id)
            if ref is None or ref.owner_id != owner_id:
                raise AccountNotFoundError(details={"account_id": str(account_id)})
            refs.append(ref)
        return refs

    async def media_items(
        self, session: AsyncSession, owner_id: uuid.UUID, ids: Sequence[uuid.UUID]
    ) -> list[MediaItem]:
        if not ids:
            return []
        rows = await session.scalars(
            select(MediaAsset).where(MediaAsset.id.in_(ids), MediaAsset.owner_id == owner_id)
        )
        found = {row.id: row for row in rows}
        missing = [str(i) for i in ids if i not in found]
        if missing:
            raise MediaNotFoundError(details={"media_ids": missing})
        return [media_item(self.media, found[i]) for i in ids]

    async def validate(
        self, session: AsyncSession, owner_id: uuid.UUID, body: ValidateIn
    ) -> list[VerdictOut]:
        media = await self.media_items(session, owner_id, body.media_ids)
        pairs: list[tuple[uuid.UUID | None, Platform]] = [
            (ref.id, ref.platform) for ref in await self.owned_accounts(owner_id, body.account_ids)
        ]
        pairs += [(None, platform) for platform in dict.fromkeys(body.platforms)]
        return [
            self._verdict(account_id, platform, body.content, body.variants, media)
            for account_id, platform in pairs
        ]

    def _verdict(
        self,
        account_id: uuid.UUID | None,
        platform: Platform,
        content: str,
        variants: dict[Platform, Variant],
        media: list[MediaItem],
    ) -> VerdictOut:
        variant = variants.get(platform)
        text = variant.text if variant is not None and variant.text is not None else content
        verdict = validate(text, media, self.rules(platform))
        return VerdictOut(
            account_id=account_id,
            platform=platform,
            length=verdict.length,
            limit=verdict.limit,
            ok=verdict.ok,
            problems=[
                ProblemOut(code=p.code, message=p.message, media_index=p.media_index)
                for p in verdict.problems
            ],
        )

    async def create(self, session: AsyncSession, owner_id: uuid.UUID, body: PostIn) -> Post:
        zone(body.timezone)
        refs = await self.owned_accounts(owner_id, body.account_ids)
        await self._check_content(
            session, owner_id, body.content, body.variants, body.media_ids, refs,
            strict=body.schedule.mode != "draft",
        )  # fmt: skip
        post = Post(
            owner_id=owner_id,
            content=body.content,
            variants=_variants_json(body.variants),
            media_ids=[str(i) for i in body.media_ids],
            timezone=body.timezone,
        )
        session.add(post)
        await session.flush()
        for ref in refs:
            session.add(
                PostTarget(
                    post_id=post.id,
                    owner_id=owner_id,
                    account_id=ref.id,
                    platform=ref.platform.value,
                    status=TargetStatus.DRAFT,
                    idempotency_key=uuid.uuid4().hex,
                )
            )
        await session.flush()
        await self._apply_schedule(session, post, body.schedule)
        return post

    async def _check_content(
        self,
        session: AsyncSession,
        owner_id: uuid.UUID,
        content: str,
        variants: dict[Platform, Variant],
        media_ids: Sequence[uuid.UUID],
        refs: Sequence[AccountRef],
        *,
        strict: bool,
    ) -> None:
        """Media must exist for drafts too; content must fit every platform to be scheduled."""
        media = await self.media_items(session, owner_id, media_ids)
        if not strict:
            return
        verdicts = [self._verdict(r.id, r.platform, content, variants, media) for r in refs]
        bad = [v for v in verdicts if not v.ok]
        if bad:
            first = bad[0].problems[0]
            raise ContentInvalidError(
                f"{bad[0].platform.value}: {first.message}",
                code=first.code,
                details=[v.model_dump(mode="json") for v in bad],
            )

    async def get(self, session: AsyncSession, owner_id: uuid.UUID, post_id: uuid.UUID) -> Post:
        post = await session.scalar(
            select(Post).where(Post.id == post_id, Post.owner_id == owner_id)
        )
        if post is None:
            raise PostNotFoundError()
        return post

    async def targets(self, session: AsyncSession, post_id: uuid.UUID) -> list[PostTarget]:
        rows = await session.scalars(
            select(PostTarget).where(PostTarget.post_id == post_id).order_by(PostTarget.platform)
        )
        return list(rows)

    async def out(self, session: AsyncSession, post: Post) -> PostOut:
        return PostOut(
            id=post.id,
            content=post.content,
            variants=post.variants,
            media_ids=post.media_ids,
            timezone=post.timezone,
            created_at=post.created_at,
            updated_at=post.updated_at,
            targets=[target_out(t, post.timezone) for t in await self.targets(session, post.id)],
        )

    async def list(
        self,
        session: AsyncSession,
        owner_id: uuid.UUID,
        status: TargetStatus | None,
        limit: int,
        offset: int,
    ) -> list[Post]:
        query = select(Post).where(Post.owner_id == owner_id)
        if status is not None:
            query = query.where(
                Post.id.in_(select(PostTarget.post_id).where(PostTarget.status == status))
            )
        query = query.order_by(Post.created_at.desc(), Post.id).limit(limit).offset(offset)
        return list(await session.scalars(query))

    async def update(
        self, session: AsyncSession, owner_id: uuid.UUID, post_id: uuid.UUID, body: PostUpdate
    ) -> Post:
        post = await self.get(session, owner_id, post_id)
        targets = await self.targets(session, post.id)
        if any(t.status not in EDITABLE for t in targets):
            raise PostStateError("A post that is being or has been published cannot be edited")
        if body.timezone is not None:
            zone(body.timezone)
            post.timezone = body.timezone
        if body.content is not None:
            post.content = body.content
        if body.variants is not None:
            post.variants = _variants_json(body.variants)
        if body.media_ids is not None:
            post.media_ids = [str(i) for i in body.media_ids]
        variants = {Platform(k): Variant.model_validate(v) for k, v in post.variants.items()}
        refs = [await self._ref(t) for t in targets]
        await self._check_content(
            session, owner_id, post.content, variants,
            [uuid.UUID(i) for i in post.media_ids], refs,
            strict=any(t.status == TargetStatus.SCHEDULED for t in targets),
        )  # fmt: skip
        post.updated_at = clock.now()
        return post

    async def _ref(self, target: PostTarget) -> AccountRef:
        return AccountRef(target.account_id, target.owner_id, Platform(target.platform))

    async def delete(self, session: AsyncSession, owner_id: uuid.UUID, post_id: uuid.UUID) -> None:
        post = await self.get(session, owner_id, post_id)
        targets = await self.targets(session, post.id)
        if any(t.status in (TargetStatus.PUBLISHING, TargetStatus.UNCONFIRMED) for t in targets):
            raise PostStateError("The post is being published; wait for the outcome")
        await session.delete(post)

    # --- schedule ---

    async def schedule(
        self, session: AsyncSession, owner_id: uuid.UUID, post_id: uuid.UUID, body: ScheduleIn
    ) -> Post:
        post = await self.get(session, owner_id, post_id)
        targets = await self.targets(session, post.id)
        if not any(t.status in EDITABLE for t in targets):
            raise PostStateError("No target of this post can be rescheduled")
        if body.mode != "draft":
            variants = {Platform(k): Variant.model_validate(v) for k, v in post.variants.items()}
            await self._check_content(
                session, owner_id, post.content, variants,
                [uuid.UUID(i) for i in post.media_ids],
                [await self._ref(t) for t in targets if t.status in EDITABLE],
                strict=True,
            )  # fmt: skip
        await self._apply_schedule(session, post, body)
        return post

    async def _apply_schedule(self, session: AsyncSession, post: Post, body: ScheduleIn) -> None:
        now = clock.now()
        targets = [t for t in await self.targets(session, post.id) if t.status in EDITABLE]
        if body.mode == "draft":
            for target in targets:
                target.status, target.scheduled_at, target.next_attempt_at = (
                    TargetStatus.DRAFT, None, None,
                )  # fmt: skip
            return
        if body.timezone is not None:
            zone(body.timezone)
            post.timezone = body.timezone
        for target in targets:
            when = await self._when(session, post, target, body, now)
            target.status = TargetStatus.SCHEDULED
            target.scheduled_at = when
            target.next_attempt_at = when
            target.attempts = 0
            target.last_error = target.last_error_code = None
        await session.flush()
        self._wake_after_commit(
            session, [Due(t.id, t.next_attempt_at) for t in targets if t.next_attempt_at]
        )

    async def _when(
        self, session: AsyncSession, post: Post, target: PostTarget, body: ScheduleIn, now: datetime
    ) -> datetime:
        if body.mode == "now":
            return now
        if body.mode == "queue":
            return await self._next_slot(session, target, now)
        if body.local_time is None:
            raise ScheduleInPastError("local_time is required to schedule at a time")
        when = to_utc(body.local_time, post.timezone, body.fold)
        if when < now - _PAST_TOLERANCE:
            raise ScheduleInPastError(
                f"{body.local_time.isoformat()} in {post.timezone} is in the past"
            )
        return when

    async def _next_slot(
        self, session: AsyncSession, target: PostTarget, now: datetime
    ) -> datetime:
        slots = list(
            await session.scalars(
                select(PostingSlot).where(PostingSlot.account_id == target.account_id)
            )
        )
        if not slots:
            raise NoFreeSlotError(
                "Set the account's weekly posting slots to add posts to its queue"
            )
        taken_rows = await session.scalars(
            select(PostTarget.scheduled_at).where(
                PostTarget.account_id == target.account_id,
                PostTarget.id != target.id,
                PostTarget.scheduled_at > now,
                PostTarget.status.in_(
                    (TargetStatus.SCHEDULED, TargetStatus.PUBLISHING, TargetStatus.UNCONFIRMED)
                ),
            )
        )
        taken = {t for t in taken_rows if t is not None}
        slot = next_free_slot(((s.weekday, s.minute_of_day, s.timezone) for s in slots), taken, now)
        if slot is None:
            raise NoFreeSlotError("Every posting slot of the next eight weeks is taken")
        return slot

    async def cancel(self, session: AsyncSession, owner_id: uuid.UUID, post_id: uuid.UUID) -> Post:
        post = await self.get(session, owner_id, post_id)
        await session.execute(
            update(PostTarget)
            .where(
                PostTarget.post_id == post.id,
                PostTarget.status.in_(EDITABLE),
                PostTarget.lease_owner.is_(None),  # a claimed row is about to be sent
            )
            .values(status=TargetStatus.CANCELLED, next_attempt_at=None, updated_at=clock.now())
            .execution_options(synchronize_session=False)
        )
        return post

    async def retry(self, session: AsyncSession, owner_id: uuid.UUID, post_id: uuid.UUID) -> Post:
        """Failed targets go back to the queue now (the platform said no, or we gave up)."""
        post = await self.get(session, owner_id, post_id)
        return await self.publish_now(session, post, (TargetStatus.FAILED,))

    async def publish_now(
        self,
        session: AsyncSession,
        post: Post,
        statuses: Sequence[TargetStatus] = (
            TargetStatus.DRAFT,
            TargetStatus.SCHEDULED,
            TargetStatus.FAILED,
        ),
    ) -> Post:
        now = clock.now()
        result = await session.execute(
            update(PostTarget)
            .where(PostTarget.post_id == post.id, PostTarget.status.in_(statuses))
            .values(
                status=TargetStatus.SCHEDULED,
                scheduled_at=now,
                next_attempt_at=now,
                attempts=0,
                lease_owner=None,
                lease_expires_at=None,
                updated_at=now,
            )
            .returning(PostTarget.id)
            .execution_options(synchronize_session=False)
        )
        ids = list(result.scalars())
        if not ids:
            raise PostStateError("No target of this post can be published now")
        self._wake_after_commit(session, [Due(target_id, now) for target_id in ids])
        return post

    async def set_slots(
        self,
        session: AsyncSession,
        owner_id: uuid.UUID,
        account_id: uuid.UUID,
        timezone: str,
        slots: Sequence[tuple[int, int]],
    ) -> None:
        zone(timezone)
        await self.owned_accounts(owner_id, [account_id])
        await session.execute(delete(PostingSlot).where(PostingSlot.account_id == account_id))
        for weekday, minute in dict.fromkeys(slots):
            session.add(
                PostingSlot(
                    owner_id=owner_id,
                    account_id=account_id,
                    weekday=weekday,
                    minute_of_day=minute,
                    timezone=timezone,
                )
            )

    # --- preferences and notifications ---

    async def email_on_failure(self, session: AsyncSession, owner_id: uuid.UUID) -> bool:
        """Whether a failed post is mailed; on until the owner turns it off."""
        prefs = await session.get(PostingPreferences, owner_id)
        return True if prefs is None else prefs.email_on_failure

    async def set_email_on_failure(
        self, session: AsyncSession, owner_id: uuid.UUID, enabled: bool
    ) -> bool:
        prefs = await session.get(PostingPreferences, owner_id)
        if prefs is None:
            session.add(PostingPreferences(user_id=owner_id, email_on_failure=enabled))
        else:
            prefs.email_on_failure = enabled
        await session.flush()
        return enabled

    async def calendar_feed_active(self, session: AsyncSession, owner_id: uuid.UUID) -> bool:
        prefs = await session.get(PostingPreferences, owner_id)
        return prefs is not None and prefs.calendar_token_hash is not None

    async def unread_count(self, session: AsyncSession, user_id: uuid.UUID) -> int:
        count = await session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.user_id == user_id, Notification.read_at.is_(None))
        )
        return count or 0

    async def read_all(self, session: AsyncSession, user_id: uuid.UUID) -> int:
        """Marks every unread notification read; how many were."""
        result = await session.execute(
            update(Notification)
            .where(Notification.user_id == user_id, Notification.read_at.is_(None))
            .values(read_at=clock.now())
            .execution_options(synchronize_session=False)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]


def target_out(target: PostTarget, zone_name: str) -> TargetOut:
    out = TargetOut.model_validate(target)
    if target.scheduled_at is not None:
        out.scheduled_local = to_local(target.scheduled_at, zone_name)
    return out


def _variants_json(variants: dict[Platform, Variant]) -> dict[str, object]:
    return {p.value: v.model_dump(exclude_none=True) for p, v in variants.items()}
