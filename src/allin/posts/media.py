"""The media library's files: streamed to disk under the data dir with a size cap, typed
from their first bytes (never the name), probed with ffprobe, thumbnailed with ffmpeg."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from allin.auth.email import public_url
from allin.core.config import Settings
from allin.posts.errors import MediaTooLargeError, MediaTypeError
from allin.posts.models import MediaAsset
from allin.social.providers.base import MediaItem, MediaKind

_PROBE_TIMEOUT = 30.0
MEDIA_UPLOAD_PATH = "/api/media"
POST_BODY_PATHS = (("POST", r"/api/posts(/validate)?"), ("PATCH", r"/api/posts/[^/]+"))


def sniff(head: bytes) -> tuple[str, MediaKind] | None:
    """The MIME type and kind from a file's magic bytes (ISO BMFF brands for MP4/MOV)."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg", MediaKind.IMAGE
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png", MediaKind.IMAGE
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif", MediaKind.GIF
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp", MediaKind.IMAGE
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand == b"qt  ":
            return "video/quicktime", MediaKind.VIDEO
        return "video/mp4", MediaKind.VIDEO
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "video/webm", MediaKind.VIDEO
    return None


@dataclass(frozen=True, slots=True)
class StoredFile:
    relative_path: str
    mime_type: str
    kind: MediaKind
    size_bytes: int
    sha256: str


@dataclass(frozen=True, slots=True)
class Probe:
    width: int | None = None
    height: int | None = None
    duration_seconds: float | None = None
    frame_rate: float | None = None


class MediaStore:
    def __init__(self, root: Path, max_bytes: int) -> None:
        self.root = root
        self.max_bytes = max_bytes

    def path_of(self, relative: str) -> Path:
        path = (self.root / relative).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise MediaTypeError("Bad media path")
        return path

    async def save(self, owner_id: uuid.UUID, chunks: AsyncIterator[bytes]) -> StoredFile:
        """Streams the upload to a temporary file, then moves it into place; the size cap
        and the type check run while streaming, so a bad upload never lands whole."""
        directory = self.root / owner_id.hex
        await asyncio.to_thread(directory.mkdir, parents=True, exist_ok=True)
        name = uuid.uuid4().hex
        partial = directory / f".{name}.part"
        digest = hashlib.sha256()
        size = 0
        sniffed: tuple[str, MediaKind] | None = None
        head = b""
        try:
            with partial.open("wb") as out:
                async for chunk in chunks:
                    size += len(chunk)
                    if size > self.max_bytes:
                        raise MediaTooLargeError(
                            f"Media files are limited to {self.max_bytes} bytes"
                        )
                    if sniffed is None:
                        head += chunk
                        if len(head) >= 16:
                            sniffed = self._sniff_or_raise(head)
                    digest.update(chunk)
                    out.write(chunk)
            if sniffed is None:
                sniffed = self._sniff_or_raise(head)
            final = directory / name
            partial.rename(final)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        mime, kind = sniffed
        return StoredFile(f"{owner_id.hex}/{name}", mime, kind, size, digest.hexdigest())

    @staticmethod
    def _sniff_or_raise(head: bytes) -> tuple[str, MediaKind]:
        found = sniff(head)
        if found is None:
            raise MediaTypeError("Only JPEG, PNG, GIF, WebP, MP4, MOV and WebM files are accepted")
        return found

    async def probe(self, relative: str) -> Probe:
        """Dimensions, duration and frame rate from ffprobe; empty when it cannot tell."""
        output = await _run(
            "ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
            "stream=width,height,avg_frame_rate:format=duration", "-of", "json",
            str(self.path_of(relative)),
        )  # fmt: skip
        if output is None:
            return Probe()
        data = json.loads(output or b"{}")
        stream = (data.get("streams") or [{}])[0]
        duration = data.get("format", {}).get("duration")
        return Probe(
            width=stream.get("width"),
            height=stream.get("height"),
            duration_seconds=float(duration) if duration not in (None, "N/A") else None,
            frame_rate=_rate(stream.get("avg_frame_rate")),
        )

    async def thumbnail(self, relative: str, kind: MediaKind) -> str | None:
        """A 320-pixel-wide JPEG of the image or the video's first second."""
        source = self.path_of(relative)
        target = f"{relative}.thumb.jpg"
        seek = ["-ss", "1"] if kind is MediaKind.VIDEO else []
        done = await _run(
            "ffmpeg", "-v", "error", "-y", *seek, "-i", str(source), "-frames:v", "1",
            "-vf", "scale=320:-2", str(self.path_of(target)),
        )  # fmt: skip
        if done is None or not self.path_of(target).exists():
            return None
        return target

    async def delete(self, asset: MediaAsset) -> None:
        for relative in (asset.storage_path, asset.thumbnail_path):
            if relative:
                await asyncio.to_thread(self.path_of(relative).unlink, missing_ok=True)


class MediaLinks:
    """Signed, expiring links to media files for platforms that fetch media themselves
    (Instagram): `{base}/api/media/public/{id}/{expires}/{signature}`. Whoever has the link
    can read that one file until it expires; nothing else is reachable through it."""

    _LABEL = b"allin media link\x00"

    def __init__(self, secret: str, base_url: str, lifetime: float) -> None:
        self._key = hashlib.sha256(self._LABEL + secret.encode()).digest()
        self.base_url = base_url.rstrip("/")
        self.lifetime = lifetime

    def url(self, media_id: uuid.UUID, now: float) -> str:
        expires = int(now + self.lifetime)
        signature = self._sign(media_id, expires)
        return f"{self.base_url}{MEDIA_UPLOAD_PATH}/public/{media_id}/{expires}/{signature}"

    def valid(self, media_id: uuid.UUID, expires: int, signature: str, now: float) -> bool:
        expected = self._sign(media_id, expires).encode()
        return now < expires and hmac.compare_digest(expected, signature.encode())

    def _sign(self, media_id: uuid.UUID, expires: int) -> str:
        message = f"{media_id}:{expires}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()


def media_links(settings: Settings) -> MediaLinks:
    secret = settings.resolved_secret_key().get_secret_value()
    return MediaLinks(secret, public_url(settings), settings.posts_media_link_seconds)


def media_item(store: MediaStore, asset: MediaAsset, public_url: str | None = None) -> MediaItem:
    return MediaItem(
        path=store.path_of(asset.storage_path),
        mime_type=asset.mime_type,
        kind=MediaKind(asset.kind),
        size_bytes=asset.size_bytes,
        width=asset.width,
        height=asset.height,
        duration_seconds=asset.duration_seconds,
        frame_rate=asset.frame_rate,
        public_url=public_url,
    )


def _rate(value: str | None) -> float | None:
    if not value or "/" not in value:
        return None
    num, den = value.split("/", 1)
    try:
        return float(num) / float(den) if float(den) else None
    except ValueError:
        return None


async def _run(*argv: str) -> bytes | None:
    try:
        process = await asyncio.create_subprocess_exec(
            *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL
        )
    except FileNotFoundError:
        return None
    try:
        stdout, _ = await asyncio.wait_for(process.communicate(), _PROBE_TIMEOUT)
    except TimeoutError:
        process.kill()
        await process.wait()
        return None
    return stdout if process.returncode == 0 else None
