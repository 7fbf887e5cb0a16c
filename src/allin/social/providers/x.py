"""X (API v2): OAuth 2.0 Authorization Code with PKCE for a confidential client, posts with
chunked media upload, read-back through the user's timeline.

Contracts: docs.x.com OAuth 2.0 authorization-code and user-access-token pages, the X API v2
OpenAPI document (`POST /2/tweets`, `/2/media/upload/initialize|{id}/append|{id}/finalize`,
`GET /2/media/upload?command=STATUS`), "Response codes and errors" and "Rate limits".
"""

from __future__ import annotations

import asyncio
import base64
import unicodedata
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import httpx

from allin.core.breaker import CircuitBreaker
from allin.core.clock import clock
from allin.core.retry import RetryPolicy
from allin.social.providers.base import (
    AccountCredentials,
    ContentRules,
    ErrorKind,
    Identity,
    LimitScope,
    MediaItem,
    MediaKind,
    Platform,
    ProviderConfig,
    PublishRequest,
    PublishResult,
    PublishState,
    SocialProvider,
    SocialProviderError,
    TokenSet,
)
from allin.social.providers.common import Sleep, chunks, iso_utc, read_media, rejected
from allin.social.providers.oauth import consent_url, token_set
from allin.social.providers.transport import Transport, json_body, retry_after
from allin.social.text.x_weight import weighted_length

PLATFORM = Platform.X
DEFAULT_SCOPES = ("tweet.read", "tweet.write", "users.read", "media.write", "offline.access")
CHUNK_BYTES = 4 * 1024 * 1024
MB = 1024 * 1024
READ_BACK_PAGES = 10  # of 100 posts: more than an account posts around one attempt


def _problem_kind(body: dict[str, Any]) -> str:
    """The last segment of a problem `type` (hosts differ: api.x.com, api.twitter.com)."""
    return str(body.get("type", "")).rstrip("/").rsplit("/", 1)[-1]


USAGE_CAP_RECHECK = 3_600.0
"""X does not say when a usage cap ends (with the billing period); look again in an hour."""


def _unix_header(response: httpx.Response, name: str) -> datetime | None:
    """A reset header (Unix seconds), never earlier than a second from now (clock skew)."""
    value = response.headers.get(name, "").strip()
    if not value.isascii() or not value.isdigit():
        return None
    reset = datetime.fromtimestamp(int(value), UTC)
    return max(reset, clock.now() + timedelta(seconds=1))


def _spent(response: httpx.Response, prefix: str) -> datetime | None:
    if response.headers.get(f"{prefix}-remaining", "").strip() != "0":
        return None
    return _unix_header(response, f"{prefix}-reset")


def _limit(response: httpx.Response, kind_name: str) -> dict[str, Any]:
    """Who a 429 holds back and until when. A usage cap is the app's (its product plan);
    POST /2/tweets also sends 24-hour headers saying whether the app's or the user's day is
    spent; otherwise the limit is the user's 15-minute window (x-rate-limit-reset)."""
    if kind_name == "usage-capped":
        return {"scope": LimitScope.APP, "retry_after": USAGE_CAP_RECHECK}
    app_day = _spent(response, "x-app-limit-24hour")
    if app_day is not None:
        return {"scope": LimitScope.APP, "reset_at": app_day}
    reset = _spent(response, "x-user-limit-24hour") or _unix_header(response, "x-rate-limit-reset")
    if reset is not None:
        return {"scope": LimitScope.ACCOUNT, "reset_at": reset}
    return {"scope": LimitScope.ACCOUNT, "retry_after": retry_after(response)}


def classify(response: httpx.Response) -> SocialProviderError:
    """An X API answer that is not a success, as one `ErrorKind`."""
    status = response.status_code
    body = json_body(response)
    body = body if isinstance(body, dict) else {}
    if "error" in body and isinstance(body["error"], str):
        return _oauth_error(status, body)
    kind_name = _problem_kind(body)
    detail = str(body.get("detail") or body.get("title") or response.reason_phrase)
    errors = body.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        detail = str(errors[0].get("message") or detail)
    code = kind_name if kind_name and kind_name != "about:blank" else str(status)

    def error(kind: ErrorKind, **limit: Any) -> SocialProviderError:
        return SocialProviderError(
            detail,
            kind=kind,
            platform=PLATFORM,
            platform_code=code,
            platform_message=detail,
            http_status=status,
            **limit,
        )

    if status == 401:
        return error(ErrorKind.AUTH)
    if status == 403:
        # A bare "Forbidden" (no scope, app not enrolled) or an app-only token is about the
        # connection; any other 403 names what is wrong with the post (duplicate, replies...).
        if kind_name in ("unsupported-authentication", "client-forbidden") or detail in (
            "Forbidden",
            "",
        ):
            return error(ErrorKind.AUTH)
        if "duplicate" in detail.lower():
            code = "duplicate"
        return error(ErrorKind.REJECTED)
    if status == 429:
        return error(ErrorKind.RATE_LIMITED, **_limit(response, kind_name))
    if status >= 500:
        return error(ErrorKind.TRANSIENT)
    return error(ErrorKind.REJECTED)


