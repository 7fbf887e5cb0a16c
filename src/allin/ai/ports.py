"""What the AI domain needs from the social domain, as a port: each platform's content rules
(those of the platform's provider), wired by the composition layer."""

from __future__ import annotations

from typing import Protocol

from allin.social.providers.base import ContentRules, Platform


class PlatformRules(Protocol):
    def content_rules(self, platform: Platform) -> ContentRules | None:
        """The platform's rules; None when no provider serves the platform here."""
