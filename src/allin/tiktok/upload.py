"""FILE_UPLOAD: sequential chunk PUTs with Content-Range, streamed from disk in constant memory.

Responses as documented: 206 = chunk taken, 201 = all parts in (200 tolerated, as seen in the
wild), 400 bad headers, 403 URL expired, 404 unknown upload, 416 out of step with TikTok's
progress, 5xx retry this chunk. A 416 or a lost answer is resolved by asking TikTok how many bytes
it holds (the `Content-Range` it returns, else status/fetch) and continuing from there.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import anyio
import httpx

from allin.core.logging import Category, get_logger
from allin.core.retry import parse_retry_after
from allin.tiktok.chunks import Chunk, ChunkPlan, ChunkPlanError
from allin.tiktok.errors import TikTokError, error_from_status
from allin.tiktok.transport import Transport, correlated, read_json

log = get_logger(Category.TIKTOK)

READ_BLOCK = 1024 * 1024
MAX_RESYNCS = 5
_RANGE = re.compile(r"bytes\s+(\d+)-(\d+)/(\d+)")

ProgressCallback = Callable[[int, int], None]
ResyncCallback = Callable[[], Awaitable[int]]

_STATUS_CODES = {400: "upload_bad_request", 403: "upload_url_expired", 404: "upload_not_found"}


class RangeMismatch(Exception):
    """TikTok holds a different number of bytes than we assumed (416 or a lost reply)."""

    def __init__(self, uploaded: int | None) -> None:
        super().__init__(f"upload out of step; TikTok reports {uploaded} bytes")
        self.uploaded = uploaded


def content_type_for(path: Path) -> str:
    suffix = path.suffix.lower()
    return {".mov": "video/quicktime", ".webm": "video/webm"}.get(suffix, "video/mp4")


def uploaded_from_header(value: str | None) -> int | None:
    """`Content-Range: bytes 0-{last}/{total}` -> bytes held (last + 1)."""
    if not value:
        return None
    match = _RANGE.search(value)
    return int(match.group(2)) + 1 if match else None


async def read_range(path: Path, start: int, length: int) -> AsyncIterator[bytes]:
    """The bytes [start, start+length) of a file, in blocks: memory stays constant."""
    async with await anyio.open_file(path, "rb") as handle:
        await handle.seek(start)
        remaining = length
        while remaining > 0:
            block = await handle.read(min(READ_BLOCK, remaining))
            if not block:
                raise TikTokError("upload_failed", f"{path} ended {remaining} bytes early")
            remaining -= len(block)
            yield block


class ChunkUploader:
    """Uploads one file to one upload_url according to a ChunkPlan."""

    def __init__(
        self,
        transport: Transport,
        upload_url: str,
        path: Path,
        plan: ChunkPlan,
        *,
        content_type: str | None = None,
        on_progress: ProgressCallback | None = None,
        resync: ResyncCallback | None = None,
    ) -> None:
        self.transport = transport
        self.upload_url = upload_url
        self.path = path
        self.plan = plan
        self.content_type = content_type or content_type_for(path)
        self.on_progress = on_progress
        self.resync = resync

    async def upload(self, start_at: int = 0) -> int:
        """Send every chunk from byte `start_at`; returns the bytes TikTok holds (the size)."""
        offset, resyncs = start_at, 0
        with correlated():
            while offset < self.plan.video_size:
                try:
                    offset = await self._send_from(offset)
                except RangeMismatch as mismatch:
                    resyncs += 1
                    if resyncs > MAX_RESYNCS:
                        raise TikTokError(
                            "upload_failed", "upload kept going out of step"
                        ) from None
                    offset = await self._held_bytes(mismatch.uploaded)
                    log.info("tiktok upload resynchronised", resume_at=offset)
                except ChunkPlanError as error:
                    raise TikTokError("upload_failed", f"cannot resume: {error}") from None
        return offset

    async def _send_from(self, offset: int) -> int:
        for index in range(self.plan.index_at(offset), self.plan.total_chunk_count):
            chunk = self.plan.chunk(index)
            held = await self._put_with_retries(chunk)
            if held != chunk.end + 1:
                raise RangeMismatch(held)
            if self.on_progress:
                self.on_progress(held, self.plan.video_size)
        return self.plan.video_size

    async def _put_with_retries(self, chunk: Chunk) -> int:
        async def attempt() -> int:
            return await self._put(chunk)

        try:
            return await self.transport.resilience.call(attempt)
        except TikTokError as error:
            if error.type.value in ("NETWORK_ERROR", "TIMEOUT_ERROR"):
                # The chunk may have landed and only the reply was lost: ask, don't guess.
                raise RangeMismatch(None) from error
            raise

    async def _put(self, chunk: Chunk) -> int:
        headers = {
            "Content-Type": self.content_type,
            "Content-Length": str(chunk.length),
            "Content-Range": chunk.content_range(self.plan.video_size),
        }
        body = read_range(self.path, chunk.start, chunk.length)
        response = await self.transport.put_chunk(
            f"upload_chunk[{chunk.index + 1}/{self.plan.total_chunk_count}]",
            self.upload_url,
            body,
            headers,
        )
        return self._held_after(chunk, response)

    def _held_after(self, chunk: Chunk, response: httpx.Response) -> int:
        status = response.status_code
        reported = uploaded_from_header(response.headers.get("Content-Range"))
        if status in (200, 201):
            return self.plan.video_size if chunk.end + 1 == self.plan.video_size else chunk.end + 1
        if status == 206:
            return reported if reported is not None else chunk.end + 1
        if status == 416:
            raise RangeMismatch(reported)
        if status in _STATUS_CODES:
            raise TikTokError(
                _STATUS_CODES[status],
                f"chunk {chunk.index + 1}: HTTP {status} {_short(response)}",
                http_status=status,
            )
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        raise error_from_status(status, retry_after=retry_after)

    async def _held_bytes(self, reported: int | None) -> int:
        if reported is not None:
            return reported
        if self.resync is None:
            raise TikTokError("upload_failed", "upload out of step and no way to ask TikTok")
        return await self.resync()


def _short(response: httpx.Response) -> str:
    body = read_json(response)
    return str(body)[:200] if body else ""
