"""`allin live watch`: the rendering, argument errors, and the --demo smoke run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from allin.cli import app
from allin.live.cli.watch import describe
from allin.live.protocol import (
    ChatEvent,
    ControlEvent,
    EventUser,
    GiftEvent,
    GiftInfo,
    LikeEvent,
    RoomUserEvent,
    UnknownEvent,
)

USER = EventUser(user_id=1, unique_id="viewer_1", nickname="V")
ROSE = GiftInfo(id=5655, name="Rose", diamond_count=1, type=1)


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        (ChatEvent(user=USER, content="hello [world]"), "@viewer_1: hello \\[world]"),
        (GiftEvent(user=USER, gift=ROSE, gift_id=5655, repeat_count=3), "sending Rose x3"),
        (
            GiftEvent(user=USER, gift=ROSE, gift_id=5655, repeat_count=3, repeat_end=True),
            "sent Rose x3 = 3",
        ),
        (LikeEvent(user=USER, count=5, total=1200), "x5 (total 1,200)"),
        (RoomUserEvent(viewer_count=1500, total_viewers=9000), "1,500 now, 9,000 in total"),
        (ControlEvent(code=3), "ended ended_by_host"),
        (UnknownEvent(method="WebcastNewThing"), "WebcastNewThing"),
    ],
)
def test_describe(event: object, expected: str) -> None:
    assert expected in describe(event)  # type: ignore[arg-type]


def test_unknown_type_is_a_usage_error() -> None:
    result = CliRunner().invoke(app, ["live", "watch", "someone", "--types", "chat,nonsense"])
    assert result.exit_code == 2
    assert "nonsense" in result.output


def test_invalid_username_exits_1(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["live", "watch", "two words"])
    assert result.exit_code == 1
    assert "LIVE_INVALID_USERNAME" in result.output


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALLIN_")}
    env.update(ALLIN_DATA_DIR=str(tmp_path / "var"), ALLIN_LOG_FORMAT="json")
    return env


def _run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "allin", "live", "watch", *args],
        capture_output=True,
        text=True,
        env=_env(tmp_path),
        timeout=20,
        check=False,
    )


def test_demo_feed_as_json_within_seconds(tmp_path: Path) -> None:
    started = time.monotonic()
    out = _run(tmp_path, "demo_streamer", "--demo", "--json", "--limit", "5")
    elapsed = time.monotonic() - started
    assert out.returncode == 0, out.stderr
    events = [json.loads(line) for line in out.stdout.splitlines()]
    assert len(events) == 5
    assert len({e["room_id"] for e in events}) == 1
    assert all(e["type"] and e["msg_id"] for e in events)
    assert elapsed < 10


def test_demo_feed_rich_with_type_filter(tmp_path: Path) -> None:
    out = _run(tmp_path, "@demo_streamer", "--demo", "--types", "chat", "--limit", "3")
    assert out.returncode == 0, out.stderr
    lines = [line for line in out.stdout.splitlines() if line.strip()]
    assert len(lines) == 3 and all(line.startswith("chat") for line in lines)


def test_demo_offline_streamer_is_a_clear_error(tmp_path: Path) -> None:
    out = _run(tmp_path, "offline_streamer", "--demo", "--json")
    assert out.returncode == 1
    assert "LIVE_USER_OFFLINE" in out.stderr and out.stdout == ""
