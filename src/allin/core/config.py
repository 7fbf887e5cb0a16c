"""The one config object: environment (prefix ALLIN_) and an optional .env file."""

from __future__ import annotations

import ipaddress
import os
import secrets
from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, BaseModel, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from allin.core.clientip import parse_networks
from allin.core.units import Duration, MillisDuration, RateLimitString

DEFAULT_DATA_DIR = Path("var")

SOCIAL_CALLBACK_PATH = "/api/social/accounts/{platform}/callback"
"""Where a platform sends the browser back after consent: the route the app serves, and the
path of the redirect URI registered with each platform (and with the local simulators)."""


def social_callback_path(platform: str) -> str:
    return SOCIAL_CALLBACK_PATH.format(platform=platform)


class SignUpstream(BaseModel):
    """One EulerStream-compatible provider the `upstream` signer forwards to."""

    url: str
    api_key: SecretStr | None = None


class AiProviderConfig(BaseModel):
    """One AI provider of the fallback chain: OpenAI, any OpenAI-compatible server (Ollama,
    vLLM, LM Studio, llama.cpp: kind `openai` with their base_url) or Anthropic."""

    kind: Literal["openai", "anthropic"]
    model: str = Field(min_length=1)
    base_url: str | None = None  # None = the vendor's own API
    api_key: SecretStr | None = None  # local servers ignore it; the SDKs want one anyway
    timeout: float = Field(default=30.0, gt=0)
    name: str | None = None  # shown in logs, health and usage; default "<kind>:<model>"

    @property
    def label(self) -> str:
        return self.name or f"{self.kind}:{self.model}"


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
    # Reverse proxies whose X-Forwarded-For / -Proto are believed (IPs or CIDRs, comma list).
    trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=list)
    log_format: Literal["console", "json"] = "console"
    log_level: str = "INFO"
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    # Demo mode: TikTok is the built-in simulators (LIVE with `demo_streamer`, Open API) on
    # loopback; `make run` turns it on. Ports 0 = any free port.
    demo: bool = False
    demo_live_port: int = Field(default=0, ge=0, le=65535)
    demo_open_api_port: int = Field(default=0, ge=0, le=65535)
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    migrate_on_startup: bool = True
    health_check_timeout: float = Field(default=2.0, gt=0)
    http_timeout: float = Field(default=15.0, gt=0)

    # --- tiktok ---
    # The unprefixed names other deployments use (TIKTOK_CLIENT_KEY, BACKEND_URL, ...) work too.
    tiktok_client_key: str = Field(
        default="",
        validation_alias=AliasChoices(
            "tiktok_client_key", "ALLIN_TIKTOK_CLIENT_KEY", "TIKTOK_CLIENT_KEY"
        ),
    )
    tiktok_client_secret: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices(
            "tiktok_client_secret", "ALLIN_TIKTOK_CLIENT_SECRET", "TIKTOK_CLIENT_SECRET"
        ),
    )
    tiktok_redirect_uri: str = Field(
        default="",
        validation_alias=AliasChoices(
            "tiktok_redirect_uri", "ALLIN_TIKTOK_REDIRECT_URI", "NEXT_PUBLIC_TIKTOK_REDIRECT_URI"
        ),
    )
    tiktok_backend_url: str = Field(
        default="",
        validation_alias=AliasChoices("tiktok_backend_url", "ALLIN_BACKEND_URL", "BACKEND_URL"),
    )
    tiktok_api_url: str = "https://open.tiktokapis.com"
    tiktok_auth_url: str = "https://www.tiktok.com"
    tiktok_scopes: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: [
            "user.info.basic",
            "user.info.stats",
            "video.list",
            "video.upload",
            "video.publish",
        ]
    )
    tiktok_pkce: bool = True
    tiktok_timeout: float = Field(default=15.0, gt=0)
    tiktok_upload_timeout: float = Field(default=120.0, gt=0)
    tiktok_retry_attempts: int = Field(default=4, ge=1, le=20)
    tiktok_retry_timeout: float = Field(default=60.0, gt=0)
    tiktok_retry_wait_initial: float = Field(default=0.5, ge=0)
    tiktok_retry_wait_max: float = Field(default=10.0, ge=0)
    tiktok_retry_wait_jitter: float = Field(default=1.0, ge=0)
    tiktok_retry_after_max: float = Field(default=60.0, ge=0)
    tiktok_breaker_failure_threshold: int = Field(default=5, ge=1)
    tiktok_breaker_reset_timeout: float = Field(default=60.0, gt=0)
    tiktok_breaker_monitoring_period: float = Field(default=120.0, gt=0)
    tiktok_token_refresh_margin: float = Field(default=600.0, ge=0)
    tiktok_credential_cache_ttl: float = Field(default=300.0, ge=0)
    tiktok_state_ttl: float = Field(default=600.0, gt=0)
    tiktok_chunk_size: int = Field(default=10_000_000, ge=5 * 1024 * 1024, le=64_000_000)
    tiktok_status_poll_initial: float = Field(default=3.0, gt=0)
    tiktok_status_poll_max: float = Field(default=30.0, gt=0)
    tiktok_status_poll_timeout: float = Field(default=900.0, gt=0)
    tiktok_webhook_tolerance: float = Field(default=300.0, gt=0)
    # POST .../publish only (every other route keeps max_body_bytes): TikTok's 4 GB + form.
    tiktok_max_upload_bytes: int = Field(default=4 * 1024**3 + 1_048_576, ge=1024)
    # Where the OAuth callback sends the browser (?tiktok=connected|error); unset = JSON.
    tiktok_connect_return_url: str = ""
    # Comma list, newest first; unset = one key derived from the instance secret.
    token_encryption_keys: SecretStr | None = None

    @field_validator("tiktok_scopes", mode="before")
    @classmethod
    def _split_scopes(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    def tiktok_effective_backend_url(self) -> str:
        """Where TikTok reaches this server: the backend URL, else the address it serves on."""
        return (self.tiktok_backend_url or f"http://{self.host}:{self.port}").rstrip("/")

    def tiktok_effective_redirect_uri(self) -> str:
        """The configured redirect URI, else the callback route under the backend URL."""
        if self.tiktok_redirect_uri:
            return self.tiktok_redirect_uri
        return self.tiktok_effective_backend_url() + "/api/integrations/tiktok/callback"

    # --- end tiktok ---
    # --- social accounts ---
    # (The platforms' app credentials and hosts are under "social" below.)
    social_state_ttl: Duration = timedelta(minutes=10)  # how long a consent may take
    social_refresh_margin: Duration = timedelta(minutes=10)  # refresh this long before expiry
    social_refresh_interval: Duration = timedelta(minutes=5)  # background refresh sweep
    social_expiry_reminder: Duration = timedelta(days=7)  # warn before a LinkedIn token dies

    def effective_public_url(self) -> str:
        """Where browsers and platforms reach this server."""
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    def social_redirect_uri(self, platform: str) -> str:
        """The OAuth callback a platform sends the browser back to (register it there)."""
        return self.effective_public_url() + social_callback_path(platform)

    # --- end social ---
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
    # --- sign ---
    # Which signer serves /api/eulerstream, /webcast/sign_url and the fetch endpoints.
    signer: Literal["algorithm", "browser", "upstream"] = "algorithm"
    sign_anonymous_limit: RateLimitString = "1000/hour"  # per IP, callers without a key
    # Plan name -> limit for API keys of that plan ("10000/hour"); absent = unlimited.
    sign_plan_limits: dict[str, RateLimitString] = Field(default_factory=dict)
    sign_require_api_key: bool = False
    sign_cache_ttl: float = Field(default=300.0, ge=0)  # 0 disables the signature cache
    sign_cache_max_entries: int = Field(default=10_000, ge=1)
    sign_key_cache_ttl: float = Field(default=10.0, ge=0)  # API key lookups (revocation lag)
    sign_usage_flush_interval: float = Field(default=5.0, gt=0)
    sign_selftest_limit: RateLimitString = "10/hour"  # /api/test/compatibility, per IP
    # Upstream EulerStream-compatible providers, tried in order (JSON list of {url, api_key}).
    sign_upstreams: list[SignUpstream] = Field(default_factory=list)
    sign_upstream_timeout: float = Field(default=10.0, gt=0)
    sign_browser_executable: Path = Path("/usr/bin/chromium")
    sign_browser_pages: int = Field(default=2, ge=1, le=32)
    sign_browser_timeout: float = Field(default=15.0, gt=0)  # per signature / fetch
    sign_browser_max_uses: int = Field(default=500, ge=1)  # then the page is recycled
    sign_browser_max_age: float = Field(default=1800.0, gt=0)  # s, then recycled
    sign_browser_max_queue: int = Field(default=64, ge=1)  # waiting jobs per page
    sign_browser_start_path: str = "/@tiktok/live"  # a live page that carries the signing script
    sign_tiktok_ca_file: Path | None = None  # extra CA for the TikTok hosts (simulator TLS)
    # --- posts and the publishing queue ---
    # "embedded": a dispatcher inside `allin serve` (SQLite or PostgreSQL);
    # "procrastinate": `allin worker` processes (procrastinate on PostgreSQL) publish and
    # `allin serve` only defers their jobs.
    queue: Literal["embedded", "procrastinate"] = "embedded"
    posts_dispatcher: bool = True  # with "embedded": run the dispatcher in this process
    posts_poll_interval: float = Field(default=1.0, gt=0)  # s, the longest a due row waits
    posts_lease_seconds: float = Field(default=120.0, gt=0)  # a claim's life
    posts_batch_size: int = Field(default=100, ge=1, le=5000)  # rows per claim
    posts_concurrency: int = Field(default=32, ge=1, le=1000)  # platform calls in flight
    posts_max_attempts: int = Field(default=5, ge=1)  # sends of one target, then FAILED
    posts_retry_base: float = Field(default=30.0, ge=0)  # s, doubled per attempt
    posts_retry_max: float = Field(default=3600.0, ge=0)
    # An unconfirmed send is only retried once the platform has had this long to show it.
    posts_reconcile_grace: float = Field(default=60.0, ge=0)
    posts_reconcile_interval: float = Field(default=30.0, gt=0)
    posts_reconcile_max: int = Field(default=20, ge=1)  # then FAILED: check the account
    posts_worker_stale_after: float = Field(default=30.0, gt=0)
    # procrastinate workers: their heartbeat, and how long a silent one's jobs wait before
    # they are retried (a worker killed outright leaves its jobs running forever otherwise).
    posts_worker_heartbeat: float = Field(default=10.0, gt=0)
    posts_stalled_after: float = Field(default=30.0, gt=0)
    posts_max_upload_bytes: int = Field(default=512 * 1024 * 1024, ge=1024)
    # How long a signed link to a media file works (Instagram fetches media from public_url).
    posts_media_link_seconds: float = Field(default=86_400.0, gt=0)
    posts_instagram_max_hashtags: int = Field(default=30, ge=0)
    posts_instagram_max_mentions: int = Field(default=20, ge=0)

    # --- social ---
    # X, LinkedIn and Meta (Facebook Pages, Instagram) apps. Hosts are settings so the local
    # simulators (`allin simulator social serve`) can stand in. Unprefixed names work too.
    x_client_id: str = Field(
        default="", validation_alias=AliasChoices("x_client_id", "ALLIN_X_CLIENT_ID", "X_CLIENT_ID")
    )
    x_client_secret: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices(
            "x_client_secret", "ALLIN_X_CLIENT_SECRET", "X_CLIENT_SECRET"
        ),
    )
    x_api_url: str = "https://api.x.com"
    x_auth_url: str = "https://x.com"
    x_redirect_uri: str = ""  # default: {public URL}/api/social/accounts/x/callback
    linkedin_client_id: str = Field(
        default="",
        validation_alias=AliasChoices(
            "linkedin_client_id", "ALLIN_LINKEDIN_CLIENT_ID", "LINKEDIN_CLIENT_ID"
        ),
    )
    linkedin_client_secret: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices(
            "linkedin_client_secret", "ALLIN_LINKEDIN_CLIENT_SECRET", "LINKEDIN_CLIENT_SECRET"
        ),
    )
    linkedin_api_url: str = "https://api.linkedin.com"
    linkedin_auth_url: str = "https://www.linkedin.com"
    linkedin_redirect_uri: str = ""  # default: {public URL}/api/social/accounts/linkedin/callback
    # LinkedIn-Version (YYYYMM); versions are retired after about a year, so keep it current.
    linkedin_version: str = Field(default="202610", pattern=r"^\d{6}$")
    meta_app_id: str = Field(
        default="",
        validation_alias=AliasChoices("meta_app_id", "ALLIN_META_APP_ID", "META_APP_ID"),
    )
    meta_app_secret: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices(
            "meta_app_secret", "ALLIN_META_APP_SECRET", "META_APP_SECRET"
        ),
    )
    meta_graph_url: str = "https://graph.facebook.com"
    meta_graph_video_url: str = "https://graph-video.facebook.com"
    meta_auth_url: str = "https://www.facebook.com"
    meta_graph_version: str = Field(default="v25.0", pattern=r"^v\d+\.\d+$")
    # default: {public URL}/api/social/accounts/{facebook,instagram}/callback (register both)
    meta_redirect_uri: str = ""
    social_timeout: float = Field(default=15.0, gt=0)
    social_upload_timeout: float = Field(default=120.0, gt=0)
    social_processing_timeout: float = Field(default=300.0, gt=0)  # media processing waits

    # --- ai ---
    # Tried in order (JSON list of {kind, model, base_url, api_key, timeout, name}).
    ai_providers: list[AiProviderConfig] = Field(default_factory=list)
    # Plan name -> monthly credits (1 credit = 1,000 tokens); a plan not listed is unlimited.
    ai_plan_credits: dict[str, int] = Field(default_factory=dict)
    ai_alert_ratio: float = Field(default=0.8, gt=0, le=1)  # one mail per period at this use
    ai_alert_interval: float = Field(default=300.0, gt=0)  # s between alert sweeps
    ai_default_time_zone: str = "UTC"  # the credit month starts at midnight here
    ai_retry_after_max: float = Field(default=30.0, ge=0)  # longest cool-down a 429 may ask
    ai_breaker_failure_threshold: int = Field(default=3, ge=1)
    ai_breaker_reset_timeout: float = Field(default=30.0, gt=0)
    ai_max_content_chars: int = Field(default=10_000, ge=100)
    ai_max_output_tokens: int = Field(default=800, ge=16)
    ai_url_fetch_timeout: float = Field(default=10.0, gt=0)
    ai_url_fetch_max_bytes: int = Field(default=2_000_000, ge=1024)
    # Networks a URL source may reach although private (e.g. an intranet); empty = none.
    ai_url_allow_networks: Annotated[list[str], NoDecode] = Field(default_factory=list)

    @field_validator("ai_url_allow_networks", mode="before")
    @classmethod
    def _split_networks(cls, value: object) -> object:
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        if isinstance(value, list):
            for network in value:
                ipaddress.ip_network(str(network))  # ValueError names the bad entry
        return value

    @field_validator("cors_origins", "trusted_proxies", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("cors_origins")
    @classmethod
    def _no_wildcard_with_credentials(cls, value: list[str]) -> list[str]:
        # The API answers cross-origin calls with credentials (the refresh cookie), and a
        # wildcard would be echoed as each caller's origin: any site could read tokens.
        if "*" in value:
            raise ValueError(
                "ALLIN_CORS_ORIGINS='*' is refused: the API allows credentials, so every "
                "origin would be trusted; list the origins, e.g. https://app.example.com"
            )
        for origin in value:
            if not origin.startswith(("http://", "https://")) or origin.count("/") != 2:
                raise ValueError(f"not an origin (scheme://host[:port]): {origin!r}")
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _valid_networks(cls, value: list[str]) -> list[str]:
        parse_networks(value)
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


def ensure_private_dir(path: Path) -> None:
    """The data dir holds the database, keys and uploads: only its owner may enter it."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if path.stat().st_uid == os.getuid() and path.stat().st_mode & 0o077:
        path.chmod(0o700)


def _load_or_create_secret(path: Path) -> str:
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    ensure_private_dir(path.parent)
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
