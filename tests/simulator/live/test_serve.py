"""`allin simulator serve` (HTTP and TLS) and the client over wss with the generated cert."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import ssl
import subprocess
import sys
from contextlib import aclosing
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from allin.live.client import LiveClient
from allin.simulator.live.server import run_simulator
from allin.simulator.live.simulator import DEMO_STREAMER, Simulator
from allin.simulator.live.tls import ensure_certificate
from tests.simulator.live.support import FAST, options
from tests.support.server import free_port

pytestmark = pytest.mark.timeout(60)


def test_certificate_is_made_once_and_reused(tmp_path: Path) -> None:
    files = ensure_certificate(tmp_path)
    assert files.cert.read_text().startswith("-----BEGIN CERTIFICATE-----")
    assert oct(files.key.stat().st_mode & 0o777) == "0o600"
    before = files.cert.read_bytes()
    assert ensure_certificate(tmp_path).cert.read_bytes() == before


async def test_client_over_tls(tmp_path: Path) -> None:
    files = ensure_certificate(tmp_path)
    sim = Simulator(replace(FAST, ca_file=str(files.cert)))
    async with run_simulator(sim, tls=files, log_level="warning") as running:
        assert running.urls.web.startswith("https://127.0.0.1:")
        assert running.urls.push.startswith("wss://127.0.0.1:")
        client = LiveClient(DEMO_STREAMER, options=options(running.urls, verify=str(files.cert)))
        async with aclosing(client.events()) as events, asyncio.timeout(10):
            while client.status.transport != "websocket":
                await anext(events)
            await anext(events)  # and a frame over wss
        assert running.simulator.connections[0].sent_frames >= 1
        async with httpx.AsyncClient(verify=False) as insecure:
            assert (
                await insecure.get(running.urls.web + "/@demo_streamer/live")
            ).status_code == 200
        with pytest.raises(httpx.ConnectError):
            async with httpx.AsyncClient() as strict:  # the system store does not trust it
                await strict.get(running.urls.web + "/@demo_streamer/live")


@pytest.mark.parametrize("tls", [False, True])
def test_serve_prints_its_urls_and_serves(tmp_path: Path, tls: bool) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALLIN_")}
    env.update(ALLIN_DATA_DIR=str(tmp_path / "var"), ALLIN_LOG_FORMAT="json", COLUMNS="200")
    args = [sys.executable, "-m", "allin", "simulator", "serve", "--port", str(port)]
    process = subprocess.Popen(
        [*args, *(["--tls"] if tls else [])],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(6)]
        text = "".join(lines)
        scheme = "https" if tls else "http"
        base = f"{scheme}://127.0.0.1:{port}"
        assert re.search(rf"web\s+{re.escape(base)}\s", text)
        assert f"{base}/webcast" in text and f"{base}/sign" in text
        assert f"{'wss' if tls else 'ws'}://127.0.0.1:{port}/webcast/im/ws_proxy/" in text
        cert = tmp_path / "var" / "simulator" / "simulator-cert.pem"
        verify: bool | ssl.SSLContext = ssl.create_default_context(cafile=cert) if tls else True
        page = httpx.get(f"{base}/@demo_streamer/live", verify=verify, timeout=10)
        assert page.status_code == 200 and "SIGI_STATE" in page.text
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=15) == 0
