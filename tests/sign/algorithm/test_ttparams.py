"""x-tt-params: a published browser value, the documented format, and properties."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from allin.sign.algorithm.ttparams import (
    InvalidXTtParams,
    decode_x_tt_params,
    x_tt_params,
)

# An x-tt-params header captured from a browser on www.tiktok.com/api/post/item_list/
# (January 2023). Its first 30 characters and the key/IV "webapp1.0+202106" are quoted in
# https://github.com/davidteather/TikTok-Api/issues/899 (comment of 2022-11-11, decoded
# there with openssl aes_cbc_decrypt to "aid=1988&app_name=tiktok_web&channel=tiktok_web...");
# the complete value is the `hash` constant of a public puppeteer TikTok scraper (index.js)
# found through code search, whose repository name the index did not expose.
PUBLISHED_X_TT_PARAMS = (
    "4mOJhGnMOdadxrLEy2bkmGSR2R38w8nZC8MQKREioTAU76aXIbW+KkRzj5O7qqbOI65rqSqkFAXNltiJ1p2Y"
    "yvalYQ0VbxXkcXRyJfQSSRTk/fBab3EehOQzE3c0VGxjxseLL/pHkdwZOFy6VkLtsE4Ns79k9Ml+TOiWRhAT"
    "OkL0q+6xkK/JZAE0Nf6Et/1QeuT9i33Trcq/tjVUxJqmW84vxO/sGvJGiQm1pS84ILhn6n9XVKXoXjyYRiiK"
    "8oma4hqXehJM6DBo7knM0OUBW2s7N11xex8Kgk5aIysnTy9x9ldKreqOavDPsBuiglh/VnRESLD6yJXoPkm6"
    "xu922kgdYTWtcdcx57BYGqk7xO3RPKC3AoMy69yurRerU3okvfyPWJ6DRbsCOXjltcURAnkbTEdSMuCCx+Z+"
    "X5+RFxGKOPckSK7eLP2fHzHZP/ILcJXTVjHr0nPG3Ag9uPaa0BpM1i+j2O+b8Oql72biaD0DyIQ2oon53GWE"
    "hPI2TNepZH5WzYKzw4qRp59tMLJLzG4t3sWH7hpEQ/f+7XrTqRvJquveRjvyFT+YUktiKTqCAogNF7YZln+1"
    "uPCs0jdkb8aLG+cjhNw0Mgq0ByQuJeYGX4AV2CPgG+kbfxtdCHtdmJad7Hgu0u/7ZU32hKtqCVA41PNQvHeE"
    "9QlS66Lnrtcn8hywIjZIYrH/jB9d4W1+Tn6mInawE8aPNfXFL4+kCL3MUS6Y/CcyBYxKR5QmKt2yq2fKYfXi"
    "tWmkWeDKd+8eXHaonhWjdEIzXYiA43miDdhYI3Zp9cCBkRu9o8zCkc1bG0QuqnulDypWLt5CcH9Uw+p4FwO3"
    "7NWsZlz5zaxHKb3eJ3a8OjpCatrVNSqDFKZTao8RYTVIyCOOlxFGJjTVJVHpmtijiivPoLF4p0vTtiUbletD"
    "VbWu6caZn2MRIolFC/Coohu95hJOuXWq3XoWYlYfXiC4GkpuqdztJV6RbMbqJg/uQv5Npthmu7TgqOfnozJo"
    "pX7JJmkXdWL/VJR8pTUZrDCSd0awXEGEt0/W6B6ITZ49eRhIVy3Z36O522Y32NkGHoPkQC/ebXpSvlWnCwwk"
    "ZiZoTbbbTqCKRg69w629Y3TKQ2xoWzh/F6PFkfPtzz0m5/6OciGMQkenmXD0RpavnR/TMZPOk+1Nl8ZGtA=="
)

PUBLISHED_PARAMS = {
    "aid": "1988",
    "app_name": "tiktok_web",
    "channel": "tiktok_web",
    "device_platform": "web_pc",
    "device_id": "7191678676156237313",
    "region": "MM",
    "priority_region": "MM",
    "os": "mac",
    "referer": "https://www.tiktok.com/@xiaruihann",
    "root_referer": "https://www.tiktok.com/@xiaruihann",
    "cookie_enabled": "true",
    "screen_width": "1920",
    "screen_height": "1080",
    "browser_language": "en",
    "browser_platform": "MacIntel",
    "browser_name": "Mozilla",
    "browser_version": (
        "5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Chrome/109.0.0.0 Safari/537.36"
    ),
    "browser_online": "true",
    "verifyFp": "verify_ld8ysvwv_PzjIza0X_DsId_4MuI_8Xvn_cl4KrOIahqBO",
    "app_language": "en",
    "webcast_language": "en",
    "tz_name": "Asia/Rangoon",
    "is_page_visible": "true",
    "focus_state": "true",
    "is_fullscreen": "false",
    "history_len": "4",
    "battery_info": "0.8",
    "from_page": "user",
    "secUid": "MS4wLjABAAAAFiFER5ePUCnzfkLUT5XSZxcMk19LlHLCyukuOEOHaRtZ4ATWx8UNvcjz3ZoAUs8h",
    "count": "30",
    "cursor": "1629721214000",
    "language": "en",
    "userId": "undefined",
    "is_encryption": "1",
}


def test_published_value_decrypts_to_its_parameters() -> None:
    decoded = decode_x_tt_params(PUBLISHED_X_TT_PARAMS)
    assert list(decoded.items()) == list(PUBLISHED_PARAMS.items())


def test_published_value_is_reproduced_byte_for_byte() -> None:
    assert x_tt_params(PUBLISHED_PARAMS) == PUBLISHED_X_TT_PARAMS


def test_is_encryption_flag_is_appended_once() -> None:
    decoded = decode_x_tt_params(x_tt_params({"aid": "1988"}))
    assert list(decoded.items()) == [("aid", "1988"), ("is_encryption", "1")]
    again = decode_x_tt_params(x_tt_params(decoded))
    assert list(again.items()) == [("aid", "1988"), ("is_encryption", "1")]


def test_value_is_aes_cbc_blocks_in_standard_base64() -> None:
    value = x_tt_params({"aid": "1988", "count": "30"})
    assert len(base64.b64decode(value, validate=True)) % 16 == 0


def test_reserved_characters_survive_the_raw_format() -> None:
    params = {"referer": "https://x.tiktok.com/?a=1&b=%20", "k=ey": "v"}
    assert decode_x_tt_params(x_tt_params(params)) == {**params, "is_encryption": "1"}


@given(st.dictionaries(st.text(), st.text(), max_size=12))
def test_round_trip_keeps_every_parameter_in_order(params: dict[str, str]) -> None:
    expected = dict(params)
    expected.setdefault("is_encryption", "1")
    decoded = decode_x_tt_params(x_tt_params(params))
    assert list(decoded.items()) == list(expected.items())


@pytest.mark.parametrize(
    "value",
    [
        "not base64!",
        "",
        base64.b64encode(b"short").decode(),
        base64.b64encode(bytes(32)).decode(),  # decrypts, but the padding is wrong
    ],
)
def test_decode_rejects_values_this_key_did_not_produce(value: str) -> None:
    with pytest.raises(InvalidXTtParams):
        decode_x_tt_params(value)
