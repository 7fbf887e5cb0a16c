"""X-Bogus: published vectors, the documented layout, and properties.

Vectors are real X-Bogus values published next to the exact query string they sign.
Every one was checked independently of this code: its decoded query digest equals
md5(md5(query))[-2:] and its user-agent digest matches the stated (or implied) UA.
"""

from __future__ import annotations

import hashlib
import string
from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st

from allin.sign.algorithm import xbogus
from allin.sign.algorithm.xbogus import (
    ALPHABET,
    DEFAULT_CANVAS,
    DEFAULT_HEADER,
    EMPTY_BODY_DIGEST,
    X_BOGUS_LENGTH,
    InvalidXBogus,
    XBogusPayload,
    decode_x_bogus,
    double_md5_tail,
    encode_x_bogus,
    rc4,
    unwrap_x_bogus,
    user_agent_tail,
    x_bogus,
)

EDGE_107 = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/107.0.0.0 Safari/537.36 Edg/107.0.1418.56"
)
EDGE_123 = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/123.0.0.0 Safari/537.36 Edg/123.0.0.0"
)
EDGE_116 = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/116.0.0.0 Safari/537.36 Edg/116.0.1938.69"
)


@dataclass(frozen=True)
class Vector:
    source: str
    query: str
    user_agent: str
    timestamp: int
    canvas: int
    header: bytes
    expected: str


