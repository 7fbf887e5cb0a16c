"""Typed, immutable LIVE events: what one webcast message means, independent of protobuf.

Every event has a stable `type` string, the envelope data (`method`, `msg_id`, `room_id`,
`create_time` in ms), the acting `user` where there is one, and `raw` (the message payload it was
decoded from; not part of equality, repr or to_dict()).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
from typing import ClassVar, TypeAlias

from allin.live.protocol.models import (
    Emote,
    EventUser,
    GiftInfo,
    GoalProgress,
    PollOption,
    Record,
    TopViewer,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class BaseEvent(Record):
    type: ClassVar[str] = ""
    method: str = ""
    msg_id: int = 0
    room_id: int = 0
    create_time: int = 0
    user: EventUser | None = None
    raw: bytes = field(default=b"", repr=False, compare=False)

    _JSON_LEAD: ClassVar[tuple[str, ...]] = ("type",)


@dataclass(frozen=True, slots=True, kw_only=True)
class ChatEvent(BaseEvent):
    """A comment. Emote-only comments have empty `content` and their stickers in `emotes`."""

    type: ClassVar[str] = "chat"
    method: str = "WebcastChatMessage"
    content: str = ""
    content_language: str = ""
    emotes: tuple[Emote, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class GiftEvent(BaseEvent):
    """One gift message. Streakable gifts (type 1) arrive repeatedly with a growing
    `repeat_count` and end with `repeat_end`; use GiftStreakTracker to count them once."""

    type: ClassVar[str] = "gift"
    method: str = "WebcastGiftMessage"
    gift_id: int = 0
    repeat_count: int = 0
    combo_count: int = 0
    group_count: int = 0
    group_id: int = 0
    repeat_end: bool = False
    gift: GiftInfo | None = None
    to_user: EventUser | None = None

    _JSON_EXTRA: ClassVar[tuple[str, ...]] = ("streakable", "streaking", "diamonds")

    @property
    def streakable(self) -> bool:
        return self.gift is not None and self.gift.type == 1

    @property
    def streaking(self) -> bool:
        """True while a streak is still open (more events for this group_id will follow)."""
        return self.streakable and not self.repeat_end

    @property
    def diamond_count(self) -> int:
        return self.gift.diamond_count if self.gift is not None else 0

    @property
    def diamonds(self) -> int:
        """diamond_count * repeat_count: the streak's value so far (final once not streaking)."""
        return self.diamond_count * self.repeat_count


@dataclass(frozen=True, slots=True, kw_only=True)
class LikeEvent(BaseEvent):
    type: ClassVar[str] = "like"
    method: str = "WebcastLikeMessage"
    count: int = 0
    total: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class JoinEvent(BaseEvent):
    """A WebcastMemberMessage; `action` 1 = joined."""

    type: ClassVar[str] = "join"
    method: str = "WebcastMemberMessage"
    member_count: int = 0
    action: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class FollowEvent(BaseEvent):
    type: ClassVar[str] = "follow"
    method: str = "WebcastSocialMessage"
    follow_count: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class ShareEvent(BaseEvent):
    """`users_joined` is N from TikTok's `pm_mt_guidance_viewer_{N}_share` key, if present."""

    type: ClassVar[str] = "share"
    method: str = "WebcastSocialMessage"
    share_count: int = 0
    share_type: int = 0
    share_target: str = ""
    users_joined: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RoomUserEvent(BaseEvent):
    """Viewer statistics: current `viewer_count`, cumulative `total_viewers`, top viewers."""

    type: ClassVar[str] = "room_user"
    method: str = "WebcastRoomUserSeqMessage"
    viewer_count: int = 0
    total_viewers: int = 0
    top_viewers: tuple[TopViewer, ...] = ()


class ControlCode(IntEnum):
    """TikTok's ControlAction values."""

    UNKNOWN = 0
    PAUSED = 1
    RESUMED = 2
    ENDED = 3
    SUSPENDED = 4


_CONTROL_ACTIONS = {1: "paused", 2: "resumed", 3: "ended", 4: "ended"}
_CONTROL_REASONS = {3: "ended_by_host", 4: "suspended"}


@dataclass(frozen=True, slots=True, kw_only=True)
class ControlEvent(BaseEvent):
    """Stream state change. `code` is TikTok's value; `action` is paused/resumed/ended/unknown
    and `reason` tells a host's end (ended_by_host) from a moderation stop (suspended)."""

    type: ClassVar[str] = "control"
    method: str = "WebcastControlMessage"
    code: int = 0
    tips: str = ""

    _JSON_EXTRA: ClassVar[tuple[str, ...]] = ("action", "reason")

    @property
    def action(self) -> str:
        return _CONTROL_ACTIONS.get(self.code, "unknown")

    @property
    def reason(self) -> str:
        return _CONTROL_REASONS.get(self.code, "")


