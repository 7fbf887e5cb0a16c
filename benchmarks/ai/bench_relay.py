"""What our AI relay adds to a streamed answer: time to the first token and per token.

The OpenAI simulator (no artificial delay) runs under uvicorn in its own process; AllIN
(`allin.app:create_app`, SQLite, logs at WARNING) in another, with the simulator as its only
provider and an unlimited plan. This process is the client, on loopback. *Direct* streams
`POST /v1/chat/completions` from the simulator as the SDK would; *relay* streams
`POST /api/ai/improve-content/stream` from AllIN, which authenticates, reserves credits, calls
the simulator through the official SDK, re-frames every delta as SSE and settles at the end.

The simulator pauses BENCH_AI_TOKEN_DELAY (default 5 ms) between tokens, as a model does.
First token: from sending the request to the first text delta. Per token: the gap between two
consecutive text deltas. Requests run one at a time, after a warm-up.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

import httpx
from fastapi import FastAPI

from allin.simulator.ai import SimState, create_openai_simulator
from benchmarks.sign.bench_sign import HOST, free_port, uvicorn_process

REQUESTS = int(os.environ.get("BENCH_AI_REQUESTS", "200"))
# The simulator's pause between tokens: a real model paces its tokens; 0 sends them in a burst.
TOKEN_DELAY = float(os.environ.get("BENCH_AI_TOKEN_DELAY", "0.005"))
WARMUP = 10
ROOT = Path(__file__).resolve().parents[2]
EMAIL, PASSWORD = "relay@allin-bench.dev", "violet-harbor-orbit-42"
CONTENT = "We open our second bakery in Lyon this Saturday, come and taste the sourdough!"


def paced_simulator() -> FastAPI:
    """The OpenAI simulator with BENCH_AI_TOKEN_DELAY between tokens (uvicorn factory)."""
    return create_openai_simulator(SimState(token_delay=TOKEN_DELAY))


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def timed(
    http: httpx.AsyncClient, url: str, body: dict[str, object], headers: dict[str, str], mark: str
) -> tuple[float, list[float]]:
    """(first-token seconds, gaps between tokens) of one streamed request."""
    started = time.perf_counter()
    arrivals: list[float] = []
    async with http.stream("POST", url, json=body, headers=headers) as response:
        response.raise_for_status()
        async for line in response.aiter_lines():
            if mark in line:
                arrivals.append(time.perf_counter())
    if not arrivals:
        raise SystemExit(f"no tokens from {url}")
    gaps = [b - a for a, b in itertools.pairwise(arrivals)]
    return arrivals[0] - started, gaps


async def series(
    url: str, body: dict[str, object], headers: dict[str, str], mark: str
) -> tuple[list[float], list[float]]:
    firsts: list[float] = []
    gaps: list[float] = []
    async with httpx.AsyncClient(timeout=30) as http:
        for index in range(WARMUP + REQUESTS):
            first, between = await timed(http, url, body, headers, mark)
            if index >= WARMUP:
                firsts.append(first)
                gaps.extend(between)
    return firsts, gaps


def wait_until_up(base: str, seconds: float = 180.0) -> None:
    """The app imports every domain and migrates first: on a busy machine that takes a while."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            httpx.get(base + "/api/health", timeout=5)
            return
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise SystemExit(f"{base} did not start") from None
            time.sleep(0.2)


def token(base: str) -> str:
    wait_until_up(base)
    with httpx.Client(base_url=base, timeout=30) as http:
        account = {"email": EMAIL, "password": PASSWORD, "display_name": "bench"}
        http.post("/api/auth/setup", json=account).raise_for_status()
        login = http.post("/api/auth/login", json={"email": EMAIL, "password": PASSWORD})
        value: str = login.raise_for_status().json()["data"]["access_token"]
        return value


def row(name: str, values: list[float]) -> str:
    ms = [v * 1000 for v in values]
    return f"| {name} | {len(ms)} | {statistics.median(ms):.2f} | {pct(ms, 0.99):.2f} |"


def main() -> None:
    root = Path(tempfile.mkdtemp(prefix="allin-bench-ai-"))
    sim_port, app_port = free_port(), free_port()
    sim_url = f"http://{HOST}:{sim_port}"
    provider = {"kind": "openai", "model": "gpt-sim", "base_url": f"{sim_url}/v1"}
    provider |= {"api_key": "sk-sim", "timeout": 30}
    env = {
        **os.environ,
        "ALLIN_DATA_DIR": str(root / "var"),
        "ALLIN_DATABASE_URL": f"sqlite+aiosqlite:///{root / 'allin.db'}",
        "ALLIN_SECRET_KEY": "bench-secret-key-not-for-production",
        "ALLIN_LOG_LEVEL": "WARNING",
        "ALLIN_LOG_FORMAT": "json",
        "ALLIN_REDIS_URL": "",
        "ALLIN_RATE_LIMIT_ENABLED": "false",
        "ALLIN_AI_PROVIDERS": json.dumps([provider]),
    }
    simulator = uvicorn_process(
        ["benchmarks.ai.bench_relay:paced_simulator", "--factory"], sim_port, env, ROOT
    )
    app = uvicorn_process(["allin.app:create_app", "--factory"], app_port, env, ROOT)
    try:
        base = f"http://{HOST}:{app_port}"
        auth = {"Authorization": f"Bearer {token(base)}"}
        messages = [
            {"role": "system", "content": "You edit social media posts."},
            {"role": "user", "content": f"Goal: more engaging\n\nPost:\n{CONTENT}"},
        ]
        direct_body: dict[str, object] = {
            "model": "gpt-sim",
            "messages": messages,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        direct = asyncio.run(
            series(
                f"{sim_url}/v1/chat/completions",
                direct_body,
                {"Authorization": "Bearer sk-sim"},
                '"delta":{"content":"',
            )
        )
        relay_body: dict[str, object] = {"content": CONTENT, "goal": "more engaging"}
        relay_body["platform"] = "x"
        relay = asyncio.run(
            series(f"{base}/api/ai/improve-content/stream", relay_body, auth, "event: delta")
        )
    finally:
        for process in (app, simulator):
            process.terminate()
            process.wait(10)
    print("| measure | n | p50 ms | p99 ms |")
    print("|---|---:|---:|---:|")
    print(row("first token, direct", direct[0]))
    print(row("first token, relay", relay[0]))
    print(row("per token, direct", direct[1]))
    print(row("per token, relay", relay[1]))
    for label, index in (("first token", 0), ("per token", 1)):
        d, r = [v * 1000 for v in direct[index]], [v * 1000 for v in relay[index]]
        added_50 = statistics.median(r) - statistics.median(d)
        added_99 = pct(r, 0.99) - pct(d, 0.99)
        print(f"added by the relay, {label}: p50 {added_50:+.2f} ms, p99 {added_99:+.2f} ms")


if __name__ == "__main__":
    main()
