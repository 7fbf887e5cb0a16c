"""TikTok as a `SocialProvider`: the existing Login Kit, Display and Content Posting client
behind the social accounts interface.

TikTok's own variants stay here: `client_key` for `client_id`, comma-separated scopes, and a
hex SHA-256 PKCE challenge instead of RFC 7636's base64url. Errors keep TikTok's code as the
platform code and are classified by what the caller must do.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import ClassVar

from allin.core.breaker import CircuitBreaker
from allin.core.config import Settings
from allin.social.providers.base import (
    AccountCredentials,
    ContentRules,
    ErrorKind,
    Identity,
    Platform,
    ProviderConfig,
    PublishRequest,
    PublishResult,
    PublishState,
    SocialProvider,
    SocialProviderError,
    TokenSet,
)
from allin.social.registry import ProviderFactory
from allin.social.text.utf16 import utf16_length
from allin.tiktok import oauth
from allin.tiktok.client import TikTokClient, TikTokConfig
from allin.tiktok.errors import TikTokError, TikTokErrorType
from allin.tiktok.models import USER_BASIC_FIELDS, PrivacyLevel, PublishStatusValue, VideoPostInfo
from allin.tiktok.models import TokenSet as TikTokTokens
from allin.tiktok.publish import Publisher

_KINDS: Mapping[TikTokErrorType, ErrorKind] = {
    TikTokErrorType.AUTH_ERROR: ErrorKind.AUTH,
    TikTokErrorType.TOKEN_EXPIRED: ErrorKind.AUTH,
    TikTokErrorType.INVALID_TOKEN: ErrorKind.AUTH,
    TikTokErrorType.SCOPE_NOT_AUTHORIZED: ErrorKind.AUTH,
    TikTokErrorType.INVALID_CREDENTIALS: ErrorKind.CONFIG,
    TikTokErrorType.RATE_LIMIT_ERROR: ErrorKind.RATE_LIMITED,
    TikTokErrorType.QUOTA_EXCEEDED: ErrorKind.RATE_LIMITED,
    TikTokErrorType.VALIDATION_ERROR: ErrorKind.REJECTED,
    TikTokErrorType.INVALID_PARAM: ErrorKind.REJECTED,
    TikTokErrorType.URL_OWNERSHIP_UNVERIFIED: ErrorKind.REJECTED,
}


def social_error(error: TikTokError) -> SocialProviderError:
    """A TikTok failure as the interface's error; TikTok's code and words go along."""
    return SocialProviderError(
        error.user_message,
        kind=_KINDS.get(error.type, ErrorKind.TRANSIENT),
        platform=Platform.TIKTOK,
        platform_code=error.code,
        platform_message=error.message,
        retry_after=error.retry_after,
        http_status=error.status_code,
    )


def _tokens(grant: TikTokTokens) -> TokenSet:
    return TokenSet(
        access_token=grant.access_token,
        refresh_token=grant.refresh_token,
        expires_at=grant.expires_at,
        refresh_expires_at=grant.refresh_expires_at,
        scopes=frozenset(grant.scope),
        raw={"open_id": grant.open_id, "token_type": grant.token_type},
    )


class TikTokProvider(SocialProvider):
    platform: ClassVar[Platform] = Platform.TIKTOK
    uses_pkce: ClassVar[bool] = True
    can_refresh: ClassVar[bool] = True
    rotates_refresh_tokens: ClassVar[bool] = True  # TikTok may return a new one
    # Content Posting API: a video post's title is at most 2,200 UTF-16 runes; MP4, WebM or
    # MOV up to 4 GB, 3 s to 10 min (the creator's own cap is checked at publish), 23-60 fps.
    rules: ClassVar[ContentRules] = ContentRules(
        text_limit=2200,
        measure=utf16_length,
        max_media=1,
        video_types=frozenset({"video/mp4", "video/quicktime", "video/webm"}),
        max_video_bytes=4 * 1024**3,
        min_video_seconds=3,
        max_video_seconds=600,
        max_frame_rate=60,
        requires_media=True,
    )

    def __init__(self, config: ProviderConfig, client: TikTokClient | None = None) -> None:
        super().__init__(config)
        self.client = client or TikTokClient(
            TikTokConfig(
                client_key=config.client_id or "",
                client_secret=config.client_secret or "",
                redirect_uri=config.redirect_uri,
                api_url=config.api_base_url.rstrip("/"),
                auth_url=config.auth_base_url.rstrip("/"),
                scopes=config.scopes,
            )
        )

    @property
    def breaker(self) -> CircuitBreaker:
        """The TikTok API's circuit breaker (reported by the external APIs health route)."""
        return self.client.breaker

    def code_challenge(self, code_verifier: str) -> str:
        return oauth.code_challenge(code_verifier)  # hex, TikTok's S256

    def authorization_url(self, state: str, code_challenge: str | None = None) -> str:
        return oauth.build_authorization_url(
            self.config.auth_base_url,
            client_key=self.config.client_id or "",
            scopes=self.config.scopes,
            redirect_uri=self.config.redirect_uri,
            state=state,
            challenge=code_challenge,
        )

    async def exchange_code(self, code: str, code_verifier: str | None = None) -> TokenSet:
        try:
            grant = await self.client.exchange_code(code, code_verifier=code_verifier)
        except TikTokError as error:
            raise social_error(error) from error
        return _tokens(grant)

    async def refresh(self, token: TokenSet) -> TokenSet:
        if not token.refresh_token:
            raise SocialProviderError(
                "No refresh token: reconnect the account",
                kind=ErrorKind.AUTH,
                platform=Platform.TIKTOK,
            )
        try:
            return _tokens(await self.client.refresh(token.refresh_token))
        except TikTokError as error:
            raise social_error(error) from error

    async def revoke(self, token: TokenSet) -> None:
        await self.client.revoke(token.access_token)  # best effort, never raises

    async def identities(self, token: TokenSet) -> list[Identity]:
        try:
            info = await self.client.user_info(token.access_token, USER_BASIC_FIELDS)
        except TikTokError as error:
            raise social_error(error) from error
        open_id = info.open_id or str(token.raw.get("open_id") or "")
        if not open_id:
            raise SocialProviderError(
                "TikTok did not say which account the token belongs to",
                kind=ErrorKind.TRANSIENT,
                platform=Platform.TIKTOK,
            )
        extra = {"union_id": info.union_id} if info.union_id else {}
        return [
            Identity(
                platform_user_id=open_id,
                username=info.username,
                display_name=info.display_name,
                avatar_url=info.avatar_url,
                extra=extra,
            )
        ]

    async def creator_info(self, account: AccountCredentials) -> dict[str, object]:
        """What a Direct Post screen must show and honour: the creator's nickname, the privacy
        levels they may pick, interactions they turned off, the longest video they may post."""
        try:
            info = await self.client.creator_info(account.access_token)
        except TikTokError as error:
            raise social_error(error) from error
        return info.model_dump(mode="json")

    async def publish(self, account: AccountCredentials, post: PublishRequest) -> PublishResult:
        """One video, direct post (`options`: TikTok's post info; privacy defaults to the
        most private level the creator allows)."""
        if len(post.media) != 1:
            raise SocialProviderError(
                "TikTok posts one video",
                kind=ErrorKind.REJECTED,
                platform=Platform.TIKTOK,
            )
        info = VideoPostInfo.model_validate(
            {"privacy_level": PrivacyLevel.SELF_ONLY, "title": post.text, **post.options}
        )
        publisher = Publisher(self.client)
        media = post.media[0]
        try:
            # TikTok pulls from a verified URL when one is given; otherwise the file uploads.
            if media.public_url:
                record = await publisher.publish_url(
                    account.access_token, media.public_url, info, wait=False
                )
            else:
                record = await publisher.publish_file(
                    account.access_token, Path(media.path), info, wait=False
                )
        except TikTokError as error:
            raise social_error(error) from error
        return PublishResult(state=PublishState.PROCESSING, tracking_id=record.publish_id)

    async def publish_status(self, account: AccountCredentials, tracking_id: str) -> PublishResult:
        try:
            status = await self.client.fetch_status(account.access_token, tracking_id)
        except TikTokError as error:
            raise social_error(error) from error
        if status.status == PublishStatusValue.FAILED:
            raise SocialProviderError(
                f"TikTok did not publish the video: {status.fail_reason}",
                kind=ErrorKind.REJECTED,
                platform=Platform.TIKTOK,
                platform_code=status.fail_reason,
            )
        if status.status != PublishStatusValue.PUBLISH_COMPLETE:
            return PublishResult(state=PublishState.PROCESSING, tracking_id=tracking_id)
        post_id = status.post_ids[0] if status.post_ids else None
        return PublishResult(
            state=PublishState.PUBLISHED, platform_post_id=post_id, tracking_id=tracking_id
        )

    async def find_published(
        self, account: AccountCredentials, post: PublishRequest, since: datetime
    ) -> PublishResult | None:
        """TikTok's publish_id is the idempotency handle: a publish without one never
        reached TikTok, so there is nothing to find."""
        tracking_id = account.extra.get("tracking_id")
        if not isinstance(tracking_id, str):
            return None
        result = await self.publish_status(account, tracking_id)
        return result if result.state is PublishState.PUBLISHED else None

    async def aclose(self) -> None:
        await self.client.aclose()


def tiktok_provider(settings: Settings) -> ProviderFactory:
    """The factory the social registry calls: TikTok's retry, breaker and timeout settings,
    with the credentials, hosts and redirect URI the social accounts use."""

    def build(config: ProviderConfig) -> TikTokProvider:
        tiktok = replace(
            TikTokConfig.from_settings(settings),
            client_key=config.client_id or "",
            client_secret=config.client_secret or "",
            redirect_uri=config.redirect_uri,
            api_url=config.api_base_url.rstrip("/"),
            auth_url=config.auth_base_url.rstrip("/"),
            scopes=config.scopes,
        )
        return TikTokProvider(config, TikTokClient(tiktok))

    return ProviderFactory(TikTokProvider.rules, build)
