"""Sans-I/O TikTok LIVE webcast protocol: bytes <-> typed events, both directions.

Decoding (never raises on bad bytes; problems become DecodeErrorEvent):
    decode_frame_events(frame_bytes) -> FrameDecodeResult   # WebSocket message -> events + ack
    decode_fetch_result(payload) -> FetchResult             # also the sign server's body
    decode_message(method, payload) -> LiveEvent
Encoding (client frames, and TikTok-shaped server bytes for the simulator):
    encode_heartbeat, encode_enter_room, encode_ack, encode_event, encode_fetch_result,
    encode_push_frame
Gift streaks: StreakCounter, GiftStreakTracker; catalogue: gift_catalog().
"""

from allin.live.protocol.catalog import gift_catalog
from allin.live.protocol.decode import decode_message
from allin.live.protocol.encode import encode_event
from allin.live.protocol.events import (
    EVENT_TYPES,
    BaseEvent,
    CaptionEvent,
    ChatEvent,
    ControlCode,
    ControlEvent,
    DecodeErrorEvent,
    EmoteChatEvent,
    EnvelopeEvent,
    FollowEvent,
    GiftEvent,
    GoalEvent,
    ImDeleteEvent,
    JoinEvent,
    LikeEvent,
    LinkMicBattleEvent,
    LiveEvent,
    PollEvent,
    QuestionEvent,
    RoomPinEvent,
    RoomUserEvent,
    ShareEvent,
    SubscribeEvent,
    UnknownEvent,
)
from allin.live.protocol.frames import (
    EnterRoom,
    FetchResult,
    FrameDecodeResult,
    Heartbeat,
    PushFrame,
    WebcastDecodeError,
    decode_enter_room,
    decode_fetch_result,
    decode_frame_events,
    decode_heartbeat,
    decode_push_frame,
    encode_ack,
    encode_enter_room,
    encode_fetch_result,
    encode_heartbeat,
    encode_push_frame,
)
from allin.live.protocol.models import (
    Emote,
    EventUser,
    GiftInfo,
    GoalProgress,
    PollOption,
    TopViewer,
)
from allin.live.protocol.streaks import GiftStreak, GiftStreakTracker, StreakCounter

__all__ = [
    "EVENT_TYPES",
    "BaseEvent",
    "CaptionEvent",
    "ChatEvent",
    "ControlCode",
    "ControlEvent",
    "DecodeErrorEvent",
    "Emote",
    "EmoteChatEvent",
    "EnterRoom",
    "EnvelopeEvent",
    "EventUser",
    "FetchResult",
    "FollowEvent",
    "FrameDecodeResult",
    "GiftEvent",
    "GiftInfo",
    "GiftStreak",
    "GiftStreakTracker",
    "GoalEvent",
    "GoalProgress",
    "Heartbeat",
    "ImDeleteEvent",
    "JoinEvent",
    "LikeEvent",
    "LinkMicBattleEvent",
    "LiveEvent",
    "PollEvent",
    "PollOption",
    "PushFrame",
    "QuestionEvent",
    "RoomPinEvent",
    "RoomUserEvent",
    "ShareEvent",
    "StreakCounter",
    "SubscribeEvent",
    "TopViewer",
    "UnknownEvent",
    "WebcastDecodeError",
    "decode_enter_room",
    "decode_fetch_result",
    "decode_frame_events",
    "decode_heartbeat",
    "decode_message",
    "decode_push_frame",
    "encode_ack",
    "encode_enter_room",
    "encode_event",
    "encode_fetch_result",
    "encode_heartbeat",
    "encode_push_frame",
    "gift_catalog",
]
