"""Chunk planning per TikTok's media transfer guide: examples from the docs plus properties."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from allin.tiktok.chunks import (
    MAX_CHUNK,
    MAX_FINAL_CHUNK,
    MAX_VIDEO_BYTES,
    MIN_CHUNK,
    ChunkPlan,
    ChunkPlanError,
    plan_chunks,
    plan_problem,
)

sizes = st.integers(min_value=1, max_value=MAX_VIDEO_BYTES)
preferred = st.integers(min_value=1, max_value=200_000_000)


def test_docs_example_multi_chunk() -> None:
    plan = plan_chunks(50_000_123 + 64_000_000, 10_000_000)
    assert plan.chunk_size == 10_000_000
    assert plan.total_chunk_count == 11
    # The docs' own example (50,000,123 B in 10 MB chunks) is a valid plan too.
    assert plan_problem(50_000_123, 10_000_000, 5) is None
    docs = ChunkPlan(50_000_123, 10_000_000, 5)
    last = docs.chunk(4)
    assert (last.start, last.end, last.length) == (40_000_000, 50_000_122, 10_000_123)


def test_small_video_is_one_whole_chunk() -> None:
    plan = plan_chunks(4_194_304)
    assert (plan.chunk_size, plan.total_chunk_count) == (4_194_304, 1)
    assert plan.chunk(0).content_range(4_194_304) == "bytes 0-4194303/4194304"


def test_just_over_64mb_needs_two_chunks() -> None:
    plan = plan_chunks(MAX_CHUNK + 1, 64_000_000)
    assert plan.total_chunk_count == 2
    assert plan_problem(plan.video_size, plan.chunk_size, plan.total_chunk_count) is None


@pytest.mark.parametrize(
    ("size", "chunk", "count", "reason"),
    [
        (15_000_000, 10_000_000, 1, "single chunk"),  # sim PR #5568 review
        (100_000_000, 64_000_000, 1, "several chunks"),  # post-for-me#327
        (100_000_000, 10_000_000, 11, "floor"),  # ceil instead of floor
        (4_000_000, 1_000_000, 4, "under 5 MB"),
        (600_000_000, 4_000_000, 150, "5 MB..64 MB"),
        (MAX_VIDEO_BYTES + 1, 10_000_000, 400, "4 GB"),
        (3_000_000_000, 5_300_000, 566, None),
        (3_000_000_000, 2_000_000, 1500, "1..1000"),
        (250_000_000, 64_000_000, 3, None),
        (0, 1, 0, "positive"),
    ],
)
def test_plan_problem_table(size: int, chunk: int, count: int, reason: str | None) -> None:
    problem = plan_problem(size, chunk, count)
    if reason is None:
        assert problem is None
    else:
        assert problem is not None and reason in problem


@pytest.mark.parametrize("size", [0, -1, MAX_VIDEO_BYTES + 1])
def test_impossible_sizes(size: int) -> None:
    with pytest.raises(ChunkPlanError):
        plan_chunks(size)


@given(sizes, preferred)
def test_every_plan_is_valid(size: int, chunk: int) -> None:
    plan = plan_chunks(size, chunk)
    assert plan_problem(plan.video_size, plan.chunk_size, plan.total_chunk_count) is None


@given(sizes, preferred)
def test_chunks_tile_the_file_exactly(size: int, chunk: int) -> None:
    plan = plan_chunks(size, chunk)
    chunks = plan.chunks()
    assert chunks[0].start == 0
    assert chunks[-1].end == size - 1
    for before, after in itertools.pairwise(chunks):
        assert after.start == before.end + 1
        assert before.length == plan.chunk_size
    assert plan.chunk_size <= chunks[-1].length <= MAX_FINAL_CHUNK
    assert sum(c.length for c in chunks) == size
    if len(chunks) > 1:
        assert MIN_CHUNK <= plan.chunk_size <= MAX_CHUNK


@given(sizes, preferred, st.data())
def test_resume_index_matches_chunk_start(size: int, chunk: int, data: st.DataObject) -> None:
    plan = plan_chunks(size, chunk)
    index = data.draw(st.integers(min_value=0, max_value=plan.total_chunk_count - 1))
    assert plan.index_at(plan.chunk(index).start) == index
    off = plan.chunk(index).start + 1
    if off < size and (index + 1 >= plan.total_chunk_count or off != plan.chunk(index + 1).start):
        with pytest.raises(ChunkPlanError):
            plan.index_at(off)


def test_preferred_chunk_size_is_kept_when_valid() -> None:
    assert plan_chunks(300_000_000, 20_000_000).chunk_size == 20_000_000
    assert plan_chunks(300_000_000, 1).chunk_size == MIN_CHUNK
    assert plan_chunks(300_000_000, 10**9).chunk_size == MAX_CHUNK
