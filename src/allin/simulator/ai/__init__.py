"""Simulators of the OpenAI Chat Completions and Anthropic Messages APIs, speaking their
documented wire formats with deterministic, locally generated (and labelled) text.

`app.state.sim` is the `SimState` a test steers (scenarios, delays, the request log)."""

from allin.simulator.ai.anthropic_app import create_anthropic_simulator
from allin.simulator.ai.openai_app import create_openai_simulator
from allin.simulator.ai.state import Scenario, SimState

__all__ = ["Scenario", "SimState", "create_anthropic_simulator", "create_openai_simulator"]
