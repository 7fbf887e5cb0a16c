"""`POST /api/eulerstream` with the algorithm signer, under load from a second process.

The server is `allin.app:create_app` under uvicorn in its own process (SQLite, no Redis, logs at
WARNING, one worker); this process is the client, on loopback. The caller uses an API key (an
unlimited plan), so every request goes through key lookup, quota and usage
recording. Two cases: *cached* (the same URL every time: the 5-minute signature cache answers)
and *uncached* (a new URL every time: X-Bogus, msToken and x-tt-params are computed).

For each case: the throughput with 16 requests in flight, then the latency at a fixed 1,000
requests/s (open loop, measured from each request's scheduled send time). A bare ASGI app under
the same server and load first gives the floor (what the machine and the client add), and the
server's own CPU time per request is read from /proc: unlike the latency tail, it does not
depend on what else the machine is running.
"""

from __future__ import annotations

import itertools
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx

from benchmarks.sign.loadgen import Result, closed_loop, open_loop, post

RATE = float(os.environ.get("BENCH_SIGN_RATE", "1000"))
SECONDS = float(os.environ.get("BENCH_SIGN_SECONDS", "10"))
HOST = "127.0.0.1"
ROOT = Path(__file__).resolve().parents[2]
Server = tuple[int, int]  # pid, port
EMAIL, PASSWORD = "loadtest@allin-bench.dev", "violet-harbor-orbit-42"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def start_server(root: Path, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "ALLIN_DATA_DIR": str(root / "var"),
        "ALLIN_DATABASE_URL": f"sqlite+aiosqlite:///{root / 'allin.db'}",
        "ALLIN_SECRET_KEY": "bench-secret-key-not-for-production",
        "ALLIN_LOG_LEVEL": "WARNING",
        "ALLIN_LOG_FORMAT": "json",
        "ALLIN_SIGNER": "algorithm",
        "ALLIN_REDIS_URL": "",
    }
    return uvicorn_process(["allin.app:create_app", "--factory"], port, env, root)


def uvicorn_process(
    target: list[str], port: int, env: dict[str, str], cwd: Path
) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "uvicorn", *target, "--host", HOST, "--port", str(port)]
    command += ["--no-access-log", "--log-level", "warning"]
    return subprocess.Popen(command, env=env, cwd=cwd, stdout=subprocess.DEVNULL)


def wait_until_up(base: str) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(base + "/api/health", timeout=5)
            return
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise SystemExit(f"{base} did not start") from None
            time.sleep(0.1)


def api_key(base: str) -> str:
    """First-run admin, login, one API key (free plan: unlimited)."""
    wait_until_up(base)
    with httpx.Client(base_url=base, timeout=30) as http:
        account = {"email": EMAIL, "password": PASSWORD, "display_name": "bench"}
        setup = http.post("/api/auth/setup", json=account)
        if setup.status_code != 201:
            raise SystemExit(f"setup failed: {setup.status_code} {setup.text}")
        login = http.post("/api/auth/login", json={"email": EMAIL, "password": PASSWORD})
        token = login.raise_for_status().json()["data"]["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        created = http.post("/api/auth/api-keys", json={"name": "bench"}, headers=auth)
        key: str = created.raise_for_status().json()["data"]["key"]
        return key


def request_factory(key: str, cached: bool) -> Callable[[int], bytes]:
    headers = {"Authorization": f"Bearer {key}"}
    url = "https://www.tiktok.com/@testuser/live"
    same = post("/api/eulerstream", json.dumps({"url": url}).encode(), headers)
    fresh = itertools.count()  # shared by every run: no URL is ever signed twice

    def make(_: int) -> bytes:
        if cached:
            return same
        body = json.dumps({"url": f"{url}?n={next(fresh)}"}).encode()
        return post("/api/eulerstream", body, headers)

    return make


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc): what the server itself spent,
    whatever else the machine was doing."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def run(pid: int, load: Awaitable[Result]) -> tuple[Result, float]:
    """The load's result, and the server's CPU microseconds per request during it."""
    before = cpu_seconds(pid)
    result = await load
    return result, (cpu_seconds(pid) - before) / len(result.latencies) * 1e6


def row(name: str, measured: tuple[Result, float]) -> str:
    result, cpu = measured
    ok = result.statuses.get(200, 0)
    bad = sum(n for status, n in result.statuses.items() if status != 200)
    p50, p99 = result.percentile(50) * 1000, result.percentile(99) * 1000
    return (
        f"| {name} | {result.rate:,.0f} | {p50:.2f} | {p99:.2f} | "
        f"{result.percentile(99.9) * 1000:.2f} | {cpu:,.0f} | {ok:,} | {bad} |"
    )


async def measure(server: Server, baseline: Server, key: str) -> list[str]:
    (pid, port), (floor_pid, floor_port) = server, baseline
    floor = request_factory(key, cached=True)
    await closed_loop(HOST, floor_port, floor, concurrency=8, seconds=1.0)
    fixed = open_loop(HOST, floor_port, floor, rate=RATE, seconds=SECONDS, connections=32)
    rows = [
        row(f"floor: bare ASGI app, open loop at {RATE:,.0f} req/s", await run(floor_pid, fixed))
    ]
    for label, cached in (("cached", True), ("uncached", False)):
        make = request_factory(key, cached)
        await closed_loop(HOST, port, make, concurrency=8, seconds=1.0)  # warm-up
        peak = closed_loop(HOST, port, make, concurrency=16, seconds=SECONDS / 2)
        rows.append(row(f"{label}, 16 in flight (max throughput)", await run(pid, peak)))
        fixed = open_loop(HOST, port, make, rate=RATE, seconds=SECONDS, connections=32)
        rows.append(row(f"{label}, open loop at {RATE:,.0f} req/s", await run(pid, fixed)))
    return rows


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root, port, baseline_port = Path(tmp), free_port(), free_port()
        server = start_server(root, port)
        baseline = uvicorn_process(
            ["benchmarks.sign.baseline_app:app"], baseline_port, dict(os.environ), ROOT
        )
        try:
            key = api_key(f"http://{HOST}:{port}")
            wait_until_up(f"http://{HOST}:{baseline_port}")
            import uvloop

            servers = (server.pid, port), (baseline.pid, baseline_port)
            rows = uvloop.run(measure(*servers, key))
        finally:
            for process in (server, baseline):
                process.terminate()
                process.wait(10)
    print(f"POST /api/eulerstream, algorithm signer, API key; {SECONDS:g}s per open-loop run")
    print("| case | req/s | p50 ms | p99 ms | p99.9 ms | server CPU µs/req | 200s | other |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for line in rows:
        print(line)


if __name__ == "__main__":
    main()
