"""TikTok benchmarks: `python -m benchmarks.tiktok.bench_tiktok [--sizes-mb 100 300]`
(also run by `make bench`).

1. authorization_url and cached get_valid_token: microseconds per call (the budget is < 10 ms and
   < 5 ms on average; the target is 100x better).
2. A FILE_UPLOAD through the simulator on loopback: throughput, and peak Python memory
   (tracemalloc) for two file sizes, to show it stays constant as the file grows.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import uvicorn

from allin.core.crypto import EncryptionKey, TokenCipher
from allin.core.logging import configure_logging
from allin.simulator.open_api import SimulatorConfig, create_open_api_simulator
from allin.simulator.open_api.state import Grant
from allin.tiktok.chunks import plan_chunks
from allin.tiktok.client import TikTokClient, TikTokConfig
from allin.tiktok.models import PrivacyLevel, TokenSet, VideoPostInfo
from allin.tiktok.tokens import InMemoryTokenStore, TokenManager
from allin.tiktok.upload import ChunkUploader

MB = 1_000_000


def percentiles(samples: list[float]) -> tuple[float, float, float]:
    ordered = sorted(samples)
    return (
        statistics.fmean(ordered),
        ordered[int(len(ordered) * 0.95)],
        ordered[int(len(ordered) * 0.99)],
    )


def time_sync(fn: Callable[[], object], n: int) -> list[float]:
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1e6)
    return samples


async def time_async(fn: Callable[[], Awaitable[object]], n: int) -> list[float]:
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        await fn()
        samples.append((time.perf_counter() - start) * 1e6)
    return samples


def config(url: str = "http://127.0.0.1:1") -> TikTokConfig:
    return TikTokConfig(
        client_key="sim-client-key",
        client_secret="sim-client-secret",  # noqa: S106 - the simulator's default
        redirect_uri="http://127.0.0.1:8000/api/integrations/tiktok/callback",
        api_url=url,
        auth_url=url,
        pkce_secret=b"b" * 32,
        upload_timeout=120,
    )


async def never_refresh(_: str) -> TokenSet:
    raise AssertionError("the cached path must not refresh")


async def micro(n: int) -> list[str]:
    rows: list[tuple[str, list[float], int]] = []
    async with TikTokClient(config()) as client:
        samples = time_sync(lambda: client.authorization_url(), n)
    rows.append(("authorization_url (PKCE)", samples, 10_000))
    manager = TokenManager(
        InMemoryTokenStore(),
        TokenCipher([EncryptionKey("bench", b"k" * 32)]),
        never_refresh,
    )
    grant = TokenSet(
        access_token="act.x",  # noqa: S106 - a dummy
        expires_in=86_400,
        refresh_token="rft.x",  # noqa: S106 - a dummy
        issued_at=datetime.now(UTC),
    )
    await manager.store_tokens("acc", grant)
    samples = await time_async(lambda: manager.get_valid_token("acc"), n)
    rows.append(("get_valid_token (cached)", samples, 5_000))
    lines = [
        "| operation | mean µs | p95 µs | p99 µs | budget (mean) |",
        "|---|---|---|---|---|",
    ]
    for name, data, target_us in rows:
        mean, p95, p99 = percentiles(data)
        lines.append(f"| {name} | {mean:.2f} | {p95:.2f} | {p99:.2f} | < {target_us // 1000} ms |")
    return lines


def make_file(path: Path, size: int) -> None:
    block = bytes(range(256)) * 4096
    with path.open("wb") as handle:
        for _ in range(size // len(block)):
            handle.write(block)
        handle.write(block[: size % len(block)])


async def upload(size_mb: int, folder: Path) -> tuple[float, float]:
    """Returns (MB/s, peak traced MB) for one FILE_UPLOAD of size_mb through the simulator."""
    path = folder / f"bench-{size_mb}.mp4"
    make_file(path, size_mb * MB)
    sim_config = SimulatorConfig(processing_delay=0.0)
    app = create_open_api_simulator(sim_config)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_config=None, log_level="warning")
    )
    task = asyncio.create_task(server.serve())
    for _ in range(1000):
        if server.started:
            break
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    world = app.state.sim
    try:
        async with TikTokClient(config(url)) as client:
            grant = world.issue(Grant(world.current_user, ("video.publish", "video.upload")))
            plan = plan_chunks(path.stat().st_size)
            init = await client.init_direct_post(
                str(grant["access_token"]),
                VideoPostInfo(privacy_level=PrivacyLevel.SELF_ONLY),
                plan.source_info(),
            )
            assert init.upload_url
            uploader = ChunkUploader(client.upload_transport, init.upload_url, path, plan)
            tracemalloc.start()
            start = time.perf_counter()
            await uploader.upload()
            elapsed = time.perf_counter() - start
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            assert world.publishes[init.publish_id].uploaded_bytes == plan.video_size
    finally:
        server.should_exit = True
        await task
        path.unlink()
    return size_mb / elapsed, peak / MB


async def run(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--sizes-mb", type=int, nargs="+", default=[100, 300])
    args = parser.parse_args(argv)
    configure_logging("console", "WARNING")
    print("## Micro-benchmarks\n")
    print("\n".join(await micro(args.calls)))
    print("\n## FILE_UPLOAD through the simulator (loopback, 10 MB chunks)\n")
    print("| file | throughput MB/s | peak traced memory MB (client + simulator) |")
    print("|---|---|---|")
    with tempfile.TemporaryDirectory() as folder:
        for size in args.sizes_mb:
            speed, peak = await upload(size, Path(folder))
            print(f"| {size} MB | {speed:.0f} | {peak:.1f} |")


def main(argv: list[str] | None = None) -> None:
    asyncio.run(run([] if argv is None else argv))


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
