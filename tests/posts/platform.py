"""A tiny outside platform for the queue's tests, served over real HTTP on loopback, and the
provider that talks to it. The platform records every post it accepts (what the "exactly
once" checks count) and can be told to accept a post and then not answer in time."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Request


@dataclass
class PlatformState:
    posts: list[dict[str, Any]] = field(default_factory=list)
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    hang_after_accept: float = 0.0  # seconds to stall after recording a post
    latency: float = 0.0  # seconds each post takes before it is recorded
    fail_with: tuple[int, dict[str, Any]] | None = None  # status and body, before recording

    def count_by_key(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for post in self.posts:
            counts[post["key"]] = counts.get(post["key"], 0) + 1
        return counts


def platform_app(state: PlatformState) -> FastAPI:
    app = FastAPI()

    @app.post("/posts")
    async def create(request: Request) -> Any:
        body = await request.json()
        if state.latency:
            await asyncio.sleep(state.latency)
        if state.fail_with is not None:
            from fastapi.responses import JSONResponse

            status, payload = state.fail_with
            headers = {"Retry-After": "120"} if status == 429 else None
            return JSONResponse(payload, status_code=status, headers=headers)
        post = {
            "id": str(next(state.ids)),
            "text": body["text"],
            "key": body["key"],
            "account": body["account"],
            "created_at": datetime.now(UTC).isoformat(),
        }
        state.posts.append(post)
        if state.hang_after_accept:
            await asyncio.sleep(state.hang_after_accept)
        return {"id": post["id"], "url": f"https://platform.test/p/{post['id']}"}

    @app.get("/posts")
    async def search(account: str, since: str) -> Any:
        cutoff = datetime.fromisoformat(since)
        return [
            p
            for p in state.posts
            if p["account"] == account and datetime.fromisoformat(p["created_at"]) >= cutoff
        ]

    @app.get("/counts")
    async def counts() -> dict[str, int]:
        return state.count_by_key()

    return app
