"""`allin tiktok login/post/status` end to end against the simulator in a server thread."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from typer.testing import CliRunner

from allin.cli import app
from allin.core.config import get_settings
from allin.simulator.open_api import SimulatorConfig, World, create_open_api_simulator
from tests.support.server import free_port


@pytest.fixture
def threaded_sim() -> Iterator[tuple[str, World]]:
    config = SimulatorConfig(processing_delay=0.05, moderation_delay=0.05)
    config.redirect_uris.append("http://127.0.0.1:*/callback/")
    simulator = create_open_api_simulator(config)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(simulator, host="127.0.0.1", port=port, log_config=None))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(500):
        if server.started:
            break
        time.sleep(0.01)
    yield f"http://127.0.0.1:{port}", simulator.state.sim
    server.should_exit = True
    thread.join(10)


@pytest.fixture
def cli_env(
    threaded_sim: tuple[str, World], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[World]:
    url, world = threaded_sim
    env = {
        "ALLIN_DATA_DIR": str(tmp_path / "var"),
        "ALLIN_SECRET_KEY": "cli-test-secret",
        "ALLIN_LOG_FORMAT": "json",
        "ALLIN_LOG_LEVEL": "WARNING",
        "ALLIN_TIKTOK_CLIENT_KEY": world.config.client_key,
        "ALLIN_TIKTOK_CLIENT_SECRET": world.config.client_secret,
        "ALLIN_TIKTOK_API_URL": url,
        "ALLIN_TIKTOK_AUTH_URL": url,
        "ALLIN_TIKTOK_STATUS_POLL_INITIAL": "0.05",
        "ALLIN_TIKTOK_STATUS_POLL_MAX": "0.1",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    yield world
    get_settings.cache_clear()


def test_login_post_status(cli_env: World, videos: dict[str, Path], tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["tiktok", "login", "--follow", "--no-browser"])
    assert result.exit_code == 0, result.output
    assert "Connected" in result.output
    stored = (tmp_path / "var" / "tiktok-cli-tokens.json").read_text()
    assert "act." not in stored and "rft." not in stored  # encrypted at rest

    result = runner.invoke(
        app, ["tiktok", "post", str(videos["ok"]), "--privacy", "SELF_ONLY", "--title", "from cli"]
    )
    assert result.exit_code == 0, result.output
    match = re.search(r"publish_id: (\S+)", result.output)
    assert match and "COMPLETE" in result.output
    publish_id = match.group(1)
    assert cli_env.publishes[publish_id].title == "from cli"

    result = runner.invoke(app, ["tiktok", "status", publish_id])
    assert result.exit_code == 0, result.output
    assert "PUBLISH_COMPLETE" in result.output


def test_post_needs_privacy_or_inbox(cli_env: World, videos: dict[str, Path]) -> None:
    result = CliRunner().invoke(app, ["tiktok", "post", str(videos["ok"])])
    assert result.exit_code == 2 and "--privacy" in result.output


def test_status_without_login_is_a_clear_error(cli_env: World) -> None:
    result = CliRunner().invoke(app, ["tiktok", "status", "v_pub_file~v2-1.1"])
    assert result.exit_code == 1
    assert "reconnect" in result.output.lower()
