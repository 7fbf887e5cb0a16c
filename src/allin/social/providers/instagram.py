"""Instagram professional accounts through Facebook Login: each account is found through the
Page it is linked to and acts with that Page's token. Publishing is a container (Meta fetches
the media from its public URL), polled until FINISHED, then `media_publish`; the rolling
24-hour quota is read from `content_publishing_limit` first.

Contracts: developers.facebook.com Instagram Platform "content publishing", IG User Media,
IG Container, IG User Media Publish, content_publishing_limit, and the IG error codes.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, ClassVar

from allin.core.clock import clock
from allin.social.providers.base import (
    AccountCredentials,
    ContentRules,
    ErrorKind,
    Identity,
    MediaItem,
    MediaKind,
    Platform,
    PublishRequest,
    PublishResult,
    PublishState,
    SocialProviderError,
    TokenSet,
)
from allin.social.providers.common import rejected
from allin.social.providers.meta import MetaProvider, bearer, page_token, unix

PLATFORM = Platform.INSTAGRAM
MB = 1024 * 1024
QUOTA_RECHECK = 3_600.0


class InstagramProvider(MetaProvider):
    platform: ClassVar[Platform] = PLATFORM
    pulls_media: ClassVar[bool] = True
    default_scopes: ClassVar[tuple[str, ...]] = (
        "instagram_basic",
        "instagram_content_publish",
        "pages_show_list",
        "pages_read_engagement",
    )
    rules: ClassVar[ContentRules] = ContentRules(
        text_limit=2_200,
        max_media=10,  # one image, one reel, or a carousel of two to ten
        image_types=frozenset({"image/jpeg"}),
        video_types=frozenset({"video/mp4", "video/quicktime"}),
        max_image_bytes=8 * MB,
        max_video_bytes=300 * MB,
        min_video_seconds=3.0,
        max_video_seconds=900.0,
        max_hashtags=30,
        max_mentions=20,
        min_aspect=0.8,
        max_aspect=1.91,
        max_frame_rate=60.0,
        requires_media=True,
        mixes_images_and_video=True,
    )

    async def identities(self, token: TokenSet) -> list[Identity]:
        found = []
        for page in await self.pages(token):
            linked = page.get("instagram_business_account") or {}
            if not linked.get("id") or not page.get("access_token"):
                continue
            own = page_token(page)
            response = await self.http.safe(
                "GET",
                f"{self.graph}/{linked['id']}",
                params={"fields": "id,username,name,profile_picture_url"},
                headers=bearer(own.access_token),
            )
            profile = response.json()
            found.append(
                Identity(
                    platform_user_id=str(profile["id"]),
                    username=profile.get("username"),
                    display_name=profile.get("name") or profile.get("username"),
                    avatar_url=profile.get("profile_picture_url"),
                    token=own,
                    extra={"page_id": str(page["id"]), "page_name": page.get("name")},
                )
            )
        return found

    # --- publishing ---

    async def publish(self, account: AccountCredentials, post: PublishRequest) -> PublishResult:
        if not post.media:
            raise rejected(PLATFORM, "An Instagram post needs an image or a video", "no_media")
        missing = [m.path.name for m in post.media if not m.public_url]
        if missing:
            raise rejected(
                PLATFORM,
                "Instagram fetches media from a public URL; none is set for " + ", ".join(missing),
                "no_public_url",
            )
        await self._check_quota(account)
        if len(post.media) == 1:
            container = await self._container(account, _single(post.media[0], post.text))
        else:
            children = [await self._container(account, _child(item)) for item in post.media]
            for child in children:
                if await self._wait(account, child, self.processing_timeout) != "FINISHED":
                    raise SocialProviderError(
                        "Instagram is still processing a carousel item",
                        kind=ErrorKind.TRANSIENT,
                        platform=PLATFORM,
                        retry_after=60.0,
                    )
            container = await self._container(
                account,
                {"media_type": "CAROUSEL", "children": ",".join(children), "caption": post.text},
            )
        if await self._wait(account, container, self.inline_wait) != "FINISHED":
            return PublishResult(PublishState.PROCESSING, tracking_id=container)
        return await self._publish_container(account, container)

    async def _check_quota(self, account: AccountCredentials) -> None:
        response = await self.http.safe(
            "GET",
            f"{self.graph}/{account.platform_user_id}/content_publishing_limit",
            params={"fields": "quota_usage,config"},
            headers=bearer(account.access_token),
        )
        rows = response.json().get("data") or [{}]
        usage = int(rows[0].get("quota_usage") or 0)
        total = int((rows[0].get("config") or {}).get("quota_total") or 0)
        if total and usage >= total:
            raise SocialProviderError(
                f"Instagram's publishing limit is reached ({usage} of {total} in 24 hours)",
                kind=ErrorKind.RATE_LIMITED,
                platform=PLATFORM,
                platform_code="quota",
                retry_after=QUOTA_RECHECK,
            )

    async def _container(self, account: AccountCredentials, form: dict[str, str]) -> str:
        """A container publishes nothing, so making one again after a failure is harmless."""
        response = await self.http.safe(
            "POST",
            f"{self.graph}/{account.platform_user_id}/media",
            data=form,
            headers=bearer(account.access_token),
        )
        return str(response.json()["id"])

    async def _status(self, account: AccountCredentials, container: str) -> tuple[str, str]:
        response = await self.http.safe(
            "GET",
            f"{self.graph}/{container}",
            params={"fields": "status_code,status"},
            headers=bearer(account.access_token),
        )
        body = response.json()
        return str(body.get("status_code", "")), str(body.get("status", ""))

    async def _wait(self, account: AccountCredentials, container: str, budget: float) -> str:
        """The container's status once it leaves IN_PROGRESS, or IN_PROGRESS after `budget`."""
        deadline = clock.monotonic() + budget
        while True:
            code, text = await self._status(account, container)
            if code in ("ERROR", "EXPIRED"):
                raise rejected(PLATFORM, f"Instagram could not prepare the media: {text}", code)
            if code != "IN_PROGRESS" or clock.monotonic() >= deadline:
                return code
            await self.sleep(self.poll_interval)

    async def _publish_container(
        self, account: AccountCredentials, container: str
    ) -> PublishResult:
        response = await self.http.once(
            "POST",
            f"{self.graph}/{account.platform_user_id}/media_publish",
            data={"creation_id": container},
            headers=bearer(account.access_token),
        )
        media_id = str(response.json()["id"])
        return PublishResult(
            PublishState.PUBLISHED, media_id, await self._permalink(account, media_id), container
        )

    async def _permalink(self, account: AccountCredentials, media_id: str) -> str | None:
        try:
            response = await self.http.safe(
                "GET",
                f"{self.graph}/{media_id}",
                params={"fields": "permalink"},
                headers=bearer(account.access_token),
            )
        except SocialProviderError:
            return None  # the post exists; its link is a nicety
        permalink = response.json().get("permalink")
        return str(permalink) if permalink else None

    async def publish_status(self, account: AccountCredentials, tracking_id: str) -> PublishResult:
        """The tracking id is the container: once FINISHED it is published from here."""
        code, text = await self._status(account, tracking_id)
        if code == "IN_PROGRESS":
            return PublishResult(PublishState.PROCESSING, tracking_id=tracking_id)
        if code == "FINISHED":
            return await self._publish_container(account, tracking_id)
        if code == "PUBLISHED":
            # Published earlier (a lost answer); find_published names the media.
            return PublishResult(PublishState.PUBLISHED, tracking_id=tracking_id)
        raise rejected(PLATFORM, f"Instagram could not prepare the media: {text}", code or None)

    async def find_published(
        self, account: AccountCredentials, post: PublishRequest, since: datetime
    ) -> PublishResult | None:
        """The account's media since the attempt, every page of them."""
        params = {
            "fields": "id,caption,timestamp,permalink",
            "since": unix(since - timedelta(minutes=1)),
        }
        path = f"{account.platform_user_id}/media"
        async for row in self.rows(path, params, account.access_token):
            if str(row.get("caption", "")).strip() == post.text.strip():
                return PublishResult(PublishState.PUBLISHED, str(row["id"]), row.get("permalink"))
        return None


def _single(item: MediaItem, caption: str) -> dict[str, Any]:
    if item.kind is MediaKind.VIDEO:
        # Single feed videos are published as reels.
        return {"media_type": "REELS", "video_url": item.public_url, "caption": caption}
    return {"image_url": item.public_url, "caption": caption}


def _child(item: MediaItem) -> dict[str, Any]:
    if item.kind is MediaKind.VIDEO:
        return {"media_type": "VIDEO", "video_url": item.public_url, "is_carousel_item": "true"}
    return {"image_url": item.public_url, "is_carousel_item": "true"}
