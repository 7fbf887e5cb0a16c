"""The upload host: `PUT /video/?upload_id=…&upload_token=…`, one chunk per request, in order.

Status codes as documented: 206 chunk taken (with `Content-Range: bytes 0-{held-1}/{total}`),
201 all parts in, 400 bad headers or Content-Length not the chunk's size, 403 URL expired,
404 no such upload, 416 range out of step with progress, 5xx when a fault is injected.
"""

from __future__ import annotations

import re
from typing import BinaryIO

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from allin.core.clock import clock
from allin.core.text import is_ascii_digits
from allin.simulator.open_api.responses import world_of
from allin.simulator.open_api.state import Publish, World

_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+)$")
_TYPES = ("video/mp4", "video/quicktime", "video/webm")


def _answer(status: int, message: str, publish: Publish | None = None) -> Response:
    headers = {}
    if publish is not None and publish.uploaded_bytes:
        headers["Content-Range"] = f"bytes 0-{publish.uploaded_bytes - 1}/{publish.total}"
    return JSONResponse({"message": message}, status, headers=headers or None)


def _expected_end(publish: Publish) -> int:
    """Last byte of the chunk that must come next (the final chunk takes the remainder)."""
    index = publish.uploaded_bytes // publish.chunk_size
    if index >= publish.chunk_count - 1:
        return publish.total - 1
    return publish.uploaded_bytes + publish.chunk_size - 1


def _find(world: World, request: Request) -> Publish | Response:
    publish_id = world.uploads.get(request.query_params.get("upload_id", ""))
    publish = world.publishes.get(publish_id or "")
    if publish is None or request.query_params.get("upload_token") != publish.upload_token:
        return _answer(404, "no upload task for this upload_url")
    if clock.monotonic() >= publish.upload_expires:
        return _answer(403, "upload_url expired")
    return publish


def _check_headers(request: Request, publish: Publish) -> Response | tuple[int, int]:
    kind = request.headers.get("content-type", "").split(";")[0].strip()
    if kind not in _TYPES:
        return _answer(400, "Content-Type must be video/mp4, video/quicktime or video/webm")
    match = _RANGE.match(request.headers.get("content-range", "").strip())
    length = request.headers.get("content-length")
    if match is None or length is None or not is_ascii_digits(length):
        return _answer(400, "Content-Range and Content-Length are required", publish)
    start, end, total = (int(g) for g in match.groups())
    if int(length) != end - start + 1:
        return _answer(400, "Content-Length does not match Content-Range", publish)
    if (
        publish.status != "PROCESSING_UPLOAD"
        or publish.ready_at is not None
        or total != publish.total
        or start != publish.uploaded_bytes
        or end != _expected_end(publish)
    ):
        return _answer(416, "Content-Range does not match the upload progress", publish)
    return start, end


async def put_chunk(request: Request) -> Response:
    world = world_of(request)
    world.count("upload")
    found = _find(world, request)
    if isinstance(found, Response):
        await _drain(request)
        return found
    publish = found
    checked = _check_headers(request, publish)
    if isinstance(checked, Response):
        await _drain(request)
        return checked
    start, end = checked
    digest = world.upload_digest(publish.publish_id).copy()
    received = 0
    with _Sink(world, publish) as sink:
        async for block in request.stream():
            received += len(block)
            digest.update(block)
            sink.write(block)
        if received != end - start + 1:
            return _answer(400, "body length does not match Content-Length", publish)
        if world.fail_chunks:
            return _answer(world.fail_chunks.popleft(), "injected upload failure", publish)
        sink.commit()
    publish.uploaded_bytes = end + 1
    world.digests[publish.publish_id] = digest
    done = publish.uploaded_bytes == publish.total
    if done:
        publish.sha256 = digest.hexdigest()
        world.bytes_in(publish)
    if world.lose_chunk_replies > 0:
        world.lose_chunk_replies -= 1
        return _answer(502, "injected: chunk stored, reply lost")
    return _answer(201 if done else 206, "ok", publish)


class _Sink:
    """Optionally keeps the uploaded bytes on disk; a chunk not committed is cut off again."""

    def __init__(self, world: World, publish: Publish) -> None:
        folder = world.config.upload_store_dir
        self.path = folder / publish.publish_id.replace("~", "_") if folder else None
        self.handle: BinaryIO | None = None
        self.start = 0
        self.committed = False

    def __enter__(self) -> _Sink:
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.handle = self.path.open("ab")
            self.start = self.handle.tell()
        return self

    def write(self, block: bytes) -> None:
        if self.handle is not None:
            self.handle.write(block)

    def commit(self) -> None:
        self.committed = True

    def __exit__(self, *_: object) -> None:
        if self.handle is not None:
            if not self.committed:
                self.handle.truncate(self.start)
            self.handle.close()


async def _drain(request: Request) -> None:
    async for _ in request.stream():
        pass
