"""`allin live record / sessions / export` against a real SQLite database and the real LIVE
simulator (`--demo`, or one served in a thread), through typer's CliRunner."""

from __future__ import annotations

import csv
import json
import os
import re
import signal
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sse_starlette.sse import AppStatus
from typer.testing import CliRunner, Result

from allin.cli import app
from allin.core.config import get_settings
from allin.live.cli.record import _record_status
from allin.live.storage import PUBLIC_COLUMNS, SessionTally
from allin.simulator.live.app import create_simulator_app
from allin.simulator.live.scenario import Scenario
from allin.simulator.live.server import SimulatorUrls
from allin.simulator.live.simulator import Simulator
from tests.support.server import serve_in_thread

PASSWORD = "Correct-Horse-42-battery"
SESSION_LINE = re.compile(r"session ([0-9a-f-]{36}) (\w+) \((\w+)\): ([\d,]+) events stored")


class Cli:
    """Runs `allin ...` in this process on the test's own database."""

    def __init__(self, database: Path) -> None:
        self.database = database
        self.runner = CliRunner()

    def __call__(self, *args: str) -> Result:
        return self.runner.invoke(app, list(args))

    def admin(self, email: str = "ops@example.com") -> None:
        created = self("users", "create-admin", "--email", email, "--password", PASSWORD)
        assert created.exit_code == 0, created.output

    def record(self, *args: str) -> tuple[Result, re.Match[str]]:
        if "--duration" not in args:  # a safety net: a broken stop fails fast, not hangs
            args = (*args, "--duration", "10")
        result = self("live", "record", *args)
        assert result.exit_code == 0, result.output
        summary = SESSION_LINE.search(result.output)
        assert summary is not None, result.output
        return result, summary

    def sessions(self, *args: str) -> list[dict[str, Any]]:
        result = self("live", "sessions", "--json", *args)
        assert result.exit_code == 0, result.output
        return [json.loads(line) for line in result.stdout.splitlines()]

    def stored(self, session_id: str) -> list[tuple[Any, ...]]:
        """The session's events as SQLite holds them (read without our code)."""
        with sqlite3.connect(self.database) as db:
            return db.execute(
                "SELECT id, type, msg_id, diamonds FROM live_events WHERE session_id = ? "
                "ORDER BY id",
                (uuid.UUID(session_id).hex,),
            ).fetchall()


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Cli]:
    database = tmp_path / "cli.db"
    env = {
        "ALLIN_DATABASE_URL": f"sqlite+aiosqlite:///{database}",
        "ALLIN_DATA_DIR": str(tmp_path / "var"),
        "ALLIN_SECRET_KEY": "cli-test-secret",
        "ALLIN_PASSWORD_HASH_PROFILE": "test",
        "ALLIN_LOG_FORMAT": "json",
        "ALLIN_LOG_LEVEL": "WARNING",
        "ALLIN_LIVE_FLUSH_INTERVAL": "0.01",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    yield Cli(database)
    get_settings.cache_clear()


def test_record_then_list_then_export_csv(cli: Cli, tmp_path: Path) -> None:
    cli.admin()
    result, summary = cli.record("@Demo_Streamer", "--demo", "--max-events", "8")
    session_id, status, reason, count = summary.groups()
    assert (status, reason, count) == ("ended", "max_events_reached", "8")
    assert f"into session {session_id} for ops@example.com" in result.output
    stored = cli.stored(session_id)
    assert len(stored) == 8

    [listed] = cli.sessions()
    assert listed["id"] == session_id and listed["streamer_username"] == "demo_streamer"
    assert (listed["status"], listed["end_reason"], listed["total_events"]) == (
        "ended",
        "max_events_reached",
        8,
    )
    assert sum(listed["counters"].values()) == 8

    exported = cli("live", "export", session_id, "--format", "csv")
    assert exported.exit_code == 0, exported.output
    path = tmp_path / f"live-session-{session_id}.csv"
    assert "8 events written to" in exported.output
    with path.open(newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    assert list(rows[0]) == list(PUBLIC_COLUMNS)
    as_csv = [(int(r["id"]), r["type"], int(r["msg_id"]), int(r["diamonds"])) for r in rows]
    assert as_csv == stored
    assert not list(tmp_path.glob("*.part"))


def test_export_json_and_ndjson_to_stdout_and_a_named_file(cli: Cli, tmp_path: Path) -> None:
    cli.admin()
    _, summary = cli.record("demo_streamer", "--demo", "--max-events", "5")
    session_id = summary.group(1)
    ids = [row[0] for row in cli.stored(session_id)]

    ndjson = cli("live", "export", session_id, "-f", "ndjson", "-o", "-")
    assert ndjson.exit_code == 0, ndjson.output
    assert [json.loads(line)["id"] for line in ndjson.stdout.splitlines()] == ids

    target = tmp_path / "out" / "session.json"
    target.parent.mkdir()
    done = cli("live", "export", session_id, "--format", "json", "--output", str(target))
    assert done.exit_code == 0, done.output
    document = json.loads(target.read_text(encoding="utf-8"))
    assert document["session"]["id"] == session_id
    assert document["session"]["end_reason"] == "max_events_reached"
    assert [event["id"] for event in document["events"]] == ids

    raw = cli("live", "export", session_id, "-f", "ndjson", "-o", "-", "--raw")
    assert all(json.loads(line)["raw_b64"] for line in raw.stdout.splitlines())


def test_ctrl_c_flushes_and_ends_the_session(cli: Cli) -> None:
    cli.admin()
    sent = threading.Event()

    def interrupt_once_events_are_stored() -> None:
        deadline = time.monotonic() + 8
        while time.monotonic() < deadline:
            try:
                with sqlite3.connect(cli.database) as db:
                    (count,) = db.execute("SELECT count(*) FROM live_events").fetchone()
            except sqlite3.OperationalError:  # not migrated yet
                count = 0
            if count >= 3:
                os.kill(os.getpid(), signal.SIGINT)
                sent.set()
                return
            time.sleep(0.05)

    threading.Thread(target=interrupt_once_events_are_stored, daemon=True).start()
    # --duration is only a safety net: the test fails if it, not Ctrl-C, ends the session.
    _, summary = cli.record("demo_streamer", "--demo", "--duration", "10")
    assert sent.is_set()
    session_id, status, reason, count = summary.groups()
    assert (status, reason) == ("ended", "stopped_by_user")
    stored = cli.stored(session_id)
    assert len(stored) >= 3 and int(count.replace(",", "")) == len(stored)
    [listed] = cli.sessions()
    assert listed["total_events"] == len(stored) and listed["ended_at"] is not None
    # The demo simulator's uvicorn did not take the signal too (it would have flagged every
    # SSE stream in this process to close).
    assert not AppStatus.should_exit


@pytest.fixture
def short_live(monkeypatch: pytest.MonkeyPatch) -> Iterator[Simulator]:
    """A simulator in a server thread, where settings point `allin live record` (no --demo)."""
    sim = Simulator()
    with serve_in_thread(create_simulator_app(sim)) as base:
        urls = SimulatorUrls.for_base(base)
        monkeypatch.setenv("ALLIN_TIKTOK_WEB_URL", urls.web)
        monkeypatch.setenv("ALLIN_TIKTOK_WEBCAST_URL", urls.webcast)
        monkeypatch.setenv("ALLIN_SIGN_URL", urls.sign)
        get_settings.cache_clear()
        yield sim


def test_record_runs_until_the_stream_ends(cli: Cli, short_live: Simulator) -> None:
    cli.admin()
    rates = {"chat": 20.0, "gift": 5.0}
    short_live.add_room("short_streamer", scenario=Scenario(rates=rates, duration=1.5))
    _, summary = cli.record("short_streamer", "--duration", "15")
    session_id, status, reason, count = summary.groups()
    assert status == "ended"
    assert reason not in ("duration_reached", "stopped_by_user", "max_events_reached")
    stored = cli.stored(session_id)
    assert stored[-1][1] == "control"  # the stream's own end, stored like any event
    assert int(count) == len(stored) > 5


def test_offline_or_unknown_streamer_is_a_clear_error(cli: Cli) -> None:
    cli.admin()
    offline = cli("live", "record", "offline_streamer", "--demo")
    assert offline.exit_code == 1 and "LIVE_USER_OFFLINE" in offline.output
    unknown = cli("live", "record", "nobody_streams_here", "--demo")
    assert unknown.exit_code == 1 and "LIVE_USER_NOT_FOUND" in unknown.output
    invalid = cli("live", "record", "two words", "--demo")
    assert invalid.exit_code == 1 and "LIVE_INVALID_USERNAME" in invalid.output
    for result in (offline, unknown, invalid):
        assert result.exception is None or isinstance(result.exception, SystemExit)
        assert "Traceback" not in result.output
    assert cli.sessions() == []


def test_owner_defaults_to_the_only_user_else_must_be_named(cli: Cli) -> None:
    nobody = cli("live", "record", "demo_streamer", "--demo")
    assert nobody.exit_code == 1 and "allin users create-admin" in nobody.output
    cli.admin("first@example.com")
    cli.admin("second@example.com")
    ambiguous = cli("live", "record", "demo_streamer", "--demo", "--max-events", "1")
    assert ambiguous.exit_code == 1 and "--owner" in ambiguous.output
    stranger = cli("live", "record", "demo_streamer", "--demo", "--owner", "who@example.com")
    assert stranger.exit_code == 1 and "no user with email who@example.com" in stranger.output

    _, summary = cli.record(
        "demo_streamer", "--demo", "--max-events", "1", "--owner", "Second@Example.com"
    )
    assert [s["id"] for s in cli.sessions("--owner", "second@example.com")] == [summary.group(1)]
    assert cli.sessions("--owner", "first@example.com") == []


def test_sessions_filters_limit_and_table(cli: Cli) -> None:
    cli.admin()
    _, older = cli.record("demo_streamer", "--demo", "--max-events", "1")
    _, newer = cli.record("demo_streamer", "--demo", "--max-events", "2")
    newest_first = [newer.group(1), older.group(1)]
    assert [s["id"] for s in cli.sessions()] == newest_first
    assert [s["id"] for s in cli.sessions("--limit", "1")] == newest_first[:1]
    assert len(cli.sessions("--status", "ended", "--streamer", "@DEMO")) == 2
    assert cli.sessions("--status", "active") == []
    assert cli.sessions("--streamer", "someone_else") == []

    table = cli("live", "sessions")
    assert table.exit_code == 0, table.output
    header, *rows = [line.split() for line in table.stdout.splitlines() if line.strip()]
    assert header[:3] == ["id", "streamer", "status"]
    assert [(r[0], r[1], r[2], r[-1]) for r in rows] == [
        (newer.group(1), "@demo_streamer", "ended", "2"),
        (older.group(1), "@demo_streamer", "ended", "1"),
    ]
    assert "no sessions" in cli("live", "sessions", "--status", "interrupted").output
    assert cli("live", "sessions", "--status", "bogus").exit_code == 2


def test_export_of_an_unknown_or_malformed_session(cli: Cli, tmp_path: Path) -> None:
    missing = cli("live", "export", str(uuid.uuid4()), "--format", "csv")
    assert missing.exit_code == 1 and "no session" in missing.output
    assert not list(tmp_path.glob("live-session-*"))
    malformed = cli("live", "export", "not-an-id")
    assert malformed.exit_code == 2 and "not a session id" in malformed.output


def test_status_line_shows_stored_events_per_type_and_viewers() -> None:
    tally = SessionTally(counters={"chat": 3, "gift": 7, "room_user": 1}, total_events=11)
    tally.current_viewers = 1_500
    line = _record_status("demo_streamer", tally, 65.2).plain
    assert "@demo_streamer  0:01:05  stored 11  viewers 1,500" in line
    assert line.endswith("gift 7  chat 3  room_user 1")
    waiting = _record_status("demo_streamer", None, 0).plain
    assert "stored 0  viewers -" in waiting and "waiting for events" in waiting
