"""Hypothesis strategies producing every LIVE event type in a form that survives the wire."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from allin.live.protocol import (
    CaptionEvent,
    ChatEvent,
    ControlEvent,
    Emote,
    EmoteChatEvent,
    EnvelopeEvent,
    EventUser,
    FollowEvent,
    GiftEvent,
    GiftInfo,
    GoalEvent,
    GoalProgress,
    ImDeleteEvent,
    JoinEvent,
    LikeEvent,
    LinkMicBattleEvent,
    PollEvent,
    PollOption,
    QuestionEvent,
    RoomPinEvent,
    RoomUserEvent,
    ShareEvent,
    SubscribeEvent,
    TopViewer,
    UnknownEvent,
)
from allin.live.protocol import webcast_pb2 as pb
from allin.live.protocol.decode import DECODERS

int64 = st.integers(-(2**63), 2**63 - 1)
int32 = st.integers(-(2**31), 2**31 - 1)
positive_id = st.integers(1, 2**63 - 1)
text = st.text(st.characters(exclude_categories=["Cs"]), max_size=12)  # valid UTF-8 only

users = st.builds(
    EventUser, user_id=int64, unique_id=text, nickname=text, avatar_url=text, sec_uid=text
)
maybe_user = st.none() | users


def _base(**fields: Any) -> dict[str, Any]:
    return {"msg_id": int64, "room_id": int64, "create_time": int64, **fields}


def event(cls: type, **fields: Any) -> st.SearchStrategy[Any]:
    return st.builds(cls, **_base(**fields))


emotes = st.builds(Emote, emote_id=text, image_url=text, index=int64)
gifts = st.builds(
    GiftInfo,
    id=int64,
    name=text,
    diamond_count=int32,
    type=int32,
    combo=st.booleans(),
    describe=text,
    image_uri=text,
    image_url=text,
)

chat_events = event(
    ChatEvent,
    user=maybe_user,
    content=text,
    content_language=text,
    emotes=st.lists(emotes, max_size=4).map(tuple),
)
gift_events = event(
    GiftEvent,
    user=maybe_user,
    gift_id=int64,
    repeat_count=int32,
    combo_count=int32,
    group_count=int32,
    group_id=int64,
    repeat_end=st.booleans(),
    gift=st.none() | gifts,
    to_user=maybe_user,
)
like_events = event(LikeEvent, user=maybe_user, count=int64, total=int64)
join_events = event(JoinEvent, user=maybe_user, member_count=int64, action=int32)
follow_events = event(FollowEvent, user=maybe_user, follow_count=int64)
share_events = event(
    ShareEvent,
    user=maybe_user,
    share_count=int64,
    share_type=int64,
    share_target=text,
    users_joined=st.none() | st.integers(0, 10**6),
)
room_user_events = event(
    RoomUserEvent,
    viewer_count=int64,
    total_viewers=int64,
    top_viewers=st.lists(
        st.builds(TopViewer, user=maybe_user, coins=int64, rank=int64), max_size=4
    ).map(tuple),
)
control_events = event(ControlEvent, code=int32, tips=text)
subscribe_events = event(SubscribeEvent, user=maybe_user, sub_month=int64, subscribe_type=int32)
question_events = event(QuestionEvent, user=maybe_user, question_id=int64, content=text)
emote_chat_events = event(
    EmoteChatEvent,
    user=maybe_user,
    emotes=st.lists(st.builds(Emote, emote_id=text, image_url=text), max_size=4).map(tuple),
)
envelope_events = event(
    EnvelopeEvent,
    envelope_id=text,
    business_type=int32,
    sender_user_id=text,
    sender_name=text,
    diamond_count=int32,
    people_count=int32,
    unpack_at=int64,
)
battle_events = event(LinkMicBattleEvent, battle_id=int64, action=int32)

poll_options = st.lists(st.builds(PollOption, index=int32, text=text, votes=int64), max_size=4).map(
    tuple
)
poll_events = st.one_of(
    event(
        PollEvent,
        phase=st.just("start"),
        user=maybe_user,
        title=text,
        options=poll_options,
        start_time=int64,
        end_time=int64,
        poll_id=int64,
        poll_kind=int32,
        message_type=int32,
    ),
    event(PollEvent, phase=st.just("update"), options=poll_options, poll_id=int64),
    event(PollEvent, phase=st.just("end"), user=maybe_user, options=poll_options, poll_id=int64),
    event(PollEvent, phase=st.just("unknown"), poll_id=int64, message_type=int32),
)
goal_events = event(
    GoalEvent,
    # The contributor is sent as id, @handle and avatar only.
    user=st.none() | st.builds(EventUser, user_id=positive_id, unique_id=text, avatar_url=text),
    goal_id=int64,
    description=text,
    sub_goals=st.lists(
        st.builds(
            GoalProgress,
            sub_goal_id=int64,
            type=int32,
            progress=int64,
            target=int64,
            gift_name=text,
            gift_diamond_count=int64,
        ),
        max_size=4,
    ).map(tuple),
    contribute_count=int64,
    contribute_score=int64,
    pin=st.booleans(),
    unpin=st.booleans(),
)


@st.composite
def room_pin_events(draw: st.DrawFn) -> RoomPinEvent:
    pinned = draw(st.none() | chat_events | like_events | gift_events | join_events | follow_events)
    # The pinned message is decoded by this method, or by its field's method when it is empty.
    methods = st.sampled_from(["", pinned.method]) if pinned is not None else text
    pinned_method = draw(methods)
    pin: RoomPinEvent = draw(
        event(
            RoomPinEvent,
            pinned=st.just(pinned),
            pinned_method=st.just(pinned_method),
            pin_time=int64,
            action=int32,
        )
    )
    return pin


caption_events = event(CaptionEvent, timestamp=int64, language=text, text=text)
im_delete_events = event(
    ImDeleteEvent,
    delete_msg_ids=st.lists(int64, max_size=4).map(tuple),
    delete_user_ids=st.lists(int64, max_size=4).map(tuple),
)


@st.composite
def unknown_events(draw: st.DrawFn) -> UnknownEvent:
    """An unmodelled method whose payload has a readable common block plus other fields."""
    method = draw(
        st.sampled_from(["WebcastBarrageMessage", "WebcastCompetitionMessage"])
        | text.filter(lambda m: m not in DECODERS)
    )
    msg_id, room_id, create_time = draw(int64), draw(int64), draw(int64)
    common = pb.CommonMessageData(
        method=method, msg_id=msg_id, room_id=room_id, create_time=create_time
    )
    extra = pb.WebcastLikeMessage(count=draw(int64), total=draw(int64)).SerializeToString()
    payload = pb.CommonOnly(common=common).SerializeToString() + extra
    return UnknownEvent(
        method=method, msg_id=msg_id, room_id=room_id, create_time=create_time, payload=payload
    )


STRATEGIES: dict[str, st.SearchStrategy[Any]] = {
    "chat": chat_events,
    "gift": gift_events,
    "like": like_events,
    "join": join_events,
    "follow": follow_events,
    "share": share_events,
    "room_user": room_user_events,
    "control": control_events,
    "subscribe": subscribe_events,
    "question": question_events,
    "emote_chat": emote_chat_events,
    "envelope": envelope_events,
    "battle": battle_events,
    "poll": poll_events,
    "goal": goal_events,
    "room_pin": room_pin_events(),
    "caption": caption_events,
    "im_delete": im_delete_events,
    "unknown": unknown_events(),
}

any_event = st.one_of(*STRATEGIES.values())