PUBLISHED = [
    # carcabot/tiktok-signature, examples/user-videos.js @ 0dc035ae702dda93121d76c30f627ad92cc71915:
    # TT_REQ_PERM_URL (www.tiktok.com/api/post/item_list/) copied from a browser, sent with
    # the file's TT_REQ_USER_AGENT. Timestamp 1669230067 = 2022-11-23.
    Vector(
        source="carcabot/tiktok-signature examples/user-videos.js @0dc035a",
        query=(
            "aid=1988&app_language=en&app_name=tiktok_web&battery_info=1&browser_language=en-US&b"
            "rowser_name=Mozilla&browser_online=true&browser_platform=Win32&browser_version=5.0%2"
            "0%28Windows%20NT%2010.0%3B%20Win64%3B%20x64%29%20AppleWebKit%2F537.36%20%28KHTML%2C%"
            "20like%20Gecko%29%20Chrome%2F107.0.0.0%20Safari%2F537.36%20Edg%2F107.0.1418.56&chann"
            "el=tiktok_web&cookie_enabled=true&device_id=7165118680723998214&device_platform=web_"
            "pc&focus_state=true&from_page=user&history_len=3&is_fullscreen=false&is_page_visible"
            "=true&os=windows&priority_region=RO&referer=&region=RO&screen_height=1440&screen_wid"
            "th=2560&tz_name=Europe%2FBucharest&webcast_language=en&msToken=G3C-3f8JVeDj9OTvvxfaJ"
            "_NppXWzVflwP1dOclpUOmAv4WmejB8kFwndJufXBBrXbeWNqzJgL8iF5zn33da-ZlDihRoWRjh_TDSuAgqSG"
            "Au1-4u2YlvCATAM2jl2J1dwNPf0_fk9dx1gJxQ21S0="
        ),
        user_agent=EDGE_107,
        timestamp=1669230067,
        canvas=1223183275,
        header=bytes((0x40, 0x00, 0x01, 0x0C)),
        expected="DFSzswVYxTUANS/JS8OTqsXyYJUo",
    ),
    # carcabot/tiktok-signature, examples/user-videos.js @ 93067e3440bda7bb1322e8b2791cc9fe479701b0:
    # a later browser capture of the same endpoint. The file's TT_REQ_USER_AGENT is stale
    # (Edge 107); the URL's own browser_version parameter names Edge 123, and that UA
    # reproduces the signed UA digest. Timestamp 1713209542 = 2024-04-15.
    Vector(
        source="carcabot/tiktok-signature examples/user-videos.js @93067e3",
        query=(
            "WebIdLastTime=1684959661&aid=1988&app_language=en&app_name=tiktok_web&browser_langua"
            "ge=en-US&browser_name=Mozilla&browser_online=true&browser_platform=Win32&browser_ver"
            "sion=5.0%20%28Windows%20NT%2010.0%3B%20Win64%3B%20x64%29%20AppleWebKit%2F537.36%20%2"
            "8KHTML%2C%20like%20Gecko%29%20Chrome%2F123.0.0.0%20Safari%2F537.36%20Edg%2F123.0.0.0"
            "&channel=tiktok_web&cookie_enabled=true&count=35&coverFormat=2&cursor=0&device_id=72"
            "36846595559933467&device_platform=web_pc&focus_state=true&from_page=user&history_len"
            "=8&is_fullscreen=false&is_page_visible=true&language=en&os=windows&priority_region=R"
            "O&referer=https%3A%2F%2Fwww.tiktok.com%2Fbusiness-suite%2Fmessages%3Ffrom%3Dhomepage"
            "%26lang%3Den&region=RO&root_referer=https%3A%2F%2Fwww.tiktok.com%2Fbusiness-suite%2F"
            "messages%3Ffrom%3Dhomepage%26lang%3Den&screen_height=1080&screen_width=1920&secUid=M"
            "S4wLjABAAAATdiadghBG5ZZqRrY93j0-jyzqPW_toWf5ir6b9aeB64HebodSB1scEXNpC020bPq&tz_name="
            "Europe%2FBucharest&verifyFp=verify_lv1bd0o8_AA3QC5jZ_70uk_4haw_BYSy_P6oIpsr0LMUE&web"
            "cast_language=en&msToken=riqlJPr42AMSGAwHu9g9z5PhCqn3Hzp-CjRpNH8XqPTcwNCehHnQqvP5BAg"
            "x7HwkuQfAcVxbttMfK3fGHZvUXYB__GZK7iWaYaItDzaDJxeVock0JIurABWe1b5T30PY61UM"
        ),
        user_agent=EDGE_123,
        timestamp=1713209542,
        canvas=4231191202,
        header=bytes((0x40, 0x00, 0x01, 0x08)),
        expected="DFSzswVurstANHsMt5bgOw4m8iGH",
    ),
    # https://github.com/Johnserf-Seed/TikTokDownload/issues/542 (2023-09-08): a Douyin web
    # URL (same SDK) copied from Edge's devtools. The issue does not quote the UA; the
    # standard Edge 116.0.1938.69 UA named by browser_name/browser_version reproduces it.
    Vector(
        source="https://github.com/Johnserf-Seed/TikTokDownload/issues/542",
        query=(
            "device_platform=webapp&aid=6383&channel=channel_pc_web&publish_video_strategy_type=2"
            "&source=channel_pc_web&sec_user_id=MS4wLjABAAAArEguk4UmgcNDiCSPKjfA7kAL5HIvZDp1XaTU8"
            "uTMDis&pc_client_type=1&version_code=170400&version_name=17.4.0&cookie_enabled=true&"
            "screen_width=2560&screen_height=1440&browser_language=zh-CN&browser_platform=Win32&b"
            "rowser_name=Edge&browser_version=116.0.1938.69&browser_online=true&engine_name=Blink"
            "&engine_version=116.0.0.0&os_name=Windows&os_version=10&cpu_core_num=8&device_memory"
            "=8&platform=PC&downlink=10&effective_type=4g&round_trip_time=50&webid=72763004326192"
            "43066&msToken=Zi1Q-ET0UjUKUO-_OBhovr-AKkjeO68zD-pNDfVkoYEykQ7vtdvcFRS544ugB0uBsKQaRD"
            "lsMhzrboU3SAcOS5-OL5AWqWKJAuwbm7_YEhpLjiOn7g5NmLPp0dE="
        ),
        user_agent=EDGE_116,
        timestamp=1694145822,
        canvas=3733362047,
        header=bytes((0x40, 0x00, 0x01, 0x0C)),
        expected="DFSzswVYIl0ANt4xtyG2Wf85lWMH",
    ),
]

