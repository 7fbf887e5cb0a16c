"""A faithful simulator of TikTok's Open API as documented: run it, point the client at it."""

from allin.simulator.open_api.app import create_open_api_simulator
from allin.simulator.open_api.config import CLASSIC, PROFILE_2026, SimulatorConfig, TokenProfile
from allin.simulator.open_api.state import World

__all__ = [
    "CLASSIC",
    "PROFILE_2026",
    "SimulatorConfig",
    "TokenProfile",
    "World",
    "create_open_api_simulator",
]
