"""Which platforms this server can talk to: one `ProviderConfig` per platform (from settings)
and one provider factory per platform, registered by whoever composes the app. A platform with a
factory but no credentials is "not configured"; one without a factory is "not available".

Each factory carries its provider's `ContentRules`: the one statement of what a platform
accepts, read by compose-time validation, the publisher and the AI writer alike, with or without
credentials."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from functools import partial

from allin.core.config import Settings
from allin.social.errors import PlatformNotConfiguredError, PlatformUnavailableError
from allin.social.providers import linkedin, x
from allin.social.providers import registry as builtin
from allin.social.providers.base import ContentRules, Platform, ProviderConfig, SocialProvider
from allin.social.providers.facebook import FacebookProvider
from allin.social.providers.instagram import InstagramProvider
from allin.social.providers.linkedin import LinkedInProvider
from allin.social.providers.x import XProvider


@dataclass(frozen=True, slots=True)
class ProviderFactory:
    """Builds a platform's provider from its config; `rules` are that provider's content rules,
    known before any credentials are (a post can be checked for a platform not connected yet)."""

    rules: ContentRules
    build: Callable[[ProviderConfig], SocialProvider]

    def __call__(self, config: ProviderConfig) -> SocialProvider:
        return self.build(config)


def provider_configs(settings: Settings) -> dict[Platform, ProviderConfig]:
    """Every platform's credentials, hosts and redirect URI, from the one config object. The
    redirect URI is this server's callback for the platform unless one is configured."""
    s = settings
    tiktok_secret = s.tiktok_client_secret.get_secret_value() if s.tiktok_client_secret else None
    return {
        Platform.TIKTOK: ProviderConfig(
            client_id=s.tiktok_client_key or None,
            client_secret=tiktok_secret,
            redirect_uri=builtin.redirect_uri(s, Platform.TIKTOK, s.tiktok_redirect_uri),
            api_base_url=s.tiktok_api_url,
            auth_base_url=s.tiktok_auth_url,
            scopes=tuple(s.tiktok_scopes),
        ),
        Platform.X: replace(builtin.x_config(s), scopes=x.DEFAULT_SCOPES),
        Platform.LINKEDIN: replace(builtin.linkedin_config(s), scopes=linkedin.DEFAULT_SCOPES),
        # One Meta app and one Facebook Login for both; each platform has its own callback.
        Platform.FACEBOOK: builtin.meta_config(s, Platform.FACEBOOK),
        Platform.INSTAGRAM: builtin.meta_config(s, Platform.INSTAGRAM),
    }


def builtin_factories(settings: Settings) -> dict[Platform, ProviderFactory]:
    """The providers that live in this domain (X, LinkedIn, Facebook Pages, Instagram)."""
    timeouts = {
        "timeout": settings.social_timeout,
        "processing_timeout": settings.social_processing_timeout,
        "upload_timeout": settings.social_upload_timeout,
    }
    classes: dict[Platform, type[SocialProvider]] = {
        Platform.X: XProvider,
        Platform.LINKEDIN: LinkedInProvider,
        Platform.FACEBOOK: FacebookProvider,
        Platform.INSTAGRAM: InstagramProvider,
    }
    return {
        platform: ProviderFactory(_rules(settings, cls), partial(_build, cls, timeouts))
        for platform, cls in classes.items()
    }


def _rules(settings: Settings, cls: type[SocialProvider]) -> ContentRules:
    """The provider's rules, with the operator's Instagram caps: Instagram announced a lower
    hashtag cap than its API documents, so the operator decides which one holds."""
    if cls.platform is not Platform.INSTAGRAM:
        return cls.rules
    return replace(
        cls.rules,
        max_hashtags=settings.posts_instagram_max_hashtags,
        max_mentions=settings.posts_instagram_max_mentions,
    )


def _build(
    cls: Callable[..., SocialProvider], timeouts: Mapping[str, float], config: ProviderConfig
) -> SocialProvider:
    return cls(config, **timeouts)


class ProviderRegistry:
    """Providers are built on first use and closed with the registry."""

    def __init__(
        self,
        configs: Mapping[Platform, ProviderConfig],
        factories: Mapping[Platform, ProviderFactory] | None = None,
    ) -> None:
        self.configs = dict(configs)
        self._factories: dict[Platform, ProviderFactory] = dict(factories or {})
        self._providers: dict[Platform, SocialProvider] = {}

    @classmethod
    def from_settings(
        cls, settings: Settings, extra: Mapping[Platform, ProviderFactory] | None = None
    ) -> ProviderRegistry:
        """This domain's providers plus those registered by the composer (TikTok's)."""
        return cls(provider_configs(settings), {**builtin_factories(settings), **(extra or {})})

    def register(self, platform: Platform, factory: ProviderFactory) -> None:
        self._factories[platform] = factory
        self._providers.pop(platform, None)

    def __iter__(self) -> Iterator[Platform]:
        return iter(Platform)

    def available(self, platform: Platform) -> bool:
        return platform in self._factories

    def configured(self, platform: Platform) -> bool:
        config = self.configs.get(platform)
        return self.available(platform) and config is not None and config.configured

    def rules(self, platform: Platform) -> ContentRules:
        """What the platform accepts in one post (no credentials needed); PlatformUnavailable
        when no provider is registered for it."""
        factory = self._factories.get(platform)
        if factory is None:
            raise PlatformUnavailableError(details={"platform": platform.value})
        return factory.rules

    def built(self, platform: Platform) -> SocialProvider | None:
        """The provider if it was used already (health reports must not build one)."""
        return self._providers.get(platform)

    def get(self, platform: Platform) -> SocialProvider:
        """The platform's provider; PlatformUnavailable / PlatformNotConfigured otherwise."""
        provider = self._providers.get(platform)
        if provider is not None:
            return provider
        factory = self._factories.get(platform)
        if factory is None:
            raise PlatformUnavailableError(details={"platform": platform.value})
        if not self.configured(platform):
            raise PlatformNotConfiguredError(details={"platform": platform.value})
        provider = factory(self.configs[platform])
        self._providers[platform] = provider
        return provider

    async def aclose(self) -> None:
        providers, self._providers = list(self._providers.values()), {}
        for provider in providers:
            await provider.aclose()


def parse_platform(value: str) -> Platform:
    try:
        return Platform(value.lower())
    except ValueError:
        raise PlatformUnavailableError(
            f"Unknown platform {value!r}", details={"platforms": [p.value for p in Platform]}
        ) from None
