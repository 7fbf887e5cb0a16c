"""Faults the simulator injects on demand: counters consumed by the next requests, and
actions applied to the WebSockets open right now (the Simulator applies those)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Faults:
    """The next `sign_rate_limits` sign requests get HTTP 429; the next `ws_rejections`
    WebSocket handshakes get HTTP 200 with Handshake-Msg/Handshake-Status (TikTok's refusal)."""

    sign_rate_limits: int = 0
    sign_retry_after: int = 5
    ws_rejections: int = 0
    ws_reject_msg: str = "DEVICE_BLOCKED"
    ws_reject_status: str = "415"

    def take_sign_rate_limit(self) -> int | None:
        """Retry-After seconds if this sign request is to be refused, else None."""
        if self.sign_rate_limits <= 0:
            return None
        self.sign_rate_limits -= 1
        return self.sign_retry_after

    def take_ws_rejection(self) -> tuple[str, str] | None:
        if self.ws_rejections <= 0:
            return None
        self.ws_rejections -= 1
        return self.ws_reject_msg, self.ws_reject_status
