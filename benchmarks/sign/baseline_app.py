"""The floor: a bare ASGI app answering a fixed JSON body, served and loaded exactly like the
sign service, so the table shows how much latency the machine and the client add by themselves."""

from __future__ import annotations

from typing import Any

BODY = b'{"success":true,"data":{}}'
HEADERS = [(b"content-type", b"application/json"), (b"content-length", str(len(BODY)).encode())]


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})
