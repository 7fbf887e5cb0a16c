"""What a test or the demo steers: the accepted key, fault scenarios, delays, and a log of
every request received (headers, body, the SDK's retry count) to assert fallback order."""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

SCENARIO_HEADER = "x-sim-scenario"
MODEL_PREFIX = "sim-"


class Scenario(StrEnum):
    OK = "ok"
    RATE_LIMIT = "rate-limit"  # 429, retry-after: 1
    RATE_LIMIT_LONG = "rate-limit-long"  # 429, retry-after: 3600
    QUOTA = "quota"  # OpenAI 429 insufficient_quota (x-should-retry: false)
    SERVER_ERROR = "server-error"  # 500
    OVERLOADED = "overloaded"  # OpenAI 503 server_is_overloaded / Anthropic 529
    BILLING = "billing"  # Anthropic 402
    TOO_LARGE = "too-large"  # Anthropic 413
    NOT_FOUND = "not-found"  # 404 unknown model
    BAD_REQUEST = "bad-request"  # 400
    SLOW = "slow"  # waits `slow_seconds` before the first byte
    CUT = "cut"  # stream stops after a few deltas, no terminator
    MIDSTREAM_ERROR = "midstream-error"  # an error event after a few deltas
    GARBAGE = "garbage"  # text that is not the requested JSON / undecodable stream data


@dataclass
class LoggedRequest:
    path: str
    headers: dict[str, str]
    body: Any
    scenario: Scenario

    @property
    def retry_count(self) -> int:
        return int(self.headers.get("x-stainless-retry-count", "0") or 0)


@dataclass
class SimState:
    """Shared by every request of one simulator."""

    api_key: str = "sk-sim"  # the simulator's own fake key
    slow_seconds: float = 5.0
    token_delay: float = 0.0  # between stream chunks
    scenario: Scenario = Scenario.OK  # for every request without its own
    queued: deque[Scenario] = field(default_factory=deque)  # used up one per request first
    requests: list[LoggedRequest] = field(default_factory=list)

    def pick(self, headers: dict[str, str], model: str | None) -> Scenario:
        if self.queued:
            return self.queued.popleft()
        named = headers.get(SCENARIO_HEADER)
        if named is None and model and model.startswith(MODEL_PREFIX):
            named = model[len(MODEL_PREFIX) :]
        if named:
            try:
                return Scenario(named)
            except ValueError:
                return Scenario.OK
        return self.scenario

    def then(self, *scenarios: Scenario) -> None:
        self.queued.extend(scenarios)

    def log(self, path: str, headers: dict[str, str], body: Any, scenario: Scenario) -> None:
        self.requests.append(LoggedRequest(path, headers, body, scenario))

    async def pause(self, seconds: float) -> None:
        if seconds > 0:
            await asyncio.sleep(seconds)
