"""Deterministic checks of a post for one platform: length as that platform counts it,
hashtags, mentions and links, and trimming a text so it fits."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class Platform(StrEnum):
    TIKTOK = "tiktok"
    INSTAGRAM = "instagram"
    X = "x"
    LINKEDIN = "linkedin"
    FACEBOOK = "facebook"
    THREADS = "threads"


@dataclass(frozen=True, slots=True)
class Rules:
    max_length: int
    max_hashtags: int | None = None
    weighted: bool = False  # X: twitter-text weights and a fixed length per URL


RULES: dict[Platform, Rules] = {
    Platform.TIKTOK: Rules(2200),  # caption limit
    Platform.INSTAGRAM: Rules(2200, max_hashtags=30),
    Platform.X: Rules(280, weighted=True),
    Platform.LINKEDIN: Rules(3000),
    Platform.FACEBOOK: Rules(63206),
    Platform.THREADS: Rules(500),
}

URL_RE = re.compile(r"https?://[^\s<>\"']+", re.IGNORECASE)
HASHTAG_RE = re.compile(r"(?<![\w&])#(\w{1,100})", re.UNICODE)
MENTION_RE = re.compile(r"(?<![\w@])@([A-Za-z0-9_.]{1,50})")
_X_URL_LENGTH = 23  # every link counts as a t.co link
# twitter-text v3: these code point ranges weigh 1, everything else (CJK, emoji) 2.
_X_LIGHT = ((0, 4351), (8192, 8205), (8208, 8223), (8242, 8247))


def _x_weight(char: str) -> int:
    point = ord(char)
    return 1 if any(low <= point <= high for low, high in _X_LIGHT) else 2


def measure(platform: Platform, text: str) -> int:
    if not RULES[platform].weighted:
        return len(text)
    length, last = 0, 0
    for match in URL_RE.finditer(text):
        length += sum(_x_weight(c) for c in text[last : match.start()]) + _X_URL_LENGTH
        last = match.end()
    return length + sum(_x_weight(c) for c in text[last:])


@dataclass(frozen=True, slots=True)
class Checks:
    platform: Platform
    length: int
    max_length: int
    hashtags: list[str]
    max_hashtags: int | None
    mentions: list[str]
    links: list[str]
    problems: list[str]

    @property
    def valid(self) -> bool:
        return not self.problems


def check(platform: Platform, text: str) -> Checks:
    rules = RULES[platform]
    length = measure(platform, text)
    hashtags = HASHTAG_RE.findall(text)
    problems: list[str] = []
    if not text.strip():
        problems.append("The post is empty.")
    if length > rules.max_length:
        problems.append(f"{length} characters; {platform.value} allows {rules.max_length}.")
    if rules.max_hashtags is not None and len(hashtags) > rules.max_hashtags:
        problems.append(f"{len(hashtags)} hashtags; {platform.value} allows {rules.max_hashtags}.")
    return Checks(
        platform=platform,
        length=length,
        max_length=rules.max_length,
        hashtags=hashtags,
        max_hashtags=rules.max_hashtags,
        mentions=MENTION_RE.findall(text),
        links=URL_RE.findall(text),
        problems=problems,
    )


def fit(platform: Platform, text: str) -> str:
    """`text` cut at a word boundary (with an ellipsis) until it fits, hashtags over the
    platform's limit dropped from the end."""
    rules = RULES[platform]
    text = text.strip()
    if rules.max_hashtags is not None:
        extra = len(HASHTAG_RE.findall(text)) - rules.max_hashtags
        for tag in reversed(HASHTAG_RE.findall(text)):
            if extra <= 0:
                break
            index = text.rfind(f"#{tag}")
            text = (text[:index] + text[index + len(tag) + 1 :]).rstrip()
            extra -= 1
    if measure(platform, text) <= rules.max_length:
        return text
    words = text.split(" ")
    while words and measure(platform, " ".join(words) + "…") > rules.max_length:
        words.pop()
    if words:
        return " ".join(words).rstrip() + "…"
    cut = text
    while cut and measure(platform, cut + "…") > rules.max_length:
        cut = cut[:-1]
    return cut + "…"
