"""The Meta simulator on loopback and a Facebook or Instagram provider pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from allin.simulator.social.common import ManualClock
from allin.simulator.social.meta import MetaConfig, MetaState, create_meta_simulator
from allin.social.providers.base import AccountCredentials, Identity, ProviderConfig, TokenSet
from allin.social.providers.meta import MetaProvider
from tests.social.providers.support import FAST_RETRY, clock_sleep, follow_consent
from tests.support.server import serve

APP_ID, APP_SECRET = "1234567890123456", "sim-meta-app-secret"
REDIRECT = "http://127.0.0.1:5000/api/social/accounts/facebook/callback"
PAGE, IG = "104000000000001", "17841400000000001"


@dataclass
class MetaEnv:
    url: str
    provider: MetaProvider
    state: MetaState
    clock: ManualClock

    def config(self, scopes: tuple[str, ...] = ()) -> ProviderConfig:
        return ProviderConfig(
            APP_ID,
            APP_SECRET,
            REDIRECT,
            self.url,
            self.url,
            scopes,
            {"version": "v25.0", "video_url": self.url},
        )

    async def login(self, provider: MetaProvider | None = None) -> TokenSet:
        provider = provider or self.provider
        callback = await follow_consent(provider.authorization_url("st-meta"))
        assert callback["state"] == "st-meta", callback
        return await provider.exchange_code(callback["code"])

    async def account(
        self, provider: MetaProvider | None = None
    ) -> tuple[Identity, AccountCredentials]:
        token = await self.login(provider)
        [identity] = await self.provider.identities(token)
        assert identity.token is not None
        return identity, AccountCredentials(identity.platform_user_id, identity.token.access_token)


async def running(kind: type[MetaProvider], **overrides: Any) -> AsyncIterator[MetaEnv]:
    clock = ManualClock()
    app = create_meta_simulator(MetaConfig(clock=clock, fetch_urls=False, **overrides))
    async with serve(app) as url:
        env = MetaEnv(url, None, app.state.sim, clock)  # type: ignore[arg-type]
        env.provider = kind(env.config(), retry=FAST_RETRY, sleep=clock_sleep(clock), timeout=1.0)
        yield env
        await env.provider.aclose()
