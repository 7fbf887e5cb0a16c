"""Facebook Pages: one identity per Page the login manages, each with its own Page token;
posts through `/{page-id}/feed`, `/photos` and `/videos`; read-back through
`/{page-id}/published_posts`.

Contracts: developers.facebook.com Pages API "posts", Video API "publishing", Graph API
error handling and rate limiting.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any, ClassVar

from allin.social.providers.base import (
    AccountCredentials,
    ContentRules,
    Identity,
    MediaItem,
    MediaKind,
    Platform,
    PublishRequest,
    PublishResult,
    PublishState,
    TokenSet,
)
from allin.social.providers.common import read_media, rejected
from allin.social.providers.meta import MetaProvider, bearer, page_token, unix

PLATFORM = Platform.FACEBOOK
MB = 1024 * 1024


class FacebookProvider(MetaProvider):
    platform: ClassVar[Platform] = PLATFORM
    default_scopes: ClassVar[tuple[str, ...]] = (
        "pages_show_list",
        "pages_read_engagement",
        "pages_manage_posts",
        "publish_video",
    )
    rules: ClassVar[ContentRules] = ContentRules(
        text_limit=63_206,
        max_media=10,  # one video, or up to ten photos
        image_types=frozenset({"image/jpeg", "image/png", "image/gif", "image/bmp", "image/tiff"}),
        video_types=frozenset({"video/mp4", "video/quicktime"}),
        max_image_bytes=10 * MB,
    )

    async def identities(self, token: TokenSet) -> list[Identity]:
        return [
            Identity(
                platform_user_id=str(page["id"]),
                username=None,
                display_name=page.get("name"),
                token=page_token(page),
                extra={
                    "tasks": list(page.get("tasks") or []),
                    "instagram_business_account_id": (
                        page.get("instagram_business_account") or {}
                    ).get("id"),
                },
            )
            for page in await self.pages(token)
            if page.get("access_token")
        ]

    async def publish(self, account: AccountCredentials, post: PublishRequest) -> PublishResult:
        """`account.access_token` is the Page token."""
        videos = [m for m in post.media if m.kind is MediaKind.VIDEO]
        if videos and (len(videos) > 1 or len(post.media) > 1):
            raise rejected(PLATFORM, "A Page post carries one video, or photos", "media_mix")
        if videos:
            return await self._video(account, post, videos[0])
        if len(post.media) == 1:
            return await self._photo(account, post, post.media[0])
        page = account.platform_user_id
        form: dict[str, str] = {"message": post.text}
        if post.options.get("link"):
            form["link"] = str(post.options["link"])
        if post.media:
            staged = [await self._stage_photo(account, item) for item in post.media]
            form["attached_media"] = json.dumps([{"media_fbid": i} for i in staged])
        response = await self.http.once(
            "POST", f"{self.graph}/{page}/feed", data=form, headers=bearer(account.access_token)
        )
        post_id = str(response.json()["id"])
        return PublishResult(PublishState.PUBLISHED, post_id, _post_url(post_id))

    async def _photo(
        self, account: AccountCredentials, post: PublishRequest, item: MediaItem
    ) -> PublishResult:
        data = await read_media(item)
        response = await self.http.once(
            "POST",
            f"{self.graph}/{account.platform_user_id}/photos",
            data={"message": post.text},
            files={"source": (item.path.name, data, item.mime_type)},
            headers=bearer(account.access_token),
            timeout=self.upload_timeout,
        )
        body = response.json()
        post_id = str(body.get("post_id") or body["id"])
        return PublishResult(PublishState.PUBLISHED, post_id, _post_url(post_id))

    async def _stage_photo(self, account: AccountCredentials, item: MediaItem) -> str:
        """An unpublished photo, attached to the feed post afterwards (safe to repeat)."""
        data = await read_media(item)
        response = await self.http.safe(
            "POST",
            f"{self.graph}/{account.platform_user_id}/photos",
            data={"published": "false"},
            files={"source": (item.path.name, data, item.mime_type)},
            headers=bearer(account.access_token),
            timeout=self.upload_timeout,
        )
        return str(response.json()["id"])

    async def _video(
        self, account: AccountCredentials, post: PublishRequest, item: MediaItem
    ) -> PublishResult:
        data = await read_media(item)
        form = {"description": post.text}
        if post.options.get("title"):
            form["title"] = str(post.options["title"])
        response = await self.http.once(
            "POST",
            f"{self.video_graph}/{account.platform_user_id}/videos",
            data=form,
            files={"source": (item.path.name, data, item.mime_type)},
            headers=bearer(account.access_token),
            timeout=self.upload_timeout,
        )
        video_id = str(response.json()["id"])
        # The video is processed after the upload returns; its post appears when it is ready.
        return PublishResult(PublishState.PROCESSING, tracking_id=video_id)

    async def publish_status(self, account: AccountCredentials, tracking_id: str) -> PublishResult:
        response = await self.http.safe(
            "GET",
            f"{self.graph}/{tracking_id}",
            params={"fields": "post_id,permalink_url,status"},
            headers=bearer(account.access_token),
        )
        body: dict[str, Any] = response.json()
        found = body.get("status")
        status: dict[str, Any] = found if isinstance(found, dict) else {}
        video_status = str(status.get("video_status", ""))
        if video_status == "error":
            raise rejected(PLATFORM, "Facebook could not process the video", "video_error")
        if video_status != "ready" or not body.get("post_id"):
            return PublishResult(PublishState.PROCESSING, tracking_id=tracking_id)
        post_id = str(body["post_id"])
        permalink = str(body.get("permalink_url") or "")
        url = f"https://www.facebook.com{permalink}" if permalink.startswith("/") else permalink
        return PublishResult(
            PublishState.PUBLISHED, post_id, url or _post_url(post_id), tracking_id
        )

    async def find_published(
        self, account: AccountCredentials, post: PublishRequest, since: datetime
    ) -> PublishResult | None:
        """The Page's published posts since the attempt, every page of them."""
        params = {
            "fields": "id,message,created_time,permalink_url",
            "since": unix(since - timedelta(minutes=1)),
        }
        path = f"{account.platform_user_id}/published_posts"
        async for row in self.rows(path, params, account.access_token):
            if str(row.get("message", "")).strip() == post.text.strip():
                post_id = str(row["id"])
                url = row.get("permalink_url") or _post_url(post_id)
                return PublishResult(PublishState.PUBLISHED, post_id, url)
        return None


def _post_url(post_id: str) -> str:
    page, _, local = post_id.partition("_")
    return f"https://www.facebook.com/{page}/posts/{local or page}"
