"""The model registry: every domain's tables, imported so Alembic's metadata sees them all.
It belongs to the composition layer (it imports every domain); the migration environment
reads it."""

from allin.ai.models import AiAccount, AiCreditPeriod, AiDraft, AiUsage
from allin.auth.models import ApiKey, AppSetting, AuthSession, EmailToken, RefreshToken, User
from allin.db.base import Base
from allin.live import models as live_models  # noqa: F401  # LIVE tables
from allin.posts import models as posts_models  # noqa: F401  # posts and the publishing queue
from allin.sign.models import SignUsage
from allin.social.models import SocialAccount, SocialOAuthAttempt
from allin.tiktok.tables import (
    TikTokAnalyticsSnapshot,
    TikTokOAuthState,
    TikTokPublish,
    TikTokWebhookEvent,
)

metadata = Base.metadata

__all__ = [
    "AiAccount",
    "AiCreditPeriod",
    "AiDraft",
    "AiUsage",
    "ApiKey",
    "AppSetting",
    "AuthSession",
    "EmailToken",
    "RefreshToken",
    "SignUsage",
    "SocialAccount",
    "SocialOAuthAttempt",
    "TikTokAnalyticsSnapshot",
    "TikTokOAuthState",
    "TikTokPublish",
    "TikTokWebhookEvent",
    "User",
    "metadata",
]
