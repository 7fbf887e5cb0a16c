"""The one config object: environment (prefix ALLIN_) and an optional .env file."""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from allin.auth.durations import Duration, MillisDuration
from allin.core.ratelimit import RateLimitString

DEFAULT_DATA_DIR = Path("var")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="ALLIN_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    # --- core ---
    env: Literal["development", "test", "production"] = "development"
    data_dir: Path = DEFAULT_DATA_DIR
    database_url: str = ""
    redis_url: str | None = None
    secret_key: SecretStr | None = None
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    log_format: Literal["console", "json"] = "console"
    log_level: str = "INFO"
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    migrate_on_startup: bool = True
    health_check_timeout: float = Field(default=2.0, gt=0)
    http_timeout: float = Field(default=15.0, gt=0)

    # --- auth ---
    public_url: str | None = None  # base of links in mails; default http://{host}:{port}
    password_hash_profile: Literal["owasp", "test"] = "owasp"  # noqa: S105 ("test": tests only)
    jwt_issuer: str = "allin"
    jwt_audience: str = "allin-api"
    jwt_expires_in: Duration = timedelta(minutes=15)
    refresh_token_expires_in: Duration = timedelta(days=7)
    session_max_age: MillisDuration = timedelta(days=30)  # absolute; bare numbers are ms
    session_store: Literal["database", "redis"] = "database"
    refresh_cookie: bool = True
    verify_token_expires_in: Duration = timedelta(hours=24)
    reset_token_expires_in: Duration = timedelta(hours=1)
    email_backend: Literal["console", "smtp"] = "console"
    smtp_host: str = "localhost"
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_tls: Literal["none", "starttls", "tls"] = "starttls"
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_ca_file: Path | None = None
    smtp_timeout: float = Field(default=10.0, gt=0)
    mail_from: str = "AllIN <no-reply@localhost>"
    rate_limit_enabled: bool = True
    rate_limit_login_ip: RateLimitString = "30/minute"
    rate_limit_login_account: RateLimitString = "5/5 minutes"  # failed logins per email
    rate_limit_register_ip: RateLimitString = "10/hour"
    rate_limit_email_ip: RateLimitString = "10/hour"  # forgot-password + resend, per IP
    rate_limit_email_account: RateLimitString = "3/hour"  # the same, per email address
    redis_key_prefix: str = "allin"

    # --- live ---
    # TikTok's hosts (point them at `allin simulator serve` to test without TikTok).
    tiktok_web_url: str = "https://www.tiktok.com"
    tiktok_webcast_url: str = "https://webcast.tiktok.com/webcast"
    # The EulerStream-compatible sign provider the LIVE client asks for its first fetch.
    sign_url: str = "https://api.eulerstream.com"
    sign_api_key: SecretStr | None = None
    live_max_reconnects: int = Field(default=10, ge=0)
    live_backoff_base: float = Field(default=1.0, gt=0)
    live_backoff_max: float = Field(default=30.0, gt=0)
    live_polling_fallback: bool = True

    # --- live capture ---
    live_batch_size: int = Field(default=1000, ge=1, le=5000)  # events per INSERT
    live_flush_interval: float = Field(default=0.05, gt=0)  # max seconds an event waits
    live_max_pending: int = Field(default=50_000, ge=1)  # writer back-pressure
    live_tally_interval: float = Field(default=1.0, gt=0)  # s between writes of a total
    live_store_raw: bool = True  # keep each event's protobuf bytes
    live_sse_heartbeat: float = Field(default=15.0, gt=0)
    live_subscriber_queue: int = Field(default=1_000, ge=1)  # batches per SSE client
    live_node_heartbeat: float = Field(default=10.0, gt=0)
    live_stale_after: float = Field(default=45.0, gt=0)  # a silent node's sessions resume
    live_resume_on_startup: bool = True
    live_resume_window: float = Field(default=6 * 3600, ge=0)  # older interruptions stay
    live_reconnect_attempts: int = Field(default=3, ge=0)
    live_max_captures: int = Field(default=1_000, ge=1)
    live_diamond_usd: float = Field(default=0.005, ge=0)  # creator value of one diamond
    live_watch_interval: float = Field(default=60.0, gt=0)
    live_watch_jitter: float = Field(default=0.2, ge=0, le=1)  # fraction of the interval

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("redis_url", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return None if value == "" else value

    @property
    def effective_database_url(self) -> str:
        """The async SQLAlchemy URL: default SQLite under data_dir, driver names normalised."""
        url = self.database_url or f"sqlite+aiosqlite:///{self.data_dir / 'allin.db'}"
        return normalise_database_url(url)

    def resolved_secret_key(self) -> SecretStr:
        """The configured key, else one generated once and persisted under data_dir."""
        if self.secret_key is not None:
            return self.secret_key
        return SecretStr(_load_or_create_secret(self.data_dir / "secret_key"))


def normalise_database_url(url: str) -> str:
    for prefix in ("postgres://", "postgresql://", "postgresql+psycopg2://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    if url.startswith("sqlite://") and not url.startswith("sqlite+aiosqlite://"):
        return "sqlite+aiosqlite://" + url[len("sqlite://") :]
    return url


def _load_or_create_secret(path: Path) -> str:
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    # O_EXCL: two processes starting at once must not both write different keys.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="utf-8").strip()
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(key)
    return key


@lru_cache
def get_settings() -> Settings:
    return Settings()
