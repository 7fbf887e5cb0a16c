"""A faithful simulator of the Meta Graph API for Facebook Login, Facebook Page publishing and
Instagram content publishing (one host, one app)."""

from allin.simulator.social.meta.app import create_meta_simulator
from allin.simulator.social.meta.config import (
    FacebookUser,
    InstagramAccount,
    MetaConfig,
    Page,
)
from allin.simulator.social.meta.state import MetaState

__all__ = [
    "FacebookUser",
    "InstagramAccount",
    "MetaConfig",
    "MetaState",
    "Page",
    "create_meta_simulator",
]
