"""TikTok settings: ALLIN_ names and the seeds' names, derived redirect URI, client config."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from allin.core.config import Settings
from allin.tiktok.client import TikTokConfig

SEED_ENV = {
    "TIKTOK_CLIENT_KEY": "seed-key",
    "TIKTOK_CLIENT_SECRET": "seed-secret",
    "BACKEND_URL": "https://api.example.com/",
}


def test_seed_names(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in SEED_ENV.items():
        monkeypatch.setenv(name, value)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.tiktok_client_key == "seed-key"
    assert settings.tiktok_client_secret is not None
    assert settings.tiktok_client_secret.get_secret_value() == "seed-secret"
    assert settings.tiktok_effective_redirect_uri() == (
        "https://api.example.com/api/integrations/tiktok/callback"
    )
    monkeypatch.setenv("NEXT_PUBLIC_TIKTOK_REDIRECT_URI", "https://app.example.com/cb")
    assert Settings(_env_file=None).tiktok_effective_redirect_uri() == "https://app.example.com/cb"  # type: ignore[call-arg]


def test_prefixed_names_and_knobs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALLIN_TIKTOK_CLIENT_KEY", "allin-key")
    monkeypatch.setenv("ALLIN_TIKTOK_API_URL", "http://127.0.0.1:9/")
    monkeypatch.setenv("ALLIN_TIKTOK_AUTH_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("ALLIN_TIKTOK_SCOPES", "user.info.basic, video.list")
    monkeypatch.setenv("ALLIN_TIKTOK_BREAKER_FAILURE_THRESHOLD", "3")
    monkeypatch.setenv("ALLIN_TIKTOK_BREAKER_RESET_TIMEOUT", "30")
    settings = Settings(_env_file=None, secret_key="s")  # type: ignore[call-arg]
    config = TikTokConfig.from_settings(settings)
    assert config.client_key == "allin-key"
    assert config.api_url == "http://127.0.0.1:9"
    assert config.scopes == ("user.info.basic", "video.list")
    assert config.breaker.failure_threshold == 3 and config.breaker.reset_timeout == 30
    assert config.breaker.monitoring_period == 120
    assert not config.configured  # no secret yet
    assert config.redirect_uri == "http://127.0.0.1:8000/api/integrations/tiktok/callback"


def test_pkce_secret_depends_on_instance_secret(make_settings: Callable[..., Settings]) -> None:
    a = TikTokConfig.from_settings(make_settings(secret_key="one"))
    b = TikTokConfig.from_settings(make_settings(secret_key="two"))
    assert a.pkce_secret != b.pkce_secret and len(a.pkce_secret) == 32


def test_chunk_size_bounds(make_settings: Callable[..., Settings]) -> None:
    with pytest.raises(ValueError, match="tiktok_chunk_size"):
        make_settings(tiktok_chunk_size=1_000_000)
