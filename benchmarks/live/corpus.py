"""A reproducible corpus of gzipped webcast push frames, as TikTok's push server sends them.

Messages are drawn (seeded) from two pools: the six real TikTok payloads in
shared/fixtures/webcast (full-size, with every field TikTok sends) and events built with our
encoder (what the simulator emits). Frames hold 1-12 messages, like real ones.
"""

from __future__ import annotations

import random
import struct
from pathlib import Path

from allin.live.protocol import (
    ChatEvent,
    EventUser,
    LikeEvent,
    RoomUserEvent,
    TopViewer,
    encode_event,
    encode_push_frame,
)
from allin.live.protocol import webcast_pb2 as pb
from allin.live.protocol.events import BaseEvent

FIXTURES = Path(__file__).resolve().parents[2] / "tests" / "live" / "protocol" / "fixtures"
REAL = {
    "gift-rose.pb": "WebcastGiftMessage",
    "chat-emotes.pb": "WebcastChatMessage",
    "social-share.pb": "WebcastSocialMessage",
    "member-join-a.pb": "WebcastMemberMessage",
    "member-join-b.pb": "WebcastMemberMessage",
}


def _user(rng: random.Random) -> EventUser:
    n = rng.randrange(5000)
    return EventUser(
        user_id=7_000_000_000_000_000_000 + n,
        unique_id=f"viewer_{n}",
        nickname=f"Viewer {n}",
        avatar_url=f"https://example.invalid/avatar/{n}.webp",
    )


def _simulated(rng: random.Random, msg_id: int) -> BaseEvent:
    kind = rng.random()
    common = {"msg_id": msg_id, "room_id": 7_300_000_000_000_000_000, "create_time": msg_id}
    if kind < 0.6:
        text = " ".join(
            rng.choice(["hi", "love this", "🔥", "where are you from", "lol"]) for _ in range(3)
        )
        return ChatEvent(user=_user(rng), content=text, **common)
    if kind < 0.9:
        return LikeEvent(user=_user(rng), count=rng.randint(1, 15), total=msg_id, **common)
    viewers = tuple(TopViewer(user=_user(rng), coins=rng.randint(1, 500), rank=i) for i in range(3))
    return RoomUserEvent(
        viewer_count=rng.randint(100, 5000), total_viewers=msg_id, top_viewers=viewers, **common
    )


def build_corpus(frames: int, seed: int = 2026) -> list[bytes]:
    rng = random.Random(seed)
    real = [(method, (FIXTURES / name).read_bytes()) for name, method in REAL.items()]
    corpus: list[bytes] = []
    msg_id = 1
    for index in range(frames):
        messages = []
        for _ in range(rng.randint(1, 12)):
            if rng.random() < 0.5:
                messages.append(rng.choice(real))
            else:
                messages.append(encode_event(_simulated(rng, msg_id)))
            msg_id += 1
        first_id = msg_id - len(messages)
        fetch = pb.ProtoMessageFetchResult(
            messages=[
                pb.BaseProtoMessage(method=method, payload=payload, msg_id=first_id + i)
                for i, (method, payload) in enumerate(messages)
            ],
            cursor=str(index),
            internal_ext=f"ext-{index}",
            need_ack=True,
        ).SerializeToString()
        corpus.append(encode_push_frame(fetch, log_id=index + 1, seq_id=index + 1, gzip=True))
    return corpus


def write_corpus(path: Path, frames: list[bytes]) -> None:
    with path.open("wb") as out:
        for frame in frames:
            out.write(struct.pack(">I", len(frame)))
            out.write(frame)


def read_corpus(path: Path) -> list[bytes]:
    data = path.read_bytes()
    frames, offset = [], 0
    while offset < len(data):
        (size,) = struct.unpack_from(">I", data, offset)
        frames.append(data[offset + 4 : offset + 4 + size])
        offset += 4 + size
    return frames
