"""The typed async TikTok client: Login Kit, Display API, Content Posting API.

Stateless about users: it takes tokens and returns typed results. Storing tokens, single-flight
refresh and the publish journal live in `tokens.py` and `publish.py`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import httpx

from allin.core.breaker import BreakerConfig, CircuitBreakerStats
from allin.core.clock import clock, utcnow
from allin.core.config import Settings
from allin.core.http import create_http_client
from allin.core.logging import Category, get_logger
from allin.core.retry import RetryPolicy
from allin.tiktok import oauth
from allin.tiktok.errors import TikTokError
from allin.tiktok.models import (
    USER_BASIC_FIELDS,
    VIDEO_FIELDS,
    AuthorizationRequest,
    ClientToken,
    CreatorInfo,
    PhotoPostInfo,
    PhotoPostMode,
    PublishInit,
    PublishStatus,
    TokenSet,
    UserInfo,
    Video,
    VideoPage,
    VideoPostInfo,
)
from allin.tiktok.resilience import Resilience, breaker_config, retry_policy, tiktok_breaker
from allin.tiktok.transport import Transport, correlated

log = get_logger(Category.TIKTOK)

MAX_VIDEO_LIST_COUNT = 20
MAX_VIDEO_QUERY_IDS = 20
MAX_PHOTOS = 35


@dataclass(frozen=True, slots=True)
class TikTokConfig:
    client_key: str
    client_secret: str
    redirect_uri: str
    api_url: str = "https://open.tiktokapis.com"
    auth_url: str = "https://www.tiktok.com"
    scopes: tuple[str, ...] = ("user.info.basic", "video.list", "video.upload", "video.publish")
    pkce: bool = True
    pkce_secret: bytes = b""
    timeout: float = 15.0
    upload_timeout: float = 120.0
    credential_cache_ttl: float = 300.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    breaker: BreakerConfig = field(default_factory=BreakerConfig)

    @classmethod
    def from_settings(cls, settings: Settings) -> TikTokConfig:
        secret = settings.tiktok_client_secret
        instance_secret = settings.resolved_secret_key().get_secret_value().encode()
        return cls(
            client_key=settings.tiktok_client_key,
            client_secret=secret.get_secret_value() if secret else "",
            redirect_uri=settings.tiktok_effective_redirect_uri(),
            api_url=settings.tiktok_api_url.rstrip("/"),
            auth_url=settings.tiktok_auth_url.rstrip("/"),
            scopes=tuple(settings.tiktok_scopes),
            pkce=settings.tiktok_pkce,
            pkce_secret=hashlib.sha256(b"allin/tiktok-pkce:" + instance_secret).digest(),
            timeout=settings.tiktok_timeout,
            upload_timeout=settings.tiktok_upload_timeout,
            credential_cache_ttl=settings.tiktok_credential_cache_ttl,
            retry=retry_policy(settings),
            breaker=breaker_config(settings),
        )

    @property
    def configured(self) -> bool:
        return bool(self.client_key and self.client_secret)


class TikTokClient:
    def __init__(self, config: TikTokConfig, *, http: httpx.AsyncClient | None = None) -> None:
        self.config = config
        self._http = http or create_http_client(timeout=config.timeout)
        self._owns_http = http is None
        self.breaker = tiktok_breaker(config.breaker, name="tiktok-api")
        self.upload_breaker = tiktok_breaker(config.breaker, name="tiktok-upload")
        self.transport = Transport(self._http, Resilience(config.retry, self.breaker))
        self.upload_transport = Transport(self._http, Resilience(config.retry, self.upload_breaker))
        self._client_token: ClientToken | None = None
        self._credentials_checked_at: float | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> TikTokClient:
        return cls(TikTokConfig.from_settings(settings))

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> TikTokClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    # --- monitoring ---

    def get_circuit_breaker_stats(self) -> CircuitBreakerStats:
        return self.breaker.stats()

    def reset_circuit_breaker(self) -> None:
        self.breaker.reset()
        self.upload_breaker.reset()

    def clear_validation_cache(self) -> None:
        self._credentials_checked_at = None
        self._client_token = None

    # --- Login Kit ---

    def authorization_url(
        self,
        scopes: Iterable[str] | None = None,
        *,
        redirect_uri: str | None = None,
        disable_auto_auth: bool | None = None,
    ) -> AuthorizationRequest:
        """`(url, state)`. Store `state` server-side bound to the user; PKCE derives from it."""
        self._require_credentials()
        state = oauth.new_state()
        challenge = None
        if self.config.pkce:
            challenge = oauth.code_challenge(self.code_verifier(state))
        url = oauth.build_authorization_url(
            self.config.auth_url,
            client_key=self.config.client_key,
            scopes=self.config.scopes if scopes is None else scopes,
            redirect_uri=redirect_uri or self.config.redirect_uri,
            state=state,
            challenge=challenge,
            disable_auto_auth=disable_auto_auth,
        )
        return AuthorizationRequest(url, state)

    def code_verifier(self, state: str) -> str:
        return oauth.code_verifier_for(state, self.config.pkce_secret)

    async def exchange_code(
        self,
        code: str,
        *,
        state: str | None = None,
        redirect_uri: str | None = None,
        code_verifier: str | None = None,
    ) -> TokenSet:
        """Trade the callback's code for tokens. With PKCE on, the verifier is the one given,
        else the one derived from `state`."""
        form = {
            **self._client_form(),
            "code": oauth.decode_code(code),
            "grant_type": "authorization_code",
            "redirect_uri": redirect_uri or self.config.redirect_uri,
        }
        if code_verifier is not None:
            form["code_verifier"] = code_verifier
        elif self.config.pkce:
            if state is None:
                raise TikTokError("invalid_request", "PKCE is on: exchange_code needs the state")
            form["code_verifier"] = self.code_verifier(state)
        # A code is single-use and a refresh may rotate: resend only what surely never arrived.
        return await self._token_request("exchange_code", form)

    async def refresh(self, refresh_token: str) -> TokenSet:
        """A new pair; keep the returned refresh_token (TikTok may rotate it)."""
        form = {
            **self._client_form(),
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
        }
        return await self._token_request("refresh", form)

    async def revoke(self, access_token: str) -> bool:
        """Best effort: never raises; True when TikTok confirmed the revocation."""
        with correlated():
            try:
                form = {**self._client_form(), "token": access_token}
                url = self._api("/v2/oauth/revoke/")
                await self.transport.oauth("revoke", url, form, expect_token=False)
            except TikTokError as error:
                log.warning("tiktok revoke failed (ignored)", error_code=error.code)
                return False
            return True

    async def client_token(self) -> ClientToken:
        """A cached client_credentials token (2 h per `expires_in`, renewed a minute early)."""
        cached = self._client_token
        if cached is not None and (cached.expires_at - utcnow()).total_seconds() > 60:
            return cached
        with correlated():
            issued_at = utcnow()
            form = {**self._client_form(), "grant_type": "client_credentials"}
            body = await self.transport.oauth(
                "client_token", self._api(oauth.TOKEN_PATH), form, expect_token=True
            )
            token = ClientToken.model_validate({**body, "issued_at": issued_at})
        self._client_token = token
        self._credentials_checked_at = clock.monotonic()
        return token

    async def validate_credentials(self) -> bool:
        """Whether TikTok accepts our client key/secret; cached (5 minutes by default)."""
        checked = self._credentials_checked_at
        if checked is not None and clock.monotonic() - checked < self.config.credential_cache_ttl:
            return True
        try:
            await self.client_token()
        except TikTokError as error:
            if error.type.value == "INVALID_CREDENTIALS":
                return False
            raise
        return True

    # --- Display API ---

    async def user_info(
        self, access_token: str, fields: Sequence[str] = USER_BASIC_FIELDS
    ) -> UserInfo:
        with correlated():
            data = await self.transport.api(
                "user_info",
                "GET",
                self._api("/v2/user/info/"),
                token=access_token,
                params={"fields": ",".join(fields)},
            )
        return UserInfo.model_validate(data.get("user") or {})

    async def list_videos(
        self,
        access_token: str,
        *,
        cursor: int | None = None,
        max_count: int = MAX_VIDEO_LIST_COUNT,
        fields: Sequence[str] = VIDEO_FIELDS,
    ) -> VideoPage:
        """One page of the user's public videos, newest first; `cursor` is epoch ms."""
        body: dict[str, Any] = {"max_count": max(1, min(max_count, MAX_VIDEO_LIST_COUNT))}
        if cursor is not None:
            body["cursor"] = cursor
        with correlated():
            data = await self.transport.api(
                "video_list",
                "POST",
                self._api("/v2/video/list/"),
                token=access_token,
                params={"fields": ",".join(fields)},
                json_body=body,
            )
        return VideoPage.model_validate(data)

    async def query_videos(
        self, access_token: str, video_ids: Sequence[str], fields: Sequence[str] = VIDEO_FIELDS
    ) -> list[Video]:
        """The user's videos by id (at most 20 per call; more are split into several calls)."""
        videos: list[Video] = []
        for start in range(0, len(video_ids), MAX_VIDEO_QUERY_IDS):
            batch = list(video_ids[start : start + MAX_VIDEO_QUERY_IDS])
            with correlated():
                data = await self.transport.api(
                    "video_query",
                    "POST",
                    self._api("/v2/video/query/"),
                    token=access_token,
                    params={"fields": ",".join(fields)},
                    json_body={"filters": {"video_ids": batch}},
                )
            videos.extend(Video.model_validate(v) for v in data.get("videos") or [])
        return videos

    # --- Content Posting API ---

    async def creator_info(self, access_token: str) -> CreatorInfo:
        """Check before every post; a cap or ban arrives as HTTP 200 with error.code."""
        with correlated():
            data = await self.transport.api(
                "creator_info",
                "POST",
                self._api("/v2/post/publish/creator_info/query/"),
                token=access_token,
                json_body={},
            )
        return CreatorInfo.model_validate(data)

    async def init_direct_post(
        self, access_token: str, post_info: VideoPostInfo, source_info: dict[str, Any]
    ) -> PublishInit:
        return await self._init(
            "init_direct_post",
            "/v2/post/publish/video/init/",
            access_token,
            {"post_info": post_info.payload(), "source_info": source_info},
        )

    async def init_inbox_upload(
        self, access_token: str, source_info: dict[str, Any]
    ) -> PublishInit:
        return await self._init(
            "init_inbox_upload",
            "/v2/post/publish/inbox/video/init/",
            access_token,
            {"source_info": source_info},
        )

    async def init_photo_post(
        self,
        access_token: str,
        photo_urls: Sequence[str],
        post_info: PhotoPostInfo,
        *,
        mode: PhotoPostMode = PhotoPostMode.DIRECT_POST,
        cover_index: int = 0,
    ) -> PublishInit:
        if not 1 <= len(photo_urls) <= MAX_PHOTOS:
            raise TikTokError("invalid_params", "a photo post has 1..35 images")
        if not 0 <= cover_index < len(photo_urls):
            raise TikTokError("invalid_params", "photo_cover_index out of range")
        if mode is PhotoPostMode.DIRECT_POST and post_info.privacy_level is None:
            raise TikTokError("privacy_level_option_mismatch", "direct photo posts need privacy")
        body = {
            "media_type": "PHOTO",
            "post_mode": mode.value,
            "post_info": post_info.payload(),
            "source_info": {
                "source": "PULL_FROM_URL",
                "photo_images": list(photo_urls),
                "photo_cover_index": cover_index,
            },
        }
        return await self._init(
            "init_photo_post", "/v2/post/publish/content/init/", access_token, body
        )

    async def fetch_status(self, access_token: str, publish_id: str) -> PublishStatus:
        with correlated():
            data = await self.transport.api(
                "publish_status",
                "POST",
                self._api("/v2/post/publish/status/fetch/"),
                token=access_token,
                json_body={"publish_id": publish_id},
            )
        return PublishStatus.model_validate(data)

    async def cancel(self, access_token: str, publish_id: str) -> None:
        """Best effort on TikTok's side: only a PULL_FROM_URL download can be cancelled."""
        with correlated():
            await self.transport.api(
                "publish_cancel",
                "POST",
                self._api("/v2/post/publish/cancel/"),
                token=access_token,
                json_body={"publish_id": publish_id},
                idempotent=False,
            )

    # --- internals ---

    async def _init(
        self, op: str, path: str, access_token: str, body: dict[str, Any]
    ) -> PublishInit:
        # Resending a FILE_UPLOAD init is harmless (nothing posts until bytes arrive); resending
        # a PULL_FROM_URL one could post twice, so those are retried only when surely unsent.
        source = body.get("source_info", {}).get("source")
        with correlated():
            data = await self.transport.api(
                op,
                "POST",
                self._api(path),
                token=access_token,
                json_body=body,
                idempotent=source == "FILE_UPLOAD",
            )
        result = PublishInit.model_validate(data)
        log.info("tiktok publish initialised", op=op, publish_id=result.publish_id)
        return result

    async def _token_request(self, op: str, form: dict[str, str]) -> TokenSet:
        with correlated():
            issued_at = utcnow()
            body = await self.transport.oauth(
                op, self._api(oauth.TOKEN_PATH), form, expect_token=True, idempotent=False
            )
            tokens = TokenSet.model_validate({**body, "issued_at": issued_at})
            log.info(
                "tiktok tokens issued",
                op=op,
                open_id=tokens.open_id,
                expires_in=tokens.expires_in,
                refresh_expires_in=tokens.refresh_expires_in,
                scopes=tokens.scope,
            )
        return tokens

    def _client_form(self) -> dict[str, str]:
        self._require_credentials()
        return {"client_key": self.config.client_key, "client_secret": self.config.client_secret}

    def _require_credentials(self) -> None:
        if not self.config.configured:
            raise TikTokError(
                "not_configured", "TIKTOK_CLIENT_KEY / TIKTOK_CLIENT_SECRET are not set"
            )

    def _api(self, path: str) -> str:
        return self.config.api_url + path
