"""FILE_UPLOAD chunk planning, exactly per TikTok's media transfer guide.

Rules: count = floor(size / chunk_size); every chunk 5 MB..64 MB except the final one, which takes
the trailing bytes (up to 128 MB); a video under 5 MB is one chunk of its own size; a video over
64 MB needs at least two chunks; 1..1000 chunks. "MB" is ambiguous in the docs, so we use the safe
bounds: the minimum in MiB (the larger), the maximums in decimal MB (the smaller).
"""

from __future__ import annotations

from dataclasses import dataclass

MIN_CHUNK = 5 * 1024 * 1024
MAX_CHUNK = 64_000_000
MAX_FINAL_CHUNK = 128_000_000
MAX_CHUNKS = 1000
MAX_VIDEO_BYTES = 4_000_000_000
DEFAULT_CHUNK = 10_000_000


class ChunkPlanError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Chunk:
    index: int
    start: int
    end: int  # inclusive, as in Content-Range

    @property
    def length(self) -> int:
        return self.end - self.start + 1

    def content_range(self, total: int) -> str:
        return f"bytes {self.start}-{self.end}/{total}"


@dataclass(frozen=True, slots=True)
class ChunkPlan:
    video_size: int
    chunk_size: int
    total_chunk_count: int

    def chunk(self, index: int) -> Chunk:
        if not 0 <= index < self.total_chunk_count:
            raise IndexError(index)
        start = index * self.chunk_size
        last = index == self.total_chunk_count - 1
        end = self.video_size - 1 if last else start + self.chunk_size - 1
        return Chunk(index, start, end)

    def chunks(self) -> list[Chunk]:
        return [self.chunk(i) for i in range(self.total_chunk_count)]

    def index_at(self, offset: int) -> int:
        """The chunk that starts at `offset` (to resume from `uploaded_bytes`)."""
        if offset < 0 or offset >= self.video_size:
            raise ChunkPlanError(f"offset {offset} outside the video")
        index = min(offset // self.chunk_size, self.total_chunk_count - 1)
        if self.chunk(index).start != offset:
            raise ChunkPlanError(f"offset {offset} is not a chunk boundary")
        return index

    def source_info(self) -> dict[str, int | str]:
        return {
            "source": "FILE_UPLOAD",
            "video_size": self.video_size,
            "chunk_size": self.chunk_size,
            "total_chunk_count": self.total_chunk_count,
        }


def plan_chunks(video_size: int, chunk_size: int = DEFAULT_CHUNK) -> ChunkPlan:
    """A plan TikTok accepts; `chunk_size` is a preference adjusted only when the rules demand."""
    if video_size <= 0:
        raise ChunkPlanError("the video is empty")
    if video_size > MAX_VIDEO_BYTES:
        raise ChunkPlanError("the video is larger than 4 GB")
    if video_size <= MAX_CHUNK:
        return ChunkPlan(video_size, video_size, 1)
    chunk = min(max(chunk_size, MIN_CHUNK), MAX_CHUNK)
    if video_size // chunk < 2:
        # size < 2*chunk <= 128 MB here, so half of it is within 32..64 MB.
        chunk = video_size // 2
    plan = ChunkPlan(video_size, chunk, video_size // chunk)
    problem = plan_problem(plan.video_size, plan.chunk_size, plan.total_chunk_count)
    if problem:  # pragma: no cover - the arithmetic above rules it out; the property test checks
        raise ChunkPlanError(problem)
    return plan


def plan_problem(video_size: int, chunk_size: int, total_chunk_count: int) -> str | None:
    """Why TikTok would reject these `source_info` numbers, or None if it accepts them."""
    if video_size <= 0 or chunk_size <= 0:
        return "sizes must be positive"
    if video_size > MAX_VIDEO_BYTES:
        return "video larger than 4 GB"
    if not 1 <= total_chunk_count <= MAX_CHUNKS:
        return "chunk count must be 1..1000"
    if total_chunk_count != video_size // chunk_size:
        return "total_chunk_count must be floor(video_size / chunk_size)"
    if video_size < MIN_CHUNK and chunk_size != video_size:
        return "a video under 5 MB is uploaded whole"
    if video_size > MAX_CHUNK and total_chunk_count < 2:
        return "a video over 64 MB needs several chunks"
    if total_chunk_count > 1 and not MIN_CHUNK <= chunk_size <= MAX_CHUNK:
        return "chunk size must be 5 MB..64 MB"
    if total_chunk_count == 1 and chunk_size != video_size:
        return "a single chunk must be the whole video"
    # With floor and chunk <= 64 MB the final chunk is < 128 MB, so rule 2's cap always holds.
    return None
