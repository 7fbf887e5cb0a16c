"""LinkedIn: "Sign In with LinkedIn using OpenID Connect" plus "Share on LinkedIn"
(`w_member_social`), posts through the versioned Posts API, images and videos through the
Images and Videos APIs.

Contracts: learn.microsoft.com LinkedIn authorization-code flow, programmatic refresh tokens,
sign-in-with-linkedin-v2 (`/v2/userinfo`), Posts API, Images API, Videos API, little text
format, error handling and rate limits.
"""

from __future__ import annotations

import asyncio
import re
from datetime import datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import quote

import httpx

from allin.core.breaker import CircuitBreaker
from allin.core.clock import clock, utcnow
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
from allin.social.providers.common import (
    Sleep,
    read_media,
    rejected,
    seconds_until_utc_midnight,
)
from allin.social.providers.oauth import consent_url, token_set
from allin.social.providers.transport import Transport, json_body

PLATFORM = Platform.LINKEDIN
DEFAULT_SCOPES = ("openid", "profile", "email", "w_member_social")
DEFAULT_VERSION = "202610"
MB = 1024 * 1024
READ_BACK_PAGE = 100  # the largest `count` of the posts finder
READ_BACK_PAGES = 10

# The little text format reserves these; a reserved character left bare makes LinkedIn keep
# only the text before it (while still answering 201), so every one is escaped except the
# `#` that starts a hashtag.
_RESERVED = frozenset("\\|{}@[]()<>#*_~")
_HASHTAG = re.compile(r"#\w+")
_DUPLICATE_OF = re.compile(r"urn:li:(?:share|ugcPost):[\w-]+")


