"""Runs TikTokLive (unmodified) against a sign server and the TikTok simulator; prints one JSON
line per outcome. Run with the peer's own interpreter (.peers/python/bin/python), never AllIN's.

Environment: SIM_WEB, SIM_WEBCAST (TikTok's hosts: the simulator), SIGN_URL (the sign server),
SIGN_KEY (optional API key), STREAMER.
"""

import asyncio
import json
import os
import sys

from TikTokLive import TikTokLiveClient
from TikTokLive.client.errors import SignAPIError, SignatureRateLimitError
from TikTokLive.client.web.web_settings import WebDefaults
from TikTokLive.events import CommentEvent, ConnectEvent

WebDefaults.tiktok_app_url = os.environ["SIM_WEB"]
WebDefaults.tiktok_webcast_url = os.environ["SIM_WEBCAST"]
# The only sign settings a user changes (the integration guide's snippet):
WebDefaults.tiktok_sign_url = os.environ["SIGN_URL"]
if os.environ.get("SIGN_KEY"):
    WebDefaults.tiktok_sign_api_key = os.environ["SIGN_KEY"]


def emit(**fields):
    print(json.dumps(fields), flush=True)


async def main() -> int:
    client = TikTokLiveClient(unique_id="@" + os.environ["STREAMER"])
    commented = asyncio.Event()

    @client.on(ConnectEvent)
    async def on_connect(event: ConnectEvent) -> None:
        emit(event="connected", room_id=str(client.room_id))

    @client.on(CommentEvent)
    async def on_comment(event: CommentEvent) -> None:
        emit(event="comment", user=event.user.unique_id, comment=event.comment)
        commented.set()

    try:
        await client.start()
    except SignatureRateLimitError as exc:
        emit(
            event="error",
            type=type(exc).__name__,
            retry_after=exc.retry_after,
            reset_time=exc.reset_time,
            message=str(exc),
        )
        return 3
    except SignAPIError as exc:
        emit(event="error", type=type(exc).__name__, reason=str(exc.reason), message=str(exc))
        return 4
    try:
        await asyncio.wait_for(commented.wait(), 20)
    finally:
        await client.disconnect()
    return 0


sys.exit(asyncio.run(main()))
