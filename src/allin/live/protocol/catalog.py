"""TikTok's gift catalogue (133 gifts served to the web client in 2023), shipped as package data."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources

from allin.live.protocol.models import GiftInfo

_CATALOG_FILE = "gift-catalog.json"


@cache
def _gifts() -> tuple[GiftInfo, ...]:
    text = (
        resources.files("allin.live.protocol")
        .joinpath("data")
        .joinpath(_CATALOG_FILE)
        .read_text("utf-8")
    )
    return tuple(
        GiftInfo(
            id=int(g["id"]),
            name=str(g["name"]),
            diamond_count=int(g["diamond_count"]),
            type=int(g["type"]),
            combo=bool(g["combo"]),
            describe=str(g.get("describe", "")),
            image_uri=str(g.get("image_uri", "")),
        )
        for g in json.loads(text)["gifts"]
    )


def gift_catalog() -> dict[int, GiftInfo]:
    """gift id -> GiftInfo. A fresh dict each call (the parsed file is cached)."""
    return {g.id: g for g in _gifts()}