def escape_commentary(text: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(text):
        hashtag = _HASHTAG.match(text, i) if text[i] == "#" else None
        if hashtag is not None:
            out.append(hashtag.group())
            i = hashtag.end()
            continue
        out.append("\\" + text[i] if text[i] in _RESERVED else text[i])
        i += 1
    return "".join(out)


def commentary_length(text: str) -> int:
    """LinkedIn counts its 3,000 characters on the escaped commentary."""
    return len(escape_commentary(text))


def _input_error_code(body: dict[str, Any]) -> str | None:
    details = body.get("errorDetails")
    errors = details.get("inputErrors") if isinstance(details, dict) else None
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        code = errors[0].get("code")
        return str(code) if code else None
    return None


def classify(response: httpx.Response) -> SocialProviderError:
    status = response.status_code
    found = json_body(response)
    body: dict[str, Any] = found if isinstance(found, dict) else {}
    if isinstance(body.get("error"), str):
        return _oauth_error(status, body)
    code = _input_error_code(body) or body.get("code") or body.get("serviceErrorCode")
    code = str(code) if code is not None else str(status)
    message = str(body.get("message") or response.reason_phrase).strip()

    def error(
        kind: ErrorKind, retry_after: float | None = None, scope: LimitScope | None = None
    ) -> SocialProviderError:
        return SocialProviderError(
            message,
            kind=kind,
            platform=PLATFORM,
            platform_code=code,
            platform_message=message,
            retry_after=retry_after,
            http_status=status,
            scope=scope,
        )

    if status in (401, 403):
        return error(ErrorKind.AUTH)  # dead token (65600/65601/65602) or a missing scope
    if status == 426 or code == "VERSION_MISSING":
        return error(ErrorKind.CONFIG)  # the pinned LinkedIn-Version is no longer served
    if status == 429:
        # No Retry-After: LinkedIn's daily quotas reset at midnight UTC.
        return error(
            ErrorKind.RATE_LIMITED,
            seconds_until_utc_midnight(utcnow()),
            scope=throttle_scope(message),
        )
    if status >= 500 or code == "MEDIA_ASSET_WAITING_UPLOAD":
        return error(ErrorKind.TRANSIENT)
    return error(ErrorKind.REJECTED)


_APP_THROTTLE = re.compile(r"\bAPPLICATION DAY\b")


def throttle_scope(message: str) -> LimitScope:
    """LinkedIn counts calls per application and per member of an application, each per UTC
    day; a 429 names the spent one: "Resource level throttle APPLICATION DAY limit ..." is the
    app's, "... APPLICATION_AND_MEMBER DAY limit ..." the member's. Anything else (a bare
    throttle) holds the member only."""
    return LimitScope.APP if _APP_THROTTLE.search(message) else LimitScope.ACCOUNT


def _oauth_error(status: int, body: dict[str, Any]) -> SocialProviderError:
    name = str(body["error"])
    description = str(body.get("error_description") or name)
    if status >= 500:
        kind = ErrorKind.TRANSIENT
    elif name in ("invalid_client", "unauthorized_client", "unsupported_grant_type"):
        kind = ErrorKind.CONFIG
    else:
        kind = ErrorKind.AUTH
    return SocialProviderError(
        description,
        kind=kind,
        platform=PLATFORM,
        platform_code=name,
        platform_message=description,
        http_status=status,
    )


class LinkedInProvider(SocialProvider):
    platform: ClassVar[Platform] = PLATFORM
    uses_pkce: ClassVar[bool] = False  # LinkedIn offers PKCE to native apps only
    can_refresh: ClassVar[bool] = False  # refresh tokens are for approved partners only
    rotates_refresh_tokens: ClassVar[bool] = False
    rules: ClassVar[ContentRules] = ContentRules(
        text_limit=3_000,
        measure=commentary_length,
        max_media=20,  # one video, or one to twenty images
        image_types=frozenset({"image/jpeg", "image/png", "image/gif"}),
        video_types=frozenset({"video/mp4"}),
        max_video_bytes=500 * MB,
        min_video_seconds=3.0,
        max_video_seconds=1_800.0,
        min_aspect=1 / 2.4,
        max_aspect=2.4,
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
        poll_interval: float = 2.0,
        upload_timeout: float = 120.0,
    ) -> None:
        super().__init__(config)
        self.api = config.api_base_url.rstrip("/")
        self.auth = config.auth_base_url.rstrip("/")
        self.version = config.extra.get("version", DEFAULT_VERSION)
        self.http = Transport(PLATFORM, classify, timeout=timeout, retry=retry, breaker=breaker)
        self.sleep = sleep
        self.processing_timeout = processing_timeout
        self.poll_interval = poll_interval
        self.upload_timeout = upload_timeout

    async def aclose(self) -> None:
        await self.http.aclose()

    def _rest(self, token: str) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {token}",
            "LinkedIn-Version": self.version,
            "X-Restli-Protocol-Version": "2.0.0",
        }

    # --- OAuth 2.0 ---

    def authorization_url(self, state: str, code_challenge: str | None = None) -> str:
        params = {
            "response_type": "code",
            "client_id": self.config.client_id or "",
            "redirect_uri": self.config.redirect_uri,
            "state": state,
            "scope": " ".join(self.config.scopes or DEFAULT_SCOPES),
        }
        return consent_url(f"{self.auth}/oauth/v2/authorization", params)

    def _credentials(self) -> dict[str, str]:
        """LinkedIn takes the client credentials in the form body, not HTTP Basic."""
        return {
            "client_id": self.config.client_id or "",
            "client_secret": self.config.client_secret or "",
        }

    async def _token(self, form: dict[str, str]) -> TokenSet:
        response = await self.http.once(
            "POST",
            f"{self.auth}/oauth/v2/accessToken",
            data={**form, **self._credentials()},
            after_send=ErrorKind.TRANSIENT,
        )
        return token_set(response.json())

    async def exchange_code(self, code: str, code_verifier: str | None = None) -> TokenSet:
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self.config.redirect_uri,
        }
        if code_verifier:
            form["code_verifier"] = code_verifier
        return await self._token(form)

    async def refresh(self, token: TokenSet) -> TokenSet:
        """Only apps approved for programmatic refresh get a refresh token; it does not rotate
        and keeps its original expiry. Everyone else reconnects every 60 days."""
        if not token.refresh_token:
            raise SocialProviderError(
                "LinkedIn issued no refresh token; the member must reconnect",
                kind=ErrorKind.AUTH,
                platform=PLATFORM,
            )
        fresh = await self._token(
            {"grant_type": "refresh_token", "refresh_token": token.refresh_token}
        )
        if fresh.refresh_token is None:
            return TokenSet(
                fresh.access_token,
                token.refresh_token,
                fresh.expires_at,
                token.refresh_expires_at,
                fresh.scopes or token.scopes,
                fresh.raw,
            )
        return fresh

    async def revoke(self, token: TokenSet) -> None:
        await self.http.safe(
            "POST",
            f"{self.auth}/oauth/v2/revoke",
            data={"token": token.access_token, **self._credentials()},
        )

    async def identities(self, token: TokenSet) -> list[Identity]:
        response = await self.http.safe(
            "GET",
            f"{self.api}/v2/userinfo",
            headers={"Authorization": f"Bearer {token.access_token}"},
        )
        info = response.json()
        sub = str(info["sub"])
        return [
            Identity(
                platform_user_id=sub,
                username=info.get("email"),
                display_name=info.get("name"),
                avatar_url=info.get("picture"),
                extra={"urn": f"urn:li:person:{sub}", "email": info.get("email")},
            )
        ]

    # --- publishing ---

    @staticmethod
    def _author(account: AccountCredentials) -> str:
        return str(account.extra.get("urn") or f"urn:li:person:{account.platform_user_id}")

    async def publish(self, account: AccountCredentials, post: PublishRequest) -> PublishResult:
        author = self._author(account)
        assets = [await self._upload(account, author, item) for item in post.media]
        body: dict[str, Any] = {
            "author": author,
            "commentary": escape_commentary(post.text),
            "visibility": str(post.options.get("visibility", "PUBLIC")),
            "distribution": {
                "feedDistribution": "MAIN_FEED",
                "targetEntities": [],
                "thirdPartyDistributionChannels": [],
            },
            "lifecycleState": "PUBLISHED",
            "isReshareDisabledByAuthor": False,
        }
        if len(assets) == 1:
            body["content"] = {"media": {"id": assets[0]}}
        elif assets:
            body["content"] = {"multiImage": {"images": [{"id": urn} for urn in assets]}}
        response = await self.http.once(
            "POST", f"{self.api}/rest/posts", json=body, headers=self._rest(account.access_token)
        )
        urn = response.headers.get("x-restli-id") or response.headers.get("x-linkedin-id")
        if not urn:
            raise SocialProviderError(
                "LinkedIn accepted the post without naming it",
                kind=ErrorKind.UNKNOWN_OUTCOME,
                platform=PLATFORM,
            )
        return PublishResult(PublishState.PUBLISHED, urn, _post_url(urn))

    async def _upload(self, account: AccountCredentials, owner: str, item: MediaItem) -> str:
        data = await read_media(item)
        headers = self._rest(account.access_token)
        if item.kind is MediaKind.VIDEO:
            urn = await self._upload_video(account, owner, data)
            kind = "videos"
        else:
            init = await self.http.safe(
                "POST",
                f"{self.api}/rest/images",
                params={"action": "initializeUpload"},
                json={"initializeUploadRequest": {"owner": owner}},
                headers=headers,
            )
            value = init.json()["value"]
            urn = str(value["image"])
            await self.http.safe(
                "PUT",
                str(value["uploadUrl"]),
                content=data,
                headers={"Authorization": f"Bearer {account.access_token}"},
                timeout=self.upload_timeout,
            )
            kind = "images"
        await self._await_available(account, kind, urn)
        return urn

    async def _upload_video(self, account: AccountCredentials, owner: str, data: bytes) -> str:
        headers = self._rest(account.access_token)
        init = await self.http.safe(
            "POST",
            f"{self.api}/rest/videos",
            params={"action": "initializeUpload"},
            json={
                "initializeUploadRequest": {
                    "owner": owner,
                    "fileSizeBytes": len(data),
                    "uploadCaptions": False,
                    "uploadThumbnail": False,
                }
            },
            headers=headers,
        )
        value = init.json()["value"]
        etags = []
        for part in value["uploadInstructions"]:
            chunk = data[int(part["firstByte"]) : int(part["lastByte"]) + 1]
            put = await self.http.safe(
                "PUT",
                str(part["uploadUrl"]),
                content=chunk,
                headers={"Authorization": f"Bearer {account.access_token}"},
                timeout=self.upload_timeout,
            )
            etags.append(put.headers.get("etag", ""))
        await self.http.safe(
            "POST",
            f"{self.api}/rest/videos",
            params={"action": "finalizeUpload"},
            json={
                "finalizeUploadRequest": {
                    "video": value["video"],
                    "uploadToken": value.get("uploadToken", ""),
                    "uploadedPartIds": etags,
                }
            },
            headers=headers,
        )
        return str(value["video"])

    async def _await_available(self, account: AccountCredentials, kind: str, urn: str) -> None:
        deadline = clock.monotonic() + self.processing_timeout
        while True:
            try:
                response = await self.http.safe(
                    "GET",
                    f"{self.api}/rest/{kind}/{quote(urn, safe='')}",
                    headers=self._rest(account.access_token),
                )
            except SocialProviderError as exc:
                if exc.kind is ErrorKind.AUTH and exc.http_status == 403:
                    return  # some tokens may not read assets; the post call will tell
                raise
            status = str(response.json().get("status", ""))
            if status == "AVAILABLE":
                return
            if status == "PROCESSING_FAILED":
                raise rejected(PLATFORM, f"LinkedIn could not process {urn}", status)
            if clock.monotonic() >= deadline:
                raise SocialProviderError(
                    "LinkedIn is still processing the media",
                    kind=ErrorKind.TRANSIENT,
                    platform=PLATFORM,
                    retry_after=60.0,
                )
            await self.sleep(self.poll_interval)

    async def publish_status(self, account: AccountCredentials, tracking_id: str) -> PublishResult:
        """Posts are created at once; the tracking id is the post URN."""
        return PublishResult(PublishState.PUBLISHED, tracking_id, _post_url(tracking_id))

    async def find_published(
        self, account: AccountCredentials, post: PublishRequest, since: datetime
    ) -> PublishResult | None:
        """Reading member posts needs `r_member_social`, which plain apps do not get. Where
        it is granted the author's recent posts are searched; otherwise the post is sent again
        and LinkedIn's duplicate check answers: DUPLICATE_POST names the post that exists,
        and a 201 means the first attempt never landed and the post exists now."""
        readable, found = await self._search(account, post, since)
        if readable:
            return found
        try:
            return await self.publish(account, post)
        except SocialProviderError as exc:
            if exc.platform_code == "DUPLICATE_POST":
                match = _DUPLICATE_OF.search(exc.platform_message or "")
                if match is not None:
                    urn = match.group()
                    return PublishResult(PublishState.PUBLISHED, urn, _post_url(urn))
            raise

    async def _search(
        self, account: AccountCredentials, post: PublishRequest, since: datetime
    ) -> tuple[bool, PublishResult | None]:
        """Whether the author's posts could be read, and the matching one if any."""
        author = self._author(account)
        wanted = escape_commentary(post.text)
        earliest = (since - timedelta(minutes=1)).timestamp() * 1000
        for page in range(READ_BACK_PAGES):
            params = {"author": author, "q": "author", "count": str(READ_BACK_PAGE)}
            params |= {"sortBy": "LAST_MODIFIED", "start": str(page * READ_BACK_PAGE)}
            try:
                response = await self.http.safe(
                    "GET", f"{self.api}/rest/posts", params=params,
                    headers=self._rest(account.access_token),
                )  # fmt: skip
            except SocialProviderError as exc:
                if exc.http_status == 403:
                    return False, None
                raise
            body = response.json()
            elements = body.get("elements") or []
            for element in elements:
                if element.get("commentary") in (wanted, post.text) and (
                    int(element.get("createdAt") or 0) >= earliest
                ):
                    urn = str(element["id"])
                    return True, PublishResult(PublishState.PUBLISHED, urn, _post_url(urn))
            if not (body.get("paging") or {}).get("links"):
                break
        return True, None


def _post_url(urn: str) -> str:
    return f"https://www.linkedin.com/feed/update/{urn}/"
