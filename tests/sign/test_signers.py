"""The Signer protocol and SignedUrl value type."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest

from allin.sign.signers import SignedUrl, Signer


class _Incomplete:
    name = "incomplete"

    async def ready(self) -> bool:
        return False


class _Echo:
    name = "echo"

    async def sign_url(
        self,
        url: str,
        *,
        user_agent: str | None = None,
        now: Callable[[], float] | None = None,
    ) -> SignedUrl:
        return SignedUrl(url, "xb", "mt", "tt", user_agent or "ua", "sig")

    async def ready(self) -> bool:
        return True


async def test_protocol_is_structural() -> None:
    echo = _Echo()
    assert isinstance(echo, Signer)
    assert not isinstance(_Incomplete(), Signer)
    signed = await echo.sign_url("https://www.tiktok.com/")
    assert signed.signed_url == "https://www.tiktok.com/"


def test_signed_url_fields_match_the_sign_api_response() -> None:
    names = [field.name for field in dataclasses.fields(SignedUrl)]
    assert names == ["signed_url", "x_bogus", "ms_token", "x_tt_params", "user_agent", "signature"]
    signed = SignedUrl("u", "xb", "mt", "tt", "ua", "sig")
    with pytest.raises(dataclasses.FrozenInstanceError):
        signed.signed_url = "v"  # type: ignore[misc]