# https://github.com/davidteather/TikTok-Api/issues/1173 (2024-07-18) quotes an
# item/detail URL signed with X-Bogus=DFSzswSLsuzANamNtwHAAt9WcBnl by a third-party
# script; its user agent is unknown, so only the query digest and the rest of the
# layout can be checked.
TIKTOK_API_1173_QUERY = (
    "aid=1988&app_name=tiktok_web&browser_language=en-US&browser_platform=Win32&count=20&"
    "device_id=&device_platform=web_pc&os=windows&priority_region=&referrer=&region=US&sc"
    "reen_height=0&screen_width=0&browser_name=Mozilla&browser_version=5.0+%28Windows+NT+"
    "10.0%3B+Win64%3B+x64%29+AppleWebKit%2F537.36+%28KHTML%2C+like+Gecko%29+Chrome%2F110."
    "0.5481.38+Safari%2F537.36+Edg%2F110.0.5481.38&cursor=0&itemId=7054940332990942465"
)
TIKTOK_API_1173_X_BOGUS = "DFSzswSLsuzANamNtwHAAt9WcBnl"


@pytest.mark.parametrize("vector", PUBLISHED, ids=lambda v: v.source)
def test_published_vector_is_reproduced(vector: Vector) -> None:
    produced = x_bogus(
        vector.query,
        vector.user_agent,
        timestamp=vector.timestamp,
        canvas=vector.canvas,
        header=vector.header,
    )
    assert produced == vector.expected


@pytest.mark.parametrize("vector", PUBLISHED, ids=lambda v: v.source)
def test_published_vector_decodes_to_its_inputs(vector: Vector) -> None:
    payload = decode_x_bogus(vector.expected)
    assert payload.header == vector.header
    assert (
        payload.query_digest
        == hashlib.md5(hashlib.md5(vector.query.encode()).digest()).digest()[-2:]
    )
    assert payload.body_digest == EMPTY_BODY_DIGEST
    assert payload.ua_digest == user_agent_tail(vector.user_agent, vector.header[3])
    assert payload.timestamp == vector.timestamp
    assert payload.canvas == vector.canvas


def test_third_party_vector_decodes_to_the_documented_layout() -> None:
    payload = decode_x_bogus(TIKTOK_API_1173_X_BOGUS)
    assert payload.query_digest == double_md5_tail(TIKTOK_API_1173_QUERY.encode())
    assert payload.body_digest == EMPTY_BODY_DIGEST
    assert payload.header == bytes((0x40, 0, 0, 0))
    assert payload.timestamp == 1721309716  # 2024-07-18, the day the issue was filed
    assert payload.canvas == 0
    assert encode_x_bogus(payload) == TIKTOK_API_1173_X_BOGUS


def test_empty_body_digest_is_the_documented_constant() -> None:
    # Public implementations hard-code 69, 63 for GET requests.
    assert double_md5_tail(b"") == EMPTY_BODY_DIGEST == bytes((69, 63))


@pytest.mark.parametrize(
    ("key", "plaintext", "ciphertext"),
    [
        # https://en.wikipedia.org/wiki/RC4#Test_vectors
        (b"Key", b"Plaintext", "bbf316e8d940af0ad3"),
        (b"Wiki", b"pedia", "1021bf0420"),
        (b"Secret", b"Attack at dawn", "45a01f645fc35b383552544b9bf5"),
    ],
)
def test_rc4_matches_published_test_vectors(key: bytes, plaintext: bytes, ciphertext: str) -> None:
    assert rc4(key, plaintext).hex() == ciphertext
    assert rc4(key, bytes.fromhex(ciphertext)) == plaintext


def test_defaults_are_the_documented_constants() -> None:
    assert DEFAULT_CANVAS == 536919696
    assert DEFAULT_HEADER.hex() == "4000010e"
    assert ALPHABET + "=" == "Dkdpgh4ZKsQB80/Mfvw36XI1R25-WUAlEi7NLboqYTOPuzmFjJnryx9HVGcaStCe="
    assert len(set(ALPHABET)) == 64


