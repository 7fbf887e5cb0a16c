"""What the simulated audience is made of: viewers, their words, the gifts they pick.
Everything is drawn from a caller-supplied Random, so a seed fixes it all."""

from __future__ import annotations

import random
from functools import cache

from allin.live.protocol import EventUser, GiftInfo, gift_catalog

_FIRST = (
    "sunny", "pixel", "nova", "lucky", "mango", "echo", "frost", "river", "blaze", "coco",
    "luna", "milo", "zen", "kiki", "orbit", "maple", "jade", "rocky", "skye", "taco",
)  # fmt: skip
_SECOND = ("fan", "vibes", "gamer", "cat", "dreamer", "_x", "99", "live", "tv", "official")
_OPENERS = (
    "hi", "hello", "hey", "yo", "good evening", "love this", "first time here", "wow",
    "lol", "greetings from", "so cool", "let's go", "this is amazing", "big fan",
)  # fmt: skip
_TOPICS = (
    "everyone", "from Berlin", "from Texas", "from Manila", "the music", "the vibes",
    "this stream", "your setup", "the chat", "today", "again", "you rock",
)  # fmt: skip
_EMOJI = ("", "", "", " 🔥", " ❤️", " 😂", " 👋", " 🎉", " 💯")
_QUESTIONS = (
    "What game is this?", "Where are you from?", "What song is playing?",
    "How long have you been streaming?", "Can you say hi to me?", "What camera do you use?",
)  # fmt: skip
UNKNOWN_METHODS = (
    "WebcastCompetitionMessage",
    "WebcastInRoomBannerMessage",
    "WebcastRankUpdateMessage",
    "WebcastHourlyRankRewardMessage",
)
STREAMER_ID_BASE = 6_900_000_000_000_000_000
VIEWER_ID_BASE = 7_000_000_000_000_000_000


def audience(rng: random.Random, size: int) -> tuple[EventUser, ...]:
    """`size` distinct viewers with TikTok-shaped ids and handles."""
    users = []
    for n in range(size):
        handle = f"{rng.choice(_FIRST)}{rng.choice(_SECOND)}_{n:04d}"
        user_id = VIEWER_ID_BASE + n * 1_000_003 + rng.randrange(1_000_000)
        users.append(
            EventUser(
                user_id=user_id,
                unique_id=handle,
                nickname=handle.replace("_", " ").title(),
                avatar_url=f"https://example.invalid/avatar/{n}.webp",
                sec_uid=f"MS4wLjABAAAA{user_id:x}",
            )
        )
    return tuple(users)


def chat_line(rng: random.Random) -> str:
    return f"{rng.choice(_OPENERS)} {rng.choice(_TOPICS)}{rng.choice(_EMOJI)}"


def question(rng: random.Random) -> str:
    return rng.choice(_QUESTIONS)


@cache
def _gift_table() -> tuple[tuple[GiftInfo, ...], tuple[float, ...]]:
    gifts = tuple(sorted(gift_catalog().values(), key=lambda g: g.id))
    # Cheap gifts are sent far more often than expensive ones.
    weights = tuple(1.0 / max(1, g.diamond_count) ** 0.8 for g in gifts)
    return gifts, weights


def pick_gift(rng: random.Random) -> GiftInfo:
    gifts, weights = _gift_table()
    return rng.choices(gifts, weights)[0]
