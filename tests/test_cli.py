"""The CLI: version, db upgrade/current/downgrade, serve (as `make run` uses it)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
from typer.testing import CliRunner

from allin import __version__
from allin.cli import app
from allin.db import migrate
from tests.support.server import free_port


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALLIN_")}
    env.update(ALLIN_DATA_DIR=str(tmp_path / "var"), ALLIN_LOG_FORMAT="json")
    return env


def test_version() -> None:
    result = CliRunner().invoke(app, ["version"])
    assert result.exit_code == 0
    assert __version__ in result.output


def test_python_dash_m(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "allin", "version"],
        capture_output=True,
        text=True,
        check=True,
        env=_env(tmp_path),
        timeout=60,
    )
    assert __version__ in out.stdout


def test_db_commands(tmp_path: Path, monkeypatch: object) -> None:
    env = _env(tmp_path)

    def run(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "allin", "db", *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    head = migrate.head_revision("sqlite+aiosqlite://")  # the newest migration, whichever
    assert "base (empty)" in run("current")
    assert head in run("upgrade")
    assert f"current: {head}" in run("current")
    run("downgrade", "base")
    assert "base (empty)" in run("current")
    assert (tmp_path / "var" / "allin.db").exists()


def test_serve_answers_health(tmp_path: Path) -> None:
    port = free_port()
    env = _env(tmp_path) | {"ALLIN_PORT": str(port)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "allin", "serve"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=1)
                break
            except httpx.TransportError:
                assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
                assert time.monotonic() < deadline
                time.sleep(0.1)
        assert response.status_code == 200
        assert response.json()["status"] == "healthy"
    finally:
        proc.terminate()
        proc.wait(10)
