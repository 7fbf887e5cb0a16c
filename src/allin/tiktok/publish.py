"""Publishing: creator_info check, init, chunked upload, status polling, and reconciliation.

Every publish is journaled before and after each step. A publish whose outcome is unknown (a
crash, a lost reply) is reconciled by asking TikTok for its status; it is never re-initialised
while a publish_id exists, so a retry can never post twice.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Protocol

import anyio

from allin.core.clock import clock, utcnow
from allin.core.logging import Category, get_logger
from allin.tiktok.chunks import ChunkPlan, plan_chunks
from allin.tiktok.client import TikTokClient
from allin.tiktok.errors import TikTokError, error_for_fail_reason
from allin.tiktok.media import MediaInfo, check_video_file
from allin.tiktok.models import (
    CreatorInfo,
    PhotoPostInfo,
    PhotoPostMode,
    PrivacyLevel,
    PublishInit,
    PublishStatus,
    PublishStatusValue,
    VideoPostInfo,
)
from allin.tiktok.transport import with_correlation
from allin.tiktok.upload import ChunkUploader, ProgressCallback

log = get_logger(Category.TIKTOK)

UPLOAD_URL_TTL = timedelta(hours=1)
_UPLOAD_FATAL = frozenset({"upload_url_expired", "upload_not_found", "upload_bad_request"})


class PublishState(StrEnum):
    PENDING = "PENDING"  # journaled, init not yet answered
    UPLOADING = "UPLOADING"
    PROCESSING = "PROCESSING"
    INBOX = "INBOX"  # SEND_TO_USER_INBOX: the user finishes in the TikTok app
    COMPLETE = "COMPLETE"
    FAILED = "FAILED"
    UNKNOWN = "UNKNOWN"  # init outcome unknown and unknowable: needs a human, never auto-resent


@dataclass(frozen=True, slots=True)
class PublishRecord:
    id: str
    account_id: str
    mode: str  # direct | inbox | photo
    source: str  # FILE_UPLOAD | PULL_FROM_URL
    state: PublishState = PublishState.PENDING
    privacy_level: str | None = None
    publish_id: str | None = None
    upload_url: str | None = None
    upload_expires_at: datetime | None = None
    file_path: str | None = None
    video_size: int | None = None
    chunk_size: int | None = None
    total_chunk_count: int | None = None
    uploaded_bytes: int = 0
    tiktok_status: str | None = None
    fail_reason: str | None = None
    post_ids: tuple[str, ...] = ()
    created_at: datetime = field(default_factory=utcnow)
    updated_at: datetime = field(default_factory=utcnow)

    @property
    def plan(self) -> ChunkPlan | None:
        if self.video_size is None or self.chunk_size is None or self.total_chunk_count is None:
            return None
        return ChunkPlan(self.video_size, self.chunk_size, self.total_chunk_count)

    @property
    def finished(self) -> bool:
        return self.state in (PublishState.COMPLETE, PublishState.FAILED, PublishState.INBOX)


class PublishJournal(Protocol):
    """Where publishes are remembered: a database table in the app (`DbPublishJournal`), in
    memory for tests."""

    async def save(self, record: PublishRecord) -> None: ...

    async def get(self, record_id: str) -> PublishRecord | None: ...

    async def unfinished(self) -> list[PublishRecord]: ...

    async def find_by_publish_id(self, publish_id: str) -> PublishRecord | None: ...


class InMemoryPublishJournal:
    def __init__(self) -> None:
        self.records: dict[str, PublishRecord] = {}

    async def save(self, record: PublishRecord) -> None:
        self.records[record.id] = record

    async def get(self, record_id: str) -> PublishRecord | None:
        return self.records.get(record_id)

    async def unfinished(self) -> list[PublishRecord]:
        return [r for r in self.records.values() if not r.finished]

    async def find_by_publish_id(self, publish_id: str) -> PublishRecord | None:
        return next((r for r in self.records.values() if r.publish_id == publish_id), None)


@dataclass(frozen=True, slots=True)
class PollPolicy:
    initial: float = 3.0
    factor: float = 1.5
    maximum: float = 30.0
    timeout: float = 900.0
    post_id_polls: int = 0  # extra polls after PUBLISH_COMPLETE waiting for the public id


def check_post_allowed(
    creator: CreatorInfo, post_info: VideoPostInfo, media: MediaInfo | None
) -> None:
    """The rules TikTok enforces at init, checked first so the user gets a clear message."""
    if post_info.privacy_level.value not in creator.privacy_level_options:
        raise TikTokError(
            "privacy_level_option_mismatch",
            f"{post_info.privacy_level} not in {creator.privacy_level_options}",
        )
    if post_info.brand_content_toggle and post_info.privacy_level is PrivacyLevel.SELF_ONLY:
        raise TikTokError("invalid_params", "branded content cannot be private (SELF_ONLY)")
    limit = creator.max_video_post_duration_sec
    if media is not None and limit and media.duration and media.duration > limit:
        raise TikTokError(
            "video_duration_too_long", f"{media.duration:.1f} s is over this creator's {limit} s"
        )


class Publisher:
    def __init__(
        self,
        client: TikTokClient,
        journal: PublishJournal | None = None,
        *,
        poll: PollPolicy | None = None,
        chunk_size: int = 10_000_000,
    ) -> None:
        self.client = client
        self.journal: PublishJournal = journal or InMemoryPublishJournal()
        self.poll = poll or PollPolicy()
        self.chunk_size = chunk_size

    # --- videos from a file ---

    @with_correlation
    async def publish_file(
        self,
        access_token: str,
        path: Path,
        post_info: VideoPostInfo | None,
        *,
        account_id: str = "",
        on_progress: ProgressCallback | None = None,
        wait: bool = True,
        validate_media: bool = True,
    ) -> PublishRecord:
        """Direct post when `post_info` is given, else upload to the user's inbox (draft)."""
        creator = await self.client.creator_info(access_token)
        media = None
        if validate_media:
            media = await check_video_file(path, max_duration=creator.max_video_post_duration_sec)
        if post_info is not None:
            check_post_allowed(creator, post_info, media)
        size = media.size if media else (await anyio.Path(path).stat()).st_size
        plan = plan_chunks(size, self.chunk_size)
        record = PublishRecord(
            id=uuid.uuid4().hex,
            account_id=account_id,
            mode="direct" if post_info else "inbox",
            source="FILE_UPLOAD",
            privacy_level=post_info.privacy_level.value if post_info else None,
            file_path=str(path),
            video_size=plan.video_size,
            chunk_size=plan.chunk_size,
            total_chunk_count=plan.total_chunk_count,
        )
        await self.journal.save(record)
        try:
            if post_info is not None:
                init = await self.client.init_direct_post(
                    access_token, post_info, plan.source_info()
                )
            else:
                init = await self.client.init_inbox_upload(access_token, plan.source_info())
        except TikTokError as error:
            await self._update(record, state=PublishState.FAILED, fail_reason=error.code)
            raise
        record = await self._update(
            record,
            state=PublishState.UPLOADING,
            publish_id=init.publish_id,
            upload_url=init.upload_url,
            upload_expires_at=utcnow() + UPLOAD_URL_TTL,
        )
        record = await self._upload(access_token, record, 0, on_progress)
        return await self.wait(access_token, record) if wait else record

    # --- videos and photos TikTok pulls from a URL ---

    @with_correlation
    async def publish_url(
        self,
        access_token: str,
        video_url: str,
        post_info: VideoPostInfo | None,
        *,
        account_id: str = "",
        wait: bool = True,
    ) -> PublishRecord:
        creator = await self.client.creator_info(access_token)
        if post_info is not None:
            check_post_allowed(creator, post_info, None)
        record = PublishRecord(
            id=uuid.uuid4().hex,
            account_id=account_id,
            mode="direct" if post_info else "inbox",
            source="PULL_FROM_URL",
            privacy_level=post_info.privacy_level.value if post_info else None,
        )
        await self.journal.save(record)
        source = {"source": "PULL_FROM_URL", "video_url": video_url}
        record = await self._init_unrepeatable(
            record,
            self.client.init_direct_post(access_token, post_info, source)
            if post_info is not None
            else self.client.init_inbox_upload(access_token, source),
        )
        return await self.wait(access_token, record) if wait else record

    @with_correlation
    async def publish_photos(
        self,
        access_token: str,
        photo_urls: list[str],
        post_info: PhotoPostInfo,
        *,
        mode: PhotoPostMode = PhotoPostMode.DIRECT_POST,
        cover_index: int = 0,
        account_id: str = "",
        wait: bool = True,
    ) -> PublishRecord:
        creator = await self.client.creator_info(access_token)
        level = post_info.privacy_level
        if mode is PhotoPostMode.DIRECT_POST and (
            level is None or level.value not in creator.privacy_level_options
        ):
            raise TikTokError("privacy_level_option_mismatch", f"{level} not offered")
        record = PublishRecord(
            id=uuid.uuid4().hex,
            account_id=account_id,
            mode="photo",
            source="PULL_FROM_URL",
            privacy_level=level.value if level else None,
        )
        await self.journal.save(record)
        record = await self._init_unrepeatable(
            record,
            self.client.init_photo_post(
                access_token, photo_urls, post_info, mode=mode, cover_index=cover_index
            ),
        )
        return await self.wait(access_token, record) if wait else record

    # --- status ---

    @with_correlation
    async def wait(self, access_token: str, record: PublishRecord) -> PublishRecord:
        """Poll status/fetch with backoff until TikTok reports a terminal state."""
        assert record.publish_id is not None
        deadline = clock.monotonic() + self.poll.timeout
        delay = self.poll.initial
        # Only public posts get a post id (after moderation); private ones never do.
        public = record.privacy_level not in (None, PrivacyLevel.SELF_ONLY.value)
        extra_polls = self.poll.post_id_polls if public else 0
        while True:
            status = await self._status_or_none(access_token, record.publish_id)
            if status is not None:
                record = await self._apply_status(record, status)
                waiting_for_id = (
                    record.state is PublishState.COMPLETE and not record.post_ids and extra_polls
                )
                if record.finished and not waiting_for_id:
                    break
                if waiting_for_id:
                    extra_polls -= 1
            if clock.monotonic() + delay > deadline:
                if record.finished:
                    break
                raise TikTokError("publish_timeout", f"{record.publish_id} still {record.state}")
            await asyncio.sleep(delay)
            delay = min(delay * self.poll.factor, self.poll.maximum)
        if record.state is PublishState.FAILED:
            raise error_for_fail_reason(record.fail_reason or "internal", record.publish_id or "")
        return record

    @with_correlation
    async def reconcile(self, access_token: str, record_id: str) -> PublishRecord:
        """Finish a publish after a crash or lost reply, from what TikTok says; never re-init."""
        record = await self.journal.get(record_id)
        if record is None:
            raise TikTokError("invalid_publish_id", f"no journaled publish {record_id}")
        if record.finished:
            return record
        if record.publish_id is None:
            return await self._reconcile_without_id(record)
        status = await self.client.fetch_status(access_token, record.publish_id)
        record = await self._apply_status(record, status)
        plan = record.plan
        resumable = (
            status.status == PublishStatusValue.PROCESSING_UPLOAD
            and plan is not None
            and record.upload_url
            and record.file_path
            and (status.uploaded_bytes or 0) < plan.video_size
        )
        if resumable:
            if record.upload_expires_at and utcnow() >= record.upload_expires_at:
                return await self._update(
                    record, state=PublishState.FAILED, fail_reason="upload_url_expired"
                )
            log.info(
                "tiktok publish resumed", publish_id=record.publish_id, at=status.uploaded_bytes
            )
            record = await self._upload(access_token, record, status.uploaded_bytes or 0, None)
        return await self.wait(access_token, record)

    async def observe(self, record: PublishRecord, status: PublishStatus) -> PublishRecord:
        """Fold a status someone fetched (e.g. a client polling) into the journal."""
        return await self._apply_status(record, status)

    async def apply_event(
        self, publish_id: str, event: str, content: dict[str, object]
    ) -> PublishRecord | None:
        """Fold a post.publish.* webhook into the journal (idempotent; order-tolerant)."""
        record = await self.journal.find_by_publish_id(publish_id)
        if record is None:
            return None
        if event == "post.publish.failed":
            return await self._update(
                record, state=PublishState.FAILED, fail_reason=str(content.get("reason") or "")
            )
        if event == "post.publish.complete":
            return await self._update(record, state=PublishState.COMPLETE)
        if event == "post.publish.inbox_delivered" and record.state is not PublishState.COMPLETE:
            return await self._update(record, state=PublishState.INBOX)
        if event == "post.publish.publicly_available" and content.get("post_id"):
            post_id = str(content["post_id"])
            ids = record.post_ids if post_id in record.post_ids else (*record.post_ids, post_id)
            return await self._update(record, state=PublishState.COMPLETE, post_ids=ids)
        return record

    # --- internals ---

    async def _upload(
        self,
        access_token: str,
        record: PublishRecord,
        start_at: int,
        on_progress: ProgressCallback | None,
    ) -> PublishRecord:
        plan, publish_id = record.plan, record.publish_id
        assert plan is not None and record.upload_url and record.file_path and publish_id

        async def resync() -> int:
            status = await self.client.fetch_status(access_token, publish_id)
            if status.status != PublishStatusValue.PROCESSING_UPLOAD:
                return plan.video_size  # TikTok has moved on: it holds everything
            return status.uploaded_bytes or 0

        uploader = ChunkUploader(
            self.client.upload_transport,
            record.upload_url,
            Path(record.file_path),
            plan,
            on_progress=on_progress,
            resync=resync,
        )
        try:
            uploaded = await uploader.upload(start_at)
        except TikTokError as error:
            if error.code in _UPLOAD_FATAL:
                await self._update(record, state=PublishState.FAILED, fail_reason=error.code)
            raise  # anything else stays UPLOADING: `reconcile` resumes it
        return await self._update(record, state=PublishState.PROCESSING, uploaded_bytes=uploaded)

    async def _init_unrepeatable(
        self, record: PublishRecord, init: Awaitable[PublishInit]
    ) -> PublishRecord:
        """A PULL_FROM_URL init: if its outcome is unknown, say so; never resend it blindly."""
        try:
            result = await init
        except TikTokError as error:
            unknown = error.type.value in ("NETWORK_ERROR", "TIMEOUT_ERROR", "SERVER_ERROR")
            if unknown and not error.not_sent:
                await self._update(record, state=PublishState.UNKNOWN, fail_reason=error.code)
                raise TikTokError(
                    "publish_outcome_unknown",
                    f"init outcome unknown ({error.code}); not resent to avoid a double post",
                    http_status=error.http_status,
                ) from error
            await self._update(record, state=PublishState.FAILED, fail_reason=error.code)
            raise
        return await self._update(
            record, state=PublishState.PROCESSING, publish_id=result.publish_id
        )

    async def _reconcile_without_id(self, record: PublishRecord) -> PublishRecord:
        if record.source == "FILE_UPLOAD":
            # No bytes ever reached an upload URL we know of: nothing can have been posted.
            return await self._update(record, state=PublishState.FAILED, fail_reason="init_lost")
        return await self._update(record, state=PublishState.UNKNOWN)

    async def _status_or_none(self, access_token: str, publish_id: str) -> PublishStatus | None:
        try:
            return await self.client.fetch_status(access_token, publish_id)
        except TikTokError as error:
            if error.retryable:
                log.warning("tiktok status poll failed; will poll again", error_code=error.code)
                return None
            raise

    async def _apply_status(self, record: PublishRecord, status: PublishStatus) -> PublishRecord:
        state = {
            PublishStatusValue.PUBLISH_COMPLETE: PublishState.COMPLETE,
            PublishStatusValue.SEND_TO_USER_INBOX: PublishState.INBOX,
            PublishStatusValue.FAILED: PublishState.FAILED,
        }.get(status.status, PublishState.PROCESSING)  # type: ignore[call-overload]
        if state is PublishState.PROCESSING and record.state is PublishState.UPLOADING:
            state = PublishState.UPLOADING
        return await self._update(
            record,
            state=state,
            tiktok_status=status.status,
            fail_reason=status.fail_reason,
            post_ids=tuple(status.post_ids) or record.post_ids,
            uploaded_bytes=status.uploaded_bytes or record.uploaded_bytes,
        )

    async def _update(self, record: PublishRecord, **changes: object) -> PublishRecord:
        updated = replace(record, updated_at=utcnow(), **changes)  # type: ignore[arg-type]
        await self.journal.save(updated)
        return updated
