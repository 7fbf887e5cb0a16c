"""Providers built from settings, pointed at the simulators, complete a real login."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from allin.core.config import Settings
from allin.simulator.social.serve import run_social_simulators
from allin.social.errors import PlatformUnavailableError
from allin.social.providers.base import Platform, SocialProvider
from allin.social.providers.facebook import FacebookProvider
from allin.social.providers.instagram import InstagramProvider
from allin.social.providers.linkedin import LinkedInProvider
from allin.social.providers.oauth import code_challenge, new_code_verifier
from allin.social.providers.x import XProvider
from allin.social.registry import ProviderRegistry, builtin_factories, provider_configs
from tests.social.providers.support import follow_consent


def build_providers(settings: Settings) -> dict[Platform, SocialProvider]:
    """The platform providers as the social domain's registry builds them."""
    configs = provider_configs(settings)
    return {p: make(configs[p]) for p, make in builtin_factories(settings).items()}


def test_settings_accept_prefixed_and_plain_names(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("X_CLIENT_ID", "plain-x")
    monkeypatch.setenv("ALLIN_LINKEDIN_CLIENT_SECRET", "li-secret")
    monkeypatch.setenv("META_APP_ID", "1234")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.x_client_id == "plain-x" and settings.meta_app_id == "1234"
    assert settings.linkedin_client_secret is not None
    assert settings.linkedin_client_secret.get_secret_value() == "li-secret"


async def test_build_providers_and_log_in_through_each_simulator() -> None:
    async with run_social_simulators(
        ports={"x": 0, "linkedin": 0, "meta": 0}, handle_signals=False
    ) as sims:
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            x_client_id="sim-x-client-id",
            x_client_secret=SecretStr("sim-x-client-secret"),
            x_api_url=sims.urls["x"],
            x_auth_url=sims.urls["x"],
            linkedin_client_id="sim-linkedin-client-id",
            linkedin_client_secret=SecretStr("sim-linkedin-client-secret-for-tests"),
            linkedin_api_url=sims.urls["linkedin"],
            linkedin_auth_url=sims.urls["linkedin"],
            meta_app_id="1234567890123456",
            meta_app_secret=SecretStr("sim-meta-app-secret"),
            meta_graph_url=sims.urls["meta"],
            meta_graph_video_url=sims.urls["meta"],
            meta_auth_url=sims.urls["meta"],
            # no redirect URIs: this server's own callbacks, which the simulators accept
        )
        providers = build_providers(settings)
        try:
            assert {type(p) for p in providers.values()} == {
                XProvider,
                LinkedInProvider,
                FacebookProvider,
                InstagramProvider,
            }
            assert all(p.config.configured for p in providers.values())
            for platform, provider in providers.items():
                assert provider.config.redirect_uri == (
                    f"http://127.0.0.1:8000/api/social/accounts/{platform.value}/callback"
                )
            for platform, provider in providers.items():
                verifier = new_code_verifier()
                challenge = code_challenge(verifier) if provider.uses_pkce else None
                callback = await follow_consent(provider.authorization_url("s", challenge))
                token = await provider.exchange_code(
                    callback["code"], verifier if provider.uses_pkce else None
                )
                identities = await provider.identities(token)
                assert identities, platform
        finally:
            for provider in providers.values():
                await provider.aclose()


def test_unconfigured_platforms_are_listed_but_not_configured() -> None:
    providers = build_providers(Settings(_env_file=None))  # type: ignore[call-arg]
    assert set(providers) == {Platform.X, Platform.LINKEDIN, Platform.FACEBOOK, Platform.INSTAGRAM}
    assert not any(p.config.configured for p in providers.values())
    assert providers[Platform.X].config.api_base_url == "https://api.x.com"
    assert providers[Platform.X].config.redirect_uri == (
        "http://127.0.0.1:8000/api/social/accounts/x/callback"
    )


def test_rules_are_known_without_credentials_for_registered_platforms_only() -> None:
    settings = Settings(_env_file=None, posts_instagram_max_hashtags=5)  # type: ignore[call-arg]
    registry = ProviderRegistry.from_settings(settings)
    assert not registry.configured(Platform.X)
    assert registry.rules(Platform.X) is XProvider.rules
    assert registry.rules(Platform.LINKEDIN) is LinkedInProvider.rules
    instagram = registry.rules(Platform.INSTAGRAM)
    assert (instagram.max_hashtags, instagram.text_limit) == (5, InstagramProvider.rules.text_limit)
    with pytest.raises(PlatformUnavailableError):
        registry.rules(Platform.TIKTOK)  # registered by the composer, not here