def _oauth_error(status: int, body: dict[str, Any]) -> SocialProviderError:
    """RFC 6749 §5.2 answers of the token and revoke endpoints."""
    name = str(body["error"])
    description = str(body.get("error_description") or name)
    if status >= 500:
        kind = ErrorKind.TRANSIENT
    elif name in ("unauthorized_client", "invalid_client", "unsupported_grant_type"):
        kind = ErrorKind.CONFIG
    else:
        kind = ErrorKind.AUTH  # a spent, expired or revoked code or refresh token
    return SocialProviderError(
        description,
        kind=kind,
        platform=PLATFORM,
        platform_code=name,
        platform_message=description,
        http_status=status,
    )


class XProvider(SocialProvider):
    platform: ClassVar[Platform] = PLATFORM
    uses_pkce: ClassVar[bool] = True
    can_refresh: ClassVar[bool] = True
    rotates_refresh_tokens: ClassVar[bool] = True
    rules: ClassVar[ContentRules] = ContentRules(
        text_limit=280,
        measure=weighted_length,
        max_media=4,
        image_types=frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"}),
        video_types=frozenset({"video/mp4", "video/quicktime"}),
        max_image_bytes=5 * MB,
        max_video_bytes=512 * MB,
        min_video_seconds=0.5,
        max_video_seconds=140.0,
        max_frame_rate=60.0,
    )

    def __init__(
        self,
        config: ProviderConfig,
        *,
        timeout: float = 15.0,
        retry: RetryPolicy | None = None,
        breaker: CircuitBreaker | None = None,
        sleep: Sleep = asyncio.sleep,
        processing_timeout: float = 300.0,
        upload_timeout: float = 120.0,
    ) -> None:
        super().__init__(config)
        self.api = config.api_base_url.rstrip("/")
        self.upload_timeout = upload_timeout
        self.http = Transport(PLATFORM, classify, timeout=timeout, retry=retry, breaker=breaker)
        self.sleep = sleep
        self.processing_timeout = processing_timeout

    async def aclose(self) -> None:
        await self.http.aclose()

    # --- OAuth 2.0 with PKCE ---

    def authorization_url(self, state: str, code_challenge: str | None = None) -> str:
        if not code_challenge:
            raise SocialProviderError("X requires PKCE", kind=ErrorKind.CONFIG, platform=PLATFORM)
        params = {
            "response_type": "code",
            "client_id": self.config.client_id or "",
            "redirect_uri": self.config.redirect_uri,
            "scope": " ".join(self.config.scopes or DEFAULT_SCOPES),
            "state": state,
            "code_challenge": code_challenge,
            "code_challenge_method": "S256",
        }
        return consent_url(f"{self.config.auth_base_url.rstrip('/')}/i/oauth2/authorize", params)

    def _client_auth(self, form: dict[str, str]) -> dict[str, str]:
        """Confidential clients authenticate with HTTP Basic; public ones name themselves."""
        if self.config.client_secret:
            pair = f"{self.config.client_id}:{self.config.client_secret}".encode()
            return {"Authorization": "Basic " + base64.b64encode(pair).decode("ascii")}
        form["client_id"] = self.config.client_id or ""
        return {}

    async def _token(self, form: dict[str, str]) -> TokenSet:
        headers = self._client_auth(form)
        response = await self.http.once(
            "POST",
            f"{self.api}/2/oauth2/token",
            data=form,
            headers=headers,
            after_send=ErrorKind.TRANSIENT,
        )
        return token_set(response.json())

    async def exchange_code(self, code: str, code_verifier: str | None = None) -> TokenSet:
        return await self._token(
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": self.config.redirect_uri,
                "code_verifier": code_verifier or "",
            }
        )

    async def refresh(self, token: TokenSet) -> TokenSet:
        if not token.refresh_token:
            raise SocialProviderError(
                "No refresh token (offline.access was not granted)",
                kind=ErrorKind.AUTH,
                platform=PLATFORM,
            )
        return await self._token(
            {"grant_type": "refresh_token", "refresh_token": token.refresh_token}
        )

    async def revoke(self, token: TokenSet) -> None:
        for value, hint in (
            (token.refresh_token, "refresh_token"),
            (token.access_token, "access_token"),
        ):
            if value:
                form = {"token": value, "token_type_hint": hint}
                headers = self._client_auth(form)
                await self.http.safe(
                    "POST", f"{self.api}/2/oauth2/revoke", data=form, headers=headers
                )

    async def identities(self, token: TokenSet) -> list[Identity]:
        response = await self.http.safe(
            "GET",
            f"{self.api}/2/users/me",
            params={"user.fields": "profile_image_url,verified,verified_type"},
            headers=_bearer(token.access_token),
        )
        user = response.json()["data"]
        return [
            Identity(
                platform_user_id=str(user["id"]),
                username=user.get("username"),
                display_name=user.get("name"),
                avatar_url=user.get("profile_image_url"),
                extra={
                    "verified": bool(user.get("verified", False)),
                    "verified_type": user.get("verified_type"),
                },
            )
        ]

    # --- publishing ---

    async def publish(self, account: AccountCredentials, post: PublishRequest) -> PublishResult:
        media_ids = [await self._upload(account, item) for item in post.media]
        body: dict[str, Any] = {}
        if post.text:
            body["text"] = post.text
        if media_ids:
            body["media"] = {"media_ids": media_ids}
        reply_to = post.options.get("reply_to_post_id")
        if reply_to:
            body["reply"] = {"in_reply_to_tweet_id": str(reply_to)}
        response = await self.http.once(
            "POST", f"{self.api}/2/tweets", json=body, headers=_bearer(account.access_token)
        )
        post_id = str(response.json()["data"]["id"])
        return PublishResult(PublishState.PUBLISHED, post_id, _post_url(post_id))

    async def _upload(self, account: AccountCredentials, item: MediaItem) -> str:
        """Chunked upload (initialize, append, finalize), then wait for processing."""
        data = await read_media(item)
        headers = _bearer(account.access_token)
        init = await self.http.safe(
            "POST",
            f"{self.api}/2/media/upload/initialize",
            json={
                "media_type": item.mime_type,
                "total_bytes": len(data),
                "media_category": _category(item),
            },
            headers=headers,
        )
        media_id = str(init.json()["data"]["id"])
        for index, chunk in enumerate(chunks(data, CHUNK_BYTES)):
            await self.http.safe(
                "POST",
                f"{self.api}/2/media/upload/{media_id}/append",
                data={"segment_index": str(index)},
                files={"media": ("blob", chunk, "application/octet-stream")},
                headers=headers,
                timeout=self.upload_timeout,
            )
        final = await self.http.safe(
            "POST", f"{self.api}/2/media/upload/{media_id}/finalize", headers=headers
        )
        await self._await_processing(account, media_id, final.json()["data"])
        return media_id

    async def _await_processing(
        self, account: AccountCredentials, media_id: str, data: dict[str, Any]
    ) -> None:
        deadline = clock.monotonic() + self.processing_timeout
        while True:
            info = data.get("processing_info")
            if not isinstance(info, dict) or info.get("state") == "succeeded":
                return
            if info.get("state") == "failed":
                found = info.get("error")
                error: dict[str, Any] = found if isinstance(found, dict) else {}
                message = str(error.get("message") or "X could not process the media")
                raise rejected(PLATFORM, message, str(error.get("name") or "media_failed"))
            if clock.monotonic() >= deadline:
                raise SocialProviderError(
                    "X is still processing the media",
                    kind=ErrorKind.TRANSIENT,
                    platform=PLATFORM,
                    retry_after=60.0,
                )
            await self.sleep(max(1.0, float(info.get("check_after_secs") or 1)))
            response = await self.http.safe(
                "GET",
                f"{self.api}/2/media/upload",
                params={"command": "STATUS", "media_id": media_id},
                headers=_bearer(account.access_token),
            )
            data = response.json()["data"]

    async def publish_status(self, account: AccountCredentials, tracking_id: str) -> PublishResult:
        """X publishes at once; the tracking id is the post id, and this confirms it exists."""
        response = await self.http.safe(
            "GET", f"{self.api}/2/tweets/{tracking_id}", headers=_bearer(account.access_token)
        )
        body = response.json()
        if not isinstance(body.get("data"), dict):
            raise rejected(PLATFORM, f"Post {tracking_id} was not found", "resource-not-found")
        return PublishResult(PublishState.PUBLISHED, tracking_id, _post_url(tracking_id))

    async def find_published(
        self, account: AccountCredentials, post: PublishRequest, since: datetime
    ) -> PublishResult | None:
        """X takes no idempotency key: look for the same text on the account's timeline
        from a minute before the attempt (every page of it: `next_token`)."""
        params = {
            "max_results": "100",
            "start_time": iso_utc(since - timedelta(minutes=1)),
            "exclude": "replies,retweets",
            "tweet.fields": "created_at",
        }
        wanted = unicodedata.normalize("NFC", post.text).strip()
        for _ in range(READ_BACK_PAGES):
            response = await self.http.safe(
                "GET",
                f"{self.api}/2/users/{account.platform_user_id}/tweets",
                params=params,
                headers=_bearer(account.access_token),
            )
            body = response.json()
            for tweet in body.get("data") or []:
                if unicodedata.normalize("NFC", str(tweet.get("text", ""))).strip() == wanted:
                    post_id = str(tweet["id"])
                    return PublishResult(PublishState.PUBLISHED, post_id, _post_url(post_id))
            token = (body.get("meta") or {}).get("next_token")
            if not token:
                return None
            params["pagination_token"] = str(token)
        return None


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _post_url(post_id: str) -> str:
    return f"https://x.com/i/web/status/{post_id}"


def _category(item: MediaItem) -> str:
    if item.kind is MediaKind.GIF or item.mime_type == "image/gif":
        return "tweet_gif"
    if item.kind is MediaKind.VIDEO:
        return "tweet_video"
    return "tweet_image"
