"""Typed event -> TikTok-shaped message payload (the reverse of decode.py).

Used by the simulator to produce bytes that real clients decode, and by tests for round trips:
decode_message(*encode_event(e)) == e for every event type.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from google.protobuf.message import Message

from allin.live.protocol import webcast_pb2 as pb
from allin.live.protocol.decode import PIN_FIELDS, SOCIAL_ACTION_FOLLOW, SOCIAL_ACTION_SHARE
from allin.live.protocol.events import (
    BaseEvent,
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
from allin.live.protocol.models import Emote, EventUser, GiftInfo, PollOption

# Display texts as TikTok sends them (keys and patterns seen in real messages).
GIFT_TEXT = ("webcast_aweme_gift_send_message", "{0:user} sent {1:gift} {2:string}")
JOIN_TEXT = ("live_room_enter_toast", "{0:user} joined")
FOLLOW_TEXT = ("pm_main_follow_message_viewer_2", "{0:user} followed the LIVE creator")
SHARE_TEXT = ("pm_mt_guidance_share", "{0:user} shared the LIVE")
TEXT_PIECE_USER = 11
TEXT_PIECE_GIFT = 12


def _user(u: EventUser | None) -> pb.User | None:
    return None if u is None else _user_pb(u)


def _user_pb(u: EventUser) -> pb.User:
    m = pb.User(
        id=u.user_id,
        nickname=u.nickname,
        display_id=u.unique_id,
        sec_uid=u.sec_uid,
        id_str=str(u.user_id) if u.user_id else "",
    )
    if u.avatar_url:
        m.avatar_thumb.url_list.append(u.avatar_url)
    return m


def _image(url: str, uri: str = "") -> pb.ImageModel:
    return pb.ImageModel(url_list=[url] if url else [], uri=uri)


def _common(e: BaseEvent, text: tuple[str, str] | None = None) -> pb.CommonMessageData:
    c = pb.CommonMessageData(
        method=e.method, msg_id=e.msg_id, room_id=e.room_id, create_time=e.create_time
    )
    if text is not None:
        c.display_text.key, c.display_text.default_pattern = text
        if e.user is not None:
            c.display_text.pieces.add(type=TEXT_PIECE_USER).user_value.user.CopyFrom(
                _user_pb(e.user)
            )
    return c


def _emote(e: Emote) -> pb.Emote:
    return pb.Emote(emote_id=e.emote_id, image=_image(e.image_url))


def _gift_struct(g: GiftInfo) -> pb.GiftStruct:
    return pb.GiftStruct(
        image=_image(g.image_url, g.image_uri),
        describe=g.describe,
        id=g.id,
        combo=g.combo,
        type=g.type,
        diamond_count=g.diamond_count,
        name=g.name,
    )


def _poll_options(options: tuple[PollOption, ...]) -> list[pb.PollOptionInfo]:
    return [
        pb.PollOptionInfo(votes=o.votes, display_content=o.text, option_idx=o.index)
        for o in options
    ]


def _chat(e: ChatEvent) -> pb.WebcastChatMessage:
    return pb.WebcastChatMessage(
        common=_common(e),
        user=_user(e.user),
        content=e.content,
        content_language=e.content_language,
        emotes=[pb.EmoteWithIndex(index=x.index, emote=_emote(x)) for x in e.emotes],
    )


def _gift(e: GiftEvent) -> pb.WebcastGiftMessage:
    common = _common(e, GIFT_TEXT)
    common.display_text.pieces.add(type=TEXT_PIECE_GIFT).gift_value.gift_id = e.gift_id
    return pb.WebcastGiftMessage(
        common=common,
        gift_id=e.gift_id,
        group_count=e.group_count,
        repeat_count=e.repeat_count,
        combo_count=e.combo_count,
        user=_user(e.user),
        to_user=_user(e.to_user),
        repeat_end=1 if e.repeat_end else 0,
        group_id=e.group_id,
        gift=_gift_struct(e.gift) if e.gift is not None else None,
    )


def _like(e: LikeEvent) -> pb.WebcastLikeMessage:
    return pb.WebcastLikeMessage(
        common=_common(e), count=e.count, total=e.total, user=_user(e.user)
    )


def _join(e: JoinEvent) -> pb.WebcastMemberMessage:
    return pb.WebcastMemberMessage(
        common=_common(e, JOIN_TEXT),
        user=_user(e.user),
        member_count=e.member_count,
        action=e.action,
    )


def _follow(e: FollowEvent) -> pb.WebcastSocialMessage:
    return pb.WebcastSocialMessage(
        common=_common(e, FOLLOW_TEXT),
        user=_user(e.user),
        action=SOCIAL_ACTION_FOLLOW,
        follow_count=e.follow_count,
    )


def _share(e: ShareEvent) -> pb.WebcastSocialMessage:
    text = SHARE_TEXT
    if e.users_joined is not None:
        n = e.users_joined
        text = (
            f"pm_mt_guidance_viewer_{n}_share",
            f"{{0:user}} shared the LIVE with more than {n} friends",
        )
    return pb.WebcastSocialMessage(
        common=_common(e, text),
        user=_user(e.user),
        share_type=e.share_type,
        action=SOCIAL_ACTION_SHARE,
        share_target=e.share_target,
        share_count=e.share_count,
    )


def _room_user(e: RoomUserEvent) -> pb.WebcastRoomUserSeqMessage:
    return pb.WebcastRoomUserSeqMessage(
        common=_common(e),
        ranks=[
            pb.RoomUserContributor(score=v.coins, user=_user(v.user), rank=v.rank)
            for v in e.top_viewers
        ],
        total=e.viewer_count,
        total_user=e.total_viewers,
    )


def _control(e: ControlEvent) -> pb.WebcastControlMessage:
    return pb.WebcastControlMessage(common=_common(e), action=e.code, tips=e.tips)


def _subscribe(e: SubscribeEvent) -> pb.WebcastSubNotifyMessage:
    return pb.WebcastSubNotifyMessage(
        common=_common(e),
        user=_user(e.user),
        sub_month=e.sub_month,
        subscribe_type=e.subscribe_type,
    )


def _question(e: QuestionEvent) -> pb.WebcastQuestionNewMessage:
    details = pb.QuestionDetails(
        question_id=e.question_id,
        content=e.content,
        create_time=e.create_time,
        user=_user(e.user),
    )
    return pb.WebcastQuestionNewMessage(common=_common(e), details=details)


def _emote_chat(e: EmoteChatEvent) -> pb.WebcastEmoteChatMessage:
    return pb.WebcastEmoteChatMessage(
        common=_common(e), user=_user(e.user), emote_list=[_emote(x) for x in e.emotes]
    )


def _envelope(e: EnvelopeEvent) -> pb.WebcastEnvelopeMessage:
    info = pb.EnvelopeInfo(
        envelope_id=e.envelope_id,
        business_type=e.business_type,
        send_user_name=e.sender_name,
        diamond_count=e.diamond_count,
        people_count=e.people_count,
        unpack_at=e.unpack_at,
        send_user_id=e.sender_user_id,
    )
    return pb.WebcastEnvelopeMessage(common=_common(e), envelope_info=info)


def _battle(e: LinkMicBattleEvent) -> pb.WebcastLinkMicBattle:
    return pb.WebcastLinkMicBattle(common=_common(e), battle_id=e.battle_id, action=e.action)


def _poll(e: PollEvent) -> pb.WebcastPollMessage:
    m = pb.WebcastPollMessage(
        common=_common(e), message_type=e.message_type, poll_id=e.poll_id, poll_kind=e.poll_kind
    )
    options = _poll_options(e.options)
    if e.phase == "start":
        m.start_content.SetInParent()
        s = m.start_content
        s.start_time, s.end_time, s.title = e.start_time, e.end_time, e.title
        s.options.extend(options)
        if e.user is not None:
            s.operator.CopyFrom(_user_pb(e.user))
    elif e.phase == "update":
        m.update_content.SetInParent()
        m.update_content.options.extend(options)
    elif e.phase == "end":
        m.end_content.SetInParent()
        m.end_content.options.extend(options)
        if e.user is not None:
            m.end_content.operator.CopyFrom(_user_pb(e.user))
    return m


def _goal(e: GoalEvent) -> pb.WebcastGoalUpdateMessage:
    goal = pb.LiveStreamGoal(
        id=e.goal_id,
        description=e.description,
        sub_goals=[
            pb.GoalSubGoal(
                type=g.type,
                id=g.sub_goal_id,
                progress=g.progress,
                target=g.target,
                gift=pb.GoalSubGoalGift(name=g.gift_name, diamond_count=g.gift_diamond_count),
            )
            for g in e.sub_goals
        ],
    )
    m = pb.WebcastGoalUpdateMessage(
        common=_common(e),
        goal=goal,
        contribute_count=e.contribute_count,
        contribute_score=e.contribute_score,
        pin=e.pin,
        unpin=e.unpin,
    )
    if e.user is not None:
        m.contributor_id = e.user.user_id
        m.contributor_display_id = e.user.unique_id
        if e.user.avatar_url:
            m.contributor_avatar.url_list.append(e.user.avatar_url)
    return m


_PIN_FIELD_BY_TYPE = {
    ChatEvent: PIN_FIELDS[0][0],
    FollowEvent: PIN_FIELDS[1][0],
    ShareEvent: PIN_FIELDS[1][0],
    GiftEvent: PIN_FIELDS[2][0],
    JoinEvent: PIN_FIELDS[3][0],
    LikeEvent: PIN_FIELDS[4][0],
}


def _room_pin(e: RoomPinEvent) -> pb.WebcastRoomPinMessage:
    m = pb.WebcastRoomPinMessage(
        common=_common(e),
        original_msg_type=e.pinned_method,
        pin_time=e.pin_time,
        action=e.action,
    )
    if e.pinned is not None:
        _, body = encode_event(e.pinned)
        setattr(m, _PIN_FIELD_BY_TYPE.get(type(e.pinned), PIN_FIELDS[0][0]), body)
    return m


def _caption(e: CaptionEvent) -> pb.WebcastCaptionMessage:
    return pb.WebcastCaptionMessage(
        common=_common(e),
        timestamp=e.timestamp,
        caption_data=pb.CaptionData(language=e.language, text=e.text),
    )


def _im_delete(e: ImDeleteEvent) -> pb.WebcastImDeleteMessage:
    return pb.WebcastImDeleteMessage(
        common=_common(e),
        delete_msg_ids=list(e.delete_msg_ids),
        delete_user_ids=list(e.delete_user_ids),
    )


_ENCODERS: dict[type[BaseEvent], Callable[[Any], Message]] = {
    ChatEvent: _chat,
    GiftEvent: _gift,
    LikeEvent: _like,
    JoinEvent: _join,
    FollowEvent: _follow,
    ShareEvent: _share,
    RoomUserEvent: _room_user,
    ControlEvent: _control,
    SubscribeEvent: _subscribe,
    QuestionEvent: _question,
    EmoteChatEvent: _emote_chat,
    EnvelopeEvent: _envelope,
    LinkMicBattleEvent: _battle,
    PollEvent: _poll,
    GoalEvent: _goal,
    RoomPinEvent: _room_pin,
    CaptionEvent: _caption,
    ImDeleteEvent: _im_delete,
}


def encode_event(event: LiveEvent) -> tuple[str, bytes]:
    """(method, payload) for a BaseProtoMessage. Unknown and undecodable events give back
    their original bytes. Raises ValueError for ints outside the protobuf field's range."""
    if isinstance(event, UnknownEvent | DecodeErrorEvent):
        return event.method, event.payload
    message = _ENCODERS[type(event)](event)
    return event.method, message.SerializeToString()
