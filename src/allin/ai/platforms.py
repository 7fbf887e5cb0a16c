"""Deterministic checks of a post against one platform's content rules: length as that platform
counts it, hashtags, mentions and links, and trimming a text so it fits. The rules themselves
are the platform provider's, reached through the `PlatformRules` port."""

from __future__ import annotations

import re
from dataclasses import dataclass

from allin.social.providers.base import ContentRules, Platform

URL_RE = re.compile(r"https?://[^\s<>\"']+", re.IGNORECASE)
HASHTAG_RE = re.compile(r"(?<![\w&])#(\w{1,100})", re.UNICODE)
MENTION_RE = re.compile(r"(?<![\w@])@([A-Za-z0-9_.]{1,50})")


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


def check(platform: Platform, rules: ContentRules, text: str) -> Checks:
    length = rules.measure(text)
    hashtags = HASHTAG_RE.findall(text)
    mentions = MENTION_RE.findall(text)
    problems: list[str] = []
    if not text.strip():
        problems.append("The post is empty.")
    if length > rules.text_limit:
        problems.append(f"{length} characters; {platform.value} allows {rules.text_limit}.")
    if rules.max_hashtags is not None and len(hashtags) > rules.max_hashtags:
        problems.append(f"{len(hashtags)} hashtags; {platform.value} allows {rules.max_hashtags}.")
    if rules.max_mentions is not None and len(mentions) > rules.max_mentions:
        problems.append(f"{len(mentions)} mentions; {platform.value} allows {rules.max_mentions}.")
    return Checks(
        platform=platform,
        length=length,
        max_length=rules.text_limit,
        hashtags=hashtags,
        max_hashtags=rules.max_hashtags,
        mentions=mentions,
        links=URL_RE.findall(text),
        problems=problems,
    )


def _within_caps(rules: ContentRules, text: str) -> str:
    """`text` without its last hashtags and mentions over the caps. One at a time: removing one
    can turn the text after it into a new one ("#a#b" without "#a" is "#b")."""
    caps = ((HASHTAG_RE, rules.max_hashtags), (MENTION_RE, rules.max_mentions))
    while True:
        for pattern, limit in caps:
            found = list(pattern.finditer(text))
            if limit is not None and len(found) > limit:
                text = (text[: found[-1].start()] + text[found[-1].end() :]).rstrip()
                break
        else:
            return text


def fit(rules: ContentRules, text: str) -> str:
    """`text` cut at a word boundary (with an ellipsis) until it fits, hashtags and mentions over
    the platform's caps dropped from the end."""
    text = _within_caps(rules, text.strip())
    measure, limit = rules.measure, rules.text_limit
    if measure(text) <= limit:
        return text
    words = text.split(" ")
    while words and measure(" ".join(words) + "…") > limit:
        words.pop()
    if words:
        return " ".join(words).rstrip() + "…"
    cut = text
    while cut and measure(cut + "…") > limit:
        cut = cut[:-1]
    return cut + "…"
