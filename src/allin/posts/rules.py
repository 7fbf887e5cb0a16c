"""Which content rules a post is checked against: those of the platform's registered provider,
as the accounts port reports them (the operator's caps already applied). A platform no provider
serves here has no rules, and nothing can be composed for it."""

from __future__ import annotations

from allin.social.errors import PlatformUnavailableError
from allin.social.providers.base import ContentRules, Platform


def rules_for(platform: Platform, provided: ContentRules | None) -> ContentRules:
    """`provided` (the port's answer for `platform`), or PlatformUnavailable when there is none."""
    if provided is None:
        raise PlatformUnavailableError(details={"platform": platform.value})
    return provided
