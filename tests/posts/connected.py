"""The real platforms for the queue's tests: the X, LinkedIn and Meta simulators on loopback,
the app connecting accounts to them through each platform's OAuth consent (tokens stored
encrypted, as in production), and what each platform shows on its public read endpoints
(the "exactly once" checks count there, not in any test-only counter)."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from fastapi import FastAPI

from allin.app import create_app
from allin.core.config import Settings
from allin.core.domain import app_state
from allin.publishing import SocialPublishingAccounts
from allin.simulator.social.meta.config import MetaConfig
from allin.simulator.social.serve import RunningSocial, SocialConfigs, run_social_simulators
from allin.simulator.social.x.config import XConfig, XUser
from allin.social.providers.base import AccountCredentials
from allin.social.service import SocialAccountsService
from tests.auth.helpers import SignedIn, signed_in
from tests.support.server import free_port, serve

API = "/api/social"
CALLBACK = "http://127.0.0.1:*/api/social/accounts/{}/callback"
X_USERS = [
    XUser("2244994945", "allin_creator", "AllIN Creator"),
    XUser("1580000000000000002", "second_creator", "Second Creator"),
]
LINKEDIN_READ = "r_member_social"


def _configs() -> SocialConfigs:
    configs = SocialConfigs()
    configs.x = XConfig(clock=configs.x.clock, users=list(X_USERS))
    # Meta's platform limit is 200 calls an hour per app user; a creator tool with a few
    # hundred users has that many times more.
    configs.meta = MetaConfig(clock=configs.meta.clock, app_calls_per_hour=20_000)
    configs.x.redirect_uris.append(CALLBACK.format("x"))
    configs.linkedin.redirect_uris.append(CALLBACK.format("linkedin"))
    configs.meta.redirect_uris.extend([CALLBACK.format("facebook"), CALLBACK.format("instagram")])
    configs.meta.fetch_urls = False
    return configs


@dataclass
class Connected:
    socials: RunningSocial
    app: FastAPI
    client: httpx.AsyncClient
    owner: SignedIn
    values: dict[str, Any]  # the app's settings, as plain values (for publishing processes)

    @property
    def owner_id(self) -> uuid.UUID:
        return self.owner.user_id

    def sim(self, name: str) -> Any:
        return self.socials.apps[name].state.sim

    def service(self) -> SocialAccountsService:
        return app_state(self.app).get(SocialAccountsService)

    def accounts(self) -> SocialPublishingAccounts:
        return SocialPublishingAccounts(self.service)

    async def connect(self, platform: str, as_user: str | None = None) -> list[dict[str, Any]]:
        """Our connect route, the platform's consent page (as `as_user`), our callback."""
        started = await self.client.get(
            f"{API}/accounts/{platform}/connect", headers=self.owner.headers
        )
        assert started.status_code == 200, started.text
        url = started.json()["data"]["authorization_url"]
        if as_user is not None:
            url += f"&sim_user={as_user}"
        async with httpx.AsyncClient() as browser:
            consent = await browser.get(url)
        assert consent.status_code in (302, 303), consent.text
        query = urlsplit(consent.headers["location"]).query
        response = await self.client.get(f"{API}/accounts/{platform}/callback?{query}")
        assert response.status_code == 200, response.text
        accounts: list[dict[str, Any]] = response.json()["data"]
        return accounts

    async def credentials(self, account_id: str | uuid.UUID) -> AccountCredentials:
        found, _ = await self.service().credentials(uuid.UUID(str(account_id)))
        return found

    # --- what each platform shows ---

    async def x_timeline(self, account_id: str | uuid.UUID) -> list[dict[str, Any]]:
        """GET /2/users/:id/tweets, every page."""
        creds = await self.credentials(account_id)
        url = f"{self.socials.urls['x']}/2/users/{creds.platform_user_id}/tweets"
        headers = {"Authorization": f"Bearer {creds.access_token}"}
        params = {"max_results": "100"}
        found: list[dict[str, Any]] = []
        async with httpx.AsyncClient() as http:
            while True:
                body = (await http.get(url, params=params, headers=headers)).json()
                found += body.get("data") or []
                token = body["meta"].get("next_token")
                if not token:
                    return found
                params["pagination_token"] = token

    async def linkedin_posts(self, account_id: str | uuid.UUID) -> list[dict[str, Any]]:
        """GET /rest/posts?q=author, every page, with a token that may read member posts
        (the app itself only asks for w_member_social)."""
        creds = await self.credentials(account_id)
        token = await self._linkedin_reader()
        base = self.socials.urls["linkedin"]
        headers = {
            "Authorization": f"Bearer {token}",
            "LinkedIn-Version": self.values.get("linkedin_version", "202610"),
            "X-Restli-Protocol-Version": "2.0.0",
        }
        author = str(creds.extra.get("urn") or f"urn:li:person:{creds.platform_user_id}")
        params: dict[str, str] = {"author": author, "q": "author", "count": "100", "start": "0"}
        found: list[dict[str, Any]] = []
        async with httpx.AsyncClient() as http:
            while True:
                body = (await http.get(f"{base}/rest/posts", params=params, headers=headers)).json()
                found += body["elements"]
                if not body["paging"]["links"]:
                    return found
                params["start"] = str(int(params["start"]) + 100)

    async def _linkedin_reader(self) -> str:
        sim = self.sim("linkedin")
        state = "reader"
        redirect = f"{self.values['public_url']}/api/social/accounts/linkedin/callback"
        params = {
            "response_type": "code",
            "client_id": sim.config.client_id,
            "redirect_uri": redirect,
            "state": state,
            "scope": f"openid profile w_member_social {LINKEDIN_READ}",
        }
        base = self.socials.urls["linkedin"]
        async with httpx.AsyncClient() as http:
            consent = await http.get(f"{base}/oauth/v2/authorization", params=params)
            code = parse_qs(urlsplit(consent.headers["location"]).query)["code"][0]
            token = await http.post(
                f"{base}/oauth/v2/accessToken",
                data={
                    "grant_type": "authorization_code",
                    "code": code,
                    "redirect_uri": redirect,
                    "client_id": sim.config.client_id,
                    "client_secret": sim.config.client_secret,
                },
            )
        return str(token.json()["access_token"])

    async def facebook_feed(self, account_id: str | uuid.UUID) -> list[dict[str, Any]]:
        """GET /{page-id}/feed, every page, with the Page's token."""
        return await self._graph_edge(account_id, "feed", "id,message")

    async def instagram_media(self, account_id: str | uuid.UUID) -> list[dict[str, Any]]:
        """GET /{ig-user-id}/media, every page, as the account."""
        return await self._graph_edge(account_id, "media", "id,caption")

    async def _graph_edge(
        self, account_id: str | uuid.UUID, edge: str, fields: str
    ) -> list[dict[str, Any]]:
        """Every item of a Graph API edge of the account's node, following the cursors."""
        creds = await self.credentials(account_id)
        url = f"{self.socials.urls['meta']}/v25.0/{creds.platform_user_id}/{edge}"
        params = {"fields": fields, "limit": "100"}
        headers = {"Authorization": f"Bearer {creds.access_token}"}
        found: list[dict[str, Any]] = []
        async with httpx.AsyncClient() as http:
            while True:
                body = (await http.get(url, params=params, headers=headers)).json()
                found += body["data"]
                if not body.get("paging", {}).get("next"):
                    return found
                params["after"] = body["paging"]["cursors"]["after"]

    async def shown(self, platform: str, account_id: str | uuid.UUID) -> dict[str, str]:
        """What the platform shows for the account: post id -> text."""
        if platform == "instagram":
            return {m["id"]: m.get("caption", "") for m in await self.instagram_media(account_id)}
        if platform == "x":
            return {t["id"]: t["text"] for t in await self.x_timeline(account_id)}
        if platform == "linkedin":
            return {p["id"]: p["commentary"] for p in await self.linkedin_posts(account_id)}
        return {p["id"]: p.get("message", "") for p in await self.facebook_feed(account_id)}


