"""A faithful simulator of LinkedIn's OAuth 2.0, OpenID userinfo and the versioned REST Posts,
Images and Videos APIs."""

from allin.simulator.social.linkedin.app import create_linkedin_simulator
from allin.simulator.social.linkedin.config import LinkedInConfig, Member, Organization
from allin.simulator.social.linkedin.state import LinkedInState

__all__ = [
    "LinkedInConfig",
    "LinkedInState",
    "Member",
    "Organization",
    "create_linkedin_simulator",
]
