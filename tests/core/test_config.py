from __future__ import annotations

import stat
from pathlib import Path

import pytest

from allin.core.config import Settings, normalise_database_url


def test_defaults_to_sqlite_under_data_dir(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path)  # type: ignore[call-arg]
    assert settings.effective_database_url == f"sqlite+aiosqlite:///{tmp_path / 'allin.db'}"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u:p@h/db", "postgresql+asyncpg://u:p@h/db"),
        ("postgresql://u:p@h/db", "postgresql+asyncpg://u:p@h/db"),
        ("postgresql+asyncpg://u@h/db", "postgresql+asyncpg://u@h/db"),
        ("sqlite:///x.db", "sqlite+aiosqlite:///x.db"),
    ],
)
def test_database_url_normalised(given: str, expected: str) -> None:
    assert normalise_database_url(given) == expected


def test_env_prefix_and_comma_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALLIN_CORS_ORIGINS", "http://a, http://b ,")
    monkeypatch.setenv("ALLIN_LOG_FORMAT", "json")
    monkeypatch.setenv("ALLIN_REDIS_URL", "")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.cors_origins == ["http://a", "http://b"]
    assert settings.log_format == "json"
    assert settings.redis_url is None


def test_dotenv_file_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ALLIN_PORT", raising=False)
    env = tmp_path / ".env"
    env.write_text("ALLIN_PORT=9123\nALLIN_LOG_FORMAT=json\n")
    settings = Settings(_env_file=env)  # type: ignore[call-arg]
    assert settings.port == 9123


def test_bad_value_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="log_format"):
        Settings(_env_file=None, log_format="xml")  # type: ignore[call-arg, arg-type]


def test_secret_key_generated_once_persisted_private_never_shown(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path)  # type: ignore[call-arg]
    first = settings.resolved_secret_key().get_secret_value()
    second = Settings(_env_file=None, data_dir=tmp_path).resolved_secret_key()  # type: ignore[call-arg]
    assert first == second.get_secret_value()
    assert len(first) >= 64
    mode = stat.S_IMODE((tmp_path / "secret_key").stat().st_mode)
    assert mode == 0o600
    assert first not in repr(second) and first not in str(second)


def test_configured_secret_key_wins(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path, secret_key="abc")  # type: ignore[call-arg]
    assert settings.resolved_secret_key().get_secret_value() == "abc"
    assert not (tmp_path / "secret_key").exists()
    assert "abc" not in repr(settings)