@dataclass(frozen=True, slots=True, kw_only=True)
class SubscribeEvent(BaseEvent):
    type: ClassVar[str] = "subscribe"
    method: str = "WebcastSubNotifyMessage"
    sub_month: int = 0
    subscribe_type: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class QuestionEvent(BaseEvent):
    type: ClassVar[str] = "question"
    method: str = "WebcastQuestionNewMessage"
    question_id: int = 0
    content: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class EmoteChatEvent(BaseEvent):
    type: ClassVar[str] = "emote_chat"
    method: str = "WebcastEmoteChatMessage"
    emotes: tuple[Emote, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class EnvelopeEvent(BaseEvent):
    """A treasure box; business_type 19 is a super-fan box. The sender is given by id and name
    only, so `user` stays None."""

    type: ClassVar[str] = "envelope"
    method: str = "WebcastEnvelopeMessage"
    envelope_id: str = ""
    business_type: int = 0
    sender_user_id: str = ""
    sender_name: str = ""
    diamond_count: int = 0
    people_count: int = 0
    unpack_at: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class LinkMicBattleEvent(BaseEvent):
    type: ClassVar[str] = "battle"
    method: str = "WebcastLinkMicBattle"
    battle_id: int = 0
    action: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class PollEvent(BaseEvent):
    """`phase` is start/update/end (which content TikTok sent) or unknown; `user` is the
    operator who started or ended the poll; title and times come with the start only."""

    type: ClassVar[str] = "poll"
    method: str = "WebcastPollMessage"
    poll_id: int = 0
    phase: str = "unknown"
    title: str = ""
    options: tuple[PollOption, ...] = ()
    start_time: int = 0
    end_time: int = 0
    poll_kind: int = 0
    message_type: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class GoalEvent(BaseEvent):
    """LIVE goal progress; `user` is the contributor (id, @handle and avatar only)."""

    type: ClassVar[str] = "goal"
    method: str = "WebcastGoalUpdateMessage"
    goal_id: int = 0
    description: str = ""
    sub_goals: tuple[GoalProgress, ...] = ()
    contribute_count: int = 0
    contribute_score: int = 0
    pin: bool = False
    unpin: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class RoomPinEvent(BaseEvent):
    """The host pinned a message; `pinned` is that message decoded (usually a ChatEvent)."""

    type: ClassVar[str] = "room_pin"
    method: str = "WebcastRoomPinMessage"
    pinned: LiveEvent | None = None
    pinned_method: str = ""
    pin_time: int = 0
    action: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class CaptionEvent(BaseEvent):
    type: ClassVar[str] = "caption"
    method: str = "WebcastCaptionMessage"
    timestamp: int = 0
    language: str = ""
    text: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class ImDeleteEvent(BaseEvent):
    """Moderation removed earlier messages (by message id) or all messages of users."""

    type: ClassVar[str] = "im_delete"
    method: str = "WebcastImDeleteMessage"
    delete_msg_ids: tuple[int, ...] = ()
    delete_user_ids: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class UnknownEvent(BaseEvent):
    """A method we do not model (or a social message that is neither follow nor share);
    the payload is kept whole so nothing is lost."""

    type: ClassVar[str] = "unknown"
    payload: bytes = b""


@dataclass(frozen=True, slots=True, kw_only=True)
class DecodeErrorEvent(BaseEvent):
    """Bytes that could not be decoded; emitted instead of raising."""

    type: ClassVar[str] = "decode_error"
    payload: bytes = b""
    error: str = ""


LiveEvent: TypeAlias = (
    ChatEvent
    | GiftEvent
    | LikeEvent
    | JoinEvent
    | FollowEvent
    | ShareEvent
    | RoomUserEvent
    | ControlEvent
    | SubscribeEvent
    | QuestionEvent
    | EmoteChatEvent
    | EnvelopeEvent
    | LinkMicBattleEvent
    | PollEvent
    | GoalEvent
    | RoomPinEvent
    | CaptionEvent
    | ImDeleteEvent
    | UnknownEvent
    | DecodeErrorEvent
)

EVENT_TYPES: tuple[type[BaseEvent], ...] = (
    ChatEvent,
    GiftEvent,
    LikeEvent,
    JoinEvent,
    FollowEvent,
    ShareEvent,
    RoomUserEvent,
    ControlEvent,
    SubscribeEvent,
    QuestionEvent,
    EmoteChatEvent,
    EnvelopeEvent,
    LinkMicBattleEvent,
    PollEvent,
    GoalEvent,
    RoomPinEvent,
    CaptionEvent,
    ImDeleteEvent,
    UnknownEvent,
    DecodeErrorEvent,
)
