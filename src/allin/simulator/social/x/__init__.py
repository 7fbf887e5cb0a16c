"""A faithful simulator of X API v2 and its OAuth 2.0 endpoints: run it, point a client at it."""

from allin.simulator.social.x.app import create_x_simulator
from allin.simulator.social.x.config import XConfig, XUser
from allin.simulator.social.x.state import XState

__all__ = ["XConfig", "XState", "XUser", "create_x_simulator"]
