"""LIVE capture: event sources (`sources`), the capture manager (`manager`) and this process
as a capture node (`nodes`: heartbeat and adoption)."""

from allin.live.capture.manager import (
    AlreadyCapturingError,
    CaptureConfig,
    CaptureLimitError,
    CaptureManager,
)
from allin.live.capture.nodes import CaptureNode, NodeIdentity
from allin.live.capture.sources import (
    GONE_CODES,
    ClientSource,
    ClientSources,
    EventSource,
    OpenedStream,
    SourceFactory,
    StreamerNotFoundError,
    StreamerOfflineError,
    StreamerProfile,
    end_reason,
    is_gone,
    profile_from_room,
)

__all__ = [
    "GONE_CODES",
    "AlreadyCapturingError",
    "CaptureConfig",
    "CaptureLimitError",
    "CaptureManager",
    "CaptureNode",
    "ClientSource",
    "ClientSources",
    "EventSource",
    "NodeIdentity",
    "OpenedStream",
    "SourceFactory",
    "StreamerNotFoundError",
    "StreamerOfflineError",
    "StreamerProfile",
    "end_reason",
    "is_gone",
    "profile_from_room",
]