def test_payload_bytes_follow_the_documented_layout() -> None:
    query, agent, body = "aid=1988&room_id=7", "Mozilla/5.0 test", b'{"a":1}'
    value = x_bogus(query, agent, timestamp=0x01020304, canvas=0x0A0B0C0D, body=body)
    raw = unwrap_x_bogus(value)
    assert raw[0:4] == DEFAULT_HEADER
    assert raw[4:6] == hashlib.md5(hashlib.md5(query.encode()).digest()).digest()[14:16]
    assert raw[6:8] == hashlib.md5(hashlib.md5(body).digest()).digest()[14:16]
    assert raw[10:14] == bytes((1, 2, 3, 4))
    assert raw[14:18] == bytes((10, 11, 12, 13))
    checksum = 0
    for byte in raw[:18]:
        checksum ^= byte
    assert raw[18] == checksum


printable = st.text(string.printable, max_size=300)
u32 = st.integers(min_value=0, max_value=2**32 - 1)


@given(query=st.text(max_size=500), agent=printable, timestamp=u32, canvas=u32, body=st.binary())
def test_x_bogus_is_28_alphabet_chars_and_decodes_back(
    query: str, agent: str, timestamp: int, canvas: int, body: bytes
) -> None:
    value = x_bogus(query, agent, timestamp=timestamp, canvas=canvas, body=body)
    assert len(value) == X_BOGUS_LENGTH
    assert set(value) <= set(ALPHABET)
    # 0x02 0xff and rc4(0xff)(0x40) are fixed, so every value shares its first 4 digits.
    assert value.startswith("DFSz")
    payload = decode_x_bogus(value)
    assert payload.query_digest == double_md5_tail(query.encode())
    assert payload.body_digest == double_md5_tail(body)
    assert payload.ua_digest == user_agent_tail(agent, DEFAULT_HEADER[3])
    assert (payload.timestamp, payload.canvas, payload.header) == (
        timestamp,
        canvas,
        DEFAULT_HEADER,
    )


@given(
    header=st.binary(min_size=4, max_size=4),
    digests=st.binary(min_size=6, max_size=6),
    timestamp=u32,
    canvas=u32,
)
def test_encode_and_decode_are_inverse(
    header: bytes, digests: bytes, timestamp: int, canvas: int
) -> None:
    payload = XBogusPayload(header, digests[0:2], digests[2:4], digests[4:6], timestamp, canvas)
    assert decode_x_bogus(encode_x_bogus(payload)) == payload


def test_x_bogus_is_deterministic_and_input_sensitive() -> None:
    base = x_bogus("a=1", "UA", timestamp=1700000000)
    assert base == x_bogus("a=1", "UA", timestamp=1700000000)
    assert base != x_bogus("a=2", "UA", timestamp=1700000000)
    assert base != x_bogus("a=1", "UB", timestamp=1700000000)
    assert base != x_bogus("a=1", "UA", timestamp=1700000001)
    assert base != x_bogus("a=1", "UA", timestamp=1700000000, body=b"x")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("DFSz", "28 characters"),
        ("DFSzswVYxTUANS/JS8OTqsXyYJU!", "alphabet"),
        ("k" * 28, "02 ff"),
    ],
)
def test_decode_rejects_malformed_values(value: str, message: str) -> None:
    with pytest.raises(InvalidXBogus, match=message):
        decode_x_bogus(value)


def test_decode_rejects_a_bad_checksum() -> None:
    raw = bytearray(decode_x_bogus(PUBLISHED[0].expected).to_bytes())
    raw[18] ^= 0x01
    tampered = xbogus._to_digits(b"\x02\xff" + rc4(b"\xff", bytes(raw)))
    with pytest.raises(InvalidXBogus, match="checksum"):
        decode_x_bogus(tampered)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"timestamp": -1},
        {"timestamp": 2**32},
        {"timestamp": 0, "canvas": 2**32},
        {"timestamp": 0, "header": b"\x40"},
    ],
)
def test_x_bogus_rejects_out_of_range_inputs(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        x_bogus("a=1", "UA", **kwargs)  # type: ignore[arg-type]
