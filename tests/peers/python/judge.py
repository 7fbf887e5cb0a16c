"""TikTokLive as a judge: connects to one streamer through an EulerStream-compatible sign
server and prints one JSON line per received event, in AllIN's event vocabulary.

Runs in .peers/python (never imports allin). Only TikTokLive's base URLs are changed.
Usage: judge.py <username> <sign base URL> <web base URL> <webcast base URL> <seconds>
Prints READY once loaded, then connects when a line arrives on stdin.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

from TikTokLive import TikTokLiveClient
from TikTokLive.client.web.web_settings import WebDefaults
from TikTokLive.events import (
    CommentEvent,
    ControlEvent,
    FollowEvent,
    GiftEvent,
    JoinEvent,
    LikeEvent,
    RoomUserSeqEvent,
    ShareEvent,
)


def _fields(kind: str, event: Any) -> dict[str, Any]:
    if kind == "chat":
        return {"content": event.content}
    if kind == "gift":
        return {
            "gift_id": int(event.gift_id),
            "repeat_count": int(event.repeat_count),
            "repeat_end": bool(event.repeat_end),
        }
    if kind == "like":
        return {"count": int(event.count), "total": int(event.total)}
    if kind == "room_user":
        return {"viewer_count": int(event.total)}
    if kind == "control":
        return {"code": int(event.action)}
    return {}


def _line(kind: str, event: Any) -> str:
    user = getattr(event, "user", None)
    return json.dumps(
        {
            "type": kind,
            "msg_id": str(event.common.msg_id if event.common else ""),
            "user": {"unique_id": user.unique_id, "display_id": user.display_id} if user else None,
            **_fields(kind, event),
        }
    )


# The library's event classes -> AllIN's type strings. Follow and share are TikTokLive's own
# split of WebcastSocialMessage (its custom events, keyed off the display text).
KINDS: dict[type[Any], str] = {
    CommentEvent: "chat",
    GiftEvent: "gift",
    LikeEvent: "like",
    JoinEvent: "join",
    FollowEvent: "follow",
    ShareEvent: "share",
    RoomUserSeqEvent: "room_user",
    ControlEvent: "control",
}


async def judge(username: str, seconds: float) -> int:
    client = TikTokLiveClient(unique_id=username)
    for cls, kind in KINDS.items():

        async def handler(event: Any, kind: str = kind) -> None:
            print(_line(kind, event), flush=True)

        client.add_listener(cls, handler)
    task = await client.start()
    print("judge: connected", file=sys.stderr, flush=True)
    try:
        await asyncio.wait_for(task, seconds)
    except TimeoutError:
        print("judge: time limit", file=sys.stderr, flush=True)
        return 3
    return 0


def main() -> int:
    username, sign_url, web_url, webcast_url, seconds = sys.argv[1:6]
    WebDefaults.tiktok_sign_url = sign_url
    WebDefaults.tiktok_app_url = web_url
    WebDefaults.tiktok_webcast_url = webcast_url
    print("READY", flush=True)
    sys.stdin.readline()
    return asyncio.run(judge(username, float(seconds)))


if __name__ == "__main__":
    sys.exit(main())
