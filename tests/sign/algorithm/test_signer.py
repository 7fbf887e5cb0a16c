"""AlgorithmSigner: signed URLs that decode back to what was signed."""

from __future__ import annotations

import dataclasses
import random
from urllib.parse import parse_qsl, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from allin.sign.algorithm.mstoken import MS_TOKEN_ALPHABET
from allin.sign.algorithm.signer import (
    DEFAULT_USER_AGENT,
    AlgorithmSigner,
    InvalidTikTokUrl,
    validate_tiktok_url,
)
from allin.sign.algorithm.ttparams import decode_x_tt_params
from allin.sign.algorithm.xbogus import (
    DEFAULT_CANVAS,
    DEFAULT_HEADER,
    decode_x_bogus,
    double_md5_tail,
    user_agent_tail,
    x_bogus,
)
from allin.sign.signers import SignedUrl, Signer

FETCH = "https://webcast.tiktok.com/webcast/im/fetch/?aid=1988&room_id=7&cursor=&tz_name=Europe%2FBerlin"
UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0"


def fixed_clock() -> float:
    return 1_700_000_000.75


def signer(seed: int = 1) -> AlgorithmSigner:
    return AlgorithmSigner(rng=random.Random(seed))


def split_signed(signed: SignedUrl) -> tuple[str, str]:
    """(query that X-Bogus covers, the X-Bogus value) of a signed URL."""
    query = urlsplit(signed.signed_url).query
    covered, _, bogus = query.rpartition("&X-Bogus=")
    return covered, bogus


async def test_appends_ms_token_then_x_bogus_keeping_the_query_as_written() -> None:
    signed = await signer().sign_url(FETCH, user_agent=UA, now=fixed_clock)
    prefix = FETCH + f"&msToken={signed.ms_token}&X-Bogus={signed.x_bogus}"
    assert signed.signed_url == prefix
    assert len(signed.ms_token) == 107
    assert set(signed.ms_token) <= set(MS_TOKEN_ALPHABET)
    assert signed.user_agent == UA
    assert signed.signature == signed.x_bogus


async def test_x_bogus_signs_the_exact_query_sent_including_ms_token() -> None:
    signed = await signer().sign_url(FETCH, user_agent=UA, now=fixed_clock)
    covered, bogus = split_signed(signed)
    assert bogus == signed.x_bogus
    assert bogus == x_bogus(covered, UA, timestamp=1_700_000_000)
    payload = decode_x_bogus(bogus)
    assert payload.query_digest == double_md5_tail(covered.encode())
    assert payload.ua_digest == user_agent_tail(UA, DEFAULT_HEADER[3])
    assert payload.timestamp == 1_700_000_000
    assert payload.canvas == DEFAULT_CANVAS


async def test_signing_is_deterministic_given_rng_and_clock() -> None:
    first = await signer(5).sign_url(FETCH, user_agent=UA, now=fixed_clock)
    second = await signer(5).sign_url(FETCH, user_agent=UA, now=fixed_clock)
    other = await signer(6).sign_url(FETCH, user_agent=UA, now=fixed_clock)
    assert first == second
    assert first.ms_token != other.ms_token
    assert first.x_bogus != other.x_bogus


async def test_existing_signature_parameters_are_replaced_not_duplicated() -> None:
    stale = FETCH + "&msToken=old&X-Bogus=DFSzold&X-Gnarly=g&_signature=s"
    signed = await signer().sign_url(stale, user_agent=UA, now=fixed_clock)
    names = [name for name, _ in parse_qsl(urlsplit(signed.signed_url).query, True)]
    assert names.count("msToken") == names.count("X-Bogus") == 1
    assert "X-Gnarly" not in names
    assert names[-3:] == ["_signature", "msToken", "X-Bogus"]
    resigned = await signer().sign_url(signed.signed_url, user_agent=UA, now=fixed_clock)
    assert resigned.signed_url == signed.signed_url  # same seed and clock: same result


async def test_url_without_query_or_with_fragment() -> None:
    bare = await signer().sign_url("https://www.tiktok.com/@someone/live", now=fixed_clock)
    assert bare.signed_url.startswith("https://www.tiktok.com/@someone/live?msToken=")
    assert bare.user_agent == DEFAULT_USER_AGENT
    with_fragment = await signer().sign_url("https://www.tiktok.com/a?b=1#top", now=fixed_clock)
    assert with_fragment.signed_url.endswith(f"&X-Bogus={with_fragment.x_bogus}#top")


async def test_x_tt_params_carries_the_callers_parameters() -> None:
    signed = await signer().sign_url(FETCH, user_agent=UA, now=fixed_clock)
    assert decode_x_tt_params(signed.x_tt_params) == {
        "aid": "1988",
        "room_id": "7",
        "cursor": "",
        "tz_name": "Europe/Berlin",
        "is_encryption": "1",
    }


async def test_default_clock_and_random_source_work() -> None:
    signed = await AlgorithmSigner().sign_url(FETCH)
    assert decode_x_bogus(signed.x_bogus).timestamp > 1_700_000_000


async def test_custom_header_and_canvas_reach_the_signature() -> None:
    header = bytes((0x40, 0x00, 0x01, 0x08))
    custom = AlgorithmSigner(rng=random.Random(1), header=header, canvas=4231191202)
    payload = decode_x_bogus((await custom.sign_url(FETCH, user_agent=UA, now=fixed_clock)).x_bogus)
    assert payload.header == header
    assert payload.canvas == 4231191202
    assert payload.ua_digest == user_agent_tail(UA, 8)


async def test_rejects_non_tiktok_urls() -> None:
    with pytest.raises(InvalidTikTokUrl, match="Invalid TikTok URL"):
        await signer().sign_url("https://tiktok.com.evil.org/webcast/im/fetch/?a=1")
    assert validate_tiktok_url(FETCH) == FETCH


async def test_is_a_ready_signer() -> None:
    algorithm = signer()
    assert isinstance(algorithm, Signer)
    assert algorithm.name == "algorithm"
    assert await algorithm.ready() is True


def test_signed_url_is_frozen() -> None:
    signed = signer().sign(FETCH, user_agent=UA, now=fixed_clock)
    with pytest.raises(dataclasses.FrozenInstanceError):
        signed.x_bogus = "x"  # type: ignore[misc]


query_piece = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}=[A-Za-z0-9%._~-]{0,12}", fullmatch=True)


@given(pieces=st.lists(query_piece, max_size=8), seed=st.integers(), now=st.integers(0, 2**32 - 1))
def test_any_query_keeps_its_pieces_and_gets_a_valid_signature(
    pieces: list[str], seed: int, now: int
) -> None:
    kept = [p for p in pieces if p.split("=")[0] not in {"msToken", "X-Bogus", "X-Gnarly"}]
    url = "https://www.tiktok.com/api/x/?" + "&".join(pieces)
    signed = AlgorithmSigner(rng=random.Random(seed)).sign(url, user_agent=UA, now=lambda: now)
    covered, bogus = split_signed(signed)
    assert covered == "&".join([*kept, f"msToken={signed.ms_token}"])
    assert decode_x_bogus(bogus).query_digest == double_md5_tail(covered.encode())
    assert decode_x_bogus(bogus).timestamp == now
