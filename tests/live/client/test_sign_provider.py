"""The EulerStream-compatible sign provider call: request shape, every answer Euler gives."""

from __future__ import annotations

import email.utils
from typing import Any

import pytest
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from hypothesis import given
from hypothesis import strategies as st

from allin.live.errors import (
    InvalidResponseError,
    NetworkError,
    SignProviderError,
    SignRateLimitedError,
)
from allin.live.protocol import encode_fetch_result
from allin.live.sign_provider import (
    DEFAULT_RETRY_AFTER,
    SignProvider,
    parse_tt_cookies,
    retry_after_seconds,
)
from tests.simulator.live.support import STREAMER, simulated
from tests.support.server import free_port, serve

NOW = 1_800_000_000.0
BODY = encode_fetch_result(cursor="c", push_server="wss://x/", is_first=True)


def euler_stand_in(seen: list[Request]) -> FastAPI:
    """A stand-in for api.eulerstream.com: the answer depends on the room id asked for."""
    app = FastAPI()

    @app.get("/webcast/fetch")
    async def fetch(request: Request) -> Response:
        seen.append(request)
        room = request.query_params["room_id"]
        answers: dict[str, Response] = {
            "429": JSONResponse(
                {"message": "slow down", "limit_label": "hour"},
                429,
                headers={"RateLimit-Reset": "17", "RateLimit-Remaining": "0"},
            ),
            "402": JSONResponse({"message": "This endpoint requires a Business plan."}, 402),
            "500": JSONResponse(
                {"code": 500, "message": "Empty response payload received! (Internal Code: 200)"},
                500,
            ),
            "204": Response(b"", 200, headers={"X-Set-TT-Cookie": "ttwid=a"}),
            "205": Response(BODY, 200),
            "206": Response(b"\xff\xff\xff", 200, headers={"X-Set-TT-Cookie": "ttwid=a"}),
        }
        return answers.get(
            room,
            Response(
                BODY,
                200,
                media_type="application/protobuf",
                headers={
                    "X-Set-TT-Cookie": "ttwid=1%7Cabc; tt_chain_token=xyz",
                    "x-room-id": room,
                    "X-Request-Id": "req-1",
                },
            ),
        )

    return app


async def test_request_shape_and_success() -> None:
    seen: list[Request] = []
    async with serve(euler_stand_in(seen)) as base, SignProvider(base, "secret-key") as sign:
        signed = await sign.fetch(123, user_agent="Mozilla/5.0 test", cursor="c9")
    request = seen[0]
    assert request.headers["x-api-key"] == "secret-key"
    assert dict(request.query_params) == {
        "client": "ttlive-python",
        "room_id": "123",
        "user_agent": "Mozilla/5.0 test",
        "client_enter": "true",
        "platform": "web",
        "cursor": "c9",
    }
    assert signed.cookies == {"ttwid": "1%7Cabc", "tt_chain_token": "xyz"}
    assert signed.room_id == 123 and signed.request_id == "req-1"
    assert signed.result.is_first and signed.result.cursor == "c"
    assert signed.body == BODY


async def test_no_key_no_header() -> None:
    seen: list[Request] = []
    async with serve(euler_stand_in(seen)) as base, SignProvider(base) as sign:
        await sign.fetch(1, user_agent="ua")
    assert "x-api-key" not in seen[0].headers
    assert "cursor" not in seen[0].query_params


@pytest.mark.parametrize(
    ("room", "error", "reason"),
    [
        (402, SignProviderError, "PREMIUM_ENDPOINT"),
        (500, SignProviderError, "SIGN_NOT_200"),
        (204, SignProviderError, "EMPTY_PAYLOAD"),
        (205, SignProviderError, "EMPTY_COOKIES"),
    ],
)
async def test_failures_are_typed(room: int, error: type[Exception], reason: str) -> None:
    async with serve(euler_stand_in([])) as base, SignProvider(base) as sign:
        with pytest.raises(error) as info:
            await sign.fetch(room, user_agent="ua")
    assert isinstance(info.value, SignProviderError)
    assert info.value.reason == reason
    assert info.value.code == "LIVE_SIGN_PROVIDER_ERROR"


async def test_undecodable_body() -> None:
    async with serve(euler_stand_in([])) as base, SignProvider(base) as sign:
        with pytest.raises(InvalidResponseError):
            await sign.fetch(206, user_agent="ua")


async def test_rate_limit_reads_the_reset_header() -> None:
    async with serve(euler_stand_in([])) as base, SignProvider(base) as sign:
        with pytest.raises(SignRateLimitedError) as info:
            await sign.fetch(429, user_agent="ua")
    assert info.value.retry_after == 17
    assert info.value.limit_label == "hour"
    assert info.value.status_code == 429
    assert info.value.headers["Retry-After"] == "17"
    assert "slow down" in info.value.message


async def test_unreachable_is_a_network_error() -> None:
    async with SignProvider(f"http://127.0.0.1:{free_port()}") as sign:
        with pytest.raises(NetworkError):
            await sign.fetch(1, user_agent="ua")


async def test_against_the_simulator_sign_side() -> None:
    async with simulated() as running:
        room = running.simulator.room(STREAMER)
        assert room is not None
        async with SignProvider(running.urls.sign) as sign:
            signed = await sign.fetch(room.room_id, user_agent="Mozilla/5.0 sim")
    assert list(signed.cookies) == ["ttwid"]
    assert signed.room_id == room.room_id
    assert signed.result.is_first and signed.result.push_server.startswith("ws://")


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Retry-After": "7"}, 7.0),
        ({"retry-after": " 2.5 "}, 2.5),
        ({"Retry-After": email.utils.formatdate(NOW + 30, usegmt=True)}, 30.0),
        ({"RateLimit-Reset": "12"}, 12.0),
        ({"X-RateLimit-Reset": str(int(NOW + 90))}, 90.0),
        ({"X-RateLimit-Reset": str(int(NOW - 90))}, 0.0),
        ({"Retry-After": "soon", "RateLimit-Reset": "4"}, 4.0),
        ({}, DEFAULT_RETRY_AFTER),
    ],
)
def test_retry_after(headers: dict[str, str], expected: float) -> None:
    assert retry_after_seconds(headers, now=NOW) == pytest.approx(expected, abs=1)


@given(
    st.dictionaries(
        st.sampled_from(["Retry-After", "RateLimit-Reset", "X-RateLimit-Reset", "X"]),
        st.text(max_size=40),
    )
)
def test_retry_after_never_raises_and_is_never_negative(headers: dict[str, Any]) -> None:
    value = retry_after_seconds(headers, now=NOW)
    assert value >= 0


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("ttwid=abc", {"ttwid": "abc"}),
        ("ttwid=abc; Path=/; HttpOnly", {"ttwid": "abc"}),
        ("ttwid=a; msToken=b", {"ttwid": "a", "msToken": "b"}),
        ("", {}),
        ('bad"cookie', {}),
    ],
)
def test_tt_cookie_header(header: str, expected: dict[str, str]) -> None:
    assert parse_tt_cookies(header) == expected
