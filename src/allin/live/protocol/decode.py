"""Webcast message payload -> typed event. Pure; never raises (bad bytes -> DecodeErrorEvent).

One small function per method, parsing with the upb-backed generated classes and reading fields
directly: no reflection on the hot path.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from allin.live.protocol import webcast_pb2 as pb
from allin.live.protocol.events import (
    CaptionEvent,
    ChatEvent,
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
from allin.live.protocol.models import (
    Emote,
    EventUser,
    GiftInfo,
    GoalProgress,
    PollOption,
    TopViewer,
)

_SHARE_VIEWERS = re.compile(r"_viewer_(\d{1,9})_share")
SOCIAL_ACTION_FOLLOW = 1
SOCIAL_ACTION_SHARE = 3


def _user(m: pb.User) -> EventUser:
    urls = m.avatar_thumb.url_list
    user_id = m.id
    id_str = m.id_str
    if not user_id and 0 < len(id_str) <= 19 and id_str.isascii() and id_str.isdigit():
        user_id = int(id_str)
    return EventUser(
        user_id=user_id,
        unique_id=m.display_id,
        nickname=m.nickname,
        avatar_url=urls[0] if urls else "",
        sec_uid=m.sec_uid,
    )


def _first_url(image: pb.ImageModel) -> str:
    urls = image.url_list
    return urls[0] if urls else ""


def _emote(m: pb.Emote, index: int = 0) -> Emote:
    return Emote(emote_id=m.emote_id, image_url=_first_url(m.image), index=index)


def _gift_info(m: pb.GiftStruct) -> GiftInfo:
    return GiftInfo(
        id=m.id,
        name=m.name,
        diamond_count=m.diamond_count,
        type=m.type,
        combo=m.combo,
        describe=m.describe,
        image_uri=m.image.uri,
        image_url=_first_url(m.image),
    )


def _poll_options(options: Iterable[pb.PollOptionInfo]) -> tuple[PollOption, ...]:
    return tuple(
        PollOption(index=o.option_idx, text=o.display_content, votes=o.votes) for o in options
    )


def _chat(payload: bytes, method: str) -> ChatEvent:
    m = pb.WebcastChatMessage.FromString(payload)
    c = m.common
    return ChatEvent(
        method=method,
        msg_id=c.msg_id,
        room_id=c.room_id,
        create_time=c.create_time,
        user=_user(m.user) if m.HasField("user") else None,
        raw=payload,
        content=m.content,
        content_language=m.content_language,
        emotes=tuple(_emote(e.emote, e.index) for e in m.emotes),
    )


def _gift(payload: bytes, method: str) -> GiftEvent:
    m = pb.WebcastGiftMessage.FromString(payload)
    c = m.common
    return GiftEvent(
        method=method,
        msg_id=c.msg_id,
        room_id=c.room_id,
        create_time=c.create_time,
        user=_user(m.user) if m.HasField("user") else None,
        raw=payload,
        gift_id=m.gift_id,
        repeat_count=m.repeat_count,
        combo_count=m.combo_count,
        group_count=m.group_count,
        group_id=m.group_id,
        repeat_end=m.repeat_end != 0,
        gift=_gift_info(m.gift) if m.HasField("gift") else None,
        to_user=_user(m.to_user) if m.HasField("to_user") else None,
    )


def _like(payload: bytes, method: str) -> LikeEvent:
    m = pb.WebcastLikeMessage.FromString(payload)
    c = m.common
    return LikeEvent(
        method=method,
        msg_id=c.msg_id,
        room_id=c.room_id,
        create_time=c.create_time,
        user=_user(m.user) if m.HasField("user") else None,
        raw=payload,
        count=m.count,
        total=m.total,
    )


def _member(payload: bytes, method: str) -> JoinEvent:
    m = pb.WebcastMemberMessage.FromString(payload)
    c = m.common
    return JoinEvent(
        method=method,
        msg_id=c.msg_id,
        room_id=c.room_id,
        create_time=c.create_time,
        user=_user(m.user) if m.HasField("user") else None,
        raw=payload,
        member_count=m.member_count,
        action=m.action,
    )


def social_kind(display_key: str, action: int) -> str | None:
    """follow/share from the display-text key (what both reference clients use), else from
    `action` (1 follow, 3 share); None when it is neither."""
    if "follow" in display_key:
        return "follow"
    if "share" in display_key:
        return "share"
    if action == SOCIAL_ACTION_FOLLOW:
        return "follow"
    if action == SOCIAL_ACTION_SHARE:
        return "share"
    return None


def _social(payload: bytes, method: str) -> FollowEvent | ShareEvent | UnknownEvent:
    m = pb.WebcastSocialMessage.FromString(payload)
    c = m.common
    key = c.display_text.key
    kind = social_kind(key, m.action)
    user = _user(m.user) if m.HasField("user") else None
    if kind == "follow":
        return FollowEvent(
            method=method,
            msg_id=c.msg_id,
            room_id=c.room_id,
            create_time=c.create_time,
            user=user,
            raw=payload,
            follow_count=m.follow_count,
        )
    if kind == "share":
        viewers = _SHARE_VIEWERS.search(key)
        return ShareEvent(
            method=method,
            msg_id=c.msg_id,
            room_id=c.room_id,
            create_time=c.create_time,
            user=user,
            raw=payload,
            share_count=m.share_count,
            share_type=m.share_type,
            share_target=m.share_target,
            users_joined=int(viewers.group(1)) if viewers else None,
        )
    return UnknownEvent(
        method=method,
        msg_id=c.msg_id,
        room_id=c.room_id,
        create_time=c.create_time,
        user=user,
        raw=payload,
        payload=payload,
    )


def _room_user(payload: bytes, method: str) -> RoomUserEvent:
    m = pb.WebcastRoomUserSeqMessage.FromString(payload)
    c = m.common
    return RoomUserEvent(
        method=method,
        msg_id=c.msg_id,
        room_id=c.room_id,
        create_time=c.create_time,
        raw=payload,
        viewer_count=m.total,
        total_viewers=m.total_user,
        top_viewers=tuple(
            TopViewer(
                user=_user(r.user) if r.HasField("user") else None, coins=r.score, rank=r.rank
            )
            for r in m.ranks
        ),
    )


def _control(payload: bytes, method: str) -> ControlEvent:
    m = pb.WebcastControlMessage.FromString(payload)
    c = m.common
    return ControlEvent(
        method=method,
        msg_id=c.msg_id,
        room_id=c.room_id,
        create_time=c.create_time,
        raw=payload,
        code=m.action,
        tips=m.tips,
    )


def _subscribe(payload: bytes, method: str) -> SubscribeEvent:
    m = pb.WebcastSubNotifyMessage.FromString(payload)
    c = m.common
    return SubscribeEvent(
        method=method,
        msg_id=c.msg_id,
        room_id=c.room_id,
        create_time=c.create_time,
        user=_user(m.user) if m.HasField("user") else None,
        raw=payload,
        sub_month=m.sub_month,
        subscribe_type=m.subscribe_type,
    )


def _question(payload: bytes, method: str) -> QuestionEvent:
    m = pb.WebcastQuestionNewMessage.FromString(payload)
    c = m.common
    d = m.details
    return QuestionEvent(
        method=method,
        msg_id=c.msg_id,
        room_id=c.room_id,
        create_time=c.create_time,
        user=_user(d.user) if d.HasField("user") else None,
        raw=payload,
        question_id=d.question_id,
        content=d.content,
    )


def _emote_chat(payload: bytes, method: str) -> EmoteChatEvent:
    m = pb.WebcastEmoteChatMessage.FromString(payload)
    c = m.common
    return EmoteChatEvent(
        method=method,
        msg_id=c.msg_id,
        room_id=c.room_id,
        create_time=c.create_time,
        user=_user(m.user) if m.HasField("user") else None,
        raw=payload,
        emotes=tuple(_emote(e) for e in m.emote_list),
    )


def _envelope(payload: bytes, method: str) -> EnvelopeEvent:
    m = pb.WebcastEnvelopeMessage.FromString(payload)
    c = m.common
    info = m.envelope_info
    return EnvelopeEvent(
        method=method,
        msg_id=c.msg_id,
        room_id=c.room_id,
        create_time=c.create_time,
        raw=payload,
        envelope_id=info.envelope_id,
        business_type=info.business_type,
        sender_user_id=info.send_user_id,
        sender_name=info.send_user_name,
        diamond_count=info.diamond_count,
        people_count=info.people_count,
        unpack_at=info.unpack_at,
    )


def _battle(payload: bytes, method: str) -> LinkMicBattleEvent:
    m = pb.WebcastLinkMicBattle.FromString(payload)
    c = m.common
    return LinkMicBattleEvent(
        method=method,
        msg_id=c.msg_id,
        room_id=c.room_id,
        create_time=c.create_time,
        raw=payload,
        battle_id=m.battle_id,
        action=m.action,
    )


def _poll(payload: bytes, method: str) -> PollEvent:
    m = pb.WebcastPollMessage.FromString(payload)
    c = m.common
    phase, title, start, end = "unknown", "", 0, 0
    options: tuple[PollOption, ...] = ()
    operator: pb.User | None = None
    if m.HasField("start_content"):
        s = m.start_content
        phase, title, start, end = "start", s.title, s.start_time, s.end_time
        options = _poll_options(s.options)
        operator = s.operator if s.HasField("operator") else None
    elif m.HasField("update_content"):
        phase, options = "update", _poll_options(m.update_content.options)
    elif m.HasField("end_content"):
        e = m.end_content
        phase, options = "end", _poll_options(e.options)
        operator = e.operator if e.HasField("operator") else None
    return PollEvent(
        method=method,
        msg_id=c.msg_id,
        room_id=c.room_id,
        create_time=c.create_time,
        user=_user(operator) if operator is not None else None,
        raw=payload,
        poll_id=m.poll_id,
        phase=phase,
        title=title,
        options=options,
        start_time=start,
        end_time=end,
        poll_kind=m.poll_kind,
        message_type=m.message_type,
    )


def _goal(payload: bytes, method: str) -> GoalEvent:
    m = pb.WebcastGoalUpdateMessage.FromString(payload)
    c = m.common
    has_contributor = (
        m.contributor_id != 0 or m.contributor_display_id != "" or m.HasField("contributor_avatar")
    )
    contributor = EventUser(
        user_id=m.contributor_id,
        unique_id=m.contributor_display_id,
        avatar_url=_first_url(m.contributor_avatar),
    )
    return GoalEvent(
        method=method,
        msg_id=c.msg_id,
        room_id=c.room_id,
        create_time=c.create_time,
        user=contributor if has_contributor else None,
        raw=payload,
        goal_id=m.goal.id,
        description=m.goal.description,
        sub_goals=tuple(
            GoalProgress(
                sub_goal_id=g.id,
                type=g.type,
                progress=g.progress,
                target=g.target,
                gift_name=g.gift.name,
                gift_diamond_count=g.gift.diamond_count,
            )
            for g in m.goal.sub_goals
        ),
        contribute_count=m.contribute_count,
        contribute_score=m.contribute_score,
        pin=m.pin,
        unpin=m.unpin,
    )


# Where RoomPinMessage carries each kind of pinned message, and its method if field 30 is empty.
PIN_FIELDS = (
    ("chat_message", "WebcastChatMessage"),
    ("social_message", "WebcastSocialMessage"),
    ("gift_message", "WebcastGiftMessage"),
    ("member_message", "WebcastMemberMessage"),
    ("like_message", "WebcastLikeMessage"),
)


def _room_pin(payload: bytes, method: str) -> RoomPinEvent:
    m = pb.WebcastRoomPinMessage.FromString(payload)
    c = m.common
    pinned: LiveEvent | None = None
    for name, default_method in PIN_FIELDS:
        body: bytes = getattr(m, name)
        if body:
            pinned_method = m.original_msg_type or default_method
            if pinned_method == method:  # a pin inside a pin: keep it undecoded, no recursion
                pinned = _unknown(body, pinned_method)
            else:
                pinned = decode_message(pinned_method, body)
            break
    return RoomPinEvent(
        method=method,
        msg_id=c.msg_id,
        room_id=c.room_id,
        create_time=c.create_time,
        raw=payload,
        pinned=pinned,
        pinned_method=m.original_msg_type,
        pin_time=m.pin_time,
        action=m.action,
    )


def _caption(payload: bytes, method: str) -> CaptionEvent:
    m = pb.WebcastCaptionMessage.FromString(payload)
    c = m.common
    return CaptionEvent(
        method=method,
        msg_id=c.msg_id,
        room_id=c.room_id,
        create_time=c.create_time,
        raw=payload,
        timestamp=m.timestamp,
        language=m.caption_data.language,
        text=m.caption_data.text,
    )


def _im_delete(payload: bytes, method: str) -> ImDeleteEvent:
    m = pb.WebcastImDeleteMessage.FromString(payload)
    c = m.common
    return ImDeleteEvent(
        method=method,
        msg_id=c.msg_id,
        room_id=c.room_id,
        create_time=c.create_time,
        raw=payload,
        delete_msg_ids=tuple(m.delete_msg_ids),
        delete_user_ids=tuple(m.delete_user_ids),
    )


def _unknown(payload: bytes, method: str) -> UnknownEvent:
    try:
        c = pb.CommonOnly.FromString(payload).common
    except Exception:  # not even field 1 is readable; keep the bytes, skip the envelope data
        return UnknownEvent(method=method, raw=payload, payload=payload)
    return UnknownEvent(
        method=method,
        msg_id=c.msg_id,
        room_id=c.room_id,
        create_time=c.create_time,
        raw=payload,
        payload=payload,
    )


DECODERS: dict[str, Callable[[bytes, str], LiveEvent]] = {
    "WebcastChatMessage": _chat,
    "WebcastGiftMessage": _gift,
    "WebcastLikeMessage": _like,
    "WebcastMemberMessage": _member,
    "WebcastSocialMessage": _social,
    "WebcastRoomUserSeqMessage": _room_user,
    "WebcastControlMessage": _control,
    "WebcastSubNotifyMessage": _subscribe,
    "WebcastQuestionNewMessage": _question,
    "WebcastEmoteChatMessage": _emote_chat,
    "WebcastEnvelopeMessage": _envelope,
    "WebcastLinkMicBattle": _battle,
    "WebcastPollMessage": _poll,
    "WebcastGoalUpdateMessage": _goal,
    "WebcastRoomPinMessage": _room_pin,
    "WebcastCaptionMessage": _caption,
    "WebcastImDeleteMessage": _im_delete,
}


def decode_message(method: str, payload: bytes) -> LiveEvent:
    """Decodes one BaseProtoMessage payload by its method name. Never raises: unmodelled methods
    give UnknownEvent, undecodable bytes give DecodeErrorEvent."""
    decoder = DECODERS.get(method, _unknown)
    try:
        return decoder(payload, method)
    except Exception as exc:  # upb DecodeError, recursion limits, bad values: all reported
        return DecodeErrorEvent(
            method=method, raw=payload, payload=payload, error=f"{type(exc).__name__}: {exc}"
        )