def square_jpeg(directory: Path) -> bytes:
    """A 1080x1080 JPEG drawn by ffmpeg (a real image for ffprobe and the platforms)."""
    path = directory / "square.jpg"
    subprocess.run(
        [
            "ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=1080x1080",
            "-frames:v", "1", str(path),
        ],
        check=True,
        timeout=60,
    )  # fmt: skip
    return path.read_bytes()


@asynccontextmanager
async def connected(base: dict[str, Any], **overrides: Any) -> AsyncIterator[Connected]:
    """The simulators, then the app configured for them, serving on a fixed port (the
    platforms redirect back to it), with one signed-in owner."""
    port = free_port()
    async with run_social_simulators(
        ports={"x": 0, "linkedin": 0, "meta": 0}, configs=_configs(), handle_signals=False
    ) as socials:
        x, linkedin, meta = (socials.apps[n].state.sim.config for n in ("x", "linkedin", "meta"))
        values: dict[str, Any] = {
            **base,
            "public_url": f"http://127.0.0.1:{port}",
            "posts_dispatcher": False,
            "social_timeout": 2.0,
            "x_client_id": x.client_id,
            "x_client_secret": x.client_secret,
            "x_api_url": socials.urls["x"],
            "x_auth_url": socials.urls["x"],
            "linkedin_client_id": linkedin.client_id,
            "linkedin_client_secret": linkedin.client_secret,
            "linkedin_api_url": socials.urls["linkedin"],
            "linkedin_auth_url": socials.urls["linkedin"],
            "meta_app_id": meta.app_id,
            "meta_app_secret": meta.app_secret,
            "meta_graph_url": socials.urls["meta"],
            "meta_graph_video_url": socials.urls["meta"],
            "meta_auth_url": socials.urls["meta"],
            **overrides,
        }
        settings = Settings(_env_file=None, **values)  # type: ignore[call-arg]
        app = create_app(settings)
        async with serve(app, port) as url, httpx.AsyncClient(base_url=url) as client:
            owner = await signed_in(client, app)
            yield Connected(socials, app, client, owner, values)
