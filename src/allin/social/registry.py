"""Which platforms this server can talk to: one `ProviderConfig` per platform (from settings)
and one provider factory per platform, registered by whoever composes the app. A platform with a
factory but no credentials is "not configured"; one without a factory is "not available"."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

from allin.core.config import Settings
from allin.social.errors import PlatformNotConfiguredError, PlatformUnavailableError
from allin.social.providers.base import Platform, ProviderConfig, SocialProvider

ProviderFactory = Callable[[ProviderConfig], SocialProvider]


def _secret(value: object) -> str | None:
    getter = getattr(value, "get_secret_value", None)
    return str(getter()) if getter is not None else None


def provider_configs(settings: Settings) -> dict[Platform, ProviderConfig]:
    """Every platform's credentials, hosts and redirect URI, from the one config object."""
    s = settings
    graph_version = s.meta_graph_version
    facebook_secret = _secret(s.facebook_client_secret)
    return {
        Platform.TIKTOK: ProviderConfig(
            client_id=s.tiktok_client_key or None,
            client_secret=_secret(s.tiktok_client_secret),
            redirect_uri=s.tiktok_redirect_uri or s.social_redirect_uri("tiktok"),
            api_base_url=s.tiktok_api_url,
            auth_base_url=s.tiktok_auth_url,
            scopes=tuple(s.tiktok_scopes),
        ),
        Platform.X: ProviderConfig(
            client_id=s.x_client_id or None,
            client_secret=_secret(s.x_client_secret),
            redirect_uri=s.social_redirect_uri("x"),
            api_base_url=s.x_api_url,
            auth_base_url=s.x_auth_url,
            scopes=tuple(s.x_scopes),
        ),
        Platform.LINKEDIN: ProviderConfig(
            client_id=s.linkedin_client_id or None,
            client_secret=_secret(s.linkedin_client_secret),
            redirect_uri=s.social_redirect_uri("linkedin"),
            api_base_url=s.linkedin_api_url,
            auth_base_url=s.linkedin_auth_url,
            scopes=tuple(s.linkedin_scopes),
            extra={"linkedin_version": s.linkedin_version},
        ),
        Platform.FACEBOOK: ProviderConfig(
            client_id=s.facebook_client_id or None,
            client_secret=facebook_secret,
            redirect_uri=s.social_redirect_uri("facebook"),
            api_base_url=s.facebook_api_url,
            auth_base_url=s.facebook_auth_url,
            scopes=tuple(s.facebook_scopes),
            extra={"graph_version": graph_version},
        ),
        Platform.INSTAGRAM: ProviderConfig(
            client_id=s.instagram_client_id or s.facebook_client_id or None,
            client_secret=_secret(s.instagram_client_secret) or facebook_secret,
            redirect_uri=s.social_redirect_uri("instagram"),
            api_base_url=s.instagram_api_url or s.facebook_api_url,
            auth_base_url=s.instagram_auth_url or s.facebook_auth_url,
            scopes=tuple(s.instagram_scopes),
            extra={"graph_version": graph_version},
        ),
    }


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
