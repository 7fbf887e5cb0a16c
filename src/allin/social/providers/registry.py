"""The providers by platform, built from `Settings` (app credentials, hosts, timeouts).

Every platform is listed whether or not its app is configured: `provider.config.configured`
says whether it can be connected, so the product can show what is missing instead of hiding
the platform. Instagram rides on the Meta app and Facebook Login, like Facebook Pages.
"""

from __future__ import annotations

from allin.core.config import Settings
from allin.social.providers.base import Platform, ProviderConfig, SocialProvider
from allin.social.providers.facebook import FacebookProvider
from allin.social.providers.instagram import InstagramProvider
from allin.social.providers.linkedin import LinkedInProvider
from allin.social.providers.x import XProvider

CALLBACK_PATH = "/api/integrations/{name}/callback"


def public_base_url(settings: Settings) -> str:
    return (settings.public_url or f"http://{settings.host}:{settings.port}").rstrip("/")


def redirect_uri(settings: Settings, name: str, configured: str) -> str:
    """The configured callback, else the integration route under the public URL (the
    platforms match it exactly against the app's registered callbacks)."""
    return configured or public_base_url(settings) + CALLBACK_PATH.format(name=name)


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


def meta_config(settings: Settings) -> ProviderConfig:
    return ProviderConfig(
        client_id=settings.meta_app_id or None,
        client_secret=_secret(settings.meta_app_secret),
        redirect_uri=redirect_uri(settings, "meta", settings.meta_redirect_uri),
        api_base_url=settings.meta_graph_url,
        auth_base_url=settings.meta_auth_url,
        scopes=meta_scopes(),
        extra={"version": settings.meta_graph_version, "video_url": settings.meta_graph_video_url},
    )


def build_providers(settings: Settings) -> dict[Platform, SocialProvider]:
    """One provider per platform (each with its own HTTP client and circuit breaker); the
    caller owns them and calls `aclose` on shutdown."""
    timeout = settings.social_timeout
    processing = settings.social_processing_timeout
    upload = settings.social_upload_timeout
    meta = meta_config(settings)
    return {
        Platform.X: XProvider(
            x_config(settings),
            timeout=timeout,
            processing_timeout=processing,
            upload_timeout=upload,
        ),
        Platform.LINKEDIN: LinkedInProvider(
            linkedin_config(settings),
            timeout=timeout,
            processing_timeout=processing,
            upload_timeout=upload,
        ),
        Platform.FACEBOOK: FacebookProvider(
            meta, timeout=timeout, processing_timeout=processing, upload_timeout=upload
        ),
        Platform.INSTAGRAM: InstagramProvider(
            meta, timeout=timeout, processing_timeout=processing, upload_timeout=upload
        ),
    }


async def close_providers(providers: dict[Platform, SocialProvider]) -> None:
    for provider in providers.values():
        await provider.aclose()
