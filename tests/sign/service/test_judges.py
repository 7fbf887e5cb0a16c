"""The judges: TikTokLive (Python) and TikTok-Live-Connector (Node), unmodified but for their
sign-server URL and key (and TikTok's hosts, which point at the simulator), connect through
this service to the simulator. Past the anonymous quota they raise their own rate-limit errors
from our 429s; with a key they are not limited.

The peers live apart from AllIN (AGPL, test-only): `bash scripts/peers.sh` installs them, and
this module runs it when they are missing.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from allin.core.domain import app_state
from allin.sign.access import SignAccess
from allin.sign.models import SignUsage
from allin.simulator.live.server import RunningSimulator, run_simulator
from allin.simulator.live.simulator import DEMO_STREAMER, Simulator
from allin.simulator.live.tls import TlsFiles, ensure_certificate
from tests.sign.service.conftest import make_key

ROOT = Path(__file__).resolve().parents[3]
PEERS = Path(__file__).parent / "peers"
PYTHON_PEER = ROOT / ".peers" / "python" / "bin" / "python"
CONNECTOR = ROOT / "tests" / "peers" / "node" / "node_modules" / "tiktok-live-connector"


@pytest.fixture(scope="session")
def peers() -> None:
    """Installs the peers (pinned, from PyPI and npm) unless they already are."""
    if not PYTHON_PEER.exists() or not (CONNECTOR / "package.json").exists():
        subprocess.run(["bash", "scripts/peers.sh"], cwd=ROOT, check=True, timeout=900)
    assert PYTHON_PEER.exists() and (CONNECTOR / "package.json").exists()


async def run_peer(command: list[str], env: dict[str, str]) -> tuple[int, list[dict[str, Any]]]:
    process = await asyncio.create_subprocess_exec(
        *command,
        env={"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp"), **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), 90)
    lines = [json.loads(line) for line in stdout.decode().splitlines() if line.startswith("{")]
    assert process.returncode is not None
    assert lines, f"peer printed nothing; stderr:\n{stderr.decode()[-3000:]}"
    return process.returncode, lines


def assert_connected(outcome: tuple[int, list[dict[str, Any]]], sim: Simulator) -> None:
    code, lines = outcome
    room = sim.room(DEMO_STREAMER)
    assert room is not None
    assert code == 0, lines
    events = {line["event"]: line for line in lines}
    assert events["connected"]["room_id"] == str(room.room_id)
    assert events["comment"]["comment"]  # a chat message crossed the WebSocket


def assert_rate_limited(outcome: tuple[int, list[dict[str, Any]]], *, millis: bool) -> None:
    code, lines = outcome
    assert code == 3, lines
    error = lines[-1]
    assert error["type"] == "SignatureRateLimitError"
    scale = 1000 if millis else 1
    # Read from our headers: the wait (Retry-After / RateLimit-Remaining) and the reset time.
    assert 3500 * scale <= error["retry_after"] <= 3600 * scale
    assert abs(error["reset_time"] / scale - (time.time() + 3600)) < 120
    assert "(hour)" in error["message"]  # our limit_label
    assert "Rate limit exceeded" in error["message"]  # our message, shown by the client


@pytest.fixture
async def tls_sim(
    sim: Simulator, tmp_path: Path
) -> AsyncIterator[tuple[RunningSimulator, TlsFiles]]:
    """The same simulated TikTok over TLS: the Node peer reaches loopback hosts over HTTPS."""
    tls = ensure_certificate(tmp_path / "tls")
    async with run_simulator(sim, tls=tls, log_level="warning") as running:
        yield running, tls


async def test_tiktoklive(
    peers: None, served: Callable[..., Any], running_sim: RunningSimulator, sim: Simulator
) -> None:
    async with served(sign_anonymous_limit="1/hour") as (app, client):
        env = {
            "SIM_WEB": running_sim.urls.web,
            "SIM_WEBCAST": running_sim.urls.webcast,
            "SIGN_URL": str(client.base_url).rstrip("/"),
            "STREAMER": DEMO_STREAMER,
        }
        command = [str(PYTHON_PEER), str(PEERS / "tiktoklive_peer.py")]
        assert_connected(await run_peer(command, env), sim)
        assert_rate_limited(await run_peer(command, env), millis=False)
        raw, key_id, _ = await make_key(app)
        for _ in range(2):
            assert_connected(await run_peer(command, {**env, "SIGN_KEY": raw}), sim)
        await app_state(app).get(SignAccess).usage.flush()
        async with app_state(app).session_factory() as db:
            usage = [(u.api_key_id, u.requests) for u in await db.scalars(select(SignUsage))]
    assert usage == [(key_id, 2)]  # one fetch per connection, recorded for the key
    assert len(sim.connections) == 3  # the refused attempt never reached TikTok


async def test_tiktok_live_connector(
    peers: None,
    served: Callable[..., Any],
    running_sim: RunningSimulator,
    tls_sim: tuple[RunningSimulator, TlsFiles],
    sim: Simulator,
) -> None:
    secure, tls = tls_sim
    async with served(sign_anonymous_limit="1/hour") as (app, client):
        env = {
            "SIM_HOST": secure.urls.web.split("://", 1)[1],
            "NODE_EXTRA_CA_CERTS": str(tls.cert),
            "CONNECTOR": (CONNECTOR / "dist" / "index.js").as_uri(),
            "SIGN_URL": str(client.base_url).rstrip("/"),
            "STREAMER": DEMO_STREAMER,
        }
        command = ["node", str(PEERS / "connector_peer.mjs")]
        assert_connected(await run_peer(command, env), sim)
        assert_rate_limited(await run_peer(command, env), millis=True)
        raw, _, _ = await make_key(app)
        for _ in range(2):
            assert_connected(await run_peer(command, {**env, "SIGN_KEY": raw}), sim)
    assert len(sim.connections) == 3
