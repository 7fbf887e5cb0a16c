"""Each platform's app credentials and hosts, read from `Settings`: the social domain's
registry builds the providers from these. Instagram rides on the Meta app and Facebook
Login, like Facebook Pages. A configured redirect URI wins over this server's callback."""

from __future__ import annotations

from allin.core.config import Settings
from allin.social.providers.base import ProviderConfig
from allin.social.providers.facebook import FacebookProvider
from allin.social.providers.instagram import InstagramProvider


def redirect_uri(settings: Settings, name: str, configured: str) -> str:
    return configured or settings.social_redirect_uri(name)


def _secret(value: object) -> str | None:
    reveal = getattr(value, "get_secret_value", None)
    return str(reveal()) if reveal is not None else None


def x_config(settings: Settings) -> ProviderConfig:
    return ProviderConfig(
        client_id=settings.x_client_id or None,
        client_secret=_secret(settings.x_client_secret),
        redirect_uri=redirect_uri(settings, "x", settings.x_redirect_uri),
        api_base_url=settings.x_api_url,
        auth_base_url=settings.x_auth_url,
    )


def linkedin_config(settings: Settings) -> ProviderConfig:
    return ProviderConfig(
        client_id=settings.linkedin_client_id or None,
        client_secret=_secret(settings.linkedin_client_secret),
        redirect_uri=redirect_uri(settings, "linkedin", settings.linkedin_redirect_uri),
        api_base_url=settings.linkedin_api_url,
        auth_base_url=settings.linkedin_auth_url,
        extra={"version": settings.linkedin_version},
    )


def meta_scopes() -> tuple[str, ...]:
    """One Facebook Login for both: Meta's permissions are granted per app and user, so the
    login that connects the Pages also connects the Instagram accounts linked to them."""
    merged = FacebookProvider.default_scopes + InstagramProvider.default_scopes
    return tuple(dict.fromkeys(merged))


def meta_config(settings: Settings, platform: str) -> ProviderConfig:
    """The Meta app, for Facebook Pages or Instagram: one app, a callback for each."""
    return ProviderConfig(
        client_id=settings.meta_app_id or None,
        client_secret=_secret(settings.meta_app_secret),
        redirect_uri=redirect_uri(settings, platform, settings.meta_redirect_uri),
        api_base_url=settings.meta_graph_url,
        auth_base_url=settings.meta_auth_url,
        scopes=meta_scopes(),
        extra={"version": settings.meta_graph_version, "video_url": settings.meta_graph_video_url},
    )
