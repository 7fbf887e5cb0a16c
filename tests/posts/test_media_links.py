"""Signed media links: what one signs, only it verifies, and only until it expires."""

from __future__ import annotations

import uuid

from hypothesis import given
from hypothesis import strategies as st

from allin.posts.media import MediaLinks

LINKS = MediaLinks("instance-secret", "https://allin.example.com/", 3600.0)
NOW = 1_800_000_000.0


def _parts(url: str) -> tuple[uuid.UUID, int, str]:
    media_id, expires, signature = url.rsplit("/", 3)[1:]
    return uuid.UUID(media_id), int(expires), signature


@given(st.uuids(), st.floats(min_value=0, max_value=4e9))
def test_a_link_verifies_until_it_expires(media_id: uuid.UUID, now: float) -> None:
    url = LINKS.url(media_id, now)
    assert url.startswith(f"https://allin.example.com/api/media/public/{media_id}/")
    found, expires, signature = _parts(url)
    assert found == media_id and expires == int(now + 3600)
    assert LINKS.valid(media_id, expires, signature, now)
    assert not LINKS.valid(media_id, expires, signature, expires)  # expired at `expires`


@given(st.uuids(), st.uuids(), st.integers(min_value=1, max_value=10**6), st.text(max_size=70))
def test_nothing_else_verifies(
    media_id: uuid.UUID, other: uuid.UUID, longer: int, forged: str
) -> None:
    _, expires, signature = _parts(LINKS.url(media_id, NOW))
    if other != media_id:
        assert not LINKS.valid(other, expires, signature, NOW)
    assert not LINKS.valid(media_id, expires + longer, signature, NOW)
    if forged != signature:
        assert not LINKS.valid(media_id, expires, forged, NOW)
    another_instance = MediaLinks("another-secret", "https://allin.example.com", 3600.0)
    assert not another_instance.valid(media_id, expires, signature, NOW)
