"""validate_tiktok_url: only http(s) URLs on tiktok.com and its subdomains pass."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from allin.sign.algorithm.urls import (
    InvalidTikTokUrl,
    is_tiktok_host,
    param_name,
    validate_tiktok_url,
    without_params,
)

ACCEPTED = [
    "https://www.tiktok.com/@testuser/live",
    "https://tiktok.com/",
    "http://www.tiktok.com/api/post/item_list/?aid=1988&count=30",
    "https://webcast.tiktok.com/webcast/im/fetch/?room_id=7&msToken=x",
    "HTTPS://WWW.TIKTOK.COM/@User/live",
    "https://www.tiktok.com:443/@u/live",
    "http://m.tiktok.com:80",
    "https://a-b.c1.tiktok.com/x#frag",
]

REJECTED = [
    "https://tiktok.com.evil.org/@u/live",
    "https://evil.org/tiktok.com",
    "https://evil.org/?u=https://www.tiktok.com/",
    "https://eviltiktok.com/",
    "https://tiktok.co/",
    "https://www.tiktok.com@evil.org/",
    "https://user:pass@www.tiktok.com/",
    "https://evil.org@www.tiktok.com/",
    "https://www.tiktok.com\\@evil.org/",
    "https://www.tiktok.com\\.evil.org/",
    "https://evil.org\\.tiktok.com/",
    "https://www.tiktok.com:8443/",
    "https://www.tiktok.com:abc/",
    "https://[::1]/tiktok.com",
    "https://tiktok.com./",
    "https://%74iktok.com/",
    "https://-x.tiktok.com/",
    "https://a..tiktok.com/",
    "https://.tiktok.com/",
    "ftp://www.tiktok.com/",
    "javascript://www.tiktok.com/%0aalert(1)",
    "//www.tiktok.com/@u/live",
    "www.tiktok.com/@u/live",
    "https:www.tiktok.com",
    "https:///www.tiktok.com/",
    "https://www.tiktok.com /",
    " https://www.tiktok.com/",
    "https://www.tik\ttok.com/",
    "https://www.tiktok.com/\n",
    "https://www.tiktok.com\x00.evil.org/",
    "https://www.tikt\u043ek.com/",  # Cyrillic small letter o
    "",
]


@pytest.mark.parametrize("url", ACCEPTED)
def test_accepts_tiktok_urls_unchanged(url: str) -> None:
    assert validate_tiktok_url(url) == url


@pytest.mark.parametrize("url", REJECTED)
def test_rejects_everything_else_with_a_clear_message(url: str) -> None:
    with pytest.raises(InvalidTikTokUrl, match=r"^Invalid TikTok URL") as caught:
        validate_tiktok_url(url)
    assert isinstance(caught.value, ValueError)
    assert caught.value.url == url


label = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True)
host_text = st.text(st.characters(codec="ascii", exclude_characters="/?#@\\"), min_size=1)


@given(
    subdomains=st.lists(label, max_size=3), path=st.from_regex(r"(/[a-z0-9@._-]*)*", fullmatch=True)
)
def test_any_subdomain_of_tiktok_is_accepted(subdomains: list[str], path: str) -> None:
    host = ".".join([*subdomains, "tiktok.com"])
    assert validate_tiktok_url(f"https://{host}{path}") == f"https://{host}{path}"


@given(host=host_text, trick=st.sampled_from(["{h}", "{h}.tiktok.com.evil", "tiktok.com.{h}"]))
def test_hosts_outside_tiktok_are_never_accepted(host: str, trick: str) -> None:
    candidate = trick.format(h=host).lower()
    assume(candidate != "tiktok.com" and not candidate.endswith(".tiktok.com"))
    for url in (
        f"https://{candidate}/@u/live",
        f"https://{candidate}/https://www.tiktok.com/",
        f"https://www.tiktok.com@{candidate}/",
        f"https://{candidate}?next=https://tiktok.com",
    ):
        try:
            validate_tiktok_url(url)
        except InvalidTikTokUrl:
            continue
        pytest.fail(f"accepted {url!r}")


@given(st.text())
def test_arbitrary_text_either_passes_as_tiktok_or_raises_invalid(text: str) -> None:
    try:
        validate_tiktok_url(text)
    except InvalidTikTokUrl:
        return
    host = urlsplit(text).hostname
    assert host is not None and is_tiktok_host(host)


def test_param_helpers_keep_pieces_as_written() -> None:
    query = "a=1&msToken=old&&X%2DBogus=old&b=%20x&X-Gnarly=g&c"
    assert param_name("X%2DBogus=old") == "X-Bogus"
    names = frozenset({"msToken", "X-Bogus", "X-Gnarly"})
    assert without_params(query, names) == ["a=1", "b=%20x", "c"]
